//! One outcome model for all three services.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Who wrote a message of a turn.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The user.
    User,
    /// The assistant (or one of its agents).
    Assistant,
    /// The service itself.
    System,
}

/// A message of the turn that produced an outcome.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TurnMessage {
    /// Who wrote it.
    pub role: Role,
    /// The agent or sender name, when the service gives one.
    pub author: Option<String>,
    /// The text (markdown).
    pub text: String,
}

/// How an assistant's turn ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// The assistant answered.
    Completed {
        /// The final answer.
        answer: String,
        /// The messages of this turn, oldest first.
        messages: Vec<TurnMessage>,
    },
    /// The assistant waits for the user (a question, an approval, an integration to connect).
    NeedsInput {
        /// What it asks.
        prompt: String,
    },
    /// The run failed or was stopped.
    Failed {
        /// Why, in the service's words where it gives them.
        reason: String,
    },
}

impl Outcome {
    /// The answer of a completed turn.
    pub fn answer(&self) -> Option<&str> {
        match self {
            Self::Completed { answer, .. } => Some(answer),
            _ => None,
        }
    }
}
