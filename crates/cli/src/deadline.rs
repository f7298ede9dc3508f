//! `--timeout`: one deadline for a whole command (for `chat`, for each reply), computed once
//! with checked arithmetic.
//!
//! The facade's own deadline is per operation, so a command made of several operations (create
//! a session, then ask) could run for a multiple of `--timeout`. The CLI therefore bounds the
//! whole command itself. A timeout too large to represent means no deadline, never a panic.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use crate::context::{Failure, deadline_message, exit};

/// Margin for the facade, which adds its own per-operation timeout to a later `now`.
const FACADE_MARGIN: Duration = Duration::from_secs(366 * 24 * 3600);

/// The `--timeout` of a command, or the default.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit(Option<Duration>);

impl Limit {
    /// From `--timeout SECONDS`; without it, `default`.
    pub fn new(timeout_secs: Option<u64>, default: Option<Duration>) -> Self {
        Self(timeout_secs.map(Duration::from_secs).or(default))
    }

    /// What the facade may be given as its per-operation timeout: `None` when adding it to an
    /// instant could overflow (the CLI's own deadline, if representable, still applies).
    pub fn for_facade(self) -> Option<Duration> {
        let limit = self.0?;
        Instant::now().checked_add(limit)?.checked_add(FACADE_MARGIN)?;
        Some(limit)
    }

    /// Runs `work` until it ends or the deadline passes, starting the clock now.
    pub async fn run<T>(self, work: impl Future<Output = Result<T, Failure>>) -> Result<T, Failure> {
        let Some(limit) = self.0 else { return work.await };
        let Some(at) = Instant::now().checked_add(limit) else {
            return work.await; // beyond any clock: no deadline
        };
        match tokio::time::timeout_at(at, work).await {
            Ok(result) => result,
            Err(_) => Err(Failure {
                code: exit::DEADLINE,
                message: deadline_message(limit),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_deadline_covers_the_whole_command() {
        let limit = Limit::new(Some(3), None);
        let started = Instant::now();
        // Two operations of 2 s each: each within 3 s, together not.
        let work = async {
            tokio::time::sleep(Duration::from_secs(2)).await;
            tokio::time::sleep(Duration::from_secs(2)).await;
            Ok::<_, Failure>(())
        };
        let failure = limit.run(work).await.unwrap_err();
        assert_eq!(failure.code, exit::DEADLINE);
        assert_eq!(started.elapsed(), Duration::from_secs(3));
        assert!(failure.message.contains("3s"), "{}", failure.message);
    }

    #[tokio::test(start_paused = true)]
    async fn a_huge_timeout_means_no_deadline() {
        let limit = Limit::new(Some(u64::MAX), None);
        assert_eq!(limit.for_facade(), None, "the facade is never handed an overflow");
        let work = async {
            tokio::time::sleep(Duration::from_secs(1000)).await;
            Ok::<_, Failure>(7)
        };
        assert_eq!(limit.run(work).await.unwrap(), 7);
        assert_eq!(
            Limit::new(Some(5), None).for_facade(),
            Some(Duration::from_secs(5))
        );
        assert_eq!(Limit::new(None, None).for_facade(), None);
    }
}
