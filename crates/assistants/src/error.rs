//! The one error type of the facade.
//!
//! Each variant says what happened; its message says what to do. Errors name environment
//! variables and [`Config`](crate::Config) setters, never command-line flags: a program built on
//! this crate maps them to its own words (see [`Error::MissingSetting`]).

use std::time::Duration;

/// Which service an error comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
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
#[non_exhaustive]
pub enum ErrorKind {
    /// The server could not be reached, the connection broke, or one attempt took too long.
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
    /// The server sent more than the configured limits allow.
    TooLarge,
    /// A wait ended without a result (its poll loop or stream stopped).
    WaitEnded,
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
    /// One attempt took longer than [`Settings::attempt_timeout`](crate::Settings); the
    /// request may have reached the server.
    #[error(
        "{service}: {operation} got no answer within {limit:?}; raise Settings::attempt_timeout or retry later"
    )]
    AttemptTimeout {
        /// The service.
        service: Service,
        /// The operation (its spec `operationId`).
        operation: &'static str,
        /// The per-attempt limit.
        limit: Duration,
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
        /// How long the operation really ran.
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
    /// One stream received more events than [`Settings::max_events`](crate::Settings) allows.
    #[error(
        "{service}: more than {limit} events in one stream; raise Settings::max_events if replies this long are expected"
    )]
    TooManyEvents {
        /// The service.
        service: Service,
        /// The limit.
        limit: usize,
    },
    /// Input rejected before any request was sent.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// A required setting is missing.
    #[error("{var} is not set: export it or call Config::{setter}")]
    MissingSetting {
        /// The environment variable that provides it.
        var: &'static str,
        /// The [`Config`](crate::Config) method that sets it.
        setter: &'static str,
    },
    /// Configuration is invalid (a malformed base URL, a key that cannot be sent, ...).
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
    /// A wait ended without a result: its poll loop stopped, or its stream ended before an
    /// outcome. Waiting again may succeed.
    #[error("{service}: the wait ended without a result ({reason}); wait again")]
    WaitEnded {
        /// The service.
        service: Service,
        /// What ended it.
        reason: &'static str,
    },
}

/// Longest excerpt of a body kept in an error.
pub const EXCERPT_CHARS: usize = 512;

impl Error {
    /// The broad class of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Transport { .. } | Self::AttemptTimeout { .. } => ErrorKind::Transport,
            Self::Api { .. } => ErrorKind::Api,
            Self::Decode { .. } => ErrorKind::Decode,
            Self::Deadline { .. } => ErrorKind::Deadline,
            Self::Cancelled => ErrorKind::Cancelled,
            Self::Unsupported { .. } => ErrorKind::Unsupported,
            Self::InvalidArgument(_) => ErrorKind::InvalidArgument,
            Self::MissingSetting { .. } | Self::Config(_) => ErrorKind::Config,
            Self::Failed { .. } => ErrorKind::Failed,
            Self::TooLarge { .. } | Self::TooManyEvents { .. } => ErrorKind::TooLarge,
            Self::WaitEnded { .. } => ErrorKind::WaitEnded,
        }
    }

    /// The HTTP status, when the server answered with one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api { status, .. } | Self::Unsupported { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Whether retrying an idempotent call may succeed: transport errors, attempt timeouts,
    /// 408, 429, 502, 503, 504.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Transport { .. } | Self::AttemptTimeout { .. } => true,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services_are_named_as_their_vendors_spell_them_in_every_message() {
        let names = [Service::FlowHunt, Service::Pieces, Service::FlowGen].map(|s| s.to_string());
        assert_eq!(names, ["FlowHunt", "Pieces", "FlowGen"]);
        let error = Error::TooLarge {
            service: Service::FlowGen,
            limit: 1024,
        };
        assert!(error.to_string().starts_with("FlowGen"), "{error}");
    }
}
