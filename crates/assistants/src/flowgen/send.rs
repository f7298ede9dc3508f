//! A turn: send a message, answer the chat's questions, and collect the turn's messages, all
//! under one deadline.

use flowgen_api::operations;
use flowgen_api::types::{self, ChatStatus};

use super::turn::{Turn, Verdict};
use super::{FlowGen, InputHandler, union_body};
use crate::deadline::Deadline;
use crate::error::{Error, Service};
use crate::outcome::{Outcome, Role, TurnMessage};
use crate::validate::{check_id, check_message};

impl FlowGen {
    /// Sends `message` and waits for the run to end, answering questions with `handler`.
    ///
    /// Returns the outcome with this turn's messages (`__STATUS_` markers filtered out; empty
    /// where the server offers no history). One deadline (`Settings::operation_timeout`, from
    /// this call on) covers everything the turn does: the reads before the send, the send, the
    /// status polls, the questions and answers, and the final history read.
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
        handler: impl InputHandler,
    ) -> Result<Outcome, Error> {
        check_id("chat id", chat_id)?;
        check_message(&self.inner.caller.settings, message)?;
        let deadline = self.deadline();
        let span = tracing::info_span!(
            "wait",
            service = "flowgen",
            chat = chat_id,
            kind = "send_and_wait"
        );
        deadline
            .run(tracing::Instrument::instrument(
                self.turn(chat_id, message, handler, deadline),
                span,
            ))
            .await
    }

    async fn turn(
        &self,
        chat_id: &str,
        message: &str,
        mut handler: impl InputHandler,
        deadline: Deadline,
    ) -> Result<Outcome, Error> {
        let before = self.get_chat_within(chat_id, &deadline).await?;
        let history_before = self
            .history_within(chat_id, &deadline)
            .await
            .map(|h| h.len())
            .unwrap_or(0);
        // The send may block until the run ends: it runs beside the status polling, and is
        // aborted with the turn (dropping the handle would not stop it).
        let flowgen = self.clone();
        let (chat, body) = (chat_id.to_string(), union_body(chat_id, message));
        let mut send = AbortOnDrop(tokio::spawn(async move {
            flowgen
                .inner
                .caller
                .call(operations::SEND_MESSAGE, &deadline, || {
                    flowgen
                        .inner
                        .api
                        .send_message()
                        .chat_id(chat.as_str())
                        .body(body.clone())
                        .send()
                })
                .await
        }));
        let follower = self.subscribe(chat_id);
        follower.acted();
        let mut rx = follower.rx.clone();
        let mut send_pending = true;
        let mut progress = Turn::new(before.updated);
        loop {
            let snapshot = rx.borrow_and_update().clone();
            if let Some(read) = snapshot {
                let chat = read?;
                match progress.judge(&chat) {
                    Verdict::Wait => {}
                    Verdict::Ask => {
                        let prompt = self.pending_prompt(chat_id, &deadline).await;
                        let Some(answer) = handler.answer(&prompt).await else {
                            return Ok(Outcome::NeedsInput { prompt });
                        };
                        self.send_input_within(chat_id, &answer, &deadline).await?;
                        progress.answered(&chat);
                        follower.nudge();
                    }
                    Verdict::Unknown(status) => {
                        tracing::warn!(chat = chat_id, status = status.as_str(), "unknown FlowGen status")
                    }
                    Verdict::End => return Ok(self.outcome(chat_id, &chat, history_before, &deadline).await),
                }
            }
            tokio::select! {
                changed = rx.changed() => if changed.is_err() {
                    return Err(Error::WaitEnded { service: Service::FlowGen, reason: "the chat's status poll loop stopped" });
                },
                joined = &mut send.0, if send_pending => {
                    send_pending = false;
                    match joined {
                        Ok(Ok(reply)) if reply.0.is_null() => {
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
    }

    /// Sends an answer to a chat waiting for human input.
    ///
    /// # Errors
    /// [`Error::Failed`] when the server answers `{"error": ...}` (with HTTP 200).
    pub async fn send_input(&self, chat_id: &str, text: &str) -> Result<(), Error> {
        self.send_input_within(chat_id, text, &self.deadline()).await
    }

    async fn send_input_within(&self, chat_id: &str, text: &str, deadline: &Deadline) -> Result<(), Error> {
        check_id("chat id", chat_id)?;
        check_message(&self.inner.caller.settings, text)?;
        let body = union_body(chat_id, text);
        let reply = self
            .inner
            .caller
            .call(operations::SEND_INPUT, deadline, || {
                self.inner
                    .api
                    .send_input()
                    .chat_id(chat_id)
                    .body(body.clone())
                    .send()
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
    async fn pending_prompt(&self, chat_id: &str, deadline: &Deadline) -> String {
        let history = self.history_within(chat_id, deadline).await.unwrap_or_default();
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

    async fn outcome(
        &self,
        chat_id: &str,
        chat: &types::Chat,
        history_before: usize,
        deadline: &Deadline,
    ) -> Outcome {
        let history = self.history_within(chat_id, deadline).await.unwrap_or_default();
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
}

/// A task aborted when the turn that spawned it ends, however it ends (a deadline included).
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_send_still_running_when_its_turn_ends_is_aborted() {
        let (held, released) = tokio::sync::oneshot::channel::<()>();
        let send = AbortOnDrop(tokio::spawn(async move {
            let _held = held; // a send blocked until the run ends
            std::future::pending::<()>().await
        }));
        tokio::task::yield_now().await;
        drop(send); // the turn ends
        let ended = tokio::time::timeout(std::time::Duration::from_secs(1), released).await;
        assert!(
            matches!(ended, Ok(Err(_))),
            "the task was dropped with the turn, not left running: {ended:?}"
        );
    }

    #[tokio::test]
    async fn status_markers_stay_out_of_the_transcript_and_the_answer() {
        let server = httpmock::MockServer::start_async().await;
        server
            .mock_async(|when, then| {
                when.method("GET").path("/chats/c1/messages");
                then.status(200).json_body(serde_json::json!([
                    {"id": "1", "content": "earlier", "type": "user"},
                    {"id": "2", "content": "hi", "type": "user"},
                    {"id": "3", "content": "the answer", "type": "assistant", "sender": "Planner"},
                    {"id": "4", "content": "__STATUS_COMPLETED__ done", "type": "assistant"},
                ]));
            })
            .await;
        let api = flowgen_api::Client::with_api_key(&server.base_url(), "k".into()).unwrap();
        let fg = FlowGen::new(api, crate::Settings::default());
        let chat: types::Chat = serde_json::from_value(serde_json::json!({"id": "c1", "name": "n",
            "status": "completed", "created": "c", "updated": "u", "from_type": "flow", "owner": ""}))
        .unwrap();
        let outcome = fg.outcome("c1", &chat, 1, &Deadline::after(None)).await;
        let Outcome::Completed { answer, messages } = outcome else {
            panic!("{outcome:?}")
        };
        assert_eq!(answer, "the answer");
        let texts: Vec<_> = messages.iter().map(|m| m.text.as_str()).collect();
        assert_eq!(texts, ["hi", "the answer"], "this turn only, without the marker");
        let authors: Vec<_> = messages.iter().map(|m| m.author.as_deref()).collect();
        assert_eq!(authors, [None, Some("Planner")], "a sender names its author");
    }
}
