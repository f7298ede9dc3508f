//! One `ask` (or `resume`) stream: the invoke, then the session log's events through this
//! stream's cursor, each once and in timestamp order, until one ends the invocation.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;

use flowhunt_api::operations;
use flowhunt_api::types::{self, FlowSessionEvent, MessageType};

use super::classify::{self, text_of, timestamp};
use super::log::Reader;
use super::{AskEvent, Cursor, Session};
use crate::deadline::Deadline;
use crate::error::{Error, Service};
use crate::outcome::TurnMessage;
use crate::validate::{check_id, check_message};

impl crate::stream::Source for AskState {
    type Item = AskEvent;
    fn next(&mut self) -> impl std::future::Future<Output = Option<Result<AskEvent, Error>>> + Send {
        self.next_item()
    }
}

/// The state of one stream between items.
pub(crate) struct AskState {
    pub(crate) session: Session,
    pub(crate) reader: Option<Reader>,
    pub(crate) deadline: Deadline,
    pub(crate) cursor: Cursor,
    /// Ids delivered at the cursor's boundary, for constant-time checks (the cursor's list is
    /// shared and scanned only when resuming).
    pub(crate) seen: HashSet<Arc<str>>,
    pub(crate) invoke: Option<String>,
    pub(crate) queue: VecDeque<Result<AskEvent, Error>>,
    pub(crate) messages: Vec<TurnMessage>,
    pub(crate) delivered: usize,
    pub(crate) done: bool,
}

impl AskState {
    pub(crate) fn new(session: Session, cursor: Cursor, invoke: Option<String>) -> Self {
        let deadline = Deadline::after(session.inner.caller.settings.operation_timeout);
        let seen = cursor.seen_at_boundary().into_iter().map(Arc::from).collect();
        Self {
            session,
            reader: None,
            deadline,
            cursor,
            seen,
            invoke,
            queue: VecDeque::new(),
            messages: Vec::new(),
            delivered: 0,
            done: false,
        }
    }

    async fn next_item(&mut self) -> Option<Result<AskEvent, Error>> {
        loop {
            if let Some(item) = self.queue.pop_front() {
                return Some(item);
            }
            if self.done {
                return None;
            }
            let span = tracing::info_span!(
                "wait",
                service = "flowhunt",
                session = self.cursor.session_id(),
                cursor = self.cursor.from_timestamp()
            );
            let deadline = self.deadline;
            let result = deadline
                .run(tracing::Instrument::instrument(self.step(), span))
                .await;
            if let Err(error) = result {
                self.finish();
                return Some(Err(error));
            }
        }
    }

    fn finish(&mut self) {
        self.done = true;
        self.reader = None; // leave the loop
    }

    /// The invoke first, then the next batch of the session's log.
    async fn step(&mut self) -> Result<(), Error> {
        if let Some(message) = self.invoke.take() {
            return self.invoke(message).await;
        }
        let from = self.cursor.from_timestamp();
        let reader = match &mut self.reader {
            Some(reader) => reader,
            None => {
                check_id("session id", self.cursor.session_id())?;
                self.reader.insert(self.session.join(from))
            }
        };
        let batch = reader.next_batch(from).await?;
        self.absorb(batch.iter().map(|event| &**event))
    }

    async fn invoke(&mut self, message: String) -> Result<(), Error> {
        let inner = self.session.inner.clone();
        check_message(&inner.caller.settings, &message)?;
        check_id("session id", self.cursor.session_id())?;
        let session = self.cursor.session_id().to_string();
        let invocation = inner
            .caller
            .call(
                operations::INVOKE_V3_FLOW_ASSISTANT_RESPONSE,
                &self.deadline,
                || {
                    inner
                        .api
                        .invoke_v3_flow_assistant_response()
                        .session_id(session.as_str())
                        .body(types::FlowAssistantInvokeRequest::builder().message(message.clone()))
                        .send()
                },
            )
            .await?;
        if let Ok(created) = invocation.created_at.trim().parse::<u64>() {
            self.cursor.start_at(created);
            self.seen.clear();
        }
        let cached = invocation.cached_events.unwrap_or_default();
        self.absorb(cached.iter())?;
        if !self.done {
            let reader = self.session.join(self.cursor.from_timestamp());
            reader.acted();
            self.reader = Some(reader);
        }
        Ok(())
    }

    /// Filters, orders and classifies a batch; queues what is new.
    ///
    /// # Errors
    /// [`Error::Decode`] for an event without a usable timestamp, [`Error::TooManyEvents`]
    /// past `Settings::max_events`.
    pub(crate) fn absorb<'a>(
        &mut self,
        events: impl Iterator<Item = &'a FlowSessionEvent>,
    ) -> Result<(), Error> {
        let mut batch = Vec::new();
        for event in events {
            batch.push((timestamp(event)?, event));
        }
        batch.sort_by_key(|(ts, _)| *ts); // stable: arrival order breaks ties
        for (ts, event) in batch {
            if ts < self.cursor.from_timestamp()
                || (ts == self.cursor.from_timestamp() && self.seen.contains(event.event_id.as_str()))
            {
                continue; // delivered before
            }
            self.delivered += 1;
            let limit = self.session.inner.caller.settings.max_events;
            if self.delivered > limit {
                return Err(Error::TooManyEvents {
                    service: Service::FlowHunt,
                    limit,
                });
            }
            if ts > self.cursor.from_timestamp() {
                self.seen.clear();
            }
            self.cursor.advance(ts, &event.event_id);
            self.seen.insert(event.event_id.as_str().into());
            if self.cursor.invocation_timestamp().is_none()
                && event.event_type == MessageType::Human
                && text_of(event, "message").as_deref() == Some(self.cursor.message())
            {
                self.cursor.set_invocation_timestamp(ts); // our own message's echo marks the turn
            }
            let this_turn = self
                .cursor
                .invocation_timestamp()
                .is_some_and(|start| ts >= start);
            if let Some(message) = classify::turn_message(event, this_turn) {
                self.messages.push(message);
            }
            let outcome = classify::outcome(event, this_turn, &mut self.messages);
            self.queue.push_back(Ok(AskEvent::Event {
                event: Box::new(event.clone()),
                cursor: self.cursor.clone(),
            }));
            if let Some(outcome) = outcome {
                let cursor = self.cursor.clone();
                self.queue.push_back(Ok(AskEvent::Done { outcome, cursor }));
                self.finish();
                return Ok(());
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::flowhunt::FlowHunt;
    use crate::flowhunt::tests::event;
    use crate::{Outcome, Settings};
    use flowhunt_api::types::FlowEventActionType;

    fn state() -> AskState {
        // One client for every case: building an HTTP client (TLS roots) is the slow part.
        static SESSION: std::sync::OnceLock<Session> = std::sync::OnceLock::new();
        let session = SESSION
            .get_or_init(|| {
                let api = flowhunt_api::Client::new("http://127.0.0.1:9", Default::default());
                FlowHunt::new(api, None, Settings::default()).session("s")
            })
            .clone();
        let cursor = Cursor::at("s", 0)
            .with_invocation_timestamp(Some(0))
            .with_message("m");
        AskState::new(session, cursor, None)
    }

    fn delivered(state: &mut AskState) -> Vec<(String, u64)> {
        state
            .queue
            .drain(..)
            .filter_map(|item| match item {
                Ok(AskEvent::Event { event, .. }) => {
                    Some((event.event_id.clone(), timestamp(&event).unwrap()))
                }
                _ => None,
            })
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

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
                let from = state.cursor.from_timestamp().saturating_sub(1);
                let mut batch: Vec<FlowSessionEvent> = events[..visible].iter().filter(|(_, t)| *t >= from).map(|(i, t)| event(*i, *t)).collect();
                for d in 0..dupes.min(batch.len()) {
                    batch.push(batch[d].clone());
                }
                let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(seed);
                rand::seq::SliceRandom::shuffle(batch.as_mut_slice(), &mut rng);
                state.absorb(batch.iter()).unwrap();
                prop_assert!(state.cursor.from_timestamp() >= last_cursor, "the cursor went back");
                last_cursor = state.cursor.from_timestamp();
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
            let mut cursor = Cursor::at("s", from).with_invocation_timestamp(invocation_timestamp).with_message(message);
            for id in &ids {
                cursor.advance(from, id);
            }
            prop_assert_eq!(cursor.seen_at_boundary(), ids);
            let stored = serde_json::to_value(&cursor).unwrap();
            let back: Cursor = serde_json::from_value(stored.clone()).unwrap();
            prop_assert_eq!(back, cursor);
            static VALIDATOR: std::sync::OnceLock<jsonschema::Validator> = std::sync::OnceLock::new();
            let validator = VALIDATOR.get_or_init(|| {
                let schema = serde_json::to_value(schemars::schema_for!(Cursor)).unwrap();
                jsonschema::validator_for(&schema).unwrap()
            });
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

    /// Polls `session` from the cursor of `state` (as the loop would, 1 ms before it) and
    /// hands every raw batch to the stream, no log in between, until the stream is done;
    /// returns the events delivered and the outcome.
    async fn drive(state: &mut AskState) -> (Vec<(String, u64)>, Option<Outcome>) {
        let (mut events, mut outcome) = (Vec::new(), None);
        for _poll in 0..6 {
            let polled = state
                .session
                .poll(state.cursor.from_timestamp())
                .await
                .expect("a poll");
            state.absorb(polled.iter()).expect("absorbed");
            for item in state.queue.drain(..) {
                match item.expect("no error") {
                    AskEvent::Event { event, .. } => {
                        events.push((event.event_id.clone(), timestamp(&event).expect("ts")));
                    }
                    AskEvent::Done { outcome: o, .. } => outcome = Some(o),
                }
            }
            if state.done {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        (events, outcome)
    }

    /// A stream of `setup`'s session from its invocation's timestamp, as `ask(message)` starts
    /// one: the timestamp, and the stream's state.
    fn at_invocation(setup: &crate::flowhunt::tests::Boundary, message: &str) -> (u64, AskState) {
        let c = setup.created;
        let cursor = Cursor::at(setup.session.id(), c)
            .with_invocation_timestamp(Some(c))
            .with_message(message);
        (c, AskState::new(setup.session.clone(), cursor, None))
    }

    /// The cursor alone (raw polls, no log before it): three events share the boundary
    /// millisecond and become visible 10 ms apart; the exclusive and the inclusive server
    /// both return events already delivered, and each reaches the stream once, in order.
    #[tokio::test(start_paused = true)]
    async fn the_cursor_alone_delivers_each_boundary_event_once_on_either_server() {
        for inclusive in [false, true] {
            let setup = crate::flowhunt::tests::boundary(inclusive, false, "hi there").await;
            let (c, mut state) = at_invocation(&setup, "hi there");
            let (events, outcome) = drive(&mut state).await;
            let stamps: Vec<u64> = events.iter().map(|(_, ts)| *ts).collect();
            assert_eq!(stamps, [c, c + 1, c + 2, c + 2, c + 2], "inclusive: {inclusive}");
            let unique: HashSet<&String> = events.iter().map(|(id, _)| id).collect();
            assert_eq!(unique.len(), 5, "each once (inclusive: {inclusive})");
            assert_eq!(
                outcome.as_ref().and_then(Outcome::answer),
                Some("Answer to \"hi there\": 2 words received."),
            );
        }
    }

    /// A cursor stored inside the boundary millisecond (after the tool-call start, before the
    /// two events that share its millisecond) resumes from its own list of ids there: on either
    /// server the resumed stream delivers only the two events it had not.
    #[tokio::test(start_paused = true)]
    async fn a_cursor_stored_inside_the_boundary_millisecond_resumes_without_repeats() {
        for inclusive in [false, true] {
            let setup = crate::flowhunt::tests::boundary(inclusive, false, "hi there").await;
            let (c, mut state) = at_invocation(&setup, "hi there");
            let polled = state.session.poll(c).await.expect("a poll");
            state.absorb(polled.iter()).expect("absorbed");
            assert_eq!(delivered(&mut state).len(), 3, "the events visible at once");
            assert_eq!(state.cursor.from_timestamp(), c + 2);
            let stored = serde_json::to_string(&state.cursor).expect("stored");
            let cursor: Cursor = serde_json::from_str(&stored).expect("loaded");
            assert_eq!(cursor.seen_at_boundary().len(), 1);

            let mut resumed = AskState::new(setup.session.clone(), cursor, None);
            let (events, outcome) = drive(&mut resumed).await;
            let stamps: Vec<u64> = events.iter().map(|(_, ts)| *ts).collect();
            assert_eq!(stamps, [c + 2, c + 2], "inclusive: {inclusive}");
            assert!(outcome.is_some_and(|o| o.answer().is_some()));
        }
    }

    /// Through an inclusive boundary the first poll (from the invocation's `created_at`, 1 ms
    /// before it) returns the session's welcome message; an exclusive one does not. Either
    /// way it never becomes the answer: before the cursor it is not delivered, and a stream
    /// that does not know the invocation's timestamp (a non-numeric `created_at` leaves the
    /// cursor at 0) delivers it as an event of an earlier turn.
    #[tokio::test(start_paused = true)]
    async fn the_welcome_reaches_the_stream_through_an_inclusive_boundary_and_is_never_the_answer() {
        const WELCOME: &str = "Hi! I am the sandbox flow assistant. How can I help?";
        let answer = "Answer to \"what now\": 2 words received.";
        let is_welcome = |event: &FlowSessionEvent| text_of(event, "message").as_deref() == Some(WELCOME);
        for inclusive in [false, true] {
            let setup = crate::flowhunt::tests::boundary(inclusive, true, "what now").await;
            let c = setup.created;
            let first = setup.session.poll(c).await.expect("a poll");
            assert_eq!(
                first.iter().any(is_welcome),
                inclusive,
                "the welcome, 1 ms before the invocation, comes back on an inclusive boundary only"
            );

            // The invocation's timestamp known: the welcome is behind the cursor.
            let (_, mut state) = at_invocation(&setup, "what now");
            let (events, outcome) = drive(&mut state).await;
            assert_eq!(events.len(), 5, "the invocation's events only");
            assert_eq!(outcome.as_ref().and_then(Outcome::answer), Some(answer));

            // Not known: the welcome reaches the stream, the echo starts the turn, and the
            // answer is still the assistant's reply.
            let cursor = Cursor::at(setup.session.id(), 0).with_message("what now");
            let mut state = AskState::new(setup.session.clone(), cursor, None);
            let (events, outcome) = drive(&mut state).await;
            assert_eq!(events.len(), 6, "the welcome, then the invocation's events");
            assert_eq!(events[0].1, c - 1, "the welcome first");
            match outcome {
                Some(Outcome::Completed {
                    answer: got,
                    messages,
                }) => {
                    assert_eq!(got, answer);
                    assert!(
                        messages.iter().all(|m| m.text != WELCOME),
                        "no welcome in the turn: {messages:?}"
                    );
                }
                other => panic!("expected the answer, got {other:?}"),
            }
        }
    }

    #[test]
    fn a_burst_sharing_one_millisecond_shares_one_boundary_list() {
        let mut state = state();
        let burst: Vec<FlowSessionEvent> = (0..4000).map(|i| event(i, 1000)).collect();
        state.absorb(burst.iter()).unwrap();
        let cursors: Vec<Cursor> = state
            .queue
            .drain(..)
            .filter_map(|item| match item {
                Ok(AskEvent::Event { cursor, .. }) => Some(cursor),
                _ => None,
            })
            .collect();
        assert_eq!(cursors.len(), 4000);
        assert!(
            cursors.iter().all(|c| c.shares_boundary_with(&cursors[0])),
            "memory linear in events"
        );
        assert_eq!(cursors[3999].seen_at_boundary().len(), 4000);
        assert_eq!(cursors[0].seen_at_boundary().len(), 1);
    }

    #[test]
    fn a_stream_past_its_event_cap_ends_with_a_typed_error() {
        let mut state = state();
        state.session.inner = {
            let api = flowhunt_api::Client::new("http://127.0.0.1:9", Default::default());
            FlowHunt::new(api, None, Settings::default().with_max_events(10))
                .session("s")
                .inner
        };
        let events: Vec<FlowSessionEvent> = (0..11).map(|i| event(i, 1000 + i as u64)).collect();
        assert!(
            state.absorb(events[..10].iter()).is_ok(),
            "exactly the cap is allowed"
        );
        assert!(matches!(
            state.absorb(events[10..].iter()),
            Err(Error::TooManyEvents { limit: 10, .. })
        ));
    }

    fn message(id: &str, ts: u64, event_type: &str, text: &str) -> FlowSessionEvent {
        serde_json::from_value(serde_json::json!({
            "workspace_id": "w", "session_id": "s", "event_id": id, "event_type": event_type,
            "created_at_timestamp": ts.to_string(), "action_type": "message", "credits": 0,
            "metadata": {"message_id": id, "message": text},
        }))
        .expect("a valid event")
    }

    #[test]
    fn the_boundary_id_list_holds_only_the_last_millisecond() {
        let mut state = state();
        let events: Vec<FlowSessionEvent> = (0..10).map(|i| event(i, 1000 + i as u64)).collect();
        state.absorb(events.iter()).unwrap();
        assert_eq!(state.seen.len(), 1, "ids of earlier milliseconds are forgotten");
    }

    /// An ask invoked against a server whose invoke answers with `cached` events.
    async fn invoked(server: &httpmock::MockServer, cached: serde_json::Value) -> AskState {
        server
            .mock_async(|when, then| {
                when.method("POST").path("/v3/flow-assistants/s/invoke");
                then.status(200).json_body(
                    serde_json::json!({"message_id": "m", "created_at": "1000", "cached_events": cached}),
                );
            })
            .await;
        let api = flowhunt_api::Client::with_api_key(&server.base_url(), "k".into()).unwrap();
        let session = FlowHunt::new(api, None, Settings::default()).session("s");
        let mut state = AskState::new(session, Cursor::at("s", 0), Some("hi".into()));
        state.step().await.unwrap();
        state
    }

    #[tokio::test]
    async fn a_poll_loop_is_joined_only_when_the_cached_events_did_not_end_the_turn() {
        let answer = message("a", 1001, "ai", "done");
        let server = httpmock::MockServer::start_async().await;
        let finished = invoked(&server, serde_json::json!([answer])).await;
        assert!(finished.done && finished.reader.is_none(), "answered: no loop");
        let server = httpmock::MockServer::start_async().await;
        let working = invoked(&server, serde_json::json!([])).await;
        assert!(
            !working.done && working.reader.is_some(),
            "not answered: the loop is joined"
        );
    }

    #[test]
    fn without_the_invoke_timestamp_only_our_own_echo_starts_the_turn() {
        let mut state = state();
        state.cursor = Cursor::at("s", 0).with_message("hi");
        let events = [
            message("other-q", 1001, "human", "another question"),
            message("other-a", 1002, "ai", "another answer"),
            message("ours", 1003, "human", "hi"),
            message("answer", 1004, "ai", "our answer"),
        ];
        state.absorb(events.iter()).unwrap();
        let outcome = state.queue.drain(..).find_map(|item| match item {
            Ok(AskEvent::Done { outcome, .. }) => Some(outcome),
            _ => None,
        });
        let Some(Outcome::Completed { answer, messages }) = outcome else {
            panic!("no answer: {outcome:?}")
        };
        assert_eq!(answer, "our answer");
        let roles: Vec<_> = messages
            .iter()
            .map(|m| (m.role.clone(), m.text.as_str()))
            .collect();
        let ours = [(crate::Role::User, "hi"), (crate::Role::Assistant, "our answer")];
        assert_eq!(roles, ours, "the turn is ours only");
    }

    #[test]
    fn an_event_with_an_unusable_timestamp_fails_the_stream_instead_of_vanishing() {
        let mut state = state();
        let mut bad = event(1, 1000);
        bad.created_at_timestamp = "99999999999999999999999".into();
        assert!(matches!(state.absorb([bad].iter()), Err(Error::Decode { .. })));
    }
}
