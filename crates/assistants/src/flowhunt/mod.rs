//! FlowHunt: sessions, and `ask` as a stream of typed events ending in an [`Outcome`].
//!
//! An invocation's events are polled after a timestamp; the stream polls from the invocation's
//! timestamp with a 1 ms overlap (so events sharing the boundary millisecond are never missed,
//! whether the server's boundary is inclusive or not), drops events already seen, orders each
//! batch by timestamp, never moves its cursor backwards, and ignores AI messages older than the
//! invocation (such as a welcome message).
//!
//! Every stream over one session (several `ask`s, `resume`s of one cursor) on handles of one
//! [`Client`](crate::Client) reads from the session's one poll loop: requests scale with
//! sessions, not with the streams following them.

mod ask;
mod classify;
mod cursor;
mod log;

use std::sync::Arc;

use flowhunt_api::operations;
use flowhunt_api::types::{self, FlowSessionEvent};

pub use cursor::Cursor;

use crate::call::Caller;
use crate::deadline::Deadline;
use crate::error::{Error, Service};
use crate::outcome::Outcome;
use crate::retry::Jitter;
use crate::shared::Loops;
use crate::stream::{EventStream, stream};
use crate::{Config, Settings};
use ask::AskState;
use log::{Log, Reader};

/// FlowHunt's handle: creates sessions and opens existing ones. Cheap to clone; clones share
/// one connection pool and one poll loop per session.
#[derive(Clone, Debug)]
pub struct FlowHunt {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    api: flowhunt_api::Client,
    caller: Caller,
    workspace_id: Option<String>,
    config: Option<Config>,
    loops: Loops<Log>,
}

/// One assistant session.
#[derive(Clone, Debug)]
pub struct Session {
    inner: Arc<Inner>,
    id: String,
}

/// An item of an `ask` stream.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum AskEvent {
    /// An event of the invocation (progress, tool calls, messages...), once, in order.
    Event {
        /// The event as FlowHunt sent it.
        event: Box<FlowSessionEvent>,
        /// The cursor after this event.
        cursor: Cursor,
    },
    /// The invocation ended; the stream ends after this.
    Done {
        /// How it ended.
        outcome: Outcome,
        /// The cursor at the end.
        cursor: Cursor,
    },
}

impl FlowHunt {
    /// A handle over a generated client (which then reads at most
    /// [`Settings::max_body_bytes`] of any response), with its own poll loops.
    pub fn new(api: flowhunt_api::Client, workspace_id: Option<String>, settings: Settings) -> Self {
        let jitter = settings.retry.jitter();
        Self::build(api, workspace_id, None, Arc::new(settings), jitter)
    }

    pub(crate) fn build(
        api: flowhunt_api::Client,
        workspace_id: Option<String>,
        config: Option<Config>,
        settings: Arc<Settings>,
        jitter: Jitter,
    ) -> Self {
        let loops = Loops::with_max_in_flight(settings.max_polls_in_flight);
        Self {
            inner: Arc::new(Inner {
                api: api.with_limits(settings.limits()),
                caller: Caller::new(Service::FlowHunt, settings, jitter),
                workspace_id,
                config,
                loops,
            }),
        }
    }

    /// The bound on this handle's polls in flight (none running).
    #[cfg(test)]
    pub(crate) fn polls_in_flight_bound(&self) -> Option<usize> {
        self.inner.loops.max_in_flight()
    }

    /// Whether `other` is a clone of this handle (one connection pool, one set of poll loops).
    #[cfg(test)]
    pub(crate) fn shares_state_with(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// Creates a session in the configured workspace.
    ///
    /// # Errors
    /// [`Error::MissingSetting`] without a workspace id; API and transport errors otherwise.
    ///
    /// ```no_run
    /// # async fn demo(client: assistants::Client) -> Result<(), assistants::Error> {
    /// let session = client.flowhunt()?.create_session().await?;
    /// println!("session {}", session.id());
    /// # Ok(()) }
    /// ```
    pub async fn create_session(&self) -> Result<Session, Error> {
        self.create_session_with(types::FlowAssistantSessionCreateRequest::default())
            .await
    }

    /// Creates a session with explicit options (a context flow, a welcome message).
    ///
    /// # Errors
    /// As [`FlowHunt::create_session`].
    pub async fn create_session_with(
        &self,
        request: types::FlowAssistantSessionCreateRequest,
    ) -> Result<Session, Error> {
        let workspace = self
            .inner
            .workspace_id
            .as_deref()
            .ok_or_else(|| match &self.inner.config {
                Some(config) => config.missing(flowhunt_api::WORKSPACE_ID_ENV, "with_flowhunt_workspace"),
                None => Error::MissingSetting {
                    var: flowhunt_api::WORKSPACE_ID_ENV,
                    setter: "with_flowhunt_workspace",
                },
            })?;
        let deadline = Deadline::after(self.inner.caller.settings.operation_timeout);
        let created = self
            .inner
            .caller
            .call(operations::CREATE_V3_FLOW_ASSISTANT_SESSION, &deadline, || {
                self.inner
                    .api
                    .create_v3_flow_assistant_session()
                    .workspace_id(workspace)
                    .body(request.clone())
                    .send()
            })
            .await?;
        Ok(self.session(created.session_id))
    }

    /// Opens an existing session by id.
    pub fn session(&self, id: impl Into<String>) -> Session {
        Session {
            inner: self.inner.clone(),
            id: id.into(),
        }
    }
}

impl Session {
    /// The session's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Invokes the assistant with `message` and streams this invocation's events until it ends.
    ///
    /// The invoke is never sent twice unless the first attempt provably never left. One
    /// deadline (`Settings::operation_timeout`, from this call on) covers the whole stream and
    /// cancels a request in flight.
    ///
    /// ```no_run
    /// use futures::StreamExt;
    /// # async fn demo(session: assistants::Session) -> Result<(), assistants::Error> {
    /// let mut events = session.ask("Add a chat input to my flow");
    /// while let Some(item) = events.next().await {
    ///     match item? {
    ///         assistants::AskEvent::Event { event, cursor } => {
    ///             println!("{} (resume from {})", event.action_type, cursor.from_timestamp());
    ///         }
    ///         assistants::AskEvent::Done { outcome, .. } => println!("{outcome:?}"),
    ///         _ => {}
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn ask(&self, message: impl Into<String>) -> EventStream<AskEvent> {
        let message = message.into();
        let cursor = Cursor::at(self.id.clone(), 0).with_message(message.clone());
        self.stream(cursor, Some(message))
    }

    /// Continues a stream from a saved cursor (after a restart): polls only, never invokes.
    ///
    /// ```no_run
    /// # fn demo(flowhunt: assistants::FlowHunt, saved: &str) -> Result<(), Box<dyn std::error::Error>> {
    /// let cursor: assistants::Cursor = serde_json::from_str(saved)?;
    /// let events = flowhunt.session(cursor.session_id()).resume(cursor);
    /// # let _ = events; Ok(()) }
    /// ```
    pub fn resume(&self, cursor: Cursor) -> EventStream<AskEvent> {
        self.stream(cursor, None)
    }

    /// Asks and waits for the outcome.
    ///
    /// # Errors
    /// The first error of the stream, or [`Error::Deadline`].
    ///
    /// ```no_run
    /// # async fn demo(session: assistants::Session) -> Result<(), assistants::Error> {
    /// match session.ask_once("What does my flow do?").await? {
    ///     assistants::Outcome::Completed { answer, .. } => println!("{answer}"),
    ///     other => println!("{other:?}"),
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn ask_once(&self, message: impl Into<String>) -> Result<Outcome, Error> {
        use futures::StreamExt;
        let mut stream = self.ask(message);
        while let Some(item) = stream.next().await {
            if let AskEvent::Done { outcome, .. } = item? {
                return Ok(outcome);
            }
        }
        Err(Error::WaitEnded {
            service: Service::FlowHunt,
            reason: "the event stream ended without an outcome",
        })
    }

    fn stream(&self, cursor: Cursor, invoke: Option<String>) -> EventStream<AskEvent> {
        stream(AskState::new(self.clone(), cursor, invoke))
    }

    /// Joins the session's one poll loop (starting it if none runs), needing every event from
    /// `from` on.
    fn join(&self, from: u64) -> Reader {
        let session = self.clone();
        let max_events = self.inner.caller.settings.max_events;
        let follower = self.inner.loops.follow(
            &self.id,
            &self.inner.caller.settings.poll,
            || Log::new(from, max_events),
            move |tx| {
                let session = session.clone();
                async move {
                    let (from, widening) = tx.borrow().next_poll();
                    let polled = session.poll(from).await;
                    log::publish(&tx, from, widening, polled)
                }
            },
        );
        Reader::join(follower, from)
    }

    /// The session's events from `from` on.
    async fn poll(&self, from: u64) -> Result<Vec<FlowSessionEvent>, Error> {
        // Poll 1 ms before the cursor: events sharing its millisecond are seen on any server.
        let from = from.saturating_sub(1).to_string();
        // The loop outlives any one stream: each poll is bounded on its own.
        let settings = &self.inner.caller.settings;
        let deadline = Deadline::after(settings.attempt_timeout.or(settings.operation_timeout));
        self.inner
            .caller
            .call(operations::POLL_V3_FLOW_ASSISTANT_RESPONSE, &deadline, || {
                self.inner
                    .api
                    .poll_v3_flow_assistant_response()
                    .session_id(self.id.as_str())
                    .from_timestamp(from.as_str())
                    .send()
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    //! What the tests of the submodules share: an event fixture, and (for the dedupe and
    //! welcome tests) a sandbox session whose reply puts three events in one millisecond at the
    //! poll boundary, on virtual time.

    use std::time::Duration;

    use assistants_sandbox::{FlowhuntBoundary, Sandbox, Timing};

    use super::*;

    /// A sandbox session against an `inclusive` (or exclusive) boundary, asked `message`.
    pub(super) struct Boundary {
        /// Kept alive for the session.
        pub(super) _sandbox: Sandbox,
        pub(super) session: Session,
        /// The invocation's `created_at`.
        pub(super) created: u64,
    }

    /// Events `created`, `+1`, then `+2` three times: the tool-call start at once, the tool-call
    /// end 10 ms later and the answer 20 ms later, all at `created + 2`. With `welcome`, the
    /// session's welcome message sits at `created - 1`, the millisecond the first poll starts
    /// from.
    pub(super) async fn boundary(inclusive: bool, welcome: bool, message: &str) -> Boundary {
        let ms = Duration::from_millis;
        let sandbox = Sandbox::builder()
            .flowhunt_boundary(
                FlowhuntBoundary::exclusive()
                    .with_inclusive(inclusive)
                    .with_shared_millisecond(true),
            )
            .timing(Timing::flowhunt_schedule([ms(0), ms(0), ms(0), ms(10), ms(20)]))
            .start()
            .await
            .expect("a sandbox");
        let api = flowhunt_api::Client::with_api_key(&sandbox.base_url(), "k".into()).expect("a client");
        let flowhunt = FlowHunt::new(api, Some("w".into()), Settings::default());
        let request = types::FlowAssistantSessionCreateRequest {
            start_with_welcome_message: Some(welcome),
            ..Default::default()
        };
        let session = flowhunt.create_session_with(request).await.expect("a session");
        let invoked = session
            .inner
            .api
            .invoke_v3_flow_assistant_response()
            .session_id(session.id())
            .body(types::FlowAssistantInvokeRequest::builder().message(message.to_string()))
            .send()
            .await
            .expect("an invocation")
            .into_inner();
        let created = invoked.created_at.parse().expect("epoch ms");
        Boundary {
            _sandbox: sandbox,
            session,
            created,
        }
    }

    /// An event `e<id>` at `ts` (a "loading" action: neither an answer nor an error).
    pub(super) fn event(id: usize, ts: u64) -> FlowSessionEvent {
        serde_json::from_value(serde_json::json!({
            "workspace_id": "w", "session_id": "s", "event_id": format!("e{id}"), "event_type": "ai",
            "created_at_timestamp": ts.to_string(), "action_type": "loading", "credits": 0,
        }))
        .expect("a valid event")
    }

    /// The ids of a poll's events, with their timestamps.
    pub(super) fn ids(events: &[FlowSessionEvent]) -> Vec<(String, u64)> {
        events
            .iter()
            .map(|e| {
                let ts = classify::timestamp(e).expect("a timestamp");
                (e.event_id.clone(), ts)
            })
            .collect()
    }
}
