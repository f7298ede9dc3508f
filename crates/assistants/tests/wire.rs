//! Against a raw loopback server that misbehaves on purpose: connections dropped after the
//! request arrived (a non-idempotent call must then be sent exactly once), and real
//! `Retry-After` headers (seconds and HTTP dates) honoured on virtual time.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use assistants::{Error, FlowGen, FlowHunt, NoInput, Pieces, RetryPolicy, Settings};

use crate::raw::{Behaviour, Raw, json};
use crate::within;

fn eager() -> Settings {
    Settings::default().with_retry(
        RetryPolicy::standard()
            .with_max_attempts(5)
            .with_initial_delay(Duration::from_millis(1))
            .with_max_delay(Duration::from_millis(2)),
    )
}

fn drop_everything() -> Behaviour {
    Arc::new(|_, _| None)
}

#[tokio::test]
async fn a_dropped_connection_after_the_request_arrived_never_resends_a_non_idempotent_call() {
    let raw = Raw::start(drop_everything()).await;
    let fg = FlowGen::new(
        flowgen_api::Client::with_api_key(&raw.base, "k".into()).unwrap(),
        eager(),
    );
    let fh = FlowHunt::new(
        flowhunt_api::Client::with_api_key(&raw.base, "k".into()).unwrap(),
        Some("w".into()),
        eager(),
    );
    let pieces = Pieces::new(pieces_api::Client::with_base_url(&raw.base).unwrap(), eager());

    assert!(matches!(
        fg.create_chat("n", "flow").await,
        Err(Error::Transport { not_sent: false, .. })
    ));
    assert!(fg.send_input("chat1", "yes").await.is_err());
    assert!(fh.create_session().await.is_err());
    assert!(pieces.create("n").await.is_err());
    assert!(within(fh.session("s1").ask_once("hello")).await.is_err());
    for line in [
        "POST /chats",
        "POST /chats/chat1/input",
        "POST /v3/flow-assistants/create?workspace_id=w",
        "POST /conversations/create",
        "POST /v3/flow-assistants/s1/invoke",
    ] {
        assert_eq!(raw.count(line), 1, "{line} was sent once");
    }
    // An idempotent read is retried through the same drops.
    assert!(fg.get_chat("chat1").await.is_err());
    assert_eq!(
        raw.count("GET /chats/chat1"),
        5,
        "a read is retried to the policy's attempts"
    );
}

#[tokio::test]
async fn a_send_that_reached_the_server_is_sent_once_even_while_its_turn_goes_on() {
    let chat = r#"{"id":"c1","name":"n","status":"ready","created":"2024-03-14 08:21:05.412Z","updated":"2024-03-14 08:21:05.412Z","from_type":"flow","owner":""}"#;
    let raw = Raw::start(Arc::new(move |line, _| match line {
        "GET /chats/c1" => Some(json("200 OK", chat, "")),
        "GET /chats/c1/messages" => Some(json("200 OK", "[]", "")),
        _ => None,
    }))
    .await;
    let fg = FlowGen::new(
        flowgen_api::Client::with_api_key(&raw.base, "k".into()).unwrap(),
        eager(),
    );
    assert!(within(fg.send_and_wait("c1", "hello", NoInput)).await.is_err());
    assert_eq!(raw.count("POST /chats/c1/messages"), 1);
}

#[tokio::test]
async fn a_503_on_send_input_is_not_retried() {
    let raw = Raw::start(Arc::new(|_, _| {
        Some(json("503 Service Unavailable", r#"{"error":"busy"}"#, ""))
    }))
    .await;
    let fg = FlowGen::new(
        flowgen_api::Client::with_api_key(&raw.base, "k".into()).unwrap(),
        eager(),
    );
    let err = fg.send_input("c1", "yes").await.unwrap_err();
    assert_eq!(err.status(), Some(503));
    assert_eq!(raw.count("POST /chats/c1/input"), 1, "the answer is given once");
}

/// The first request of each line is a 429 with `retry_after`, the next ones succeed.
fn throttled_once(retry_after: String) -> Behaviour {
    Arc::new(move |line, before| {
        let header = format!("retry-after: {retry_after}\r\n");
        if before == 0 {
            return Some(json(
                "429 Too Many Requests",
                r#"{"detail":"slow down"}"#,
                &header,
            ));
        }
        Some(match line {
            l if l.starts_with("GET /chats/") => json(
                "200 OK",
                r#"{"id":"c1","name":"n","status":"ready","created":"x","updated":"x","from_type":"flow","owner":""}"#,
                "",
            ),
            l if l.starts_with("GET /conversations/identifiers") => json("200 OK", r#"{"iterable":[]}"#, ""),
            l if l.contains("/invocation_response/") => json("200 OK", "[]", ""),
            _ => json("404 Not Found", r#"{"detail":"Not Found"}"#, ""),
        })
    })
}

#[tokio::test(start_paused = true)]
async fn a_real_retry_after_in_seconds_is_honoured_by_every_service() {
    let raw = Raw::start(throttled_once("2".into())).await;
    let fg = FlowGen::new(
        flowgen_api::Client::with_api_key(&raw.base, "k".into()).unwrap(),
        eager(),
    );
    let pieces = Pieces::new(pieces_api::Client::with_base_url(&raw.base).unwrap(), eager());
    let start = tokio::time::Instant::now();
    fg.get_chat("c1").await.unwrap();
    assert_eq!(
        start.elapsed(),
        Duration::from_secs(2),
        "FlowGen waited Retry-After"
    );
    let start = tokio::time::Instant::now();
    pieces.ids().await.unwrap();
    assert_eq!(
        start.elapsed(),
        Duration::from_secs(2),
        "Pieces waited Retry-After"
    );
    assert_eq!(raw.count("GET /chats/c1"), 2);
}

/// A FlowHunt server whose first events poll is a 429 with `retry_after`; the next poll answers.
/// Records, on the (paused) clock, when each poll arrived.
fn flowhunt_throttled_once(retry_after: String, polls: Arc<Mutex<Vec<tokio::time::Instant>>>) -> Behaviour {
    let event = r#"[{"workspace_id":"w","session_id":"s","event_id":"e1","event_type":"ai","created_at_timestamp":"1001","action_type":"message","credits":0,"metadata":{"message_id":"m","message":"done"}}]"#;
    Arc::new(move |line, before| {
        if line.starts_with("POST /v3/flow-assistants/s/invoke") {
            return Some(json("200 OK", r#"{"message_id":"m","created_at":"1000"}"#, ""));
        }
        polls.lock().unwrap().push(tokio::time::Instant::now());
        Some(if before == 0 {
            json(
                "429 Too Many Requests",
                r#"{"detail":"slow down"}"#,
                &format!("retry-after: {retry_after}\r\n"),
            )
        } else {
            json("200 OK", event, "")
        })
    })
}

/// Asks once through a FlowHunt server throttled with `retry_after`; how long after the first
/// poll the second came.
async fn flowhunt_wait_after_429(retry_after: String) -> Duration {
    let polls: Arc<Mutex<Vec<tokio::time::Instant>>> = Arc::default();
    let raw = Raw::start(flowhunt_throttled_once(retry_after, polls.clone())).await;
    let api = flowhunt_api::Client::with_api_key(&raw.base, "k".into()).unwrap();
    let fh = FlowHunt::new(api, Some("w".into()), eager());
    let outcome = within(fh.session("s").ask_once("hi")).await.unwrap();
    assert_eq!(outcome.answer(), Some("done"));
    let polls = polls.lock().unwrap();
    assert_eq!(polls.len(), 2, "one throttled poll, one answered");
    polls[1] - polls[0]
}

#[tokio::test(start_paused = true)]
async fn a_real_retry_after_in_seconds_is_honoured_by_flowhunt_polls() {
    assert_eq!(flowhunt_wait_after_429("2".into()).await, Duration::from_secs(2));
}

/// An HTTP date `seconds` from now (whole seconds: the format has no finer resolution).
fn http_date_in(seconds: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::seconds(seconds))
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string()
}

/// An HTTP date is read against the real clock while the test's clock is paused, and it has
/// whole seconds only: 3 s from now is a wait of more than 1 s and at most 3 s.
fn assert_date_wait(service: &str, waited: Duration) {
    assert!(
        waited > Duration::from_secs(1) && waited <= Duration::from_secs(3),
        "{service} waited {waited:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_real_retry_after_as_an_http_date_is_honoured_by_every_service() {
    let raw = Raw::start(throttled_once(http_date_in(3))).await;
    let fg = FlowGen::new(
        flowgen_api::Client::with_api_key(&raw.base, "k".into()).unwrap(),
        eager(),
    );
    let start = tokio::time::Instant::now();
    fg.get_chat("c1").await.unwrap();
    assert_date_wait("FlowGen", start.elapsed());

    let raw = Raw::start(throttled_once(http_date_in(3))).await;
    let pieces = Pieces::new(pieces_api::Client::with_base_url(&raw.base).unwrap(), eager());
    let start = tokio::time::Instant::now();
    pieces.ids().await.unwrap();
    assert_date_wait("Pieces", start.elapsed());

    assert_date_wait("FlowHunt", flowhunt_wait_after_429(http_date_in(3)).await);
}

#[tokio::test]
async fn a_body_cut_short_is_a_transport_error_not_one_too_large() {
    // The head promises 100 bytes; 10 arrive, then the connection closes.
    let raw = Raw::start(Arc::new(|_, _| {
        Some("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\nconnection: close\r\n\r\n{\"id\":\"c1".to_string())
    }))
    .await;
    let fg = FlowGen::new(
        flowgen_api::Client::with_api_key(&raw.base, "k".into()).unwrap(),
        eager(),
    );
    let error = fg.get_chat("c1").await.unwrap_err();
    assert!(
        matches!(error, Error::Transport { not_sent: false, .. }),
        "{error:?}"
    );
    assert_eq!(
        raw.count("GET /chats/c1"),
        5,
        "a read cut short is retried to the policy"
    );
}

#[tokio::test]
async fn a_body_past_the_limit_is_too_large_and_never_read_again() {
    let body = format!(r#"{{"id":"{}"}}"#, "x".repeat(100_000));
    let raw = Raw::start(Arc::new(move |_, _| Some(json("200 OK", &body, "")))).await;
    let fg = FlowGen::new(
        flowgen_api::Client::with_api_key(&raw.base, "k".into()).unwrap(),
        eager().with_max_body_bytes(1024),
    );
    let error = fg.get_chat("c1").await.unwrap_err();
    assert!(matches!(error, Error::TooLarge { limit: 1024, .. }), "{error:?}");
    assert_eq!(
        raw.count("GET /chats/c1"),
        1,
        "a body too large is final, not retried"
    );
}
