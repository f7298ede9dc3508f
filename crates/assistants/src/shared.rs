//! One poll loop per watched thing (a FlowGen chat, a FlowHunt session), shared by every waiter
//! on it, so that requests scale with the things waited on and not with the waiters.
//!
//! The loop publishes into a `watch` channel; waiters are its receivers. It runs while at least
//! one waiter holds a receiver and stops (removing itself) once none does, or when its poll
//! reports [`Step::Stop`]. Joining and leaving are decided under the registry's lock, so a
//! waiter never joins a loop that is ending.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::{Notify, Semaphore, watch};

use crate::poll::{Hint, Poll, PollPolicy};

/// What one poll found, with what the service said about what comes next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// Something changed.
    News(Option<Hint>),
    /// Nothing changed.
    Quiet(Option<Hint>),
    /// The loop is over (its error is published): stop polling.
    Stop,
}

struct Entry<S> {
    tx: watch::Sender<S>,
    nudge: Notify,
}

/// The registry of running loops, keyed by what they watch.
pub(crate) struct Loops<S> {
    entries: Arc<Mutex<HashMap<String, Arc<Entry<S>>>>>,
    /// Polls in flight across the registry's loops (`Settings::max_polls_in_flight`): loops
    /// that poll together (many waits started at once, each on a fixed pace) otherwise open a
    /// connection each.
    in_flight: Option<Arc<Semaphore>>,
}

impl<S> Clone for Loops<S> {
    fn clone(&self) -> Self {
        Self {
            entries: self.entries.clone(),
            in_flight: self.in_flight.clone(),
        }
    }
}

impl<S> Loops<S> {
    /// A registry whose loops have at most `polls` polls in flight at once (at least one).
    pub(crate) fn with_max_in_flight(polls: usize) -> Self {
        let permits = polls.clamp(1, Semaphore::MAX_PERMITS);
        Self {
            entries: Arc::default(),
            in_flight: Some(Arc::new(Semaphore::new(permits))),
        }
    }
}

impl<S> std::fmt::Debug for Loops<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Loops").finish_non_exhaustive()
    }
}

impl<S> Default for Loops<S> {
    /// No bound on polls in flight.
    fn default() -> Self {
        Self {
            entries: Arc::default(),
            in_flight: None,
        }
    }
}

/// One waiter's view of a loop.
pub(crate) struct Follower<S> {
    entry: Arc<Entry<S>>,
    /// The loop's latest state.
    pub(crate) rx: watch::Receiver<S>,
    /// Whether this follower started the loop (which then polls at once).
    started: bool,
}

impl<S> Follower<S> {
    #[cfg_attr(not(feature = "flowgen"), allow(dead_code))]
    /// Only the receiver, for a waiter that never acts on the loop (the loop runs while
    /// receivers exist; the entry is not needed to keep it).
    pub(crate) fn into_receiver(self) -> watch::Receiver<S> {
        self.rx
    }

    /// Makes the loop poll now (after an action, or after [`Follower::request`]).
    pub(crate) fn nudge(&self) {
        self.entry.nudge.notify_one();
    }

    /// After an action (an invoke, a send, an answer): a loop that was already running polls
    /// now; one this follower just started polls at once anyway.
    pub(crate) fn acted(&self) {
        if !self.started {
            self.nudge();
        }
    }

    #[cfg_attr(not(feature = "flowhunt"), allow(dead_code))]
    /// Changes the shared state without waking anyone (bookkeeping such as where a reader
    /// stands).
    pub(crate) fn update(&self, f: impl FnOnce(&mut S)) {
        self.entry.tx.send_if_modified(|state| {
            f(state);
            false
        });
    }

    #[cfg_attr(not(feature = "flowhunt"), allow(dead_code))]
    /// Changes the shared state (to ask the loop for something); `f` says whether it changed.
    pub(crate) fn request(&self, f: impl FnOnce(&mut S) -> bool) {
        if self.entry.tx.send_if_modified(f) {
            self.nudge();
        }
    }
}

impl<S: Send + Sync + 'static> Loops<S> {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Arc<Entry<S>>>> {
        // A panic elsewhere cannot leave the map inconsistent: every update is one insert or remove.
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    #[cfg_attr(not(feature = "flowhunt"), allow(dead_code))]
    /// Follows the loop watching `key`, starting it with `init` and `poll` if none runs.
    ///
    /// `poll` is called once per poll with the channel to publish into.
    pub(crate) fn follow<P, Fut>(
        &self,
        key: &str,
        policy: &PollPolicy,
        init: impl FnOnce() -> S,
        poll: P,
    ) -> Follower<S>
    where
        P: FnMut(watch::Sender<S>) -> Fut + Send + 'static,
        Fut: Future<Output = Step> + Send + 'static,
    {
        self.follow_with(key, policy, || (init(), poll))
    }

    /// [`Loops::follow`], with the initial state and the poll made by `start` only when this
    /// follower starts the loop: joining a running loop allocates nothing but the receiver.
    pub(crate) fn follow_with<P, Fut>(
        &self,
        key: &str,
        policy: &PollPolicy,
        start: impl FnOnce() -> (S, P),
    ) -> Follower<S>
    where
        P: FnMut(watch::Sender<S>) -> Fut + Send + 'static,
        Fut: Future<Output = Step> + Send + 'static,
    {
        let mut entries = self.lock();
        if let Some(entry) = entries.get(key) {
            return Follower {
                entry: entry.clone(),
                rx: entry.tx.subscribe(),
                started: false,
            };
        }
        let (init, poll) = start();
        let (tx, rx) = watch::channel(init);
        let entry = Arc::new(Entry {
            tx,
            nudge: Notify::new(),
        });
        entries.insert(key.to_string(), entry.clone());
        let span = tracing::debug_span!("poll_loop", key);
        tokio::spawn(tracing::Instrument::instrument(
            run(self.clone(), key.to_string(), entry.clone(), policy.clone(), poll),
            span,
        ));
        Follower {
            entry,
            rx,
            started: true,
        }
    }

    /// Removes `entry` if nobody follows it any more (or `force`); true when it was removed.
    fn leave(&self, key: &str, entry: &Arc<Entry<S>>, force: bool) -> bool {
        let mut entries = self.lock();
        if !force && entry.tx.receiver_count() > 0 {
            return false;
        }
        if entries.get(key).is_some_and(|e| Arc::ptr_eq(e, entry)) {
            entries.remove(key);
        }
        true
    }

    /// The bound on polls in flight, if any.
    #[cfg(test)]
    pub(crate) fn max_in_flight(&self) -> Option<usize> {
        self.in_flight.as_ref().map(|s| s.available_permits())
    }

    /// How many loops run now.
    #[cfg(test)]
    fn running(&self) -> usize {
        self.lock().len()
    }
}

async fn run<S, P, Fut>(loops: Loops<S>, key: String, entry: Arc<Entry<S>>, policy: PollPolicy, mut poll: P)
where
    S: Send + Sync + 'static,
    P: FnMut(watch::Sender<S>) -> Fut + Send + 'static,
    Fut: Future<Output = Step> + Send + 'static,
{
    let mut pacer = policy.pacer();
    loop {
        // A closed semaphore (never: nothing closes it) would only mean no bound.
        let permit = match &loops.in_flight {
            Some(in_flight) => in_flight.acquire().await.ok(),
            None => None,
        };
        // Boxed: a poll's future (a whole HTTP call, kilobytes) then lives only while it runs,
        // not in every sleeping loop's task.
        let step = Box::pin(poll(entry.tx.clone())).await;
        drop(permit);
        if step == Step::Stop {
            loops.leave(&key, &entry, true);
            return;
        }
        let (poll, hint) = match step {
            Step::News(hint) => (Poll::news(), hint),
            Step::Quiet(hint) => (Poll::quiet(), hint),
            Step::Stop => return, // left above
        };
        let delay = pacer.next(match hint {
            Some(hint) => poll.with_hint(hint),
            None => poll,
        });
        tracing::debug!(?step, delay_ms = delay.as_millis() as u64, "next poll");
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            // After an action the service is busy again: the pace starts over.
            _ = entry.nudge.notified() => pacer.acted(),
        }
        if loops.leave(&key, &entry, false) {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    fn counting(loops: &Loops<usize>, key: &str, polls: &Arc<AtomicUsize>) -> Follower<usize> {
        let polls = polls.clone();
        loops.follow(
            key,
            &PollPolicy::fixed(Duration::from_secs(1)),
            || 0,
            move |tx| {
                let n = polls.fetch_add(1, Ordering::SeqCst) + 1;
                async move {
                    tx.send_replace(n);
                    Step::News(None)
                }
            },
        )
    }

    #[tokio::test(start_paused = true)]
    async fn followers_of_one_key_share_one_loop_that_stops_when_they_leave() {
        let loops = Loops::default();
        let polls = Arc::new(AtomicUsize::new(0));
        let followers: Vec<_> = (0..100).map(|_| counting(&loops, "chat", &polls)).collect();
        let other = counting(&loops, "other chat", &polls);
        assert_eq!(loops.running(), 2);
        tokio::time::sleep(Duration::from_millis(4500)).await;
        // One poll at start and one per second, per key: 2 keys x 5 polls, not 101 x 5.
        assert_eq!(polls.load(Ordering::SeqCst), 10);
        assert!(followers.iter().all(|f| *f.rx.borrow() >= 4));
        drop(followers);
        drop(other);
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(loops.running(), 0, "no follower, no loop");
        let settled = polls.load(Ordering::SeqCst);
        tokio::time::sleep(Duration::from_secs(10)).await;
        assert_eq!(
            polls.load(Ordering::SeqCst),
            settled,
            "a stopped loop polls no more"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_nudge_polls_at_once_and_a_stop_lets_the_next_follower_start_afresh() {
        let loops: Loops<usize> = Loops::default();
        let polls = Arc::new(AtomicUsize::new(0));
        let first = counting(&loops, "k", &polls);
        tokio::task::yield_now().await;
        assert_eq!(polls.load(Ordering::SeqCst), 1);
        first.nudge();
        tokio::task::yield_now().await;
        tokio::task::yield_now().await;
        assert_eq!(polls.load(Ordering::SeqCst), 2, "no waiting for the interval");

        let stopping = loops.follow(
            "s",
            &PollPolicy::fixed(Duration::from_secs(1)),
            || 0,
            |tx| async move {
                tx.send_replace(7);
                Step::Stop
            },
        );
        let mut rx = stopping.rx.clone();
        rx.changed().await.unwrap();
        assert_eq!(*rx.borrow(), 7);
        tokio::task::yield_now().await;
        assert_eq!(loops.running(), 1, "the stopped loop left; k still runs");
    }

    #[tokio::test(start_paused = true)]
    async fn loops_that_poll_together_have_at_most_the_bound_in_flight_and_all_get_their_turn() {
        let loops: Loops<usize> = Loops::with_max_in_flight(2);
        let (now, most, polls) = (
            Arc::new(AtomicUsize::new(0)),
            Arc::new(AtomicUsize::new(0)),
            Arc::new(AtomicUsize::new(0)),
        );
        let followers: Vec<_> = (0..5)
            .map(|i| {
                let (now, most, polls) = (now.clone(), most.clone(), polls.clone());
                loops.follow(
                    &format!("chat {i}"),
                    &PollPolicy::fixed(Duration::from_secs(1)),
                    || 0,
                    move |tx| {
                        let (now, most, polls) = (now.clone(), most.clone(), polls.clone());
                        async move {
                            most.fetch_max(now.fetch_add(1, Ordering::SeqCst) + 1, Ordering::SeqCst);
                            tokio::time::sleep(Duration::from_millis(100)).await; // the request
                            now.fetch_sub(1, Ordering::SeqCst);
                            tx.send_replace(polls.fetch_add(1, Ordering::SeqCst) + 1);
                            Step::News(None)
                        }
                    },
                )
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(350)).await;
        assert_eq!(polls.load(Ordering::SeqCst), 5, "two, two, then one: 300 ms");
        assert_eq!(most.load(Ordering::SeqCst), 2);
        drop(followers);

        let unbounded: Loops<usize> = Loops::default();
        let (now, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let followers: Vec<_> = (0..5)
            .map(|i| {
                let (now, most) = (now.clone(), most.clone());
                unbounded.follow(
                    &format!("chat {i}"),
                    &PollPolicy::fixed(Duration::from_secs(1)),
                    || 0,
                    move |_| {
                        let (now, most) = (now.clone(), most.clone());
                        async move {
                            most.fetch_max(now.fetch_add(1, Ordering::SeqCst) + 1, Ordering::SeqCst);
                            tokio::time::sleep(Duration::from_millis(100)).await;
                            now.fetch_sub(1, Ordering::SeqCst);
                            Step::Quiet(None)
                        }
                    },
                )
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(150)).await;
        assert_eq!(most.load(Ordering::SeqCst), 5, "without a bound all poll at once");
        drop(followers);
    }

    /// Lets the loop's task run until it is waiting again (virtual time does not move).
    async fn settle() {
        for _ in 0..4 {
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test(start_paused = true)]
    async fn an_action_makes_a_running_loop_poll_now_and_a_new_one_polls_once() {
        let loops: Loops<usize> = Loops::default();
        let polls = Arc::new(AtomicUsize::new(0));
        let starter = counting(&loops, "k", &polls);
        starter.acted(); // it started the loop, which polls at once anyway
        settle().await;
        assert_eq!(
            polls.load(Ordering::SeqCst),
            1,
            "no second poll for the starter's action"
        );
        let joiner = counting(&loops, "k", &polls);
        joiner.acted();
        settle().await;
        assert_eq!(
            polls.load(Ordering::SeqCst),
            2,
            "a joiner's action polls before the 1 s interval"
        );
        drop(starter);
    }

    #[tokio::test(start_paused = true)]
    async fn an_update_changes_the_state_without_waking_anyone_and_a_request_wakes_the_loop() {
        let loops: Loops<usize> = Loops::default();
        let polls = Arc::new(AtomicUsize::new(0));
        let follower = counting(&loops, "k", &polls);
        settle().await;
        let mut rx = follower.rx.clone();
        rx.borrow_and_update();
        follower.update(|state| *state = 40);
        assert_eq!(*rx.borrow(), 40);
        assert!(!rx.has_changed().unwrap(), "bookkeeping wakes nobody");
        follower.request(|_| false);
        settle().await;
        assert_eq!(
            polls.load(Ordering::SeqCst),
            1,
            "an unchanged request does not nudge"
        );
        follower.request(|state| {
            *state = 41;
            true
        });
        settle().await;
        assert_eq!(
            polls.load(Ordering::SeqCst),
            2,
            "a changed request nudges the loop"
        );
        assert_eq!(format!("{loops:?}"), "Loops { .. }");
    }
}
