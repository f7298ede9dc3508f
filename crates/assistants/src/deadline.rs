//! One deadline per public operation, created when the operation starts and handed to
//! everything it does (pre-reads, sends, polls, questions), so the operation as a whole ends
//! at [`Settings::operation_timeout`](crate::Settings) however many calls it makes.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use crate::error::Error;

/// When an operation must be over.
///
/// A limit too large to represent as an instant means no deadline at all.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use std::time::Duration;
/// let deadline = assistants::Deadline::after(Some(Duration::from_millis(10)));
/// let slow = tokio::time::sleep(Duration::from_secs(5));
/// let result = deadline.run(async { slow.await; Ok::<_, assistants::Error>(()) }).await;
/// assert!(matches!(result, Err(assistants::Error::Deadline { .. })));
/// # }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deadline {
    start: Instant,
    /// The limit and the instant it falls on; `None`: no deadline.
    end: Option<(Duration, Instant)>,
}

impl Deadline {
    /// A deadline `limit` from now (`None`, or a limit too large to represent: none).
    pub fn after(limit: Option<Duration>) -> Self {
        let start = Instant::now();
        let end = limit.and_then(|limit| start.checked_add(limit).map(|at| (limit, at)));
        Self { start, end }
    }

    /// No deadline.
    pub fn none() -> Self {
        Self::after(None)
    }

    /// The limit, if there is one.
    pub fn limit(&self) -> Option<Duration> {
        self.end.map(|(limit, _)| limit)
    }

    /// How long the operation has run.
    pub fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }

    /// The time left (zero once passed); `None` without a deadline.
    pub fn remaining(&self) -> Option<Duration> {
        self.end
            .map(|(_, at)| at.saturating_duration_since(Instant::now()))
    }

    /// The error for this deadline having passed, with the real elapsed time.
    pub fn error(&self) -> Error {
        Error::Deadline {
            limit: self.limit().unwrap_or(Duration::MAX),
            elapsed: self.elapsed(),
        }
    }

    /// Runs `future` until it ends or the deadline passes; a request in flight is cancelled.
    ///
    /// # Errors
    /// [`Error::Deadline`] when the deadline passes first; otherwise the future's own result.
    pub async fn run<T>(&self, future: impl Future<Output = Result<T, Error>>) -> Result<T, Error> {
        match self.end {
            None => future.await,
            Some((_, at)) => match tokio::time::timeout_at(at, future).await {
                Ok(result) => result,
                Err(_) => Err(self.error()),
            },
        }
    }

    /// Sleeps `delay`, or fails at the deadline if that comes first.
    ///
    /// # Errors
    /// [`Error::Deadline`] when the deadline falls before the sleep would end.
    pub async fn sleep(&self, delay: Duration) -> Result<(), Error> {
        let wake = Instant::now().checked_add(delay);
        match (self.end, wake) {
            (Some((_, at)), Some(wake)) if wake <= at => {
                tokio::time::sleep_until(wake).await;
                Ok(())
            }
            (Some((_, at)), _) => {
                tokio::time::sleep_until(at).await;
                Err(self.error())
            }
            (None, Some(wake)) => {
                tokio::time::sleep_until(wake).await;
                Ok(())
            }
            (None, None) => std::future::pending().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_deadline_cancels_a_slow_operation_and_reports_the_real_elapsed_time() {
        let deadline = Deadline::after(Some(Duration::from_secs(2)));
        tokio::time::sleep(Duration::from_millis(500)).await;
        let slow = async {
            tokio::time::sleep(Duration::from_secs(60)).await;
            Ok::<_, Error>(())
        };
        let err = deadline.run(slow).await.unwrap_err();
        assert!(
            matches!(err, Error::Deadline { limit, elapsed } if limit == Duration::from_secs(2) && elapsed == limit),
            "{err:?}"
        );
        assert_eq!(deadline.remaining(), Some(Duration::ZERO));
    }

    #[tokio::test(start_paused = true)]
    async fn an_unrepresentable_limit_means_no_deadline_and_sleeps_stop_at_the_deadline() {
        let endless = Deadline::after(Some(Duration::MAX));
        assert_eq!(endless.limit(), None);
        assert_eq!(endless.run(async { Ok::<_, Error>(7) }).await.unwrap(), 7);

        let deadline = Deadline::after(Some(Duration::from_secs(3)));
        deadline.sleep(Duration::from_secs(1)).await.unwrap();
        let start = Instant::now();
        let err = deadline.sleep(Duration::MAX).await.unwrap_err();
        assert_eq!(start.elapsed(), Duration::from_secs(2), "woke at the deadline");
        assert!(matches!(err, Error::Deadline { elapsed, .. } if elapsed == Duration::from_secs(3)));
    }

    #[tokio::test(start_paused = true)]
    async fn a_sleep_longer_than_what_is_left_ends_at_the_deadline() {
        let deadline = Deadline::after(Some(Duration::from_secs(3)));
        let start = Instant::now();
        assert!(deadline.sleep(Duration::from_secs(10)).await.is_err());
        assert_eq!(start.elapsed(), Duration::from_secs(3));
    }
}
