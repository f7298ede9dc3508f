//! Retry policy as a value, and the one retry loop every call goes through.

use std::future::Future;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::error::Error;

/// Whether a call may be sent twice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Idempotency {
    /// Reads and deletes: retried on transport errors, 408, 429 and 502/503/504.
    Safe,
    /// Create, invoke, send, input: retried only when the request provably never left
    /// (a connect error), so the server never sees it twice.
    NonIdempotent,
}

/// How failed calls are retried: jittered exponential backoff with a cap, a maximum number of
/// attempts, and the server's `Retry-After` taking precedence.
///
/// Defaults ([`RetryPolicy::standard`]): 3 attempts, 200 ms first delay doubling to at most 5 s,
/// full jitter. Three attempts ride out a blip without hiding an outage; full jitter spreads
/// clients that failed together (the AWS SDKs' choice).
#[derive(Clone, Debug, PartialEq)]
pub struct RetryPolicy {
    max_attempts: u32,
    initial_delay: Duration,
    multiplier: f64,
    max_delay: Duration,
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

    /// The delay after failed attempt `attempt` (1-based): `initial * multiplier^(attempt-1)`,
    /// capped, then uniformly drawn from `[0, that]` with jitter.
    pub fn delay(&self, attempt: u32, rng: &mut impl Rng) -> Duration {
        let exp = self.multiplier.powi(attempt.saturating_sub(1).min(30) as i32);
        let base = self.initial_delay.mul_f64(exp).min(self.max_delay);
        if self.jitter {
            base.mul_f64(rng.random::<f64>())
        } else {
            base
        }
    }

    fn rng(&self) -> StdRng {
        match self.seed {
            Some(seed) => StdRng::seed_from_u64(seed),
            None => StdRng::from_rng(&mut rand::rng()),
        }
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
    mut call: F,
) -> Result<T, Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Error>>,
{
    let mut rng = policy.rng();
    let mut attempt = 1;
    loop {
        let span = tracing::debug_span!("call", operation, attempt);
        let result = tracing::Instrument::instrument(call(), span).await;
        let error = match result {
            Ok(value) => return Ok(value),
            Err(error) => error,
        };
        let allowed = match idempotency {
            Idempotency::Safe => error.is_retryable(),
            Idempotency::NonIdempotent => error.request_not_sent(),
        };
        if !allowed || attempt >= policy.max_attempts {
            tracing::debug!(operation, attempt, status = ?error.status(), "giving up: {error}");
            return Err(error);
        }
        let delay = error
            .retry_after()
            .unwrap_or_else(|| policy.delay(attempt, &mut rng));
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
        let mut rng = StdRng::seed_from_u64(1);
        let delays: Vec<_> = (1..=7).map(|a| policy.delay(a, &mut rng).as_millis()).collect();
        assert_eq!(delays, [200, 400, 800, 1600, 3200, 5000, 5000]);
        let jittered = RetryPolicy::standard();
        for attempt in 1..=7 {
            let d = jittered.delay(attempt, &mut rng);
            assert!(
                d <= policy.delay(attempt, &mut rng),
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

    #[tokio::test(start_paused = true)]
    async fn safe_calls_retry_until_the_attempts_run_out_and_not_on_client_errors() {
        let calls = AtomicU32::new(0);
        let result: Result<(), _> = with_retry(
            &RetryPolicy::standard().with_seed(3),
            Idempotency::Safe,
            "get",
            || async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(api(503, None))
            },
        )
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
}
