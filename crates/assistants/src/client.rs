//! The entry point: one [`Client`] owning one handle per service, each built once.

use std::sync::{Arc, OnceLock};

#[cfg(any(feature = "flowhunt", feature = "flowgen"))]
use secrecy::ExposeSecret;

use crate::config::Config;
use crate::error::Error;
#[cfg(feature = "flowgen")]
use crate::flowgen::FlowGen;
#[cfg(feature = "flowhunt")]
use crate::flowhunt::FlowHunt;
#[cfg(feature = "pieces")]
use crate::pieces::Pieces;
use crate::retry::Jitter;

/// All three services behind one configuration.
///
/// Each service's handle is built on first use and then shared: every `client.flowgen()` of
/// one `Client` (and of its clones) returns the same connection pool and the same poll loop
/// per chat or session, so a server that takes a handle per request still polls each chat once.
///
/// ```no_run
/// # async fn demo() -> Result<(), assistants::Error> {
/// let client = assistants::Client::new(assistants::Config::from_env());
/// let session = client.flowhunt()?.create_session().await?;
/// let outcome = session.ask_once("Add a chat input to my flow").await?;
/// println!("{outcome:?}");
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Client {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: Config,
    /// The one source of jitter of every handle.
    jitter: Jitter,
    settings: Arc<crate::Settings>,
    #[cfg(feature = "flowhunt")]
    flowhunt: OnceLock<Result<FlowHunt, Error>>,
    #[cfg(feature = "pieces")]
    pieces: OnceLock<Result<Pieces, Error>>,
    #[cfg(feature = "flowgen")]
    flowgen: OnceLock<Result<FlowGen, Error>>,
}

#[cfg_attr(
    not(any(feature = "flowhunt", feature = "flowgen", feature = "pieces")),
    allow(dead_code)
)]
fn config_error(e: impl std::fmt::Display) -> Error {
    Error::Config(e.to_string())
}

impl Client {
    /// A client for `config`; nothing is checked until a service is used.
    pub fn new(config: Config) -> Self {
        let settings = Arc::new(config.settings.clone());
        Self {
            inner: Arc::new(Inner {
                jitter: settings.retry.jitter(),
                settings,
                config,
                #[cfg(feature = "flowhunt")]
                flowhunt: OnceLock::new(),
                #[cfg(feature = "pieces")]
                pieces: OnceLock::new(),
                #[cfg(feature = "flowgen")]
                flowgen: OnceLock::new(),
            }),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// FlowHunt, with the configured key and workspace (built on first use, then shared).
    ///
    /// # Errors
    /// [`Error::MissingSetting`] when `FLOWHUNT_API_KEY` is missing, [`Error::Config`] when the
    /// base URL or the key is invalid.
    #[cfg(feature = "flowhunt")]
    pub fn flowhunt(&self) -> Result<FlowHunt, Error> {
        let inner = &self.inner;
        let built = inner.flowhunt.get_or_init(|| {
            let config = &inner.config;
            let key = config
                .flowhunt_api_key
                .as_ref()
                .ok_or_else(|| config.missing(flowhunt_api::API_KEY_ENV, "with_flowhunt_key"))?;
            let api =
                flowhunt_api::Client::with_api_key(&config.flowhunt_base_url, key.expose_secret().into())
                    .map_err(config_error)?;
            Ok(FlowHunt::build(
                api,
                config.flowhunt_workspace_id.clone(),
                Some(config.clone()),
                inner.settings.clone(),
                inner.jitter.clone(),
            ))
        });
        built.clone()
    }

    /// Pieces (no credentials; built on first use, then shared). Without `PIECES_BASE_URL` or
    /// [`Config::with_pieces_base_url`], a running PiecesOS is found on its ports (39300-39333)
    /// at the first operation, which fails with [`Error::Config`] naming what was probed if
    /// none answers.
    ///
    /// # Errors
    /// [`Error::Config`] when the base URL is invalid.
    #[cfg(feature = "pieces")]
    pub fn pieces(&self) -> Result<Pieces, Error> {
        let inner = &self.inner;
        let built = inner.pieces.get_or_init(|| {
            // No URL: PiecesOS is looked for on its ports at the first operation.
            let api = match inner.config.pieces_base_url.as_deref() {
                Some(base) => Some(pieces_api::Client::with_base_url(base).map_err(config_error)?),
                None => None,
            };
            Ok(Pieces::build(api, inner.settings.clone(), inner.jitter.clone()))
        });
        built.clone()
    }

    /// FlowGen, with the configured key (built on first use, then shared).
    ///
    /// # Errors
    /// [`Error::MissingSetting`] when `FLOWGEN_API_KEY` is missing, [`Error::Config`] when the
    /// base URL or the key is invalid.
    #[cfg(feature = "flowgen")]
    pub fn flowgen(&self) -> Result<FlowGen, Error> {
        let inner = &self.inner;
        let built = inner.flowgen.get_or_init(|| {
            let config = &inner.config;
            let key = config
                .flowgen_api_key
                .as_ref()
                .ok_or_else(|| config.missing(flowgen_api::API_KEY_ENV, "with_flowgen_key"))?;
            let api = flowgen_api::Client::with_api_key(&config.flowgen_base_url, key.expose_secret().into())
                .map_err(config_error)?;
            Ok(FlowGen::build(api, inner.settings.clone(), inner.jitter.clone()))
        });
        built.clone()
    }
}

#[cfg(all(test, feature = "flowhunt", feature = "flowgen"))]
mod tests {
    use super::*;

    #[test]
    fn missing_keys_read_as_guidance_naming_env_vars_and_setters_and_keys_never_print() {
        let client = Client::new(Config::default());
        let err = client.flowgen().unwrap_err();
        assert_eq!(
            err.to_string(),
            "FLOWGEN_API_KEY is not set: export it or call Config::with_flowgen_key"
        );
        assert!(matches!(
            err,
            Error::MissingSetting {
                var: "FLOWGEN_API_KEY",
                ..
            }
        ));
        let configured = Client::new(
            Config::default()
                .with_flowgen_key("fg_top_secret")
                .with_flowhunt("fh_top_secret", "w"),
        );
        for text in [
            format!("{configured:?}"),
            format!("{:?}", configured.flowgen().unwrap()),
            format!("{:?}", configured.flowhunt().unwrap()),
        ] {
            assert!(!text.contains("top_secret"), "{text}");
        }
    }

    #[test]
    fn handles_are_built_once_and_shared_by_clones() {
        let client = Client::new(Config::default().with_flowgen_key("k").with_flowhunt("k", "w"));
        let (a, b) = (client.flowgen().unwrap(), client.clone().flowgen().unwrap());
        assert!(a.shares_state_with(&b));
        let (c, d) = (client.flowhunt().unwrap(), client.flowhunt().unwrap());
        assert!(c.shares_state_with(&d));
    }

    #[test]
    fn every_handle_bounds_its_polls_in_flight_as_the_settings_say() {
        let settings = crate::Settings::default().with_max_polls_in_flight(3);
        let client = Client::new(
            Config::default()
                .with_flowgen_key("k")
                .with_flowhunt("k", "w")
                .with_settings(settings),
        );
        assert_eq!(client.flowgen().unwrap().polls_in_flight_bound(), Some(3));
        assert_eq!(client.flowhunt().unwrap().polls_in_flight_bound(), Some(3));
        let zero = crate::Settings::default().with_max_polls_in_flight(0);
        let client = Client::new(Config::default().with_flowgen_key("k").with_settings(zero));
        assert_eq!(
            client.flowgen().unwrap().polls_in_flight_bound(),
            Some(1),
            "0 counts as 1"
        );
    }

    #[test]
    fn the_client_keeps_the_configuration_it_was_given() {
        let client = Client::new(Config::default().with_flowhunt("k", "workspace-7"));
        assert_eq!(
            client.config().flowhunt_workspace_id.as_deref(),
            Some("workspace-7")
        );
    }
}
