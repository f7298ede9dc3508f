//! What a generated client needs to be built: its base URL, its key header, its environment
//! variables and an HTTP client that never leaks the key.

use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderName, HeaderValue};
use secrecy::{ExposeSecret, SecretString};

use crate::ClientError;
use crate::redirect;

/// How a service authenticates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Auth {
    /// No credentials (PiecesOS).
    None,
    /// `Authorization: Bearer <key>`, the key read from `env` by [`Service::api_key_from_env`].
    Bearer {
        /// The environment variable holding the key.
        env: &'static str,
    },
    /// `<name>: <key>`, the key read from `env` by [`Service::api_key_from_env`].
    Header {
        /// The header's name, lower case.
        name: &'static str,
        /// The environment variable holding the key.
        env: &'static str,
    },
}

/// One service's constants and the constructors every generated client shares.
///
/// ```
/// use assistants_api_runtime::{Auth, Service};
///
/// const SERVICE: Service = Service::new("Example", "https://api.example.com", "EXAMPLE_BASE_URL")
///     .with_auth(Auth::Header { name: "x-api-key", env: "EXAMPLE_API_KEY" });
///
/// let (base_url, http) = SERVICE.http_client(
///     "https://api.example.com/",
///     Some(&"  key-with-a-stray-newline\n".into()),
///     reqwest::Client::builder(),
/// )?;
/// assert_eq!(base_url, "https://api.example.com");
/// assert!(SERVICE.http_client("http://user:pw@api.example.com", Some(&"k".into()), reqwest::Client::builder()).is_err());
/// # drop(http); Ok::<(), assistants_api_runtime::ClientError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Service {
    /// The service's name, for messages (`FlowHunt`).
    pub name: &'static str,
    /// The base URL used when none is configured.
    pub default_base_url: &'static str,
    /// The environment variable overriding the base URL.
    pub base_url_env: &'static str,
    /// How requests carry the key.
    pub auth: Auth,
    /// The `User-Agent` sent.
    pub user_agent: &'static str,
    /// Whether the client speaks HTTP/1.1 only (a WebSocket upgrade needs it).
    pub http1_only: bool,
}

impl Service {
    /// A service without credentials, whose `User-Agent` is `assistants-rs`.
    pub const fn new(name: &'static str, default_base_url: &'static str, base_url_env: &'static str) -> Self {
        Self {
            name,
            default_base_url,
            base_url_env,
            auth: Auth::None,
            user_agent: "assistants-rs",
            http1_only: false,
        }
    }

    /// This service with `auth`.
    pub const fn with_auth(mut self, auth: Auth) -> Self {
        self.auth = auth;
        self
    }

    /// This service with another `User-Agent`.
    pub const fn with_user_agent(mut self, user_agent: &'static str) -> Self {
        self.user_agent = user_agent;
        self
    }

    /// This service over HTTP/1.1 only.
    pub const fn with_http1_only(mut self) -> Self {
        self.http1_only = true;
        self
    }

    /// The environment variable holding the key, if the service has one.
    pub const fn api_key_env(&self) -> Option<&'static str> {
        match self.auth {
            Auth::None => None,
            Auth::Bearer { env } | Auth::Header { env, .. } => Some(env),
        }
    }

    /// The checked base URL and an HTTP client from `builder` that sends the key (trimmed of
    /// surrounding whitespace, marked sensitive) on every request.
    ///
    /// Whatever `builder` says, the client follows only redirects that keep the origin and the
    /// method (307 and 308 to the same scheme, host and port; see [`redirect::policy`]) and
    /// sends no `Referer`, so the key and the request body never reach another origin.
    ///
    /// # Errors
    /// [`ClientError::InvalidBaseUrl`], [`ClientError::CredentialsInBaseUrl`],
    /// [`ClientError::EmptyApiKey`] (also when the service needs a key and `api_key` is `None`),
    /// [`ClientError::InvalidApiKey`], or [`ClientError::Http`] when `builder` fails.
    pub fn http_client(
        &self,
        base_url: &str,
        api_key: Option<&SecretString>,
        builder: reqwest::ClientBuilder,
    ) -> Result<(String, reqwest::Client), ClientError> {
        let base_url = checked_base_url(base_url)?;
        let headers = self.key_headers(api_key)?;
        let builder = builder.default_headers(headers);
        // reqwest clones the client's headers into every request: a static value is copied,
        // where a shared one has a reference count that every request on every thread bumps
        // and drops (about 90 instructions a call, plus the contended cache line). Text that
        // is not a valid value still fails as the builder's error.
        let builder = match static_value(self.user_agent) {
            Some(value) => builder.user_agent(value),
            None => builder.user_agent(self.user_agent),
        };
        let mut builder = builder.redirect(redirect::policy()).referer(false);
        if self.http1_only {
            builder = builder.http1_only();
        }
        Ok((base_url, builder.build()?))
    }

    /// The headers that carry `api_key`, marked sensitive so they never show in `Debug` output.
    ///
    /// # Errors
    /// [`ClientError::EmptyApiKey`] or [`ClientError::InvalidApiKey`].
    pub fn key_headers(&self, api_key: Option<&SecretString>) -> Result<HeaderMap, ClientError> {
        let mut headers = HeaderMap::new();
        let (name, prefix) = match self.auth {
            Auth::None => return Ok(headers),
            Auth::Bearer { .. } => (AUTHORIZATION, "Bearer "),
            Auth::Header { name, .. } => (
                HeaderName::from_bytes(name.as_bytes()).map_err(|_| ClientError::InvalidApiKey)?,
                "",
            ),
        };
        let key = api_key.map(|k| k.expose_secret().trim()).unwrap_or_default();
        if key.is_empty() {
            return Err(ClientError::EmptyApiKey);
        }
        let mut value =
            HeaderValue::from_str(&format!("{prefix}{key}")).map_err(|_| ClientError::InvalidApiKey)?;
        value.set_sensitive(true);
        headers.insert(name, value);
        Ok(headers)
    }

    /// The base URL from [`Service::base_url_env`], or [`Service::default_base_url`] when the
    /// variable is unset or empty.
    ///
    /// # Errors
    /// [`ClientError::InvalidEnv`] when the variable is not valid UTF-8.
    pub fn base_url_from_env(&self) -> Result<String, ClientError> {
        Ok(env_var(self.base_url_env)?.unwrap_or_else(|| self.default_base_url.to_string()))
    }

    /// The base URL named by [`Service::base_url_env`], if it is set and not empty.
    ///
    /// # Errors
    /// [`ClientError::InvalidEnv`] when the variable is not valid UTF-8.
    pub fn explicit_base_url(&self) -> Result<Option<String>, ClientError> {
        env_var(self.base_url_env)
    }

    /// The key from the service's key variable, trimmed of surrounding whitespace.
    ///
    /// # Errors
    /// [`ClientError::MissingEnv`] when it is unset or blank, [`ClientError::InvalidEnv`] when it
    /// is not valid UTF-8, [`ClientError::EmptyApiKey`] for a service without a key.
    pub fn api_key_from_env(&self) -> Result<SecretString, ClientError> {
        let var = self.api_key_env().ok_or(ClientError::EmptyApiKey)?;
        let key = env_var(var)?.ok_or(ClientError::MissingEnv { var })?;
        Ok(SecretString::from(key.trim()))
    }
}

/// `text` as a header value that borrows it, if every byte is allowed in one.
fn static_value(text: &'static str) -> Option<HeaderValue> {
    // `HeaderValue::from_static` panics on anything else.
    text.bytes()
        .all(|b| b == b'\t' || (b' '..0x7f).contains(&b))
        .then(|| HeaderValue::from_static(text))
}

/// `var`'s value, `None` when it is unset or blank.
fn env_var(var: &'static str) -> Result<Option<String>, ClientError> {
    env_value(var, std::env::var(var))
}

fn env_value(
    var: &'static str,
    value: Result<String, std::env::VarError>,
) -> Result<Option<String>, ClientError> {
    match value {
        Ok(value) if value.trim().is_empty() => Ok(None),
        Ok(value) => Ok(Some(value)),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => Err(ClientError::InvalidEnv { var }),
    }
}

/// Accepts absolute http(s) URLs without userinfo and strips a trailing slash, so paths join
/// cleanly.
///
/// # Errors
/// [`ClientError::InvalidBaseUrl`] or [`ClientError::CredentialsInBaseUrl`], each naming the URL
/// with its userinfo redacted.
pub fn checked_base_url(url: &str) -> Result<String, ClientError> {
    let trimmed = url.trim().trim_end_matches('/');
    let parsed = reqwest::Url::parse(trimmed).ok().filter(|u| {
        (trimmed.starts_with("http://") || trimmed.starts_with("https://")) && u.host_str().is_some()
    });
    match parsed {
        None => Err(ClientError::InvalidBaseUrl {
            url: redact_userinfo(url),
        }),
        Some(u) if !u.username().is_empty() || u.password().is_some() => {
            Err(ClientError::CredentialsInBaseUrl {
                url: redact_userinfo(url),
            })
        }
        Some(_) => Ok(trimmed.to_string()),
    }
}

/// `url` with whatever precedes an `@` in its authority replaced by `***`; works on strings
/// that do not parse, so an error can quote them.
pub fn redact_userinfo(url: &str) -> String {
    let (scheme, rest) = match url.find("://") {
        Some(i) => url.split_at(i + 3),
        None => ("", url),
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}***{}", &rest[at..]),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEYED: Service =
        Service::new("Test", "http://127.0.0.1:9", "TEST_BASE_URL").with_auth(Auth::Header {
            name: "x-api-key",
            env: "TEST_API_KEY",
        });

    /// A variable cargo sets for every test run, and one nobody sets.
    const SET: &str = "CARGO_MANIFEST_DIR";
    const UNSET: &str = "ASSISTANTS_TEST_NEVER_SET_3f9a";

    fn reading(base_url_env: &'static str, key_env: &'static str) -> Service {
        Service::new("Test", "http://127.0.0.1:9", base_url_env).with_auth(Auth::Bearer { env: key_env })
    }

    #[test]
    fn settings_come_from_the_services_variables_or_the_default() {
        let set = reading(SET, SET);
        assert_eq!(set.base_url_from_env().unwrap(), env!("CARGO_MANIFEST_DIR"));
        assert_eq!(
            set.explicit_base_url().unwrap().as_deref(),
            Some(env!("CARGO_MANIFEST_DIR"))
        );
        assert_eq!(
            set.api_key_from_env().unwrap().expose_secret(),
            env!("CARGO_MANIFEST_DIR")
        );

        let unset = reading(UNSET, UNSET);
        assert_eq!(unset.base_url_from_env().unwrap(), "http://127.0.0.1:9");
        assert_eq!(unset.explicit_base_url().unwrap(), None);
        assert!(matches!(
            unset.api_key_from_env(),
            Err(ClientError::MissingEnv { var: UNSET })
        ));
        assert_eq!(KEYED.api_key_env(), Some("TEST_API_KEY"));
        assert_eq!(reading(UNSET, "K").api_key_env(), Some("K"));
        assert_eq!(
            Service::new("Open", "http://127.0.0.1:9", UNSET).api_key_env(),
            None
        );
    }

    #[test]
    fn userinfo_is_rejected_and_never_shown() {
        for url in [
            "http://user:hunter2@127.0.0.1:8080",
            "https://hunter2@api.example.com/v1",
            "http://:hunter2@host",
        ] {
            let error = KEYED
                .http_client(url, Some(&"k".into()), reqwest::Client::builder())
                .unwrap_err();
            assert!(
                matches!(error, ClientError::CredentialsInBaseUrl { .. }),
                "{url}: {error:?}"
            );
            for text in [error.to_string(), format!("{error:?}")] {
                assert!(!text.contains("hunter2"), "{text}");
                assert!(text.contains("***@"), "{text}");
            }
        }
        // A URL that does not parse is quoted redacted too.
        let error = checked_base_url("http://user:hunter2@exa mple.com").unwrap_err();
        assert!(matches!(error, ClientError::InvalidBaseUrl { .. }));
        assert!(!format!("{error} {error:?}").contains("hunter2"), "{error:?}");
        assert_eq!(redact_userinfo("user:hunter2@host/x@y"), "***@host/x@y");
        assert_eq!(redact_userinfo("https://host/a@b"), "https://host/a@b");
    }

    #[test]
    fn keys_are_trimmed_and_blank_keys_rejected() {
        let headers = KEYED.key_headers(Some(&"  fg_key\n".into())).unwrap();
        assert_eq!(headers["x-api-key"], "fg_key");
        assert!(headers["x-api-key"].is_sensitive());
        let bearer = Service::new("B", "http://h", "B_URL").with_auth(Auth::Bearer { env: "B_KEY" });
        assert_eq!(
            bearer.key_headers(Some(&"\tk ".into())).unwrap()[AUTHORIZATION],
            "Bearer k"
        );
        assert!(matches!(
            KEYED.key_headers(Some(&" \n".into())),
            Err(ClientError::EmptyApiKey)
        ));
        assert!(matches!(KEYED.key_headers(None), Err(ClientError::EmptyApiKey)));
        assert!(matches!(
            KEYED.key_headers(Some(&"a\nb".into())),
            Err(ClientError::InvalidApiKey)
        ));
    }

    #[cfg(unix)]
    #[test]
    fn invalid_utf8_in_the_environment_is_invalid_not_unset() {
        use std::os::unix::ffi::OsStringExt;
        let not_unicode = std::env::VarError::NotUnicode(std::ffi::OsString::from_vec(vec![0x66, 0xff]));
        let error = env_value("TEST_API_KEY", Err(not_unicode)).unwrap_err();
        assert!(matches!(error, ClientError::InvalidEnv { var: "TEST_API_KEY" }));
        assert_eq!(
            error.to_string(),
            "TEST_API_KEY is set but is not valid UTF-8: export it again as plain text"
        );
        assert!(
            env_value("V", Err(std::env::VarError::NotPresent))
                .unwrap()
                .is_none()
        );
        assert!(env_value("V", Ok(" \n".into())).unwrap().is_none());
        assert_eq!(env_value("V", Ok("x".into())).unwrap().as_deref(), Some("x"));
    }

    #[tokio::test]
    async fn requests_carry_the_services_user_agent_and_a_bad_one_fails_the_build() {
        let server = httpmock::MockServer::start_async().await;
        let mock = server
            .mock_async(|when, then| {
                when.path("/ua").header("user-agent", "assistants-rs/1 test");
                then.status(204);
            })
            .await;
        let service = KEYED.with_user_agent("assistants-rs/1 test");
        let (base, http) = service
            .http_client(&server.base_url(), Some(&"k".into()), reqwest::Client::builder())
            .unwrap();
        let status = http.get(format!("{base}/ua")).send().await.unwrap().status();
        assert_eq!(status, 204);
        mock.assert_async().await;
        assert!(static_value("assistants-rs/1 test").is_some());

        let bad = KEYED.with_user_agent("line\nbreak");
        assert!(static_value(bad.user_agent).is_none());
        let error = bad
            .http_client(
                "http://127.0.0.1:9",
                Some(&"k".into()),
                reqwest::Client::builder(),
            )
            .unwrap_err();
        assert!(matches!(error, ClientError::Http(_)), "{error:?}");
    }

    #[test]
    fn bad_base_urls_are_rejected() {
        for url in ["api.example.com", "ftp://host", "http://", "/relative"] {
            assert!(
                matches!(checked_base_url(url), Err(ClientError::InvalidBaseUrl { .. })),
                "{url}"
            );
        }
        assert_eq!(
            checked_base_url(" http://127.0.0.1:39300/ ").unwrap(),
            "http://127.0.0.1:39300"
        );
    }
}
