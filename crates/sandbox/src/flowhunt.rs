//! FlowHunt Flow Assistant V3: sessions, invocations and their events.
//!
//! Events of an invocation are scheduled at `created + n * step` and become visible to polls
//! once due: the human echo, `loading`, `v3_tool_call_start`, `v3_tool_call_end`, then the
//! final `ai` `message` (or `hook_waiting_for_input`, or `failed`). Timestamps are epoch
//! milliseconds as strings, strictly increasing within a session unless the
//! `duplicate_boundary` fault makes pairs share a millisecond and polls include the boundary.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use axum::routing::post;
use serde_json::{Value, json};

use crate::app::AppState;
use crate::script::{self, Reply};
use crate::wire;

struct Event {
    due: tokio::time::Instant,
    ts: u64,
    body: Value,
}

#[derive(Default)]
struct Session {
    workspace_id: String,
    events: Vec<Event>,
    last_ts: u64,
}

/// All FlowHunt sessions.
#[derive(Default)]
pub struct Store {
    sessions: Mutex<HashMap<String, Session>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("flowhunt::Store").finish_non_exhaustive()
    }
}

pub(crate) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/v3/flow-assistants/create", post(create))
        .route("/v3/flow-assistants/{session_id}/invoke", post(invoke))
        .route(
            "/v3/flow-assistants/{session_id}/invocation_response/{from_timestamp}",
            post(poll),
        )
}

fn bearer_present(headers: &HeaderMap) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|token| !token.trim().is_empty())
}

async fn create(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    if !bearer_present(&headers) {
        return wire::detail(StatusCode::FORBIDDEN, "Not authenticated");
    }
    let Some(workspace_id) = query.get("workspace_id").cloned() else {
        return wire::missing(&["query", "workspace_id"]);
    };
    let body = match wire::parse_body(&body) {
        Ok(Some(body)) => body,
        Ok(None) => return wire::missing(&["body"]),
        Err(response) => return response,
    };
    if let Err(detail) = state.validators.check("create_v3_flow_assistant_session", &body) {
        return wire::json_response(StatusCode::UNPROCESSABLE_ENTITY, detail);
    }
    let session_id = state.with_rng(wire::uuid);
    let now = state.clock.now_ms();
    let mut session = Session {
        workspace_id,
        ..Session::default()
    };
    if body["start_with_welcome_message"].as_bool() == Some(true) {
        let event_id = state.with_rng(wire::uuid);
        let message_id = state.with_rng(wire::uuid);
        let welcome = json!({"message_id": message_id, "message": "Hi! I am the sandbox flow assistant. How can I help?"});
        push(
            &mut session,
            &session_id,
            tokio::time::Instant::now(),
            now,
            event_id,
            "ai",
            "message",
            Some(welcome),
            false,
        );
    }
    if let Ok(mut sessions) = state.flowhunt.sessions.lock() {
        sessions.insert(session_id.clone(), session);
    }
    wire::json_response(
        StatusCode::CREATED,
        json!({"session_id": session_id, "created_at": wire::rfc3339_micros(now)}),
    )
}

#[allow(clippy::too_many_arguments)]
fn push(
    session: &mut Session,
    session_id: &str,
    due: tokio::time::Instant,
    ts: u64,
    event_id: String,
    event_type: &str,
    action_type: &str,
    metadata: Option<Value>,
    share_ms: bool,
) {
    let ts = if share_ms && session.last_ts > 0 {
        ts.max(session.last_ts)
    } else {
        ts.max(session.last_ts + 1)
    };
    session.last_ts = ts;
    let body = json!({
        "workspace_id": session.workspace_id,
        "session_id": session_id,
        "event_id": event_id,
        "event_type": event_type,
        "created_at_timestamp": ts.to_string(),
        "action_type": action_type,
        "credits": if action_type == "message" && event_type == "ai" { 0.0187 } else { 0.0 },
        "metadata": metadata,
        "component_name": null,
    });
    session.events.push(Event { due, ts, body });
}

async fn invoke(State(state): State<Arc<AppState>>, Path(session_id): Path<String>, body: Bytes) -> Response {
    let body = match wire::parse_body(&body) {
        Ok(Some(body)) => body,
        Ok(None) => return wire::missing(&["body"]),
        Err(response) => return response,
    };
    if let Err(detail) = state.validators.check("invoke_v3_flow_assistant_response", &body) {
        return wire::json_response(StatusCode::UNPROCESSABLE_ENTITY, detail);
    }
    let message = body["message"].as_str().unwrap_or_default().to_string();
    let timing = state.config.timing.clone();
    let share = state.config.faults.duplicate_boundary;
    let start = tokio::time::Instant::now();
    let now = state.clock.now_ms();
    let ids: Vec<String> = state.with_rng(|rng| (0..8).map(|_| wire::uuid(rng)).collect());
    let mut sessions = match state.flowhunt.sessions.lock() {
        Ok(sessions) => sessions,
        Err(_) => return wire::detail(StatusCode::INTERNAL_SERVER_ERROR, "state unavailable"),
    };
    let Some(session) = sessions.get_mut(&session_id) else {
        return wire::detail(StatusCode::NOT_FOUND, "Session not found");
    };
    let created = now.max(session.last_ts + 1);
    let at = |n: usize| {
        (
            start + timing.offset(n),
            created + timing.offset(n).as_millis() as u64,
        )
    };
    let (d, t) = at(0);
    push(
        session,
        &session_id,
        d,
        t,
        ids[0].clone(),
        "human",
        "message",
        Some(json!({"message_id": ids[1], "message": message})),
        false,
    );
    let (d, t) = at(1);
    let loading = json!({"message_id": ids[2], "tool_name": "flow_assistant", "loading_desc": "Thinking..."});
    push(
        session,
        &session_id,
        d,
        t,
        ids[3].clone(),
        "ai",
        "loading",
        Some(loading),
        false,
    );
    let query = json!({"query": message}).to_string();
    let (d, t) = at(2);
    let start_meta =
        json!({"tool_name": "search_docs", "agent_query": query, "action_description": "Searching the docs"});
    push(
        session,
        &session_id,
        d,
        t,
        ids[4].clone(),
        "flow_assistant_action",
        "v3_tool_call_start",
        Some(start_meta),
        false,
    );
    let (d, t) = at(3);
    let end_meta = json!({"tool_name": "search_docs", "agent_query": query, "tool_response": "3 results", "duration_ms": timing.offset(3).saturating_sub(timing.offset(2)).as_millis() as u64});
    push(
        session,
        &session_id,
        d,
        t,
        ids[5].clone(),
        "flow_assistant_action",
        "v3_tool_call_end",
        Some(end_meta),
        share,
    );
    let (d, t) = at(4);
    match script::reply(&message) {
        Reply::Answer(answer) => {
            let meta = json!({"message_id": ids[6], "message": answer});
            push(
                session,
                &session_id,
                d,
                t,
                ids[7].clone(),
                "ai",
                "message",
                Some(meta),
                share,
            );
        }
        Reply::NeedsInput(prompt) => {
            let meta =
                json!({"hook_id": ids[6], "hook_name": "wait_for_user_input", "prompt_message": prompt});
            push(
                session,
                &session_id,
                d,
                t,
                ids[7].clone(),
                "ai",
                "hook_waiting_for_input",
                Some(meta),
                share,
            );
        }
        Reply::Fail(reason) => {
            let meta = json!({"message_id": ids[6], "message": reason});
            push(
                session,
                &session_id,
                d,
                t,
                ids[7].clone(),
                "system",
                "failed",
                Some(meta),
                share,
            );
        }
    }
    wire::json_response(
        StatusCode::OK,
        json!({"message_id": ids[1], "created_at": created.to_string()}),
    )
}

async fn poll(
    State(state): State<Arc<AppState>>,
    Path((session_id, from)): Path<(String, String)>,
) -> Response {
    let Ok(from) = from.parse::<u64>() else {
        return wire::json_response(
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({"detail": [{"type": "int_parsing", "loc": ["path", "from_timestamp"], "msg": "Input should be a valid integer, unable to parse string as an integer", "input": from}]}),
        );
    };
    let inclusive = state.config.faults.duplicate_boundary;
    let now = tokio::time::Instant::now();
    let sessions = match state.flowhunt.sessions.lock() {
        Ok(sessions) => sessions,
        Err(_) => return wire::detail(StatusCode::INTERNAL_SERVER_ERROR, "state unavailable"),
    };
    let Some(session) = sessions.get(&session_id) else {
        return wire::detail(StatusCode::NOT_FOUND, "Session not found");
    };
    let events: Vec<Value> = session
        .events
        .iter()
        .filter(|e| e.due <= now && (e.ts > from || (inclusive && e.ts == from)))
        .map(|e| e.body.clone())
        .collect();
    wire::json_response(StatusCode::OK, Value::Array(events))
}
