//! Server text made safe for a terminal: the one sanitiser every human print path uses.
//!
//! A hostile or careless server can put escape sequences into answers, names, ids and error
//! bodies: OSC title changes, screen clears, OSC-8 links, `\r` that overwrites a line, or
//! bidirectional overrides that reorder what is shown. Human output shows such characters
//! escaped (`\u{1b}`), so what the terminal displays is what the server sent. `--json` is left
//! alone: serde_json already escapes every control character.

use std::borrow::Cow;

/// Whether line breaks survive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Newlines {
    /// Keep `\n` (answers, which are multi-line Markdown).
    Keep,
    /// Escape `\n` too (ids, names, statuses, error lines: one line each).
    Escape,
}

/// Whether a character must not reach a terminal as it is.
fn is_unsafe(c: char, newlines: Newlines) -> bool {
    match c {
        '\n' => newlines == Newlines::Escape,
        '\t' => false,
        // Bidirectional embeddings, overrides and isolates reorder the text around them.
        '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => true,
        // C0, DEL and C1 controls (C1 includes the 8-bit CSI and OSC introducers).
        c => c.is_control(),
    }
}

/// `text` with every control character (and bidi override) escaped; `\n` kept or escaped.
pub fn sanitize(text: &str, newlines: Newlines) -> Cow<'_, str> {
    if !text.chars().any(|c| is_unsafe(c, newlines)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if is_unsafe(c, newlines) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Server text shown on one line: an id, a name, a status, an error.
pub fn one_line(text: &str) -> Cow<'_, str> {
    sanitize(text, Newlines::Escape)
}

/// Server text shown as it is written, line breaks kept: an answer, a message.
pub fn multi_line(text: &str) -> Cow<'_, str> {
    sanitize(text, Newlines::Keep)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_are_shown_not_obeyed() {
        let hostile = "\u{1b}]0;pwned\u{7}title \u{1b}[2J\u{1b}]8;;http://evil\u{1b}\\link\u{1b}]8;;\u{1b}\\ \rfake \u{9b}31m \u{202e}txt";
        let shown = one_line(hostile);
        assert!(!shown.chars().any(|c| c.is_control()), "{shown}");
        assert!(!shown.contains('\u{202e}'));
        assert!(shown.contains("\\u{1b}]0;pwned\\u{7}title"), "{shown}");
        assert!(shown.contains("\\r"), "{shown}");
    }

    #[test]
    fn answers_keep_their_lines_and_ordinary_text_is_untouched() {
        assert_eq!(multi_line("a\nb\tc"), "a\nb\tc");
        assert_eq!(one_line("a\nb"), "a\\nb");
        assert_eq!(multi_line("a\r\nb"), "a\\r\nb");
        assert!(matches!(one_line("héllo wörld ✓"), Cow::Borrowed(_)));
    }
}
