//! A session's events as its one poll loop read them, shared by every stream on the session.
//!
//! The log is the first of two dedupe layers: it keeps each event once by id within the
//! window a poll can repeat (polls start 1 ms before the newest event seen), so the overlap
//! of consecutive polls never reaches the streams twice. Each stream's cursor is the second
//! layer (see `ask.rs`), which also covers what the log forgot.
//!
//! Memory is bounded: events every reader has read are dropped, ids older than the overlap
//! window are forgotten, and a log holding more than `Settings::max_events` unread events
//! stops the loop with [`Error::TooManyEvents`].

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use flowhunt_api::types::FlowSessionEvent;
use tokio::sync::watch;

use super::classify::timestamp;
use crate::error::{Error, Service};
use crate::shared::{Follower, Step};

/// The shared log.
pub(crate) struct Log {
    /// Events not yet read by every reader, in arrival order; `events[0]` is number `base`.
    events: VecDeque<Arc<FlowSessionEvent>>,
    base: usize,
    /// Ids within the overlap window, with their timestamps.
    ids: HashMap<String, u64>,
    /// The oldest timestamp polled from (`None`: nothing polled yet).
    covered_from: Option<u64>,
    /// The earliest timestamp a reader needs.
    want_from: u64,
    /// The newest timestamp read.
    newest: u64,
    /// Where each reader stands (absolute event numbers), to drop what all have read.
    positions: HashMap<u64, usize>,
    next_reader: u64,
    max_events: usize,
    /// The error that stopped the loop.
    error: Option<Error>,
}

impl Log {
    /// An empty log for readers from `from` on, holding at most `max_events` unread events.
    pub(crate) fn new(from: u64, max_events: usize) -> Self {
        Self {
            events: VecDeque::new(),
            base: 0,
            ids: HashMap::new(),
            covered_from: None,
            want_from: from,
            newest: 0,
            positions: HashMap::new(),
            next_reader: 0,
            max_events,
            error: None,
        }
    }

    /// The timestamp the next poll starts from, and whether it widens the log backwards.
    pub(crate) fn next_poll(&self) -> (u64, bool) {
        match self.covered_from {
            Some(covered) if self.want_from >= covered => (self.newest.max(covered), false),
            _ => (self.want_from, true),
        }
    }

    /// Adds what one poll from `from` returned; true when an event is new.
    pub(crate) fn absorb(&mut self, from: u64, widening: bool, events: Vec<FlowSessionEvent>) -> bool {
        let mut news = false;
        for event in events {
            let ts = timestamp(&event).unwrap_or(u64::MAX); // the stream reports a bad timestamp
            if self.ids.contains_key(&event.event_id) {
                continue;
            }
            if ts != u64::MAX {
                self.newest = self.newest.max(ts);
            }
            self.ids.insert(event.event_id.clone(), ts);
            self.events.push_back(Arc::new(event));
            news = true;
        }
        // Only ids a poll from `newest - 1` can return again are worth remembering.
        let window = self.newest.saturating_sub(1);
        self.ids.retain(|_, ts| *ts >= window);
        if widening {
            self.covered_from = Some(self.covered_from.map_or(from, |c| c.min(from)));
        }
        if self.events.len() > self.max_events {
            self.error = Some(Error::TooManyEvents {
                service: Service::FlowHunt,
                limit: self.max_events,
            });
        }
        news
    }

    /// Registers a reader needing every event from `from` on: its id, the event number it
    /// reads from, and whether the log must poll an earlier stretch for it.
    fn join(&mut self, from: u64) -> (u64, usize, bool) {
        let id = self.next_reader;
        self.next_reader += 1;
        self.positions.insert(id, self.base);
        // A reader from before what the log has polled, or from before what it dropped,
        // makes the loop read that stretch again, ids forgotten so that what was dropped
        // comes back (the other readers' cursors drop what they saw already).
        let widen = from < self.want_from || (self.base > 0 && from < self.newest);
        if widen {
            self.want_from = self.want_from.min(from);
            self.covered_from = None;
            self.ids.clear();
        }
        (id, self.base, widen)
    }

    /// Drops the events every reader has read.
    fn trim(&mut self) {
        let oldest = self
            .positions
            .values()
            .copied()
            .min()
            .unwrap_or(self.base + self.events.len());
        let drop = oldest.saturating_sub(self.base).min(self.events.len());
        self.events.drain(..drop);
        self.base += drop;
    }
}

/// One stream's reader of a session's log.
pub(crate) struct Reader {
    follower: Follower<Log>,
    id: u64,
    read: usize,
}

impl Reader {
    /// Joins the log of `follower` needing every event from `from` on.
    pub(crate) fn join(follower: Follower<Log>, from: u64) -> Self {
        let mut joined = (0, 0);
        follower.request(|log| {
            let (id, read, widen) = log.join(from);
            joined = (id, read);
            widen
        });
        Self {
            follower,
            id: joined.0,
            read: joined.1,
        }
    }

    /// Makes the loop poll now.
    pub(crate) fn acted(&self) {
        self.follower.acted();
    }

    /// The events this reader has not read, once the log covers `from`.
    pub(crate) async fn next_batch(&mut self, from: u64) -> Result<Vec<Arc<FlowSessionEvent>>, Error> {
        loop {
            let batch = {
                let log = self.follower.rx.borrow_and_update();
                if let Some(error) = &log.error {
                    return Err(error.clone());
                }
                let end = log.base + log.events.len();
                let start = self.read.max(log.base);
                if log.covered_from.is_some_and(|covered| covered <= from) && start < end {
                    let batch: Vec<_> = log.events.range(start - log.base..).cloned().collect();
                    self.read = end;
                    Some(batch)
                } else {
                    None
                }
            };
            if let Some(batch) = batch {
                let (id, read) = (self.id, self.read);
                self.follower.update(|log| {
                    log.positions.insert(id, read);
                    log.trim();
                });
                return Ok(batch);
            }
            if self.follower.rx.changed().await.is_err() {
                return Err(Error::WaitEnded {
                    service: Service::FlowHunt,
                    reason: "the session's poll loop stopped",
                });
            }
        }
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        let id = self.id;
        self.follower.update(|log| {
            log.positions.remove(&id);
            log.trim();
        });
    }
}

/// Publishes one poll's result into the log; the loop's next step.
pub(crate) fn publish(
    tx: &watch::Sender<Log>,
    from: u64,
    widening: bool,
    polled: Result<Vec<FlowSessionEvent>, Error>,
) -> Step {
    match polled {
        Err(error) => {
            tx.send_modify(|log| log.error = Some(error));
            Step::Stop
        }
        Ok(events) => {
            let mut news = false;
            let mut stop = false;
            tx.send_if_modified(|log| {
                news = log.absorb(from, widening, events);
                stop = log.error.is_some();
                news || widening || stop
            });
            if stop {
                Step::Stop
            } else if news {
                Step::News(None)
            } else {
                Step::Quiet(None)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flowhunt::tests::event;

    #[test]
    fn what_every_reader_read_is_dropped_and_ids_outside_the_overlap_are_forgotten() {
        let mut log = Log::new(0, 1000);
        log.positions.insert(0, 0);
        log.positions.insert(1, 0);
        assert!(log.absorb(0, true, (0..100).map(|i| event(i, 1000 + i as u64)).collect()));
        assert_eq!(log.ids.len(), 2, "only ids a poll from newest - 1 can repeat");
        log.positions.insert(0, 100);
        log.trim();
        assert_eq!(log.events.len(), 100, "reader 1 has not read them yet");
        log.positions.insert(1, 60);
        log.trim();
        assert_eq!((log.base, log.events.len()), (60, 40));
        log.positions.remove(&1);
        log.trim();
        assert_eq!(
            (log.base, log.events.len()),
            (100, 0),
            "memory stays flat while read"
        );
        assert!(
            !log.absorb(1098, false, vec![event(99, 1099)]),
            "the overlap is not news"
        );
    }

    /// The log alone (no cursor after it) over a real poll sequence: three events share the
    /// boundary millisecond and become visible 10 ms apart, and every poll starts 1 ms before
    /// the newest event, so both servers return events the log already holds (the inclusive
    /// one more of them). The log keeps each once, in order.
    #[tokio::test(start_paused = true)]
    async fn the_log_alone_keeps_each_boundary_event_once_on_either_server() {
        for inclusive in [false, true] {
            let setup = crate::flowhunt::tests::boundary(inclusive, false, "hi").await;
            let mut log = Log::new(setup.created, 1000);
            let mut returned = 0;
            for _poll in 0..4 {
                let (from, widening) = log.next_poll();
                let polled = setup.session.poll(from).await.expect("a poll");
                returned += polled.len();
                log.absorb(from, widening, polled);
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
            let held: Vec<FlowSessionEvent> = log.events.iter().map(|e| (**e).clone()).collect();
            let held = crate::flowhunt::tests::ids(&held);
            let c = setup.created;
            let stamps: Vec<u64> = held.iter().map(|(_, ts)| *ts).collect();
            assert_eq!(stamps, [c, c + 1, c + 2, c + 2, c + 2], "inclusive: {inclusive}");
            let unique: std::collections::HashSet<&String> = held.iter().map(|(id, _)| id).collect();
            assert_eq!(unique.len(), 5, "each once (inclusive: {inclusive})");
            // Polls from c, c+2, c+2, c+2 (each 1 ms before): the exclusive server repeats the
            // boundary's events; the inclusive one also the event 1 ms before it.
            let expected = if inclusive { 3 + 3 + 4 + 4 } else { 3 + 2 + 3 + 3 };
            assert_eq!(returned, expected, "inclusive: {inclusive}");
        }
    }

    #[test]
    fn a_log_holding_more_than_the_cap_stops_with_a_typed_error() {
        let mut log = Log::new(0, 50);
        log.positions.insert(0, 0);
        log.absorb(0, true, (0..51).map(|i| event(i, 1000)).collect());
        assert!(matches!(log.error, Some(Error::TooManyEvents { limit: 50, .. })));
    }

    #[test]
    fn a_log_at_exactly_the_cap_keeps_going() {
        let mut log = Log::new(0, 50);
        log.positions.insert(0, 0);
        log.absorb(0, true, (0..50).map(|i| event(i, 1000)).collect());
        assert!(log.error.is_none(), "50 unread events are within a cap of 50");
    }

    #[test]
    fn with_no_reader_left_every_event_is_dropped() {
        for base in [0, 60] {
            let mut log = Log::new(0, 1000);
            log.base = base;
            log.absorb(0, true, (0..40).map(|i| event(i, 1000 + i as u64)).collect());
            log.trim();
            assert_eq!((log.base, log.events.len()), (base + 40, 0), "from {base}");
        }
    }

    #[test]
    fn a_reader_widens_the_log_only_for_a_stretch_it_has_not_polled_or_has_dropped() {
        // (from, events already dropped, widens): the log wants 100 on, its newest is 104.
        let cases = [
            (50, 0, true),   // before what the log polls
            (100, 0, false), // exactly what it polls, nothing dropped
            (150, 0, false), // after it
            (100, 5, true),  // what it polls, but partly dropped
            (103, 5, true),  // dropped up to its newest
            (104, 5, false), // from its newest: a poll from there returns it again anyway
            (120, 5, false), // after its newest
        ];
        for (from, dropped, widens) in cases {
            let mut log = Log::new(100, 1000);
            log.absorb(100, true, (0..5).map(|i| event(i, 100 + i as u64)).collect());
            log.events.drain(..dropped);
            log.base = dropped;
            let first = log.join(from);
            assert_eq!(first, (0, dropped, widens), "from {from}, {dropped} dropped");
            assert_eq!(log.positions.get(&0), Some(&dropped));
            if widens {
                assert_eq!((log.want_from, log.covered_from), (from.min(100), None));
                assert!(log.ids.is_empty(), "what was dropped must come back");
            } else {
                assert_eq!((log.want_from, log.covered_from), (100, Some(100)));
                assert!(!log.ids.is_empty());
            }
            assert_eq!(log.join(from).0, 1, "each reader its own id");
        }
    }

    #[test]
    fn a_widening_poll_that_started_before_an_earlier_reader_joined_is_followed_by_another() {
        let mut log = Log::new(100, 1000);
        assert_eq!(log.next_poll(), (100, true));
        log.join(50); // while that poll is under way
        log.absorb(100, true, vec![event(0, 120)]);
        assert_eq!(
            log.next_poll(),
            (50, true),
            "the earlier reader's stretch is not covered yet"
        );
        log.absorb(50, true, vec![event(1, 60), event(0, 120)]);
        assert_eq!(log.next_poll(), (120, false), "covered: on from the newest");
    }

    /// A poll loop over a fake server holding `events`: a poll from `from` returns those from
    /// 1 ms before it on, as `Session::poll` asks the real one.
    struct Fake {
        loops: crate::shared::Loops<Log>,
        events: Arc<std::sync::Mutex<Vec<FlowSessionEvent>>>,
        polls: Arc<std::sync::atomic::AtomicUsize>,
    }

    impl Fake {
        fn new(events: impl IntoIterator<Item = (usize, u64)>) -> Self {
            Self {
                loops: crate::shared::Loops::default(),
                events: Arc::new(std::sync::Mutex::new(
                    events.into_iter().map(|(id, ts)| event(id, ts)).collect(),
                )),
                polls: Arc::default(),
            }
        }

        fn add(&self, events: impl IntoIterator<Item = (usize, u64)>) {
            let mut held = self.events.lock().expect("not poisoned");
            held.extend(events.into_iter().map(|(id, ts)| event(id, ts)));
        }

        /// The server forgets every event (a retention window passed).
        fn forget(&self) {
            self.events.lock().expect("not poisoned").clear();
        }

        fn polls(&self) -> usize {
            self.polls.load(std::sync::atomic::Ordering::SeqCst)
        }

        fn join(&self, from: u64) -> Reader {
            let (events, polls) = (self.events.clone(), self.polls.clone());
            let follower = self.loops.follow(
                "session",
                &crate::poll::PollPolicy::fixed(std::time::Duration::from_secs(1)),
                || Log::new(from, 1000),
                move |tx| {
                    polls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let (from, widening) = tx.borrow().next_poll();
                    let since = from.saturating_sub(1);
                    let held = events.lock().expect("not poisoned");
                    let polled = held
                        .iter()
                        .filter(|e| timestamp(e).is_ok_and(|ts| ts >= since))
                        .cloned()
                        .collect();
                    drop(held);
                    async move { publish(&tx, from, widening, Ok(polled)) }
                },
            );
            Reader::join(follower, from)
        }
    }

    /// The next batch's event numbers (`eN`), failing the test if none comes within 10 s.
    async fn batch(reader: &mut Reader, from: u64) -> Vec<String> {
        let batch = tokio::time::timeout(std::time::Duration::from_secs(10), reader.next_batch(from))
            .await
            .expect("a batch within 10 s")
            .expect("no error");
        batch.iter().map(|e| e.event_id.clone()).collect()
    }

    fn named(ids: impl IntoIterator<Item = usize>) -> Vec<String> {
        ids.into_iter().map(|i| format!("e{i}")).collect()
    }

    #[tokio::test(start_paused = true)]
    async fn a_reader_gets_each_event_once_in_order_while_the_log_drops_what_it_read() {
        let fake = Fake::new((0..5).map(|i| (i, 100 + i as u64)));
        let mut reader = fake.join(100);
        assert_eq!(batch(&mut reader, 100).await, named(0..5));
        fake.add([(5, 105), (6, 106)]);
        assert_eq!(batch(&mut reader, 100).await, named(5..7));
        fake.add([(7, 107), (8, 107), (9, 108)]);
        assert_eq!(batch(&mut reader, 100).await, named(7..10));
        let log = reader.follower.rx.borrow();
        assert_eq!((log.base, log.events.len()), (10, 0), "what it read is dropped");
        drop(log);
        let nothing = tokio::time::timeout(std::time::Duration::from_secs(5), reader.next_batch(100)).await;
        assert!(nothing.is_err(), "nothing new: no batch, not an empty one");
    }

    #[tokio::test(start_paused = true)]
    async fn a_reader_from_before_what_was_dropped_gets_it_back() {
        let fake = Fake::new((0..5).map(|i| (i, 100 + i as u64)));
        let mut first = fake.join(100);
        assert_eq!(batch(&mut first, 100).await, named(0..5));
        let mut late = fake.join(100);
        assert_eq!(batch(&mut late, 100).await, named(0..5), "re-read for it");
        assert_eq!(
            batch(&mut first, 100).await,
            named(0..5),
            "the first reader sees them again (its cursor drops them)"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_reader_joining_a_running_loop_makes_it_poll_at_once_when_it_acts() {
        let fake = Fake::new([(0, 100)]);
        let mut first = fake.join(100);
        assert_eq!(batch(&mut first, 100).await, named([0]));
        let polls = fake.polls();
        let joiner = fake.join(100);
        for _ in 0..4 {
            tokio::task::yield_now().await; // virtual time stands still
        }
        assert_eq!(fake.polls(), polls, "joining alone waits for the pace");
        joiner.acted();
        for _ in 0..4 {
            tokio::task::yield_now().await;
        }
        assert_eq!(fake.polls(), polls + 1, "an action polls before the 1 s interval");
    }

    #[tokio::test(start_paused = true)]
    async fn a_reader_that_leaves_holds_no_events_in_memory() {
        let fake = Fake::new((0..5).map(|i| (i, 100 + i as u64)));
        let mut reader = fake.join(100);
        let idle = fake.join(100); // never reads
        assert_eq!(batch(&mut reader, 100).await, named(0..5));
        assert_eq!(
            reader.follower.rx.borrow().events.len(),
            5,
            "held for the idle reader"
        );
        drop(idle);
        let log = reader.follower.rx.borrow();
        assert_eq!((log.base, log.events.len()), (5, 0), "dropped with it");
    }

    /// A widening poll wakes the readers waiting for its stretch even when it brings nothing
    /// new: here the server forgot the events (a retention window) that the log still holds.
    #[tokio::test(start_paused = true)]
    async fn a_widening_poll_with_nothing_new_still_wakes_the_reader_waiting_for_it() {
        let fake = Fake::new((0..5).map(|i| (i, 100 + i as u64)));
        let first = fake.join(100);
        tokio::task::yield_now().await; // the first poll
        let polls = fake.polls();
        assert_eq!(first.follower.rx.borrow().events.len(), 5);
        fake.forget();
        let mut early = fake.join(50);
        assert_eq!(
            batch(&mut early, 50).await,
            named(0..5),
            "what the log holds, once the poll from 50 covered it"
        );
        assert_eq!(fake.polls(), polls + 1, "that one poll");
    }
}
