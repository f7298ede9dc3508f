//! Configuration from flags and the environment, errors as exit codes, and human input.

use std::io::{BufRead, IsTerminal, Write};
use std::time::Duration;

use assistants::{Config, Error, ErrorKind, Outcome};

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

/// A failure with its exit code.
#[derive(Debug)]
pub struct Failure {
    /// The exit code.
    pub code: u8,
    /// What to tell the user.
    pub message: String,
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
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

/// The facade configuration: environment first, flags over it.
pub fn config(timeout: Option<u64>, api_key: Option<String>, base_url: Option<String>) -> Config {
    let mut config = Config::from_env();
    config.settings.timeout = timeout.map(Duration::from_secs).or(config.settings.timeout);
    if let Some(key) = api_key.filter(|k| !k.is_empty()) {
        config.flowhunt_api_key = Some(key.clone().into());
        config.flowgen_api_key = Some(key.into());
    }
    if let Some(base) = base_url {
        config = config.with_base_url(&base);
    }
    config
}

/// The exit code of an outcome.
pub fn outcome_code(outcome: &Outcome) -> u8 {
    match outcome {
        Outcome::Completed { .. } => exit::OK,
        Outcome::NeedsInput { .. } => exit::NEEDS_INPUT,
        Outcome::Failed { .. } => exit::SERVICE,
    }
}

/// Asks the user: on a terminal with a prompt on stderr, otherwise the next line of standard
/// input. `None` when there is nothing (end of input).
pub fn ask_user(prompt: &str) -> Option<String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        let _ = write!(std::io::stderr(), "{prompt}\n> ");
        let _ = std::io::stderr().flush();
    }
    let mut line = String::new();
    match stdin.lock().read_line(&mut line) {
        Ok(0) | Err(_) => None,
        Ok(_) => Some(line.trim_end_matches(['\r', '\n']).to_string()).filter(|l| !l.is_empty()),
    }
}
