//! The redirect policy of every client: a key or a request body never follows a redirect to
//! another origin, and a request never changes its method.
//!
//! reqwest's default policy strips only `Authorization` on a cross-origin redirect, so a key in
//! `X-API-KEY` would be sent to whatever host a server names; it re-sends a body on 307/308 and
//! turns a POST into a GET on 301/302/303, which then "succeeds" against the wrong endpoint.

use std::fmt;

/// At most this many same-origin 307/308 redirects are followed for one request.
pub const MAX_REDIRECTS: usize = 5;

/// Why a redirect was not followed; the source of the `reqwest::Error` the request fails with.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RedirectRefused {
    /// The status of the redirect response.
    pub status: u16,
    /// Where the server pointed: scheme, host, port and path (no userinfo, no query).
    pub target: String,
    /// Why it was not followed.
    pub reason: RefusalReason,
}

/// Why a [`RedirectRefused`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RefusalReason {
    /// The target has another scheme, host or port: the key would be sent there.
    OtherOrigin,
    /// A 301, 302 or 303, which HTTP clients follow with a GET: a POST would silently become one.
    ChangesMethod,
    /// More than [`MAX_REDIRECTS`] redirects.
    TooMany,
}

impl fmt::Display for RedirectRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let why = match self.reason {
            RefusalReason::OtherOrigin => "it leads to another origin, which would receive the API key",
            RefusalReason::ChangesMethod => "following it would change the request's method to GET",
            RefusalReason::TooMany => "too many redirects",
        };
        write!(
            f,
            "refused to follow a {} redirect to {}: {why}",
            self.status, self.target
        )
    }
}

impl std::error::Error for RedirectRefused {}

/// The policy [`crate::Service::http_client`] installs: follow 307 and 308 within the origin,
/// refuse everything else with a [`RedirectRefused`] error.
pub fn policy() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let status = attempt.status();
        let next = attempt.url();
        let reason = match attempt.previous().last() {
            Some(previous) if previous.origin() != next.origin() => Some(RefusalReason::OtherOrigin),
            _ if !matches!(status.as_u16(), 307 | 308) => Some(RefusalReason::ChangesMethod),
            _ if attempt.previous().len() > MAX_REDIRECTS => Some(RefusalReason::TooMany),
            _ => None,
        };
        match reason {
            None => attempt.follow(),
            Some(reason) => {
                let refused = RedirectRefused {
                    status: status.as_u16(),
                    target: describe(next),
                    reason,
                };
                attempt.error(refused)
            }
        }
    })
}

/// `url` without userinfo, query or fragment.
fn describe(url: &reqwest::Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.set_query(None);
    shown.set_fragment(None);
    shown.to_string()
}

/// The [`RedirectRefused`] behind `error`, if a redirect was refused.
pub fn refused<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a RedirectRefused> {
    let mut source = Some(error);
    while let Some(current) = source {
        if let Some(refused) = current.downcast_ref::<RedirectRefused>() {
            return Some(refused);
        }
        source = current.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_says_what_was_refused_and_why() {
        let refused = RedirectRefused {
            status: 302,
            target: "https://elsewhere.example/steal".into(),
            reason: RefusalReason::OtherOrigin,
        };
        assert_eq!(
            refused.to_string(),
            "refused to follow a 302 redirect to https://elsewhere.example/steal: it leads to another origin, which would receive the API key"
        );
    }
}
