//! Finding a running PiecesOS: current releases listen on a port in 39300-39333, not on the
//! generated SDK's `localhost:1000`. The official SDK wrapper probes that range with
//! `HEAD /.well-known/health`; so do we, but all ports at once, so a miss costs one timeout.

use std::ops::RangeInclusive;
use std::time::Duration;

use futures::StreamExt;
use futures::stream::FuturesUnordered;

use crate::{BASE_URL_ENV, Client, ClientError, SERVICE};

/// The ports current PiecesOS releases listen on, on 127.0.0.1.
pub const DISCOVERY_PORTS: RangeInclusive<u16> = 39300..=39333;
/// The path a running PiecesOS answers `200` on.
pub const HEALTH_PATH: &str = "/.well-known/health";
/// How long one probe may take. PiecesOS is local: a live one answers in milliseconds.
pub const DISCOVERY_TIMEOUT: Duration = Duration::from_millis(500);

impl Client {
    /// A client for a running PiecesOS: `PIECES_BASE_URL` when it is set (an explicit URL always
    /// wins, and nothing is probed), otherwise the first port of [`DISCOVERY_PORTS`] that answers
    /// `HEAD /.well-known/health` with 200 (see [`discover_base_url`]).
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), pieces_api::ClientError> {
    /// use pieces_api::ClientInfo;
    ///
    /// let pieces = pieces_api::Client::discover().await?;
    /// println!("PiecesOS at {}", pieces.baseurl());
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`ClientError::NotFound`] naming the probed range and `PIECES_BASE_URL`, or the errors
    /// of [`Client::with_base_url`] for an invalid `PIECES_BASE_URL`.
    pub async fn discover() -> Result<Self, ClientError> {
        Self::with_base_url(&discover_base_url().await?)
    }
}

/// The base URL of a running PiecesOS: `PIECES_BASE_URL` when it is set, otherwise the first of
/// [`DISCOVERY_PORTS`] to answer `HEAD /.well-known/health` with 200 within
/// [`DISCOVERY_TIMEOUT`], as `http://127.0.0.1:<port>`.
///
/// # Errors
/// [`ClientError::NotFound`] when no port answers, [`ClientError::InvalidEnv`] when
/// `PIECES_BASE_URL` is not valid UTF-8.
pub async fn discover_base_url() -> Result<String, ClientError> {
    let explicit = SERVICE.explicit_base_url()?;
    base_url_or_probe(explicit, DISCOVERY_PORTS, DISCOVERY_TIMEOUT).await
}

/// `explicit` when given (checked, nothing probed), otherwise [`probe`].
///
/// # Errors
/// As [`probe`], or [`ClientError::InvalidBaseUrl`] for an invalid `explicit` URL.
pub async fn base_url_or_probe(
    explicit: Option<String>,
    ports: impl IntoIterator<Item = u16>,
    timeout: Duration,
) -> Result<String, ClientError> {
    match explicit {
        Some(url) => assistants_api_runtime::checked_base_url(&url),
        None => probe(ports, timeout).await,
    }
}

/// Probes every port of `ports` on 127.0.0.1 concurrently with `HEAD /.well-known/health`, each
/// within `timeout`, and returns `http://127.0.0.1:<port>` of the first to answer 200.
///
/// # Errors
/// [`ClientError::NotFound`] naming what was probed and `PIECES_BASE_URL`;
/// [`ClientError::Http`] when the probing client cannot be built.
pub async fn probe(ports: impl IntoIterator<Item = u16>, timeout: Duration) -> Result<String, ClientError> {
    let ports: Vec<u16> = ports.into_iter().collect();
    // A proxy from the environment must not see (or answer for) loopback probes.
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let mut probes: FuturesUnordered<_> = ports
        .iter()
        .map(|&port| {
            let http = &http;
            async move {
                let base = format!("http://127.0.0.1:{port}");
                let answer = http.head(format!("{base}{HEALTH_PATH}")).send().await;
                answer
                    .is_ok_and(|r| r.status() == reqwest::StatusCode::OK)
                    .then_some(base)
            }
        })
        .collect();
    while let Some(found) = probes.next().await {
        if let Some(base) = found {
            return Ok(base);
        }
    }
    Err(ClientError::NotFound {
        service: SERVICE.name,
        probed: format!("HEAD {HEALTH_PATH} on 127.0.0.1:{}", describe(&ports)),
        env: BASE_URL_ENV,
    })
}

/// `39300-39333` for a contiguous run of ports, otherwise the ports listed.
fn describe(ports: &[u16]) -> String {
    let contiguous = ports.windows(2).all(|w| w[0].checked_add(1) == Some(w[1]));
    match (ports.first(), ports.last()) {
        (Some(first), Some(last)) if contiguous && ports.len() > 2 => format!("{first}-{last}"),
        (None, _) => "no ports".to_string(),
        _ => ports.iter().map(u16::to_string).collect::<Vec<_>>().join(","),
    }
}

#[cfg(test)]
mod tests {
    use super::describe;

    #[test]
    fn probed_ports_read_naturally() {
        assert_eq!(describe(&(39300..=39333).collect::<Vec<_>>()), "39300-39333");
        assert_eq!(describe(&[39301, 39305]), "39301,39305");
        assert_eq!(describe(&[]), "no ports");
    }
}
