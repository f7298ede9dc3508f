//! A router that remembers its (method, path) table, so the start-up check can compare the
//! routes with the spec operations.

use axum::Router;
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{MethodFilter, on};

/// A service's routes under construction.
pub(crate) struct Routes<S> {
    router: Router<S>,
    table: Vec<(Method, &'static str)>,
}

/// A finished service: its router (with its own state) and its route table.
pub(crate) struct Served {
    pub router: Router,
    pub table: Vec<(Method, &'static str)>,
}

impl<S: Clone + Send + Sync + 'static> Routes<S> {
    pub fn new() -> Self {
        Self {
            router: Router::new(),
            table: Vec::new(),
        }
    }

    /// Serves `method path` with `handler`. A method axum cannot filter on is left out of the
    /// table too, so the start-up check names it instead of the router panicking.
    pub fn route<H, T>(mut self, method: Method, path: &'static str, handler: H) -> Self
    where
        H: Handler<T, S>,
        T: 'static,
    {
        if let Ok(filter) = MethodFilter::try_from(method.clone()) {
            self.router = self.router.route(path, on(filter, handler));
            self.table.push((method, path));
        }
        self
    }

    /// Gives the routes their state.
    pub fn with_state(self, state: S) -> Served {
        Served {
            router: self.router.with_state(state),
            table: self.table,
        }
    }
}
