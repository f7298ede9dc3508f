//! Finding PiecesOS on 127.0.0.1:39300-39333 with `HEAD /.well-known/health`.
//!
//! Other processes may hold ports of the range: every test binds the ports it needs among the
//! free ones, and the full-range test accepts any port that answered 200.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use pieces_api::{ClientError, DISCOVERY_PORTS, base_url_or_probe, probe};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A listener on a free port of the discovery range, if one is free.
/// The tests share PiecesOS' port range: one probing the whole range would count as a hit on
/// another's server. They take turns.
static RANGE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn free_port_in_range() -> Option<TcpListener> {
    for port in DISCOVERY_PORTS {
        if let Ok(listener) = TcpListener::bind(("127.0.0.1", port)).await {
            return Some(listener);
        }
    }
    None
}

/// Serves `status` to every request, counting `HEAD /.well-known/health` requests.
fn serve(listener: TcpListener, status: &'static str) -> Arc<AtomicUsize> {
    let health = Arc::new(AtomicUsize::new(0));
    let seen = health.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                if head.starts_with(b"HEAD /.well-known/health HTTP/1.1\r\n") {
                    seen.fetch_add(1, Ordering::SeqCst);
                }
                let response = format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
                let _ = socket.write_all(response.as_bytes()).await;
            });
        }
    });
    health
}

fn port_of(listener: &TcpListener) -> u16 {
    listener.local_addr().unwrap().port()
}

#[tokio::test]
async fn the_port_that_answers_200_wins_over_refusals_and_errors() {
    let _range = RANGE.lock().await;
    let (Some(healthy), Some(wrong)) = (free_port_in_range().await, free_port_in_range().await) else {
        eprintln!("skipped: fewer than two free ports in {DISCOVERY_PORTS:?}");
        return;
    };
    let (healthy_port, wrong_port) = (port_of(&healthy), port_of(&wrong));
    // A port nobody listens on: bound, then released.
    let closed_port = {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        port_of(&listener)
    };
    let health = serve(healthy, "200 OK");
    serve(wrong, "404 Not Found");
    let found = probe([wrong_port, closed_port, healthy_port], Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(found, format!("http://127.0.0.1:{healthy_port}"));
    assert_eq!(
        health.load(Ordering::SeqCst),
        1,
        "probed with HEAD /.well-known/health"
    );
}

#[tokio::test]
async fn the_whole_range_is_probed_concurrently() {
    let _range = RANGE.lock().await;
    let Some(listener) = free_port_in_range().await else {
        eprintln!("skipped: no free port in {DISCOVERY_PORTS:?}");
        return;
    };
    let port = port_of(&listener);
    let health = serve(listener, "200 OK");
    let found = probe(DISCOVERY_PORTS, pieces_api::DISCOVERY_TIMEOUT)
        .await
        .unwrap();
    let found_port: u16 = found.rsplit(':').next().unwrap().parse().unwrap();
    assert!(DISCOVERY_PORTS.contains(&found_port), "{found}");
    if found_port == port {
        assert_eq!(health.load(Ordering::SeqCst), 1);
    }
    let client = pieces_api::Client::with_base_url(&found).unwrap();
    assert_eq!(pieces_api::ClientInfo::baseurl(&client), &found);
}

#[tokio::test]
async fn an_explicit_url_wins_and_nothing_is_probed() {
    let _range = RANGE.lock().await;
    let Some(listener) = free_port_in_range().await else {
        eprintln!("skipped: no free port in {DISCOVERY_PORTS:?}");
        return;
    };
    let port = port_of(&listener);
    let health = serve(listener, "200 OK");
    let explicit = Some("http://127.0.0.1:1000/".to_string());
    let url = base_url_or_probe(explicit, [port], Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(url, "http://127.0.0.1:1000");
    assert_eq!(
        health.load(Ordering::SeqCst),
        0,
        "a port was probed despite an explicit URL"
    );
    let bad = base_url_or_probe(Some("localhost:1000".into()), [port], Duration::from_secs(5)).await;
    assert!(matches!(bad, Err(ClientError::InvalidBaseUrl { .. })), "{bad:?}");
    // Without one, the same port is found.
    let url = base_url_or_probe(None, [port], Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(url, format!("http://127.0.0.1:{port}"));
}

#[tokio::test]
async fn nothing_found_is_a_typed_error_saying_what_was_probed_and_how_to_set_the_url() {
    let _range = RANGE.lock().await;
    let (Some(a), Some(b)) = (free_port_in_range().await, free_port_in_range().await) else {
        eprintln!("skipped: fewer than two free ports in {DISCOVERY_PORTS:?}");
        return;
    };
    let ports = [port_of(&a), port_of(&b)];
    serve(a, "503 Service Unavailable");
    serve(b, "404 Not Found");
    let error = probe(ports, Duration::from_secs(5)).await.unwrap_err();
    assert!(
        matches!(
            error,
            ClientError::NotFound {
                env: "PIECES_BASE_URL",
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        format!(
            "no PiecesOS found: HEAD /.well-known/health on 127.0.0.1:{},{} did not answer 200; \
             start it, or set PIECES_BASE_URL to its URL",
            ports[0], ports[1]
        )
    );
}
