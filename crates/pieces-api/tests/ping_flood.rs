//! A WebSocket server that floods pings and never reads our pongs: the stream ends with a typed
//! `DeadConnection` error instead of queueing pongs without bound; a server that floods pings
//! but reads them is served normally.

use futures::{SinkExt, StreamExt};
use pieces_api::{Client, ClientError, MAX_UNANSWERED_PINGS};
use tokio::net::TcpSocket;
use tokio_tungstenite::tungstenite::Message;

/// Enough pings to fill any loopback socket buffer (4 MiB here at most) many times over.
const FLOOD: usize = 200_000;

/// A server on 127.0.0.1 that upgrades one connection, sends `pings` 125-byte pings (reading
/// the pongs only when `reads`), then a frame, then closes. Returns its base URL.
async fn flooding_server(pings: usize, reads: bool) -> String {
    let socket = TcpSocket::new_v4().unwrap();
    if !reads {
        // A small receive buffer: a server that does not read fills up after a few pongs.
        socket.set_recv_buffer_size(4096).unwrap();
    }
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(1).unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let Ok((tcp, _)) = listener.accept().await else {
            return;
        };
        let Ok(ws) = tokio_tungstenite::accept_async(tcp).await else {
            return;
        };
        let (mut sink, mut stream) = ws.split();
        // Without reading, the read half stays alive, unread, until the task ends.
        let _unread = if reads {
            tokio::spawn(async move { while let Some(Ok(_)) = stream.next().await {} });
            None
        } else {
            Some(stream)
        };
        let ping = Message::Ping(vec![7u8; 125].into());
        for _ in 0..pings {
            if sink.send(ping.clone()).await.is_err() {
                return;
            }
        }
        let _ = sink.send(Message::text(r#"{"iterable":[]}"#)).await;
        let _ = sink.close().await;
    });
    base
}

#[tokio::test]
async fn a_peer_that_floods_pings_and_never_reads_is_a_dead_connection() {
    let client = Client::with_base_url(&flooding_server(FLOOD, false).await).unwrap();
    let mut stream = client.stream_identifiers().await.unwrap();
    let first = stream.next().await;
    match first {
        Some(Err(ClientError::DeadConnection { unanswered })) => {
            assert_eq!(unanswered, MAX_UNANSWERED_PINGS + 1);
        }
        other => panic!("expected a dead connection, got {other:?}"),
    }
    assert!(
        stream.next().await.is_none(),
        "the stream ends after a dead connection"
    );
}

// The server reads on another thread, as a real one would: on one thread, pings buffered by the
// kernel are read while the server cannot run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_that_floods_pings_but_reads_the_pongs_is_served() {
    let client = Client::with_base_url(&flooding_server(FLOOD / 10, true).await).unwrap();
    let mut stream = client.stream_identifiers().await.unwrap();
    let frame = stream.next().await;
    assert!(
        matches!(frame, Some(Ok(ref f)) if f.iterable.is_empty()),
        "{frame:?}"
    );
    assert!(stream.next().await.is_none());
}
