//! Stateful local simulators of the FlowHunt, Pieces OS and FlowGen APIs, on one address.
//!
//! The sandbox is the offline default of the workspace: tests, the demo and benchmarks run
//! against it. It serves the real wire formats (status codes, FastAPI-style 422 bodies,
//! `text/plain` Pieces errors, PocketBase timestamps, WebSocket frames), validates request bodies
//! against the specs in `specs/`, and can inject faults that replay by seed.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), assistants_sandbox::SandboxError> {
//! use assistants_sandbox::{FlowgenContract, Sandbox};
//!
//! let sandbox = Sandbox::builder().flowgen_contract(FlowgenContract::OpenSource).start().await?;
//! println!("FlowHunt, Pieces and FlowGen at {}", sandbox.base_url());
//! sandbox.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! # The scripted assistant
//! Replies are deterministic; see [`script`] for the rules (`[fail]` fails, `approval` or
//! `human input` asks a question first, anything else is answered). FlowHunt accepts any bearer
//! token; FlowGen accepts the keys of [`SandboxConfig::api_keys`] ([`DEFAULT_API_KEY`] by
//! default). Pieces' create-from-asset knows the assets in [`pieces::SEEDED_ASSETS`].
//!
//! # Limits
//! Connections get a header-read timeout, an idle timeout inside bodies and on WebSocket
//! writes, a cap on how many are open, and bounded WebSocket buffers ([`Limits`]); a stop ends
//! within [`Limits::shutdown_grace`] even with half-sent requests open.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod app;
mod config;
mod flowgen;
mod flowhunt;
pub mod index;
pub mod pieces;
mod routes;
pub mod script;
mod server;
pub mod spec;
mod state;
mod wire;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

pub use config::{DEFAULT_API_KEY, Faults, FlowgenContract, FlowhuntBoundary, Limits, SandboxConfig, Timing};
pub use index::Service;

/// Why the sandbox could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SandboxError {
    /// The address could not be bound (in use, or not allowed).
    #[error("cannot listen on {addr}: {source}; choose another address or port")]
    Bind {
        /// The address.
        addr: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The embedded specs could not be turned into validators (a broken build).
    #[error("the embedded specs are unusable: {0}")]
    Spec(String),
    /// Serving failed.
    #[error("the sandbox server failed: {0}")]
    Serve(#[from] std::io::Error),
}

/// A running sandbox; shut it down with [`Sandbox::shutdown`] (dropping it also stops it).
pub struct Sandbox {
    addr: SocketAddr,
    shared: Arc<state::Shared>,
    stop: tokio::sync::watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("base_url", &self.base_url())
            .finish_non_exhaustive()
    }
}

/// Builds a [`Sandbox`]; every setting has a default.
#[derive(Debug, Clone, Default)]
pub struct SandboxBuilder {
    config: SandboxConfig,
}

impl SandboxBuilder {
    /// Accept this FlowGen key (replacing the default key on first use).
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        if self.config.api_keys == [DEFAULT_API_KEY] {
            self.config.api_keys.clear();
        }
        self.config.api_keys.push(key.into());
        self
    }

    /// Serve this FlowGen contract.
    pub fn flowgen_contract(mut self, contract: FlowgenContract) -> Self {
        self.config.flowgen_contract = contract;
        self
    }

    /// How fast replies unfold.
    pub fn timing(mut self, timing: Timing) -> Self {
        self.config.timing = timing;
        self
    }

    /// Faults to inject.
    pub fn faults(mut self, faults: Faults) -> Self {
        self.config.faults = faults;
        self
    }

    /// How FlowHunt's polls meet `from_timestamp` (inclusive or not, shared milliseconds).
    pub fn flowhunt_boundary(mut self, boundary: FlowhuntBoundary) -> Self {
        self.config.flowhunt_boundary = boundary;
        self
    }

    /// Seed of ids and fault rolls.
    pub fn seed(mut self, seed: u64) -> Self {
        self.config.seed = seed;
        self
    }

    /// Bounds on connections, timeouts and WebSocket buffering.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.config.limits = limits;
        self
    }

    /// Starts on `127.0.0.1` on a free port.
    ///
    /// # Errors
    /// [`SandboxError`] when it cannot bind or the embedded specs are broken.
    pub async fn start(self) -> Result<Sandbox, SandboxError> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|source| SandboxError::Bind {
                addr: "127.0.0.1:0".into(),
                source,
            })?;
        Sandbox::on(listener, self.config).await
    }
}

impl Sandbox {
    /// A sandbox with the default configuration on a free loopback port.
    ///
    /// # Errors
    /// As [`SandboxBuilder::start`].
    pub async fn start() -> Result<Self, SandboxError> {
        Self::builder().start().await
    }

    /// A builder to configure the sandbox.
    pub fn builder() -> SandboxBuilder {
        SandboxBuilder::default()
    }

    /// Starts on an already bound listener (the CLI binds the address the user asked for).
    ///
    /// # Errors
    /// [`SandboxError::Spec`] when the embedded specs are broken or the routes and the spec
    /// operations do not match one to one.
    pub async fn on(listener: tokio::net::TcpListener, config: SandboxConfig) -> Result<Self, SandboxError> {
        let addr = listener.local_addr()?;
        let limits = config.limits.clone();
        let (shared, stop) = state::Shared::new(config);
        let shared = Arc::new(shared);
        let router = app::router(shared.clone()).map_err(SandboxError::Spec)?;
        let stopping = stop.subscribe();
        let task = tokio::spawn(server::serve(listener, router, limits, stopping));
        Ok(Self {
            addr,
            shared,
            stop,
            task: Some(task),
        })
    }

    /// `http://127.0.0.1:<port>`: the base URL of all three services.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Requests served so far, by operationId (requests to unknown paths count as `unknown`).
    pub fn requests(&self) -> BTreeMap<String, u64> {
        self.shared.counts()
    }

    /// Faults injected so far, by operationId (each also counted in [`Sandbox::requests`]).
    pub fn injected(&self) -> BTreeMap<String, u64> {
        self.shared.injected()
    }

    /// Faults injected so far into one operationId's requests.
    pub fn injected_for(&self, operation: &str) -> u64 {
        self.injected().get(operation).copied().unwrap_or(0)
    }

    /// Requests served so far by one service.
    pub fn requests_of(&self, service: Service) -> u64 {
        self.shared.count_of(service)
    }

    /// Requests served so far for one operationId.
    pub fn requests_for(&self, operation: &str) -> u64 {
        self.requests().get(operation).copied().unwrap_or(0)
    }

    /// The configuration it runs with.
    pub fn config(&self) -> &SandboxConfig {
        &self.shared.config
    }

    /// Stops accepting connections, waits up to [`Limits::shutdown_grace`] for open requests
    /// to finish, then closes the connections left (half-sent requests, WebSockets).
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    /// Serves until `shutdown` resolves (for the CLI).
    ///
    /// # Errors
    /// As [`Sandbox::on`].
    pub async fn serve_until(
        listener: tokio::net::TcpListener,
        config: SandboxConfig,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> Result<(), SandboxError> {
        let sandbox = Self::on(listener, config).await?;
        shutdown.await;
        sandbox.shutdown().await;
        Ok(())
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}
