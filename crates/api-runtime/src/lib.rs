//! What the generated `flowhunt-api`, `pieces-api` and `flowgen-api` clients share at runtime.
//!
//! - [`Service`]: a service's constants and the constructors every client shares: the base-URL
//!   check (absolute http(s), no userinfo), the key header (trimmed, marked sensitive), the
//!   environment variables, and an HTTP client that never leaks the key ([`redirect`]: no
//!   redirect to another origin, no method change, no `Referer`).
//! - [`BaseUrl`]: a client's base URL parsed once, so a request's URL is built without
//!   parsing the scheme and host again.
//! - [`ClientError`]: the one error of building a client (and of the Pieces WebSocket).
//! - [`Limits`] on what a server may send, enforced by [`execute`] while a body streams in:
//!   each client crate hands [`execute`] to progenitor's `exec` hook, so every response body,
//!   success or error, fails after at most [`Limits::max_body_bytes`] were buffered, and
//!   [`is_too_large`] recognises that failure.
//! - [`keyed_client!`] and [`limited_client!`]: the constructors and the `exec` hook each
//!   client crate adds to its generated `Client`.
//! - [`RawJson`]: a free-form JSON object kept as its text (validated, parsed only when asked),
//!   which the generators substitute for schemas marked `x-raw-json`.
//! - [`Timestamp`]: an RFC 3339 date-time keeping the text it was decoded from, read without
//!   chrono's general parser in the common UTC form (the Pieces client's `format: date-time`).
//!
//! TLS is rustls by default (feature `rustls`: the platform's root certificates, the `aws-lc-rs`
//! provider, built with the C compiler the linker already needs); feature `native-tls` selects
//! the system's TLS library instead.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let server = httpmock::MockServer::start_async().await;
//! # server.mock_async(|when, then| { when.path("/big"); then.body(vec![b'x'; 4096]); }).await;
//! use assistants_api_runtime::{Limits, Service, execute, is_too_large};
//!
//! const SERVICE: Service = Service::new("Example", "https://api.example.com", "EXAMPLE_BASE_URL");
//! let (_base_url, http) = SERVICE.http_client(&server.base_url(), None, reqwest::Client::builder())?;
//! let request = http.get(server.url("/big")).build()?;
//! let response = execute(&http, request, &Limits::default().with_max_body_bytes(1024)).await?;
//! let error = response.bytes().await.unwrap_err();
//! assert!(is_too_large(&error));
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod base_url;
mod error;
mod keyed;
mod limits;
mod operation;
mod raw_json;
pub mod redirect;
mod response;
mod service;
mod timestamp;

pub use operation::Operation;

pub use base_url::BaseUrl;
pub use error::ClientError;
pub use limits::{Limits, execute, is_too_large};
pub use raw_json::RawJson;
pub use response::from_response;
pub use service::{Auth, Service, checked_base_url, redact_userinfo};
pub use timestamp::Timestamp;

#[doc(hidden)]
pub mod __private {
    pub use progenitor_client::{ClientHooks, OperationInfo};
    pub use reqwest;
}
