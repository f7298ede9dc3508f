//! Retry policy as a value, and the one retry loop every call goes through.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::deadline::Deadline;
use crate::error::Error;

/// Whether a call may be sent twice; the generated `operations` constants declare it per
/// operation, from the spec.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Idempotency {
    /// Reads and deletes: retried on transport errors, 408, 429 and 502/503/504.
    Safe,
    /// Create, invoke, send, input: retried only when the request provably never left
    /// (a connect error), so the server never sees it twice.
    NonIdempotent,
}

/// How failed calls are retried: jittered exponential backoff with a cap, a maximum number of
/// attempts, and the server's `Retry-After` taking precedence. A `Retry-After` longer than
/// [`RetryPolicy::with_max_retry_after`] (default 60 s) ends the retries at once: the error
/// carries it ([`Error::retry_after`]) for the caller to decide, so no call ever sleeps longer
/// than the policy allows. Nor does any retry sleep past the operation's deadline.
///
/// The policy is also the one source of randomness of a client: every jitter (retries,
/// reconnects) draws from [`RetryPolicy::jitter`], seeded from entropy per client unless
/// [`RetryPolicy::with_seed`] fixes it.
///
/// Defaults ([`RetryPolicy::standard`]): 3 attempts, 200 ms first delay doubling to at most 5 s,
/// full jitter, `Retry-After` honoured up to 60 s. Three attempts ride out a blip without hiding an outage; full jitter spreads
/// clients that failed together (the AWS SDKs' choice).
#[derive(Clone, Debug, PartialEq)]
pub struct RetryPolicy {
    max_attempts: u32,
    initial_delay: Duration,
    multiplier: f64,
    max_delay: Duration,
    max_retry_after: Duration,
    jitter: bool,
    seed: Option<u64>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self::standard()
    }
}

impl RetryPolicy {
    /// 3 attempts, 200 ms doubling to 5 s, full jitter.
    pub fn standard() -> Self {
        Self {
            max_attempts: 3,
            initial_delay: Duration::from_millis(200),
            multiplier: 2.0,
            max_delay: Duration::from_secs(5),
            max_retry_after: Duration::from_secs(60),
            jitter: true,
            seed: None,
        }
    }

    /// One attempt, no retries.
    pub fn disabled() -> Self {
        Self {
            max_attempts: 1,
            ..Self::standard()
        }
    }

    /// Total attempts, the first included (at least 1).
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The delay before the first retry (before jitter).
    pub fn with_initial_delay(mut self, delay: Duration) -> Self {
        self.initial_delay = delay;
        self
    }

    /// The cap of any computed delay.
    pub fn with_max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// The longest `Retry-After` honoured; a server asking for longer ends the retries.
    pub fn with_max_retry_after(mut self, wait: Duration) -> Self {
        self.max_retry_after = wait;
        self
    }

    /// Turns jitter on (default) or off.
    pub fn with_jitter(mut self, jitter: bool) -> Self {
        self.jitter = jitter;
        self
    }

    /// Seeds the jitter, for reproducible tests.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Total attempts allowed.
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The cap of any delay.
    pub fn max_delay(&self) -> Duration {
        self.max_delay
    }

    /// The delay after failed attempt `attempt` (1-based): `initial * multiplier^(attempt-1)`,
    /// capped, then uniformly drawn from `[0, that]` with jitter.
    pub fn delay(&self, attempt: u32, jitter: &Jitter) -> Duration {
        let exp = self.multiplier.powi(attempt.saturating_sub(1).min(30) as i32);
        // Checked: a huge initial delay times 2^29 must cap, not panic.
        let base = Duration::try_from_secs_f64(self.initial_delay.as_secs_f64() * exp)
            .unwrap_or(self.max_delay)
            .min(self.max_delay);
        if self.jitter {
            Duration::try_from_secs_f64(base.as_secs_f64() * jitter.fraction()).unwrap_or(base)
        } else {
            base
        }
    }

    /// A fresh source of randomness: seeded by [`RetryPolicy::with_seed`], from entropy
    /// otherwise. A client takes one and shares it between all its retries and reconnects.
    pub fn jitter(&self) -> Jitter {
        let rng = match self.seed {
            Some(seed) => StdRng::seed_from_u64(seed),
            None => StdRng::from_rng(&mut rand::rng()),
        };
        Jitter(Arc::new(Mutex::new(rng)))
    }
}

/// A shared source of randomness for jitter (see [`RetryPolicy::jitter`]); clones share it.
#[derive(Clone)]
pub struct Jitter(Arc<Mutex<StdRng>>);

impl std::fmt::Debug for Jitter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Jitter")
    }
}

impl Jitter {
    /// A uniform draw from `[0, 1)`.
    pub fn fraction(&self) -> f64 {
        // A panic while drawing cannot leave a random generator inconsistent.
        let mut rng = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        rng.random::<f64>()
    }
}

/// Runs `call` until it succeeds, the error is not retryable for `idempotency`, or the attempts
/// run out; sleeps the server's `Retry-After` when given, the policy's delay otherwise.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use assistants::{Idempotency, RetryPolicy, with_retry};
/// let policy = RetryPolicy::standard().with_max_attempts(5);
/// let value = with_retry(&policy, Idempotency::Safe, "example", || async { Ok::<_, assistants::Error>(42) }).await;
/// assert_eq!(value.unwrap(), 42);
/// # }
/// ```
pub async fn with_retry<T, F, Fut>(
    policy: &RetryPolicy,
    idempotency: Idempotency,
    operation: &'static str,
    call: F,
) -> Result<T, Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Error>>,
{
    retry(
        policy,
        &policy.jitter(),
        idempotency,
        operation,
        &Deadline::none(),
        call,
    )
    .await
}

/// The retry loop: what [`with_retry`] does, drawing jitter from `jitter` and giving up with
/// the last error when the next delay would not end before `deadline`.
pub(crate) async fn retry<T, F, Fut>(
    policy: &RetryPolicy,
    jitter: &Jitter,
    idempotency: Idempotency,
    operation: &'static str,
    deadline: &Deadline,
    mut call: F,
) -> Result<T, Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Error>>,
{
    let mut attempt = 1;
    loop {
        let span = tracing::debug_span!("call", operation, attempt);
        let error = match tracing::Instrument::instrument(call(), span).await {
            Ok(value) => return Ok(value),
            Err(error) => error,
        };
        let allowed = match idempotency {
            Idempotency::Safe => error.is_retryable(),
            Idempotency::NonIdempotent => error.request_not_sent(),
        };
        let delay = match error.retry_after() {
            Some(wait) if wait > policy.max_retry_after => None, // longer than we ever wait
            Some(wait) => Some(wait),
            None => Some(policy.delay(attempt, jitter)),
        };
        let fits = |delay: Duration| deadline.remaining().is_none_or(|left| delay < left);
        let delay = match delay {
            Some(delay) if allowed && attempt < policy.max_attempts && fits(delay) => delay,
            _ => {
                tracing::debug!(operation, attempt, status = ?error.status(), "giving up: {error}");
                return Err(error);
            }
        };
        tracing::debug!(operation, attempt, status = ?error.status(), delay_ms = delay.as_millis() as u64, "retrying");
        tokio::time::sleep(delay).await;
        attempt += 1;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;
    use crate::error::Service;

    fn api(status: u16, retry_after: Option<Duration>) -> Error {
        Error::Api {
            service: Service::FlowGen,
            status,
            message: String::new(),
            body: String::new(),
            retry_after,
        }
    }

    #[test]
    fn delays_grow_exponentially_to_the_cap_within_the_jitter_range() {
        let policy = RetryPolicy::standard().with_jitter(false);
        let rng = RetryPolicy::standard().with_seed(1).jitter();
        let delays: Vec<_> = (1..=7).map(|a| policy.delay(a, &rng).as_millis()).collect();
        assert_eq!(delays, [200, 400, 800, 1600, 3200, 5000, 5000]);
        let jittered = RetryPolicy::standard();
        for attempt in 1..=7 {
            let d = jittered.delay(attempt, &rng);
            assert!(
                d <= policy.delay(attempt, &rng),
                "full jitter stays within [0, base]"
            );
        }
    }

    #[tokio::test(start_paused = true)]
    async fn retry_after_is_honoured_on_virtual_time() {
        let calls = AtomicU32::new(0);
        let start = tokio::time::Instant::now();
        let result = with_retry(&RetryPolicy::standard(), Idempotency::Safe, "test", || async {
            match calls.fetch_add(1, Ordering::SeqCst) {
                0 => Err(api(429, Some(Duration::from_secs(7)))),
                _ => Ok("done"),
            }
        })
        .await;
        assert_eq!(result.unwrap(), "done");
        assert_eq!(
            start.elapsed(),
            Duration::from_secs(7),
            "slept exactly Retry-After"
        );
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn non_idempotent_calls_are_not_retried_after_reaching_the_server() {
        for status in [429, 503] {
            let calls = AtomicU32::new(0);
            let result: Result<(), _> = with_retry(
                &RetryPolicy::standard(),
                Idempotency::NonIdempotent,
                "send",
                || async {
                    calls.fetch_add(1, Ordering::SeqCst);
                    Err(api(status, None))
                },
            )
            .await;
            assert_eq!(result.unwrap_err().status(), Some(status));
            assert_eq!(calls.load(Ordering::SeqCst), 1, "HTTP {status} was not re-sent");
        }
    }

    /// A transport error that says the request never left (as a refused connection does).
    fn never_sent() -> Error {
        let source = reqwest::Client::new().get("http://[::1").build().unwrap_err();
        Error::Transport {
            service: Service::FlowGen,
            not_sent: true,
            source: std::sync::Arc::new(source),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_non_idempotent_call_that_provably_never_left_is_sent_again() {
        let calls = AtomicU32::new(0);
        let result = with_retry(
            &RetryPolicy::standard(),
            Idempotency::NonIdempotent,
            "create",
            || async {
                match calls.fetch_add(1, Ordering::SeqCst) {
                    0 => Err(never_sent()),
                    _ => Ok("created"),
                }
            },
        )
        .await;
        assert_eq!(result.unwrap(), "created");
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    /// Fails (on virtual time, so at once) a retry loop that would never end.
    async fn bounded<T>(retry: impl Future<Output = T>) -> T {
        tokio::time::timeout(Duration::from_secs(24 * 3600), retry)
            .await
            .expect("the retries never ended")
    }

    #[tokio::test(start_paused = true)]
    async fn safe_calls_retry_until_the_attempts_run_out_and_not_on_client_errors() {
        let calls = AtomicU32::new(0);
        let result: Result<(), _> = bounded(with_retry(
            &RetryPolicy::standard().with_seed(3),
            Idempotency::Safe,
            "get",
            || async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(api(503, None))
            },
        ))
        .await;
        assert!(result.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        let calls = AtomicU32::new(0);
        let _ = with_retry(&RetryPolicy::standard(), Idempotency::Safe, "get", || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err::<(), _>(api(404, None))
        })
        .await;
        assert_eq!(calls.load(Ordering::SeqCst), 1, "a 404 is final");
    }

    #[tokio::test(start_paused = true)]
    async fn a_retry_after_beyond_the_cap_ends_the_retries_at_once() {
        let calls = AtomicU32::new(0);
        let start = tokio::time::Instant::now();
        let result: Result<(), _> =
            with_retry(&RetryPolicy::standard(), Idempotency::Safe, "get", || async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(api(429, Some(Duration::from_secs(99_999_999_999))))
            })
            .await;
        assert_eq!(
            result.unwrap_err().retry_after(),
            Some(Duration::from_secs(99_999_999_999))
        );
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(start.elapsed(), Duration::ZERO, "no sleep at all");
    }

    #[tokio::test(start_paused = true)]
    async fn a_retried_call_stops_at_the_deadline_with_its_last_error() {
        let calls = AtomicU32::new(0);
        let start = tokio::time::Instant::now();
        let deadline = Deadline::after(Some(Duration::from_secs(3)));
        let policy = RetryPolicy::standard().with_max_attempts(100).with_jitter(false);
        let result: Result<(), _> = retry(
            &policy,
            &policy.jitter(),
            Idempotency::Safe,
            "get",
            &deadline,
            || async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(api(503, None))
            },
        )
        .await;
        assert_eq!(result.unwrap_err().status(), Some(503));
        // Delays 0.2 + 0.4 + 0.8 = 1.4 s fit in 3 s; the next (1.6 s) would end after it.
        assert_eq!(calls.load(Ordering::SeqCst), 4);
        assert_eq!(start.elapsed(), Duration::from_millis(1400));
    }

    #[test]
    fn a_seed_replays_the_jitter_and_entropy_differs_between_clients() {
        let seeded = RetryPolicy::standard().with_seed(9);
        let draws = |j: &Jitter| (1..=6).map(|a| seeded.delay(a, j)).collect::<Vec<_>>();
        assert_eq!(draws(&seeded.jitter()), draws(&seeded.jitter()));
        let free = RetryPolicy::standard();
        let (a, b) = (free.jitter(), free.jitter());
        let fa: Vec<f64> = (0..4).map(|_| a.fraction()).collect();
        let fb: Vec<f64> = (0..4).map(|_| b.fraction()).collect();
        assert_ne!(fa, fb, "two clients do not share a sequence");
    }

    #[test]
    fn huge_delays_cap_instead_of_overflowing() {
        let policy = RetryPolicy::standard()
            .with_initial_delay(Duration::MAX)
            .with_max_delay(Duration::from_secs(9));
        let jitter = policy.jitter();
        for attempt in [1, 2, 30, u32::MAX] {
            assert!(policy.delay(attempt, &jitter) <= Duration::from_secs(9));
        }
    }

    #[test]
    fn getters_and_disabled_report_the_policy() {
        assert_eq!(RetryPolicy::standard().max_attempts(), 3);
        assert_eq!(RetryPolicy::standard().with_max_attempts(5).max_attempts(), 5);
        assert_eq!(RetryPolicy::disabled().max_attempts(), 1);
        assert_eq!(RetryPolicy::standard().max_delay(), Duration::from_secs(5));
        assert_eq!(format!("{:?}", RetryPolicy::standard().jitter()), "Jitter");
    }

    #[tokio::test(start_paused = true)]
    async fn disabled_sends_once_and_the_retry_after_cap_is_inclusive_and_settable() {
        let calls = AtomicU32::new(0);
        let _ = with_retry(&RetryPolicy::disabled(), Idempotency::Safe, "get", || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err::<(), _>(api(503, None))
        })
        .await;
        assert_eq!(calls.load(Ordering::SeqCst), 1, "disabled: one attempt");
        for (cap, expected_calls) in [(2, 2), (1, 1)] {
            let calls = AtomicU32::new(0);
            let policy = RetryPolicy::standard().with_max_retry_after(Duration::from_secs(cap));
            let _ = with_retry(&policy, Idempotency::Safe, "get", || async {
                match calls.fetch_add(1, Ordering::SeqCst) {
                    0 => Err(api(429, Some(Duration::from_secs(2)))),
                    _ => Ok(()),
                }
            })
            .await;
            assert_eq!(
                calls.load(Ordering::SeqCst),
                expected_calls,
                "cap {cap} s, Retry-After 2 s"
            );
        }
    }
}
