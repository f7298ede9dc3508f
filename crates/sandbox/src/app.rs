//! Shared state, the router of all three services, request counting and fault injection.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::config::SandboxConfig;
use crate::spec::RequestValidators;
use crate::{flowgen, flowhunt, pieces, wire};

/// The clock of the sandbox: tokio's (so paused-time tests are deterministic), anchored to the
/// wall clock at start so timestamps look real.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    start: tokio::time::Instant,
    start_ms: u64,
}

impl Clock {
    fn new() -> Self {
        let start_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        Self {
            start: tokio::time::Instant::now(),
            start_ms,
        }
    }

    /// Epoch milliseconds now.
    pub fn now_ms(&self) -> u64 {
        self.start_ms + self.start.elapsed().as_millis() as u64
    }
}

/// Everything the handlers share.
pub struct AppState {
    /// The configuration the sandbox was started with.
    pub config: SandboxConfig,
    /// Request-body validators from the specs.
    pub validators: RequestValidators,
    /// The clock.
    pub clock: Clock,
    rng: Mutex<StdRng>,
    counts: Mutex<BTreeMap<String, u64>>,
    /// FlowHunt sessions.
    pub flowhunt: flowhunt::Store,
    /// Pieces conversations.
    pub pieces: pieces::Store,
    /// FlowGen chats.
    pub flowgen: flowgen::Store,
}

impl AppState {
    /// Builds the state for a configuration.
    pub fn new(config: SandboxConfig) -> Result<Arc<Self>, String> {
        let validators = RequestValidators::embedded()?;
        let rng = Mutex::new(StdRng::seed_from_u64(config.seed));
        Ok(Arc::new(Self {
            config,
            validators,
            clock: Clock::new(),
            rng,
            counts: Mutex::default(),
            flowhunt: flowhunt::Store::default(),
            pieces: pieces::Store::default(),
            flowgen: flowgen::Store::default(),
        }))
    }

    /// Runs `f` with the seeded RNG.
    pub fn with_rng<T>(&self, f: impl FnOnce(&mut StdRng) -> T) -> T {
        let mut rng = self.rng.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut rng)
    }

    /// Requests served so far, by operationId (requests to unknown paths count as `unknown`).
    pub fn counts(&self) -> BTreeMap<String, u64> {
        self.counts.lock().map(|c| c.clone()).unwrap_or_default()
    }

    fn count(&self, operation: &str) {
        if let Ok(mut counts) = self.counts.lock() {
            *counts.entry(operation.to_string()).or_default() += 1;
        }
    }
}

/// The operationId of a matched route.
fn operation_id(method: &Method, path: &str) -> &'static str {
    match (method.as_str(), path) {
        ("POST", "/v3/flow-assistants/create") => "create_v3_flow_assistant_session",
        ("POST", "/v3/flow-assistants/{session_id}/invoke") => "invoke_v3_flow_assistant_response",
        ("POST", "/v3/flow-assistants/{session_id}/invocation_response/{from_timestamp}") => {
            "poll_v3_flow_assistant_response"
        }
        ("POST", "/conversations/create/from_asset/{asset}") => "conversations_create_from_asset",
        ("POST", "/conversations/create") => "conversations_create_specific_conversation",
        ("POST", "/conversations/{conversation}/delete") => "conversations_delete_specific_conversation",
        ("GET", "/conversations/identifiers") => "conversations_identifiers_snapshot",
        ("GET", "/conversations") => "conversations_snapshot",
        ("GET", "/conversations/stream/identifiers") => "conversations_stream_identifiers",
        ("GET", "/conversation/{conversation}") => "conversation_get_specific_conversation",
        ("GET", "/.well-known/health") => "health",
        ("GET", "/chats") => "list_chats",
        ("POST", "/chats") => "create_chat",
        ("GET", "/chats/{chat_id}") => "get_chat",
        ("DELETE", "/chats/{chat_id}") => "delete_chat",
        ("POST", "/chats/{chat_id}/messages") => "send_message",
        ("GET", "/chats/{chat_id}/messages") => "get_messages",
        ("POST", "/chats/{chat_id}/input") => "send_input",
        ("POST", "/chats/{chat_id}/abort") => "abort_chat",
        _ => "unknown",
    }
}

/// Counts every request by operation and injects the configured faults.
async fn count_and_inject(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let path = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let operation = operation_id(request.method(), &path);
    state.count(operation);
    let faults = &state.config.faults;
    if !faults.latency.is_zero() {
        tokio::time::sleep(faults.latency).await;
    }
    if faults.applies_to(operation) && operation != "unknown" {
        let roll: f64 = state.with_rng(|rng| rng.random());
        let pieces = operation.starts_with("conversation");
        if roll < faults.rate_429 {
            let mut response = if pieces {
                wire::text(StatusCode::TOO_MANY_REQUESTS, "Too Many Requests")
            } else {
                wire::detail(StatusCode::TOO_MANY_REQUESTS, "Too Many Requests")
            };
            response
                .headers_mut()
                .insert("retry-after", HeaderValue::from(faults.retry_after_secs));
            return response;
        }
        if roll < faults.rate_429 + faults.rate_5xx {
            return if pieces {
                wire::text(StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable")
            } else {
                wire::detail(StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable")
            };
        }
        if roll < faults.rate_429 + faults.rate_5xx + faults.rate_drop {
            // Headers go out, then the body breaks: the client sees a dropped connection.
            let broken = futures::stream::once(async {
                Err::<bytes::Bytes, std::io::Error>(std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "injected drop",
                ))
            });
            let mut response = Response::new(Body::from_stream(broken));
            response
                .headers_mut()
                .insert("content-type", HeaderValue::from_static("application/json"));
            return response;
        }
    }
    next.run(request).await
}

/// The router of all three services on one address (their paths do not collide).
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .merge(flowhunt::routes())
        .merge(pieces::routes())
        .merge(flowgen::routes())
        .fallback(|| async { wire::detail(StatusCode::NOT_FOUND, "Not Found") })
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            count_and_inject,
        ))
        .with_state(state)
}
