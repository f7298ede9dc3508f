//! The (method, path) -> operation index, built from the embedded specs: the one route table.
//!
//! Our three specs name every operation the clients use; PiecesOS's own spec (vendored, see
//! [`spec::PIECES_UPSTREAM`]) adds the two Pieces reads the sandbox serves beyond them
//! (`GET /conversation/{conversation}`, `GET /.well-known/health`). The router is checked
//! against this index at start-up ([`OperationIndex::check_routes`]): every operation has a
//! route and every route an operation.

use std::collections::{BTreeSet, HashMap};
use std::sync::OnceLock;

use axum::http::Method;

use crate::spec;

/// The simulated service an operation belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Service {
    /// FlowHunt Flow Assistant V3.
    FlowHunt,
    /// PiecesOS Conversations.
    Pieces,
    /// FlowGen Chats.
    FlowGen,
}

impl Service {
    /// The spec (in [`spec::EMBEDDED`]) that describes the service.
    pub fn spec_name(self) -> &'static str {
        match self {
            Self::FlowHunt => "flowhunt",
            Self::Pieces => "pieces",
            Self::FlowGen => "flowgen",
        }
    }

    fn from_spec_name(name: &str) -> Option<Self> {
        [Self::FlowHunt, Self::Pieces, Self::FlowGen]
            .into_iter()
            .find(|s| s.spec_name() == name)
    }
}

/// One operation of a spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// Its operationId, in snake case (PiecesOS's own kebab-case ids are converted).
    pub id: String,
    /// The service it belongs to.
    pub service: Service,
}

/// Every operation, by HTTP method and path template (`/chats/{chat_id}`, as axum and OpenAPI
/// both write it).
#[derive(Debug)]
pub struct OperationIndex {
    by_route: HashMap<(Method, String), Operation>,
}

impl OperationIndex {
    /// The index of the embedded specs, built once per process.
    ///
    /// # Errors
    /// A message naming the spec when one does not parse or lacks operationIds.
    pub fn embedded() -> Result<&'static Self, String> {
        static INDEX: OnceLock<Result<OperationIndex, String>> = OnceLock::new();
        INDEX.get_or_init(Self::build).as_ref().map_err(Clone::clone)
    }

    fn build() -> Result<Self, String> {
        let mut by_route = HashMap::new();
        let upstream = ("pieces", spec::PIECES_UPSTREAM);
        for (name, text) in spec::EMBEDDED.into_iter().chain([upstream]) {
            let service = Service::from_spec_name(name).ok_or_else(|| format!("spec {name}: no service"))?;
            let doc = spec::parse(text).map_err(|e| format!("spec {name}: {e}"))?;
            for op in spec::operations(&doc) {
                let method = Method::from_bytes(op.method.to_ascii_uppercase().as_bytes())
                    .map_err(|e| format!("spec {name}: {e}"))?;
                let id = op.id.replace('-', "_");
                // Our specs come first: where both describe an operation, their id wins.
                by_route
                    .entry((method, op.path.to_string()))
                    .or_insert_with(|| Operation { id, service });
            }
        }
        Ok(Self { by_route })
    }

    /// The operation of a request to the route `path` (HEAD is served by the GET operation).
    pub fn lookup(&self, method: &Method, path: &str) -> Option<&Operation> {
        let key = (method.clone(), path.to_string());
        self.by_route.get(&key).or_else(|| {
            (method == Method::HEAD)
                .then(|| self.by_route.get(&(Method::GET, path.to_string())))
                .flatten()
        })
    }

    /// Every operation id of a service (sorted).
    pub fn operations_of(&self, service: Service) -> BTreeSet<&str> {
        self.by_route
            .values()
            .filter(|op| op.service == service)
            .map(|op| op.id.as_str())
            .collect()
    }

    /// Checks that `routes` and the spec operations match one to one.
    ///
    /// # Errors
    /// A message listing the routes without an operation and the operations without a route.
    pub fn check_routes<'a>(
        &self,
        routes: impl IntoIterator<Item = (&'a Method, &'a str)>,
    ) -> Result<(), String> {
        let routes: BTreeSet<(String, String)> = routes
            .into_iter()
            .map(|(m, p)| (m.to_string(), p.to_string()))
            .collect();
        let operations: BTreeSet<(String, String)> = self
            .by_route
            .keys()
            .map(|(m, p)| (m.to_string(), p.clone()))
            .collect();
        let unrouted: Vec<_> = operations.difference(&routes).collect();
        let undescribed: Vec<_> = routes.difference(&operations).collect();
        if unrouted.is_empty() && undescribed.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "spec operations without a route: {unrouted:?}; routes without a spec operation: {undescribed:?}"
            ))
        }
    }
}
