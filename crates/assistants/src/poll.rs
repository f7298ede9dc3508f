//! Adaptive polling and the overall deadline.

use std::future::Future;
use std::time::Duration;

use crate::error::Error;

/// How often to poll while waiting: fast right after an action or new data, slower while
/// nothing changes.
///
/// Defaults ([`PollPolicy::adaptive`]): 50 ms after an action or news, growing x1.5 per idle
/// poll to at most 2 s. FlowHunt's own desktop app polls every 500 ms growing to 5 s; starting
/// at 50 ms delivers the first events of a reply with well under 100 ms of lag, and the growth
/// keeps a long quiet spell to about one request every 2 s.
#[derive(Clone, Debug, PartialEq)]
pub struct PollPolicy {
    initial: Duration,
    multiplier: f64,
    max: Duration,
}

impl Default for PollPolicy {
    fn default() -> Self {
        Self::adaptive()
    }
}

impl PollPolicy {
    /// 50 ms growing x1.5 to 2 s.
    pub fn adaptive() -> Self {
        Self {
            initial: Duration::from_millis(50),
            multiplier: 1.5,
            max: Duration::from_secs(2),
        }
    }

    /// A fixed interval (the baseline the benchmarks compare against).
    pub fn fixed(interval: Duration) -> Self {
        Self {
            initial: interval,
            multiplier: 1.0,
            max: interval,
        }
    }

    /// The first interval.
    pub fn with_initial(mut self, interval: Duration) -> Self {
        self.initial = interval;
        self
    }

    /// The longest interval.
    pub fn with_max(mut self, interval: Duration) -> Self {
        self.max = interval;
        self
    }

    /// The growth factor per idle poll (at least 1).
    pub fn with_multiplier(mut self, multiplier: f64) -> Self {
        self.multiplier = multiplier.max(1.0);
        self
    }

    /// A fresh pacer for one wait.
    pub fn pacer(&self) -> Pacer {
        Pacer {
            policy: self.clone(),
            current: self.initial,
        }
    }
}

/// The state of one wait's polling: call [`Pacer::next`] after each poll.
#[derive(Clone, Debug)]
pub struct Pacer {
    policy: PollPolicy,
    current: Duration,
}

impl Pacer {
    /// The delay before the next poll; `news` resets it to the fastest pace.
    pub fn next(&mut self, news: bool) -> Duration {
        if news {
            self.current = self.policy.initial;
            return self.current;
        }
        let delay = self.current;
        self.current = self.current.mul_f64(self.policy.multiplier).min(self.policy.max);
        delay
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

    #[test]
    fn the_pace_backs_off_while_idle_and_resets_on_news() {
        let mut pacer = PollPolicy::adaptive().pacer();
        let idle: Vec<u128> = (0..10).map(|_| pacer.next(false).as_millis()).collect();
        assert_eq!(&idle[..4], [50, 75, 112, 168]);
        assert_eq!(*idle.last().unwrap(), 1922);
        assert_eq!(pacer.next(false).as_millis(), 2000, "capped");
        assert_eq!(pacer.next(true).as_millis(), 50);
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
}
