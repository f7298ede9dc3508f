//! FlowGen Chats: chats, their run status machine and message history, in either contract.
//!
//! A send starts a run (aborting a run already going): `running`, the agents' messages, an
//! optional wait for human input, then `completed` (or `failed`/`error`). Each step is one
//! [`Timing`](crate::Timing) step after the previous. In the open-source contract the send
//! answers `null` only when the run has ended, as the real server does.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::{get, post};
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};

use crate::app::AppState;
use crate::config::FlowgenContract;
use crate::script::{self, Reply};
use crate::wire;

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

/// All FlowGen chats.
#[derive(Default)]
pub struct Store {
    chats: Mutex<HashMap<String, Chat>>,
    order: Mutex<Vec<String>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("flowgen::Store").finish_non_exhaustive()
    }
}

const OWNER: &str = "sandboxowner001";

pub(crate) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/chats", get(list).post(create))
        .route("/chats/{chat_id}", get(get_chat).delete(delete))
        .route("/chats/{chat_id}/messages", get(history).post(send))
        .route("/chats/{chat_id}/input", post(input))
        .route("/chats/{chat_id}/abort", post(abort))
}

fn open_source(state: &AppState) -> bool {
    state.config.flowgen_contract == FlowgenContract::OpenSource
}

fn authorize(state: &AppState, headers: &axum::http::HeaderMap) -> Result<(), Response> {
    match headers.get("x-api-key").and_then(|v| v.to_str().ok()) {
        None => Err(wire::detail(
            StatusCode::UNAUTHORIZED,
            "Could not validate credentials",
        )),
        Some(key) if state.config.api_keys.iter().any(|k| k == key) => Ok(()),
        Some(_) if open_source(state) => Err(wire::text(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal Server Error",
        )),
        Some(_) => Err(wire::detail(StatusCode::FORBIDDEN, "Invalid API key")),
    }
}

fn unknown_chat(state: &AppState) -> Response {
    if open_source(state) {
        wire::text(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
    } else {
        wire::detail(StatusCode::NOT_FOUND, "Chat not found")
    }
}

fn method_not_allowed(allow: &'static str) -> Response {
    let mut response = wire::detail(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed");
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allow));
    response
}

fn internal() -> Response {
    wire::text(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
}

async fn list(State(state): State<Arc<AppState>>, headers: axum::http::HeaderMap) -> Response {
    if let Err(response) = authorize(&state, &headers) {
        return response;
    }
    let (Ok(chats), Ok(order)) = (state.flowgen.chats.lock(), state.flowgen.order.lock()) else {
        return internal();
    };
    let limit = if open_source(&state) { 30 } else { usize::MAX };
    let records: Vec<Value> = order
        .iter()
        .filter_map(|id| chats.get(id))
        .take(limit)
        .map(|c| c.record.clone())
        .collect();
    wire::json_response(StatusCode::OK, Value::Array(records))
}

async fn create(State(state): State<Arc<AppState>>, headers: axum::http::HeaderMap, body: Bytes) -> Response {
    let body = match wire::parse_body(&body) {
        Ok(Some(body)) => body,
        Ok(None) => return wire::missing(&["body"]),
        Err(response) => return response,
    };
    if let Err(response) = authorize(&state, &headers) {
        return response;
    }
    if let Err(detail) = state.validators.check("create_chat", &body) {
        return wire::json_response(StatusCode::UNPROCESSABLE_ENTITY, detail);
    }
    if open_source(&state) && body.get("owner").is_none() {
        return wire::missing(&["body", "owner"]);
    }
    let id = state.with_rng(wire::pocketbase_id);
    let now = wire::pocketbase_time(state.clock.now_ms());
    let record = json!({
        "name": body["name"],
        "from_type": body["from_type"],
        "from_flow": body.get("from_flow").filter(|v| !v.is_null()).cloned().unwrap_or(json!("")),
        "from_template": body.get("from_template").filter(|v| !v.is_null()).cloned().unwrap_or(json!("")),
        "owner": OWNER,
        "id": id,
        "status": if open_source(&state) { "" } else { "ready" },
        "created": now,
        "updated": now,
    });
    let (Ok(mut chats), Ok(mut order)) = (state.flowgen.chats.lock(), state.flowgen.order.lock()) else {
        return internal();
    };
    chats.insert(
        id.clone(),
        Chat {
            record: record.clone(),
            messages: Vec::new(),
            run: None,
            generation: 0,
            last_write: state.clock.now_ms(),
        },
    );
    order.push(id);
    wire::json_response(StatusCode::OK, record)
}

async fn get_chat(
    State(state): State<Arc<AppState>>,
    headers: axum::http::HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Err(response) = authorize(&state, &headers) {
        return response;
    }
    let Ok(chats) = state.flowgen.chats.lock() else {
        return internal();
    };
    match chats.get(&id) {
        Some(chat) => wire::json_response(StatusCode::OK, chat.record.clone()),
        None => unknown_chat(&state),
    }
}

async fn delete(
    State(state): State<Arc<AppState>>,
    headers: axum::http::HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if open_source(&state) {
        return method_not_allowed("GET");
    }
    if let Err(response) = authorize(&state, &headers) {
        return response;
    }
    let (Ok(mut chats), Ok(mut order)) = (state.flowgen.chats.lock(), state.flowgen.order.lock()) else {
        return internal();
    };
    let Some(mut chat) = chats.remove(&id) else {
        return unknown_chat(&state);
    };
    order.retain(|c| *c != id);
    if let Some(abort) = chat.run.take().and_then(|mut r| r.abort.take()) {
        let _ = abort.send(());
    }
    wire::json_response(StatusCode::OK, json!({"result": true}))
}

async fn history(
    State(state): State<Arc<AppState>>,
    headers: axum::http::HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if open_source(&state) {
        return method_not_allowed("POST");
    }
    if let Err(response) = authorize(&state, &headers) {
        return response;
    }
    let Ok(chats) = state.flowgen.chats.lock() else {
        return internal();
    };
    match chats.get(&id) {
        Some(chat) => {
            let skip = chat.messages.len().saturating_sub(50);
            wire::json_response(StatusCode::OK, Value::Array(chat.messages[skip..].to_vec()))
        }
        None => unknown_chat(&state),
    }
}

/// A message request in FastAPI's order: body parsed, then the key, then the body validated.
fn message_request(
    state: &AppState,
    headers: &axum::http::HeaderMap,
    body: &[u8],
    operation: &str,
) -> Result<String, Response> {
    let body = wire::parse_body(body)?.ok_or_else(|| wire::missing(&["body"]))?;
    authorize(state, headers)?;
    message_text(state, operation, &body)
}

/// The text of a message body in the served contract, or the 422 the real server sends.
fn message_text(state: &AppState, operation: &str, body: &Value) -> Result<String, Response> {
    if let Err(detail) = state.validators.check(operation, body) {
        return Err(wire::json_response(StatusCode::UNPROCESSABLE_ENTITY, detail));
    }
    let required: &[&str] = if open_source(state) {
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
        return Err(wire::json_response(
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({ "detail": missing }),
        ));
    }
    let field = if open_source(state) { "content" } else { "message" };
    Ok(body[field].as_str().unwrap_or_default().to_string())
}

fn record_message(
    state: &AppState,
    chat: &mut Chat,
    content: &str,
    kind: &str,
    sender: &str,
    receiver: &str,
) {
    let id = state.with_rng(wire::pocketbase_id);
    let now = wire::pocketbase_time(state.clock.now_ms());
    chat.messages.push(json!({
        "chat": chat.record["id"], "collectionId": "vym7ggbn6mcqm72", "collectionName": "messages",
        "content": content, "created": now, "id": id, "owner": OWNER, "receiver": receiver,
        "sender": sender, "type": kind, "updated": now,
    }));
}

/// Writes a status; `updated` changes on every write, as PocketBase's does.
fn set_status(state: &AppState, chat: &mut Chat, status: &str) {
    chat.last_write = state.clock.now_ms().max(chat.last_write + 1);
    chat.record["status"] = json!(status);
    chat.record["updated"] = json!(wire::pocketbase_time(chat.last_write));
}

/// Applies `f` to the chat if it still runs `generation` (a newer send or a delete ends a run).
fn with_run(state: &AppState, id: &str, generation: u64, f: impl FnOnce(&mut Chat)) -> bool {
    let Ok(mut chats) = state.flowgen.chats.lock() else {
        return false;
    };
    match chats.get_mut(id) {
        Some(chat) if chat.generation == generation => {
            f(chat);
            true
        }
        _ => false,
    }
}

async fn send(
    State(state): State<Arc<AppState>>,
    headers: axum::http::HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let text = match message_request(&state, &headers, &body, "send_message") {
        Ok(text) => text,
        Err(response) => return response,
    };
    let (input_tx, input_rx) = mpsc::channel(4);
    let (abort_tx, abort_rx) = oneshot::channel();
    let generation = {
        let Ok(mut chats) = state.flowgen.chats.lock() else {
            return internal();
        };
        let Some(chat) = chats.get_mut(&id) else {
            return unknown_chat(&state);
        };
        if let Some(abort) = chat.run.take().and_then(|mut r| r.abort.take()) {
            let _ = abort.send(()); // the superseded run ends `aborted`
        }
        chat.generation += 1;
        record_message(&state, chat, &text, "user", "", "");
        set_status(&state, chat, "running");
        record_message(&state, chat, "__STATUS_RUNNING__", "assistant", "", "");
        chat.run = Some(Run {
            generation: chat.generation,
            input: input_tx,
            abort: Some(abort_tx),
        });
        chat.generation
    };
    let run = tokio::spawn(run(state.clone(), id, generation, text, input_rx, abort_rx));
    if open_source(&state) {
        let _ = run.await; // the real server answers only when the run has ended
        wire::json_response(StatusCode::OK, Value::Null)
    } else {
        wire::json_response(StatusCode::OK, json!({}))
    }
}

/// One run of the scripted assistant.
async fn run(
    state: Arc<AppState>,
    id: String,
    generation: u64,
    message: String,
    mut input: mpsc::Receiver<String>,
    mut abort: oneshot::Receiver<()>,
) {
    let step = state.config.timing.step;
    let failed = if open_source(&state) { "failed" } else { "error" };
    let finish = |status: &str, marker: String| {
        with_run(&state, &id, generation, |chat| {
            record_message(&state, chat, &marker, "assistant", "", "");
            set_status(&state, chat, status);
            chat.run = None;
        });
    };
    macro_rules! pause {
        () => {
            tokio::select! {
                _ = tokio::time::sleep(step) => {}
                _ = &mut abort => {
                    finish("aborted", "__STATUS_COMPLETED__ TERMINATED".into());
                    return;
                }
            }
        };
    }
    pause!();
    with_run(&state, &id, generation, |chat| {
        record_message(&state, chat, &message, "assistant", "user_proxy", "assistant")
    });
    pause!();
    let answer = match script::reply(&message) {
        Reply::Answer(answer) => answer,
        Reply::Fail(reason) => {
            finish(failed, format!("__STATUS_COMPLETED__ 1: Error: {reason}"));
            return;
        }
        Reply::NeedsInput(prompt) => {
            with_run(&state, &id, generation, |chat| {
                record_message(
                    &state,
                    chat,
                    &format!("__STATUS_WAIT_FOR_HUMAN_INPUT__ {prompt}"),
                    "assistant",
                    "",
                    "",
                );
                set_status(&state, chat, "wait_for_human_input");
            });
            let reply = tokio::select! {
                reply = input.recv() => reply,
                _ = &mut abort => None,
            };
            let Some(reply) = reply else {
                finish("aborted", "__STATUS_COMPLETED__ TERMINATED".into());
                return;
            };
            with_run(&state, &id, generation, |chat| {
                record_message(
                    &state,
                    chat,
                    &format!("__STATUS_RECEIVED_HUMAN_INPUT__ {prompt}"),
                    "assistant",
                    "",
                    "",
                );
                set_status(&state, chat, "running");
            });
            pause!();
            script::after_input(&message, &reply)
        }
    };
    with_run(&state, &id, generation, |chat| {
        record_message(&state, chat, &answer, "assistant", "assistant", "user_proxy")
    });
    pause!();
    finish("completed", "__STATUS_COMPLETED__ DONE".into());
}

async fn input(
    State(state): State<Arc<AppState>>,
    headers: axum::http::HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let text = match message_request(&state, &headers, &body, "send_input") {
        Ok(text) => text,
        Err(response) => return response,
    };
    let sender = {
        let Ok(mut chats) = state.flowgen.chats.lock() else {
            return internal();
        };
        let Some(chat) = chats.get_mut(&id) else {
            return unknown_chat(&state);
        };
        record_message(&state, chat, &text, "user", "", ""); // stored even when no run listens
        let waiting = chat.record["status"] == "wait_for_human_input";
        chat.run
            .as_ref()
            .filter(|r| waiting && r.generation == chat.generation)
            .map(|r| r.input.clone())
    };
    match sender {
        Some(sender) if sender.send(text).await.is_ok() => {
            wire::json_response(StatusCode::OK, json!({"detail": "Input sent to assistant."}))
        }
        _ => wire::json_response(
            StatusCode::OK,
            json!({"error": format!("No assistant found with that chat ID. {id}")}),
        ),
    }
}

async fn abort(
    State(state): State<Arc<AppState>>,
    headers: axum::http::HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if !open_source(&state) {
        return wire::detail(StatusCode::NOT_FOUND, "Not Found");
    }
    if let Err(response) = authorize(&state, &headers) {
        return response;
    }
    let Ok(mut chats) = state.flowgen.chats.lock() else {
        return internal();
    };
    let abort = chats
        .get_mut(&id)
        .and_then(|c| c.run.as_mut())
        .and_then(|r| r.abort.take());
    match abort {
        Some(abort) => {
            let _ = abort.send(());
            wire::json_response(
                StatusCode::OK,
                json!({"detail": format!("Assistant for chat {id} terminated.")}),
            )
        }
        None => wire::json_response(
            StatusCode::OK,
            json!({"error": format!("No assistant found with that chat ID. {id}")}),
        ),
    }
}
