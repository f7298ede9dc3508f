//! The terminal line editor (rustyline) on its own thread: one prompt per request, each line
//! sent back over a channel.
//!
//! Keys: Enter sends; Alt-Enter (or Esc then Enter) starts a new line in the same message;
//! Up/Down walk the history; Ctrl-C clears the line, or leaves on an empty one; Ctrl-D leaves.
//! History is saved after each message, never holding a line with a key in use, in a file only
//! its owner can read.

use std::path::{Path, PathBuf};

use rustyline::error::ReadlineError;
use rustyline::history::FileHistory;
use rustyline::{
    Cmd, ConditionalEventHandler, Editor, Event, EventContext, EventHandler, KeyCode, KeyEvent, Modifiers,
    Movement, RepeatCount,
};
use tokio::sync::mpsc;

use crate::input::{KeyFilter, Line};

/// Entries kept in the history file.
const HISTORY_ENTRIES: usize = 1000;

/// Ctrl-C: clear a line that has text; on an empty line, leave.
struct ClearOrLeave;

impl ConditionalEventHandler for ClearOrLeave {
    fn handle(&self, _: &Event, _: RepeatCount, _: bool, ctx: &EventContext) -> Option<Cmd> {
        Some(if ctx.line().is_empty() {
            Cmd::Interrupt
        } else {
            Cmd::Kill(Movement::WholeBuffer)
        })
    }
}

/// Creates the history file readable by its owner only (its content is the user's messages).
fn prepare(path: &Path) {
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let _ = options.open(path);
}

fn editor() -> rustyline::Result<Editor<(), FileHistory>> {
    let config = rustyline::Config::builder()
        .auto_add_history(false)
        .history_ignore_dups(true)?
        .history_ignore_space(true)
        .max_history_size(HISTORY_ENTRIES)?
        .build();
    let mut editor = Editor::with_config(config)?;
    editor.bind_sequence(
        KeyEvent(KeyCode::Enter, Modifiers::ALT),
        EventHandler::Simple(Cmd::Newline),
    );
    editor.bind_sequence(
        KeyEvent::ctrl('C'),
        EventHandler::Conditional(Box::new(ClearOrLeave)),
    );
    Ok(editor)
}

/// Serves read requests until the requester leaves or the terminal ends.
pub fn serve(
    requests: &std::sync::mpsc::Receiver<crate::input::Request>,
    lines: &mpsc::Sender<Line>,
    history: Option<PathBuf>,
    holds_key: &KeyFilter,
) {
    let Ok(mut editor) = editor() else {
        let _ = lines.blocking_send(Line::End);
        return;
    };
    if let Some(path) = &history {
        prepare(path);
        let _ = editor.load_history(path);
    }
    while let Ok(request) = requests.recv() {
        let line = match editor.readline(&request.prompt) {
            Ok(text) => {
                if request.remember && !text.trim().is_empty() && !holds_key(&text) {
                    let _ = editor.add_history_entry(text.as_str());
                    if let Some(path) = &history {
                        let _ = editor.save_history(path);
                    }
                }
                Line::Text(text)
            }
            Err(ReadlineError::Interrupted) => Line::Interrupted,
            Err(_) => Line::End,
        };
        if lines.blocking_send(line).is_err() {
            return;
        }
    }
}
