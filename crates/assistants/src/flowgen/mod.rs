//! FlowGen: chats, a status stream, send-and-wait with human input, and waiters sharing one
//! poll loop per chat.
//!
//! The open-source server's send blocks until the whole run ends, so a send runs concurrently
//! with status polling; a status read is judged by the turn state machine (`turn.rs`). Bodies carry both
//! contracts' fields.

mod input;
mod send;
mod turn;
mod watch;

use std::sync::Arc;

use flowgen_api::operations;
use flowgen_api::types;

pub use input::{AnswerWith, InputHandler, NoInput};
pub use turn::is_terminal;

use crate::Settings;
use crate::call::Caller;
use crate::deadline::Deadline;
use crate::error::{Error, Service};
use crate::retry::Jitter;
use crate::shared::Loops;
use crate::validate::check_id;
use watch::Snapshot;

/// FlowGen's handle. Cheap to clone; clones share one connection pool and one poll loop per
/// chat.
#[derive(Clone)]
pub struct FlowGen {
    inner: Arc<Inner>,
}

struct Inner {
    api: flowgen_api::Client,
    caller: Caller,
    watches: Loops<Snapshot>,
}

impl std::fmt::Debug for FlowGen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlowGen")
            .field("api", &self.inner.api)
            .finish_non_exhaustive()
    }
}

/// A message body carrying both contracts' fields.
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
    /// [`Settings::max_body_bytes`] of any response), with its own poll loops.
    pub fn new(api: flowgen_api::Client, settings: Settings) -> Self {
        let jitter = settings.retry.jitter();
        Self::build(api, Arc::new(settings), jitter)
    }

    pub(crate) fn build(api: flowgen_api::Client, settings: Arc<Settings>, jitter: Jitter) -> Self {
        let watches = Loops::with_max_in_flight(settings.max_polls_in_flight);
        Self {
            inner: Arc::new(Inner {
                api: api.with_limits(settings.limits()),
                caller: Caller::new(Service::FlowGen, settings, jitter),
                watches,
            }),
        }
    }

    fn deadline(&self) -> Deadline {
        Deadline::after(self.inner.caller.settings.operation_timeout)
    }

    /// The bound on this handle's polls in flight (none running).
    #[cfg(test)]
    pub(crate) fn polls_in_flight_bound(&self) -> Option<usize> {
        self.inner.watches.max_in_flight()
    }

    /// Whether `other` is a clone of this handle (one connection pool, one set of poll loops).
    #[cfg(test)]
    pub(crate) fn shares_state_with(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
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
        let body = types::ChatCreate {
            name: name.to_string(),
            from_type: types::ChatFromType::Flow,
            from_flow: Some(flow_id.to_string()),
            from_template: None,
            owner: Some(String::new()),
        };
        self.inner
            .caller
            .call(operations::CREATE_CHAT, &self.deadline(), || {
                self.inner.api.create_chat().body(body.clone()).send()
            })
            .await
    }

    /// Reads a chat.
    ///
    /// # Errors
    /// API and transport errors (an unknown id is a 404, or a 500 on the open-source server).
    pub async fn get_chat(&self, chat_id: &str) -> Result<types::Chat, Error> {
        self.get_chat_within(chat_id, &self.deadline()).await
    }

    async fn get_chat_within(&self, chat_id: &str, deadline: &Deadline) -> Result<types::Chat, Error> {
        check_id("chat id", chat_id)?;
        self.inner
            .caller
            .call(operations::GET_CHAT, deadline, || {
                self.inner.api.get_chat().chat_id(chat_id).send()
            })
            .await
    }

    /// Lists chats (at most 30 on the open-source server).
    ///
    /// # Errors
    /// API and transport errors.
    pub async fn list_chats(&self) -> Result<Vec<types::Chat>, Error> {
        self.inner
            .caller
            .call(operations::LIST_CHATS, &self.deadline(), || {
                self.inner.api.list_chats().send()
            })
            .await
    }

    /// The chat's messages, oldest first.
    ///
    /// # Errors
    /// [`Error::Unsupported`] where the server has no history endpoint (the open-source API
    /// server answers 405), API and transport errors otherwise.
    pub async fn history(&self, chat_id: &str) -> Result<Vec<types::Message>, Error> {
        self.history_within(chat_id, &self.deadline()).await
    }

    async fn history_within(&self, chat_id: &str, deadline: &Deadline) -> Result<Vec<types::Message>, Error> {
        check_id("chat id", chat_id)?;
        let result = self
            .inner
            .caller
            .call(operations::GET_MESSAGES, deadline, || {
                self.inner.api.get_messages().chat_id(chat_id).send()
            })
            .await;
        unsupported(result, "message history")
    }

    /// Deletes a chat.
    ///
    /// # Errors
    /// [`Error::Unsupported`] where the server has no delete endpoint (405).
    pub async fn delete_chat(&self, chat_id: &str) -> Result<(), Error> {
        check_id("chat id", chat_id)?;
        let result = self
            .inner
            .caller
            .call(operations::DELETE_CHAT, &self.deadline(), || async {
                match self.inner.api.delete_chat().chat_id(chat_id).send().await {
                    Ok(_) => Ok(()),
                    // Servers answer a deletion with 200 or 204 as they please.
                    Err(progenitor_client::Error::UnexpectedResponse(r)) if r.status().is_success() => Ok(()),
                    Err(e) => Err(e),
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
}

/// A missing endpoint (405, or a bare 404 "Not Found" from a router) as [`Error::Unsupported`].
fn unsupported<T>(result: Result<T, Error>, operation: &'static str) -> Result<T, Error> {
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
    use super::*;

    #[test]
    fn debug_names_the_handle_and_never_shows_the_key() {
        let api = flowgen_api::Client::with_api_key("http://127.0.0.1:9", "fg_secret_debug".into()).unwrap();
        let text = format!("{:?}", FlowGen::new(api, crate::Settings::default()));
        assert!(text.starts_with("FlowGen {"), "{text}");
        assert!(!text.contains("fg_secret_debug"), "{text}");
    }

    fn flowgen(server: &httpmock::MockServer) -> FlowGen {
        let api = flowgen_api::Client::with_api_key(&server.base_url(), "k".into()).unwrap();
        FlowGen::new(
            api,
            crate::Settings::default().with_retry(crate::RetryPolicy::disabled()),
        )
    }

    #[tokio::test]
    async fn a_deletion_answered_with_204_succeeds() {
        let server = httpmock::MockServer::start_async().await;
        server
            .mock_async(|when, then| {
                when.method("DELETE").path("/chats/c1");
                then.status(204);
            })
            .await;
        flowgen(&server).delete_chat("c1").await.unwrap();
    }

    #[tokio::test]
    async fn only_a_bare_not_found_means_no_history_endpoint() {
        let server = httpmock::MockServer::start_async().await;
        server
            .mock_async(|when, then| {
                when.path("/chats/router/messages");
                then.status(404).body("Not Found");
            })
            .await;
        server
            .mock_async(|when, then| {
                when.path("/chats/gone/messages");
                then.status(404)
                    .json_body(serde_json::json!({"detail": "Chat not found"}));
            })
            .await;
        let fg = flowgen(&server);
        let router = fg.history("router").await.unwrap_err();
        assert!(
            matches!(router, Error::Unsupported { status: 404, .. }),
            "{router:?}"
        );
        let gone = fg.history("gone").await.unwrap_err();
        assert!(
            matches!(gone, Error::Api { status: 404, .. }),
            "a missing chat is not a missing endpoint: {gone:?}"
        );
    }
}
