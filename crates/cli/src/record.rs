//! What `--json` prints: one [`Record`] per line, tagged by `type`. `assist schema` prints the
//! JSON Schema of a line, derived from these types, so a script can validate what it reads.

use assistants::{Outcome, TurnMessage};
use schemars::JsonSchema;
use serde::Serialize;

/// A service's own object, shaped as its spec in `specs/` describes it.
pub type Payload = serde_json::Map<String, serde_json::Value>;

/// A service's object as a [`Payload`].
pub fn payload(value: &impl Serialize) -> Payload {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::Object(map)) => map,
        _ => Payload::new(), // the generated types always serialise to objects
    }
}

/// A message: of the turn that just ended, or of a chat's history.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum MessageRecord {
    /// A message of the turn, as the facade reports it.
    Turn(TurnMessage),
    /// A FlowGen `Message` (specs/flowgen.yaml).
    History(Payload),
}

/// How a Pieces conversation changed.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// It appeared.
    Added,
    /// It was deleted.
    Removed,
}

/// One line of `--json` output.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Record {
    /// The demo's sandbox listens here.
    Sandbox {
        /// Its base URL.
        base_url: String,
    },
    /// The FlowHunt session asked.
    Session {
        /// Its id.
        session_id: String,
    },
    /// A FlowHunt event as it arrives: a `FlowSessionEvent` (specs/flowhunt.yaml).
    Event {
        /// Always `flowhunt`.
        service: String,
        /// The event.
        event: Payload,
        /// Where the stream stands after this event: `assist flowhunt resume` continues from
        /// it after an interruption.
        #[serde(skip_serializing_if = "Option::is_none")]
        cursor: Option<assistants::Cursor>,
    },
    /// A FlowGen chat: the one asked, or one of a listing (with the whole `Chat`).
    Chat {
        /// Its id.
        chat_id: String,
        /// The chat (specs/flowgen.yaml `Chat`), in listings.
        #[serde(skip_serializing_if = "Option::is_none")]
        chat: Option<Payload>,
    },
    /// A FlowGen status change, or a question the assistant asks.
    Status {
        /// The chat's status.
        status: String,
        /// The question, when it waits for input.
        #[serde(skip_serializing_if = "Option::is_none")]
        prompt: Option<String>,
        /// The answer given, when the command answers by itself (the demo).
        #[serde(skip_serializing_if = "Option::is_none")]
        answer: Option<String>,
    },
    /// A message.
    Message {
        /// The message.
        message: MessageRecord,
    },
    /// How the assistant's turn ended.
    Outcome {
        /// The outcome.
        outcome: Outcome,
    },
    /// A row of the demo's closing table.
    Summary {
        /// The service.
        service: String,
        /// How it went.
        outcome: String,
        /// Requests the sandbox served for it.
        requests: u64,
        /// Wall time.
        seconds: f64,
    },
    /// A Pieces conversation of a listing.
    Conversation {
        /// Its id.
        id: String,
        /// Its name (empty when it has none).
        name: String,
    },
    /// A Pieces conversation was created.
    Created {
        /// Its id.
        id: String,
        /// Its name.
        name: String,
    },
    /// Something was deleted.
    Deleted {
        /// `flowgen` (a chat) or `pieces` (a conversation).
        service: String,
        /// Its id.
        id: String,
    },
    /// A Pieces conversation changed (`assist pieces watch`).
    Change {
        /// How.
        change: Change,
        /// The conversation.
        id: String,
    },
    /// The command failed; the exit code says how.
    Error {
        /// The process's exit code.
        exit_code: u8,
        /// What went wrong and what to do.
        message: String,
    },
}

/// The JSON Schema of one `--json` line.
pub fn schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(Record)).unwrap_or_default()
}
