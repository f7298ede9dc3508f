//! A stuck or hostile client cannot wedge the sandbox: header-read and idle timeouts, the
//! connection cap, bounded WebSockets, a bounded stop, and durations too large to represent.
//! Paused tokio time throughout, so every timeout is exact and nothing waits for real.

use std::time::Duration;

use assistants_sandbox::{FlowgenContract, Limits, Sandbox, Timing};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

mod common;
use common::{flowhunt_invoke, flowhunt_poll, flowhunt_session};

/// Reads until the server closes the connection (or `within` passes): the bytes it sent.
async fn until_closed(stream: &mut TcpStream, within: Duration) -> Option<Vec<u8>> {
    let mut seen = Vec::new();
    let read_all = async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => seen.extend_from_slice(&buf[..n]),
            }
        }
    };
    tokio::time::timeout(within, read_all).await.ok().map(|()| seen)
}

async fn half_sent(sandbox: &Sandbox) -> TcpStream {
    let mut stream = TcpStream::connect(sandbox.addr()).await.unwrap();
    stream
        .write_all(b"POST /chats HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-KEY: fg")
        .await
        .unwrap();
    stream
}

#[tokio::test(start_paused = true)]
async fn two_thousand_slowloris_connections_are_all_closed() {
    let limits = Limits::default().with_header_read_timeout(Duration::from_secs(10));
    let sandbox = Sandbox::builder().limits(limits).start().await.unwrap();
    let mut streams = Vec::new();
    for _ in 0..2_000 {
        streams.push(half_sent(&sandbox).await);
    }
    for stream in &mut streams {
        // Beyond the cap a connection is closed at once; within it, at the header timeout.
        let closed = until_closed(stream, Duration::from_secs(11)).await;
        assert!(closed.is_some(), "a slowloris connection stayed open");
    }
    // The sandbox still serves afterwards.
    let mut stream = TcpStream::connect(sandbox.addr()).await.unwrap();
    stream
        .write_all(b"GET /.well-known/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let answer = until_closed(&mut stream, Duration::from_secs(5)).await.unwrap();
    assert!(
        answer.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
}

#[tokio::test(start_paused = true)]
async fn an_idle_keep_alive_connection_and_a_stalled_body_are_closed() {
    let limits = Limits::default()
        .with_header_read_timeout(Duration::from_secs(10))
        .with_idle_timeout(Duration::from_secs(5));
    let sandbox = Sandbox::builder().limits(limits).start().await.unwrap();

    let mut idle = TcpStream::connect(sandbox.addr()).await.unwrap();
    idle.write_all(b"GET /.well-known/health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let started = tokio::time::Instant::now();
    let seen = until_closed(&mut idle, Duration::from_secs(60)).await.unwrap();
    assert!(seen.starts_with(b"HTTP/1.1 200"));
    assert!(
        started.elapsed() >= Duration::from_secs(10),
        "closed before the header timeout"
    );
    assert!(started.elapsed() < Duration::from_secs(11), "kept idle too long");

    let mut stalled = TcpStream::connect(sandbox.addr()).await.unwrap();
    stalled
        .write_all(b"POST /conversations/create HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"type\"")
        .await
        .unwrap();
    let started = tokio::time::Instant::now();
    let seen = until_closed(&mut stalled, Duration::from_secs(60)).await;
    assert!(seen.is_some(), "a stalled body held the connection");
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(start_paused = true)]
async fn connections_beyond_the_cap_are_closed_and_slots_come_back() {
    let limits = Limits::default()
        .with_max_connections(2)
        .with_header_read_timeout(Duration::from_secs(10));
    let sandbox = Sandbox::builder().limits(limits).start().await.unwrap();
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut stream = TcpStream::connect(sandbox.addr()).await.unwrap();
        stream
            .write_all(b"GET /.well-known/health HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let mut buf = [0u8; 12];
        stream.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"HTTP/1.1 200");
        held.push(stream);
    }
    let mut third = TcpStream::connect(sandbox.addr()).await.unwrap();
    let _ = third
        .write_all(b"GET /.well-known/health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await;
    let seen = until_closed(&mut third, Duration::from_secs(1)).await;
    assert_eq!(seen, Some(Vec::new()), "a connection beyond the cap was served");
    // The held connections idle out; their slots serve new clients.
    tokio::time::sleep(Duration::from_secs(11)).await;
    let response = reqwest::get(format!("{}/.well-known/health", sandbox.base_url()))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test(start_paused = true)]
async fn a_stop_ends_within_the_grace_with_half_sent_requests_and_websockets() {
    let limits = Limits::default().with_shutdown_grace(Duration::from_secs(2));
    let sandbox = Sandbox::builder()
        .flowgen_contract(FlowgenContract::OpenSource)
        .timing(Timing::realtime(Duration::from_secs(3600)))
        .limits(limits)
        .start()
        .await
        .unwrap();
    let base = sandbox.base_url();
    let mut open = vec![half_sent(&sandbox).await, half_sent(&sandbox).await];
    let mut body = TcpStream::connect(sandbox.addr()).await.unwrap();
    body.write_all(b"POST /conversations/create HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n{")
        .await
        .unwrap();
    open.push(body);
    let ws_url = format!("{}/conversations/stream/identifiers", base.replace("http", "ws"));
    let (mut ws, _) = tokio_tungstenite::connect_async(ws_url).await.unwrap();
    use futures::StreamExt;
    assert!(ws.next().await.is_some(), "no first frame");
    // An open-source send blocks until its run ends, an hour of steps away.
    let http = reqwest::Client::new();
    let chat: Value = http
        .post(format!("{base}/chats"))
        .header("x-api-key", assistants_sandbox::DEFAULT_API_KEY)
        .json(&json!({"name": "n", "from_type": "flow", "owner": ""}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = chat["id"].as_str().unwrap().to_string();
    let send = tokio::spawn(
        http.post(format!("{base}/chats/{id}/messages"))
            .header("x-api-key", assistants_sandbox::DEFAULT_API_KEY)
            .json(&json!({"content": "hi", "chat": id, "type": "user", "owner": ""}))
            .send(),
    );
    tokio::task::yield_now().await;
    let started = tokio::time::Instant::now();
    tokio::time::timeout(Duration::from_secs(5), sandbox.shutdown())
        .await
        .expect("the stop hung on open requests");
    assert!(
        started.elapsed() <= Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    for stream in &mut open {
        assert!(until_closed(stream, Duration::from_secs(1)).await.is_some());
    }
    let _ = send.await;
}

#[tokio::test(start_paused = true)]
async fn steps_too_long_to_represent_never_panic() {
    for step in [Duration::from_millis(u64::MAX), Duration::MAX] {
        let sandbox = Sandbox::builder()
            .timing(Timing::realtime(step))
            .start()
            .await
            .unwrap();
        let base = sandbox.base_url();
        let http = reqwest::Client::new();
        let session = flowhunt_session(&http, &base).await;
        let invoked = flowhunt_invoke(&http, &base, &session, "hello").await;
        assert_eq!(invoked.status(), 200, "the invoke handler failed");
        let events = flowhunt_poll(&http, &base, &session, 0).await;
        assert_eq!(events.len(), 1, "only the echo is due: {events:?}");
        assert_eq!(events[0]["event_type"], "human");

        let key = assistants_sandbox::DEFAULT_API_KEY;
        let chat: Value = http
            .post(format!("{base}/chats"))
            .header("x-api-key", key)
            .json(&json!({"name": "n", "from_type": "flow"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = chat["id"].as_str().unwrap();
        let sent = http
            .post(format!("{base}/chats/{id}/messages"))
            .header("x-api-key", key)
            .json(&json!({"message": "hello"}))
            .send()
            .await
            .unwrap();
        assert_eq!(sent.status(), 200);
        let chat: Value = http
            .get(format!("{base}/chats/{id}"))
            .header("x-api-key", key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(chat["status"], "running");
        sandbox.shutdown().await;
    }
}

#[tokio::test]
async fn websockets_beyond_the_global_bound_are_refused_in_pieces_format() {
    let limits = Limits::default().with_max_websockets(1);
    let sandbox = Sandbox::builder().limits(limits).start().await.unwrap();
    let url = format!(
        "{}/conversations/stream/identifiers",
        sandbox.base_url().replace("http", "ws")
    );
    let (_first, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    match tokio_tungstenite::connect_async(&url).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 500);
            let kind = response.headers()["content-type"].to_str().unwrap();
            assert!(kind.starts_with("text/plain"), "{kind}");
        }
        other => panic!("a second WebSocket was accepted: {:?}", other.map(|_| ())),
    }
}
