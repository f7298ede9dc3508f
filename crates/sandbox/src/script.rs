//! The scripted assistant: deterministic replies derived from the message.
//!
//! | message contains (case-insensitive) | what happens |
//! | --- | --- |
//! | `[fail]` | the run fails: FlowHunt emits a `failed` event, FlowGen ends `failed` (`error` in the documented contract) |
//! | `approval` or `human input` | the assistant asks a question first: FlowHunt ends the invocation with `hook_waiting_for_input`; FlowGen goes to `wait_for_human_input` and continues after `/input` |
//! | anything else | the assistant answers |
//!
//! The answer is always `Answer to "<message>": <n> words received.` so tests can predict it.
//! After human input, FlowGen answers `Thanks, received "<input>". Done: <message>`.

/// What the assistant does with a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// Answers with this text.
    Answer(String),
    /// Asks the user this question first.
    NeedsInput(String),
    /// Fails with this reason.
    Fail(String),
}

/// The scripted reply to `message`.
pub fn reply(message: &str) -> Reply {
    let lower = message.to_lowercase();
    if lower.contains("[fail]") {
        Reply::Fail(failure())
    } else if lower.contains("approval") || lower.contains("human input") {
        Reply::NeedsInput(question(message))
    } else {
        Reply::Answer(answer(message))
    }
}

/// The question asked before answering `message`.
pub fn question(message: &str) -> String {
    format!("Do you approve this request: \"{message}\"? (yes/no)")
}

/// The reason of a scripted failure.
pub fn failure() -> String {
    "scripted failure requested by [fail]".to_string()
}

/// The answer text for `message`.
pub fn answer(message: &str) -> String {
    format!(
        "Answer to \"{message}\": {} words received.",
        message.split_whitespace().count()
    )
}

/// The text FlowGen produces after receiving human input.
pub fn after_input(message: &str, input: &str) -> String {
    format!("Thanks, received \"{}\". Done: {message}", input.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_is_deterministic() {
        assert_eq!(
            reply("hello there"),
            Reply::Answer("Answer to \"hello there\": 2 words received.".into())
        );
        assert!(
            matches!(reply("Deploy it, but ask for my APPROVAL"), Reply::NeedsInput(p) if p.contains("approve"))
        );
        assert!(matches!(reply("please [FAIL] now"), Reply::Fail(_)));
    }
}
