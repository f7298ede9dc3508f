//! What a turn in progress makes of each status read: a pure state machine over both
//! FlowGen contracts' statuses.
//!
//! A status read right after a send may still be the previous run's, so a terminal status ends
//! the turn only once the new run was seen (`running`, `wait_for_human_input`), the chat's
//! `updated` changed since the send, or the send returned `null` (the open-source server's
//! "run over").

use flowgen_api::types::{self, ChatStatus};

/// Whether a status ends a run: completed, failed, aborted, and the documented ready and error.
pub fn is_terminal(status: &ChatStatus) -> bool {
    matches!(
        status,
        ChatStatus::Completed
            | ChatStatus::Failed
            | ChatStatus::Aborted
            | ChatStatus::Ready
            | ChatStatus::Error
    )
}

/// What a turn in progress makes of one status read.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Verdict {
    /// Keep waiting.
    Wait,
    /// The chat waits for an answer not yet given.
    Ask,
    /// This turn's run has ended.
    End,
    /// A status this crate does not know: reported, then waited past.
    Unknown(String),
}

/// The state of one turn between status reads. A read right after the send may still show
/// the previous run, so a terminal status ends the turn only once this run was seen
/// (`running`, `wait_for_human_input`), the chat's `updated` changed since the send, or the
/// send returned `null` (`run_over`, the open-source server's "run over").
#[derive(Clone, Debug)]
pub(crate) struct Turn {
    updated_before: String,
    run_seen: bool,
    pub(crate) run_over: bool,
    answered_at: Option<String>,
}

impl Turn {
    pub(crate) fn new(updated_before: String) -> Self {
        Self {
            updated_before,
            run_seen: false,
            run_over: false,
            answered_at: None,
        }
    }

    pub(crate) fn judge(&mut self, chat: &types::Chat) -> Verdict {
        let fresh = chat.updated != self.updated_before;
        match &chat.status {
            ChatStatus::Running => {
                self.run_seen = true;
                Verdict::Wait
            }
            ChatStatus::WaitForHumanInput => {
                self.run_seen = true;
                if self.answered_at.as_deref() == Some(chat.updated.as_str()) {
                    Verdict::Wait // answered; the status has not moved on yet
                } else {
                    Verdict::Ask
                }
            }
            ChatStatus::Unknown(other) => Verdict::Unknown(other.clone()),
            status if is_terminal(status) && (self.run_seen || fresh || self.run_over) => Verdict::End,
            _ => Verdict::Wait,
        }
    }

    /// The question of the read `chat` was answered.
    pub(crate) fn answered(&mut self, chat: &types::Chat) {
        self.answered_at = Some(chat.updated.clone());
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const BEFORE: &str = "2024-03-14 08:21:05.412Z";

    fn chat(status: &str, updated: &str) -> types::Chat {
        serde_json::from_value(serde_json::json!({
            "id": "c", "name": "n", "status": status, "created": BEFORE, "updated": updated,
            "from_type": "flow", "owner": ""
        }))
        .expect("a chat")
    }

    #[test]
    fn a_status_this_crate_does_not_know_is_reported_not_waited_on_silently() {
        let mut turn = Turn::new(BEFORE.into());
        assert_eq!(
            turn.judge(&chat("queued", "u1")),
            Verdict::Unknown("queued".into())
        );
        assert_eq!(turn.judge(&chat("running", "u2")), Verdict::Wait);
    }

    fn status() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("ready".to_string()),
            Just("running".to_string()),
            Just("wait_for_human_input".to_string()),
            Just("completed".to_string()),
            Just("error".to_string()),
            Just("failed".to_string()),
            Just("aborted".to_string()),
            Just("pending".to_string()),
            Just(String::new()), // the open-source server's initial status
            "[a-z_]{1,12}",
        ]
    }

    /// The oracle's own list of statuses that end a run, independent of `is_terminal`.
    fn ends_a_run(raw: &str) -> bool {
        ["completed", "failed", "aborted", "ready", "error"].contains(&raw)
    }

    fn updated() -> impl Strategy<Value = String> {
        prop_oneof![Just(BEFORE.to_string()), "2024-03-14 08:2[2-9]:0[0-9].000Z"]
    }

    proptest! {
        /// Reads of the previous run (nothing new since the send) never end the turn, whatever
        /// terminal status they show, until the send says the run is over.
        #[test]
        fn stale_terminal_reads_never_end_a_turn(statuses in proptest::collection::vec(status(), 1..20)) {
            let mut turn = Turn::new(BEFORE.into());
            for s in statuses.iter().filter(|s| !matches!(s.as_str(), "running" | "wait_for_human_input")) {
                prop_assert_ne!(turn.judge(&chat(s, BEFORE)), Verdict::End, "{}", s);
            }
            turn.run_over = true;
            prop_assert_eq!(turn.judge(&chat("completed", BEFORE)), Verdict::End);
        }

        /// Any sequence: an unknown status is reported and never ends or asks; a terminal
        /// status ends the turn exactly when this run was seen, `updated` moved, or the send
        /// returned; a question is asked once per `updated`.
        #[test]
        fn every_read_gets_the_verdict_its_status_implies(reads in proptest::collection::vec((status(), updated()), 1..40)) {
            let mut turn = Turn::new(BEFORE.into());
            let mut seen = false;
            let mut asked: Option<String> = None;
            for (s, u) in &reads {
                let read = chat(s, u);
                let verdict = turn.judge(&read);
                match (&read.status, verdict) {
                    (ChatStatus::Unknown(raw), Verdict::Unknown(reported)) => prop_assert_eq!(raw, &reported),
                    (ChatStatus::Running, Verdict::Wait) => seen = true,
                    (ChatStatus::WaitForHumanInput, Verdict::Ask) => {
                        prop_assert_ne!(asked.as_deref(), Some(u.as_str()), "asked twice for one question");
                        seen = true;
                        turn.answered(&read);
                        asked = Some(u.clone());
                    }
                    (ChatStatus::WaitForHumanInput, Verdict::Wait) => {
                        prop_assert_eq!(asked.as_deref(), Some(u.as_str()));
                    }
                    (_, Verdict::End) => {
                        prop_assert!(ends_a_run(s), "{} ended the turn", s);
                        prop_assert!(seen || u != BEFORE);
                        return Ok(());
                    }
                    (_, Verdict::Wait) => {
                        prop_assert!(!(ends_a_run(s) && (seen || u != BEFORE)), "{} should end", s);
                    }
                    (status, verdict) => prop_assert!(false, "{status} got {verdict:?}"),
                }
            }
        }
    }

    #[test]
    fn known_statuses_of_both_contracts_are_classified() {
        for s in ["ready", "completed", "error", "failed", "aborted"] {
            assert!(is_terminal(&chat(s, BEFORE).status), "{s}");
        }
        for s in ["running", "wait_for_human_input", "pending", "brand_new", ""] {
            assert!(!is_terminal(&chat(s, BEFORE).status), "{s}");
        }
    }
}
