//! Helpers for the contract tests: read a spec from `specs/`, find its operations, examples and
//! schemas, and validate JSON against them.
//!
//! Schemas are taken from the spec files themselves at test time, never copied. OpenAPI 3.0's
//! schema dialect is converted to JSON Schema 2020-12 first (`nullable: true` becomes "or null"),
//! and the whole converted document is the validator's root so `$ref`s resolve as in the spec.

use std::path::{Path, PathBuf};

use serde_json::Value;

pub mod hits;

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// Reads a JSON fixture from `tests/fixtures/`.
pub fn fixture(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()))
}

/// One operation of a spec.
#[derive(Debug, Clone)]
pub struct Operation {
    /// `operationId`.
    pub id: String,
    /// Upper-case HTTP method.
    pub method: String,
    /// Path template, e.g. `/chats/{chat_id}`.
    pub path: String,
    /// JSON pointer of the operation object.
    pub pointer: String,
}

/// A parsed spec with its schemas converted to JSON Schema.
pub struct Spec {
    /// Which spec (`flowhunt`, `pieces`, `flowgen`).
    pub name: String,
    raw: Value,
    converted: Value,
}

fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

impl Spec {
    /// Loads `specs/<name>.yaml`.
    pub fn load(name: &str) -> Self {
        let path = workspace_root().join("specs").join(format!("{name}.yaml"));
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        let raw: Value =
            serde_norway::from_str(&text).unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()));
        let converted = assistants_sandbox::spec::to_json_schema(&raw);
        Self {
            name: name.to_string(),
            raw,
            converted,
        }
    }

    /// The raw spec document.
    pub fn raw(&self) -> &Value {
        &self.raw
    }

    /// Every operation, in document order.
    pub fn operations(&self) -> Vec<Operation> {
        let mut out = Vec::new();
        let Some(paths) = self.raw["paths"].as_object() else {
            return out;
        };
        for (path, item) in paths {
            let Some(item) = item.as_object() else { continue };
            for (method, op) in item {
                if let Some(id) = op.get("operationId").and_then(Value::as_str) {
                    out.push(Operation {
                        id: id.to_string(),
                        method: method.to_uppercase(),
                        path: path.clone(),
                        pointer: format!("/paths/{}/{method}", escape(path)),
                    });
                }
            }
        }
        out
    }

    /// The operation with this id.
    pub fn operation(&self, id: &str) -> Operation {
        self.operations()
            .into_iter()
            .find(|o| o.id == id)
            .unwrap_or_else(|| panic!("{}: no operation {id}", self.name))
    }

    /// Follows a `$ref` (`#/components/...`) if `value` is one.
    fn deref<'a>(&'a self, value: &'a Value) -> &'a Value {
        match value.get("$ref").and_then(Value::as_str) {
            Some(r) => self
                .raw
                .pointer(r.trim_start_matches('#'))
                .unwrap_or(&Value::Null),
            None => value,
        }
    }

    /// The JSON pointer of the schema of the operation's JSON request body.
    pub fn request_schema(&self, id: &str) -> Option<String> {
        let op = self.operation(id);
        let body = self.raw.pointer(&op.pointer)?.get("requestBody")?;
        body.pointer("/content/application~1json/schema")?;
        Some(format!(
            "{}/requestBody/content/application~1json/schema",
            op.pointer
        ))
    }

    /// The response object (after `$ref`) of an operation and status.
    pub fn response(&self, id: &str, status: &str) -> &Value {
        let op = self.operation(id);
        let response = self
            .raw
            .pointer(&format!("{}/responses/{status}", op.pointer))
            .unwrap_or_else(|| panic!("{id}: no {status} response"));
        self.deref(response)
    }

    /// The pointer of the JSON schema of a response (following a response `$ref`).
    pub fn response_schema(&self, id: &str, status: &str) -> Option<String> {
        let op = self.operation(id);
        let response = self.raw.pointer(&format!("{}/responses/{status}", op.pointer))?;
        let base = match response.get("$ref").and_then(Value::as_str) {
            Some(r) => r.trim_start_matches('#').to_string(),
            None => format!("{}/responses/{status}", op.pointer),
        };
        let media = ["application~1json", "text~1plain"]
            .into_iter()
            .find(|m| self.raw.pointer(&format!("{base}/content/{m}/schema")).is_some())?;
        Some(format!("{base}/content/{media}/schema"))
    }

    /// Every example of a response: `example`, or each value of `examples`.
    pub fn examples(&self, id: &str, status: &str) -> Vec<Value> {
        let response = self.response(id, status);
        let Some(content) = response.get("content").and_then(Value::as_object) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for media in content.values() {
            if let Some(example) = media.get("example") {
                out.push(example.clone());
            }
            if let Some(examples) = media.get("examples").and_then(Value::as_object) {
                out.extend(examples.values().filter_map(|e| e.get("value").cloned()));
            }
        }
        out
    }

    /// The request body example of an operation.
    pub fn request_example(&self, id: &str) -> Option<Value> {
        let op = self.operation(id);
        self.raw
            .pointer(&format!(
                "{}/requestBody/content/application~1json/example",
                op.pointer
            ))
            .cloned()
    }

    /// Validates `instance` against the schema at `pointer` (a JSON pointer into the spec).
    ///
    /// # Errors
    /// One message per violation, with its instance path.
    pub fn validate_at(&self, pointer: &str, instance: &Value) -> Result<(), Vec<String>> {
        let validator = assistants_sandbox::spec::compile(&self.converted, pointer)
            .unwrap_or_else(|e| panic!("{}: schema at {pointer} does not compile: {e}", self.name));
        let errors: Vec<String> = validator
            .iter_errors(instance)
            .map(|e| format!("{}: {}", e.instance_path(), e))
            .collect();
        if errors.is_empty() { Ok(()) } else { Err(errors) }
    }

    /// Validates against `#/components/schemas/<name>`.
    ///
    /// # Errors
    /// As [`Spec::validate_at`].
    pub fn validate_component(&self, name: &str, instance: &Value) -> Result<(), Vec<String>> {
        self.validate_at(&format!("/components/schemas/{name}"), instance)
    }

    /// Validates an operation's JSON request body.
    ///
    /// # Errors
    /// As [`Spec::validate_at`]; also when the operation has no JSON body.
    pub fn validate_request(&self, id: &str, body: &Value) -> Result<(), Vec<String>> {
        let pointer = self
            .request_schema(id)
            .ok_or_else(|| vec![format!("{id} has no JSON request body")])?;
        self.validate_at(&pointer, body)
    }

    /// Validates a response body for an operation and status.
    ///
    /// # Errors
    /// As [`Spec::validate_at`]; also when the response has no schema.
    pub fn validate_response(&self, id: &str, status: &str, body: &Value) -> Result<(), Vec<String>> {
        let pointer = self
            .response_schema(id, status)
            .ok_or_else(|| vec![format!("{id} {status} has no schema")])?;
        self.validate_at(&pointer, body)
    }
}

/// A request body captured by a mock, checked against the spec when the mock matched.
#[derive(Clone, Default)]
pub struct Captured(std::sync::Arc<std::sync::Mutex<Vec<Value>>>);

impl Captured {
    /// Records a request's JSON body (or `Null` when it has none or it is not JSON).
    pub fn record(&self, body: &[u8]) {
        let value = serde_json::from_slice(body).unwrap_or(Value::Null);
        if let Ok(mut bodies) = self.0.lock() {
            bodies.push(value);
        }
    }

    /// The bodies recorded so far.
    pub fn bodies(&self) -> Vec<Value> {
        self.0.lock().map(|b| b.clone()).unwrap_or_default()
    }
}

/// What a mocked operation answers.
pub enum Reply {
    /// `application/json` with this body.
    Json(Value),
    /// `text/plain` with this body.
    Text(String),
    /// No body.
    Empty,
}

/// Expands a path template with its parameters, as a server sees the path.
pub fn expand(template: &str, params: &[(&str, &str)]) -> String {
    params.iter().fold(template.to_string(), |path, (name, value)| {
        path.replace(&format!("{{{name}}}"), value)
    })
}

/// Mocks one operation exactly as the spec describes it: method and path from the spec, plus
/// the given query parameters and headers, answering `status` with `reply`. Request bodies are
/// captured for validation against the spec.
#[allow(clippy::too_many_arguments)]
pub async fn mock_operation<'a>(
    server: &'a httpmock::MockServer,
    spec: &Spec,
    id: &str,
    path_params: &[(&str, &str)],
    query: &[(&str, &str)],
    headers: &[(&str, &str)],
    status: u16,
    reply: Reply,
) -> (httpmock::Mock<'a>, Captured) {
    let op = spec.operation(id);
    let path = expand(&op.path, path_params);
    let captured = Captured::default();
    let sink = captured.clone();
    let query: Vec<(String, String)> = query
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let headers: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let hits = hits::current();
    let spec_name = spec.name.clone();
    let mock = server
        .mock_async(move |mut when, then| {
            when = when.method(op.method.as_str()).path(path.clone());
            for (k, v) in &query {
                when = when.query_param(k, v);
            }
            for (k, v) in &headers {
                when = when.header(k, v);
            }
            when.is_true(move |req| {
                sink.record(req.body_ref());
                // httpmock asks every mock about every request: only one this mock serves is
                // a hit of its operation.
                let params = req.query_params();
                let served = req.method().as_str() == op.method
                    && req.uri().path() == path
                    && query
                        .iter()
                        .all(|(k, v)| params.iter().any(|(pk, pv)| pk == k && pv == v))
                    && headers.iter().all(|(k, v)| {
                        req.headers()
                            .get_all(k.as_str())
                            .iter()
                            .any(|h| h.to_str().is_ok_and(|h| h == v))
                    });
                if served {
                    hits.record(&spec_name, &op.id);
                }
                true
            });
            let then = then.status(status);
            match reply {
                Reply::Json(body) => {
                    then.header("content-type", "application/json")
                        .body(body.to_string());
                }
                Reply::Text(body) => {
                    then.header("content-type", "text/plain; charset=utf-8")
                        .body(body);
                }
                Reply::Empty => {}
            }
        })
        .await;
    (mock, captured)
}

/// The status and body text of an error response the spec does not declare.
///
/// # Panics
/// When the error is not `Error::UnexpectedResponse` (that is the test's failure).
pub async fn undeclared<E: std::fmt::Debug>(err: progenitor_client::Error<E>) -> (u16, String) {
    match err {
        progenitor_client::Error::UnexpectedResponse(response) => {
            let status = response.status().as_u16();
            (status, response.text().await.unwrap_or_default())
        }
        other => panic!("expected an undeclared (raw) response, got {other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nullable_becomes_or_null() {
        let converted = assistants_sandbox::spec::to_json_schema(
            &json!({"type": "string", "nullable": true, "x-extensible-enum": ["a"]}),
        );
        assert_eq!(
            converted,
            json!({"anyOf": [{"type": "string"}, {"type": "null"}]})
        );
        assert_eq!(
            assistants_sandbox::spec::to_json_schema(&json!({"nullable": true, "description": "any"})),
            json!({"description": "any"})
        );
    }

    #[test]
    fn validation_reports_violations() {
        let spec = Spec::load("flowhunt");
        assert!(
            spec.validate_request("invoke_v3_flow_assistant_response", &json!({"message": "hi"}))
                .is_ok()
        );
        let errors = spec
            .validate_request("invoke_v3_flow_assistant_response", &json!({"ai_model": 3}))
            .unwrap_err();
        assert!(errors.len() >= 2, "{errors:?}");
        let bad_uuid = json!({"context_flow_id": "not-a-uuid"});
        assert!(
            spec.validate_request("create_v3_flow_assistant_session", &bad_uuid)
                .is_err()
        );
    }
}

/// The README's Rust examples, compiled as doctests so they keep up with the code.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeExamples;
