//! Configuration from flags and the environment, input checks, and errors as exit codes.
//!
//! [`config`] is the only place that touches the facade's `Config` and `Settings` fields.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use assistants::{Client, Config, Error, ErrorKind, FlowGen, FlowHunt, Outcome, Pieces};
use flowhunt_api::WORKSPACE_ID_ENV;
use secrecy::{ExposeSecret, SecretString};

use crate::deadline::Limit;
use crate::input::KeyFilter;
use crate::keys::{self, EnvKey};
use crate::print::Printer;

/// Documented exit codes.
pub mod exit {
    /// Done.
    pub const OK: u8 = 0;
    /// Usage or configuration error.
    pub const USAGE: u8 = 2;
    /// The service failed or refused.
    pub const SERVICE: u8 = 3;
    /// The deadline (`--timeout`) passed.
    pub const DEADLINE: u8 = 4;
    /// The assistant needs input that was not given.
    pub const NEEDS_INPUT: u8 = 5;
}

/// Longest id accepted: real ids are far shorter, and an id is checked before it is printed.
#[cfg(test)]
const MAX_ID_BYTES: usize = 1024;

/// A failure with its exit code.
#[derive(Debug)]
pub struct Failure {
    /// The exit code.
    pub code: u8,
    /// What to tell the user.
    pub message: String,
}

/// The message of a passed deadline, naming the CLI's flag (the facade names none).
pub fn deadline_message(limit: Duration) -> String {
    format!(
        "the deadline of {}s (--timeout) passed; raise --timeout or try again later",
        limit.as_secs()
    )
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        if let Error::Deadline { limit, .. } = &error {
            return Self {
                code: exit::DEADLINE,
                message: deadline_message(*limit),
            };
        }
        // The library names environment variables and Config setters; say our flags.
        if let Error::MissingSetting { var, .. } = &error {
            return Self::usage(if *var == WORKSPACE_ID_ENV {
                format!("{var} is not set: export it (new sessions are created in it)")
            } else {
                format!("{var} is not set: export it or pass --api-key-file (or --api-key)")
            });
        }
        let code = match error.kind() {
            ErrorKind::Config | ErrorKind::InvalidArgument => exit::USAGE,
            ErrorKind::Deadline => exit::DEADLINE,
            _ => exit::SERVICE,
        };
        Self {
            code,
            message: error.to_string(),
        }
    }
}

impl Failure {
    /// A usage/configuration failure.
    pub fn usage(message: impl Into<String>) -> Self {
        Self {
            code: exit::USAGE,
            message: message.into(),
        }
    }
}

/// The global flags that shape the client.
#[derive(Debug, Default)]
pub struct Flags {
    /// `--timeout SECONDS`.
    pub timeout: Option<u64>,
    /// `--api-key KEY`.
    pub api_key: Option<String>,
    /// `--api-key-file PATH` (`-`: stdin).
    pub api_key_file: Option<PathBuf>,
    /// `--base-url URL`.
    pub base_url: Option<String>,
}

/// What every command works with: the client, the printer, the deadline and the checks.
pub struct Ctx {
    /// The facade client.
    pub client: Client,
    /// Where output goes.
    pub printer: Printer,
    /// `--timeout` (the default when not given).
    pub limit: Limit,
    /// The keys in use, so that nothing written to disk (chat history) ever holds one.
    keys: Vec<SecretString>,
    max_message_bytes: usize,
    flowhunt_key: Result<(), String>,
    flowhunt_workspace: bool,
    flowgen_key: Result<(), String>,
}

/// The default deadline of a command (of each reply, in `chat`): the facade's own default.
fn default_timeout() -> Option<Duration> {
    assistants::Settings::default().operation_timeout
}

fn key_problem(var: &str, key: &EnvKey) -> Result<(), String> {
    match key {
        EnvKey::Key(_) => Ok(()),
        EnvKey::Missing => Err(format!(
            "{var} is not set: export it, or pass --api-key-file PATH"
        )),
        EnvKey::NotText => Err(format!("{var} is not valid UTF-8: set it to the key as text")),
    }
}

/// Builds the context: environment first, flags over it. Reads `--api-key-file` (stdin for
/// `-`) before anything else reads stdin.
pub fn config(flags: Flags, printer: Printer) -> Result<Ctx, Failure> {
    let flag_key = match (&flags.api_key_file, &flags.api_key) {
        (Some(path), _) => Some(keys::from_file(path)?),
        (None, Some(key)) => keys::from_flag(key),
        (None, None) => None,
    };
    let limit = Limit::new(flags.timeout, default_timeout());
    let mut config = Config::from_env().with_operation_timeout(limit.for_facade());
    let flowhunt_env = keys::from_env(flowhunt_api::API_KEY_ENV);
    let flowgen_env = keys::from_env(flowgen_api::API_KEY_ENV);
    let pick = |env: &EnvKey| match (&flag_key, env) {
        (Some(key), _) => Some(key.clone()),
        (None, EnvKey::Key(key)) => Some(key.clone()),
        _ => None,
    };
    config.flowhunt_api_key = pick(&flowhunt_env).map(SecretString::from);
    config.flowgen_api_key = pick(&flowgen_env).map(SecretString::from);
    config.flowhunt_workspace_id = config
        .flowhunt_workspace_id
        .map(|w| w.trim().to_string())
        .filter(|w| !w.is_empty());
    if let Some(base) = &flags.base_url {
        config = config.with_base_url(base);
    }
    let given = flag_key.is_some();
    Ok(Ctx {
        keys: [&config.flowhunt_api_key, &config.flowgen_api_key]
            .into_iter()
            .flatten()
            .cloned()
            .collect(),
        max_message_bytes: config.settings.max_message_bytes,
        flowhunt_key: if given {
            Ok(())
        } else {
            key_problem(flowhunt_api::API_KEY_ENV, &flowhunt_env)
        },
        flowhunt_workspace: config.flowhunt_workspace_id.is_some(),
        flowgen_key: if given {
            Ok(())
        } else {
            key_problem(flowgen_api::API_KEY_ENV, &flowgen_env)
        },
        client: Client::new(config),
        printer,
        limit,
    })
}

/// The demo's configuration: everything at the in-process sandbox, with its keys.
pub fn demo_config(base_url: &str, flowgen_key: &str, limit: Limit) -> Config {
    Config::default()
        .with_base_url(base_url)
        .with_flowhunt("demo-key", "demo-workspace")
        .with_flowgen_key(flowgen_key)
        .with_operation_timeout(limit.for_facade())
}

impl Ctx {
    /// FlowHunt, or what to set first.
    pub fn flowhunt(&self) -> Result<FlowHunt, Failure> {
        self.flowhunt_key.clone().map_err(Failure::usage)?;
        Ok(self.client.flowhunt()?)
    }

    /// FlowHunt for creating sessions, which also needs the workspace.
    pub fn flowhunt_for_sessions(&self) -> Result<FlowHunt, Failure> {
        let flowhunt = self.flowhunt()?;
        if !self.flowhunt_workspace {
            return Err(Failure::usage(format!(
                "{WORKSPACE_ID_ENV} is not set: export it (new sessions are created in it)"
            )));
        }
        Ok(flowhunt)
    }

    /// FlowGen, or what to set first.
    pub fn flowgen(&self) -> Result<FlowGen, Failure> {
        self.flowgen_key.clone().map_err(Failure::usage)?;
        Ok(self.client.flowgen()?)
    }

    /// Pieces.
    pub fn pieces(&self) -> Result<Pieces, Failure> {
        Ok(self.client.pieces()?)
    }

    /// Tells whether a line holds one of the keys in use (such a line is never written to disk).
    pub fn key_filter(&self) -> KeyFilter {
        let keys = self.keys.clone();
        Arc::new(move |text: &str| {
            keys.iter()
                .any(|k| !k.expose_secret().is_empty() && text.contains(k.expose_secret()))
        })
    }

    /// Rejects a message the services would refuse, before anything is created or sent.
    pub fn check_message(&self, message: &str) -> Result<(), Failure> {
        if message.trim().is_empty() {
            return Err(Failure::usage("the message is empty"));
        }
        if message.len() > self.max_message_bytes {
            return Err(Failure::usage(format!(
                "the message is {} bytes; the limit is {}",
                message.len(),
                self.max_message_bytes
            )));
        }
        Ok(())
    }
}

/// Rejects an id that cannot be one, before it is printed or sent: the facade's own check
/// (empty, over-long, a dot segment, control characters), as a usage failure.
pub fn check_id(what: &str, id: &str) -> Result<(), Failure> {
    assistants::check_id(what, id).map_err(|e| match e {
        assistants::Error::InvalidArgument(message) => Failure::usage(message),
        other => Failure::from(other),
    })
}

/// The exit code of an outcome.
pub fn outcome_code(outcome: &Outcome) -> u8 {
    match outcome {
        Outcome::Completed { .. } => exit::OK,
        Outcome::NeedsInput { .. } => exit::NEEDS_INPUT,
        Outcome::Failed { .. } => exit::SERVICE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_checked_before_use() {
        for bad in ["", "   ", ".", "..", "a\u{1b}b"] {
            assert_eq!(check_id("chat id", bad).unwrap_err().code, exit::USAGE, "{bad:?}");
        }
        let long = "x".repeat(MAX_ID_BYTES + 1);
        assert!(!check_id("chat id", &long).unwrap_err().message.contains(&long));
        for good in ["k2j4h6g8f0d1s3a", "...", ".a", "a.b"] {
            assert!(check_id("chat id", good).is_ok(), "{good}");
        }
    }
}
