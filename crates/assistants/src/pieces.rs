//! Pieces: conversation helpers and a change stream that survives dropped sockets.
//!
//! `watch_conversations` reads the identifiers WebSocket. Every connection starts with the full
//! id list, which is diffed against what the stream already reported, so a change made while
//! the socket was down (a deletion, say) is still reported after the reconnect. Reconnects back
//! off with the retry policy's delays; while the socket cannot be opened, the stream polls the
//! identifiers snapshot instead and keeps trying the socket.

use std::collections::{BTreeSet, VecDeque};
use std::sync::Arc;

use futures::StreamExt;
use pieces_api::types;

use crate::config::{Settings, check_id};
use crate::error::{Error, Service, from_generated};
use crate::flowhunt::EventStream;
use crate::poll::Pacer;
use crate::retry::{Idempotency, with_retry};

/// A change of the set of conversations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConversationChange {
    /// A conversation appeared (or existed when the watch started).
    Added(String),
    /// A conversation was deleted.
    Removed(String),
}

/// Pieces' handle.
#[derive(Clone, Debug)]
pub struct Pieces {
    api: pieces_api::Client,
    settings: Arc<Settings>,
}

impl Pieces {
    /// A handle over a generated client (which then reads at most
    /// [`Settings::max_body_bytes`] of any response).
    pub fn new(api: pieces_api::Client, settings: Settings) -> Self {
        Self {
            api: api.with_limits(settings.limits()),
            settings: Arc::new(settings),
        }
    }

    async fn call<T, F, Fut>(
        &self,
        operation: &'static str,
        idempotency: Idempotency,
        f: F,
    ) -> Result<T, Error>
    where
        F: Fn(pieces_api::Client) -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        crate::poll::within(
            self.settings.timeout,
            with_retry(&self.settings.retry, idempotency, operation, || {
                f(self.api.clone())
            }),
        )
        .await
    }

    /// Creates a conversation named `name` (a copilot conversation).
    ///
    /// # Errors
    /// API and transport errors; never re-sent once it may have reached the server.
    ///
    /// ```no_run
    /// # async fn demo(pieces: assistants::Pieces) -> Result<(), assistants::Error> {
    /// let conversation = pieces.create("Release notes").await?;
    /// pieces.delete(&conversation.id).await?;
    /// # Ok(()) }
    /// ```
    pub async fn create(&self, name: &str) -> Result<types::Conversation, Error> {
        let max = self.settings.max_body_bytes;
        self.call(
            "conversations_create_specific_conversation",
            Idempotency::NonIdempotent,
            |api| async move {
                let call = api.conversations_create_specific_conversation().body_map(|b| {
                    b.name(Some(name.to_string()))
                        .type_(types::ConversationTypeEnum::Copilot)
                });
                match call.send().await {
                    Ok(r) => Ok(r.into_inner()),
                    Err(e) => Err(from_generated(Service::Pieces, e, max).await),
                }
            },
        )
        .await
    }

    /// Creates a conversation grounded on an asset.
    ///
    /// # Errors
    /// API and transport errors (an unknown asset is a 500 with PiecesOS' text).
    pub async fn create_from_asset(&self, asset: &str) -> Result<types::ReferencedConversation, Error> {
        let asset: uuid::Uuid = asset
            .parse()
            .map_err(|_| Error::InvalidArgument(format!("asset id {asset:?} is not a UUID")))?;
        let max = self.settings.max_body_bytes;
        self.call(
            "conversations_create_from_asset",
            Idempotency::NonIdempotent,
            |api| async move {
                match api.conversations_create_from_asset().asset(asset).send().await {
                    Ok(r) => Ok(r.into_inner().conversation),
                    Err(e) => Err(from_generated(Service::Pieces, e, max).await),
                }
            },
        )
        .await
    }

    /// Every conversation.
    ///
    /// # Errors
    /// API and transport errors.
    pub async fn list(&self) -> Result<Vec<types::Conversation>, Error> {
        let max = self.settings.max_body_bytes;
        self.call("conversations_snapshot", Idempotency::Safe, |api| async move {
            match api.conversations_snapshot().send().await {
                Ok(r) => Ok(r.into_inner().iterable),
                Err(e) => Err(from_generated(Service::Pieces, e, max).await),
            }
        })
        .await
    }

    /// The ids of every conversation.
    ///
    /// # Errors
    /// API and transport errors.
    pub async fn ids(&self) -> Result<Vec<String>, Error> {
        let max = self.settings.max_body_bytes;
        self.call(
            "conversations_identifiers_snapshot",
            Idempotency::Safe,
            |api| async move {
                match api.conversations_identifiers_snapshot().send().await {
                    Ok(r) => Ok(r.into_inner().iterable.into_iter().map(|c| c.id).collect()),
                    Err(e) => Err(from_generated(Service::Pieces, e, max).await),
                }
            },
        )
        .await
    }

    /// Deletes a conversation.
    ///
    /// # Errors
    /// API and transport errors (an unknown id is a 500 with PiecesOS' text).
    pub async fn delete(&self, id: &str) -> Result<(), Error> {
        check_id("conversation id", id)?;
        let max = self.settings.max_body_bytes;
        self.call(
            "conversations_delete_specific_conversation",
            Idempotency::Safe,
            |api| async move {
                match api
                    .conversations_delete_specific_conversation()
                    .conversation(id)
                    .send()
                    .await
                {
                    Ok(_) => Ok(()),
                    Err(e) => Err(from_generated(Service::Pieces, e, max).await),
                }
            },
        )
        .await
    }

    /// A stream of conversation changes that reconnects, reconciles and falls back to polling.
    ///
    /// The conversations existing at the start are reported as [`ConversationChange::Added`].
    /// The stream does not end on its own; drop it to stop watching.
    ///
    /// ```no_run
    /// use futures::StreamExt;
    /// # async fn demo(pieces: assistants::Pieces) -> Result<(), assistants::Error> {
    /// let mut changes = pieces.watch_conversations();
    /// while let Some(change) = changes.next().await {
    ///     match change? {
    ///         assistants::ConversationChange::Added(id) => println!("+ {id}"),
    ///         assistants::ConversationChange::Removed(id) => println!("- {id}"),
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn watch_conversations(&self) -> EventStream<ConversationChange> {
        let state = Watch {
            pieces: self.clone(),
            known: BTreeSet::new(),
            socket: None,
            queue: VecDeque::new(),
            failures: 0,
            pacer: self.settings.poll.pacer(),
            rng_seed: 0,
        };
        Box::pin(futures::stream::unfold(state, |mut state| async move {
            let item = state.next().await;
            Some((item, state))
        }))
    }
}

struct Watch {
    pieces: Pieces,
    known: BTreeSet<String>,
    socket: Option<pieces_api::IdentifierStream>,
    queue: VecDeque<ConversationChange>,
    failures: u32,
    pacer: Pacer,
    rng_seed: u64,
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

    async fn next(&mut self) -> Result<ConversationChange, Error> {
        loop {
            if let Some(change) = self.queue.pop_front() {
                return Ok(change);
            }
            if let Some(socket) = self.socket.as_mut() {
                match socket.next().await {
                    Some(Ok(frame)) => {
                        self.failures = 0;
                        self.apply(frame);
                    }
                    Some(Err(pieces_api::ClientError::Decode { excerpt, .. })) => {
                        tracing::warn!(excerpt, "skipping an undecodable identifiers frame");
                    }
                    Some(Err(_)) | None => {
                        tracing::debug!("identifiers socket dropped; reconnecting");
                        self.socket = None;
                    }
                }
                continue;
            }
            self.connect_or_poll().await?;
        }
    }

    /// Opens the socket (its first frame is the full list, reconciled) or, failing that, polls
    /// the identifiers snapshot once, after a backoff.
    async fn connect_or_poll(&mut self) -> Result<(), Error> {
        if self.failures > 0 {
            let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(self.rng_seed);
            self.rng_seed += 1;
            let delay = self
                .pieces
                .settings
                .retry
                .delay(self.failures.min(8), &mut rng)
                .max(self.pacer.next(false));
            tokio::time::sleep(delay).await;
        }
        match self.pieces.api.stream_identifiers().await {
            Ok(mut socket) => match socket.next().await {
                Some(Ok(first)) => {
                    let ids = first
                        .iterable
                        .into_iter()
                        .filter_map(|i| i.conversation.map(|c| c.id))
                        .collect();
                    self.reconcile(ids);
                    self.socket = Some(socket);
                    self.failures = 0;
                    Ok(())
                }
                _ => {
                    self.failures += 1;
                    Ok(())
                }
            },
            Err(error) => {
                tracing::debug!(%error, "identifiers socket unavailable; polling the snapshot");
                self.failures += 1;
                let ids = self.pieces.ids().await?;
                self.reconcile(ids.into_iter().collect());
                Ok(())
            }
        }
    }
}
