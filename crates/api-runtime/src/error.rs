//! The one error type of building a client and of the Pieces identifiers WebSocket.

/// Why a client could not be built, or why the identifiers WebSocket failed.
///
/// Keys and the userinfo of URLs never appear in these messages or in `Debug` output.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// A required environment variable is unset or empty.
    #[error("{var} is not set: export it (for example `export {var}=...`) or pass the value explicitly")]
    MissingEnv {
        /// The variable's name.
        var: &'static str,
    },
    /// An environment variable is set but is not valid UTF-8.
    #[error("{var} is set but is not valid UTF-8: export it again as plain text")]
    InvalidEnv {
        /// The variable's name.
        var: &'static str,
    },
    /// The base URL does not parse as an absolute http(s) URL.
    #[error("invalid base URL {url:?}: expected an absolute http:// or https:// URL")]
    InvalidBaseUrl {
        /// The rejected URL, with any userinfo replaced by `***`.
        url: String,
    },
    /// The base URL carries a user name or password (`http://user:pass@host`), which the HTTP
    /// client would send as `Authorization: Basic` on every request, replacing the service's own
    /// credentials.
    #[error(
        "the base URL {url:?} contains a user name or password: remove it, and pass the API key on its own"
    )]
    CredentialsInBaseUrl {
        /// The rejected URL, with its userinfo replaced by `***`.
        url: String,
    },
    /// The API key is empty (or only whitespace).
    #[error("the API key is empty")]
    EmptyApiKey,
    /// The API key contains characters that cannot be sent in an HTTP header.
    #[error(
        "the API key contains characters that are not allowed in an HTTP header (check for newlines or quotes)"
    )]
    InvalidApiKey,
    /// The HTTP client could not be built (for example, TLS is unavailable).
    #[error("could not build the HTTP client: {0}")]
    Http(#[from] reqwest::Error),
    /// No server answered the discovery probe.
    #[error("no {service} found: {probed} did not answer 200; start it, or set {env} to its URL")]
    NotFound {
        /// The service looked for.
        service: &'static str,
        /// What was probed, for example `HEAD /.well-known/health on 127.0.0.1:39300-39333`.
        probed: String,
        /// The environment variable that names the URL explicitly.
        env: &'static str,
    },
    /// The server refused the WebSocket upgrade (status and body when it answered).
    #[error("the identifiers WebSocket could not be opened: {0}")]
    Upgrade(String),
    /// The WebSocket failed after it was opened.
    #[error("the identifiers WebSocket failed: {0}")]
    WebSocket(#[from] tokio_tungstenite::tungstenite::Error),
    /// The WebSocket peer kept sending pings while reading none of our replies: the connection
    /// is treated as dead, so that the replies queued for it stay bounded.
    #[error(
        "the identifiers WebSocket is dead: the server sent {unanswered} pings while reading none of the replies"
    )]
    DeadConnection {
        /// Pings received while the replies could not be written.
        unanswered: usize,
    },
    /// A frame was not a `StreamedIdentifiers` object; `excerpt` is its start.
    #[error("undecodable identifiers frame ({source}); frame starts with {excerpt:?}")]
    Decode {
        /// Why it did not decode.
        source: serde_json::Error,
        /// At most 200 characters of the frame.
        excerpt: String,
    },
}
