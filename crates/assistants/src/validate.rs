//! Input checks made before anything is sent: a request that cannot be right never leaves.

use crate::config::Settings;
use crate::error::Error;

/// Longest id accepted; real ids are far shorter.
const MAX_ID_BYTES: usize = 1024;

/// Rejects ids that cannot be a real id: empty, over-long, a dot segment (`.`, `..`), which
/// would climb out of its path segment (`DELETE /chats/..` is `DELETE /`), or holding control
/// characters. Every facade operation checks its ids with it before anything is sent; a
/// program can check user input the same way before it prints or creates anything.
///
/// # Errors
/// [`Error::InvalidArgument`] saying what is wrong with `what`.
///
/// ```
/// assert!(assistants::check_id("chat id", "k2j4h6g8f0d1s3a").is_ok());
/// assert!(assistants::check_id("chat id", "..").is_err());
/// ```
pub fn check_id(what: &str, id: &str) -> Result<(), Error> {
    if id.trim().is_empty() {
        return Err(Error::InvalidArgument(format!("{what} is empty")));
    }
    if id.len() > MAX_ID_BYTES {
        return Err(Error::InvalidArgument(format!(
            "{what} is {} bytes long; ids are at most {MAX_ID_BYTES}",
            id.len()
        )));
    }
    if id == "." || id == ".." {
        return Err(Error::InvalidArgument(format!(
            "{what} {id:?} is a path segment, not an id"
        )));
    }
    if id.chars().any(char::is_control) {
        return Err(Error::InvalidArgument(format!("{what} holds control characters")));
    }
    Ok(())
}

/// Rejects empty or oversized messages before any request is made.
#[cfg_attr(not(any(feature = "flowhunt", feature = "flowgen")), allow(dead_code))]
pub(crate) fn check_message(settings: &Settings, message: &str) -> Result<(), Error> {
    if message.trim().is_empty() {
        return Err(Error::InvalidArgument("the message is empty".into()));
    }
    if message.len() > settings.max_message_bytes {
        return Err(Error::InvalidArgument(format!(
            "the message is {} bytes; the limit is {} (Settings::max_message_bytes)",
            message.len(),
            settings.max_message_bytes
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_segments_empty_and_huge_ids_are_rejected_and_real_ids_pass() {
        for bad in ["", "  ", ".", "..", &"x".repeat(MAX_ID_BYTES + 1)] {
            assert!(
                matches!(check_id("chat id", bad), Err(Error::InvalidArgument(_))),
                "{bad:?}"
            );
        }
        for good in [
            "k2j4h6g8f0d1s3a",
            "...",
            ".hidden",
            "a/b",
            "a..b",
            &"x".repeat(MAX_ID_BYTES),
        ] {
            assert!(check_id("chat id", good).is_ok(), "{good:?}");
        }
    }

    #[test]
    fn a_message_up_to_the_limit_passes_and_one_byte_more_is_rejected() {
        let settings = Settings::default().with_max_message_bytes(16);
        assert!(check_message(&settings, &"x".repeat(16)).is_ok());
        let error = check_message(&settings, &"x".repeat(17)).unwrap_err();
        assert!(
            matches!(&error, Error::InvalidArgument(m) if m.contains("17 bytes") && m.contains("Settings::max_message_bytes")),
            "{error:?}"
        );
        assert!(matches!(
            check_message(&settings, " \n"),
            Err(Error::InvalidArgument(_))
        ));
    }
}
