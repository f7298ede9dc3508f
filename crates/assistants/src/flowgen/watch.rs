//! One status poll loop per chat, shared by every waiter on it; the status stream and
//! `wait_until` are views of it.

use std::sync::Arc;

use flowgen_api::types::{self, ChatStatus};
use tokio::sync::watch;

use super::FlowGen;
use crate::deadline::Deadline;
use crate::error::{Error, Service};
use crate::poll::Hint;
use crate::shared::{Follower, Step};
use crate::stream::{Changes, EventStream, until};
use crate::validate::check_id;

/// What every watcher of a chat sees: the latest read of the chat (shared, never copied per
/// watcher), or the error of that read.
pub(crate) type Snapshot = Option<Result<Arc<types::Chat>, Error>>;

/// What a status says of the next reads: `running` produces news by itself; a chat waiting
/// for an answer, or whose run ended, changes only when someone acts (an action nudges the
/// loop, so the slow idle pace costs no lag then). A status this crate does not know: none.
fn hint(status: &ChatStatus) -> Option<Hint> {
    match status {
        ChatStatus::Running => Some(Hint::Working),
        ChatStatus::Unknown(_) => None,
        _ => Some(Hint::Idle),
    }
}

/// One watcher's status stream.
struct Watch {
    follower: Follower<Snapshot>,
    last: Option<ChatStatus>,
}

impl Watch {
    /// The next read whose status differs from the last one yielded.
    async fn next_change(&mut self) -> Result<types::Chat, Error> {
        loop {
            let snapshot = self.follower.rx.borrow_and_update().clone();
            match snapshot {
                Some(Ok(chat)) if self.last.as_ref() != Some(&chat.status) => {
                    self.last = Some(chat.status.clone());
                    return Ok((*chat).clone());
                }
                Some(Err(error)) => return Err(error),
                _ => {}
            }
            if self.follower.rx.changed().await.is_err() {
                return Err(Error::WaitEnded {
                    service: Service::FlowGen,
                    reason: "the chat's status poll loop stopped",
                });
            }
        }
    }
}

impl Changes for Watch {
    type Item = types::Chat;

    fn next_change(&mut self) -> impl std::future::Future<Output = Result<types::Chat, Error>> + Send {
        Watch::next_change(self)
    }
}

/// Waits on `rx` until `predicate` holds for a read whose status differs from the last one
/// judged; clones the chat it returns, nothing else.
async fn until_status(
    mut rx: watch::Receiver<Snapshot>,
    predicate: impl Fn(&types::Chat) -> bool,
) -> Result<types::Chat, Error> {
    let mut last: Option<ChatStatus> = None;
    loop {
        {
            // A clone of the shared `Arc` (or of the error that ends every waiter), taken in a
            // statement of its own so that the channel's lock is released before the predicate
            // runs; the block ends before the await, so that the future does not hold it.
            let snapshot = rx.borrow_and_update().clone();
            match snapshot {
                Some(Ok(chat)) if last.as_ref() != Some(&chat.status) => {
                    if predicate(&chat) {
                        return Ok(types::Chat::clone(&chat));
                    }
                    last = Some(chat.status.clone());
                }
                Some(Err(error)) => return Err(error),
                _ => {}
            }
        }
        if rx.changed().await.is_err() {
            return Err(Error::WaitEnded {
                service: Service::FlowGen,
                reason: "the chat's status poll loop stopped",
            });
        }
    }
}

impl FlowGen {
    /// The chat's status changes, each once, from the chat's one shared poll loop: the first
    /// item is the chat as first read, then one item per new status. The stream ends with an
    /// error when a read fails or the operation deadline passes; drop it to stop watching.
    ///
    /// ```no_run
    /// use futures::StreamExt;
    /// # async fn demo(flowgen: assistants::FlowGen) -> Result<(), assistants::Error> {
    /// let mut statuses = flowgen.watch("k2j4h6g8f0d1s3a");
    /// while let Some(chat) = statuses.next().await {
    ///     let chat = chat?;
    ///     println!("{}", chat.status);
    ///     if assistants::flowgen::is_terminal(&chat.status) {
    ///         break;
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn watch(&self, chat_id: &str) -> EventStream<types::Chat> {
        let deadline = self.deadline();
        if let Err(error) = check_id("chat id", chat_id) {
            return Box::pin(futures::stream::once(async { Err(error) }));
        }
        until(
            deadline,
            Watch {
                follower: self.subscribe(chat_id),
                last: None,
            },
        )
    }

    /// Waits until `predicate` holds for the chat, judged at each status change of
    /// [`FlowGen::watch`], sharing one poll loop with every other waiter on the same chat.
    ///
    /// # Errors
    /// The poll's error, or [`Error::Deadline`].
    ///
    /// ```no_run
    /// # async fn demo(flowgen: assistants::FlowGen) -> Result<(), assistants::Error> {
    /// let done = flowgen.wait_until("k2j4h6g8f0d1s3a", |chat| assistants::flowgen::is_terminal(&chat.status)).await?;
    /// println!("{}", done.status);
    /// # Ok(()) }
    /// ```
    pub async fn wait_until(
        &self,
        chat_id: &str,
        predicate: impl Fn(&types::Chat) -> bool,
    ) -> Result<types::Chat, Error> {
        // Per waiter: the receiver, the last status judged, the deadline's timer and the
        // predicate, in one future with no task, stream or box; the predicate reads the loop's
        // shared snapshot, and only the chat returned is cloned.
        let span = tracing::info_span!("wait", service = "flowgen", chat = chat_id, kind = "wait_until");
        let deadline = self.deadline();
        check_id("chat id", chat_id)?;
        let wait = tracing::Instrument::instrument(
            until_status(self.subscribe(chat_id).into_receiver(), predicate),
            span,
        );
        // Not `Deadline::run`: its future would hold this one twice (before and inside the
        // timeout), and this future is the bulk of what each of many waiters costs.
        match deadline.remaining() {
            None => wait.await,
            Some(left) => tokio::time::timeout(left, wait)
                .await
                .unwrap_or_else(|_| Err(deadline.error())),
        }
    }

    /// Follows the chat's one poll loop, starting it if none runs.
    pub(crate) fn subscribe(&self, chat_id: &str) -> Follower<Snapshot> {
        // Made only when this follower starts the loop: joining one costs no copy of the id.
        let start = || {
            let flowgen = self.clone();
            let id: Arc<str> = chat_id.into();
            let poll = move |tx: watch::Sender<Snapshot>| {
                let (flowgen, chat_id) = (flowgen.clone(), id.clone());
                async move {
                    // The loop outlives any one waiter: each read is bounded on its own.
                    let settings = &flowgen.inner.caller.settings;
                    let deadline = Deadline::after(settings.attempt_timeout.or(settings.operation_timeout));
                    let read = flowgen.get_chat_within(&chat_id, &deadline).await.map(Arc::new);
                    let hint = read.as_ref().ok().and_then(|chat| hint(&chat.status));
                    let failed = read.is_err();
                    let previous = tx.send_replace(Some(read));
                    if failed {
                        Step::Stop
                    } else if is_news(&previous, &tx.borrow()) {
                        Step::News(hint)
                    } else {
                        Step::Quiet(hint)
                    }
                }
            };
            (None, poll)
        };
        self.inner
            .watches
            .follow_with(chat_id, &self.inner.caller.settings.poll, start)
    }
}

/// Whether a read is news for the pace: its status or its `updated` stamp differs from the
/// previous read's (a news-sensitive policy such as `PollPolicy::adaptive()` speeds up on it).
fn is_news(previous: &Snapshot, now: &Snapshot) -> bool {
    let key = |s: &Snapshot| match s {
        Some(Ok(chat)) => Some((chat.status.clone(), chat.updated.clone())),
        _ => None,
    };
    key(previous) != key(now)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;
    use crate::{PollPolicy, Settings};

    fn chat(status: &str, updated: &str) -> Arc<types::Chat> {
        let chat = serde_json::json!({"id": "c1", "name": "n", "status": status, "created": "2024-03-14 08:21:05.412Z",
            "updated": updated, "from_type": "flow", "owner": ""});
        Arc::new(serde_json::from_value(chat).unwrap())
    }

    fn flowgen(server: &httpmock::MockServer, timeout: Duration) -> FlowGen {
        FlowGen::new(
            flowgen_api::Client::with_api_key(&server.base_url(), "k".into()).unwrap(),
            Settings::default()
                .with_poll(PollPolicy::fixed(Duration::from_millis(50)))
                .with_operation_timeout(Some(timeout)),
        )
    }

    #[tokio::test(start_paused = true)]
    async fn the_predicate_is_judged_once_per_status_on_the_shared_snapshot() {
        let (tx, rx) = watch::channel::<Snapshot>(None);
        let judged = AtomicUsize::new(0);
        let wait = until_status(rx, |chat| {
            judged.fetch_add(1, Ordering::SeqCst);
            chat.status == ChatStatus::Completed
        });
        let mut wait = std::pin::pin!(wait);
        assert!(futures::poll!(wait.as_mut()).is_pending(), "nothing read yet");
        // Polled by hand after each read, so that the waiter sees every one of them.
        for (status, updated) in [
            ("running", "2024-03-14 08:21:06.000Z"),
            ("running", "2024-03-14 08:21:07.000Z"),
            ("wait_for_human_input", "2024-03-14 08:21:08.000Z"),
        ] {
            tx.send_replace(Some(Ok(chat(status, updated))));
            assert!(futures::poll!(wait.as_mut()).is_pending(), "{status}");
        }
        tx.send_replace(Some(Ok(chat("completed", "2024-03-14 08:21:09.000Z"))));
        let std::task::Poll::Ready(done) = futures::poll!(wait.as_mut()) else {
            panic!("the completed read ends the wait")
        };
        let done = done.unwrap();
        assert_eq!(done.status, ChatStatus::Completed);
        assert_eq!(done.updated, "2024-03-14 08:21:09.000Z");
        // running, wait_for_human_input, completed: the second `running` read is no change.
        assert_eq!(judged.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn a_read_is_news_when_its_status_or_stamp_changed() {
        let read = |status: &str, updated: &str| -> Snapshot { Some(Ok(chat(status, updated))) };
        assert!(is_news(&None, &read("running", "u1")), "the first read");
        assert!(
            !is_news(&read("running", "u1"), &read("running", "u1")),
            "the same read"
        );
        assert!(
            is_news(&read("running", "u1"), &read("running", "u2")),
            "a new stamp"
        );
        assert!(
            is_news(&read("running", "u1"), &read("completed", "u1")),
            "a new status"
        );
    }

    #[test]
    fn statuses_hint_the_pace_and_an_unknown_one_hints_nothing() {
        assert_eq!(hint(&ChatStatus::Running), Some(Hint::Working));
        assert_eq!(hint(&ChatStatus::WaitForHumanInput), Some(Hint::Idle));
        assert_eq!(hint(&ChatStatus::Completed), Some(Hint::Idle));
        assert_eq!(hint(&ChatStatus::Unknown("queued".into())), None);
    }

    #[tokio::test(start_paused = true)]
    async fn the_status_stream_yields_each_new_status_once_then_the_failed_read() {
        use std::sync::Mutex;
        let loops: crate::shared::Loops<Snapshot> = crate::shared::Loops::default();
        let reads = Mutex::new(
            vec![
                Ok(chat("running", "u1")),
                Ok(chat("running", "u2")),
                Ok(chat("wait_for_human_input", "u3")),
                Ok(chat("wait_for_human_input", "u4")),
                Ok(chat("completed", "u5")),
                Err(Error::Api {
                    service: Service::FlowGen,
                    status: 404,
                    message: "gone".into(),
                    body: String::new(),
                    retry_after: None,
                }),
            ]
            .into_iter(),
        );
        let follower = loops.follow(
            "c1",
            &PollPolicy::fixed(Duration::from_secs(1)),
            || None,
            move |tx| {
                let read = reads.lock().unwrap().next();
                async move {
                    let Some(read) = read else {
                        return Step::Quiet(None);
                    };
                    let failed = read.is_err();
                    tx.send_replace(Some(read));
                    if failed { Step::Stop } else { Step::News(None) }
                }
            },
        );
        let mut watch = Watch { follower, last: None };
        let mut next = async || {
            tokio::time::timeout(Duration::from_secs(60), watch.next_change())
                .await
                .expect("the status stream stalled")
        };
        for expected in ["running", "wait_for_human_input", "completed"] {
            assert_eq!(next().await.unwrap().status.as_str(), expected);
        }
        assert_eq!(next().await.unwrap_err().status(), Some(404));
    }

    #[tokio::test(start_paused = true)]
    async fn a_loop_that_stops_ends_its_waiters() {
        let (tx, rx) = watch::channel::<Snapshot>(Some(Ok(chat("running", "u"))));
        let wait = until_status(rx, |chat| chat.status == ChatStatus::Completed);
        drop(tx);
        assert!(matches!(wait.await, Err(Error::WaitEnded { .. })));
    }

    #[tokio::test]
    async fn a_failed_read_reaches_every_waiter() {
        let server = httpmock::MockServer::start_async().await;
        server
            .mock_async(|when, then| {
                when.method("GET").path("/chats/c1");
                then.status(404).json_body(serde_json::json!({"message": "gone"}));
            })
            .await;
        let fg = flowgen(&server, Duration::from_secs(10));
        let waiters = (0..100).map(|_| fg.wait_until("c1", |c| c.status == ChatStatus::Completed));
        let results = futures::future::join_all(waiters).await;
        for result in results {
            assert!(
                matches!(result, Err(Error::Api { status: 404, .. })),
                "{result:?}"
            );
        }
    }

    #[tokio::test]
    async fn each_waiter_ends_at_its_own_deadline() {
        let server = httpmock::MockServer::start_async().await;
        let reply = serde_json::json!({"id": "c1", "name": "n", "status": "running", "created": "2024-03-14 08:21:05.412Z",
            "updated": "2024-03-14 08:21:05.412Z", "from_type": "flow", "owner": ""});
        server
            .mock_async(|when, then| {
                when.method("GET").path("/chats/c1");
                then.status(200).json_body(reply);
            })
            .await;
        let limit = Duration::from_millis(300);
        let fg = flowgen(&server, limit);
        let expect_deadline = |result: Result<types::Chat, Error>| match result {
            Err(Error::Deadline { limit: l, elapsed }) => {
                assert_eq!(l, limit);
                assert!(elapsed >= limit, "{elapsed:?}");
            }
            other => panic!("expected the deadline, got {other:?}"),
        };
        let first = fg.wait_until("c1", |c| c.status == ChatStatus::Completed);
        let (first, later) = tokio::join!(first, async {
            // Joins the running loop once the first waiter is well under way: its deadline is
            // its own, counted from its own start, not the loop's or the first waiter's.
            let fg = fg.clone();
            let mut rx = fg.subscribe("c1").into_receiver();
            rx.changed().await.unwrap();
            let start = tokio::time::Instant::now();
            let result = fg.wait_until("c1", |c| c.status == ChatStatus::Completed).await;
            (start, result)
        });
        expect_deadline(first);
        let (start, result) = later;
        expect_deadline(result);
        assert!(start.elapsed() >= limit);
    }
}
