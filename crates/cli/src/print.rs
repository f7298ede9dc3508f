//! All output goes through here: human text or one JSON object per line on stdout, spinners on
//! stderr and only on a terminal (never with `--json`). Human text is passed through
//! [`crate::text`] on the way out, so no print path can forget it; `--json` is printed as
//! serde_json escapes it.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::Duration;

use crate::record::Record;
use crate::text::{multi_line, one_line};

/// Where and how the command reports.
#[derive(Clone, Copy, Debug)]
pub struct Printer {
    /// One JSON object per line instead of text.
    pub json: bool,
    /// Stdout is a terminal (and not `--json`): answers are rendered, empty lists are said.
    pub terminal: bool,
}

impl Printer {
    /// A printer for `--json` or human output, noticing whether stdout is a terminal.
    pub fn new(json: bool) -> Self {
        Self {
            json,
            terminal: !json && std::io::stdout().is_terminal(),
        }
    }

    /// Prints a line of text (human mode) or a JSON record (`--json`). A closed stdout (a pipe
    /// whose reader left) is not an error worth a panic: output simply stops.
    pub fn emit(&self, text: impl AsRef<str>, record: Record) {
        if self.json {
            self.record(&record);
        } else {
            self.say(text);
        }
    }

    /// A JSON record only; nothing in human mode.
    pub fn record(&self, record: &Record) {
        if self.json
            && let Ok(line) = serde_json::to_string(record)
        {
            let _ = writeln!(std::io::stdout().lock(), "{line}");
        }
    }

    /// Human text only (headings, tables); nothing under `--json`.
    pub fn say(&self, text: impl AsRef<str>) {
        if !self.json {
            let _ = writeln!(std::io::stdout().lock(), "{}", multi_line(text.as_ref()));
        }
    }

    /// An answer: rendered Markdown on a terminal, the text as written otherwise.
    pub fn answer(&self, label: &str, markdown: &str, record: Record) {
        if self.json {
            self.record(&record);
        } else if self.terminal {
            let _ = writeln!(std::io::stdout().lock(), "{}", crate::markdown::render(markdown));
        } else {
            self.say(format!("{label}{markdown}"));
        }
    }

    /// Says that a listing is empty, on a terminal only: a script reading a pipe or `--json`
    /// gets no line at all.
    pub fn empty(&self, what: &str) {
        if self.terminal {
            let _ = writeln!(std::io::stderr().lock(), "no {what}");
        }
    }

    /// A spinner on stderr while waiting, when stderr is a terminal and output is not JSON.
    pub fn spinner(&self, message: &str) -> Spinner {
        let spinner = Spinner {
            printer: *self,
            message: one_line(message).into_owned(),
            bar: Mutex::new(None),
        };
        spinner.resume();
        spinner
    }
}

/// A spinner that steps aside for output and pauses while the user answers.
pub struct Spinner {
    printer: Printer,
    message: String,
    bar: Mutex<Option<indicatif::ProgressBar>>,
}

impl Spinner {
    fn with_bar(&self, f: impl FnOnce(&mut Option<indicatif::ProgressBar>)) {
        match self.bar.lock() {
            Ok(mut bar) => f(&mut bar),
            Err(poisoned) => f(&mut poisoned.into_inner()),
        }
    }

    /// [`Printer::emit`] with the spinner out of the way.
    pub fn emit(&self, text: impl AsRef<str>, record: Record) {
        self.with_bar(|bar| match bar {
            Some(bar) => bar.suspend(|| self.printer.emit(text, record)),
            None => self.printer.emit(text, record),
        });
    }

    /// Stops spinning (before a question, or for good).
    pub fn pause(&self) {
        self.with_bar(|bar| {
            if let Some(bar) = bar.take() {
                bar.finish_and_clear();
            }
        });
    }

    /// Spins again.
    pub fn resume(&self) {
        if self.printer.json || !std::io::stderr().is_terminal() {
            return;
        }
        self.with_bar(|slot| {
            if slot.is_none() {
                let bar = indicatif::ProgressBar::new_spinner();
                bar.set_message(self.message.clone());
                bar.enable_steady_tick(Duration::from_millis(100));
                *slot = Some(bar);
            }
        });
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        self.pause();
    }
}
