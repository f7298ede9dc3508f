//! From the generated clients' errors to [`Error`]: status, the server's own message, a bounded
//! excerpt of the body and `Retry-After`, reading at most a bounded amount of any error body.

use std::time::Duration;

use futures::StreamExt;

use crate::error::{EXCERPT_CHARS, Error, Service};

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

/// The `Retry-After` of a response, if it has a readable one.
fn retry_after_of(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_retry_after)
}

/// Reads at most `max` bytes of a response body; more is dropped unread.
pub(crate) async fn read_bounded(response: reqwest::Response, max: usize) -> String {
    read_prefix(response.bytes_stream(), max).await
}

/// The first `max` bytes of a body stream, as (lossy) text; the rest is never read.
async fn read_prefix<E>(
    mut stream: impl futures::Stream<Item = Result<bytes::Bytes, E>> + Unpin,
    max: usize,
) -> String {
    let mut body = Vec::new();
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

#[cfg(feature = "flowhunt")]
impl ErrorBody for flowhunt_api::types::HttpValidationError {
    async fn into_text(self, _max: usize) -> String {
        serde_json::to_string(&self).unwrap_or_default()
    }
}

#[cfg(feature = "flowgen")]
impl ErrorBody for flowgen_api::types::HttpValidationError {
    async fn into_text(self, _max: usize) -> String {
        serde_json::to_string(&self).unwrap_or_default()
    }
}

impl ErrorBody for progenitor_client::ByteStream {
    async fn into_text(self, max: usize) -> String {
        read_prefix(self.into_inner(), max).await
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
            let retry_after = retry_after_of(response.headers());
            let body = response.into_inner().into_text(max_body).await;
            api_error(service, status, &body, retry_after)
        }
        G::UnexpectedResponse(response) => {
            let status = response.status().as_u16();
            let retry_after = retry_after_of(response.headers());
            let body = read_bounded(response, max_body).await;
            if (200..300).contains(&status) {
                return Error::Decode {
                    service,
                    message: format!("unexpected success status {status}"),
                    excerpt: excerpt(&body),
                };
            }
            api_error(service, status, &body, retry_after)
        }
        G::Custom(message) => Error::Failed { service, message },
    }
}

/// An error status with the server's own message and a bounded excerpt of its body.
fn api_error(service: Service, status: u16, body: &str, retry_after: Option<Duration>) -> Error {
    Error::Api {
        service,
        status,
        message: server_message(body),
        body: excerpt(body),
        retry_after,
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

    /// A FastAPI 422 body, as the generated clients decode it.
    const UNPROCESSABLE: &str =
        r#"{"detail":[{"type":"missing","loc":["body","message"],"msg":"Field required"}]}"#;

    fn declared<T>(inner: T, status: u16) -> progenitor_client::Error<T> {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            reqwest::header::RETRY_AFTER,
            reqwest::header::HeaderValue::from_static("3"),
        );
        let status = reqwest::StatusCode::from_u16(status).unwrap();
        progenitor_client::Error::ErrorResponse(progenitor_client::ResponseValue::new(inner, status, headers))
    }

    fn api_parts(error: Error) -> (u16, String, String, Option<Duration>) {
        match error {
            Error::Api {
                status,
                message,
                body,
                retry_after,
                ..
            } => (status, message, body, retry_after),
            other => panic!("not an Api error: {other:?}"),
        }
    }

    #[cfg(any(feature = "flowhunt", feature = "flowgen"))]
    /// A declared 422 of `service` (its generated `HttpValidationError`) keeps the field
    /// messages, the body and the `Retry-After`.
    async fn assert_declared_422_kept<B: ErrorBody + serde::de::DeserializeOwned>(service: Service) {
        let body: B = serde_json::from_str(UNPROCESSABLE).unwrap();
        let error = from_generated(service, declared(body, 422), 1024).await;
        let (status, message, body, retry_after) = api_parts(error);
        assert_eq!((status, message.as_str()), (422, "body.message: Field required"));
        assert!(body.contains("Field required"), "{body}");
        assert_eq!(retry_after, Some(Duration::from_secs(3)));
    }

    #[cfg(feature = "flowhunt")]
    #[tokio::test]
    async fn a_declared_flowhunt_422_keeps_the_servers_field_messages() {
        assert_declared_422_kept::<flowhunt_api::types::HttpValidationError>(Service::FlowHunt).await;
    }

    #[cfg(feature = "flowgen")]
    #[tokio::test]
    async fn a_declared_flowgen_422_keeps_the_servers_field_messages() {
        assert_declared_422_kept::<flowgen_api::types::HttpValidationError>(Service::FlowGen).await;
    }

    #[tokio::test]
    async fn a_declared_error_without_a_body_invents_no_text() {
        let error = from_generated(Service::Pieces, declared((), 404), 1024).await;
        let (status, message, body, _) = api_parts(error);
        assert_eq!((status, message.as_str(), body.as_str()), (404, "", ""));
    }

    #[tokio::test]
    async fn an_undecodable_body_of_multibyte_text_gets_a_full_length_excerpt() {
        // Two bytes per character: the excerpt's byte window must hold more than EXCERPT_CHARS
        // characters, so the excerpt is cut there (with its ellipsis) and not earlier.
        let bytes = bytes::Bytes::from("é".repeat(4 * EXCERPT_CHARS));
        let source = serde_json::from_slice::<serde_json::Value>(&bytes).unwrap_err();
        let error = progenitor_client::Error::<()>::InvalidResponsePayload(bytes, source);
        match from_generated(Service::Pieces, error, 1024).await {
            Error::Decode { excerpt, .. } => {
                assert_eq!(excerpt.chars().count(), EXCERPT_CHARS + 1, "{excerpt}");
                assert!(excerpt.ends_with('…'));
            }
            other => panic!("not a Decode error: {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_body_in_several_chunks_is_read_whole_up_to_the_bound() {
        let chunks = || {
            futures::stream::iter(["ab", "cd", "ef"].map(|c| Ok::<_, std::io::Error>(bytes::Bytes::from(c))))
        };
        assert_eq!(read_prefix(chunks(), 100).await, "abcdef");
        assert_eq!(read_prefix(chunks(), 3).await, "abc");
    }
}
