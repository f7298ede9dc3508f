//! What every service shares: configuration, clock, seeded RNG, request counts and the stop
//! signal. A leaf module: the services depend on it, it depends on none of them.
//!
//! # Replay
//! With random faults on, a request's fault roll and the ids it makes are functions of the
//! seed and the request's [`Identity`] (operation, path, query, body, and how many requests
//! with that identity came before), never of the order requests arrive in: concurrent clients
//! replay the same faults with the same seed.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::sync::{Semaphore, watch};

use crate::config::SandboxConfig;
use crate::index::Service;

/// The clock of the sandbox: tokio's (so paused-time tests are deterministic), anchored to the
/// wall clock at start so timestamps look real.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    start: tokio::time::Instant,
    start_ms: u64,
}

impl Clock {
    fn new() -> Self {
        let start_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            .unwrap_or(0);
        Self {
            start: tokio::time::Instant::now(),
            start_ms,
        }
    }

    /// Epoch milliseconds now.
    pub(crate) fn now_ms(&self) -> u64 {
        let elapsed = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.start_ms.saturating_add(elapsed)
    }
}

tokio::task_local! {
    /// The RNG of the request being served (seeded from its identity), so ids a request
    /// makes do not depend on what other requests drew before it.
    static REQUEST_RNG: RefCell<StdRng>;
}

/// Distinct identities whose attempts are counted; past this many, a new identity counts as
/// a first attempt every time (the table a client can fill stays bounded).
const MAX_IDENTITIES: usize = 100_000;

/// What makes two requests "the same request" for fault rolls: a hash of the seed, the
/// operation, the path without its all-digit segments (FlowHunt's `from_timestamp` follows the
/// clock, not the request), the query and the body.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Identity(u64);

/// FNV-1a over `bytes`, continuing from `hash`: stable across runs, platforms and Rust versions
/// (unlike std's `DefaultHasher`), so a seed replays anywhere.
fn fnv(hash: u64, bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(hash, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}

/// SplitMix64's finaliser: spreads FNV's weak low bits over the whole word.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Identity {
    /// The identity of a request to `operation` at `path?query` with `body`, under `seed`.
    pub(crate) fn of(seed: u64, operation: &str, path: &str, query: Option<&str>, body: &[u8]) -> Self {
        let mut h = fnv(0xcbf2_9ce4_8422_2325, &seed.to_le_bytes());
        h = fnv(h, operation.as_bytes());
        for segment in path.split('/') {
            if segment.is_empty() || !segment.bytes().all(|b| b.is_ascii_digit()) {
                h = fnv(fnv(h, b"/"), segment.as_bytes());
            }
        }
        h = fnv(fnv(h, b"?"), query.unwrap_or_default().as_bytes());
        h = fnv(fnv(h, b"#"), body);
        Self(mix(h))
    }

    fn draw(self, attempt: u64, salt: u64) -> u64 {
        mix(self.0 ^ mix(attempt.wrapping_add(salt)))
    }

    /// The fault roll of attempt `attempt` (0 first) of this request, in `[0, 1)`.
    pub(crate) fn roll(self, attempt: u64) -> f64 {
        // 53 random bits: exactly representable, uniform on [0, 1).
        (self.draw(attempt, 0x726f_6c6c) >> 11) as f64 / (1u64 << 53) as f64
    }

    /// The RNG of attempt `attempt` of this request (its ids).
    pub(crate) fn rng(self, attempt: u64) -> StdRng {
        StdRng::seed_from_u64(self.draw(attempt, 0x6964_7321))
    }
}

/// Serves `future` with `rng` as its request RNG.
pub(crate) async fn with_request_rng<F: Future>(rng: StdRng, future: F) -> F::Output {
    REQUEST_RNG.scope(RefCell::new(rng), future).await
}

/// A lock whose holder panicked: the state may be half-written, so every service answers it with
/// a 500 in its own error format rather than pretending to succeed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Poisoned;

/// Locks `mutex`, refusing a poisoned one (the one lock policy of every service).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> Result<MutexGuard<'_, T>, Poisoned> {
    mutex.lock().map_err(|_| Poisoned)
}

/// What is counted of one operation.
#[derive(Debug, Clone, Copy)]
struct Counted {
    service: Option<Service>,
    requests: u64,
    /// Of `requests`, how many got an injected fault instead of an answer.
    injected: u64,
}

/// Everything the services share.
pub(crate) struct Shared {
    /// The configuration the sandbox was started with.
    pub config: SandboxConfig,
    /// The clock.
    pub clock: Clock,
    rng: Mutex<StdRng>,
    counts: Mutex<BTreeMap<&'static str, Counted>>,
    /// How many requests of each identity came so far (at most [`MAX_IDENTITIES`]).
    attempts: Mutex<HashMap<Identity, u64>>,
    /// Becomes `true` when the sandbox stops: long-lived handlers (WebSockets, blocking sends)
    /// end on it instead of holding the shutdown up.
    pub stopping: watch::Receiver<bool>,
    /// Slots for open WebSockets: with each socket's bounded buffers, a global bound on the
    /// memory WebSockets can hold.
    pub websockets: std::sync::Arc<Semaphore>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").finish_non_exhaustive()
    }
}

impl Shared {
    /// The shared state of a configuration, and the sender that stops it.
    pub fn new(config: SandboxConfig) -> (Self, watch::Sender<bool>) {
        let (stop, stopping) = watch::channel(false);
        let rng = Mutex::new(StdRng::seed_from_u64(config.seed));
        let websockets = std::sync::Arc::new(Semaphore::new(config.limits.max_websockets));
        let shared = Self {
            config,
            clock: Clock::new(),
            rng,
            counts: Mutex::default(),
            attempts: Mutex::default(),
            stopping,
            websockets,
        };
        (shared, stop)
    }

    /// Runs `f` with the RNG of the request being served, or outside a request (or with no
    /// random faults) the sandbox's seeded RNG. The RNG holds no invariant a panic could
    /// break, so a poisoned lock is taken over.
    pub fn with_rng<T>(&self, f: impl FnOnce(&mut StdRng) -> T) -> T {
        match REQUEST_RNG.try_with(|rng| rng.borrow_mut().random::<u64>()) {
            Ok(seed) => f(&mut StdRng::seed_from_u64(seed)),
            Err(_) => {
                let mut rng = self.rng.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                f(&mut rng)
            }
        }
    }

    /// `future` with an RNG of its own, drawn from the current one (a task spawned by a
    /// request keeps drawing ids that depend on that request only).
    pub fn inherit_rng<F: Future>(&self, future: F) -> impl Future<Output = F::Output> + use<F> {
        let seed = self.with_rng(|rng| rng.random::<u64>());
        with_request_rng(StdRng::seed_from_u64(seed), future)
    }

    /// Counts one request of `identity`; the number of earlier ones (0 for the first).
    pub fn attempt(&self, identity: Identity) -> u64 {
        let Ok(mut attempts) = lock(&self.attempts) else {
            return 0;
        };
        if attempts.len() >= MAX_IDENTITIES && !attempts.contains_key(&identity) {
            return 0;
        }
        let count = attempts.entry(identity).or_insert(0);
        let earlier = *count;
        *count = count.saturating_add(1);
        earlier
    }

    /// Requests served so far, by operationId.
    pub fn counts(&self) -> BTreeMap<String, u64> {
        lock(&self.counts)
            .map(|c| c.iter().map(|(op, n)| (op.to_string(), n.requests)).collect())
            .unwrap_or_default()
    }

    /// Faults injected so far, by operationId (operations without any left out).
    pub fn injected(&self) -> BTreeMap<String, u64> {
        lock(&self.counts)
            .map(|c| {
                c.iter()
                    .filter(|(_, n)| n.injected > 0)
                    .map(|(op, n)| (op.to_string(), n.injected))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Counts one injected fault of `operation`.
    pub fn count_fault(&self, operation: &'static str) {
        if let Ok(mut counts) = lock(&self.counts)
            && let Some(entry) = counts.get_mut(operation)
        {
            entry.injected = entry.injected.saturating_add(1);
        }
    }

    /// Requests served so far by one service.
    pub fn count_of(&self, service: Service) -> u64 {
        lock(&self.counts)
            .map(|c| {
                c.values()
                    .filter(|n| n.service == Some(service))
                    .map(|n| n.requests)
                    .fold(0, u64::saturating_add)
            })
            .unwrap_or(0)
    }

    /// Counts one request (`service` is `None` for paths no service serves).
    pub fn count(&self, operation: &'static str, service: Option<Service>) {
        if let Ok(mut counts) = lock(&self.counts) {
            let entry = counts.entry(operation).or_insert(Counted {
                service,
                requests: 0,
                injected: 0,
            });
            entry.requests = entry.requests.saturating_add(1);
        }
    }

    /// Resolves when the sandbox stops.
    pub async fn stopped(&self) {
        let mut stopping = self.stopping.clone();
        let _ = stopping.wait_for(|s| *s).await;
    }

    /// `start + offset`, or `None` when it is beyond what an instant can hold (never due).
    pub fn due(start: tokio::time::Instant, offset: Duration) -> Option<tokio::time::Instant> {
        start.checked_add(offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_identity_is_the_request_not_its_timestamp_segment() {
        let poll = |from: &str| {
            Identity::of(
                7,
                "poll",
                &format!("/v3/flow-assistants/s1/invocation_response/{from}"),
                None,
                b"",
            )
        };
        assert_eq!(
            poll("1733000000000"),
            poll("1733000000999"),
            "timestamps follow the clock"
        );
        assert_ne!(
            poll("1"),
            Identity::of(
                7,
                "poll",
                "/v3/flow-assistants/s2/invocation_response/1",
                None,
                b""
            )
        );
        let create = |seed, body: &[u8]| Identity::of(seed, "create_chat", "/chats", None, body);
        assert_ne!(create(7, b"{\"name\":\"a\"}"), create(7, b"{\"name\":\"b\"}"));
        assert_ne!(create(7, b"{}"), create(8, b"{}"), "the seed is part of it");
        assert_ne!(
            Identity::of(7, "create_chat", "/chats", Some("a=1"), b""),
            Identity::of(7, "create_chat", "/chats", Some("a=2"), b"")
        );
    }

    #[test]
    fn rolls_are_uniform_per_attempt_and_attempts_are_counted() {
        let id = Identity::of(1, "op", "/x", None, b"");
        let rolls: Vec<f64> = (0..10_000).map(|attempt| id.roll(attempt)).collect();
        assert!(rolls.iter().all(|r| (0.0..1.0).contains(r)));
        let below = rolls.iter().filter(|r| **r < 0.2).count();
        assert!((1800..2200).contains(&below), "{below} of 10,000 below 0.2");
        assert_eq!(id.roll(3), id.roll(3), "a pure function");
        let (shared, _stop) = Shared::new(crate::SandboxConfig::default());
        assert_eq!(
            [shared.attempt(id), shared.attempt(id), shared.attempt(id)],
            [0, 1, 2]
        );
        assert_eq!(shared.attempt(Identity::of(1, "op", "/y", None, b"")), 0);
    }
}
