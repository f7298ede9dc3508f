//! FlowGen: chats, send-and-wait with human input, and status waiters sharing one poll loop.
//!
//! The open-source server's send blocks until the whole run ends, so a send runs concurrently
//! with status polling. A status read right after a send may still be the previous run's, so a
//! terminal status ends the turn only once the new run was seen (`running`,
//! `wait_for_human_input`), the chat's `updated` changed since the send, or the send returned
//! `null` (the open-source server's "run over"). Bodies carry both contracts' fields.

use std::future::Future;
use std::sync::Arc;

use flowgen_api::types::{self, ChatStatus};

use crate::config::{Settings, check_id, check_message};
use crate::error::{Error, Service, from_generated};
use crate::outcome::{Outcome, Role, TurnMessage};
use crate::retry::{Idempotency, with_retry};
use crate::shared::{Follower, Loops, Step};

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

/// Answers a chat that waits for human input; `None` leaves the question unanswered (the turn
/// then ends with [`Outcome::NeedsInput`]).
pub trait InputHandler: Send {
    /// The answer to `prompt`.
    fn answer(&mut self, prompt: &str) -> impl Future<Output = Option<String>> + Send;
}

/// Never answers: turns that need input end with [`Outcome::NeedsInput`].
#[derive(Clone, Copy, Debug, Default)]
pub struct NoInput;

impl InputHandler for NoInput {
    async fn answer(&mut self, _prompt: &str) -> Option<String> {
        None
    }
}

/// Answers with a closure.
#[derive(Debug)]
pub struct AnswerWith<F>(pub F);

impl<F: FnMut(&str) -> Option<String> + Send> InputHandler for AnswerWith<F> {
    async fn answer(&mut self, prompt: &str) -> Option<String> {
        (self.0)(prompt)
    }
}

/// What every watcher of a chat sees: the latest read of the chat, or the error of that read.
type Snapshot = Option<Result<types::Chat, Error>>;

/// FlowGen's handle.
#[derive(Clone)]
pub struct FlowGen {
    api: flowgen_api::Client,
    settings: Arc<Settings>,
    watches: Loops<Snapshot>,
}

impl std::fmt::Debug for FlowGen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlowGen")
            .field("api", &self.api)
            .finish_non_exhaustive()
    }
}

fn union_body(chat: &str, text: &str) -> types::MessageCreate {
    types::MessageCreate {
        message: Some(text.to_string()),
        content: Some(text.to_string()),
        chat: Some(chat.to_string()),
        type_: Some(types::MessageType::User),
        owner: Some(String::new()),
        sender: None,
        receiver: None,
    }
}

impl FlowGen {
    /// A handle over a generated client (which then reads at most
    /// [`Settings::max_body_bytes`] of any response).
    pub fn new(api: flowgen_api::Client, settings: Settings) -> Self {
        Self {
            api: api.with_limits(settings.limits()),
            settings: Arc::new(settings),
            watches: Loops::default(),
        }
    }

    async fn call<T, F, Fut>(
        &self,
        operation: &'static str,
        idempotency: Idempotency,
        f: F,
    ) -> Result<T, Error>
    where
        F: Fn(flowgen_api::Client) -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        crate::poll::within(
            self.settings.timeout,
            with_retry(&self.settings.retry, idempotency, operation, || {
                f(self.api.clone())
            }),
        )
        .await
    }

    /// Creates a chat from a flow (both contracts' fields are sent).
    ///
    /// # Errors
    /// API and transport errors; a create is never re-sent once it may have reached the server.
    ///
    /// ```no_run
    /// # async fn demo(flowgen: assistants::FlowGen) -> Result<(), assistants::Error> {
    /// let chat = flowgen.create_chat("Trip planner", "8q2mzl4x7vw1k3d").await?;
    /// println!("{} is {}", chat.id, chat.status);
    /// # Ok(()) }
    /// ```
    pub async fn create_chat(&self, name: &str, flow_id: &str) -> Result<types::Chat, Error> {
        check_id("flow id", flow_id)?;
        let max = self.settings.max_body_bytes;
        let body = types::ChatCreate {
            name: name.to_string(),
            from_type: types::ChatFromType::Flow,
            from_flow: Some(flow_id.to_string()),
            from_template: None,
            owner: Some(String::new()),
        };
        self.call("create_chat", Idempotency::NonIdempotent, |api| {
            let body = body.clone();
            async move {
                match api.create_chat().body(body).send().await {
                    Ok(r) => Ok(r.into_inner()),
                    Err(e) => Err(from_generated(Service::FlowGen, e, max).await),
                }
            }
        })
        .await
    }

    /// Reads a chat.
    ///
    /// # Errors
    /// API and transport errors (an unknown id is a 404, or a 500 on the open-source server).
    pub async fn get_chat(&self, chat_id: &str) -> Result<types::Chat, Error> {
        check_id("chat id", chat_id)?;
        let max = self.settings.max_body_bytes;
        self.call("get_chat", Idempotency::Safe, |api| async move {
            match api.get_chat().chat_id(chat_id).send().await {
                Ok(r) => Ok(r.into_inner()),
                Err(e) => Err(from_generated(Service::FlowGen, e, max).await),
            }
        })
        .await
    }

    /// Lists chats (at most 30 on the open-source server).
    ///
    /// # Errors
    /// API and transport errors.
    pub async fn list_chats(&self) -> Result<Vec<types::Chat>, Error> {
        let max = self.settings.max_body_bytes;
        self.call("list_chats", Idempotency::Safe, |api| async move {
            match api.list_chats().send().await {
                Ok(r) => Ok(r.into_inner()),
                Err(e) => Err(from_generated(Service::FlowGen, e, max).await),
            }
        })
        .await
    }

    /// The chat's messages, oldest first.
    ///
    /// # Errors
    /// [`Error::Unsupported`] where the server has no history endpoint (the open-source API
    /// server answers 405), API and transport errors otherwise.
    pub async fn history(&self, chat_id: &str) -> Result<Vec<types::Message>, Error> {
        check_id("chat id", chat_id)?;
        let max = self.settings.max_body_bytes;
        let result = self
            .call("get_messages", Idempotency::Safe, |api| async move {
                match api.get_messages().chat_id(chat_id).send().await {
                    Ok(r) => Ok(r.into_inner()),
                    Err(e) => Err(from_generated(Service::FlowGen, e, max).await),
                }
            })
            .await;
        unsupported_on_405(result, "message history")
    }

    /// Deletes a chat.
    ///
    /// # Errors
    /// [`Error::Unsupported`] where the server has no delete endpoint (405).
    pub async fn delete_chat(&self, chat_id: &str) -> Result<(), Error> {
        check_id("chat id", chat_id)?;
        let max = self.settings.max_body_bytes;
        let result = self
            .call("delete_chat", Idempotency::Safe, |api| async move {
                match api.delete_chat().chat_id(chat_id).send().await {
                    Ok(_) => Ok(()),
                    Err(progenitor_client::Error::UnexpectedResponse(r)) if r.status().is_success() => Ok(()),
                    Err(e) => Err(from_generated(Service::FlowGen, e, max).await),
                }
            })
            .await;
        match result {
            Err(Error::Api { status: 405, .. }) => Err(Error::Unsupported {
                service: Service::FlowGen,
                operation: "chat deletion",
                status: 405,
            }),
            other => other,
        }
    }

    /// Waits until `predicate` holds for the chat's status, sharing one poll loop with every
    /// other waiter on the same chat.
    ///
    /// # Errors
    /// The poll's error, or [`Error::Deadline`].
    ///
    /// ```no_run
    /// # async fn demo(flowgen: assistants::FlowGen) -> Result<(), assistants::Error> {
    /// let done = flowgen.wait_until("k2j4h6g8f0d1s3a", |chat| assistants::flowgen::is_terminal(&chat.status)).await?;
    /// println!("{}", done.status);
    /// # Ok(()) }
    /// ```
    pub async fn wait_until(
        &self,
        chat_id: &str,
        predicate: impl Fn(&types::Chat) -> bool,
    ) -> Result<types::Chat, Error> {
        check_id("chat id", chat_id)?;
        let mut rx = self.subscribe(chat_id).rx;
        let span = tracing::info_span!("wait", service = "flowgen", chat = chat_id, kind = "wait_until");
        let wait = async move {
            loop {
                let snapshot = rx.borrow_and_update().clone();
                match snapshot {
                    Some(Ok(chat)) if predicate(&chat) => return Ok(chat),
                    Some(Err(error)) => return Err(error),
                    _ => {}
                }
                if rx.changed().await.is_err() {
                    return Err(Error::Failed {
                        service: Service::FlowGen,
                        message: "the status poller stopped".into(),
                    });
                }
            }
        };
        crate::poll::within(self.settings.timeout, tracing::Instrument::instrument(wait, span)).await
    }

    /// Sends `message` and waits for the run to end, answering questions with `handler`.
    ///
    /// Returns the outcome with this turn's messages (`__STATUS_` markers filtered out; empty
    /// where the server offers no history).
    ///
    /// # Errors
    /// API and transport errors, [`Error::Failed`] when the server refuses the input, and
    /// [`Error::Deadline`]. The send itself is never repeated.
    ///
    /// ```no_run
    /// # async fn demo(flowgen: assistants::FlowGen) -> Result<(), assistants::Error> {
    /// let answer_yes = assistants::AnswerWith(|question: &str| {
    ///     println!("the assistant asks: {question}");
    ///     Some("yes".to_string())
    /// });
    /// let outcome = flowgen.send_and_wait("k2j4h6g8f0d1s3a", "Book the trip", answer_yes).await?;
    /// println!("{outcome:?}");
    /// # Ok(()) }
    /// ```
    pub async fn send_and_wait(
        &self,
        chat_id: &str,
        message: &str,
        mut handler: impl InputHandler,
    ) -> Result<Outcome, Error> {
        check_id("chat id", chat_id)?;
        check_message(&self.settings, message)?;
        let before = self.get_chat(chat_id).await?;
        let history_before = self.history(chat_id).await.map(|h| h.len()).unwrap_or(0);
        let max = self.settings.max_body_bytes;
        let api = self.api.clone();
        let body = union_body(chat_id, message);
        let chat = chat_id.to_string();
        let retry = self.settings.retry.clone();
        // The send may block until the run ends: it runs beside the status polling.
        let mut send = tokio::spawn(async move {
            with_retry(&retry, Idempotency::NonIdempotent, "send_message", || {
                let (api, body, chat) = (api.clone(), body.clone(), chat.clone());
                async move {
                    match api.send_message().chat_id(chat).body(body).send().await {
                        Ok(r) => Ok(r.into_inner().0),
                        Err(e) => Err(from_generated(Service::FlowGen, e, max).await),
                    }
                }
            })
            .await
        });
        let follower = self.subscribe(chat_id);
        follower.acted();
        let mut rx = follower.rx.clone();
        // `send_pending`: the send has not returned; `run_over`: it returned `null`, which the
        // open-source server does only once the run has ended.
        let mut send_pending = true;
        let mut progress = Turn::new(before.updated);
        let turn = async {
            loop {
                let snapshot = rx.borrow_and_update().clone();
                if let Some(read) = snapshot {
                    let chat = read?;
                    match progress.judge(&chat) {
                        Verdict::Wait => {}
                        Verdict::Ask => {
                            let prompt = self.pending_prompt(chat_id).await;
                            let Some(answer) = handler.answer(&prompt).await else {
                                return Ok(Outcome::NeedsInput { prompt });
                            };
                            self.send_input(chat_id, &answer).await?;
                            progress.answered(&chat);
                            follower.nudge();
                        }
                        Verdict::Unknown(status) => {
                            tracing::warn!(chat = chat_id, status = status.as_str(), "unknown FlowGen status")
                        }
                        Verdict::End => return Ok(self.outcome(chat_id, &chat, history_before).await),
                    }
                }
                tokio::select! {
                    changed = rx.changed() => if changed.is_err() {
                        return Err(Error::Failed { service: Service::FlowGen, message: "the status poller stopped".into() });
                    },
                    joined = &mut send, if send_pending => {
                        send_pending = false;
                        match joined {
                            Ok(Ok(serde_json::Value::Null)) => {
                                progress.run_over = true; // open-source: the run is over
                                follower.nudge();
                            }
                            Ok(Ok(_)) => {} // answered at once (documented): the run goes on
                            Ok(Err(error)) => return Err(error),
                            Err(_) => return Err(Error::Cancelled),
                        }
                    }
                }
            }
        };
        let span = tracing::info_span!(
            "wait",
            service = "flowgen",
            chat = chat_id,
            kind = "send_and_wait"
        );
        let result =
            crate::poll::within(self.settings.timeout, tracing::Instrument::instrument(turn, span)).await;
        if !send.is_finished() && result.is_err() {
            send.abort();
        }
        result
    }

    /// Sends an answer to a chat waiting for human input.
    ///
    /// # Errors
    /// [`Error::Failed`] when the server answers `{"error": ...}` (with HTTP 200).
    pub async fn send_input(&self, chat_id: &str, text: &str) -> Result<(), Error> {
        check_message(&self.settings, text)?;
        let max = self.settings.max_body_bytes;
        let body = union_body(chat_id, text);
        let reply = self
            .call("send_input", Idempotency::NonIdempotent, |api| {
                let body = body.clone();
                async move {
                    match api.send_input().chat_id(chat_id).body(body).send().await {
                        Ok(r) => Ok(r.into_inner()),
                        Err(e) => Err(from_generated(Service::FlowGen, e, max).await),
                    }
                }
            })
            .await?;
        match reply.error {
            Some(message) => Err(Error::Failed {
                service: Service::FlowGen,
                message,
            }),
            None => Ok(()),
        }
    }

    /// The question of a waiting chat, from its last `__STATUS_WAIT_FOR_HUMAN_INPUT__` message.
    async fn pending_prompt(&self, chat_id: &str) -> String {
        let history = self.history(chat_id).await.unwrap_or_default();
        history
            .iter()
            .rev()
            .find_map(|m| {
                m.content
                    .strip_prefix("__STATUS_WAIT_FOR_HUMAN_INPUT__")
                    .map(|p| p.trim().to_string())
            })
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| "the assistant waits for your input".to_string())
    }

    async fn outcome(&self, chat_id: &str, chat: &types::Chat, history_before: usize) -> Outcome {
        let history = self.history(chat_id).await.unwrap_or_default();
        let turn: Vec<&types::Message> = history.iter().skip(history_before).collect();
        let messages: Vec<TurnMessage> = turn
            .iter()
            .filter(|m| !m.content.starts_with("__STATUS_"))
            .map(|m| TurnMessage {
                role: if m.type_ == types::MessageType::User {
                    Role::User
                } else {
                    Role::Assistant
                },
                author: m.sender.clone().filter(|s| !s.is_empty()),
                text: m.content.clone(),
            })
            .collect();
        match &chat.status {
            ChatStatus::Completed | ChatStatus::Ready => {
                let answer = messages
                    .iter()
                    .rev()
                    .find(|m| m.role == Role::Assistant)
                    .map(|m| m.text.clone())
                    .unwrap_or_default();
                Outcome::Completed { answer, messages }
            }
            status => {
                let marker = turn.iter().rev().find_map(|m| {
                    m.content
                        .strip_prefix("__STATUS_COMPLETED__")
                        .map(|s| s.trim().to_string())
                });
                Outcome::Failed {
                    reason: marker.unwrap_or_else(|| format!("the run ended with status {status}")),
                }
            }
        }
    }

    /// Follows the chat's one poll loop, starting it if none runs.
    fn subscribe(&self, chat_id: &str) -> Follower<Snapshot> {
        let flowgen = self.clone();
        let id = chat_id.to_string();
        self.watches.follow(
            chat_id,
            &self.settings.poll,
            || None,
            move |tx| {
                let (flowgen, chat_id) = (flowgen.clone(), id.clone());
                async move {
                    let read = flowgen.get_chat(&chat_id).await;
                    let key = |s: &Snapshot| match s {
                        Some(Ok(chat)) => Some((chat.status.clone(), chat.updated.clone())),
                        _ => None,
                    };
                    let failed = read.is_err();
                    let previous = tx.send_replace(Some(read));
                    if failed {
                        Step::Stop
                    } else if key(&previous) != key(&tx.borrow()) {
                        Step::News
                    } else {
                        Step::Quiet
                    }
                }
            },
        )
    }
}

/// What a turn in progress makes of one status read.
#[derive(Clone, Debug, PartialEq)]
enum Verdict {
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
struct Turn {
    updated_before: String,
    run_seen: bool,
    run_over: bool,
    answered_at: Option<String>,
}

impl Turn {
    fn new(updated_before: String) -> Self {
        Self {
            updated_before,
            run_seen: false,
            run_over: false,
            answered_at: None,
        }
    }

    fn judge(&mut self, chat: &types::Chat) -> Verdict {
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
    fn answered(&mut self, chat: &types::Chat) {
        self.answered_at = Some(chat.updated.clone());
    }
}

fn unsupported_on_405<T>(result: Result<T, Error>, operation: &'static str) -> Result<T, Error> {
    match result {
        Err(Error::Api {
            status: status @ (404 | 405),
            ref message,
            ..
        }) if status == 405 || message == "Not Found" => Err(Error::Unsupported {
            service: Service::FlowGen,
            operation,
            status,
        }),
        other => other,
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
            "[a-z_]{1,12}",
        ]
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
                    (status, Verdict::End) => {
                        prop_assert!(is_terminal(status));
                        prop_assert!(seen || u != BEFORE);
                        return Ok(());
                    }
                    (status, Verdict::Wait) => {
                        prop_assert!(!(is_terminal(status) && (seen || u != BEFORE)), "{} should end", status);
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
        for s in ["running", "wait_for_human_input", "pending", "brand_new"] {
            assert!(!is_terminal(&chat(s, BEFORE).status), "{s}");
        }
    }
}
