//! A loopback FlowHunt that serves any event schedule, for the shapes the sandbox cannot express
//! (its replies have five events): create, invoke and poll, in the sandbox's wire format.
//!
//! An invoke's message names its schedule: `"<offsets in ms, comma-separated>"`, e.g.
//! `"0,100,800"`; the first event is the human echo, the second `loading`, the last the `ai`
//! answer, the others tool-call starts and ends in turn. Requests are counted per session.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use serde_json::{Value, json};

struct Event {
    due: tokio::time::Instant,
    ts: u64,
    body: Value,
}

#[derive(Default)]
struct Session {
    events: Vec<Event>,
    requests: u64,
}

#[derive(Default)]
struct Store {
    sessions: Mutex<HashMap<String, Session>>,
    next_id: Mutex<u64>,
}

/// The running server.
pub struct ScheduleServer {
    store: Arc<Store>,
    base_url: String,
    task: tokio::task::JoinHandle<()>,
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl ScheduleServer {
    /// Serves on a free loopback port.
    pub async fn start() -> anyhow::Result<Self> {
        let store = Arc::new(Store::default());
        let app = Router::new()
            .route("/v3/flow-assistants/create", post(create))
            .route("/v3/flow-assistants/{session_id}/invoke", post(invoke))
            .route(
                "/v3/flow-assistants/{session_id}/invocation_response/{from_timestamp}",
                post(poll),
            )
            .with_state(store.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base_url = format!("http://{}", listener.local_addr()?);
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self {
            store,
            base_url,
            task,
        })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Requests (invoke and polls) the session received.
    pub fn requests(&self, session_id: &str) -> u64 {
        self.store
            .sessions
            .lock()
            .map(|s| s.get(session_id).map_or(0, |s| s.requests))
            .unwrap_or(0)
    }

    /// Stops serving.
    pub fn shutdown(self) {
        self.task.abort();
    }
}

async fn create(State(store): State<Arc<Store>>) -> (StatusCode, Json<Value>) {
    let id = {
        let mut next = store.next_id.lock().unwrap_or_else(|p| p.into_inner());
        *next += 1;
        format!("00000000-0000-4000-8000-{:012x}", *next)
    };
    if let Ok(mut sessions) = store.sessions.lock() {
        sessions.insert(id.clone(), Session::default());
    }
    (
        StatusCode::CREATED,
        Json(json!({"session_id": id, "created_at": "2026-12-01T00:00:00.000000Z"})),
    )
}

fn event(session_id: &str, n: usize, last: bool, ts: u64, message: &str) -> Value {
    let (event_type, action_type, metadata) = match n {
        0 => (
            "human",
            "message",
            json!({"message_id": format!("m{ts}"), "message": message}),
        ),
        _ if last => (
            "ai",
            "message",
            json!({"message_id": format!("a{ts}"), "message": "done"}),
        ),
        1 => (
            "ai",
            "loading",
            json!({"tool_name": "flow_assistant", "loading_desc": "Thinking..."}),
        ),
        n if n % 2 == 0 => (
            "flow_assistant_action",
            "v3_tool_call_start",
            json!({"tool_name": "search_docs"}),
        ),
        _ => (
            "flow_assistant_action",
            "v3_tool_call_end",
            json!({"tool_name": "search_docs", "tool_response": "ok"}),
        ),
    };
    json!({
        "workspace_id": "bench", "session_id": session_id, "event_id": format!("{session_id}-{n}"),
        "event_type": event_type, "created_at_timestamp": ts.to_string(), "action_type": action_type,
        "credits": 0.0, "metadata": metadata, "component_name": null,
    })
}

async fn invoke(
    State(store): State<Arc<Store>>,
    Path(session_id): Path<String>,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    let message = body["message"].as_str().unwrap_or_default().to_string();
    let offsets: Vec<u64> = message.split(',').filter_map(|o| o.trim().parse().ok()).collect();
    let (start, created) = (tokio::time::Instant::now(), now_ms());
    let mut sessions = store.sessions.lock().unwrap_or_else(|p| p.into_inner());
    let Some(session) = sessions.get_mut(&session_id) else {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({"detail": "Session not found"})),
        );
    };
    session.requests += 1;
    let mut last_ts = 0;
    for (n, offset) in offsets.iter().enumerate() {
        let ts = (created + offset).max(last_ts + 1); // strictly increasing, as FlowHunt's
        last_ts = ts;
        session.events.push(Event {
            due: start + std::time::Duration::from_millis(*offset),
            ts,
            body: event(&session_id, n, n + 1 == offsets.len(), ts, &message),
        });
    }
    (
        StatusCode::OK,
        Json(json!({"message_id": format!("m{created}"), "created_at": created.to_string()})),
    )
}

async fn poll(
    State(store): State<Arc<Store>>,
    Path((session_id, from)): Path<(String, String)>,
) -> (StatusCode, Json<Value>) {
    let from: u64 = from.parse().unwrap_or(0);
    let now = tokio::time::Instant::now();
    let mut sessions = store.sessions.lock().unwrap_or_else(|p| p.into_inner());
    let Some(session) = sessions.get_mut(&session_id) else {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({"detail": "Session not found"})),
        );
    };
    session.requests += 1;
    let events = session
        .events
        .iter()
        .filter(|e| e.due <= now && e.ts > from)
        .map(|e| e.body.clone())
        .collect();
    (StatusCode::OK, Json(Value::Array(events)))
}
