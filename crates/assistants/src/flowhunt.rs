//! FlowHunt: sessions, and `ask` as a stream of typed events ending in an [`Outcome`].
//!
//! FlowHunt has no "done" flag: an invocation's events are polled after a timestamp and the
//! end is recognised by `action_type`. The stream here polls from the invocation's timestamp
//! with a 1 ms overlap (so events sharing the boundary millisecond are never missed, whether
//! the server's boundary is inclusive or not), drops events already seen by `event_id`, orders
//! each batch by timestamp, never moves its cursor backwards, and ignores AI messages older
//! than the invocation (such as a welcome message).
//!
//! Every stream over one session (several `ask`s, `resume`s of one cursor) on clones of one
//! [`FlowHunt`] handle reads from the session's one poll loop: requests scale with sessions, not
//! with the streams following them. Each stream still filters and classifies on its own.

use std::collections::{BTreeSet, HashSet, VecDeque};
use std::sync::Arc;

use flowhunt_api::types::{self, FlowEventActionType, FlowSessionEvent, MessageType};
use futures::Stream;
use serde::{Deserialize, Serialize};

use crate::config::{Settings, check_id, check_message};
use crate::error::{Error, Service, from_generated};
use crate::outcome::{Outcome, Role, TurnMessage};
use crate::retry::{Idempotency, with_retry};
use crate::shared::{Follower, Loops, Step};

/// A boxed stream of results, as every streaming method returns.
pub type EventStream<T> = std::pin::Pin<Box<dyn Stream<Item = Result<T, Error>> + Send>>;

/// FlowHunt's handle: creates sessions and opens existing ones.
#[derive(Clone, Debug)]
pub struct FlowHunt {
    api: flowhunt_api::Client,
    workspace_id: Option<String>,
    settings: Arc<Settings>,
    loops: Loops<Log>,
}

/// One assistant session.
#[derive(Clone, Debug)]
pub struct Session {
    api: flowhunt_api::Client,
    id: String,
    settings: Arc<Settings>,
    loops: Loops<Log>,
}

/// A session's events as its one poll loop read them, shared by every stream on the session.
struct Log {
    /// Every event read, once (by id), in arrival order.
    events: Vec<FlowSessionEvent>,
    ids: HashSet<String>,
    /// Every event at or after this timestamp is in `events`.
    covered_from: Option<u64>,
    /// The earliest timestamp a stream needs.
    want_from: u64,
    /// The newest timestamp read.
    newest: u64,
    /// The error that stopped the loop.
    error: Option<Error>,
}

/// Where an `ask` stream stands; serialise it to resume after a restart with nothing lost and
/// nothing repeated ([`Session::resume`]). Its JSON Schema (`schemars::schema_for!(Cursor)`)
/// describes the stored form.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Cursor {
    /// The session.
    pub session_id: String,
    /// Everything before this epoch-ms timestamp has been delivered.
    pub from_timestamp: u64,
    /// Ids of the delivered events at exactly `from_timestamp`.
    pub seen_at_boundary: BTreeSet<String>,
    /// AI messages before this timestamp belong to earlier turns (`None`: not known yet).
    pub invocation_timestamp: Option<u64>,
    /// The user's message, to recognise its echo when the invocation's timestamp is unknown.
    pub message: String,
}

/// An item of an `ask` stream.
#[derive(Clone, Debug, PartialEq)]
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
    /// [`Settings::max_body_bytes`] of any response).
    pub fn new(api: flowhunt_api::Client, workspace_id: Option<String>, settings: Settings) -> Self {
        Self {
            api: api.with_limits(settings.limits()),
            workspace_id,
            settings: Arc::new(settings),
            loops: Loops::default(),
        }
    }

    /// Creates a session in the configured workspace.
    ///
    /// # Errors
    /// [`Error::Config`] without a workspace id; API and transport errors otherwise.
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
            .workspace_id
            .clone()
            .ok_or_else(|| crate::config::missing("FLOWHUNT_WORKSPACE_ID", "--workspace"))?;
        let max = self.settings.max_body_bytes;
        let created = crate::poll::within(
            self.settings.timeout,
            with_retry(
                &self.settings.retry,
                Idempotency::NonIdempotent,
                "create_v3_flow_assistant_session",
                || {
                    let request = request.clone();
                    let workspace = workspace.clone();
                    async move {
                        let call = self
                            .api
                            .create_v3_flow_assistant_session()
                            .workspace_id(workspace)
                            .body(request)
                            .send();
                        match call.await {
                            Ok(response) => Ok(response.into_inner()),
                            Err(e) => Err(from_generated(Service::FlowHunt, e, max).await),
                        }
                    }
                },
            ),
        )
        .await?;
        Ok(self.session(created.session_id))
    }

    /// Opens an existing session by id.
    pub fn session(&self, id: impl Into<String>) -> Session {
        Session {
            api: self.api.clone(),
            id: id.into(),
            settings: self.settings.clone(),
            loops: self.loops.clone(),
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
    /// The invoke is never sent twice unless the first attempt provably never left. The
    /// configured deadline covers the whole stream and cancels a request in flight.
    ///
    /// ```no_run
    /// use futures::StreamExt;
    /// # async fn demo(session: assistants::Session) -> Result<(), assistants::Error> {
    /// let mut events = session.ask("Add a chat input to my flow");
    /// while let Some(item) = events.next().await {
    ///     match item? {
    ///         assistants::AskEvent::Event { event, cursor } => {
    ///             println!("{} (resume from {})", event.action_type, cursor.from_timestamp);
    ///         }
    ///         assistants::AskEvent::Done { outcome, .. } => println!("{outcome:?}"),
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn ask(&self, message: impl Into<String>) -> EventStream<AskEvent> {
        let message = message.into();
        let cursor = Cursor {
            session_id: self.id.clone(),
            from_timestamp: 0,
            seen_at_boundary: BTreeSet::new(),
            invocation_timestamp: None,
            message: message.clone(),
        };
        self.stream(cursor, Some(message))
    }

    /// Continues a stream from a saved cursor (after a restart): polls only, never invokes.
    ///
    /// ```no_run
    /// # fn demo(flowhunt: assistants::FlowHunt, saved: &str) -> Result<(), Box<dyn std::error::Error>> {
    /// let cursor: assistants::Cursor = serde_json::from_str(saved)?;
    /// let events = flowhunt.session(cursor.session_id.clone()).resume(cursor);
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
        Err(Error::Failed {
            service: Service::FlowHunt,
            message: "the event stream ended without an outcome".into(),
        })
    }

    fn stream(&self, cursor: Cursor, invoke: Option<String>) -> EventStream<AskEvent> {
        let state = AskState {
            session: self.clone(),
            follower: None,
            read: 0,
            deadline: self
                .settings
                .timeout
                .map(|t| (tokio::time::Instant::now() + t, t)),
            cursor,
            invoke,
            queue: VecDeque::new(),
            messages: Vec::new(),
            done: false,
        };
        Box::pin(futures::stream::unfold(state, |mut state| async move {
            let item = state.next().await?;
            Some((item, state))
        }))
    }

    /// Follows the session's one poll loop (starting it if none runs), needing every event
    /// from `from` on.
    fn follow(&self, from: u64) -> Follower<Log> {
        let init = || Log {
            events: Vec::new(),
            ids: HashSet::new(),
            covered_from: None,
            want_from: from,
            newest: 0,
            error: None,
        };
        let session = self.clone();
        let follower = self.loops.follow(&self.id, &self.settings.poll, init, move |tx| {
            let session = session.clone();
            async move { session.poll_into(&tx).await }
        });
        follower.request(|log| {
            let lower = from < log.want_from;
            log.want_from = log.want_from.min(from);
            lower
        });
        follower
    }

    /// One poll of the session's loop: widens the log back to what a stream needs, or reads
    /// what is newer than the log.
    async fn poll_into(&self, tx: &tokio::sync::watch::Sender<Log>) -> Step {
        let (from, widening) = {
            let log = tx.borrow();
            match log.covered_from {
                Some(covered) if log.want_from >= covered => (log.newest.max(covered), false),
                _ => (log.want_from, true),
            }
        };
        match self.poll(from).await {
            Err(error) => {
                tx.send_modify(|log| log.error = Some(error));
                Step::Stop
            }
            Ok(events) => {
                let mut news = false;
                tx.send_if_modified(|log| {
                    for event in events {
                        if log.ids.insert(event.event_id.clone()) {
                            log.newest = log.newest.max(timestamp(&event));
                            log.events.push(event);
                            news = true;
                        }
                    }
                    if widening {
                        log.covered_from = Some(log.covered_from.map_or(from, |c| c.min(from)));
                    }
                    news || widening
                });
                if news { Step::News } else { Step::Quiet }
            }
        }
    }

    /// The session's events from `from` on.
    async fn poll(&self, from: u64) -> Result<Vec<FlowSessionEvent>, Error> {
        // Poll 1 ms before the cursor: events sharing its millisecond are seen on any server.
        let from = from.saturating_sub(1).to_string();
        let max = self.settings.max_body_bytes;
        let (api, session) = (&self.api, self.id.as_str());
        // Bounded by the overall timeout too: the loop outlives any one stream's deadline.
        let poll = with_retry(
            &self.settings.retry,
            Idempotency::Safe,
            "poll_v3_flow_assistant_response",
            || {
                let from = from.clone();
                async move {
                    match api
                        .poll_v3_flow_assistant_response()
                        .session_id(session)
                        .from_timestamp(from)
                        .send()
                        .await
                    {
                        Ok(response) => Ok(response.into_inner()),
                        Err(e) => Err(from_generated(Service::FlowHunt, e, max).await),
                    }
                }
            },
        );
        crate::poll::within(self.settings.timeout, poll).await
    }
}

struct AskState {
    session: Session,
    follower: Option<Follower<Log>>,
    /// How much of the follower's log this stream has read.
    read: usize,
    deadline: Option<(tokio::time::Instant, std::time::Duration)>,
    cursor: Cursor,
    invoke: Option<String>,
    queue: VecDeque<Result<AskEvent, Error>>,
    messages: Vec<TurnMessage>,
    done: bool,
}

fn timestamp(event: &FlowSessionEvent) -> u64 {
    event.created_at_timestamp.trim().parse().unwrap_or(0)
}

/// The events of the log this stream has not read, once the log covers `from`.
async fn next_batch(
    follower: &mut Follower<Log>,
    read: &mut usize,
    from: u64,
) -> Result<Vec<FlowSessionEvent>, Error> {
    loop {
        {
            let log = follower.rx.borrow_and_update();
            if let Some(error) = &log.error {
                return Err(error.clone());
            }
            if log.covered_from.is_some_and(|covered| covered <= from) && *read < log.events.len() {
                let batch = log.events[*read..].to_vec();
                *read = log.events.len();
                return Ok(batch);
            }
        }
        if follower.rx.changed().await.is_err() {
            return Err(Error::Failed {
                service: Service::FlowHunt,
                message: "the session's poll loop stopped".into(),
            });
        }
    }
}

fn text_of(event: &FlowSessionEvent, field: &str) -> Option<String> {
    event.metadata.as_ref()?.get(field)?.as_str().map(str::to_string)
}

impl AskState {
    async fn next(&mut self) -> Option<Result<AskEvent, Error>> {
        loop {
            if let Some(item) = self.queue.pop_front() {
                return Some(item);
            }
            if self.done {
                return None;
            }
            let deadline = self.deadline;
            let span = tracing::info_span!(
                "wait",
                service = "flowhunt",
                session = self.cursor.session_id.as_str(),
                cursor = self.cursor.from_timestamp
            );
            let step = tracing::Instrument::instrument(self.step(), span);
            let result = match deadline {
                Some((at, limit)) => match tokio::time::timeout_at(at, step).await {
                    Ok(result) => result,
                    Err(_) => Err(Error::Deadline {
                        limit,
                        elapsed: limit,
                    }),
                },
                None => step.await,
            };
            if let Err(error) = result {
                self.done = true;
                return Some(Err(error));
            }
        }
    }

    /// The invoke first, then the next batch of the session's log.
    async fn step(&mut self) -> Result<(), Error> {
        if let Some(message) = self.invoke.take() {
            let settings = self.session.settings.clone();
            let max = settings.max_body_bytes;
            check_message(&settings, &message)?;
            check_id("session id", &self.cursor.session_id)?;
            let (api, session) = (self.session.api.clone(), self.cursor.session_id.clone());
            let invocation = with_retry(
                &settings.retry,
                Idempotency::NonIdempotent,
                "invoke_v3_flow_assistant_response",
                || {
                    let (api, session, message) = (api.clone(), session.clone(), message.clone());
                    async move {
                        let body = types::FlowAssistantInvokeRequest::builder().message(message);
                        match api
                            .invoke_v3_flow_assistant_response()
                            .session_id(session)
                            .body(body)
                            .send()
                            .await
                        {
                            Ok(response) => Ok(response.into_inner()),
                            Err(e) => Err(from_generated(Service::FlowHunt, e, max).await),
                        }
                    }
                },
            )
            .await?;
            if let Ok(created) = invocation.created_at.trim().parse::<u64>() {
                self.cursor.invocation_timestamp = Some(created);
                self.cursor.from_timestamp = created;
            }
            let cached = invocation.cached_events.unwrap_or_default();
            self.absorb(cached);
            if !self.done {
                let follower = self.session.follow(self.cursor.from_timestamp);
                follower.acted();
                self.follower = Some(follower);
            }
            return Ok(());
        }
        let from = self.cursor.from_timestamp;
        let follower = match &mut self.follower {
            Some(follower) => follower,
            None => {
                check_id("session id", &self.cursor.session_id)?;
                self.follower.insert(self.session.follow(from))
            }
        };
        let batch = next_batch(follower, &mut self.read, from).await?;
        self.absorb(batch);
        if self.done {
            self.follower = None; // leave the loop
        }
        Ok(())
    }

    /// Filters, orders and classifies a batch; queues what is new.
    fn absorb(&mut self, mut events: Vec<FlowSessionEvent>) {
        events.sort_by_key(timestamp); // stable: arrival order breaks ties
        for event in events {
            let ts = timestamp(&event);
            let cursor = &mut self.cursor;
            if ts < cursor.from_timestamp
                || (ts == cursor.from_timestamp && cursor.seen_at_boundary.contains(&event.event_id))
            {
                continue; // delivered before
            }
            if ts > cursor.from_timestamp {
                cursor.from_timestamp = ts;
                cursor.seen_at_boundary.clear();
            }
            cursor.seen_at_boundary.insert(event.event_id.clone());
            if cursor.invocation_timestamp.is_none()
                && event.event_type == MessageType::Human
                && text_of(&event, "message").as_deref() == Some(cursor.message.as_str())
            {
                cursor.invocation_timestamp = Some(ts); // our own message's echo marks the turn
            }
            let outcome = self.classify(&event, ts);
            let cursor = self.cursor.clone();
            self.queue.push_back(Ok(AskEvent::Event {
                event: Box::new(event),
                cursor: cursor.clone(),
            }));
            if let Some(outcome) = outcome {
                self.queue.push_back(Ok(AskEvent::Done { outcome, cursor }));
                self.done = true;
                return;
            }
        }
    }

    /// The outcome an event ends the invocation with, if it does.
    fn classify(&mut self, event: &FlowSessionEvent, ts: u64) -> Option<Outcome> {
        let this_turn = self.cursor.invocation_timestamp.is_some_and(|start| ts >= start);
        let role = match event.event_type {
            MessageType::Human => Role::User,
            MessageType::Ai => Role::Assistant,
            _ => Role::System,
        };
        if event.action_type == FlowEventActionType::Message
            && this_turn
            && let Some(text) = text_of(event, "message")
        {
            self.messages.push(TurnMessage {
                role: role.clone(),
                author: event.component_name.clone(),
                text,
            });
        }
        let prompt = |default: String| text_of(event, "prompt_message").unwrap_or(default);
        match &event.action_type {
            FlowEventActionType::Message if event.event_type == MessageType::Ai && this_turn => {
                let answer = text_of(event, "message").unwrap_or_default();
                Some(Outcome::Completed {
                    answer,
                    messages: std::mem::take(&mut self.messages),
                })
            }
            FlowEventActionType::Failed => Some(Outcome::Failed {
                reason: text_of(event, "message")
                    .unwrap_or_else(|| "the assistant reported a failure".into()),
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
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn event(id: usize, ts: u64) -> FlowSessionEvent {
        serde_json::from_value(serde_json::json!({
            "workspace_id": "w", "session_id": "s", "event_id": format!("e{id}"), "event_type": "ai",
            "created_at_timestamp": ts.to_string(), "action_type": "loading", "credits": 0,
        }))
        .expect("a valid event")
    }

    fn state() -> AskState {
        let api = flowhunt_api::Client::new("http://127.0.0.1:9", Default::default());
        let session = FlowHunt::new(api, None, Settings::default()).session("s");
        AskState {
            session,
            follower: None,
            read: 0,
            deadline: None,
            cursor: Cursor {
                session_id: "s".into(),
                from_timestamp: 0,
                seen_at_boundary: BTreeSet::new(),
                invocation_timestamp: Some(0),
                message: "m".into(),
            },
            invoke: None,
            queue: VecDeque::new(),
            messages: Vec::new(),
            done: false,
        }
    }

    fn delivered(state: &mut AskState) -> Vec<(String, u64)> {
        state
            .queue
            .drain(..)
            .filter_map(|item| match item {
                Ok(AskEvent::Event { event, .. }) => Some((event.event_id.clone(), timestamp(&event))),
                _ => None,
            })
            .collect()
    }

    proptest! {
        // Debug builds on 2 cores: 48 cases per property keep the suite fast; raise the
        // number here for a deeper run.
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// Events become visible in timestamp order (several may share a millisecond); each poll
        /// returns what is visible from `cursor - 1` on, shuffled, with duplicates. Every event
        /// comes out exactly once, in timestamp order, and the cursor never goes back.
        #[test]
        fn every_event_once_and_in_order(
            gaps in proptest::collection::vec(0u64..3, 1..40),
            polls in proptest::collection::vec((0usize..40, any::<u64>(), 0usize..4), 1..12),
        ) {
            let mut ts = 1000;
            let events: Vec<(usize, u64)> = gaps.iter().enumerate().map(|(i, gap)| { ts += gap; (i, ts) }).collect();
            let mut state = state();
            let mut out = Vec::new();
            let mut visible = 0usize;
            let mut last_cursor = 0;
            let mut schedule = polls.clone();
            schedule.push((events.len(), 0, 0)); // a last poll sees everything
            for (grow, seed, dupes) in schedule {
                visible = (visible + grow).min(events.len());
                let from = state.cursor.from_timestamp.saturating_sub(1);
                let mut batch: Vec<FlowSessionEvent> = events[..visible].iter().filter(|(_, t)| *t >= from).map(|(i, t)| event(*i, *t)).collect();
                for d in 0..dupes.min(batch.len()) {
                    batch.push(batch[d].clone());
                }
                let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(seed);
                rand::seq::SliceRandom::shuffle(batch.as_mut_slice(), &mut rng);
                state.absorb(batch);
                prop_assert!(state.cursor.from_timestamp >= last_cursor, "the cursor went back");
                last_cursor = state.cursor.from_timestamp;
                out.extend(delivered(&mut state));
            }
            let ids: Vec<&String> = out.iter().map(|(id, _)| id).collect();
            let unique: std::collections::HashSet<&&String> = ids.iter().collect();
            prop_assert_eq!(unique.len(), ids.len(), "an event came twice");
            prop_assert_eq!(out.len(), events.len(), "an event was lost");
            prop_assert!(out.windows(2).all(|w| w[0].1 <= w[1].1), "out of order");
        }

        /// A cursor survives serialisation unchanged, and its stored form matches its schema.
        #[test]
        fn cursors_round_trip(from in any::<u64>(), ids in proptest::collection::btree_set("[a-z0-9-]{1,12}", 0..5), message in "\\PC{0,40}", known in any::<bool>()) {
            let invocation_timestamp = known.then_some(from / 2);
            let cursor = Cursor { session_id: "s".into(), from_timestamp: from, seen_at_boundary: ids, invocation_timestamp, message };
            let stored = serde_json::to_value(&cursor).unwrap();
            let back: Cursor = serde_json::from_value(stored.clone()).unwrap();
            prop_assert_eq!(back, cursor);
            let schema = serde_json::to_value(schemars::schema_for!(Cursor)).unwrap();
            let validator = jsonschema::validator_for(&schema).unwrap();
            prop_assert!(validator.is_valid(&stored), "{}", stored);
        }

        /// Any action type, known or not, round-trips through the open enum and the event type.
        #[test]
        fn open_enums_round_trip(value in "\\PC{0,30}") {
            let parsed: FlowEventActionType = serde_json::from_value(serde_json::Value::String(value.clone())).unwrap();
            prop_assert_eq!(parsed.as_str(), value.as_str());
            prop_assert_eq!(serde_json::to_value(&parsed).unwrap(), serde_json::Value::String(value.clone()));
            let status = flowgen_api::types::ChatStatus::from(value.as_str());
            prop_assert_eq!(status.to_string(), value);
        }
    }
}
