//! The router of all three services on one address, checked against the operation index, with
//! the layer that counts requests, bounds body silence and injects faults.

use std::sync::Arc;

use crate::config::Faults;
use crate::index::{OperationIndex, Service};
use crate::spec::RequestValidators;
use crate::state::{Identity, Shared, with_request_rng};
use crate::{flowgen, flowhunt, pieces, wire};
use axum::Router;
use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use futures::StreamExt;

/// What the fault layer needs.
#[derive(Clone)]
struct Layer {
    shared: Arc<Shared>,
    index: &'static OperationIndex,
}

/// An error in `service`'s own format (Pieces: `text/plain`; FastAPI's `{"detail"}` otherwise).
fn service_error(service: Option<Service>, status: StatusCode, text: &str) -> Response {
    match service {
        Some(Service::Pieces) => pieces::text_error(status, text),
        _ => wire::detail(status, text),
    }
}

/// The largest body read to compute a request's identity (axum's default body limit).
const IDENTITY_BODY_LIMIT: usize = 2 * 1024 * 1024;

/// Counts every request by operation, bounds the silence inside its body, and injects the
/// configured faults: each roll a function of the seed and the request's identity, so the
/// faults replay whatever order concurrent requests arrive in.
async fn count_and_inject(State(layer): State<Layer>, request: Request, next: Next) -> Response {
    let operation = request
        .extensions()
        .get::<MatchedPath>()
        .and_then(|path| layer.index.lookup(request.method(), path.as_str()));
    let (id, service) = match operation {
        Some(op) => (op.id.as_str(), Some(op.service)),
        None => ("unknown", None),
    };
    let shared = &layer.shared;
    shared.count(id, service);
    let idle = shared.config.limits.idle_timeout;
    let request = request.map(|body| Body::new(tower_http::timeout::TimeoutBody::new(idle, body)));
    let faults = &shared.config.faults;
    if !faults.latency.is_zero() {
        tokio::time::sleep(faults.latency).await;
    }
    if operation.is_none() || !faults.random() {
        return next.run(request).await;
    }
    // The identity needs the body: read it here (bounded) and hand the handler a copy.
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, IDENTITY_BODY_LIMIT).await else {
        return service_error(
            service,
            StatusCode::BAD_REQUEST,
            "The request body could not be read",
        );
    };
    let identity = Identity::of(shared.config.seed, id, parts.uri.path(), parts.uri.query(), &body);
    let attempt = shared.attempt(identity);
    let request = Request::from_parts(parts, Body::from(body));
    let fault = match faults.applies_to(id) {
        true => fault(faults, service, identity.roll(attempt)),
        false => None,
    };
    match fault {
        None => with_request_rng(identity.rng(attempt), next.run(request)).await,
        Some(Fault::Instead(response)) => {
            shared.count_fault(id);
            response
        }
        Some(Fault::BreakBody) => {
            shared.count_fault(id);
            let served = with_request_rng(identity.rng(attempt), next.run(request)).await;
            break_body(served)
        }
    }
}

/// An injected fault.
enum Fault {
    /// Answer this instead of serving the request.
    Instead(Response),
    /// Serve the request (its effects happen), then break the answer's body.
    BreakBody,
}

/// The fault `roll` (in `[0, 1)`) picks, if any.
fn fault(faults: &Faults, service: Option<Service>, roll: f64) -> Option<Fault> {
    if roll < faults.rate_429 {
        let mut response = service_error(service, StatusCode::TOO_MANY_REQUESTS, "Too Many Requests");
        response
            .headers_mut()
            .insert("retry-after", HeaderValue::from(faults.retry_after_secs));
        return Some(Fault::Instead(response));
    }
    if roll < faults.rate_429 + faults.rate_5xx {
        return Some(Fault::Instead(service_error(
            service,
            StatusCode::SERVICE_UNAVAILABLE,
            "Service Unavailable",
        )));
    }
    if roll < faults.rate_429 + faults.rate_5xx + faults.rate_drop / 2.0 {
        return Some(Fault::BreakBody);
    }
    if roll < faults.rate_429 + faults.rate_5xx + faults.rate_drop {
        // The connection breaks before the response head: the request was read, not served.
        return Some(Fault::Instead(Response::new(Body::from_stream(
            futures::stream::once(async { Err::<bytes::Bytes, std::io::Error>(reset()) }),
        ))));
    }
    None
}

fn reset() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::ConnectionReset, "injected drop")
}

/// `served` with its head and a first chunk sent, then the connection broken: the client has
/// the real status and sees the body drop.
fn break_body(served: Response) -> Response {
    let (mut parts, _body) = served.into_parts();
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    let broken =
        futures::stream::iter([Ok(bytes::Bytes::from_static(b"{"))]).chain(futures::stream::once(async {
            // Let the connection flush the head and the chunk before it breaks.
            tokio::task::yield_now().await;
            Err::<bytes::Bytes, std::io::Error>(reset())
        }));
    Response::from_parts(parts, Body::from_stream(broken))
}

/// The router of all three services (their paths do not collide), each with only its own
/// state.
///
/// # Errors
/// A message when the specs are broken or the routes and the spec operations differ.
pub(crate) fn router(shared: Arc<Shared>) -> Result<Router, String> {
    let index = OperationIndex::embedded()?;
    let validators = RequestValidators::shared()?;
    let services = [
        flowhunt::routes(shared.clone(), validators),
        pieces::routes(shared.clone(), validators),
        flowgen::routes(shared.clone(), validators),
    ];
    index.check_routes(services.iter().flat_map(|s| s.table.iter().map(|(m, p)| (m, *p))))?;
    let router = services
        .into_iter()
        .fold(Router::new(), |router, service| router.merge(service.router));
    let layer = Layer { shared, index };
    Ok(router
        .fallback(|| async { wire::detail(StatusCode::NOT_FOUND, "Not Found") })
        .layer(axum::middleware::from_fn_with_state(layer, count_and_inject)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routes::Routes;

    #[test]
    fn routes_and_spec_operations_match_one_to_one() {
        let (shared, _stop) = Shared::new(crate::SandboxConfig::default());
        assert!(router(Arc::new(shared)).is_ok());

        let index = OperationIndex::embedded().unwrap();
        let validators = RequestValidators::shared().unwrap();
        let (shared, _stop) = Shared::new(crate::SandboxConfig::default());
        let shared = Arc::new(shared);
        let mut tables: Vec<_> = [
            flowhunt::routes(shared.clone(), validators),
            pieces::routes(shared.clone(), validators),
            flowgen::routes(shared, validators),
        ]
        .into_iter()
        .flat_map(|s| s.table)
        .collect();
        let removed = tables.pop().unwrap();
        let err = index
            .check_routes(tables.iter().map(|(m, p)| (m, *p)))
            .unwrap_err();
        assert!(err.contains(removed.1), "{err}");
        let extra = Routes::<()>::new()
            .route(axum::http::Method::GET, "/not-in-any-spec", || async {})
            .with_state(());
        tables.push(removed);
        let err = index
            .check_routes(tables.iter().chain(&extra.table).map(|(m, p)| (m, *p)))
            .unwrap_err();
        assert!(err.contains("/not-in-any-spec"), "{err}");
    }

    #[test]
    fn the_index_knows_each_operations_service() {
        let index = OperationIndex::embedded().unwrap();
        let get = axum::http::Method::GET;
        let op = index.lookup(&get, "/conversation/{conversation}").unwrap();
        assert_eq!(
            (op.id.as_str(), op.service),
            ("conversation_get_specific_conversation", Service::Pieces)
        );
        let head = axum::http::Method::HEAD;
        let op = index.lookup(&head, "/.well-known/health").unwrap();
        assert_eq!(
            (op.id.as_str(), op.service),
            ("get_well_known_health", Service::Pieces)
        );
        let op = index.lookup(&get, "/chats/{chat_id}/messages").unwrap();
        assert_eq!((op.id.as_str(), op.service), ("get_messages", Service::FlowGen));
        assert_eq!(index.operations_of(Service::FlowHunt).len(), 3);
    }
}
