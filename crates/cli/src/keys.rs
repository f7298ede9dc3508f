//! API keys from the environment, `--api-key-file PATH` (or `-`: the first line of stdin) or
//! `--api-key`: trimmed of surrounding whitespace, checked for being text, never echoed.

use std::io::{BufRead, Read};
use std::path::Path;

use crate::context::Failure;

/// Largest key file read: keys are short, and a large file is a mistake.
const MAX_KEY_FILE: u64 = 64 * 1024;

/// What an environment variable holds.
#[derive(Debug)]
pub enum EnvKey {
    /// Unset or only whitespace.
    Missing,
    /// Set, but not UTF-8: reported as such, not as "not set".
    NotText,
    /// The key, trimmed.
    Key(String),
}

/// Reads `name` from the environment.
pub fn from_env(name: &str) -> EnvKey {
    match std::env::var_os(name) {
        None => EnvKey::Missing,
        Some(value) => match value.to_str() {
            None => EnvKey::NotText,
            Some(text) if text.trim().is_empty() => EnvKey::Missing,
            Some(text) => EnvKey::Key(text.trim().to_string()),
        },
    }
}

/// A key given on the command line, trimmed; `None` when it is empty.
pub fn from_flag(key: &str) -> Option<String> {
    Some(key.trim().to_string()).filter(|k| !k.is_empty())
}

/// Reads the key from `path`, or from the first line of stdin when `path` is `-` (the rest of
/// stdin is left for the command).
pub fn from_file(path: &Path) -> Result<String, Failure> {
    let (bytes, from) = if path == Path::new("-") {
        let mut line = Vec::new();
        std::io::stdin()
            .lock()
            .take(MAX_KEY_FILE)
            .read_until(b'\n', &mut line)
            .map_err(|e| Failure::usage(format!("cannot read the API key from stdin: {e}")))?;
        (line, "stdin".to_string())
    } else {
        let from = format!("{}", path.display());
        let file = std::fs::File::open(path)
            .map_err(|e| Failure::usage(format!("cannot read the API key file {from}: {e}")))?;
        let mut bytes = Vec::new();
        file.take(MAX_KEY_FILE + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| Failure::usage(format!("cannot read the API key file {from}: {e}")))?;
        if bytes.len() as u64 > MAX_KEY_FILE {
            return Err(Failure::usage(format!(
                "the API key file {from} is larger than {MAX_KEY_FILE} bytes: it does not hold just a key"
            )));
        }
        (bytes, from)
    };
    let text = String::from_utf8(bytes)
        .map_err(|_| Failure::usage(format!("the API key from {from} is not valid UTF-8")))?;
    let key = text.trim();
    if key.is_empty() {
        return Err(Failure::usage(format!("{from} holds no API key")));
    }
    if key.chars().any(char::is_control) {
        return Err(Failure::usage(format!(
            "the API key from {from} spans several lines or holds control characters: put only the key in it"
        )));
    }
    Ok(key.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_files_are_trimmed_and_checked() {
        let dir = std::env::temp_dir().join(format!("assist-keys-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = |name: &str, bytes: &[u8]| {
            let path = dir.join(name);
            std::fs::write(&path, bytes).unwrap();
            path
        };
        assert_eq!(from_file(&file("ok", b"  fg_key \n")).unwrap(), "fg_key");
        let two = from_file(&file("two", b"fg_key\nsecond_line\n")).unwrap_err();
        assert!(!two.message.contains("fg_key"), "never echoed: {}", two.message);
        assert!(
            from_file(&file("empty", b" \n"))
                .unwrap_err()
                .message
                .contains("holds no API key")
        );
        assert!(
            from_file(&file("bin", b"\xff\xfe"))
                .unwrap_err()
                .message
                .contains("not valid UTF-8")
        );
        assert!(from_file(&dir.join("absent")).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(from_flag("  k  ").as_deref(), Some("k"));
        assert_eq!(from_flag("   "), None);
    }
}
