//! FlowHunt Flow Assistant V3: sessions, invocations and their events.
//!
//! An invocation's reply is the table [`PROGRESS`] followed by one closing step chosen by the
//! script; step `n` is scheduled at `invoke + Timing::offset(n)` and becomes visible to polls
//! once due. Timestamps are epoch milliseconds as strings, strictly increasing within a session
//! unless [`FlowhuntBoundary`](crate::FlowhuntBoundary) (or the `duplicate_boundary` fault) makes
//! events share a millisecond or polls include the boundary. Every record is complete by the `flowhunt` SDK's models (3.19.1).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::routes::{Routes, Served};
use crate::script::{self, Reply};
use crate::spec::RequestValidators;
use crate::state::{Poisoned, Shared, lock};
use crate::wire;

/// Why FlowHunt refuses a request, in FastAPI's error format.
#[derive(Debug)]
pub(crate) enum Reject {
    /// No bearer token.
    NotAuthenticated,
    /// A 422 with this FastAPI/pydantic body.
    Unprocessable(Value),
    /// No such session.
    NoSession,
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
        match self {
            Self::NotAuthenticated => wire::detail(StatusCode::FORBIDDEN, "Not authenticated"),
            Self::Unprocessable(body) => wire::json_response(StatusCode::UNPROCESSABLE_ENTITY, body),
            Self::NoSession => wire::detail(StatusCode::NOT_FOUND, "Session not found"),
            Self::Poisoned => wire::detail(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error"),
        }
    }
}

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

#[derive(Default)]
struct Inner {
    sessions: HashMap<String, Session>,
}

/// The FlowHunt service: its state only.
pub(crate) struct FlowHunt {
    shared: Arc<Shared>,
    validators: &'static RequestValidators,
    inner: Mutex<Inner>,
}

pub(crate) fn routes(shared: Arc<Shared>, validators: &'static RequestValidators) -> Served {
    let service = FlowHunt {
        shared,
        validators,
        inner: Mutex::default(),
    };
    Routes::new()
        .route(Method::POST, "/v3/flow-assistants/create", create)
        .route(Method::POST, "/v3/flow-assistants/{session_id}/invoke", invoke)
        .route(
            Method::POST,
            "/v3/flow-assistants/{session_id}/invocation_response/{from_timestamp}",
            poll,
        )
        .with_state(Arc::new(service))
}

/// What a step's metadata is made from.
struct Context<'a> {
    shared: &'a Shared,
    message: &'a str,
    /// The id of the user's message (the invoke answers it).
    message_id: &'a str,
    /// How long the tool call took.
    tool_ms: u64,
}

impl Context<'_> {
    fn id(&self) -> String {
        self.shared.with_rng(wire::uuid)
    }

    fn query(&self) -> String {
        json!({"query": self.message}).to_string()
    }
}

/// One event of a scripted reply.
struct Step {
    event_type: &'static str,
    action_type: &'static str,
    /// Takes the previous event's millisecond when the boundary shares milliseconds.
    may_share_ms: bool,
    metadata: fn(&Context<'_>) -> Value,
}

/// The events every reply starts with, in order.
const PROGRESS: [Step; 4] = [
    Step {
        event_type: "human",
        action_type: "message",
        may_share_ms: false,
        metadata: |c| json!({"message_id": c.message_id, "message": c.message}),
    },
    Step {
        event_type: "ai",
        action_type: "loading",
        may_share_ms: false,
        metadata: |c| json!({"message_id": c.id(), "tool_name": "flow_assistant", "loading_desc": "Thinking..."}),
    },
    Step {
        event_type: "flow_assistant_action",
        action_type: "v3_tool_call_start",
        may_share_ms: false,
        metadata: |c| json!({"tool_name": "search_docs", "agent_query": c.query(), "action_description": "Searching the docs"}),
    },
    Step {
        event_type: "flow_assistant_action",
        action_type: "v3_tool_call_end",
        may_share_ms: true,
        metadata: |c| json!({"tool_name": "search_docs", "agent_query": c.query(), "tool_response": "3 results", "duration_ms": c.tool_ms}),
    },
];

/// The event that closes a reply.
fn closing(reply: &Reply) -> Step {
    match reply {
        Reply::Answer(_) => Step {
            event_type: "ai",
            action_type: "message",
            may_share_ms: true,
            metadata: |c| json!({"message_id": c.id(), "message": script::answer(c.message)}),
        },
        Reply::NeedsInput(_) => Step {
            event_type: "ai",
            action_type: "hook_waiting_for_input",
            may_share_ms: true,
            metadata: |c| json!({"hook_id": c.id(), "hook_name": "wait_for_user_input", "prompt_message": script::question(c.message)}),
        },
        Reply::Fail(_) => Step {
            event_type: "system",
            action_type: "failed",
            may_share_ms: true,
            metadata: |c| json!({"message_id": c.id(), "message": script::failure()}),
        },
    }
}

/// The welcome a session created with `start_with_welcome_message` begins with.
const WELCOME: Step = Step {
    event_type: "ai",
    action_type: "message",
    may_share_ms: false,
    metadata: |c| json!({"message_id": c.id(), "message": "Hi! I am the sandbox flow assistant. How can I help?"}),
};

impl Session {
    /// Appends the event of `step`, due at `due` with timestamp `ts` (or later, to keep
    /// timestamps increasing), or the previous event's timestamp when `share`d.
    fn push(
        &mut self,
        session_id: &str,
        step: &Step,
        context: &Context<'_>,
        due: tokio::time::Instant,
        ts: u64,
        share: bool,
    ) {
        let ts = if share && step.may_share_ms && self.last_ts > 0 {
            self.last_ts
        } else {
            ts.max(self.last_ts.saturating_add(1))
        };
        self.last_ts = ts;
        let credits = if (step.event_type, step.action_type) == ("ai", "message") {
            0.0187
        } else {
            0.0
        };
        let body = json!({
            "workspace_id": self.workspace_id,
            "session_id": session_id,
            "event_id": context.id(),
            "event_type": step.event_type,
            "created_at_timestamp": ts.to_string(),
            "action_type": step.action_type,
            "credits": credits,
            "metadata": (step.metadata)(context),
            "component_name": null,
        });
        self.events.push(Event { due, ts, body });
    }
}

fn bearer_present(headers: &HeaderMap) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|token| !token.trim().is_empty())
}

type Hunt = State<Arc<FlowHunt>>;

/// A required JSON body, validated against `operation`'s schema.
fn json_body(service: &FlowHunt, operation: &str, body: &[u8]) -> Result<Value, Reject> {
    let body = wire::parse_body(body)
        .map_err(Reject::Unprocessable)?
        .ok_or_else(|| Reject::Unprocessable(wire::missing(&["body"])))?;
    service
        .validators
        .check(operation, &body)
        .map_err(Reject::Unprocessable)?;
    Ok(body)
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

async fn create(
    State(service): Hunt,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
    body: Bytes,
) -> Result<Response, Reject> {
    if !bearer_present(&headers) {
        return Err(Reject::NotAuthenticated);
    }
    let workspace_id = query
        .get("workspace_id")
        .cloned()
        .ok_or_else(|| Reject::Unprocessable(wire::missing(&["query", "workspace_id"])))?;
    let body = json_body(&service, "create_v3_flow_assistant_session", &body)?;
    let shared = &service.shared;
    let session_id = shared.with_rng(wire::uuid);
    let now = shared.clock.now_ms();
    let mut session = Session {
        workspace_id,
        ..Session::default()
    };
    if body["start_with_welcome_message"].as_bool() == Some(true) {
        let context = Context {
            shared,
            message: "",
            message_id: "",
            tool_ms: 0,
        };
        session.push(
            &session_id,
            &WELCOME,
            &context,
            tokio::time::Instant::now(),
            now,
            false,
        );
    }
    lock(&service.inner)?.sessions.insert(session_id.clone(), session);
    Ok(wire::json_response(
        StatusCode::CREATED,
        json!({"session_id": session_id, "created_at": wire::rfc3339_micros(now)}),
    ))
}

async fn invoke(
    State(service): Hunt,
    Path(session_id): Path<String>,
    body: Bytes,
) -> Result<Response, Reject> {
    let body = json_body(&service, "invoke_v3_flow_assistant_response", &body)?;
    let message = body["message"].as_str().unwrap_or_default();
    let shared = &service.shared;
    let timing = &shared.config.timing;
    let share = shared.config.served_boundary().shared_millisecond;
    let start = tokio::time::Instant::now();
    let now = shared.clock.now_ms();
    let message_id = shared.with_rng(wire::uuid);
    let tool_ms = match (timing.offset(2), timing.offset(3)) {
        (Some(a), Some(b)) => millis(b.saturating_sub(a)),
        _ => 0,
    };
    let context = Context {
        shared,
        message,
        message_id: &message_id,
        tool_ms,
    };
    let mut inner = lock(&service.inner)?;
    let session = inner.sessions.get_mut(&session_id).ok_or(Reject::NoSession)?;
    let created = now.max(session.last_ts.saturating_add(1));
    let last = closing(&script::reply(message));
    for (n, step) in PROGRESS.iter().chain([&last]).enumerate() {
        // A step too far in the future to represent never comes (nor do the ones after it).
        let Some(offset) = timing.offset(n) else { break };
        let Some(due) = Shared::due(start, offset) else {
            break;
        };
        session.push(
            &session_id,
            step,
            &context,
            due,
            created.saturating_add(millis(offset)),
            share,
        );
    }
    Ok(wire::json_response(
        StatusCode::OK,
        json!({"message_id": message_id, "created_at": created.to_string()}),
    ))
}

async fn poll(
    State(service): Hunt,
    Path((session_id, from)): Path<(String, String)>,
) -> Result<Response, Reject> {
    let from = from.parse::<u64>().map_err(|_| {
        Reject::Unprocessable(json!({"detail": [{"type": "int_parsing", "loc": ["path", "from_timestamp"], "msg": "Input should be a valid integer, unable to parse string as an integer", "input": from}]}))
    })?;
    let inclusive = service.shared.config.served_boundary().inclusive;
    let now = tokio::time::Instant::now();
    let inner = lock(&service.inner)?;
    let session = inner.sessions.get(&session_id).ok_or(Reject::NoSession)?;
    let events: Vec<Value> = session
        .events
        .iter()
        .filter(|e| e.due <= now && (e.ts > from || (inclusive && e.ts == from)))
        .map(|e| e.body.clone())
        .collect();
    Ok(wire::json_response(StatusCode::OK, Value::Array(events)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_poisoned_lock_is_a_500_never_a_silent_201() {
        let (shared, _stop) = Shared::new(crate::SandboxConfig::default());
        let service = Arc::new(FlowHunt {
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
        headers.insert(header::AUTHORIZATION, "Bearer t".parse().unwrap());
        let query = Query(HashMap::from([("workspace_id".to_string(), "w".to_string())]));
        let response = create(State(service), headers, query, Bytes::from_static(b"{}"))
            .await
            .into_response();
        assert_eq!(response.status(), 500);
        assert_eq!(response.headers()["content-type"], "application/json");
    }
}
