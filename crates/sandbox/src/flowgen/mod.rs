//! FlowGen Chats: chats, their run status machine and message history, in either contract.
//!
//! A send starts a run (aborting a run already going): `running`, the agents' messages, an
//! optional wait for human input, then `completed` (or `failed`/`error`). Each step is one
//! [`Timing`](crate::Timing) step after the previous. In the open-source contract the send
//! answers `null` only when the run has ended, as the real server does.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};

use crate::config::FlowgenContract;
use crate::routes::{Routes, Served};
use crate::spec::RequestValidators;
use crate::state::{Poisoned, Shared, lock};
use crate::wire;

mod run;
use run::run;

/// Why FlowGen refuses a request, in the served contract's format.
#[derive(Debug)]
pub(crate) enum Reject {
    /// No `X-API-KEY`: 401 in both contracts.
    NoKey,
    /// A key it does not know: the guide's 403, or the open-source server's uncaught 500.
    BadKey(FlowgenContract),
    /// No such chat: the guide's 404, or the open-source server's uncaught 500.
    UnknownChat(FlowgenContract),
    /// The route exists for other methods only.
    NotAllowed(&'static str),
    /// No such route in this contract.
    NotFound,
    /// A 422 with this FastAPI/pydantic body.
    Unprocessable(Value),
    /// The state lock was poisoned by a panic: FastAPI's uncaught-exception 500.
    Poisoned,
}

impl From<Poisoned> for Reject {
    fn from(_: Poisoned) -> Self {
        Self::Poisoned
    }
}

impl IntoResponse for Reject {
    fn into_response(self) -> Response {
        let uncaught = || wire::text(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error");
        match self {
            Self::NoKey => wire::detail(StatusCode::UNAUTHORIZED, "Could not validate credentials"),
            Self::BadKey(FlowgenContract::Documented) => {
                wire::detail(StatusCode::FORBIDDEN, "Invalid API key")
            }
            Self::UnknownChat(FlowgenContract::Documented) => {
                wire::detail(StatusCode::NOT_FOUND, "Chat not found")
            }
            Self::BadKey(_) | Self::UnknownChat(_) | Self::Poisoned => uncaught(),
            Self::NotAllowed(allow) => {
                let mut response = wire::detail(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed");
                response
                    .headers_mut()
                    .insert(header::ALLOW, HeaderValue::from_static(allow));
                response
            }
            Self::NotFound => wire::detail(StatusCode::NOT_FOUND, "Not Found"),
            Self::Unprocessable(body) => wire::json_response(StatusCode::UNPROCESSABLE_ENTITY, body),
        }
    }
}

struct Run {
    generation: u64,
    input: mpsc::Sender<String>,
    abort: Option<oneshot::Sender<()>>,
}

struct Chat {
    record: Value,
    messages: Vec<Value>,
    run: Option<Run>,
    generation: u64,
    /// Epoch ms of the last status write.
    last_write: u64,
}

#[derive(Default)]
struct Inner {
    chats: HashMap<String, Chat>,
    /// Chat ids in creation order (PocketBase's default list order).
    order: Vec<String>,
}

/// The FlowGen service: its state only.
pub(crate) struct FlowGen {
    shared: Arc<Shared>,
    validators: &'static RequestValidators,
    inner: Mutex<Inner>,
}

const OWNER: &str = "sandboxowner001";

pub(crate) fn routes(shared: Arc<Shared>, validators: &'static RequestValidators) -> Served {
    let service = FlowGen {
        shared,
        validators,
        inner: Mutex::default(),
    };
    Routes::new()
        .route(Method::GET, "/chats", list)
        .route(Method::POST, "/chats", create)
        .route(Method::GET, "/chats/{chat_id}", get_chat)
        .route(Method::DELETE, "/chats/{chat_id}", delete)
        .route(Method::GET, "/chats/{chat_id}/messages", history)
        .route(Method::POST, "/chats/{chat_id}/messages", send)
        .route(Method::POST, "/chats/{chat_id}/input", input)
        .route(Method::POST, "/chats/{chat_id}/abort", abort)
        .with_state(Arc::new(service))
}

type Gen = State<Arc<FlowGen>>;

impl FlowGen {
    fn contract(&self) -> FlowgenContract {
        self.shared.config.flowgen_contract
    }

    fn open_source(&self) -> bool {
        self.contract() == FlowgenContract::OpenSource
    }

    fn authorize(&self, headers: &HeaderMap) -> Result<(), Reject> {
        let key = headers
            .get("x-api-key")
            .and_then(|v| v.to_str().ok())
            .ok_or(Reject::NoKey)?;
        if self.shared.config.api_keys.iter().any(|k| k == key) {
            Ok(())
        } else {
            Err(Reject::BadKey(self.contract()))
        }
    }

    fn unknown_chat(&self) -> Reject {
        Reject::UnknownChat(self.contract())
    }

    fn record_message(&self, chat: &mut Chat, content: &str, kind: &str, sender: &str, receiver: &str) {
        let id = self.shared.with_rng(wire::pocketbase_id);
        let now = wire::pocketbase_time(self.shared.clock.now_ms());
        chat.messages.push(json!({
            "chat": chat.record["id"], "collectionId": "vym7ggbn6mcqm72", "collectionName": "messages",
            "content": content, "created": now, "id": id, "owner": OWNER, "receiver": receiver,
            "sender": sender, "type": kind, "updated": now,
        }));
    }

    /// Writes a status; `updated` changes on every write, as PocketBase's does.
    fn set_status(&self, chat: &mut Chat, status: &str) {
        chat.last_write = self.shared.clock.now_ms().max(chat.last_write.saturating_add(1));
        chat.record["status"] = json!(status);
        chat.record["updated"] = json!(wire::pocketbase_time(chat.last_write));
    }

    /// Applies `f` to the chat if it still runs `generation` (a newer send or a delete ends a
    /// run; so does a poisoned lock, as there is no request left to answer).
    fn with_run(&self, id: &str, generation: u64, f: impl FnOnce(&mut Chat)) {
        let Ok(mut inner) = lock(&self.inner) else { return };
        if let Some(chat) = inner.chats.get_mut(id).filter(|c| c.generation == generation) {
            f(chat);
        }
    }
}

async fn list(State(service): Gen, headers: HeaderMap) -> Result<Response, Reject> {
    service.authorize(&headers)?;
    let limit = if service.open_source() { 30 } else { usize::MAX };
    let inner = lock(&service.inner)?;
    let records: Vec<Value> = inner
        .order
        .iter()
        .filter_map(|id| inner.chats.get(id))
        .take(limit)
        .map(|c| c.record.clone())
        .collect();
    Ok(wire::json_response(StatusCode::OK, Value::Array(records)))
}

/// A JSON body in FastAPI's order: parsed (422 even without a key), then the key checked.
fn parsed_body(service: &FlowGen, headers: &HeaderMap, body: &[u8]) -> Result<Value, Reject> {
    let body = wire::parse_body(body)
        .map_err(Reject::Unprocessable)?
        .ok_or_else(|| Reject::Unprocessable(wire::missing(&["body"])))?;
    service.authorize(headers)?;
    Ok(body)
}

async fn create(State(service): Gen, headers: HeaderMap, body: Bytes) -> Result<Response, Reject> {
    let body = parsed_body(&service, &headers, &body)?;
    service
        .validators
        .check("create_chat", &body)
        .map_err(Reject::Unprocessable)?;
    if service.open_source() && body.get("owner").is_none() {
        return Err(Reject::Unprocessable(wire::missing(&["body", "owner"])));
    }
    let id = service.shared.with_rng(wire::pocketbase_id);
    let now_ms = service.shared.clock.now_ms();
    let now = wire::pocketbase_time(now_ms);
    let relation = |key: &str| {
        body.get(key)
            .filter(|v| !v.is_null())
            .cloned()
            .unwrap_or(json!(""))
    };
    let record = json!({
        "name": body["name"],
        "from_type": body["from_type"],
        "from_flow": relation("from_flow"),
        "from_template": relation("from_template"),
        "owner": OWNER,
        "id": id,
        "status": if service.open_source() { "" } else { "ready" },
        "created": now,
        "updated": now,
    });
    let mut inner = lock(&service.inner)?;
    inner.chats.insert(
        id.clone(),
        Chat {
            record: record.clone(),
            messages: Vec::new(),
            run: None,
            generation: 0,
            last_write: now_ms,
        },
    );
    inner.order.push(id);
    Ok(wire::json_response(StatusCode::OK, record))
}

async fn get_chat(
    State(service): Gen,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, Reject> {
    service.authorize(&headers)?;
    let inner = lock(&service.inner)?;
    let chat = inner.chats.get(&id).ok_or_else(|| service.unknown_chat())?;
    Ok(wire::json_response(StatusCode::OK, chat.record.clone()))
}

async fn delete(State(service): Gen, headers: HeaderMap, Path(id): Path<String>) -> Result<Response, Reject> {
    if service.open_source() {
        return Err(Reject::NotAllowed("GET"));
    }
    service.authorize(&headers)?;
    let mut inner = lock(&service.inner)?;
    let mut chat = inner.chats.remove(&id).ok_or_else(|| service.unknown_chat())?;
    inner.order.retain(|c| *c != id);
    if let Some(abort) = chat.run.take().and_then(|mut r| r.abort.take()) {
        let _ = abort.send(());
    }
    Ok(wire::json_response(StatusCode::OK, json!({"result": true})))
}

async fn history(
    State(service): Gen,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, Reject> {
    if service.open_source() {
        return Err(Reject::NotAllowed("POST"));
    }
    service.authorize(&headers)?;
    let inner = lock(&service.inner)?;
    let chat = inner.chats.get(&id).ok_or_else(|| service.unknown_chat())?;
    let skip = chat.messages.len().saturating_sub(50);
    Ok(wire::json_response(
        StatusCode::OK,
        Value::Array(chat.messages.iter().skip(skip).cloned().collect()),
    ))
}

/// A message request in FastAPI's order: body parsed, then the key, then the body validated;
/// answers the text of the message in the served contract.
fn message_request(
    service: &FlowGen,
    headers: &HeaderMap,
    body: &[u8],
    operation: &str,
) -> Result<String, Reject> {
    let body = parsed_body(service, headers, body)?;
    service
        .validators
        .check(operation, &body)
        .map_err(Reject::Unprocessable)?;
    let required: &[&str] = if service.open_source() {
        &["content", "chat", "type", "owner"]
    } else {
        &["message"]
    };
    let missing: Vec<Value> = required
        .iter()
        .filter(|f| body.get(**f).is_none_or(Value::is_null))
        .map(|f| json!({"type": "missing", "loc": ["body", f], "msg": "Field required", "input": body}))
        .collect();
    if !missing.is_empty() {
        return Err(Reject::Unprocessable(json!({ "detail": missing })));
    }
    let field = if service.open_source() {
        "content"
    } else {
        "message"
    };
    Ok(body[field].as_str().unwrap_or_default().to_string())
}

async fn send(
    State(service): Gen,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, Reject> {
    let text = message_request(&service, &headers, &body, "send_message")?;
    let (input_tx, input_rx) = mpsc::channel(4);
    let (abort_tx, abort_rx) = oneshot::channel();
    let generation = {
        let mut inner = lock(&service.inner)?;
        let chat = inner.chats.get_mut(&id).ok_or_else(|| service.unknown_chat())?;
        if let Some(abort) = chat.run.take().and_then(|mut r| r.abort.take()) {
            let _ = abort.send(()); // the superseded run ends `aborted`
        }
        chat.generation = chat.generation.saturating_add(1);
        service.record_message(chat, &text, "user", "", "");
        service.set_status(chat, "running");
        service.record_message(chat, "__STATUS_RUNNING__", "assistant", "", "");
        chat.run = Some(Run {
            generation: chat.generation,
            input: input_tx,
            abort: Some(abort_tx),
        });
        chat.generation
    };
    let open_source = service.open_source();
    let shared = service.shared.clone();
    let run = tokio::spawn(shared.inherit_rng(run(service, id, generation, text, input_rx, abort_rx)));
    if open_source {
        let _ = run.await; // the real server answers only when the run has ended
        Ok(wire::json_response(StatusCode::OK, Value::Null))
    } else {
        Ok(wire::json_response(StatusCode::OK, json!({})))
    }
}

fn no_assistant(id: &str) -> Response {
    wire::json_response(
        StatusCode::OK,
        json!({"error": format!("No assistant found with that chat ID. {id}")}),
    )
}

async fn input(
    State(service): Gen,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, Reject> {
    let text = message_request(&service, &headers, &body, "send_input")?;
    let sender = {
        let mut inner = lock(&service.inner)?;
        let chat = inner.chats.get_mut(&id).ok_or_else(|| service.unknown_chat())?;
        service.record_message(chat, &text, "user", "", ""); // stored even when no run listens
        let waiting = chat.record["status"] == "wait_for_human_input";
        chat.run
            .as_ref()
            .filter(|r| waiting && r.generation == chat.generation)
            .map(|r| r.input.clone())
    };
    match sender {
        Some(sender) if sender.send(text).await.is_ok() => Ok(wire::json_response(
            StatusCode::OK,
            json!({"detail": "Input sent to assistant."}),
        )),
        _ => Ok(no_assistant(&id)),
    }
}

async fn abort(State(service): Gen, headers: HeaderMap, Path(id): Path<String>) -> Result<Response, Reject> {
    if !service.open_source() {
        return Err(Reject::NotFound);
    }
    service.authorize(&headers)?;
    let abort = lock(&service.inner)?
        .chats
        .get_mut(&id)
        .and_then(|c| c.run.as_mut())
        .and_then(|r| r.abort.take());
    let Some(abort) = abort else {
        return Ok(no_assistant(&id));
    };
    let _ = abort.send(());
    Ok(wire::json_response(
        StatusCode::OK,
        json!({"detail": format!("Assistant for chat {id} terminated.")}),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_poisoned_lock_is_a_500_never_a_success() {
        let (shared, _stop) = Shared::new(crate::SandboxConfig::default());
        let service = Arc::new(FlowGen {
            shared: Arc::new(shared),
            validators: RequestValidators::shared().unwrap(),
            inner: Mutex::default(),
        });
        let poisoner = service.clone();
        let _ = std::thread::spawn(move || {
            let _guard = poisoner.inner.lock();
            panic!("poison the lock");
        })
        .join();
        let mut headers = HeaderMap::new();
        headers.insert("x-api-key", crate::DEFAULT_API_KEY.parse().unwrap());
        let body = Bytes::from_static(br#"{"name": "n", "from_type": "flow"}"#);
        let response = create(State(service.clone()), headers.clone(), body)
            .await
            .into_response();
        assert_eq!(response.status(), 500);
        let response = list(State(service), headers).await.into_response();
        assert_eq!(response.status(), 500);
    }
}
