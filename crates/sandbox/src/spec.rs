//! The specs as request validators.
//!
//! OpenAPI 3.0's schema dialect is converted to JSON Schema 2020-12 ([`to_json_schema`]:
//! `nullable: true` becomes "or null", `x-*` keys are dropped) and the whole converted document is
//! each validator's root, so `$ref`s resolve as in the spec. The sandbox rejects invalid request
//! bodies with the FastAPI/pydantic-shaped 422 the real FlowHunt and FlowGen servers send; the
//! contract tests reuse the conversion.
//!
//! Pieces request bodies are also checked against PiecesOS's own schemas
//! ([`PIECES_UPSTREAM`]), whose enums are closed: a server knows its own values and rejects the
//! rest, while our specs stay open because clients must tolerate new values.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::{Map, Value, json};

/// The three specs, embedded at build time from the workspace's `specs/`.
pub const EMBEDDED: [(&str, &str); 3] = [
    ("flowhunt", include_str!("../specs/flowhunt.yaml")),
    ("pieces", include_str!("../specs/pieces.yaml")),
    ("flowgen", include_str!("../specs/flowgen.yaml")),
];

/// PiecesOS's own conversation paths and every schema they reference, vendored verbatim from
/// `pieces-app/pieces-os-client-openapi-spec` (the commit is in `info.x-vendored-from`; see
/// `tests/data/pieces-os/vendor.py`).
pub const PIECES_UPSTREAM: &str = include_str!("../tests/data/pieces-os/conversations.openapi.json");

/// Parses an embedded spec (YAML or JSON) into JSON.
///
/// # Errors
/// The parser's message.
pub fn parse(text: &str) -> Result<Value, String> {
    match serde_json::from_str(text) {
        Ok(doc) => Ok(doc),
        Err(_) => serde_norway::from_str(text).map_err(|e| e.to_string()),
    }
}

/// One operation as a spec declares it.
#[derive(Debug, Clone)]
pub struct SpecOperation<'a> {
    /// The lowercase method key (`get`, `post`, ...).
    pub method: &'a str,
    /// The path template.
    pub path: &'a str,
    /// The operationId.
    pub id: &'a str,
    /// The JSON pointer of its `application/json` request-body schema, if it has one.
    pub body: Option<String>,
}

/// Every operation of an OpenAPI document, in document order.
pub fn operations(doc: &Value) -> Vec<SpecOperation<'_>> {
    const METHODS: [&str; 8] = [
        "get", "put", "post", "delete", "options", "head", "patch", "trace",
    ];
    let Some(paths) = doc["paths"].as_object() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (path, item) in paths {
        for method in METHODS {
            let Some(id) = item
                .pointer(&format!("/{method}/operationId"))
                .and_then(Value::as_str)
            else {
                continue;
            };
            let escaped = path.replace('~', "~0").replace('/', "~1");
            let pointer = format!("/paths/{escaped}/{method}/requestBody/content/application~1json/schema");
            let body = doc.pointer(&pointer).map(|_| pointer);
            out.push(SpecOperation {
                method,
                path,
                id,
                body,
            });
        }
    }
    out
}

/// Converts an OpenAPI 3.0 document (or schema) to JSON Schema 2020-12, recursively.
pub fn to_json_schema(value: &Value) -> Value {
    match value {
        Value::Array(items) => Value::Array(items.iter().map(to_json_schema).collect()),
        Value::Object(map) => {
            let mut out = Map::new();
            for (k, v) in map {
                if k == "nullable" || k.starts_with("x-") {
                    continue;
                }
                out.insert(k.clone(), to_json_schema(v));
            }
            let nullable = map.get("nullable").and_then(Value::as_bool).unwrap_or(false);
            let typed = ["type", "$ref", "allOf", "anyOf", "oneOf", "properties"]
                .iter()
                .any(|k| out.contains_key(*k));
            if nullable && typed {
                json!({"anyOf": [Value::Object(out), {"type": "null"}]})
            } else {
                Value::Object(out)
            }
        }
        other => other.clone(),
    }
}

/// Compiles a validator for the schema at `pointer` (a JSON pointer) inside a converted document.
///
/// # Errors
/// The validator's message when the schema does not compile.
pub fn compile(converted: &Value, pointer: &str) -> Result<jsonschema::Validator, String> {
    let mut root = converted.clone();
    if let Some(obj) = root.as_object_mut() {
        // A URI fragment may not hold `{` or `}` (path templates): percent-encode them.
        let fragment = pointer
            .replace('%', "%25")
            .replace('{', "%7B")
            .replace('}', "%7D");
        obj.insert("$ref".into(), Value::String(format!("#{fragment}")));
        obj.insert(
            "$schema".into(),
            Value::String("https://json-schema.org/draft/2020-12/schema".into()),
        );
    }
    jsonschema::options()
        .should_validate_formats(true)
        .build(&root)
        .map_err(|e| e.to_string())
}

/// Request-body validators for every operation of the embedded specs, by operationId.
pub struct RequestValidators {
    by_operation: HashMap<String, Vec<jsonschema::Validator>>,
}

impl std::fmt::Debug for RequestValidators {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestValidators")
            .field("operations", &self.by_operation.len())
            .finish()
    }
}

impl RequestValidators {
    /// Compiles the validators of every JSON request body in the embedded specs and PiecesOS's
    /// own spec (operationIds in snake case).
    ///
    /// # Errors
    /// A message naming the spec when one does not parse or a schema does not compile.
    pub fn embedded() -> Result<Self, String> {
        let mut by_operation: HashMap<String, Vec<jsonschema::Validator>> = HashMap::new();
        for (name, text) in EMBEDDED.into_iter().chain([("pieces-os", PIECES_UPSTREAM)]) {
            let raw = parse(text).map_err(|e| format!("spec {name}: {e}"))?;
            let converted = to_json_schema(&close_extensible_enums(&raw));
            for op in operations(&raw) {
                let Some(pointer) = &op.body else { continue };
                let validator = compile(&converted, pointer).map_err(|e| format!("{name} {}: {e}", op.id))?;
                by_operation
                    .entry(op.id.replace('-', "_"))
                    .or_default()
                    .push(validator);
            }
        }
        Ok(Self { by_operation })
    }

    /// The validators of the embedded specs, compiled once per process.
    ///
    /// # Errors
    /// As [`RequestValidators::embedded`].
    pub fn shared() -> Result<&'static Self, String> {
        static VALIDATORS: OnceLock<Result<RequestValidators, String>> = OnceLock::new();
        VALIDATORS
            .get_or_init(Self::embedded)
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Validates a request body; on failure returns FastAPI's 422 body (`{"detail": [...]}`).
    ///
    /// An operation without a JSON body accepts anything.
    pub fn check(&self, operation: &str, body: &Value) -> Result<(), Value> {
        let Some(validators) = self.by_operation.get(operation) else {
            return Ok(());
        };
        let detail: Vec<Value> = validators
            .iter()
            .flat_map(|v| {
                v.iter_errors(body)
                    .map(|e| pydantic_error(&e, body))
                    .collect::<Vec<_>>()
            })
            .collect();
        if detail.is_empty() {
            Ok(())
        } else {
            Err(json!({ "detail": detail }))
        }
    }
}

/// The allowed values when `error` is an enum violation, also one wrapped in the "or null" of a
/// nullable field.
fn enum_options(error: &jsonschema::ValidationError<'_>) -> Option<Vec<Value>> {
    use jsonschema::error::ValidationErrorKind;
    match error.kind() {
        ValidationErrorKind::Enum { options } => options.as_array().cloned(),
        ValidationErrorKind::AnyOf { context } => context.iter().flatten().find_map(enum_options),
        _ => None,
    }
}

/// A server's view of a spec: `x-extensible-enum` lists (open for clients, which must take new
/// values as data) become closed `enum`s, because a server knows its own values and rejects
/// the rest (FastAPI answers 422 `type: enum`).
pub fn close_extensible_enums(value: &Value) -> Value {
    match value {
        Value::Array(items) => Value::Array(items.iter().map(close_extensible_enums).collect()),
        Value::Object(map) => {
            let mut out: Map<String, Value> = map
                .iter()
                .map(|(k, v)| (k.clone(), close_extensible_enums(v)))
                .collect();
            if let Some(values) = map.get("x-extensible-enum") {
                out.insert("enum".into(), values.clone());
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

/// One pydantic-2 style error item for a JSON Schema violation.
fn pydantic_error(error: &jsonschema::ValidationError<'_>, body: &Value) -> Value {
    let mut loc = vec![json!("body")];
    for segment in error
        .instance_path()
        .as_str()
        .split('/')
        .filter(|s| !s.is_empty())
    {
        let segment = segment.replace("~1", "/").replace("~0", "~");
        loc.push(
            segment
                .parse::<u64>()
                .map(Value::from)
                .unwrap_or(Value::String(segment)),
        );
    }
    let message = error.to_string();
    let pointer = error.instance_path().as_str().to_string();
    let input = body.pointer(&pointer).cloned().unwrap_or(Value::Null);
    if let Some(options) = enum_options(error) {
        let quoted: Vec<String> = options
            .iter()
            .map(|o| format!("'{}'", o.as_str().unwrap_or_default()))
            .collect();
        let expected = match quoted.split_last() {
            Some((last, [])) => last.clone(),
            Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
            None => String::new(),
        };
        return json!({"type": "enum", "loc": loc, "msg": format!("Input should be {expected}"), "input": input, "ctx": {"expected": expected}});
    }
    let (kind, msg) = if let jsonschema::error::ValidationErrorKind::Required { property } = error.kind() {
        if let Some(name) = property.as_str() {
            loc.push(json!(name));
        }
        ("missing", "Field required".to_string())
    } else if message.contains("is not of type") {
        ("type_error", message)
    } else {
        ("value_error", message)
    };
    json!({"type": kind, "loc": loc, "msg": msg, "input": input})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_bodies_get_fastapi_422s() {
        let validators = RequestValidators::embedded().unwrap();
        assert!(
            validators
                .check("invoke_v3_flow_assistant_response", &json!({"message": "hi"}))
                .is_ok()
        );
        let err = validators
            .check(
                "invoke_v3_flow_assistant_response",
                &json!({"ai_model": "GPT4.1"}),
            )
            .unwrap_err();
        assert_eq!(err["detail"][0]["type"], "missing");
        assert_eq!(err["detail"][0]["loc"], json!(["body", "message"]));
        assert_eq!(err["detail"][0]["msg"], "Field required");
        let err = validators
            .check("create_chat", &json!({"name": 3, "from_type": "flow"}))
            .unwrap_err();
        assert_eq!(err["detail"][0]["loc"], json!(["body", "name"]));
        let err = validators
            .check(
                "invoke_v3_flow_assistant_response",
                &json!({"message": "hi", "ai_model": "GPT-0"}),
            )
            .unwrap_err();
        assert_eq!(err["detail"][0]["type"], "enum", "{err}");
        assert_eq!(err["detail"][0]["loc"], json!(["body", "ai_model"]));
        assert_eq!(
            err["detail"][0]["ctx"]["expected"],
            "'Claude Sonnet 4.6', 'GPT4.1', 'O4 Mini' or 'O3 Mini'"
        );
        assert!(
            validators.check("list_chats", &Value::Null).is_ok(),
            "no body, nothing to check"
        );
    }
}
