//! The one stream type every streaming method returns, and how a stream is made from a state
//! machine.

use std::future::Future;

use futures::Stream;

use crate::deadline::Deadline;
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

/// A state machine of endless changes (a status watch, a conversation watch).
#[cfg_attr(not(any(feature = "flowgen", feature = "pieces")), allow(dead_code))]
pub(crate) trait Changes: Send + Sized + 'static {
    /// What the stream yields.
    type Item: Send + 'static;
    /// The next change.
    fn next_change(&mut self) -> impl Future<Output = Result<Self::Item, Error>> + Send;
}

/// The stream of `changes` until `deadline`; it ends after its first error (the deadline's
/// included).
#[cfg_attr(not(any(feature = "flowgen", feature = "pieces")), allow(dead_code))]
pub(crate) fn until<C: Changes>(deadline: Deadline, changes: C) -> EventStream<C::Item> {
    struct Until<C> {
        deadline: Deadline,
        changes: C,
        done: bool,
    }
    impl<C: Changes> Source for Until<C> {
        type Item = C::Item;
        async fn next(&mut self) -> Option<Result<C::Item, Error>> {
            if self.done {
                return None;
            }
            let item = self.deadline.run(self.changes.next_change()).await;
            self.done = item.is_err();
            Some(item)
        }
    }
    stream(Until {
        deadline,
        changes,
        done: false,
    })
}
