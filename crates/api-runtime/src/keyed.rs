//! The constructors of a generated client whose service takes an API key.

/// For a generated `Client` of a service with an API key (`Auth::Bearer` or `Auth::Header`):
/// `Client::with_api_key`, `Client::with_http_client` and `Client::from_env`, built from the
/// crate's `SERVICE` constant, plus what [`limited_client!`](crate::limited_client) adds.
///
/// `header` is how the key travels, for the docs (`"Authorization: Bearer <api_key>"`).
///
/// Invoke it in the crate that holds the generated code, with `SERVICE`, `ClientError`,
/// `Limits`, `SecretString`, `DEFAULT_BASE_URL`, `API_KEY_ENV` and `BASE_URL_ENV` in scope:
/// `assistants_api_runtime::keyed_client!(Client, header = "X-API-KEY: <api_key>");`
#[macro_export]
macro_rules! keyed_client {
    ($client:ident, header = $header:literal) => {
        impl $client {
            #[doc = concat!("A client for `base_url` that sends `", $header, "` on every request.")]
            ///
            /// The key is trimmed of surrounding whitespace and marked sensitive, so it never
            /// shows in `Debug` output; it never follows a redirect to another origin.
            ///
            /// # Errors
            /// [`ClientError::InvalidBaseUrl`], [`ClientError::CredentialsInBaseUrl`],
            /// [`ClientError::EmptyApiKey`] or [`ClientError::InvalidApiKey`] for bad input.
            pub fn with_api_key(base_url: &str, api_key: SecretString) -> Result<Self, ClientError> {
                Self::with_http_client(base_url, api_key, $crate::__private::reqwest::Client::builder())
            }

            #[doc = concat!("Like [`", stringify!($client), "::with_api_key`], starting from a caller-configured `reqwest` builder")]
            /// (timeouts, proxies, connection pool); the key header, the redirect policy and
            /// `referer(false)` are added to it.
            ///
            /// # Errors
            #[doc = concat!("As [`", stringify!($client), "::with_api_key`], plus [`ClientError::Http`] when the builder fails.")]
            pub fn with_http_client(
                base_url: &str,
                api_key: SecretString,
                builder: $crate::__private::reqwest::ClientBuilder,
            ) -> Result<Self, ClientError> {
                let (base_url, http) = SERVICE.http_client(base_url, Some(&api_key), builder)?;
                Ok(Self::new_with_client(&base_url, http, Limits::default()))
            }

            /// A client configured from [`API_KEY_ENV`] and, if set, [`BASE_URL_ENV`] (default
            /// [`DEFAULT_BASE_URL`]).
            ///
            /// # Errors
            /// [`ClientError::MissingEnv`] when the key is not set, [`ClientError::InvalidEnv`]
            #[doc = concat!("when a variable is not valid UTF-8, or the errors of [`", stringify!($client), "::with_api_key`].")]
            pub fn from_env() -> Result<Self, ClientError> {
                Self::with_api_key(&SERVICE.base_url_from_env()?, SERVICE.api_key_from_env()?)
            }
        }

        $crate::limited_client!($client);
    };
}
