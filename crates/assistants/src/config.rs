//! Configuration: endpoints, keys and policies, from the environment or set in code.

use std::time::Duration;

use secrecy::SecretString;

use crate::error::Error;
use crate::poll::PollPolicy;
use crate::retry::RetryPolicy;

/// Endpoints, credentials and policies of a [`Client`](crate::Client).
///
/// Keys are [`SecretString`]s: they never appear in `Debug` output.
#[derive(Clone, Debug)]
pub struct Config {
    /// FlowHunt's base URL.
    pub flowhunt_base_url: String,
    /// FlowHunt's API key (bearer token).
    pub flowhunt_api_key: Option<SecretString>,
    /// The FlowHunt workspace sessions are created in.
    pub flowhunt_workspace_id: Option<String>,
    /// PiecesOS' base URL.
    pub pieces_base_url: String,
    /// FlowGen's base URL.
    pub flowgen_base_url: String,
    /// FlowGen's API key (`X-API-KEY`).
    pub flowgen_api_key: Option<SecretString>,
    /// Settings shared by every call.
    pub settings: Settings,
}

/// Policies and limits shared by every call of a client.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// How failed calls are retried.
    pub retry: RetryPolicy,
    /// How often waits poll.
    pub poll: PollPolicy,
    /// The overall deadline of one operation (a whole `ask` or wait included); `None`: none.
    pub timeout: Option<Duration>,
    /// Largest response body read: a larger answer fails with [`Error::TooLarge`](crate::Error)
    /// after at most this much was buffered; a larger error body is cut. Default 16 MiB.
    pub max_body_bytes: usize,
    /// Largest message accepted before sending.
    pub max_message_bytes: usize,
}

impl Default for Settings {
    /// Standard retries, adaptive polling, a 10-minute deadline (FlowGen runs take minutes),
    /// 1 MiB error bodies, 256 KiB messages.
    fn default() -> Self {
        Self {
            retry: RetryPolicy::standard(),
            poll: PollPolicy::adaptive(),
            timeout: Some(Duration::from_secs(600)),
            max_body_bytes: assistants_api_runtime::Limits::default().max_body_bytes,
            max_message_bytes: 256 * 1024,
        }
    }
}

impl Settings {
    /// The limits every generated client of a facade handle enforces.
    pub(crate) fn limits(&self) -> assistants_api_runtime::Limits {
        assistants_api_runtime::Limits {
            max_body_bytes: self.max_body_bytes,
        }
    }
}

impl Default for Config {
    /// The services' documented base URLs, no keys, default settings.
    fn default() -> Self {
        Self {
            flowhunt_base_url: flowhunt_api::DEFAULT_BASE_URL.into(),
            flowhunt_api_key: None,
            flowhunt_workspace_id: None,
            pieces_base_url: pieces_api::DEFAULT_BASE_URL.into(),
            flowgen_base_url: flowgen_api::DEFAULT_BASE_URL.into(),
            flowgen_api_key: None,
            settings: Settings::default(),
        }
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

impl Config {
    /// Reads `FLOWHUNT_API_KEY`, `FLOWHUNT_WORKSPACE_ID`, `FLOWGEN_API_KEY` and the
    /// `FLOWHUNT_BASE_URL`, `PIECES_BASE_URL`, `FLOWGEN_BASE_URL` overrides. Missing keys are
    /// reported when a service that needs them is used, not here.
    pub fn from_env() -> Self {
        let defaults = Self::default();
        Self {
            flowhunt_base_url: env("FLOWHUNT_BASE_URL").unwrap_or(defaults.flowhunt_base_url),
            flowhunt_api_key: env("FLOWHUNT_API_KEY").map(SecretString::from),
            flowhunt_workspace_id: env("FLOWHUNT_WORKSPACE_ID"),
            pieces_base_url: env("PIECES_BASE_URL").unwrap_or(defaults.pieces_base_url),
            flowgen_base_url: env("FLOWGEN_BASE_URL").unwrap_or(defaults.flowgen_base_url),
            flowgen_api_key: env("FLOWGEN_API_KEY").map(SecretString::from),
            settings: Settings::default(),
        }
    }

    /// Points all three services at one base URL (the sandbox serves them on one address).
    pub fn with_base_url(mut self, base_url: &str) -> Self {
        self.flowhunt_base_url = base_url.into();
        self.pieces_base_url = base_url.into();
        self.flowgen_base_url = base_url.into();
        self
    }

    /// Sets FlowHunt's key and workspace.
    pub fn with_flowhunt(mut self, api_key: impl Into<String>, workspace_id: impl Into<String>) -> Self {
        self.flowhunt_api_key = Some(SecretString::from(api_key.into()));
        self.flowhunt_workspace_id = Some(workspace_id.into());
        self
    }

    /// Sets FlowGen's key.
    pub fn with_flowgen_key(mut self, api_key: impl Into<String>) -> Self {
        self.flowgen_api_key = Some(SecretString::from(api_key.into()));
        self
    }

    /// Sets the shared settings.
    pub fn with_settings(mut self, settings: Settings) -> Self {
        self.settings = settings;
        self
    }

    /// Sets the overall deadline of each operation.
    pub fn with_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.settings.timeout = timeout;
        self
    }
}

/// The error for a missing setting, phrased as what to do.
pub(crate) fn missing(var: &str, flag: &str) -> Error {
    Error::Config(format!("{var} is not set: export it or pass {flag}"))
}

/// Rejects ids that cannot be a real id before any request is made.
pub(crate) fn check_id(what: &str, id: &str) -> Result<(), Error> {
    if id.trim().is_empty() {
        return Err(Error::InvalidArgument(format!("{what} is empty")));
    }
    if id.len() > 1024 {
        return Err(Error::InvalidArgument(format!(
            "{what} is {} bytes long; ids are far shorter",
            id.len()
        )));
    }
    Ok(())
}

/// Rejects empty or oversized messages before any request is made.
pub(crate) fn check_message(settings: &Settings, message: &str) -> Result<(), Error> {
    if message.trim().is_empty() {
        return Err(Error::InvalidArgument("the message is empty".into()));
    }
    if message.len() > settings.max_message_bytes {
        return Err(Error::InvalidArgument(format!(
            "the message is {} bytes; the limit is {} (Settings::max_message_bytes)",
            message.len(),
            settings.max_message_bytes
        )));
    }
    Ok(())
}
