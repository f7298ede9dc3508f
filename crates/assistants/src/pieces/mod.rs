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
///
/// Without a base URL (no `PIECES_BASE_URL`, no [`Config::with_pieces_base_url`](crate::Config)),
/// the first operation finds a running PiecesOS on its ports (39300-39333, probed at once with
/// `HEAD /.well-known/health`) and keeps the first that answers.
#[derive(Clone, Debug)]
pub struct Pieces {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    api: tokio::sync::OnceCell<pieces_api::Client>,
    caller: Caller,
}

impl Pieces {
    /// A handle over a generated client (which then reads at most
    /// [`Settings::max_body_bytes`] of any response).
    pub fn new(api: pieces_api::Client, settings: Settings) -> Self {
        let jitter = settings.retry.jitter();
        Self::build(Some(api), Arc::new(settings), jitter)
    }

    pub(crate) fn build(api: Option<pieces_api::Client>, settings: Arc<Settings>, jitter: Jitter) -> Self {
        let api = api.map(|api| api.with_limits(settings.limits()));
        Self {
            inner: Arc::new(Inner {
                api: tokio::sync::OnceCell::new_with(api),
                caller: Caller::new(Service::Pieces, settings, jitter),
            }),
        }
    }

    /// The generated client, found on PiecesOS' ports the first time if no URL was given.
    pub(crate) async fn api(&self) -> Result<&pieces_api::Client, Error> {
        self.inner
            .api
            .get_or_try_init(|| async {
                let base = pieces_api::probe(pieces_api::DISCOVERY_PORTS, pieces_api::DISCOVERY_TIMEOUT)
                    .await
                    .map_err(|e| Error::Config(e.to_string()))?;
                let api =
                    pieces_api::Client::with_base_url(&base).map_err(|e| Error::Config(e.to_string()))?;
                Ok(api.with_limits(self.inner.caller.settings.limits()))
            })
            .await
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
        let api = self.api().await?;
        self.inner
            .caller
            .call(
                operations::CONVERSATIONS_CREATE_SPECIFIC_CONVERSATION,
                &self.deadline(),
                || {
                    api.conversations_create_specific_conversation()
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
        let api = self.api().await?;
        let created = self
            .inner
            .caller
            .call(
                operations::CONVERSATIONS_CREATE_FROM_ASSET,
                &self.deadline(),
                || api.conversations_create_from_asset().asset(asset).send(),
            )
            .await?;
        Ok(created.conversation)
    }

    /// Every conversation.
    ///
    /// # Errors
    /// API and transport errors.
    pub async fn list(&self) -> Result<Vec<types::Conversation>, Error> {
        let api = self.api().await?;
        let snapshot = self
            .inner
            .caller
            .call(operations::CONVERSATIONS_SNAPSHOT, &self.deadline(), || {
                api.conversations_snapshot().send()
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
        let api = self.api().await?;
        let snapshot = self
            .inner
            .caller
            .call(operations::CONVERSATIONS_IDENTIFIERS_SNAPSHOT, deadline, || {
                api.conversations_identifiers_snapshot().send()
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
        let api = self.api().await?;
        self.inner
            .caller
            .call(
                operations::CONVERSATIONS_DELETE_SPECIFIC_CONVERSATION,
                &self.deadline(),
                || async {
                    api.conversations_delete_specific_conversation()
                        .conversation(id)
                        .send()
                        .await
                        .map(drop)
                },
            )
            .await
    }
}
