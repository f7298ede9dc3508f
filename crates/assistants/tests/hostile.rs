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

fn ok<T>(result: Result<T, Error>) -> Result<(), Error> {
    result.map(drop)
}

/// Every operation whose answer is decoded, of every service, as one call on `base`.
async fn every_decoding_call(base: &str) -> Vec<(&'static str, Result<(), Error>)> {
    use assistants::{FlowHunt, Pieces};
    let settings = Settings::default()
        .with_retry(RetryPolicy::disabled())
        .with_max_body_bytes(64 * 1024)
        .with_operation_timeout(Some(Duration::from_secs(20)));
    let fg = FlowGen::new(
        flowgen_api::Client::with_api_key(base, "k".into()).unwrap(),
        settings.clone(),
    );
    let fh = FlowHunt::new(
        flowhunt_api::Client::with_api_key(base, "k".into()).unwrap(),
        Some("w".into()),
        settings.clone(),
    );
    let pieces = Pieces::new(pieces_api::Client::with_base_url(base).unwrap(), settings);
    let resumed = {
        let mut stream = fh.session("s1").resume(assistants::Cursor::at("s1", 1));
        crate::next(&mut stream).await.map_or(Ok(()), ok)
    };
    vec![
        ("get_chat", ok(fg.get_chat("c1").await)),
        ("list_chats", ok(fg.list_chats().await)),
        ("get_messages", ok(fg.history("c1").await)),
        ("create_chat", ok(fg.create_chat("n", "f").await)),
        ("send_input", ok(fg.send_input("c1", "yes").await)),
        ("create_v3_flow_assistant_session", ok(fh.create_session().await)),
        (
            "invoke_v3_flow_assistant_response",
            ok(crate::within(fh.session("s1").ask_once("hi")).await),
        ),
        ("poll_v3_flow_assistant_response", resumed),
        (
            "conversations_create_specific_conversation",
            ok(pieces.create("n").await),
        ),
        (
            "conversations_create_from_asset",
            ok(pieces
                .create_from_asset("5c8e8e0c-3d7f-4c43-9b8e-3b6f4c5c1a2b")
                .await),
        ),
        ("conversations_snapshot", ok(pieces.list().await)),
        ("conversations_identifiers_snapshot", ok(pieces.ids().await)),
    ]
}

#[tokio::test]
async fn every_response_type_of_every_service_turns_hostile_answers_into_typed_errors() {
    let mut invalid_utf8 = br#"{"id":"#.to_vec();
    invalid_utf8.extend_from_slice(&[0xff, 0xfe, 0xfd]);
    let hostile: Vec<(&str, u16, &str, Vec<u8>)> = vec![
        (
            "truncated JSON",
            200,
            "application/json",
            br#"{"id":"c1","na"#.to_vec(),
        ),
        (
            "an HTML page",
            200,
            "text/html",
            b"<html><body>Sign in</body></html>".to_vec(),
        ),
        ("invalid UTF-8", 200, "application/json", invalid_utf8),
        ("null", 200, "application/json", b"null".to_vec()),
        ("a wrong type", 200, "application/json", br#"[1,2,3]"#.to_vec()),
        (
            "a huge body",
            200,
            "application/json",
            vec![b'['; 8 * 1024 * 1024],
        ),
        ("a huge error page", 500, "text/html", vec![b'x'; 8 * 1024 * 1024]),
    ];
    for (what, status, content_type, body) in hostile {
        let server = MockServer::start_async().await;
        server
            .mock_async(|when, then| {
                when.any_request();
                then.status(status)
                    .header("content-type", content_type)
                    .body(body.clone());
            })
            .await;
        for (operation, result) in every_decoding_call(&server.base_url()).await {
            let error = result.expect_err(&format!("{operation} accepted {what}"));
            assert!(
                matches!(
                    error,
                    Error::Decode { .. } | Error::Api { .. } | Error::TooLarge { .. }
                ),
                "{operation} on {what}: {error:?}"
            );
            assert!(
                error.to_string().len() < 2048,
                "{operation} on {what}: a short message"
            );
        }
    }
}
