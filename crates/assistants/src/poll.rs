//! Poll pacing (how long to wait between two polls) and the overall deadline.
//!
//! # How the policies are compared
//!
//! **Efficiency = requests × mean delivery lag / reply duration.** A fixed-interval poll scores
//! about 0.5 at any interval (halve the interval: twice the requests, half the lag); a policy
//! above 0.5 is beaten by some fixed interval on both axes at once, so the figure measures how
//! well a policy spends its requests, whatever point of the cost/lag curve it picks. The bench's
//! `latency` suite prints it for every policy below on five reply shapes (README, Performance).
//!
//! # What the services tell a pacer
//!
//! After each poll the caller says whether it brought news and, when the service says so, what
//! the service is doing ([`Hint`]); after an action (an invoke, a send, an answer) it calls
//! [`Pacer::acted`], because a reply starts then.

use std::future::Future;
use std::time::Duration;

use crate::error::Error;

/// What the service says it is doing, read from the poll that just returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Hint {
    /// A reply is being produced: news will come without anyone acting.
    ///
    /// FlowHunt: an invocation is in flight, i.e. its final event (an `ai` `message`, a
    /// `failed` event or a `hook_waiting_for_input`) has not arrived yet, whatever came before
    /// it (`loading`, tool calls, a pause between them). FlowGen: the chat's status is
    /// `running`. Paced like no hint at all: the policy's curve.
    Working,
    /// Nothing will change until someone acts: polls only watch for another client's action.
    ///
    /// FlowHunt: no invocation is in flight (the last one ended with its answer, a failure or
    /// a hook waiting for input). FlowGen: `wait_for_human_input`, a terminal status
    /// (`completed`, `failed`, `aborted`, `error`) or none yet (`""`, `ready`). Paced at the
    /// policy's longest interval ([`PollPolicy::with_max`]) until news, a `Working` hint or an
    /// action, once that interval has passed since the last action: a read right after an
    /// action may still show the state from before it.
    Idle,
}

/// What one poll found: news or not, and optionally what the service says it is doing.
///
/// `Poll::from(true)` is [`Poll::news`] and `Poll::from(false)` is [`Poll::quiet`], so
/// [`Pacer::next`] also takes a plain `bool`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Poll {
    news: bool,
    hint: Option<Hint>,
}

impl Poll {
    /// The poll brought something new (an event, a status change).
    pub fn news() -> Self {
        Self {
            news: true,
            hint: None,
        }
    }

    /// The poll brought nothing new.
    pub fn quiet() -> Self {
        Self {
            news: false,
            hint: None,
        }
    }

    /// What the service says it is doing (see [`Hint`] for which observation means what).
    pub fn with_hint(mut self, hint: Hint) -> Self {
        self.hint = Some(hint);
        self
    }

    /// Whether the poll brought news.
    pub fn is_news(&self) -> bool {
        self.news
    }

    /// The service's hint, if any.
    pub fn hint(&self) -> Option<Hint> {
        self.hint
    }
}

impl From<bool> for Poll {
    fn from(news: bool) -> Self {
        if news { Self::news() } else { Self::quiet() }
    }
}

/// How long to wait between polls.
///
/// Pick a point on the cost/lag curve with a constructor. Efficiency (requests × mean lag /
/// reply duration, see the [module docs](self); <= 0.6 is the goal) on the bench's simulated
/// shapes (`cargo run --release -p bench -- --only latency`; 400 runs each, event offsets in
/// seconds), then requests and median lag, and the requests of a quiet minute:
///
/// | constructor | short `0 .3 .8 1.5 2.2` | bench `0 .1 2.5 6 10` | tool-heavy (a tool event every 0.7 s, answer at 14) | long `0 .2 5 15 30 45 60` | FlowGen run of 3 min | quiet minute |
/// | --- | --- | --- | --- | --- | --- | --- |
/// | [`standard`](Self::standard) (default) | **0.56** (12 req, 84 ms) | **0.51** (36, 113 ms) | **0.52** (47, 145 ms) | **0.52** (163, 179 ms) | **0.58** (422, 249 ms) | 165 (the tenth: 108) |
/// | [`budget(60)`](Self::budget) | 0.69 (6, 266 ms) | 0.59 (15, 328 ms) | 0.59 (19, 387 ms) | 0.48 (61, 390 ms) | 0.58 (153, 672 ms) | 60 (the tenth: 39) |
/// | [`fixed(250 ms)`](Self::fixed) | 0.80 (11, 201 ms) | 0.60 (41, 164 ms) | 0.55 (56, 142 ms) | 0.47 (233, 107 ms) | 0.49 (693, 125 ms) | 240 |
/// | [`fixed(500 ms)`](Self::fixed) | 0.78 (7, 230 ms) | 0.64 (22, 347 ms) | 0.57 (30, 264 ms) | 0.54 (120, 304 ms) | 0.52 (355, 258 ms) | 120 |
/// | [`fixed(1 s)`](Self::fixed) | 1.32 (5, 692 ms) | 0.74 (12, 600 ms) | 0.62 (16, 532 ms) | 0.57 (62, 599 ms) | 0.50 (181, 467 ms) | 60 |
/// | [`adaptive`](Self::adaptive) (the previous default) | 0.98 (23, 69 ms) | 1.20 (33, 302 ms) | 1.15 (100, 135 ms) | 1.04 (76, 888 ms) | 0.53 (100, 920 ms) | 36 |
/// | FlowHunt desktop's (see [`adaptive`](Self::adaptive)) | 0.78 (7, 230 ms) | 0.64 (22, 347 ms) | 0.57 (30, 264 ms) | 1.84 (75, 1,640 ms) | 0.75 (51, 2,741 ms) | 23 |
///
/// Requests count the invoke and every poll; the short reply's figures depend much on where
/// its first events fall between polls (fixed 250 ms and 500 ms lose there by polling just
/// before them), so they move by up to 0.2 with the run's seed.
#[derive(Clone, Debug, PartialEq)]
pub struct PollPolicy {
    kind: Kind,
    max: Duration,
}

#[derive(Clone, Debug, PartialEq)]
enum Kind {
    /// `scale × (seconds since the action)^EXPONENT`, at least `floor`.
    Curve { scale: Duration, floor: Duration },
    /// `initial`, growing `× multiplier` per empty poll once `patience` empty polls passed;
    /// news and actions reset it.
    Backoff {
        initial: Duration,
        multiplier: f64,
        patience: u32,
    },
}

/// How fast the standard curve slows down: the interval grows as the eighth root of the time
/// since the action.
///
/// Why this root: an answer that comes after a silence of any length `D` (a FlowGen run) costs
/// `N(D)` polls and waits half the last interval `I(D)`, so its efficiency is
/// `N(D) × I(D) / 2D`; with `I ∝ t^a` that is `1 / (2(1 - a))`, which stays at or below 0.6
/// only for `a <= 1/6`. The eighth root keeps a margin (0.57). Events spread over a reply
/// score `1 / (2(1 - a²))`, about 0.51.
const EXPONENT: f64 = 0.125;

impl Default for PollPolicy {
    /// [`PollPolicy::standard`].
    fn default() -> Self {
        Self::standard()
    }
}

impl PollPolicy {
    /// The default: 100 ms after the action, then `250 ms × (seconds since the action)^(1/8)`,
    /// capped at 2 s; 2 s while the service says it is [idle](Hint::Idle).
    ///
    /// The interval depends on the time since the action, not on news: resetting to a fast
    /// pace after each event made a tool-heavy reply cost about 100 requests, and growing
    /// quickly in quiet spells made the event after a long gap wait for a long interval. The
    /// intervals: 100 ms right after the action (catching the burst that follows an invoke),
    /// 190 ms at 0.1 s, 250 ms at 1 s, 330 ms at 10 s, 420 ms after a minute, 560 ms after ten
    /// minutes (about 165 requests in the first minute, 1.8 per second after ten).
    ///
    /// Long silences: while the service says it is working (or says nothing) the rate falls
    /// slowly, as above; a cap of one request every 2 s after a minute would make a 3-minute
    /// FlowGen run score about 1.0 (the answer waits for a 2 s interval after a first minute
    /// paid at the fast pace). When the service says nothing will happen until someone acts
    /// ([`Hint::Idle`]), one request every 2 s.
    pub fn standard() -> Self {
        Self {
            kind: Kind::Curve {
                scale: Duration::from_millis(250),
                floor: Duration::from_millis(100),
            },
            max: Duration::from_secs(2),
        }
    }

    /// The standard curve slowed to spend at most `per_minute` requests in the first minute
    /// after an action (the densest: intervals only grow), polls forced by actions aside.
    ///
    /// Efficiency is that of the standard curve (its shape is unchanged, every interval is
    /// multiplied by the same factor), lag grows as requests fall: `budget(60)` polls about
    /// 0.7 s apart after 1 s, `budget(30)` about 1.5 s. The longest interval, used while the
    /// service is idle, scales alike. `per_minute` below 3 is taken as 3.
    pub fn budget(per_minute: u32) -> Self {
        // The curve spends ∫₀⁶⁰ dt / (scale·t^a) = 60^(1-a) / (scale·(1-a)) polls in the first
        // minute; two more are the immediate poll and the quick look after the action.
        let curve_polls = f64::from(per_minute.max(3) - 2);
        let scale = 60f64.powf(1.0 - EXPONENT) / ((1.0 - EXPONENT) * curve_polls);
        let factor = scale / 0.25;
        let max = Duration::try_from_secs_f64(2.0 * factor).unwrap_or(Duration::MAX);
        Self {
            kind: Kind::Curve {
                scale: Duration::try_from_secs_f64(scale).unwrap_or(Duration::MAX),
                floor: Duration::from_millis(100),
            },
            max,
        }
    }

    /// The same interval every time, whatever the service says.
    pub fn fixed(interval: Duration) -> Self {
        Self {
            kind: Kind::Backoff {
                initial: interval,
                multiplier: 1.0,
                patience: 0,
            },
            max: interval,
        }
    }

    /// The facade's previous default: 50 ms after an action or news, growing x1.5 per empty
    /// poll to at most 2 s.
    ///
    /// FlowHunt's desktop app polls `adaptive().with_initial(500 ms).with_patience(10)
    /// .with_max(5 s)`: 500 ms, growing x1.5 after 10 empty polls, to at most 5 s.
    pub fn adaptive() -> Self {
        Self {
            kind: Kind::Backoff {
                initial: Duration::from_millis(50),
                multiplier: 1.5,
                patience: 0,
            },
            max: Duration::from_secs(2),
        }
    }

    /// The first interval of a backing-off policy ([`adaptive`](Self::adaptive),
    /// [`fixed`](Self::fixed)); for the standard curve, the interval one second after the
    /// action (every interval of the curve scales with it).
    pub fn with_initial(mut self, interval: Duration) -> Self {
        match &mut self.kind {
            Kind::Curve { scale, .. } => *scale = interval,
            Kind::Backoff { initial, .. } => *initial = interval,
        }
        self
    }

    /// The longest interval, also the pace while the service is [idle](Hint::Idle).
    pub fn with_max(mut self, interval: Duration) -> Self {
        self.max = interval;
        self
    }

    /// The growth factor per empty poll of a backing-off policy (at least 1; not a NaN).
    pub fn with_multiplier(mut self, factor: f64) -> Self {
        if let Kind::Backoff { multiplier, .. } = &mut self.kind {
            *multiplier = if factor.is_nan() { 1.0 } else { factor.max(1.0) };
        }
        self
    }

    /// How many empty polls a backing-off policy makes at its first interval before growing.
    pub fn with_patience(mut self, polls: u32) -> Self {
        if let Kind::Backoff { patience, .. } = &mut self.kind {
            *patience = polls;
        }
        self
    }

    /// A fresh pacer for one wait; its reply starts now (as after [`Pacer::acted`]).
    pub fn pacer(&self) -> Pacer {
        let current = match self.kind {
            Kind::Backoff { initial, .. } => initial,
            Kind::Curve { floor, .. } => floor,
        };
        Pacer {
            policy: self.clone(),
            since: tokio::time::Instant::now(),
            current,
            empty: 0,
        }
    }
}

/// The state of one wait's polling: call [`Pacer::next`] after each poll and
/// [`Pacer::acted`] after each action.
#[derive(Clone, Debug)]
pub struct Pacer {
    policy: PollPolicy,
    /// When the last action was taken (tokio's clock, so paused tests are exact).
    since: tokio::time::Instant,
    /// A backing-off policy's next interval.
    current: Duration,
    /// Empty polls since the last news or action.
    empty: u32,
}

impl Pacer {
    /// An action was just taken (an invoke, a send, an answer): a reply starts now. The caller
    /// polls at once; the curve restarts from its fastest pace.
    pub fn acted(&mut self) {
        self.since = tokio::time::Instant::now();
        self.empty = 0;
        if let Kind::Backoff { initial, .. } = self.policy.kind {
            self.current = initial;
        }
    }

    /// The delay before the next poll, given what this one found (a [`Poll`], or `true` for
    /// news and `false` for none).
    pub fn next(&mut self, poll: impl Into<Poll>) -> Duration {
        let poll = poll.into();
        let max = self.policy.max;
        // A read right after an action may still show the state before it (FlowGen's previous
        // run, a question already answered): idleness is believed only once `max` has passed.
        if poll.hint == Some(Hint::Idle) && self.since.elapsed() >= max {
            return max;
        }
        match self.policy.kind {
            Kind::Curve { scale, floor } => {
                let since = self.since.elapsed().as_secs_f64();
                let curve = scale.as_secs_f64() * since.powf(EXPONENT);
                Duration::try_from_secs_f64(curve)
                    .unwrap_or(max)
                    .max(floor)
                    .min(max)
            }
            Kind::Backoff {
                initial,
                multiplier,
                patience,
            } => {
                if poll.news {
                    self.empty = 0;
                    self.current = initial.min(max);
                    return self.current;
                }
                self.empty = self.empty.saturating_add(1);
                let delay = self.current.min(max);
                if self.empty >= patience {
                    let grown = self.current.as_secs_f64() * multiplier;
                    self.current = Duration::try_from_secs_f64(grown).unwrap_or(max).min(max);
                }
                delay
            }
        }
    }
}

/// Runs `future` under an overall deadline that also cancels whatever request is in flight.
///
/// # Errors
/// [`Error::Deadline`] when `limit` passes first; otherwise the future's own result.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use std::time::Duration;
/// let slow = async {
///     tokio::time::sleep(Duration::from_secs(5)).await;
///     Ok::<_, assistants::Error>(())
/// };
/// let result = assistants::within(Some(Duration::from_millis(10)), slow).await;
/// assert!(matches!(result, Err(assistants::Error::Deadline { .. })));
/// # }
/// ```
pub async fn within<T>(
    limit: Option<Duration>,
    future: impl Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    let Some(limit) = limit else { return future.await };
    let start = tokio::time::Instant::now();
    match tokio::time::timeout(limit, future).await {
        Ok(result) => result,
        Err(_) => Err(Error::Deadline {
            limit,
            elapsed: start.elapsed(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    /// The poll times (from the start) a loop makes over `span` with `policy`, on paused
    /// time: a poll brings news when an event of `news_at` is due since the previous poll.
    async fn schedule(
        policy: &PollPolicy,
        span: Duration,
        news_at: &[Duration],
        hint: Option<Hint>,
    ) -> Vec<Duration> {
        let start = tokio::time::Instant::now();
        let mut pacer = policy.pacer();
        let (mut polls, mut seen) = (Vec::new(), 0);
        while start.elapsed() <= span {
            let now = start.elapsed();
            polls.push(now);
            let due = news_at.iter().filter(|at| **at <= now).count();
            let mut poll = Poll::from(due > seen);
            seen = due;
            if let Some(hint) = hint {
                poll = poll.with_hint(hint);
            }
            tokio::time::sleep(pacer.next(poll)).await;
        }
        polls
    }

    fn gaps(polls: &[Duration]) -> Vec<u128> {
        polls.windows(2).map(|w| (w[1] - w[0]).as_millis()).collect()
    }

    fn within_span(polls: &[Duration], from: u64, to: u64) -> usize {
        let (from, to) = (Duration::from_secs(from), Duration::from_secs(to));
        polls.iter().filter(|p| **p >= from && **p < to).count()
    }

    #[tokio::test(start_paused = true)]
    async fn the_standard_curve_starts_fast_and_slows_by_the_eighth_root() {
        let polls = schedule(&PollPolicy::standard(), Duration::from_secs(600), &[], None).await;
        let gaps = gaps(&polls);
        assert_eq!(
            &gaps[..5],
            [100, 188, 214, 230, 241],
            "a quick look after the action"
        );
        assert_eq!(within_span(&polls, 0, 60), 165, "a quiet first minute");
        assert_eq!(
            within_span(&polls, 540, 600),
            108,
            "the tenth quiet minute: bounded"
        );
        assert_eq!(gaps.last().copied(), Some(557), "after ten minutes");
    }

    #[tokio::test(start_paused = true)]
    async fn news_leaves_the_standard_pace_alone_and_an_action_restarts_it() {
        let policy = PollPolicy::standard();
        let quiet = schedule(&policy, Duration::from_secs(20), &[], None).await;
        let tool_calls: Vec<Duration> = (1..=28).map(|k| Duration::from_millis(700 * k)).collect();
        let busy = schedule(&policy, Duration::from_secs(20), &tool_calls, None).await;
        assert_eq!(quiet, busy, "an event every 0.7 s costs no extra requests");
        assert_eq!(busy.len(), 64);

        let mut pacer = policy.pacer();
        tokio::time::sleep(Duration::from_secs(60)).await;
        assert_eq!(pacer.next(Poll::news()).as_millis(), 417);
        pacer.acted();
        assert_eq!(pacer.next(true).as_millis(), 100, "fastest again after an action");
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_service_is_polled_every_two_seconds() {
        let idle = schedule(
            &PollPolicy::standard(),
            Duration::from_secs(60),
            &[],
            Some(Hint::Idle),
        )
        .await;
        // The curve for the first 2 s after the action (idleness is not believed yet: the read
        // may predate the action), then one poll every 2 s.
        assert_eq!(idle.len(), 38);
        let gaps = gaps(&idle);
        let settled = gaps.iter().position(|g| *g == 2000).expect("the idle pace");
        assert!(idle[settled] >= Duration::from_secs(2), "not before 2 s");
        assert!(gaps[settled..].iter().all(|g| *g == 2000));
        let working = schedule(
            &PollPolicy::standard(),
            Duration::from_secs(60),
            &[],
            Some(Hint::Working),
        )
        .await;
        assert_eq!(working.len(), 165, "working: the curve");
    }

    #[tokio::test(start_paused = true)]
    async fn a_budget_caps_the_first_minute_and_keeps_the_curve() {
        for (per_minute, first, tenth) in [(30, 30, 19), (60, 60, 39), (600, 568, 394)] {
            let polls = schedule(
                &PollPolicy::budget(per_minute),
                Duration::from_secs(600),
                &[],
                None,
            )
            .await;
            assert_eq!(
                within_span(&polls, 0, 60),
                first,
                "budget({per_minute}), first minute"
            );
            assert_eq!(
                within_span(&polls, 540, 600),
                tenth,
                "budget({per_minute}), tenth minute"
            );
        }
        let idle = schedule(
            &PollPolicy::budget(30),
            Duration::from_secs(60),
            &[],
            Some(Hint::Idle),
        )
        .await;
        assert_eq!(
            gaps(&idle).last().copied(),
            Some(11_744),
            "idle: the longest interval, scaled alike"
        );
        assert_eq!(PollPolicy::budget(0), PollPolicy::budget(3));
    }

    #[tokio::test(start_paused = true)]
    async fn a_fixed_interval_ignores_news_and_hints() {
        let policy = PollPolicy::fixed(Duration::from_secs(1));
        let news: Vec<Duration> = (0..60).map(|s| Duration::from_millis(300 + 1000 * s)).collect();
        for (events, hint) in [(&[][..], None), (&news[..], None), (&[][..], Some(Hint::Idle))] {
            let polls = schedule(&policy, Duration::from_secs(59), events, hint).await;
            assert_eq!(polls.len(), 60);
            assert!(gaps(&polls).iter().all(|g| *g == 1000));
        }
    }

    #[tokio::test(start_paused = true)]
    async fn the_adaptive_pace_backs_off_while_idle_and_resets_on_news() {
        let mut pacer = PollPolicy::adaptive().pacer();
        let idle: Vec<u128> = (0..10).map(|_| pacer.next(false).as_millis()).collect();
        assert_eq!(&idle[..4], [50, 75, 112, 168]);
        assert_eq!(idle.last().copied(), Some(1922));
        assert_eq!(pacer.next(false).as_millis(), 2000, "capped");
        assert_eq!(pacer.next(true).as_millis(), 50);
        pacer.next(false);
        pacer.acted();
        assert_eq!(pacer.next(false).as_millis(), 50, "an action resets it too");

        let quiet = schedule(&PollPolicy::adaptive(), Duration::from_secs(59), &[], None).await;
        assert_eq!(
            quiet.len(),
            37,
            "a quiet minute: 10 polls growing to 2 s, then 2 s apart"
        );
        // The reset on news is what made a tool-heavy reply expensive.
        let tool_calls: Vec<Duration> = (1..=28).map(|k| Duration::from_millis(700 * k)).collect();
        let busy = schedule(
            &PollPolicy::adaptive(),
            Duration::from_secs(20),
            &tool_calls,
            None,
        )
        .await;
        assert_eq!(busy.len(), 170);
    }

    #[tokio::test(start_paused = true)]
    async fn flowhunt_desktops_pace_waits_ten_empty_polls_before_growing() {
        let desktop = PollPolicy::adaptive()
            .with_initial(500 * MS)
            .with_patience(10)
            .with_max(Duration::from_secs(5));
        let polls = schedule(&desktop, Duration::from_secs(59), &[], None).await;
        let gaps = gaps(&polls);
        assert!(gaps[..10].iter().all(|g| *g == 500));
        assert_eq!(&gaps[10..13], [750, 1125, 1688]);
        assert_eq!(gaps.last().copied(), Some(5000));
        assert_eq!(polls.len(), 24);
    }

    #[tokio::test(start_paused = true)]
    async fn the_deadline_ends_a_wait_between_polls_with_exact_counts() {
        let polls = std::sync::atomic::AtomicUsize::new(0);
        let wait = async {
            let mut pacer = PollPolicy::standard().pacer();
            loop {
                polls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                tokio::time::sleep(pacer.next(false)).await;
            }
            #[allow(unreachable_code)]
            Ok::<(), Error>(())
        };
        let err = within(Some(Duration::from_secs(10)), wait).await.unwrap_err();
        assert!(matches!(err, Error::Deadline { elapsed, .. } if elapsed == Duration::from_secs(10)));
        assert_eq!(
            polls.into_inner(),
            35,
            "the polls of ten seconds, none after the deadline"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn the_deadline_cancels_a_slow_operation() {
        let slow = async {
            tokio::time::sleep(Duration::from_secs(60)).await;
            Ok::<_, Error>(())
        };
        let err = within(Some(Duration::from_secs(2)), slow).await.unwrap_err();
        assert!(
            matches!(err, Error::Deadline { limit, elapsed } if limit == Duration::from_secs(2) && elapsed == limit)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn the_multiplier_sets_the_growth_of_a_backing_off_policy() {
        let quiet_delays = |policy: PollPolicy| {
            let mut pacer = policy.pacer();
            (0..4).map(|_| pacer.next(false).as_millis()).collect::<Vec<_>>()
        };
        let base = || {
            PollPolicy::adaptive()
                .with_initial(Duration::from_millis(100))
                .with_patience(0)
                .with_max(Duration::from_secs(60))
        };
        let doubling = quiet_delays(base().with_multiplier(2.0));
        assert!(doubling.windows(2).all(|w| w[1] == 2 * w[0]), "{doubling:?}");
        for flat in [f64::NAN, 0.5, 1.0] {
            let delays = quiet_delays(base().with_multiplier(flat));
            assert!(delays.iter().all(|&d| d == delays[0]), "{flat}: {delays:?}");
        }
    }

    #[test]
    fn a_bool_is_news_or_quiet() {
        assert_eq!(Poll::from(true), Poll::news());
        assert_eq!(Poll::from(false), Poll::quiet());
        let poll = Poll::quiet().with_hint(Hint::Working);
        assert!(!poll.is_news());
        assert!(Poll::news().is_news());
        assert_eq!(poll.hint(), Some(Hint::Working));
        assert_eq!(PollPolicy::default(), PollPolicy::standard());
    }
}
