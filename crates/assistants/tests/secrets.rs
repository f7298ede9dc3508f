//! Keys never reach tracing output, errors or Debug, even at TRACE level.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use assistants::{Client, Config, NoInput, PollPolicy};
use assistants_sandbox::{DEFAULT_API_KEY, Sandbox};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut out) = self.0.lock() {
            out.extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn keys_never_appear_in_traces_errors_or_debug() {
    const FLOWHUNT_KEY: &str = "fh_trace_secret_42";
    let captured = Captured::default();
    let sink = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::FULL)
        .with_writer(move || sink.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let sandbox = Sandbox::start().await.unwrap();
    let mut config = Config::default()
        .with_base_url(&sandbox.base_url())
        .with_flowhunt(FLOWHUNT_KEY, "ws")
        .with_flowgen_key(DEFAULT_API_KEY);
    config.settings.poll = PollPolicy::fixed(Duration::from_millis(1));
    let client = Client::new(config);
    let outcome = client
        .flowhunt()
        .unwrap()
        .create_session()
        .await
        .unwrap()
        .ask_once("hello")
        .await
        .unwrap();
    assert!(outcome.answer().is_some());
    let flowgen = client.flowgen().unwrap();
    let chat = flowgen.create_chat("t", "f").await.unwrap();
    flowgen.send_and_wait(&chat.id, "hi", NoInput).await.unwrap();
    // A refused key: the error names the problem, not the key.
    let wrong = Client::new(
        Config::default()
            .with_base_url(&sandbox.base_url())
            .with_flowgen_key("fg_wrong_secret_7"),
    );
    let err = wrong.flowgen().unwrap().list_chats().await.unwrap_err();
    assert_eq!(err.status(), Some(403));

    let logs = String::from_utf8_lossy(&captured.0.lock().unwrap()).into_owned();
    assert!(
        logs.contains("wait") && logs.contains("call"),
        "spans were recorded: {logs}"
    );
    for secret in [FLOWHUNT_KEY, DEFAULT_API_KEY, "fg_wrong_secret_7"] {
        assert!(!logs.contains(secret), "{secret} leaked into traces");
        assert!(!err.to_string().contains(secret) && !format!("{err:?}").contains(secret));
        assert!(!format!("{client:?}").contains(secret) && !format!("{wrong:?}").contains(secret));
    }
}
