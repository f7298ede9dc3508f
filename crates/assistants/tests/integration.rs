//! The facade's integration tests, as one binary: each file is a module (run one with
//! `cargo test -p assistants --test integration wire::`). `secrets.rs` is a binary of its own
//! (see Cargo.toml).

mod flowgen;
mod flowhunt;
mod hostile;
mod pieces;
mod raw;
mod soak;
mod wire;

use std::time::Duration;

/// A wait that has not ended after this long has hung: the test fails instead of waiting
/// (virtual time in the paused tests, so they fail at once).
const WAIT: Duration = Duration::from_secs(10);

/// `wait`'s output, failing the test when it stalls.
async fn within<F: std::future::Future>(wait: F) -> F::Output {
    tokio::time::timeout(WAIT, wait).await.expect("the wait stalled")
}

/// The stream's next item, failing the test when it stalls.
async fn next<S: futures::Stream + Unpin>(stream: &mut S) -> Option<S::Item> {
    within(futures::StreamExt::next(stream)).await
}
