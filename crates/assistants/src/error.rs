//! The one error type of the facade, and the conversion from the generated clients' errors.

use std::time::Duration;

use futures::StreamExt;

/// Which service an error comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Service {
    /// FlowHunt Flow Assistant V3.
    FlowHunt,
    /// Pieces OS Conversations.
    Pieces,
    /// FlowGen Chats.
    FlowGen,
}

impl std::fmt::Display for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::FlowHunt => "FlowHunt",
            Self::Pieces => "Pieces",
            Self::FlowGen => "FlowGen",
        })
    }
}

/// Broad classes of [`Error`], for matching without caring about details.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The server could not be reached or the connection broke.
    Transport,
    /// The server answered with an error status.
    Api,
    /// The server's answer could not be decoded.
    Decode,
    /// The overall deadline passed.
    Deadline,
    /// The caller cancelled.
    Cancelled,
    /// The server does not offer the endpoint.
    Unsupported,
    /// The input was rejected before any request.
    InvalidArgument,
    /// The configuration is incomplete or invalid.
    Config,
    /// The service reported a failure in a successful response.
    Failed,
    /// The answer was larger than the configured maximum.
    TooLarge,
}

/// Everything that can go wrong, with what to do about it in each message.
///
/// `Clone`, so that every waiter sharing one poll loop receives the same typed error.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server could not be reached, or the connection broke mid-response.
    #[error("{service}: the connection failed ({source}); check the base URL and the network, or retry")]
    Transport {
        /// The service.
        service: Service,
        /// Whether the request provably never left (a connect error): safe to re-send.
        not_sent: bool,
        /// The underlying error (shared: see [`Error`]'s `Clone`).
        #[source]
        source: std::sync::Arc<reqwest::Error>,
    },
    /// The server answered with an error status; `message` is its own explanation.
    #[error("{service} answered HTTP {status}: {message}")]
    Api {
        /// The service.
        service: Service,
        /// The HTTP status.
        status: u16,
        /// The server's message (FastAPI `detail`, Pieces' text, ...).
        message: String,
        /// The start of the body, at most [`EXCERPT_CHARS`] characters.
        body: String,
        /// The server's `Retry-After`, if it sent one.
        retry_after: Option<Duration>,
    },
    /// The answer did not match the spec.
    #[error("{service}: could not decode the answer ({message}); the body starts with {excerpt:?}")]
    Decode {
        /// The service.
        service: Service,
        /// What did not match.
        message: String,
        /// The start of the body, at most [`EXCERPT_CHARS`] characters.
        excerpt: String,
    },
    /// The overall deadline passed; the request in flight was cancelled.
    #[error("the deadline of {limit:?} passed after {elapsed:?}; raise the timeout or try again later")]
    Deadline {
        /// The limit that was set.
        limit: Duration,
        /// How long the operation ran.
        elapsed: Duration,
    },
    /// The caller cancelled the operation.
    #[error("cancelled")]
    Cancelled,
    /// The server does not offer this endpoint (404/405), e.g. FlowGen's history on the
    /// open-source server. The resource itself may well exist.
    #[error("{service} does not support {operation} on this server (HTTP {status})")]
    Unsupported {
        /// The service.
        service: Service,
        /// The operation.
        operation: &'static str,
        /// The status the server answered.
        status: u16,
    },
    /// The answer was larger than [`Settings::max_body_bytes`](crate::Settings); at most that
    /// much of it was read.
    #[error(
        "{service}: the answer is larger than {limit} bytes; raise Settings::max_body_bytes if answers this large are expected"
    )]
    TooLarge {
        /// The service.
        service: Service,
        /// The limit, in bytes.
        limit: usize,
    },
    /// Input rejected before any request was sent.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// Configuration is missing or invalid.
    #[error("configuration: {0}")]
    Config(String),
    /// The service reported a failure inside a successful response (FlowGen's `{"error": ...}`).
    #[error("{service}: {message}")]
    Failed {
        /// The service.
        service: Service,
        /// The service's message.
        message: String,
    },
}

/// Longest excerpt of a body kept in an error.
pub const EXCERPT_CHARS: usize = 512;

impl Error {
    /// The broad class of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Transport { .. } => ErrorKind::Transport,
            Self::Api { .. } => ErrorKind::Api,
            Self::Decode { .. } => ErrorKind::Decode,
            Self::Deadline { .. } => ErrorKind::Deadline,
            Self::Cancelled => ErrorKind::Cancelled,
            Self::Unsupported { .. } => ErrorKind::Unsupported,
            Self::InvalidArgument(_) => ErrorKind::InvalidArgument,
            Self::Config(_) => ErrorKind::Config,
            Self::Failed { .. } => ErrorKind::Failed,
            Self::TooLarge { .. } => ErrorKind::TooLarge,
        }
    }

    /// The HTTP status, when the server answered with one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api { status, .. } | Self::Unsupported { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Whether retrying a *safe* call may succeed: transport errors, 408, 429, 502, 503, 504.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Transport { .. } => true,
            Self::Api { status, .. } => matches!(status, 408 | 429 | 502 | 503 | 504),
            _ => false,
        }
    }

    /// Whether the request provably never reached the server, so even a non-idempotent call
    /// may be sent again.
    pub fn request_not_sent(&self) -> bool {
        matches!(self, Self::Transport { not_sent: true, .. })
    }

    /// The server's `Retry-After`, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Api { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// Cuts `text` to at most [`EXCERPT_CHARS`] characters, on a character boundary.
pub(crate) fn excerpt(text: &str) -> String {
    match text.char_indices().nth(EXCERPT_CHARS) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}

/// The human message of an error body: FastAPI's `detail` (text or list), `error`, or the text.
pub(crate) fn server_message(body: &str) -> String {
    let Ok(json) = serde_json::from_str::<serde_json::Value>(body) else {
        return excerpt(body.trim());
    };
    match (&json["detail"], &json["error"]) {
        (serde_json::Value::String(text), _) | (_, serde_json::Value::String(text)) => excerpt(text),
        (serde_json::Value::Array(items), _) => excerpt(
            &items
                .iter()
                .map(|item| {
                    let loc: Vec<String> = item["loc"]
                        .as_array()
                        .map(|l| {
                            l.iter()
                                .map(|s| s.as_str().map(String::from).unwrap_or_else(|| s.to_string()))
                                .collect()
                        })
                        .unwrap_or_default();
                    format!("{}: {}", loc.join("."), item["msg"].as_str().unwrap_or("invalid"))
                })
                .collect::<Vec<_>>()
                .join("; "),
        ),
        _ => excerpt(body.trim()),
    }
}

/// Parses `Retry-After`: delay-seconds or an HTTP-date (a date in the past means now).
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let wait = date.with_timezone(&chrono::Utc) - chrono::Utc::now();
    Some(wait.to_std().unwrap_or(Duration::ZERO))
}

/// Reads at most `max` bytes of a response body; more is dropped unread.
pub(crate) async fn read_bounded(response: reqwest::Response, max: usize) -> String {
    let mut body = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(Ok(chunk)) = stream.next().await {
        let room = max.saturating_sub(body.len());
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() >= max {
            break;
        }
    }
    String::from_utf8_lossy(&body).into_owned()
}

/// A documented error body of a generated operation, turned into text.
pub(crate) trait ErrorBody {
    /// The body as text (JSON for typed bodies).
    fn into_text(self, max: usize) -> impl Future<Output = String> + Send;
}

impl ErrorBody for flowhunt_api::types::HttpValidationError {
    async fn into_text(self, _max: usize) -> String {
        serde_json::to_string(&self).unwrap_or_default()
    }
}

impl ErrorBody for flowgen_api::types::HttpValidationError {
    async fn into_text(self, _max: usize) -> String {
        serde_json::to_string(&self).unwrap_or_default()
    }
}

impl ErrorBody for progenitor_client::ByteStream {
    async fn into_text(self, max: usize) -> String {
        let mut body = Vec::new();
        let mut stream = self.into_inner();
        while let Some(Ok(chunk)) = stream.next().await {
            let room = max.saturating_sub(body.len());
            body.extend_from_slice(&chunk[..chunk.len().min(room)]);
            if body.len() >= max {
                break;
            }
        }
        String::from_utf8_lossy(&body).into_owned()
    }
}

impl ErrorBody for () {
    async fn into_text(self, _max: usize) -> String {
        String::new()
    }
}

/// Converts a generated client's error, reading at most `max_body` bytes of an error body.
pub(crate) async fn from_generated<E: ErrorBody>(
    service: Service,
    error: progenitor_client::Error<E>,
    max_body: usize,
) -> Error {
    use progenitor_client::Error as G;
    match error {
        G::InvalidRequest(message) => Error::InvalidArgument(message),
        G::CommunicationError(source) | G::InvalidUpgrade(source) => Error::Transport {
            service,
            not_sent: source.is_connect(),
            source: source.into(),
        },
        G::ResponseBodyError(source) if assistants_api_runtime::is_too_large(&source) => Error::TooLarge {
            service,
            limit: max_body,
        },
        G::ResponseBodyError(source) => Error::Transport {
            service,
            not_sent: false,
            source: source.into(),
        },
        G::InvalidResponsePayload(bytes, source) => Error::Decode {
            service,
            message: source.to_string(),
            excerpt: excerpt(&String::from_utf8_lossy(
                &bytes[..bytes.len().min(4 * EXCERPT_CHARS)],
            )),
        },
        G::ErrorResponse(response) => {
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(parse_retry_after);
            let body = response.into_inner().into_text(max_body).await;
            Error::Api {
                service,
                status,
                message: server_message(&body),
                body: excerpt(&body),
                retry_after,
            }
        }
        G::UnexpectedResponse(response) => {
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(parse_retry_after);
            let body = read_bounded(response, max_body).await;
            if (200..300).contains(&status) {
                return Error::Decode {
                    service,
                    message: format!("unexpected success status {status}"),
                    excerpt: excerpt(&body),
                };
            }
            Error::Api {
                service,
                status,
                message: server_message(&body),
                body: excerpt(&body),
                retry_after,
            }
        }
        G::Custom(message) => Error::Failed { service, message },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_messages_come_from_fastapi_detail_in_both_forms() {
        assert_eq!(
            server_message(r#"{"detail":"Not authenticated"}"#),
            "Not authenticated"
        );
        assert_eq!(
            server_message(
                r#"{"detail":[{"type":"missing","loc":["body","message"],"msg":"Field required"}]}"#
            ),
            "body.message: Field required"
        );
        assert_eq!(
            server_message(r#"{"error":"No assistant found"}"#),
            "No assistant found"
        );
        assert_eq!(server_message("Internal Server Error\n"), "Internal Server Error");
        assert_eq!(
            server_message("<html><body>502 Bad Gateway</body></html>"),
            "<html><body>502 Bad Gateway</body></html>"
        );
    }

    #[test]
    fn excerpts_are_bounded_and_utf8_safe() {
        let long = "é".repeat(10_000);
        let cut = excerpt(&long);
        assert_eq!(cut.chars().count(), EXCERPT_CHARS + 1);
    }

    #[test]
    fn retry_after_accepts_seconds_and_http_dates() {
        assert_eq!(parse_retry_after("7"), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(Duration::ZERO),
            "past dates mean now"
        );
        let future = (chrono::Utc::now() + chrono::Duration::seconds(120))
            .format("%a, %d %b %Y %H:%M:%S GMT")
            .to_string();
        let wait = parse_retry_after(&future).unwrap();
        assert!(
            wait > Duration::from_secs(100) && wait <= Duration::from_secs(120),
            "{wait:?}"
        );
        assert_eq!(parse_retry_after("soon"), None);
    }
}
