//! Hostile answers become typed errors with a bounded excerpt of the body, never panics.

use std::time::Duration;

use assistants::{Error, FlowGen, RetryPolicy, Settings};
use httpmock::MockServer;

fn flowgen(server: &MockServer) -> FlowGen {
    let settings = Settings::default()
        .with_retry(
            RetryPolicy::standard()
                .with_initial_delay(Duration::from_millis(1))
                .with_max_delay(Duration::from_millis(2)),
        )
        .with_max_body_bytes(64 * 1024);
    FlowGen::new(
        flowgen_api::Client::with_api_key(&server.base_url(), "k".into()).unwrap(),
        settings,
    )
}

async fn answer(status: u16, content_type: &str, body: Vec<u8>) -> Error {
    let server = MockServer::start_async().await;
    let content_type = content_type.to_string();
    server
        .mock_async(move |when, then| {
            when.method("GET").path("/chats/c1");
            then.status(status)
                .header("content-type", content_type.as_str())
                .body(body.clone());
        })
        .await;
    flowgen(&server)
        .get_chat("c1")
        .await
        .expect_err("a hostile answer is an error")
}

fn excerpt_of(error: &Error) -> String {
    match error {
        Error::Decode { excerpt, .. } => excerpt.clone(),
        Error::Api { body, .. } => body.clone(),
        other => panic!("expected a decode or API error, got {other:?}"),
    }
}

const CHAT: &str =
    r#"{"name":"n","from_type":"flow","owner":"o","id":"c1","status":"running","created":"t","updated":"t"}"#;

#[tokio::test]
async fn malformed_successes_are_decode_errors_with_excerpts() {
    let truncated = answer(200, "application/json", CHAT.as_bytes()[..40].to_vec()).await;
    assert!(matches!(truncated, Error::Decode { .. }), "{truncated}");
    assert!(excerpt_of(&truncated).starts_with(r#"{"name":"n""#));

    let missing = answer(200, "application/json", br#"{"name":"n"}"#.to_vec()).await;
    assert!(excerpt_of(&missing).contains("name"), "{missing}");
    assert!(missing.to_string().contains("missing field"), "{missing}");

    let null = answer(
        200,
        "application/json",
        CHAT.replace(r#""id":"c1""#, r#""id":null"#).into_bytes(),
    )
    .await;
    assert!(matches!(null, Error::Decode { .. }), "{null}");

    let not_json = answer(200, "text/plain", b"hello".to_vec()).await;
    assert_eq!(excerpt_of(&not_json), "hello");

    let mut invalid_utf8 = CHAT.as_bytes()[..20].to_vec();
    invalid_utf8.extend_from_slice(&[0xff, 0xfe, 0xfd]);
    let bad = answer(200, "application/json", invalid_utf8).await;
    assert!(matches!(bad, Error::Decode { .. }), "{bad}");
    assert!(
        excerpt_of(&bad).contains('\u{fffd}'),
        "invalid bytes are shown replaced, not trusted"
    );
}

#[tokio::test]
async fn error_pages_keep_status_and_a_bounded_excerpt() {
    let html = answer(
        502,
        "text/html",
        b"<html><body><h1>502 Bad Gateway</h1></body></html>".to_vec(),
    )
    .await;
    assert_eq!(html.status(), Some(502));
    assert!(html.to_string().contains("502 Bad Gateway"), "{html}");

    // Far larger than any real answer: read up to max_body_bytes, excerpt cut to 512 chars.
    let huge = answer(500, "text/plain", vec![b'x'; 8 * 1024 * 1024]).await;
    assert_eq!(huge.status(), Some(500));
    let excerpt = excerpt_of(&huge);
    assert!(excerpt.chars().count() <= 513, "{}", excerpt.len());
    assert!(huge.to_string().len() < 2048, "the message stays short");

    // A malformed success body within the limit: a decode error with a bounded excerpt.
    let malformed = answer(200, "application/json", vec![b'['; 32 * 1024]).await;
    assert!(matches!(malformed, Error::Decode { .. }), "{malformed}");
    assert!(excerpt_of(&malformed).chars().count() <= 513);

    // A success body over the limit, even one that would decode, stops being read at the
    // limit (memory stays bounded) and says which setting to raise.
    let mut big_chat = br#"{"id":"c1","name":""#.to_vec();
    big_chat.extend(vec![b'x'; 8 * 1024 * 1024]);
    big_chat.extend(br#"","status":"completed","created":"","updated":""}"#);
    let too_large = answer(200, "application/json", big_chat).await;
    assert!(
        matches!(too_large, Error::TooLarge { limit: 65536, .. }),
        "{too_large:?}"
    );
    assert_eq!(too_large.kind(), assistants::ErrorKind::TooLarge);
    assert!(too_large.to_string().contains("max_body_bytes"), "{too_large}");
}
