//! The entry point: one [`Client`] owning the three generated clients.

use secrecy::ExposeSecret;

use crate::config::{Config, missing};
use crate::error::Error;
use crate::flowgen::FlowGen;
use crate::flowhunt::FlowHunt;
use crate::pieces::Pieces;

/// All three services behind one configuration.
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
    config: Config,
}

fn config_error(e: impl std::fmt::Display) -> Error {
    Error::Config(e.to_string())
}

impl Client {
    /// A client for `config`; nothing is checked until a service is used.
    pub fn new(config: Config) -> Self {
        Self { config }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// FlowHunt, with the configured key and workspace.
    ///
    /// # Errors
    /// [`Error::Config`] when `FLOWHUNT_API_KEY` is missing or the base URL is invalid.
    pub fn flowhunt(&self) -> Result<FlowHunt, Error> {
        let key = self
            .config
            .flowhunt_api_key
            .as_ref()
            .ok_or_else(|| missing("FLOWHUNT_API_KEY", "--api-key"))?;
        let api =
            flowhunt_api::Client::with_api_key(&self.config.flowhunt_base_url, key.expose_secret().into())
                .map_err(config_error)?;
        Ok(FlowHunt::new(
            api,
            self.config.flowhunt_workspace_id.clone(),
            self.config.settings.clone(),
        ))
    }

    /// Pieces (no credentials).
    ///
    /// # Errors
    /// [`Error::Config`] when the base URL is invalid.
    pub fn pieces(&self) -> Result<Pieces, Error> {
        let api = pieces_api::Client::with_base_url(&self.config.pieces_base_url).map_err(config_error)?;
        Ok(Pieces::new(api, self.config.settings.clone()))
    }

    /// FlowGen, with the configured key.
    ///
    /// # Errors
    /// [`Error::Config`] when `FLOWGEN_API_KEY` is missing or the base URL is invalid.
    pub fn flowgen(&self) -> Result<FlowGen, Error> {
        let key = self
            .config
            .flowgen_api_key
            .as_ref()
            .ok_or_else(|| missing("FLOWGEN_API_KEY", "--api-key"))?;
        let api =
            flowgen_api::Client::with_api_key(&self.config.flowgen_base_url, key.expose_secret().into())
                .map_err(config_error)?;
        Ok(FlowGen::new(api, self.config.settings.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_keys_read_as_guidance_and_keys_never_print() {
        let client = Client::new(Config::default());
        let err = client.flowgen().unwrap_err();
        assert_eq!(
            err.to_string(),
            "configuration: FLOWGEN_API_KEY is not set: export it or pass --api-key"
        );
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
}
