//! The identifiers WebSocket as a `Stream` of decoded frames.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures::{Sink, Stream, StreamExt};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};

use crate::{ClientError, MAX_FRAME_BYTES, types::StreamedIdentifiers};

/// The most bytes of replies (pongs, the close frame) queued for a server that does not read
/// them; tungstenite's default is unbounded.
pub const MAX_WRITE_BUFFER_BYTES: usize = 64 * 1024;

/// How many pings in a row the server may send while none of our replies can be written (the
/// socket's send buffer, megabytes on loopback, and [`MAX_WRITE_BUFFER_BYTES`] are full) before
/// the connection is [`ClientError::DeadConnection`]. A live server reads its pongs; one that
/// keeps pinging while megabytes of them wait is flooding, not talking.
pub const MAX_UNANSWERED_PINGS: usize = 1024;

/// Frames of `/conversations/stream/identifiers`, decoded.
///
/// Yields `Ok(frame)` per text (or binary) frame, `Err` for a frame that does not decode or a
/// broken connection, and ends when the server closes the socket. Pings are answered by the
/// underlying WebSocket implementation; replies queue in a buffer of at most
/// [`MAX_WRITE_BUFFER_BYTES`], and a server that floods pings without reading the replies ends
/// the stream with [`ClientError::DeadConnection`].
pub struct IdentifierStream {
    inner: WebSocketStream<reqwest::Upgraded>,
    done: bool,
    /// Pings received since our replies last drained.
    unanswered: usize,
}

impl std::fmt::Debug for IdentifierStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentifierStream")
            .field("done", &self.done)
            .field("unanswered", &self.unanswered)
            .finish_non_exhaustive()
    }
}

impl IdentifierStream {
    pub(crate) async fn new(upgraded: reqwest::Upgraded) -> Self {
        let config = WebSocketConfig::default()
            .max_message_size(Some(MAX_FRAME_BYTES))
            .max_frame_size(Some(MAX_FRAME_BYTES))
            // Replies go straight to the socket; what the socket does not take waits, bounded.
            .write_buffer_size(0)
            .max_write_buffer_size(MAX_WRITE_BUFFER_BYTES);
        let inner = WebSocketStream::from_raw_socket(upgraded, Role::Client, Some(config)).await;
        Self {
            inner,
            done: false,
            unanswered: 0,
        }
    }

    /// Closes the socket politely.
    ///
    /// # Errors
    /// [`ClientError::WebSocket`] when the close frame cannot be sent.
    pub async fn close(mut self) -> Result<(), ClientError> {
        self.done = true;
        self.inner.close(None).await.map_err(ClientError::from)
    }
}

fn decode(bytes: &[u8]) -> Result<StreamedIdentifiers, ClientError> {
    serde_json::from_slice(bytes).map_err(|source| ClientError::Decode {
        source,
        excerpt: String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).into_owned(),
    })
}

impl Stream for IdentifierStream {
    type Item = Result<StreamedIdentifiers, ClientError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            if self.done {
                return Poll::Ready(None);
            }
            let message = match self.inner.poll_next_unpin(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => {
                    self.done = true;
                    return Poll::Ready(None);
                }
                Poll::Ready(Some(Err(e))) => {
                    self.done = true;
                    return Poll::Ready(Some(Err(e.into())));
                }
                Poll::Ready(Some(Ok(message))) => message,
            };
            match message {
                Message::Text(text) => return Poll::Ready(Some(decode(text.as_bytes()))),
                Message::Binary(bytes) => return Poll::Ready(Some(decode(&bytes))),
                Message::Close(_) => {
                    self.done = true;
                    return Poll::Ready(None);
                }
                Message::Ping(_) => {
                    // tungstenite queued the pong; whether it drains tells a reading peer from
                    // a flooding one.
                    match Pin::new(&mut self.inner).poll_flush(cx) {
                        Poll::Ready(Ok(())) => self.unanswered = 0,
                        Poll::Ready(Err(e)) => {
                            self.done = true;
                            return Poll::Ready(Some(Err(e.into())));
                        }
                        Poll::Pending => {
                            self.unanswered = self.unanswered.saturating_add(1);
                            if self.unanswered > MAX_UNANSWERED_PINGS {
                                self.done = true;
                                return Poll::Ready(Some(Err(ClientError::DeadConnection {
                                    unanswered: self.unanswered,
                                })));
                            }
                        }
                    }
                }
                Message::Pong(_) | Message::Frame(_) => continue,
            }
        }
    }
}
