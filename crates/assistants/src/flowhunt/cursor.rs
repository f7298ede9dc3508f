//! Where an `ask` stream stands: cheap to hand out with every event, complete when stored.
//!
//! A cursor is the boundary timestamp plus the ids already delivered at exactly that
//! millisecond. Every event of a stream carries one, and a burst of N events sharing one
//! millisecond would make N cursors of up to N ids each if every cursor owned its ids. So the
//! ids live in one append-only list per boundary, shared by the cursors of that boundary, and
//! each cursor remembers how much of it it covers: memory stays linear in events.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, MutexGuard};

use serde::{Deserialize, Serialize};

/// Where an `ask` stream stands; serialise it to resume after a restart with nothing lost and
/// nothing repeated ([`Session::resume`](super::Session::resume)). Its JSON Schema
/// (`schemars::schema_for!(Cursor)`) describes the stored form.
///
/// ```
/// let cursor = assistants::Cursor::at("session-1", 1_733_000_000_000);
/// let stored = serde_json::to_string(&cursor).unwrap();
/// let back: assistants::Cursor = serde_json::from_str(&stored).unwrap();
/// assert_eq!(back, cursor);
/// ```
#[derive(Clone)]
pub struct Cursor {
    session_id: Arc<str>,
    from_timestamp: u64,
    boundary: Boundary,
    invocation_timestamp: Option<u64>,
    message: Arc<str>,
}

/// A prefix of one boundary's shared id list.
#[derive(Clone, Default)]
struct Boundary {
    ids: Arc<Mutex<Vec<Arc<str>>>>,
    len: usize,
}

impl Boundary {
    fn lock(&self) -> MutexGuard<'_, Vec<Arc<str>>> {
        // Appends are single pushes: a panic elsewhere cannot leave the list inconsistent.
        self.ids.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn ids(&self) -> Vec<Arc<str>> {
        self.lock()[..self.len].to_vec()
    }
}

/// The stored form of a [`Cursor`] (unchanged since cursors were first stored).
#[derive(Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "Cursor")]
struct Stored {
    /// The session.
    session_id: String,
    /// Everything before this epoch-ms timestamp has been delivered.
    from_timestamp: u64,
    /// Ids of the delivered events at exactly `from_timestamp`.
    seen_at_boundary: BTreeSet<String>,
    /// AI messages before this timestamp belong to earlier turns (`None`: not known yet).
    invocation_timestamp: Option<u64>,
    /// The user's message, to recognise its echo when the invocation's timestamp is unknown.
    message: String,
}

impl Cursor {
    /// A cursor for `session_id` at `from_timestamp` (epoch ms), nothing delivered there yet.
    pub fn at(session_id: impl Into<String>, from_timestamp: u64) -> Self {
        Self {
            session_id: session_id.into().into(),
            from_timestamp,
            boundary: Boundary::default(),
            invocation_timestamp: None,
            message: "".into(),
        }
    }

    /// This cursor knowing when its invocation started: AI messages before it are earlier
    /// turns'.
    pub fn with_invocation_timestamp(mut self, timestamp: Option<u64>) -> Self {
        self.invocation_timestamp = timestamp;
        self
    }

    /// This cursor knowing the user's message (its echo marks the invocation's start).
    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.message = message.into().into();
        self
    }

    /// The session.
    pub fn session_id(&self) -> &str {
        &self.session_id
    }

    /// Everything before this epoch-ms timestamp has been delivered.
    pub fn from_timestamp(&self) -> u64 {
        self.from_timestamp
    }

    /// Ids of the delivered events at exactly [`Cursor::from_timestamp`].
    pub fn seen_at_boundary(&self) -> BTreeSet<String> {
        self.boundary.ids().iter().map(|id| id.to_string()).collect()
    }

    /// When the invocation started, if known.
    pub fn invocation_timestamp(&self) -> Option<u64> {
        self.invocation_timestamp
    }

    /// The user's message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Whether the event `id` at `timestamp` was delivered before this cursor.
    /// Whether both cursors read one boundary list (tests of memory sharing).
    #[cfg(test)]
    pub(crate) fn shares_boundary_with(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.boundary.ids, &other.boundary.ids)
    }

    #[cfg(test)]
    fn delivered(&self, timestamp: u64, id: &str) -> bool {
        timestamp < self.from_timestamp
            || (timestamp == self.from_timestamp
                && self.boundary.lock()[..self.boundary.len]
                    .iter()
                    .any(|seen| &**seen == id))
    }

    /// Moves past the event `id` at `timestamp` (never backwards).
    pub(crate) fn advance(&mut self, timestamp: u64, id: &str) {
        if timestamp > self.from_timestamp {
            self.from_timestamp = timestamp;
            self.boundary = Boundary::default();
        }
        if timestamp == self.from_timestamp {
            let mut ids = self.boundary.lock();
            // Another cursor of this boundary may have moved on: branch off its list.
            if ids.len() != self.boundary.len {
                let mine = ids[..self.boundary.len].to_vec();
                drop(ids);
                self.boundary.ids = Arc::new(Mutex::new(mine));
                ids = self.boundary.lock();
            }
            ids.push(id.into());
            drop(ids);
            self.boundary.len += 1;
        }
    }

    /// Records when the invocation started.
    pub(crate) fn set_invocation_timestamp(&mut self, timestamp: u64) {
        self.invocation_timestamp = Some(timestamp);
    }

    /// Starts from the invocation's own timestamp.
    pub(crate) fn start_at(&mut self, timestamp: u64) {
        self.invocation_timestamp = Some(timestamp);
        if timestamp > self.from_timestamp {
            self.from_timestamp = timestamp;
            self.boundary = Boundary::default();
        }
    }

    fn stored(&self) -> Stored {
        Stored {
            session_id: self.session_id.to_string(),
            from_timestamp: self.from_timestamp,
            seen_at_boundary: self.seen_at_boundary(),
            invocation_timestamp: self.invocation_timestamp,
            message: self.message.to_string(),
        }
    }
}

impl PartialEq for Cursor {
    fn eq(&self, other: &Self) -> bool {
        self.session_id == other.session_id
            && self.from_timestamp == other.from_timestamp
            && self.invocation_timestamp == other.invocation_timestamp
            && self.message == other.message
            && self.seen_at_boundary() == other.seen_at_boundary()
    }
}

impl Eq for Cursor {}

impl std::fmt::Debug for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cursor")
            .field("session_id", &self.session_id)
            .field("from_timestamp", &self.from_timestamp)
            .field("seen_at_boundary", &self.boundary.len)
            .field("invocation_timestamp", &self.invocation_timestamp)
            .finish_non_exhaustive()
    }
}

impl Serialize for Cursor {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.stored().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Cursor {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let stored = Stored::deserialize(deserializer)?;
        let ids: Vec<Arc<str>> = stored.seen_at_boundary.into_iter().map(Arc::from).collect();
        Ok(Self {
            session_id: stored.session_id.into(),
            from_timestamp: stored.from_timestamp,
            boundary: Boundary {
                len: ids.len(),
                ids: Arc::new(Mutex::new(ids)),
            },
            invocation_timestamp: stored.invocation_timestamp,
            message: stored.message.into(),
        })
    }
}

impl schemars::JsonSchema for Cursor {
    fn schema_name() -> String {
        "Cursor".into()
    }

    fn json_schema(generator: &mut schemars::r#gen::SchemaGenerator) -> schemars::schema::Schema {
        Stored::json_schema(generator)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_differ_by_every_field_and_debug_shows_no_message() {
        let make = |session: &str, from: u64, at: Option<u64>, message: &str| {
            Cursor::at(session, from)
                .with_invocation_timestamp(at)
                .with_message(message)
        };
        let base = make("s", 5, Some(4), "m");
        assert_eq!(base, make("s", 5, Some(4), "m"));
        for other in [
            make("t", 5, Some(4), "m"),
            make("s", 6, Some(4), "m"),
            make("s", 5, Some(3), "m"),
            make("s", 5, Some(4), "n"),
        ] {
            assert_ne!(base, other);
        }
        let mut seen = base.clone();
        seen.advance(5, "e1");
        assert_ne!(base, seen, "the ids seen at the boundary count");
        assert_eq!(
            format!("{seen:?}"),
            r#"Cursor { session_id: "s", from_timestamp: 5, seen_at_boundary: 1, invocation_timestamp: Some(4), .. }"#
        );
        assert_eq!(<Cursor as schemars::JsonSchema>::schema_name(), "Cursor");
    }

    #[test]
    fn starting_at_the_boundary_millisecond_keeps_its_ids() {
        let mut cursor = Cursor::at("s", 0);
        cursor.advance(1000, "e1");
        cursor.start_at(1000);
        assert_eq!(cursor.seen_at_boundary().len(), 1, "e1 is not delivered again");
        cursor.start_at(1001);
        assert!(cursor.seen_at_boundary().is_empty());
        assert_eq!(cursor.from_timestamp(), 1001);
    }

    #[test]
    fn cursors_of_one_boundary_share_their_ids_and_each_sees_its_own_prefix() {
        let mut cursor = Cursor::at("s", 10);
        let mut handed_out = Vec::new();
        for i in 0..1000 {
            cursor.advance(10, &format!("e{i}"));
            handed_out.push(cursor.clone());
        }
        assert_eq!(handed_out[0].seen_at_boundary().len(), 1);
        assert_eq!(handed_out[999].seen_at_boundary().len(), 1000);
        assert!(
            Arc::ptr_eq(&handed_out[0].boundary.ids, &handed_out[999].boundary.ids),
            "one list"
        );
        assert!(handed_out[10].delivered(10, "e10") && !handed_out[10].delivered(10, "e11"));
        // A cursor advanced from an old copy branches off instead of corrupting the others.
        let mut old = handed_out[0].clone();
        old.advance(10, "other");
        assert_eq!(old.seen_at_boundary(), ["e0", "other"].map(String::from).into());
        assert_eq!(
            handed_out[1].seen_at_boundary(),
            ["e0", "e1"].map(String::from).into()
        );
        cursor.advance(11, "next");
        assert_eq!(cursor.seen_at_boundary().len(), 1);
        assert!(cursor.delivered(10, "anything"));
    }
}
