//! A raw loopback HTTP/1.1 server for tests that need what a mock server cannot do: drop a
//! connection after the request arrived, cut a body short, send real `Retry-After` headers, or
//! answer after a delay on tokio's clock (virtual time under a paused clock, unlike httpmock's
//! real sleeps). It records every request line (`"METHOD /path?query"`).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// What the server does with one request, given its request line and how many requests with
/// that line came before: answer with these bytes (then close the connection if they say
/// `connection: close`), or drop the connection unanswered.
pub type Behaviour = Arc<dyn Fn(&str, usize) -> Option<String> + Send + Sync>;

/// How long the server waits before answering a request line (on tokio's clock).
pub type Delay = Arc<dyn Fn(&str) -> Duration + Send + Sync>;

/// Most bytes of one request the server reads (head and body); a longer one closes the
/// connection.
const MAX_REQUEST: usize = 64 * 1024;

/// A server that records every request line and answers as its [`Behaviour`] says.
pub struct Raw {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Raw {
    /// Answers at once.
    pub async fn start(behaviour: Behaviour) -> Self {
        Self::start_with_delay(behaviour, Arc::new(|_| Duration::ZERO)).await
    }

    /// Answers each request after `delay(line)`.
    pub async fn start_with_delay(behaviour: Behaviour, delay: Delay) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let seen: Arc<Mutex<Vec<String>>> = Arc::default();
        let log = seen.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let (log, behaviour, delay) = (log.clone(), behaviour.clone(), delay.clone());
                tokio::spawn(async move {
                    let mut buffer = Vec::new();
                    loop {
                        let Some(line) = read_request(&mut socket, &mut buffer).await else {
                            return;
                        };
                        let before = {
                            let mut log = log.lock().unwrap();
                            let before = log.iter().filter(|l| **l == line).count();
                            log.push(line.clone());
                            before
                        };
                        tokio::time::sleep(delay(&line)).await;
                        match behaviour(&line, before) {
                            Some(response) => {
                                if socket.write_all(response.as_bytes()).await.is_err()
                                    || response.contains("\r\nconnection: close\r\n")
                                {
                                    return;
                                }
                            }
                            None => return, // drop the connection: the request did arrive
                        }
                    }
                });
            }
        });
        Self { base, seen }
    }

    /// How many requests had this request line.
    pub fn count(&self, line: &str) -> usize {
        self.seen.lock().unwrap().iter().filter(|l| *l == line).count()
    }

    /// Every request line received, with how many times.
    pub fn counts(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for line in self.seen.lock().unwrap().iter() {
            *counts.entry(line.clone()).or_default() += 1;
        }
        counts
    }
}

/// Reads one request (head and `Content-Length` body) from a keep-alive connection, keeping
/// what arrived beyond it in `buffer`; its request line without the version.
async fn read_request(socket: &mut tokio::net::TcpStream, buffer: &mut Vec<u8>) -> Option<String> {
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 || buffer.len() + n > MAX_REQUEST {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).to_string();
    let length: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().to_string())
        })
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    if head_end + length > MAX_REQUEST {
        return None;
    }
    while buffer.len() < head_end + length {
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
    buffer.drain(..head_end + length);
    let line = head.lines().next()?;
    Some(line.rsplit_once(' ').map_or(line, |(l, _)| l).to_string())
}

/// A JSON response with `status` (`"200 OK"`), `body` and `extra` header lines (each ending in
/// `\r\n`).
pub fn json(status: &str, body: &str, extra: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n{extra}\r\n{body}",
        body.len()
    )
}
