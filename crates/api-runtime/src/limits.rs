//! [`Limits`] on what a server may send, enforced while a body streams in.

use http_body_util::{LengthLimitError, Limited};
use reqwest::ResponseBuilderExt;

/// Limits a client enforces on every response it reads: `Limits::default()` and the `with_*`
/// setters (more limits may come; a struct literal would not survive them).
///
/// ```
/// let limits = assistants_api_runtime::Limits::default().with_max_body_bytes(1024 * 1024);
/// assert_eq!(limits.max_body_bytes, 1024 * 1024);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// The largest response body read, in bytes. The default, 16 MiB, is well above the
    /// largest real payload (a Pieces snapshot of 1,000 conversations is about 1 MiB).
    pub max_body_bytes: usize,
}

impl Limits {
    /// These limits with at most `bytes` read of any one response body.
    #[must_use]
    pub const fn with_max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body_bytes = bytes;
        self
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 16 * 1024 * 1024,
        }
    }
}

/// Sends `request` and returns the response with its body capped at
/// [`Limits::max_body_bytes`]; reading past the cap fails (see [`is_too_large`]).
///
/// A body whose exact length is known and within the cap is returned as it came: it cannot
/// grow past that length. Any other body is read through a streaming limit.
///
/// A `101 Switching Protocols` response is returned untouched: its connection is upgraded
/// (the Pieces identifiers WebSocket), and WebSocket frames have limits of their own.
///
/// # Errors
/// The transport error of the request, as `reqwest::Client::execute` returns it.
pub async fn execute(
    client: &reqwest::Client,
    request: reqwest::Request,
    limits: &Limits,
) -> reqwest::Result<reqwest::Response> {
    let response = client.execute(request).await?;
    if response.status() == reqwest::StatusCode::SWITCHING_PROTOCOLS {
        return Ok(response);
    }
    // The exact length comes from the body itself, not from a header we trust: hyper yields at
    // most `Content-Length` bytes (HTTP/1 stops there, h2 fails a stream that sends more), and
    // a decompressing body has no exact length. Such a body within the cap cannot pass it, so
    // it is read as is: the streaming collector and the conversions below cost about ten
    // allocations a call (issue 16's profile: malloc/free and URL handling lead it).
    if response
        .content_length()
        .is_some_and(|len| len <= u64::try_from(limits.max_body_bytes).unwrap_or(u64::MAX))
    {
        return Ok(response);
    }
    let url = response.url().clone();
    let (mut parts, body) = http::Response::<reqwest::Body>::from(response).into_parts();
    // The conversion drops the response's URL; carry it over in reqwest's own extension.
    if let Ok(carrier) = http::Response::builder().url(url).body(()) {
        parts.extensions.extend(carrier.into_parts().0.extensions);
    }
    let limited = reqwest::Body::wrap(Limited::new(body, limits.max_body_bytes));
    Ok(http::Response::from_parts(parts, limited).into())
}

/// For a generated `Client` whose inner type is [`Limits`] (progenitor's `with_inner_type`):
/// `Client::with_limits`, and the `exec` hook that sends every request through [`execute`], so
/// every response body, success or error, is read through the client's limits.
///
/// Invoke it in the crate that holds the generated code (the hook must live beside the type):
/// `assistants_api_runtime::limited_client!(Client);`
#[macro_export]
macro_rules! limited_client {
    ($client:ty) => {
        impl $client {
            /// This client with other limits (by default a response body may be at most 16 MiB).
            pub fn with_limits(mut self, limits: $crate::Limits) -> Self {
                self.inner = limits;
                self
            }
        }

        impl $crate::__private::ClientHooks<$crate::Limits> for $client {
            async fn exec(
                &self,
                request: $crate::__private::reqwest::Request,
                _info: &$crate::__private::OperationInfo,
            ) -> $crate::__private::reqwest::Result<$crate::__private::reqwest::Response> {
                $crate::execute(&self.client, request, &self.inner).await
            }
        }
    };
}

/// Whether `error` is a body read that stopped at [`Limits::max_body_bytes`].
pub fn is_too_large(error: &reqwest::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = source {
        if current.is::<LengthLimitError>() {
            return true;
        }
        source = current.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn fetch(len: usize, limit: usize) -> (reqwest::StatusCode, reqwest::Result<bytes::Bytes>) {
        let server = httpmock::MockServer::start_async().await;
        server
            .mock_async(|when, then| {
                when.path("/x");
                then.status(200).header("x-kept", "yes").body(vec![b'a'; len]);
            })
            .await;
        let http = reqwest::Client::new();
        let request = http.get(server.url("/x")).build().unwrap();
        let response = execute(
            &http,
            request,
            &Limits {
                max_body_bytes: limit,
            },
        )
        .await
        .unwrap();
        assert_eq!(response.headers()["x-kept"], "yes", "headers survive");
        assert!(response.url().path().ends_with("/x"), "the url survives");
        (response.status(), response.bytes().await)
    }

    #[tokio::test]
    async fn bodies_up_to_the_limit_pass_and_larger_ones_fail_as_too_large() {
        let (status, body) = fetch(1000, 1000).await;
        assert_eq!(status, 200);
        assert_eq!(body.unwrap().len(), 1000);
        let (_, body) = fetch(1001, 1000).await;
        let error = body.unwrap_err();
        assert!(is_too_large(&error), "{error:?}");
        let (_, body) = fetch(8 * 1024 * 1024, 64 * 1024).await;
        assert!(is_too_large(&body.unwrap_err()));
    }

    /// Serves one raw HTTP/1.1 response (head and body as given) on a loopback port.
    async fn raw_server(response: Vec<u8>) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/x", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut request = [0u8; 1024];
            let _ = socket.read(&mut request).await;
            let _ = socket.write_all(&response).await;
            let _ = socket.shutdown().await;
        });
        url
    }

    async fn fetch_raw(response: Vec<u8>, limit: usize) -> reqwest::Result<bytes::Bytes> {
        let url = raw_server(response).await;
        let http = reqwest::Client::new();
        let request = http.get(url).build().unwrap();
        let limits = Limits {
            max_body_bytes: limit,
        };
        execute(&http, request, &limits).await.unwrap().bytes().await
    }

    #[tokio::test]
    async fn a_body_longer_than_its_content_length_is_cut_at_the_length() {
        // The fast path trusts the body's exact length: the bytes past it never reach us.
        let mut response = b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\nconnection: close\r\n\r\n".to_vec();
        response.extend(vec![b'a'; 100_000]);
        let body = fetch_raw(response, 1000).await.unwrap();
        assert_eq!(body.len(), 10);
    }

    #[tokio::test]
    async fn a_chunked_body_past_the_limit_fails_as_too_large() {
        let mut response =
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n".to_vec();
        for _ in 0..4 {
            response.extend(b"400\r\n");
            response.extend(vec![b'a'; 0x400]);
            response.extend(b"\r\n");
        }
        response.extend(b"0\r\n\r\n");
        let error = fetch_raw(response.clone(), 4095).await.unwrap_err();
        assert!(is_too_large(&error), "{error:?}");
        assert_eq!(fetch_raw(response, 4096).await.unwrap().len(), 4096);
    }

    #[tokio::test]
    async fn other_failures_are_not_too_large() {
        let http = reqwest::Client::new();
        let request = http.get("http://127.0.0.1:9/").build().unwrap();
        let error = execute(&http, request, &Limits::default()).await.unwrap_err();
        assert!(!is_too_large(&error));
    }
}
