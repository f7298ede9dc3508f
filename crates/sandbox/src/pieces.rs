//! PiecesOS Conversations: conversations, their snapshot and ids, the identifiers WebSocket and
//! the health probe.
//!
//! Every change is broadcast as one `StreamedIdentifiers` frame; a new WebSocket first receives
//! the full id list. Every error is a `500 text/plain`, as PiecesOS sends them (it declares no
//! 4xx), including requests with enum values PiecesOS does not know. Records are complete by
//! PiecesOS's own models: a message is a full `FlattenedConversationMessage`. Assets that
//! create-from-asset accepts are [`SEEDED_ASSETS`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::sync::{OwnedSemaphorePermit, broadcast};

use crate::routes::{Routes, Served};
use crate::spec::RequestValidators;
use crate::state::{Poisoned, Shared, lock};
use crate::wire;

/// Assets create-from-asset knows: `(id, name)`.
pub const SEEDED_ASSETS: [(&str, &str); 3] = [
    ("2254f2c8-5797-40e8-ac56-41166dc0e159", "quicksort.rs"),
    ("6f1d2c3b-4a59-4e68-9c7b-8a9d0e1f2a3b", "deploy.yaml"),
    ("a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d", "README.md"),
];

fn schema() -> Value {
    json!({"migration": 0, "semantic": "MAJOR_0_MINOR_0_PATCH_1"})
}

/// Why PiecesOS refuses a request; always a `500 text/plain`, the one error PiecesOS declares.
#[derive(Debug)]
pub(crate) enum Reject {
    /// The body is not JSON, or not a value PiecesOS knows (its enums are closed).
    Invalid(String),
    /// No such conversation or asset.
    NotFound(String),
    /// Every WebSocket slot is taken.
    Busy,
    /// The state lock was poisoned by a panic.
    Poisoned,
}

impl From<Poisoned> for Reject {
    fn from(_: Poisoned) -> Self {
        Self::Poisoned
    }
}

impl IntoResponse for Reject {
    fn into_response(self) -> Response {
        let text = match self {
            Self::Invalid(text) | Self::NotFound(text) => text,
            Self::Busy => "Too many open streams; close one and retry.".into(),
            Self::Poisoned => "Internal Server Error".into(),
        };
        text_error(StatusCode::INTERNAL_SERVER_ERROR, text)
    }
}

/// PiecesOS's error format.
pub(crate) fn text_error(status: StatusCode, text: impl Into<String>) -> Response {
    wire::text(status, text)
}

#[derive(Default)]
struct Inner {
    /// All conversations, in creation order.
    conversations: Vec<Value>,
}

/// The Pieces service: its state only.
pub(crate) struct Pieces {
    shared: Arc<Shared>,
    validators: &'static RequestValidators,
    inner: Mutex<Inner>,
    changes: broadcast::Sender<Arc<str>>,
}

impl Pieces {
    fn new(shared: Arc<Shared>, validators: &'static RequestValidators) -> Self {
        Self {
            shared,
            validators,
            inner: Mutex::default(),
            changes: broadcast::channel(1024).0,
        }
    }

    fn frame(items: impl IntoIterator<Item = (String, bool)>) -> Arc<str> {
        let iterable: Vec<Value> = items
            .into_iter()
            .map(|(id, deleted)| json!({"conversation": {"id": id}, "deleted": deleted}))
            .collect();
        json!({"iterable": iterable, "schema": schema()})
            .to_string()
            .into()
    }

    fn insert(&self, conversation: Value) -> Result<(), Reject> {
        let id = id_of(&conversation);
        let mut inner = lock(&self.inner)?;
        inner.conversations.push(conversation);
        // Broadcast while holding the lock so frames leave in the order of the changes.
        let _ = self.changes.send(Self::frame([(id, false)]));
        Ok(())
    }

    fn timestamp(&self) -> Value {
        json!({"schema": schema(), "value": wire::rfc3339_micros(self.shared.clock.now_ms()), "readable": "Just now..."})
    }

    /// A complete `FlattenedConversationMessage` of `conversation`.
    fn message(&self, conversation: &str, role: &Value, fragment: Value) -> Value {
        json!({
            "schema": schema(),
            "id": self.shared.with_rng(wire::uuid),
            "created": self.timestamp(),
            "updated": self.timestamp(),
            "conversation": {"id": conversation},
            "role": role,
            "fragment": fragment,
        })
    }

    /// A new conversation with `messages` (complete message records).
    fn conversation(&self, id: String, seed: &Value, messages: Vec<Value>, extra: Value) -> Value {
        let indices: serde_json::Map<String, Value> = messages
            .iter()
            .enumerate()
            .map(|(i, m)| (id_of(m), json!(i)))
            .collect();
        let iterable: Vec<Value> = messages
            .into_iter()
            .map(|m| json!({"id": m["id"], "reference": m, "schema": schema()}))
            .collect();
        let mut conversation = json!({
            "schema": schema(),
            "id": id,
            "name": seed.get("name").and_then(Value::as_str).unwrap_or("New Conversation"),
            "created": self.timestamp(),
            "updated": self.timestamp(),
            "favorited": seed.get("favorited").and_then(Value::as_bool).unwrap_or(false),
            "messages": {"iterable": iterable, "indices": indices, "schema": schema()},
            "type": seed["type"],
        });
        if let (Some(out), Some(extra)) = (conversation.as_object_mut(), extra.as_object()) {
            out.extend(extra.clone());
        }
        conversation
    }
}

fn id_of(record: &Value) -> String {
    record["id"].as_str().unwrap_or_default().to_string()
}

pub(crate) fn routes(shared: Arc<Shared>, validators: &'static RequestValidators) -> Served {
    Routes::new()
        .route(
            Method::POST,
            "/conversations/create/from_asset/{asset}",
            create_from_asset,
        )
        .route(Method::POST, "/conversations/create", create)
        .route(Method::POST, "/conversations/{conversation}/delete", delete)
        .route(Method::GET, "/conversations/identifiers", identifiers)
        .route(Method::GET, "/conversations", snapshot)
        .route(Method::GET, "/conversations/stream/identifiers", stream)
        .route(Method::GET, "/conversation/{conversation}", get_one)
        // GET also answers HEAD (without a body): port discovery probes with HEAD.
        .route(Method::GET, "/.well-known/health", health)
        .with_state(Arc::new(Pieces::new(shared, validators)))
}

type Piece = State<Arc<Pieces>>;

async fn health() -> Response {
    wire::text(StatusCode::OK, "ok")
}

async fn create(State(pieces): Piece, body: Bytes) -> Result<Response, Reject> {
    let seed = wire::parse_json(&body)
        .map_err(|e| Reject::Invalid(format!("Invalid JSON body: {e}")))?
        .unwrap_or_else(|| json!({"type": "COPILOT"}));
    pieces
        .validators
        .check("conversations_create_specific_conversation", &seed)
        .map_err(|detail| Reject::Invalid(invalid("SeededConversation", &detail)))?;
    let id = pieces.shared.with_rng(wire::uuid);
    // Seeded messages become complete message records of the new conversation.
    let messages: Vec<Value> = seed["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| {
            let mut message = pieces.message(&id, &m["role"], m["fragment"].clone());
            for key in ["sentiment", "model"] {
                if let (Some(value), Some(out)) = (m.get(key), message.as_object_mut()) {
                    out.insert(key.into(), value.clone());
                }
            }
            message
        })
        .collect();
    let conversation = pieces.conversation(id, &seed, messages, json!({}));
    pieces.insert(conversation.clone())?;
    Ok(wire::json_response(StatusCode::OK, conversation))
}

/// The text of a validation failure, as PiecesOS words a body it cannot decode.
fn invalid(model: &str, detail: &Value) -> String {
    let reasons: Vec<String> = detail["detail"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|d| format!("{} at {}", d["msg"].as_str().unwrap_or("invalid"), d["loc"]))
        .collect();
    format!("Invalid {model}: {}", reasons.join("; "))
}

async fn create_from_asset(State(pieces): Piece, Path(asset): Path<String>) -> Result<Response, Reject> {
    let (_, name) = SEEDED_ASSETS
        .iter()
        .find(|(id, _)| *id == asset)
        .ok_or_else(|| Reject::NotFound(format!("Asset {asset} was not found.")))?;
    let id = pieces.shared.with_rng(wire::uuid);
    let summary = pieces.message(
        &id,
        &json!("ASSISTANT"),
        json!({"string": {"raw": format!("A summary of {name}.")}}),
    );
    let seed = json!({"name": format!("Conversation about {name}"), "type": "COPILOT"});
    // The asset grounds the conversation, as PiecesOS links it.
    let assets = json!({"assets": {"iterable": [{"id": asset, "schema": schema()}], "indices": {asset.as_str(): 0}, "schema": schema()}});
    let conversation = pieces.conversation(id, &seed, vec![summary], assets);
    let output = json!({
        "conversation": {"id": conversation["id"], "reference": conversation, "schema": schema()},
        "schema": schema(),
    });
    pieces.insert(conversation)?;
    Ok(wire::json_response(StatusCode::OK, output))
}

async fn delete(State(pieces): Piece, Path(id): Path<String>) -> Result<Response, Reject> {
    let mut inner = lock(&pieces.inner)?;
    let position = inner
        .conversations
        .iter()
        .position(|c| c["id"] == id)
        .ok_or_else(|| Reject::NotFound(format!("Conversation {id} was not found.")))?;
    inner.conversations.remove(position);
    let _ = pieces.changes.send(Pieces::frame([(id, true)]));
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn listing(all: &[Value], full: bool) -> Value {
    let iterable: Vec<Value> = all
        .iter()
        .map(|c| if full { c.clone() } else { json!({"id": c["id"]}) })
        .collect();
    let indices: HashMap<String, usize> = all.iter().enumerate().map(|(i, c)| (id_of(c), i)).collect();
    json!({"iterable": iterable, "indices": indices, "schema": schema()})
}

async fn identifiers(State(pieces): Piece) -> Result<Response, Reject> {
    let inner = lock(&pieces.inner)?;
    Ok(wire::json_response(
        StatusCode::OK,
        listing(&inner.conversations, false),
    ))
}

async fn snapshot(State(pieces): Piece) -> Result<Response, Reject> {
    let inner = lock(&pieces.inner)?;
    Ok(wire::json_response(
        StatusCode::OK,
        listing(&inner.conversations, true),
    ))
}

async fn get_one(State(pieces): Piece, Path(id): Path<String>) -> Result<Response, Reject> {
    let inner = lock(&pieces.inner)?;
    let conversation = inner
        .conversations
        .iter()
        .find(|c| c["id"] == id)
        .ok_or_else(|| Reject::NotFound(format!("Conversation {id} was not found.")))?;
    Ok(wire::json_response(StatusCode::OK, conversation.clone()))
}

async fn stream(State(pieces): Piece, ws: WebSocketUpgrade) -> Result<Response, Reject> {
    let slot = pieces
        .shared
        .websockets
        .clone()
        .try_acquire_owned()
        .map_err(|_| Reject::Busy)?;
    let limits = &pieces.shared.config.limits;
    let ws = ws
        .max_write_buffer_size(limits.max_ws_write_buffer)
        .write_buffer_size(0)
        .max_message_size(limits.max_ws_message)
        .max_frame_size(limits.max_ws_message);
    Ok(ws.on_upgrade(move |socket| feed(pieces, socket, slot)))
}

/// First the full id list, then every change, until the client leaves, stops reading, the
/// sandbox stops, or a drop is injected.
async fn feed(pieces: Arc<Pieces>, mut socket: WebSocket, _slot: OwnedSemaphorePermit) {
    // Subscribe before reading the list, under the same lock as writers, so no change is missed.
    let (first, mut changes) = match lock(&pieces.inner) {
        Ok(inner) => {
            let ids = inner.conversations.iter().map(|c| (id_of(c), false));
            (Pieces::frame(ids), pieces.changes.subscribe())
        }
        Err(Poisoned) => return,
    };
    let drop_after = pieces.shared.config.faults.ws_drop_after;
    let idle = pieces.shared.config.limits.idle_timeout;
    let mut sent = 0usize;
    let mut next = Some(first);
    loop {
        if let Some(frame) = next.take() {
            if drop_after.is_some_and(|n| sent >= n) {
                return; // dropped without a close frame
            }
            // A peer that does not take a frame within the idle timeout is treated as gone.
            let send = socket.send(Message::text(frame.as_ref()));
            if !matches!(tokio::time::timeout(idle, send).await, Ok(Ok(()))) {
                return;
            }
            sent = sent.saturating_add(1);
        }
        tokio::select! {
            change = changes.recv() => match change {
                Ok(frame) => next = Some(frame),
                // A lagging client resyncs on reconnect; closing is the bound on its backlog.
                Err(broadcast::error::RecvError::Lagged(_) | broadcast::error::RecvError::Closed) => return,
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_)) | Err(_)) | None => return,
                Some(Ok(_)) => {}
            },
            () = pieces.shared.stopped() => {
                let _ = socket.send(Message::Close(None)).await;
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service() -> Arc<Pieces> {
        let (shared, _stop) = Shared::new(crate::SandboxConfig::default());
        let validators = RequestValidators::shared().unwrap();
        Arc::new(Pieces::new(Arc::new(shared), validators))
    }

    #[tokio::test]
    async fn a_poisoned_lock_is_a_text_500_never_a_success() {
        let pieces = service();
        let poisoner = pieces.clone();
        let _ = std::thread::spawn(move || {
            let _guard = poisoner.inner.lock();
            panic!("poison the lock");
        })
        .join();
        let body = Bytes::from_static(br#"{"type": "COPILOT"}"#);
        let response = create(State(pieces.clone()), body).await.into_response();
        assert_eq!(response.status(), 500);
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/plain")
        );
        let response = snapshot(State(pieces)).await.into_response();
        assert_eq!(response.status(), 500);
    }
}
