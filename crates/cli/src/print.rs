//! All output goes through here: human text or one JSON object per line on stdout, spinners on
//! stderr and only on a terminal (never with `--json`).

use std::io::{IsTerminal, Write};
use std::time::Duration;

use crate::record::Record;

/// Where and how the command reports.
#[derive(Clone, Copy, Debug)]
pub struct Printer {
    /// One JSON object per line instead of text.
    pub json: bool,
}

impl Printer {
    /// Prints a line of text (human mode) or a JSON record (`--json`). A closed stdout (a pipe
    /// whose reader left) is not an error worth a panic: output simply stops.
    pub fn emit(&self, text: impl AsRef<str>, record: Record) {
        let mut out = std::io::stdout().lock();
        let _ = if self.json {
            match serde_json::to_string(&record) {
                Ok(line) => writeln!(out, "{line}"),
                Err(_) => Ok(()), // plain data: serialising cannot fail
            }
        } else {
            writeln!(out, "{}", text.as_ref())
        };
    }

    /// [`Printer::emit`] while `spinner` runs: the spinner steps aside for the line.
    pub fn emit_over(&self, spinner: Option<&indicatif::ProgressBar>, text: impl AsRef<str>, record: Record) {
        match spinner {
            Some(bar) => bar.suspend(|| self.emit(text, record)),
            None => self.emit(text, record),
        }
    }

    /// Human text only (headings, tables); nothing under `--json`.
    pub fn say(&self, text: impl AsRef<str>) {
        if !self.json {
            let _ = writeln!(std::io::stdout().lock(), "{}", text.as_ref());
        }
    }

    /// A spinner on stderr while waiting, when stderr is a terminal and output is not JSON.
    pub fn spinner(&self, message: &str) -> Option<indicatif::ProgressBar> {
        if self.json || !std::io::stderr().is_terminal() {
            return None;
        }
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_message(message.to_string());
        bar.enable_steady_tick(Duration::from_millis(100));
        Some(bar)
    }
}

/// Stops a spinner, if any.
pub fn finish(spinner: Option<indicatif::ProgressBar>) {
    if let Some(bar) = spinner {
        bar.finish_and_clear();
    }
}
