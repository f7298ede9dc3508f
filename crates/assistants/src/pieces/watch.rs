//! The conversations change stream: the identifiers WebSocket, reconnected and reconciled.
//!
//! Every connection starts with the full id list, which is diffed against what the stream
//! already reported, so a change made while the socket was down (a deletion, say) is still
//! reported after the reconnect. While the socket cannot be opened, the stream polls the
//! identifiers snapshot instead and keeps trying the socket.
//!
//! Reconnects back off with the retry policy's delays, drawn from the client's one jitter
//! source (so watchers that lost PiecesOS together do not come back in lockstep). The failure
//! count resets only once a connection has stayed up for [`HEALTHY_AFTER`]: a server that
//! accepts and drops at once is backed off like one that refuses (kube-runtime's
//! `ResetTimerBackoff`).

use std::collections::{BTreeSet, VecDeque};
use std::time::Duration;

use futures::StreamExt;
use pieces_api::types;
use tokio::time::Instant;

use super::Pieces;
use crate::deadline::Deadline;
use crate::error::Error;
use crate::poll::Pacer;
use crate::stream::{Changes, EventStream, until};

/// How long a connection must stay up before its failures are forgiven.
pub const HEALTHY_AFTER: Duration = Duration::from_secs(30);

/// A change of the set of conversations.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConversationChange {
    /// A conversation appeared (or existed when the watch started).
    Added(String),
    /// A conversation was deleted.
    Removed(String),
}

impl Pieces {
    /// A stream of conversation changes that reconnects, reconciles and falls back to polling.
    ///
    /// The conversations existing at the start are reported as [`ConversationChange::Added`].
    /// The stream ends with [`Error::Deadline`] once `Settings::operation_timeout` has passed
    /// since the call (set it to `None` to watch for ever), or with the error of a failed
    /// snapshot read; drop it to stop watching.
    ///
    /// ```no_run
    /// use futures::StreamExt;
    /// # async fn demo(pieces: assistants::Pieces) -> Result<(), assistants::Error> {
    /// let mut changes = pieces.watch_conversations();
    /// while let Some(change) = changes.next().await {
    ///     match change? {
    ///         assistants::ConversationChange::Added(id) => println!("+ {id}"),
    ///         assistants::ConversationChange::Removed(id) => println!("- {id}"),
    ///         _ => {}
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn watch_conversations(&self) -> EventStream<ConversationChange> {
        let deadline = self.deadline();
        until(
            deadline,
            Watch {
                deadline,
                pacer: self.inner.caller.settings.poll.pacer(),
                pieces: self.clone(),
                known: BTreeSet::new(),
                socket: None,
                connected_at: None,
                queue: VecDeque::new(),
                failures: 0,
            },
        )
    }
}

struct Watch {
    pieces: Pieces,
    deadline: Deadline,
    known: BTreeSet<String>,
    socket: Option<pieces_api::IdentifierStream>,
    /// When the current socket was opened.
    connected_at: Option<Instant>,
    queue: VecDeque<ConversationChange>,
    /// Failed or short-lived connections in a row.
    failures: u32,
    pacer: Pacer,
}

impl Changes for Watch {
    type Item = ConversationChange;

    fn next_change(&mut self) -> impl std::future::Future<Output = Result<ConversationChange, Error>> + Send {
        Watch::next_change(self)
    }
}

impl Watch {
    /// Reports the difference between what was reported and the full set `ids`.
    fn reconcile(&mut self, ids: BTreeSet<String>) {
        for gone in self.known.difference(&ids) {
            self.queue.push_back(ConversationChange::Removed(gone.clone()));
        }
        for new in ids.difference(&self.known) {
            self.queue.push_back(ConversationChange::Added(new.clone()));
        }
        self.known = ids;
    }

    fn apply(&mut self, frame: types::StreamedIdentifiers) {
        for item in frame.iterable {
            let Some(conversation) = item.conversation else {
                continue;
            };
            if item.deleted == Some(true) {
                if self.known.remove(&conversation.id) {
                    self.queue.push_back(ConversationChange::Removed(conversation.id));
                }
            } else if self.known.insert(conversation.id.clone()) {
                self.queue.push_back(ConversationChange::Added(conversation.id));
            }
        }
    }

    async fn next_change(&mut self) -> Result<ConversationChange, Error> {
        loop {
            if let Some(change) = self.queue.pop_front() {
                return Ok(change);
            }
            if let Some(socket) = self.socket.as_mut() {
                match socket.next().await {
                    Some(Ok(frame)) => self.apply(frame),
                    Some(Err(pieces_api::ClientError::Decode { excerpt, .. })) => {
                        tracing::warn!(excerpt, "skipping an undecodable identifiers frame");
                    }
                    Some(Err(_)) | None => self.dropped(),
                }
                continue;
            }
            self.connect_or_poll().await?;
        }
    }

    /// The socket broke or closed: a connection that did not stay up long counts as a failure.
    fn dropped(&mut self) {
        tracing::debug!("identifiers socket dropped; reconnecting");
        self.socket = None;
        let healthy = self
            .connected_at
            .take()
            .is_some_and(|at| at.elapsed() >= HEALTHY_AFTER);
        self.failures = if healthy {
            0
        } else {
            self.failures.saturating_add(1)
        };
    }

    /// How long to wait before the next connection: not at all for the first one or after a
    /// connection that stayed up, the retry policy's delay after failures.
    fn backoff(&mut self) -> Option<Duration> {
        if self.failures == 0 {
            return None;
        }
        let caller = &self.pieces.inner.caller;
        let delay = caller
            .settings
            .retry
            .delay(self.failures.min(8), &caller.jitter)
            .max(self.pacer.next(false));
        Some(delay)
    }

    /// Opens the socket (its first frame is the full list, reconciled) or, failing that, polls
    /// the identifiers snapshot once, after a backoff.
    async fn connect_or_poll(&mut self) -> Result<(), Error> {
        if let Some(delay) = self.backoff() {
            self.deadline.sleep(delay).await?;
        }
        let opened = match self.pieces.api().await {
            Ok(api) => api.stream_identifiers().await.map_err(|e| e.to_string()),
            Err(error) => return Err(error),
        };
        match opened {
            Ok(mut socket) => match socket.next().await {
                Some(Ok(first)) => {
                    let ids = first
                        .iterable
                        .into_iter()
                        .filter_map(|i| i.conversation.map(|c| c.id))
                        .collect();
                    self.reconcile(ids);
                    self.socket = Some(socket);
                    self.connected_at = Some(Instant::now());
                    Ok(())
                }
                _ => {
                    self.failures = self.failures.saturating_add(1);
                    Ok(())
                }
            },
            Err(error) => {
                tracing::debug!(%error, "identifiers socket unavailable; polling the snapshot");
                self.failures = self.failures.saturating_add(1);
                let ids = self.pieces.ids_within(&self.deadline).await?;
                self.reconcile(ids.into_iter().collect());
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn connections_that_drop_at_once_keep_backing_off_until_one_stays_up() {
        let api = pieces_api::Client::with_base_url("http://127.0.0.1:9").expect("a valid URL");
        // (never contacted: only the backoff bookkeeping is exercised)
        let pieces = Pieces::new(api, crate::Settings::default());
        let mut watch = Watch {
            deadline: Deadline::none(),
            pacer: pieces.inner.caller.settings.poll.pacer(),
            pieces,
            known: BTreeSet::new(),
            socket: None,
            connected_at: None,
            queue: VecDeque::new(),
            failures: 0,
        };
        assert_eq!(watch.backoff(), None, "the first connection is made at once");
        for expected in 1..=5 {
            watch.connected_at = Some(Instant::now()); // connected, first frame read...
            tokio::time::sleep(Duration::from_millis(10)).await;
            watch.dropped(); // ...and dropped at once
            assert_eq!(watch.failures, expected, "a short connection is a failure");
            let delay = watch.backoff().expect("a failure backs off");
            assert!(
                delay >= Duration::from_millis(10),
                "{delay:?} after {expected} failures"
            );
        }
        watch.connected_at = Some(Instant::now());
        tokio::time::sleep(HEALTHY_AFTER).await;
        watch.dropped();
        assert_eq!(watch.failures, 0, "a connection that stayed up is forgiven");
        assert_eq!(watch.backoff(), None, "and the next one is made at once");
    }
}
