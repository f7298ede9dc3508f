//! The one stream type every streaming method returns, and how a stream is made from a state
//! machine.

use std::future::Future;

use futures::Stream;

use crate::error::Error;

/// A boxed stream of results, as every streaming method returns.
pub type EventStream<T> = std::pin::Pin<Box<dyn Stream<Item = Result<T, Error>> + Send>>;

/// A state machine that yields a stream's items one at a time.
pub(crate) trait Source: Send + Sized + 'static {
    /// What the stream yields.
    type Item: Send + 'static;
    /// The next item; `None` ends the stream.
    fn next(&mut self) -> impl Future<Output = Option<Result<Self::Item, Error>>> + Send;
}

/// The stream of `source`'s items.
pub(crate) fn stream<S: Source>(source: S) -> EventStream<S::Item> {
    Box::pin(futures::stream::unfold(source, |mut source| async move {
        let item = source.next().await?;
        Some((item, source))
    }))
}
