//! Lines typed by the user, read without blocking the async runtime: a dedicated thread reads
//! and hands each line over a channel of one, so a deadline fires while the user is silent.
//!
//! On a terminal, `chat` reads with a line editor (history kept in the platform's data
//! directory, Alt-Enter for a new line, Ctrl-C clearing the line or, on an empty one, leaving).
//! Otherwise each line of stdin is one line of input.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::{Mutex, mpsc};

/// A key checker: whether a line holds a key in use (such a line never goes to the history).
pub type KeyFilter = Arc<dyn Fn(&str) -> bool + Send + Sync>;

/// What one read gave.
#[derive(Debug, PartialEq, Eq)]
pub enum Line {
    /// A line (without its line break).
    Text(String),
    /// Ctrl-C on an empty line.
    Interrupted,
    /// Ctrl-D, or the end of stdin.
    End,
}

enum Kind {
    /// Lines of stdin; a prompt on stderr when stdin is a terminal.
    Piped { prompt: bool },
    /// The line editor.
    Editor {
        history: Option<PathBuf>,
        holds_key: KeyFilter,
    },
}

pub(crate) struct Request {
    pub(crate) prompt: String,
    pub(crate) remember: bool,
}

struct Reader {
    requests: Option<std::sync::mpsc::Sender<Request>>,
    lines: mpsc::Receiver<Line>,
}

struct State {
    reader: Option<Reader>,
    /// A prompt was shown and its line has not arrived: a read abandoned at a deadline. The
    /// next read takes that line instead of prompting again.
    pending: bool,
}

/// The user's input.
pub struct Input {
    kind: Kind,
    state: Mutex<State>,
}

impl Input {
    fn with(kind: Kind) -> Self {
        Self {
            kind,
            state: Mutex::new(State {
                reader: None,
                pending: false,
            }),
        }
    }

    /// Answers to questions during `ask`: the next line of stdin (prompted on a terminal).
    pub fn lines() -> Self {
        Self::with(Kind::Piped {
            prompt: std::io::stdin().is_terminal(),
        })
    }

    /// A conversation's input: the line editor on a terminal, lines of stdin otherwise.
    pub fn conversation(holds_key: KeyFilter) -> Self {
        if std::io::stdin().is_terminal() {
            Self::with(Kind::Editor {
                history: history_file(),
                holds_key,
            })
        } else {
            Self::with(Kind::Piped { prompt: false })
        }
    }

    /// Whether a person types at a line editor (and Ctrl-C is theirs to stop a reply).
    pub fn is_editor(&self) -> bool {
        matches!(self.kind, Kind::Editor { .. })
    }

    /// Whether a prompt is still waiting for its line (a question that outlived its reply's
    /// deadline): the next read takes that line without prompting again.
    pub fn awaiting(&self) -> bool {
        self.state.try_lock().is_ok_and(|state| state.pending)
    }

    /// The next line, prompted with `prompt`; `remember` puts it in the editor's history.
    pub async fn read(&self, prompt: &str, remember: bool) -> Line {
        let mut state = self.state.lock().await;
        let state = &mut *state;
        let reader = state.reader.get_or_insert_with(|| self.start());
        if !state.pending {
            match (&self.kind, &reader.requests) {
                (Kind::Piped { prompt: true }, _) => {
                    let mut err = std::io::stderr().lock();
                    let _ = write!(err, "{prompt}");
                    let _ = err.flush();
                }
                (Kind::Editor { .. }, Some(requests)) => {
                    let request = Request {
                        prompt: prompt.to_string(),
                        remember,
                    };
                    if requests.send(request).is_err() {
                        return Line::End;
                    }
                }
                _ => {}
            }
            state.pending = true;
        }
        let line = reader.lines.recv().await.unwrap_or(Line::End);
        state.pending = false;
        line
    }

    /// Starts the reading thread. A plain thread, not the runtime's blocking pool: the process
    /// may end while it still waits for a line.
    fn start(&self) -> Reader {
        let (tx, lines) = mpsc::channel(1);
        match &self.kind {
            Kind::Piped { .. } => {
                let spawned = std::thread::Builder::new()
                    .name("stdin".into())
                    .spawn(move || read_stdin(&tx));
                if spawned.is_err() {
                    return closed();
                }
                Reader {
                    requests: None,
                    lines,
                }
            }
            Kind::Editor { history, holds_key } => {
                let (requests, rx) = std::sync::mpsc::channel();
                let (history, holds_key) = (history.clone(), holds_key.clone());
                let spawned = std::thread::Builder::new()
                    .name("line-editor".into())
                    .spawn(move || crate::editor::serve(&rx, &tx, history, &holds_key));
                if spawned.is_err() {
                    return closed();
                }
                Reader {
                    requests: Some(requests),
                    lines,
                }
            }
        }
    }
}

/// A reader that has ended.
fn closed() -> Reader {
    let (_, lines) = mpsc::channel(1);
    Reader {
        requests: None,
        lines,
    }
}

/// Each line of stdin, then [`Line::End`]. Invalid UTF-8 is replaced, not fatal.
fn read_stdin(tx: &mpsc::Sender<Line>) {
    let stdin = std::io::stdin();
    loop {
        let mut bytes = Vec::new();
        match stdin.lock().read_until(b'\n', &mut bytes) {
            Ok(0) | Err(_) => {
                let _ = tx.blocking_send(Line::End);
                return;
            }
            Ok(_) => {
                let text = String::from_utf8_lossy(&bytes);
                let line = text.trim_end_matches(['\n', '\r']).to_string();
                if tx.blocking_send(Line::Text(line)).is_err() {
                    return;
                }
            }
        }
    }
}

/// Where the chat history lives: `<data dir>/assist/chat-history` (on Linux
/// `$XDG_DATA_HOME/assist/chat-history`, by default `~/.local/share/assist/chat-history`).
pub fn history_file() -> Option<PathBuf> {
    Some(dirs::data_dir()?.join("assist").join("chat-history"))
}
