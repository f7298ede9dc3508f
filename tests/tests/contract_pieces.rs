//! Contract tests for `specs/pieces.yaml`: one test per operation, named after its operationId,
//! plus the identifiers WebSocket against a local WebSocket server.

use contract_tests::{Reply, Spec, mock_operation, undeclared};
use futures::{SinkExt, StreamExt};
use httpmock::MockServer;
use pieces_api::{Client, ClientError, types};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

/// How long a test waits for a stream item, a body chunk or a server task before it fails
/// instead of hanging (real sockets on loopback: a healthy wait takes milliseconds).
const WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Awaits `future`, failing the test with `what` if it takes longer than [`WAIT`].
async fn within<F: std::future::Future>(what: &str, future: F) -> F::Output {
    match tokio::time::timeout(WAIT, future).await {
        Ok(output) => output,
        Err(_) => panic!("{what}: nothing within {WAIT:?}"),
    }
}

fn client(server: &MockServer) -> Client {
    Client::with_base_url(&server.base_url()).expect("valid test configuration")
}

/// A declared 500 `text/plain` arrives as `ErrorResponse` with the status and the text body.
async fn assert_text_500(err: pieces_api::Error<pieces_api::ByteStream>, expected: &str) {
    match err {
        pieces_api::Error::ErrorResponse(rv) => {
            assert_eq!(rv.status().as_u16(), 500);
            let mut stream = rv.into_inner().into_inner();
            let mut body = Vec::new();
            while let Some(chunk) = within("the 500 body", stream.next()).await {
                body.extend_from_slice(&chunk.expect("body chunk"));
            }
            assert_eq!(String::from_utf8_lossy(&body), expected);
        }
        other => panic!("expected a declared 500, got {other:?}"),
    }
}

#[tokio::test]
async fn conversations_create_from_asset() {
    let spec = Spec::load("pieces");
    let id = "conversations_create_from_asset";
    let asset = "2254f2c8-5797-40e8-ac56-41166dc0e159";
    let server = MockServer::start_async().await;
    let example = spec.examples(id, "200")[0].clone();
    let (mock, captured) = mock_operation(
        &server,
        &spec,
        id,
        &[("asset", asset)],
        &[],
        &[],
        200,
        Reply::Json(example.clone()),
    )
    .await;
    let asset_id: uuid::Uuid = asset.parse().unwrap();
    let out = client(&server)
        .conversations_create_from_asset()
        .asset(asset_id)
        .send()
        .await
        .expect("200 decodes");
    mock.assert_async().await;
    assert_eq!(
        out.conversation.id,
        example["conversation"]["id"].as_str().unwrap()
    );
    assert_eq!(
        captured.bodies(),
        vec![serde_json::Value::Null],
        "no request body"
    );

    // A hydrated `reference` (as with transferables) decodes and round-trips untouched.
    let server = MockServer::start_async().await;
    let conversation = contract_tests::fixture("pieces/conversations.json")["iterable"][0].clone();
    let hydrated = json!({"conversation": {"id": conversation["id"], "reference": conversation}, "schema": {"migration": 0, "semantic": "MAJOR_0_MINOR_0_PATCH_2"}});
    spec.validate_response(id, "200", &hydrated).unwrap();
    mock_operation(
        &server,
        &spec,
        id,
        &[("asset", asset)],
        &[],
        &[],
        200,
        Reply::Json(hydrated.clone()),
    )
    .await;
    let out = client(&server)
        .conversations_create_from_asset()
        .asset(asset_id)
        .send()
        .await
        .expect("hydrated decodes");
    assert_eq!(
        serde_json::to_value(&out.conversation.reference).unwrap(),
        hydrated["conversation"]["reference"]
    );
    assert_eq!(
        out.schema.as_ref().unwrap().semantic,
        types::EmbeddedModelSchemaSemanticVersionEnum::Unknown("MAJOR_0_MINOR_0_PATCH_2".into())
    );

    let server = MockServer::start_async().await;
    mock_operation(
        &server,
        &spec,
        id,
        &[("asset", asset)],
        &[],
        &[],
        500,
        Reply::Text("Asset not found".into()),
    )
    .await;
    let err = client(&server)
        .conversations_create_from_asset()
        .asset(asset_id)
        .send()
        .await
        .unwrap_err();
    assert_text_500(err, "Asset not found").await;
}

#[tokio::test]
async fn conversations_create_specific_conversation() {
    let spec = Spec::load("pieces");
    let id = "conversations_create_specific_conversation";
    let server = MockServer::start_async().await;
    let example = spec.examples(id, "200")[0].clone();
    let (mock, captured) = mock_operation(
        &server,
        &spec,
        id,
        &[],
        &[("transferables", "false")],
        &[],
        200,
        Reply::Json(example.clone()),
    )
    .await;
    let created = client(&server)
        .conversations_create_specific_conversation()
        .transferables(false)
        .body_map(|b| {
            b.name("Release planning".to_string())
                .type_(types::ConversationTypeEnum::Copilot)
        })
        .send()
        .await
        .expect("200 decodes");
    mock.assert_async().await;
    assert_eq!(created.id, example["id"].as_str().unwrap());
    assert_eq!(created.type_, types::ConversationTypeEnum::Copilot);
    assert_eq!(
        created.created.value.to_rfc3339(),
        "2023-10-26T15:30:01.617743+00:00"
    );
    let body = &captured.bodies()[0];
    spec.validate_request(id, body).unwrap();
    assert_eq!(body, &json!({"name": "Release planning", "type": "COPILOT"}));

    // The query parameter is optional: without it, none is sent.
    let server = MockServer::start_async().await;
    let (mock, _) = mock_operation(&server, &spec, id, &[], &[], &[], 200, Reply::Json(example)).await;
    let without = client(&server)
        .conversations_create_specific_conversation()
        .body_map(|b| b.type_(types::ConversationTypeEnum::Copilot))
        .send()
        .await;
    assert!(without.is_ok());
    mock.assert_async().await;

    let server = MockServer::start_async().await;
    mock_operation(&server, &spec, id, &[], &[], &[], 500, Reply::Text("boom".into())).await;
    let err = client(&server)
        .conversations_create_specific_conversation()
        .body_map(|b| b.type_(types::ConversationTypeEnum::Copilot))
        .send()
        .await
        .unwrap_err();
    assert_text_500(err, "boom").await;
}

#[tokio::test]
async fn conversations_delete_specific_conversation() {
    let spec = Spec::load("pieces");
    let id = "conversations_delete_specific_conversation";
    let conversation = "0c6f4b1e-9d1a-4e0c-8f2b-3a5d7e9c1b24";
    let server = MockServer::start_async().await;
    let (mock, captured) = mock_operation(
        &server,
        &spec,
        id,
        &[("conversation", conversation)],
        &[],
        &[],
        204,
        Reply::Empty,
    )
    .await;
    let done = client(&server)
        .conversations_delete_specific_conversation()
        .conversation(conversation)
        .send()
        .await;
    assert_eq!(done.expect("204 accepted").status().as_u16(), 204);
    mock.assert_async().await;
    assert_eq!(
        captured.bodies(),
        vec![serde_json::Value::Null],
        "delete is a POST without a body"
    );

    // Ids are one path segment: characters that would change the path are percent-encoded.
    let server = MockServer::start_async().await;
    let (mock, _) = mock_operation(
        &server,
        &spec,
        id,
        &[("conversation", "a%2F..%2Fb%3Fx%23y")],
        &[],
        &[],
        204,
        Reply::Empty,
    )
    .await;
    let done = client(&server)
        .conversations_delete_specific_conversation()
        .conversation("a/../b?x#y")
        .send()
        .await;
    assert!(done.is_ok(), "{done:?}");
    mock.assert_async().await;

    let server = MockServer::start_async().await;
    mock_operation(
        &server,
        &spec,
        id,
        &[("conversation", "nope")],
        &[],
        &[],
        500,
        Reply::Text("Conversation nope was not found.".into()),
    )
    .await;
    let err = client(&server)
        .conversations_delete_specific_conversation()
        .conversation("nope")
        .send()
        .await
        .unwrap_err();
    assert_text_500(err, "Conversation nope was not found.").await;
}

#[tokio::test]
async fn conversations_identifiers_snapshot() {
    let spec = Spec::load("pieces");
    let id = "conversations_identifiers_snapshot";
    let server = MockServer::start_async().await;
    let example = spec.examples(id, "200")[0].clone();
    let (mock, _) = mock_operation(
        &server,
        &spec,
        id,
        &[],
        &[],
        &[],
        200,
        Reply::Json(example.clone()),
    )
    .await;
    let ids = client(&server)
        .conversations_identifiers_snapshot()
        .send()
        .await
        .expect("200 decodes");
    mock.assert_async().await;
    assert_eq!(ids.iterable[0].id, example["iterable"][0]["id"].as_str().unwrap());
    assert_eq!(ids.indices.as_ref().map(|i| i.len()), Some(1));

    // A deleted id stays in `indices` with -1 and may be absent from `iterable`.
    let server = MockServer::start_async().await;
    let with_deleted = json!({"iterable": [{"id": "a"}], "indices": {"a": 0, "b": -1}, "unknown": true});
    spec.validate_response(id, "200", &with_deleted).unwrap();
    mock_operation(&server, &spec, id, &[], &[], &[], 200, Reply::Json(with_deleted)).await;
    let ids = client(&server)
        .conversations_identifiers_snapshot()
        .send()
        .await
        .expect("decodes");
    assert_eq!(ids.indices.as_ref().unwrap()["b"], -1);

    let server = MockServer::start_async().await;
    mock_operation(
        &server,
        &spec,
        id,
        &[],
        &[],
        &[],
        500,
        Reply::Text("db locked".into()),
    )
    .await;
    assert_text_500(
        client(&server)
            .conversations_identifiers_snapshot()
            .send()
            .await
            .unwrap_err(),
        "db locked",
    )
    .await;
}

#[tokio::test]
async fn conversations_snapshot() {
    let spec = Spec::load("pieces");
    let id = "conversations_snapshot";
    let server = MockServer::start_async().await;
    let example = spec.examples(id, "200")[0].clone();
    let (mock, _) = mock_operation(
        &server,
        &spec,
        id,
        &[],
        &[("transferables", "true")],
        &[],
        200,
        Reply::Json(example),
    )
    .await;
    let all = client(&server)
        .conversations_snapshot()
        .transferables(true)
        .send()
        .await
        .expect("200 decodes");
    mock.assert_async().await;
    assert_eq!(all.iterable.len(), 1);

    // Real-shaped snapshot: unknown enum values, extra fields, offsets, -1 indices.
    let server = MockServer::start_async().await;
    let snapshot = contract_tests::fixture("pieces/conversations.json");
    spec.validate_response(id, "200", &snapshot).unwrap();
    mock_operation(&server, &spec, id, &[], &[], &[], 200, Reply::Json(snapshot)).await;
    let all = client(&server)
        .conversations_snapshot()
        .send()
        .await
        .expect("fixture decodes");
    assert_eq!(all.iterable.len(), 2);
    assert_eq!(
        all.iterable[1].type_,
        types::ConversationTypeEnum::Unknown("ASSISTANT_V2".into())
    );
    assert_eq!(
        all.iterable[0].messages.indices.as_ref().unwrap()["deadbeef-0000-4000-8000-000000000000"],
        -1
    );
    assert_eq!(
        all.iterable[1].created.value.to_rfc3339(),
        "2024-01-02T02:04:05+00:00"
    );

    let server = MockServer::start_async().await;
    mock_operation(
        &server,
        &spec,
        id,
        &[],
        &[],
        &[],
        500,
        Reply::Text("internal".into()),
    )
    .await;
    assert_text_500(
        client(&server).conversations_snapshot().send().await.unwrap_err(),
        "internal",
    )
    .await;
}

/// Starts a one-connection WebSocket server that sends `frames` and closes.
#[allow(clippy::result_large_err)] // the handshake callback signature is tungstenite's
async fn ws_server(frames: Vec<Message>) -> (String, tokio::task::JoinHandle<String>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let hits = contract_tests::hits::current();
    let operation = Spec::load("pieces").operation("conversations_stream_identifiers");
    let handle = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let mut path = String::new();
        let callback =
            |req: &tokio_tungstenite::tungstenite::handshake::server::Request,
             resp: tokio_tungstenite::tungstenite::handshake::server::Response| {
                path = req.uri().path().to_string();
                if path == operation.path {
                    hits.record("pieces", &operation.id);
                }
                Ok(resp)
            };
        let mut ws = tokio_tungstenite::accept_hdr_async(stream, callback)
            .await
            .unwrap();
        for frame in frames {
            ws.send(frame).await.unwrap();
        }
        ws.close(None).await.unwrap();
        path
    });
    (url, handle)
}

#[tokio::test]
async fn conversations_stream_identifiers() {
    let spec = Spec::load("pieces");
    let first = json!({"iterable": [{"conversation": {"id": "c-1"}, "deleted": false}, {"conversation": {"id": "c-2"}}]});
    let added = json!({"iterable": [{"conversation": {"id": "c-3"}, "updated": {"value": "2024-05-01T10:00:00.000001Z"}, "workstream_summary": {"id": "w"}}]});
    let deleted = spec.raw()["components"]["schemas"]["StreamedIdentifiers"]["example"].clone();
    for frame in [&first, &added, &deleted] {
        spec.validate_component("StreamedIdentifiers", frame).unwrap();
    }
    let (url, server) = ws_server(vec![
        Message::text(first.to_string()),
        Message::text(added.to_string()),
        Message::text("this is not json"),
        Message::Ping(vec![1].into()),
        Message::text(deleted.to_string()),
    ])
    .await;
    let client = Client::with_base_url(&url).unwrap();
    let mut stream = within("the upgrade", client.stream_identifiers())
        .await
        .expect("the upgrade succeeds");

    let frame = within("the first frame", stream.next())
        .await
        .expect("a first frame")
        .expect("first frame");
    let ids: Vec<_> = frame
        .iterable
        .iter()
        .filter_map(|i| i.conversation.as_ref().map(|c| c.id.clone()))
        .collect();
    assert_eq!(ids, ["c-1", "c-2"]);
    let frame = within("the incremental frame", stream.next())
        .await
        .expect("a second frame")
        .expect("incremental frame");
    assert_eq!(frame.iterable[0].conversation.as_ref().unwrap().id, "c-3");
    assert!(frame.iterable[0].updated.is_some());
    match within("the bad frame", stream.next()).await {
        Some(Err(ClientError::Decode { excerpt, .. })) => assert_eq!(excerpt, "this is not json"),
        other => panic!("expected a decode error, got {other:?}"),
    }
    let frame = within("the frame after the bad one", stream.next())
        .await
        .expect("a frame after the bad one")
        .expect("the stream goes on after a bad frame");
    assert_eq!(frame.iterable[0].deleted, Some(true));
    assert!(
        within("the end of the stream", stream.next()).await.is_none(),
        "server close ends the stream"
    );
    assert_eq!(
        within("the WebSocket server", server).await.unwrap(),
        spec.operation("conversations_stream_identifiers").path
    );

    // A server that refuses the upgrade gives a typed error, not a hang or a panic.
    let http = MockServer::start_async().await;
    mock_operation(
        &http,
        &spec,
        "conversations_stream_identifiers",
        &[],
        &[],
        &[],
        500,
        Reply::Text("no".into()),
    )
    .await;
    let refused = Client::with_base_url(&http.base_url())
        .unwrap()
        .stream_identifiers()
        .await;
    assert!(
        matches!(refused, Err(ClientError::Upgrade(ref m)) if m.contains("500")),
        "{refused:?}"
    );
    // The raw generated call keeps the refusing response's status and body.
    let err = Client::with_base_url(&http.base_url())
        .unwrap()
        .conversations_stream_identifiers()
        .send()
        .await
        .unwrap_err();
    assert_eq!(undeclared(err).await, (500, "no".to_string()));
}

#[tokio::test]
async fn identifier_frames_that_are_garbage_or_too_large_are_typed_errors() {
    let good = json!({"iterable": [{"conversation": {"id": "c-1"}}]}).to_string();
    let (url, server) = ws_server(vec![
        Message::binary(vec![0xff, 0xfe, 0x00, 0xc3]),
        Message::text("{\"iterable\": [{\"conversation\": {\"id\": 7}}]}"),
        Message::text(good),
        Message::text("x".repeat(pieces_api::MAX_FRAME_BYTES + 1)),
    ])
    .await;
    let client = Client::with_base_url(&url).unwrap();
    let mut stream = within("the upgrade", client.stream_identifiers())
        .await
        .expect("the upgrade succeeds");
    match within("the binary frame", stream.next()).await {
        Some(Err(ClientError::Decode { excerpt, .. })) => assert_eq!(excerpt, "\u{fffd}\u{fffd}\0\u{fffd}"),
        other => panic!("binary garbage: {other:?}"),
    }
    assert!(
        matches!(
            within("the wrongly typed frame", stream.next()).await,
            Some(Err(ClientError::Decode { .. }))
        ),
        "a wrong type is a decode error"
    );
    let frame = within("the good frame", stream.next())
        .await
        .expect("a third frame")
        .expect("a good frame after bad ones");
    assert_eq!(frame.iterable[0].conversation.as_ref().unwrap().id, "c-1");
    match within("the oversized frame", stream.next()).await {
        Some(Err(ClientError::WebSocket(_))) => {}
        other => panic!("a frame over MAX_FRAME_BYTES: {other:?}"),
    }
    assert!(
        within("the end of the stream", stream.next()).await.is_none(),
        "the stream ends after a protocol error"
    );
    drop(stream); // closes the socket, so a server still sending the oversized frame stops
    let _ = within("the WebSocket server", server).await; // whether its send finished first depends on socket buffers
}

/// Each operation's test above runs again here, alone on this thread, and must send a request
/// its operation's mock serves: a test with the right name and an empty body fails this one.
#[test]
fn every_operation_is_exercised_by_its_test() {
    contract_tests::hits::assert_every_operation_exercised(
        "pieces",
        &[
            ("conversations_create_from_asset", conversations_create_from_asset),
            (
                "conversations_create_specific_conversation",
                conversations_create_specific_conversation,
            ),
            (
                "conversations_delete_specific_conversation",
                conversations_delete_specific_conversation,
            ),
            (
                "conversations_identifiers_snapshot",
                conversations_identifiers_snapshot,
            ),
            ("conversations_snapshot", conversations_snapshot),
            (
                "conversations_stream_identifiers",
                conversations_stream_identifiers,
            ),
        ],
    );
}
