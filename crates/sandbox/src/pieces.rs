//! PiecesOS Conversations: conversations, their snapshot and ids, and the identifiers WebSocket.
//!
//! Every change is broadcast as one `StreamedIdentifiers` frame; a new WebSocket first receives
//! the full id list. Errors are `text/plain` 500s, as PiecesOS sends them. Assets that
//! create-from-asset accepts are [`SEEDED_ASSETS`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use tokio::sync::broadcast;

use crate::app::AppState;
use crate::wire;

/// Assets create-from-asset knows: `(id, name)`.
pub const SEEDED_ASSETS: [(&str, &str); 3] = [
    ("2254f2c8-5797-40e8-ac56-41166dc0e159", "quicksort.rs"),
    ("6f1d2c3b-4a59-4e68-9c7b-8a9d0e1f2a3b", "deploy.yaml"),
    ("a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d", "README.md"),
];

const SCHEMA: fn() -> Value = || json!({"migration": 0, "semantic": "MAJOR_0_MINOR_0_PATCH_1"});

/// All conversations, in creation order, and the change feed.
pub struct Store {
    conversations: Mutex<Vec<Value>>,
    changes: broadcast::Sender<String>,
}

impl Default for Store {
    fn default() -> Self {
        Self {
            conversations: Mutex::default(),
            changes: broadcast::channel(1024).0,
        }
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("pieces::Store").finish_non_exhaustive()
    }
}

impl Store {
    fn frame(items: impl IntoIterator<Item = (String, bool)>) -> String {
        let iterable: Vec<Value> = items
            .into_iter()
            .map(|(id, deleted)| json!({"conversation": {"id": id}, "deleted": deleted}))
            .collect();
        json!({"iterable": iterable, "schema": SCHEMA()}).to_string()
    }

    fn insert(&self, conversation: Value) -> Result<(), Response> {
        let id = conversation["id"].as_str().unwrap_or_default().to_string();
        let mut all = self.conversations.lock().map_err(|_| internal())?;
        all.push(conversation);
        // Broadcast while holding the lock so frames leave in the order of the changes.
        let _ = self.changes.send(Self::frame([(id, false)]));
        Ok(())
    }
}

fn internal() -> Response {
    wire::text(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
}

pub(crate) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route(
            "/conversations/create/from_asset/{asset}",
            post(create_from_asset),
        )
        .route("/conversations/create", post(create))
        .route("/conversations/{conversation}/delete", post(delete))
        .route("/conversations/identifiers", get(identifiers))
        .route("/conversations", get(snapshot))
        .route("/conversations/stream/identifiers", get(stream))
        .route("/conversation/{conversation}", get(get_one))
        .route("/.well-known/health", get(|| async { "ok" }))
}

fn timestamp(ms: u64) -> Value {
    json!({"schema": SCHEMA(), "value": wire::rfc3339_micros(ms), "readable": "Just now..."})
}

fn new_conversation(state: &AppState, name: &str, kind: Value, messages: Vec<Value>) -> Value {
    let id = state.with_rng(wire::uuid);
    let now = state.clock.now_ms();
    let indices: serde_json::Map<String, Value> = messages
        .iter()
        .enumerate()
        .map(|(i, m)| (m["id"].as_str().unwrap_or_default().to_string(), json!(i)))
        .collect();
    json!({
        "schema": SCHEMA(),
        "id": id,
        "name": name,
        "created": timestamp(now),
        "updated": timestamp(now),
        "favorited": false,
        "messages": {"iterable": messages, "indices": indices},
        "type": kind,
    })
}

async fn create(State(state): State<Arc<AppState>>, body: Bytes) -> Response {
    let seed = match wire::parse_body(&body) {
        Ok(seed) => seed.unwrap_or(json!({"type": "COPILOT"})),
        Err(_) => return wire::text(StatusCode::INTERNAL_SERVER_ERROR, "Invalid JSON body"),
    };
    if let Err(detail) = state
        .validators
        .check("conversations_create_specific_conversation", &seed)
    {
        return wire::text(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("Invalid SeededConversation: {}", detail["detail"]),
        );
    }
    let name = seed["name"].as_str().unwrap_or("New Conversation");
    let conversation = new_conversation(&state, name, seed["type"].clone(), Vec::new());
    match state.pieces.insert(conversation.clone()) {
        Ok(()) => wire::json_response(StatusCode::OK, conversation),
        Err(response) => response,
    }
}

async fn create_from_asset(State(state): State<Arc<AppState>>, Path(asset): Path<String>) -> Response {
    let Some((_, name)) = SEEDED_ASSETS.iter().find(|(id, _)| *id == asset) else {
        return wire::text(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("Asset {asset} was not found."),
        );
    };
    let message_id = state.with_rng(wire::uuid);
    let summary = json!({"id": message_id, "reference": {"role": "ASSISTANT", "fragment": {"string": {"raw": format!("A summary of {name}.")}}}});
    let conversation = new_conversation(
        &state,
        &format!("Conversation about {name}"),
        json!("COPILOT"),
        vec![summary],
    );
    let id = conversation["id"].clone();
    match state.pieces.insert(conversation.clone()) {
        Ok(()) => wire::json_response(
            StatusCode::OK,
            json!({"conversation": {"id": id, "reference": conversation, "schema": SCHEMA()}, "schema": SCHEMA()}),
        ),
        Err(response) => response,
    }
}

async fn delete(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> Response {
    let Ok(mut all) = state.pieces.conversations.lock() else {
        return internal();
    };
    let Some(position) = all.iter().position(|c| c["id"] == id) else {
        return wire::text(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("Conversation {id} was not found."),
        );
    };
    all.remove(position);
    let _ = state.pieces.changes.send(Store::frame([(id, true)]));
    StatusCode::NO_CONTENT.into_response()
}

fn listing(all: &[Value], full: bool) -> Value {
    let iterable: Vec<Value> = all
        .iter()
        .map(|c| if full { c.clone() } else { json!({"id": c["id"]}) })
        .collect();
    let indices: HashMap<String, usize> = all
        .iter()
        .enumerate()
        .map(|(i, c)| (c["id"].as_str().unwrap_or_default().to_string(), i))
        .collect();
    json!({"iterable": iterable, "indices": indices, "schema": SCHEMA()})
}

async fn identifiers(State(state): State<Arc<AppState>>) -> Response {
    match state.pieces.conversations.lock() {
        Ok(all) => wire::json_response(StatusCode::OK, listing(&all, false)),
        Err(_) => internal(),
    }
}

async fn snapshot(State(state): State<Arc<AppState>>) -> Response {
    match state.pieces.conversations.lock() {
        Ok(all) => wire::json_response(StatusCode::OK, listing(&all, true)),
        Err(_) => internal(),
    }
}

async fn get_one(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> Response {
    let Ok(all) = state.pieces.conversations.lock() else {
        return internal();
    };
    match all.iter().find(|c| c["id"] == id) {
        Some(c) => wire::json_response(StatusCode::OK, c.clone()),
        None => wire::text(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("Conversation {id} was not found."),
        ),
    }
}

async fn stream(State(state): State<Arc<AppState>>, ws: WebSocketUpgrade) -> Response {
    ws.on_upgrade(move |socket| feed(state, socket))
}

/// First the full id list, then every change, until the client leaves (or a drop is injected).
async fn feed(state: Arc<AppState>, mut socket: WebSocket) {
    // Subscribe before reading the list, under the same lock as writers, so no change is missed.
    let (first, mut changes) = match state.pieces.conversations.lock() {
        Ok(all) => {
            let ids: Vec<(String, bool)> = all
                .iter()
                .map(|c| (c["id"].as_str().unwrap_or_default().to_string(), false))
                .collect();
            (Store::frame(ids), state.pieces.changes.subscribe())
        }
        Err(_) => return,
    };
    let drop_after = state.config.faults.ws_drop_after;
    let mut sent = 0usize;
    let mut next = Some(first);
    loop {
        if let Some(frame) = next.take() {
            if drop_after.is_some_and(|n| sent >= n) {
                return; // dropped without a close frame
            }
            if socket.send(Message::text(frame)).await.is_err() {
                return;
            }
            sent += 1;
        }
        tokio::select! {
            change = changes.recv() => match change {
                Ok(frame) => next = Some(frame),
                Err(broadcast::error::RecvError::Lagged(_)) => return, // the client resyncs on reconnect
                Err(broadcast::error::RecvError::Closed) => return,
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            },
        }
    }
}
