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
            let id = log.next_reader;
            log.next_reader += 1;
            log.positions.insert(id, log.base);
            joined = (id, log.base);
            // A reader from before what the log has polled, or from before what it dropped,
            // makes the loop read that stretch again, ids forgotten so that what was dropped
            // comes back (the other readers' cursors drop what they saw already).
            let widen = from < log.want_from || (log.base > 0 && from < log.newest);
            if widen {
                log.want_from = log.want_from.min(from);
                log.covered_from = None;
                log.ids.clear();
            }
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

    fn event(id: usize, ts: u64) -> FlowSessionEvent {
        serde_json::from_value(serde_json::json!({
            "workspace_id": "w", "session_id": "s", "event_id": format!("e{id}"), "event_type": "ai",
            "created_at_timestamp": ts.to_string(), "action_type": "loading", "credits": 0,
        }))
        .expect("a valid event")
    }

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
}
