//! What FlowHunt events mean: their timestamps, their text, and the outcome an event ends an
//! invocation with. FlowHunt has no "done" flag; the end is recognised by `action_type`.

use flowhunt_api::types::{FlowEventActionType, FlowSessionEvent, MessageType};

use crate::error::{Error, Service};
use crate::outcome::{Outcome, Role, TurnMessage};

/// The event's `created_at_timestamp` in epoch milliseconds.
///
/// FlowHunt sends an integer string; a float string (`"1733000000000.0"`) is accepted too.
///
/// # Errors
/// [`Error::Decode`] for anything else: such an event is never silently taken for time zero
/// (and dropped as already seen).
pub(crate) fn timestamp(event: &FlowSessionEvent) -> Result<u64, Error> {
    let raw = event.created_at_timestamp.trim();
    if let Ok(ms) = raw.parse::<u64>() {
        return Ok(ms);
    }
    match raw.parse::<f64>() {
        // 2^53: beyond it a float no longer holds whole milliseconds.
        Ok(ms) if ms.is_finite() && (0.0..9_007_199_254_740_992.0).contains(&ms) => Ok(ms as u64),
        _ => Err(Error::Decode {
            service: Service::FlowHunt,
            message: format!(
                "event {:?} has created_at_timestamp {:?}, which is not an epoch-ms timestamp",
                crate::convert::excerpt(&event.event_id),
                crate::convert::excerpt(raw)
            ),
            excerpt: String::new(),
        }),
    }
}

/// A text field of the event's metadata.
pub(crate) fn text_of(event: &FlowSessionEvent, field: &str) -> Option<String> {
    event.metadata.as_ref()?.get(field)?.as_str().map(str::to_string)
}

/// The role of an event's author.
pub(crate) fn role(event: &FlowSessionEvent) -> Role {
    match event.event_type {
        MessageType::Human => Role::User,
        MessageType::Ai => Role::Assistant,
        _ => Role::System,
    }
}

/// The message an event adds to the turn's transcript, if it is one of this turn's messages.
pub(crate) fn turn_message(event: &FlowSessionEvent, this_turn: bool) -> Option<TurnMessage> {
    if event.action_type != FlowEventActionType::Message || !this_turn {
        return None;
    }
    Some(TurnMessage {
        role: role(event),
        author: event.component_name.clone(),
        text: text_of(event, "message")?,
    })
}

/// The outcome `event` ends the invocation with, if it does; `messages` is the turn so far.
///
/// An AI message ends the turn only when it belongs to this turn: a welcome message or an
/// earlier answer never becomes the answer.
pub(crate) fn outcome(
    event: &FlowSessionEvent,
    this_turn: bool,
    messages: &mut Vec<TurnMessage>,
) -> Option<Outcome> {
    let prompt = |default: String| text_of(event, "prompt_message").unwrap_or(default);
    match &event.action_type {
        FlowEventActionType::Message if event.event_type == MessageType::Ai && this_turn => {
            Some(Outcome::Completed {
                answer: text_of(event, "message").unwrap_or_default(),
                messages: std::mem::take(messages),
            })
        }
        FlowEventActionType::Failed => Some(Outcome::Failed {
            reason: text_of(event, "message").unwrap_or_else(|| "the assistant reported a failure".into()),
        }),
        FlowEventActionType::SessionClosed => Some(Outcome::Failed {
            reason: "the session was closed; create a new session".into(),
        }),
        FlowEventActionType::HookWaitingForInput => Some(Outcome::NeedsInput {
            prompt: prompt("the assistant waits for input".into()),
        }),
        FlowEventActionType::HitlApprovalRequested => Some(Outcome::NeedsInput {
            prompt: format!(
                "approve the call of tool {}?",
                text_of(event, "tool_name").unwrap_or_default()
            ),
        }),
        FlowEventActionType::EvaluateClientJs => Some(Outcome::NeedsInput {
            prompt: "run the requested script in the client".into(),
        }),
        FlowEventActionType::IntegrationMissing => Some(Outcome::NeedsInput {
            prompt: format!(
                "connect the integration at {}",
                text_of(event, "integration_url").unwrap_or_default()
            ),
        }),
        FlowEventActionType::FileAccessRequired => Some(Outcome::NeedsInput {
            prompt: text_of(event, "message")
                .filter(|m| !m.is_empty())
                .unwrap_or_else(|| "grant access to the document".into()),
        }),
        _ => None, // progress, including action types this crate does not know
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(ts: &str) -> FlowSessionEvent {
        serde_json::from_value(serde_json::json!({
            "workspace_id": "w", "session_id": "s", "event_id": "e", "event_type": "ai",
            "created_at_timestamp": ts, "action_type": "loading", "credits": 0,
        }))
        .expect("a valid event")
    }

    /// An event by `event_type` of `action_type` with `metadata`, from component "Agent".
    fn event_of(event_type: &str, action_type: &str, metadata: serde_json::Value) -> FlowSessionEvent {
        serde_json::from_value(serde_json::json!({
            "workspace_id": "w", "session_id": "s", "event_id": "e", "event_type": event_type,
            "created_at_timestamp": "1", "action_type": action_type, "credits": 0,
            "component_name": "Agent", "metadata": metadata,
        }))
        .expect("a valid event")
    }

    fn said(event_type: &str, text: &str) -> FlowSessionEvent {
        event_of(
            event_type,
            "message",
            serde_json::json!({"message_id": "m", "message": text}),
        )
    }

    #[test]
    fn this_turns_messages_carry_their_authors_role_and_earlier_ones_are_left_out() {
        for (event_type, role) in [
            ("human", Role::User),
            ("ai", Role::Assistant),
            ("system", Role::System),
        ] {
            let message = turn_message(&said(event_type, "text"), true).expect("a message of this turn");
            assert_eq!(
                (&message.role, message.text.as_str()),
                (&role, "text"),
                "{event_type}"
            );
            assert_eq!(message.author.as_deref(), Some("Agent"));
            assert!(
                turn_message(&said(event_type, "text"), false).is_none(),
                "{event_type}"
            );
        }
    }

    #[test]
    fn each_ending_action_gives_its_outcome_and_progress_gives_none() {
        use serde_json::json;
        let needs = |prompt: &str| {
            Some(Outcome::NeedsInput {
                prompt: prompt.into(),
            })
        };
        let failed = |reason: &str| {
            Some(Outcome::Failed {
                reason: reason.into(),
            })
        };
        let cases = [
            ("failed", json!({"message": "boom"}), failed("boom")),
            (
                "session_closed",
                json!({}),
                failed("the session was closed; create a new session"),
            ),
            (
                "hook_waiting_for_input",
                json!({"prompt_message": "Which file?"}),
                needs("Which file?"),
            ),
            (
                "hitl_approval_requested",
                json!({"tool_name": "search"}),
                needs("approve the call of tool search?"),
            ),
            (
                "evaluate_client_js",
                json!({}),
                needs("run the requested script in the client"),
            ),
            (
                "integration_missing",
                json!({"integration_url": "https://x.example"}),
                needs("connect the integration at https://x.example"),
            ),
            (
                "file_access_required",
                json!({"message": "Allow the docs"}),
                needs("Allow the docs"),
            ),
            (
                "file_access_required",
                json!({"message": ""}),
                needs("grant access to the document"),
            ),
            ("loading", json!({}), None),
            ("an_action_added_later", json!({}), None),
        ];
        for (action_type, metadata, expected) in cases {
            let got = outcome(
                &event_of("flow_assistant_action", action_type, metadata),
                true,
                &mut Vec::new(),
            );
            assert_eq!(got, expected, "{action_type}");
        }
    }

    #[test]
    fn timestamps_are_integers_or_whole_floats_and_anything_else_is_a_decode_error() {
        assert_eq!(timestamp(&event("1733000000123")).unwrap(), 1_733_000_000_123);
        assert_eq!(timestamp(&event(" 1733000000123.0 ")).unwrap(), 1_733_000_000_123);
        for bad in ["99999999999999999999999", "", "soon", "-5", "NaN", "1e300"] {
            assert!(
                matches!(timestamp(&event(bad)), Err(Error::Decode { .. })),
                "{bad:?}"
            );
        }
    }
}
