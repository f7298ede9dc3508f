//! What every service shares: configuration, clock, seeded RNG, request counts and the stop
//! signal. A leaf module: the services depend on it, it depends on none of them.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rand::SeedableRng;
use rand::rngs::StdRng;
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

/// A lock whose holder panicked: the state may be half-written, so every service answers it with
/// a 500 in its own error format rather than pretending to succeed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Poisoned;

/// Locks `mutex`, refusing a poisoned one (the one lock policy of every service).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> Result<MutexGuard<'_, T>, Poisoned> {
    mutex.lock().map_err(|_| Poisoned)
}

/// Everything the services share.
pub(crate) struct Shared {
    /// The configuration the sandbox was started with.
    pub config: SandboxConfig,
    /// The clock.
    pub clock: Clock,
    rng: Mutex<StdRng>,
    counts: Mutex<BTreeMap<&'static str, (Option<Service>, u64)>>,
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
            stopping,
            websockets,
        };
        (shared, stop)
    }

    /// Runs `f` with the seeded RNG. The RNG holds no invariant a panic could break, so a
    /// poisoned lock is taken over.
    pub fn with_rng<T>(&self, f: impl FnOnce(&mut StdRng) -> T) -> T {
        let mut rng = self.rng.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut rng)
    }

    /// Requests served so far, by operationId.
    pub fn counts(&self) -> BTreeMap<String, u64> {
        lock(&self.counts)
            .map(|c| c.iter().map(|(op, (_, n))| (op.to_string(), *n)).collect())
            .unwrap_or_default()
    }

    /// Requests served so far by one service.
    pub fn count_of(&self, service: Service) -> u64 {
        lock(&self.counts)
            .map(|c| {
                c.values()
                    .filter(|(s, _)| *s == Some(service))
                    .map(|(_, n)| *n)
                    .fold(0, u64::saturating_add)
            })
            .unwrap_or(0)
    }

    /// Counts one request (`service` is `None` for paths no service serves).
    pub fn count(&self, operation: &'static str, service: Option<Service>) {
        if let Ok(mut counts) = lock(&self.counts) {
            let entry = counts.entry(operation).or_insert((service, 0));
            entry.1 = entry.1.saturating_add(1);
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
