//! Configuration: endpoints, keys and policies, from the environment or set in code.

use std::time::Duration;

use secrecy::SecretString;

use crate::error::Error;
use crate::poll::PollPolicy;
use crate::retry::RetryPolicy;

/// Endpoints, credentials and policies of a [`Client`](crate::Client).
///
/// Keys are [`SecretString`]s: they never appear in `Debug` output. Build one with
/// [`Config::from_env`] or [`Config::default`] and the `with_*` setters:
///
/// ```
/// let config = assistants::Config::default()
///     .with_base_url("http://127.0.0.1:8787")
///     .with_settings(assistants::Settings::default().with_operation_timeout(None));
/// # let _ = config;
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Config {
    /// FlowHunt's base URL.
    #[cfg(feature = "flowhunt")]
    pub flowhunt_base_url: String,
    /// FlowHunt's API key (bearer token).
    #[cfg(feature = "flowhunt")]
    pub flowhunt_api_key: Option<SecretString>,
    /// The FlowHunt workspace sessions are created in.
    #[cfg(feature = "flowhunt")]
    pub flowhunt_workspace_id: Option<String>,
    /// PiecesOS' base URL; `None`: find a running PiecesOS on its local ports.
    #[cfg(feature = "pieces")]
    pub pieces_base_url: Option<String>,
    /// FlowGen's base URL.
    #[cfg(feature = "flowgen")]
    pub flowgen_base_url: String,
    /// FlowGen's API key (`X-API-KEY`).
    #[cfg(feature = "flowgen")]
    pub flowgen_api_key: Option<SecretString>,
    /// Settings shared by every call.
    pub settings: Settings,
    /// Environment variables that were set but unusable (not UTF-8), reported when the service
    /// that needs them is used.
    unreadable: Vec<&'static str>,
}

/// Policies and limits shared by every call of a client.
///
/// ```
/// use std::time::Duration;
/// let settings = assistants::Settings::default()
///     .with_operation_timeout(Some(Duration::from_secs(30)))
///     .with_attempt_timeout(Some(Duration::from_secs(10)))
///     .with_retry(assistants::RetryPolicy::standard().with_max_attempts(5));
/// # let _ = settings;
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Settings {
    /// How failed calls are retried (and the seed of every jitter).
    pub retry: RetryPolicy,
    /// How often waits poll.
    pub poll: PollPolicy,
    /// The deadline of one public operation as a whole (every call, poll and question of an
    /// `ask` or `send_and_wait` included); `None`: none.
    pub operation_timeout: Option<Duration>,
    /// The longest one attempt (one HTTP exchange) may take before it is abandoned and, where
    /// the operation allows, retried; `None`: only the operation timeout applies.
    pub attempt_timeout: Option<Duration>,
    /// Largest response body read: a larger answer fails with [`Error::TooLarge`] after at
    /// most this much was buffered; a larger error body is cut. Default 16 MiB.
    pub max_body_bytes: usize,
    /// Largest message accepted before sending.
    pub max_message_bytes: usize,
    /// Most events one FlowHunt stream (and the poll loop it shares) holds: past it the stream
    /// ends with [`Error::TooManyEvents`]. Default 100,000, far above real replies.
    pub max_events: usize,
    /// Most status polls of one handle's poll loops (one per FlowGen chat or FlowHunt session
    /// waited on) in flight at once; the others wait their turn. It bounds the connections
    /// (and their buffers) many waits open when their loops poll together. Default 128, at
    /// least 1.
    pub max_polls_in_flight: usize,
}

impl Default for Settings {
    /// Standard retries, the default polling, a 10-minute operation deadline (FlowGen runs take
    /// minutes), no separate attempt timeout (FlowGen's open-source send blocks for the whole
    /// run), 16 MiB bodies, 256 KiB messages, 100,000 events per stream, 128 polls in flight.
    fn default() -> Self {
        Self {
            retry: RetryPolicy::standard(),
            poll: PollPolicy::default(),
            operation_timeout: Some(Duration::from_secs(600)),
            attempt_timeout: None,
            max_body_bytes: assistants_api_runtime::Limits::default().max_body_bytes,
            max_message_bytes: 256 * 1024,
            max_events: 100_000,
            max_polls_in_flight: 128,
        }
    }
}

impl Settings {
    /// Sets the retry policy.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Sets the polling policy.
    pub fn with_poll(mut self, poll: PollPolicy) -> Self {
        self.poll = poll;
        self
    }

    /// Sets the deadline of each operation as a whole (`None`: none).
    pub fn with_operation_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.operation_timeout = timeout;
        self
    }

    /// Sets the limit of one attempt (`None`: none).
    pub fn with_attempt_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.attempt_timeout = timeout;
        self
    }

    /// Sets the largest response body read.
    pub fn with_max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body_bytes = bytes;
        self
    }

    /// Sets the largest message accepted.
    pub fn with_max_message_bytes(mut self, bytes: usize) -> Self {
        self.max_message_bytes = bytes;
        self
    }

    /// Sets the most events one stream holds.
    pub fn with_max_events(mut self, events: usize) -> Self {
        self.max_events = events;
        self
    }

    /// Sets the most status polls in flight at once per handle (0 counts as 1).
    pub fn with_max_polls_in_flight(mut self, polls: usize) -> Self {
        self.max_polls_in_flight = polls;
        self
    }

    /// The limits every generated client of a facade handle enforces.
    pub(crate) fn limits(&self) -> assistants_api_runtime::Limits {
        assistants_api_runtime::Limits::default().with_max_body_bytes(self.max_body_bytes)
    }
}

impl Default for Config {
    /// The services' documented base URLs (Pieces: found on its local ports), no keys,
    /// default settings.
    fn default() -> Self {
        Self {
            #[cfg(feature = "flowhunt")]
            flowhunt_base_url: flowhunt_api::DEFAULT_BASE_URL.into(),
            #[cfg(feature = "flowhunt")]
            flowhunt_api_key: None,
            #[cfg(feature = "flowhunt")]
            flowhunt_workspace_id: None,
            #[cfg(feature = "pieces")]
            pieces_base_url: None,
            #[cfg(feature = "flowgen")]
            flowgen_base_url: flowgen_api::DEFAULT_BASE_URL.into(),
            #[cfg(feature = "flowgen")]
            flowgen_api_key: None,
            settings: Settings::default(),
            unreadable: Vec::new(),
        }
    }
}

impl Config {
    /// Reads the services' variables (`FLOWHUNT_API_KEY`, `FLOWHUNT_WORKSPACE_ID`,
    /// `FLOWGEN_API_KEY` and the `FLOWHUNT_BASE_URL`, `PIECES_BASE_URL`, `FLOWGEN_BASE_URL`
    /// overrides; the names are the `*_ENV` constants of the generated crates). Values are
    /// trimmed; empty ones count as unset. Missing or unreadable keys are reported when a
    /// service that needs them is used, not here.
    pub fn from_env() -> Self {
        let mut config = Self::default();
        let mut read = |var: &'static str| match std::env::var(var) {
            Ok(value) => Some(value.trim().to_string()).filter(|v| !v.is_empty()),
            Err(std::env::VarError::NotPresent) => None,
            Err(std::env::VarError::NotUnicode(_)) => {
                config.unreadable.push(var);
                None
            }
        };
        #[cfg(feature = "flowhunt")]
        let flowhunt = (
            read(flowhunt_api::BASE_URL_ENV),
            read(flowhunt_api::API_KEY_ENV),
            read(flowhunt_api::WORKSPACE_ID_ENV),
        );
        #[cfg(feature = "pieces")]
        let pieces = read(pieces_api::BASE_URL_ENV);
        #[cfg(feature = "flowgen")]
        let flowgen = (read(flowgen_api::BASE_URL_ENV), read(flowgen_api::API_KEY_ENV));
        #[cfg(feature = "flowhunt")]
        {
            let (base, key, workspace) = flowhunt;
            if let Some(base) = base {
                config.flowhunt_base_url = base;
            }
            config.flowhunt_api_key = key.map(SecretString::from);
            config.flowhunt_workspace_id = workspace;
        }
        #[cfg(feature = "pieces")]
        {
            config.pieces_base_url = pieces;
        }
        #[cfg(feature = "flowgen")]
        {
            let (base, key) = flowgen;
            if let Some(base) = base {
                config.flowgen_base_url = base;
            }
            config.flowgen_api_key = key.map(SecretString::from);
        }
        config
    }

    /// Points all three services at one base URL (the sandbox serves them on one address).
    pub fn with_base_url(mut self, base_url: &str) -> Self {
        let _ = base_url;
        #[cfg(feature = "flowhunt")]
        {
            self.flowhunt_base_url = base_url.into();
        }
        #[cfg(feature = "pieces")]
        {
            self.pieces_base_url = Some(base_url.into());
        }
        #[cfg(feature = "flowgen")]
        {
            self.flowgen_base_url = base_url.into();
        }
        self
    }

    /// Sets FlowHunt's key (trimmed) and workspace.
    #[cfg(feature = "flowhunt")]
    pub fn with_flowhunt(mut self, api_key: impl Into<String>, workspace_id: impl Into<String>) -> Self {
        self.flowhunt_api_key = Some(secret(api_key.into()));
        self.flowhunt_workspace_id = Some(workspace_id.into());
        self
    }

    /// Sets FlowHunt's key (trimmed).
    #[cfg(feature = "flowhunt")]
    pub fn with_flowhunt_key(mut self, api_key: impl Into<String>) -> Self {
        self.flowhunt_api_key = Some(secret(api_key.into()));
        self
    }

    /// Sets the FlowHunt workspace sessions are created in.
    #[cfg(feature = "flowhunt")]
    pub fn with_flowhunt_workspace(mut self, workspace_id: impl Into<String>) -> Self {
        self.flowhunt_workspace_id = Some(workspace_id.into());
        self
    }

    /// Sets PiecesOS' base URL (otherwise a running PiecesOS is looked for on its ports).
    #[cfg(feature = "pieces")]
    pub fn with_pieces_base_url(mut self, base_url: impl Into<String>) -> Self {
        self.pieces_base_url = Some(base_url.into());
        self
    }

    /// Sets FlowGen's key (trimmed).
    #[cfg(feature = "flowgen")]
    pub fn with_flowgen_key(mut self, api_key: impl Into<String>) -> Self {
        self.flowgen_api_key = Some(secret(api_key.into()));
        self
    }

    /// Sets the shared settings.
    pub fn with_settings(mut self, settings: Settings) -> Self {
        self.settings = settings;
        self
    }

    /// Sets the deadline of each operation as a whole.
    pub fn with_operation_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.settings.operation_timeout = timeout;
        self
    }

    /// The error for a key that is missing or was set but unreadable.
    #[cfg_attr(not(any(feature = "flowhunt", feature = "flowgen")), allow(dead_code))]
    pub(crate) fn missing(&self, var: &'static str, setter: &'static str) -> Error {
        if self.unreadable.contains(&var) {
            Error::Config(format!(
                "{var} is set but is not valid UTF-8: export it again as plain text, or call Config::{setter}"
            ))
        } else {
            Error::MissingSetting { var, setter }
        }
    }
}

#[cfg_attr(not(any(feature = "flowhunt", feature = "flowgen")), allow(dead_code))]
fn secret(key: String) -> SecretString {
    SecretString::from(key.trim().to_string())
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    #[test]
    fn each_setter_sets_its_own_setting() {
        let settings = Settings::default()
            .with_operation_timeout(Some(Duration::from_secs(7)))
            .with_attempt_timeout(Some(Duration::from_secs(3)))
            .with_max_message_bytes(99);
        assert_eq!(settings.operation_timeout, Some(Duration::from_secs(7)));
        assert_eq!(settings.attempt_timeout, Some(Duration::from_secs(3)));
        assert_eq!(settings.max_message_bytes, 99);
        let config = Config::default().with_operation_timeout(Some(Duration::from_secs(5)));
        assert_eq!(config.settings.operation_timeout, Some(Duration::from_secs(5)));
    }

    #[cfg(all(feature = "flowhunt", feature = "pieces"))]
    #[test]
    fn service_setters_set_their_service() {
        let config = Config::default()
            .with_flowhunt_key(" fh-key ")
            .with_flowhunt_workspace("ws-9")
            .with_pieces_base_url("http://127.0.0.1:39300");
        let key = config
            .flowhunt_api_key
            .as_ref()
            .map(|k| k.expose_secret().to_string());
        assert_eq!(key.as_deref(), Some("fh-key"), "trimmed");
        assert_eq!(config.flowhunt_workspace_id.as_deref(), Some("ws-9"));
        assert_eq!(config.pieces_base_url.as_deref(), Some("http://127.0.0.1:39300"));
    }

    /// Marks the child process of the test below.
    const CHILD: &str = "ASSISTANTS_CONFIG_FROM_ENV_CHILD";

    /// The half of the next test that runs in a child process with the variables set (the
    /// environment is the process's, so it is set there rather than changed under other tests);
    /// on its own, without `CHILD`, it has nothing to check.
    #[cfg(all(feature = "flowhunt", feature = "flowgen"))]
    #[test]
    fn from_env_in_a_child_process() {
        if std::env::var_os(CHILD).is_none() {
            return;
        }
        let config = Config::from_env();
        assert_eq!(config.flowhunt_workspace_id.as_deref(), Some("ws-1"), "trimmed");
        let key = config
            .flowgen_api_key
            .as_ref()
            .map(|k| k.expose_secret().to_string());
        assert_eq!(key.as_deref(), Some("k2"));
        assert!(config.flowhunt_api_key.is_none(), "a blank value counts as unset");
    }

    #[cfg(all(feature = "flowhunt", feature = "flowgen"))]
    #[test]
    fn variables_are_read_trimmed_and_blank_ones_count_as_unset() {
        let exe = std::env::current_exe().unwrap();
        let status = std::process::Command::new(exe)
            .args(["--exact", "config::tests::from_env_in_a_child_process", "--quiet"])
            .env(CHILD, "1")
            .env(flowhunt_api::WORKSPACE_ID_ENV, " ws-1 ")
            .env(flowgen_api::API_KEY_ENV, "k2")
            .env(flowhunt_api::API_KEY_ENV, "   ")
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "the child's checks failed: {status}");
    }
}
