//! Pieces: conversation helpers and a change stream that survives dropped sockets.

mod watch;

use std::sync::Arc;

use pieces_api::operations;
use pieces_api::types;

pub use watch::ConversationChange;

use crate::Settings;
use crate::call::Caller;
use crate::deadline::Deadline;
use crate::error::{Error, Service};
use crate::retry::Jitter;
use crate::validate::check_id;

/// Pieces' handle. Cheap to clone; clones share one connection pool.
#[derive(Clone, Debug)]
pub struct Pieces {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    api: pieces_api::Client,
    caller: Caller,
}

impl Pieces {
    /// A handle over a generated client (which then reads at most
    /// [`Settings::max_body_bytes`] of any response).
    pub fn new(api: pieces_api::Client, settings: Settings) -> Self {
        let jitter = settings.retry.jitter();
        Self::build(api, Arc::new(settings), jitter)
    }

    pub(crate) fn build(api: pieces_api::Client, settings: Arc<Settings>, jitter: Jitter) -> Self {
        Self {
            inner: Arc::new(Inner {
                api: api.with_limits(settings.limits()),
                caller: Caller::new(Service::Pieces, settings, jitter),
            }),
        }
    }

    fn deadline(&self) -> Deadline {
        Deadline::after(self.inner.caller.settings.operation_timeout)
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
        self.inner
            .caller
            .call(
                operations::CONVERSATIONS_CREATE_SPECIFIC_CONVERSATION,
                &self.deadline(),
                || {
                    self.inner
                        .api
                        .conversations_create_specific_conversation()
                        .body_map(|b| {
                            b.name(Some(name.to_string()))
                                .type_(types::ConversationTypeEnum::Copilot)
                        })
                        .send()
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
        let created = self
            .inner
            .caller
            .call(
                operations::CONVERSATIONS_CREATE_FROM_ASSET,
                &self.deadline(),
                || {
                    self.inner
                        .api
                        .conversations_create_from_asset()
                        .asset(asset)
                        .send()
                },
            )
            .await?;
        Ok(created.conversation)
    }

    /// Every conversation.
    ///
    /// # Errors
    /// API and transport errors.
    pub async fn list(&self) -> Result<Vec<types::Conversation>, Error> {
        let snapshot = self
            .inner
            .caller
            .call(operations::CONVERSATIONS_SNAPSHOT, &self.deadline(), || {
                self.inner.api.conversations_snapshot().send()
            })
            .await?;
        Ok(snapshot.iterable)
    }

    /// The ids of every conversation.
    ///
    /// # Errors
    /// API and transport errors.
    pub async fn ids(&self) -> Result<Vec<String>, Error> {
        self.ids_within(&self.deadline()).await
    }

    async fn ids_within(&self, deadline: &Deadline) -> Result<Vec<String>, Error> {
        let snapshot = self
            .inner
            .caller
            .call(operations::CONVERSATIONS_IDENTIFIERS_SNAPSHOT, deadline, || {
                self.inner.api.conversations_identifiers_snapshot().send()
            })
            .await?;
        Ok(snapshot.iterable.into_iter().map(|c| c.id).collect())
    }

    /// Deletes a conversation.
    ///
    /// # Errors
    /// API and transport errors (an unknown id is a 500 with PiecesOS' text).
    pub async fn delete(&self, id: &str) -> Result<(), Error> {
        check_id("conversation id", id)?;
        self.inner
            .caller
            .call(
                operations::CONVERSATIONS_DELETE_SPECIFIC_CONVERSATION,
                &self.deadline(),
                || async {
                    self.inner
                        .api
                        .conversations_delete_specific_conversation()
                        .conversation(id)
                        .send()
                        .await
                        .map(drop)
                },
            )
            .await
    }
}
