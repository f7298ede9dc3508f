//! Contract tests for `specs/flowhunt.yaml`: one test per operation, named after its operationId.

use contract_tests::{Reply, Spec, mock_operation, undeclared};
use flowhunt_api::{Client, types};
use httpmock::MockServer;
use serde_json::json;

const KEY: &str = "fh-test-key";

fn client(server: &MockServer) -> Client {
    Client::with_api_key(&server.base_url(), KEY.into()).expect("valid test configuration")
}

/// A declared 422 arrives typed, with status and FastAPI's detail.
fn assert_validation(err: flowhunt_api::Error<types::HttpValidationError>, expected_msg: &str) {
    match err {
        flowhunt_api::Error::ErrorResponse(rv) => {
            assert_eq!(rv.status().as_u16(), 422);
            let detail = rv.into_inner().detail;
            assert_eq!(detail[0].msg, expected_msg);
        }
        other => panic!("expected a typed 422, got {other:?}"),
    }
}

#[tokio::test]
async fn create_v3_flow_assistant_session() {
    let spec = Spec::load("flowhunt");
    let id = "create_v3_flow_assistant_session";
    let server = MockServer::start_async().await;
    let example = spec.examples(id, "201")[0].clone();
    let (mock, captured) = mock_operation(
        &server,
        &spec,
        id,
        &[],
        &[("workspace_id", "ws-42")],
        &[("authorization", &format!("Bearer {KEY}"))],
        201,
        Reply::Json(example.clone()),
    )
    .await;
    let flow = uuid::Uuid::nil();
    let session = client(&server)
        .create_v3_flow_assistant_session()
        .workspace_id("ws-42")
        .body(
            types::FlowAssistantSessionCreateRequest::builder()
                .context_flow_id(Some(flow))
                .start_with_welcome_message(Some(true)),
        )
        .send()
        .await
        .expect("201 decodes");
    mock.assert_async().await;
    assert_eq!(session.status().as_u16(), 201);
    assert_eq!(session.session_id, example["session_id"].as_str().unwrap());
    assert_eq!(session.created_at, example["created_at"].as_str().unwrap());
    let body = &captured.bodies()[0];
    spec.validate_request(id, body).unwrap();
    assert_eq!(
        body,
        &json!({"context_flow_id": flow.to_string(), "start_with_welcome_message": true})
    );

    // A naive `created_at` (no offset), which FastAPI emits for naive datetimes, decodes too.
    let server = MockServer::start_async().await;
    let naive = json!({"session_id": "s-1", "created_at": "2026-03-30T09:14:05.218734", "extra": 1});
    spec.validate_response(id, "201", &naive).unwrap();
    mock_operation(&server, &spec, id, &[], &[], &[], 201, Reply::Json(naive)).await;
    let session = client(&server)
        .create_v3_flow_assistant_session()
        .workspace_id("w")
        .body_map(|b| b)
        .send()
        .await;
    assert_eq!(
        session.expect("naive timestamp decodes").created_at,
        "2026-03-30T09:14:05.218734"
    );

    // Declared 422, and the undeclared 401 FastAPI sends with `detail` as a string.
    let server = MockServer::start_async().await;
    let error = spec.examples(id, "422")[0].clone();
    mock_operation(
        &server,
        &spec,
        id,
        &[],
        &[("workspace_id", "bad")],
        &[],
        422,
        Reply::Json(error),
    )
    .await;
    mock_operation(
        &server,
        &spec,
        id,
        &[],
        &[("workspace_id", "unauth")],
        &[],
        401,
        Reply::Json(json!({"detail": "Not authenticated"})),
    )
    .await;
    let err = client(&server)
        .create_v3_flow_assistant_session()
        .workspace_id("bad")
        .body_map(|b| b)
        .send()
        .await;
    assert_validation(err.unwrap_err(), "Field required");
    let err = client(&server)
        .create_v3_flow_assistant_session()
        .workspace_id("unauth")
        .body_map(|b| b)
        .send()
        .await;
    let (status, text) = undeclared(err.unwrap_err()).await;
    assert_eq!(status, 401);
    assert!(text.contains("Not authenticated"), "{text}");
}

#[tokio::test]
async fn invoke_v3_flow_assistant_response() {
    let spec = Spec::load("flowhunt");
    let id = "invoke_v3_flow_assistant_response";
    let server = MockServer::start_async().await;
    let example = spec.examples(id, "200")[0].clone();
    let (mock, captured) = mock_operation(
        &server,
        &spec,
        id,
        &[("session_id", "sess-1")],
        &[],
        &[],
        200,
        Reply::Json(example.clone()),
    )
    .await;
    let invocation = client(&server)
        .invoke_v3_flow_assistant_response()
        .session_id("sess-1")
        .body(
            types::FlowAssistantInvokeRequest::builder()
                .message("Add a chat input")
                .ai_model(Some("GPT4.1".into())),
        )
        .send()
        .await
        .expect("200 decodes");
    mock.assert_async().await;
    assert_eq!(invocation.message_id, example["message_id"].as_str().unwrap());
    assert_eq!(invocation.created_at, "1774862047312");
    assert!(invocation.cached_events.is_none());
    let body = &captured.bodies()[0];
    spec.validate_request(id, body).unwrap();
    assert_eq!(
        body,
        &json!({"message": "Add a chat input", "ai_model": "GPT4.1"})
    );
    // A model this crate does not know can still be requested (FlowHunt replaces models often).
    let request: types::FlowAssistantInvokeRequest = types::FlowAssistantInvokeRequest::builder()
        .message("x")
        .ai_model(Some("Claude Sonnet 5".into()))
        .try_into()
        .unwrap();
    assert_eq!(
        serde_json::to_value(&request).unwrap()["ai_model"],
        "Claude Sonnet 5"
    );

    // `cached_events`, when present, decode as events.
    let server = MockServer::start_async().await;
    let with_cache = contract_tests::fixture("flowhunt/invocation_with_cached_events.json");
    spec.validate_response(id, "200", &with_cache).unwrap();
    mock_operation(
        &server,
        &spec,
        id,
        &[("session_id", "s")],
        &[],
        &[],
        200,
        Reply::Json(with_cache),
    )
    .await;
    let invocation = client(&server)
        .invoke_v3_flow_assistant_response()
        .session_id("s")
        .body(types::FlowAssistantInvokeRequest::builder().message("hi"))
        .send()
        .await
        .expect("cached events decode");
    assert_eq!(invocation.cached_events.as_ref().map(Vec::len), Some(2));

    let server = MockServer::start_async().await;
    let error = spec.examples(id, "422")[0].clone();
    mock_operation(
        &server,
        &spec,
        id,
        &[("session_id", "s")],
        &[],
        &[],
        422,
        Reply::Json(error),
    )
    .await;
    let err = client(&server)
        .invoke_v3_flow_assistant_response()
        .session_id("s")
        .body(types::FlowAssistantInvokeRequest::builder().message("hi"))
        .send()
        .await;
    assert_validation(err.unwrap_err(), "Field required");
}

#[tokio::test]
async fn poll_v3_flow_assistant_response() {
    let spec = Spec::load("flowhunt");
    let id = "poll_v3_flow_assistant_response";
    let server = MockServer::start_async().await;
    let example = spec.examples(id, "200")[0].clone();
    let (mock, captured) = mock_operation(
        &server,
        &spec,
        id,
        &[("session_id", "sess-1"), ("from_timestamp", "1774862047312")],
        &[],
        &[],
        200,
        Reply::Json(example.clone()),
    )
    .await;
    let events = client(&server)
        .poll_v3_flow_assistant_response()
        .session_id("sess-1")
        .from_timestamp("1774862047312")
        .send()
        .await
        .expect("200 decodes");
    mock.assert_async().await;
    // The poll is a POST without a body.
    assert_eq!(captured.bodies(), vec![serde_json::Value::Null]);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event_type, types::MessageType::Ai);
    assert_eq!(events[0].action_type, types::FlowEventActionType::Message);
    let metadata: types::FlowSessionMessageMetadata =
        serde_json::from_value(events[0].metadata.clone().unwrap()).expect("message metadata");
    assert!(metadata.message.contains("Chat Input"));

    // A real-shaped log: many action types, unknown action and event types, extra fields, null metadata.
    let server = MockServer::start_async().await;
    let log = contract_tests::fixture("flowhunt/poll_events.json");
    spec.validate_response(id, "200", &log).unwrap();
    mock_operation(
        &server,
        &spec,
        id,
        &[("session_id", "s"), ("from_timestamp", "0")],
        &[],
        &[],
        200,
        Reply::Json(log.clone()),
    )
    .await;
    let events = client(&server)
        .poll_v3_flow_assistant_response()
        .session_id("s")
        .from_timestamp("0")
        .send()
        .await
        .expect("log decodes");
    assert_eq!(events.len(), log.as_array().unwrap().len());
    assert!(
        events
            .iter()
            .any(|e| e.action_type == types::FlowEventActionType::Unknown("brand_new_action".into()))
    );
    assert!(
        events
            .iter()
            .any(|e| e.event_type == types::MessageType::Unknown("robot".into()))
    );
    assert!(events.iter().any(|e| e.metadata.is_none()));
    let end = events
        .iter()
        .find(|e| e.action_type == types::FlowEventActionType::V3ToolCallEnd)
        .unwrap();
    let end: types::FlowSessionV3ToolCallEndMetadata =
        serde_json::from_value(end.metadata.clone().unwrap()).unwrap();
    assert_eq!(end.duration_ms, Some(1532));

    // An empty array is a valid answer.
    let server = MockServer::start_async().await;
    mock_operation(
        &server,
        &spec,
        id,
        &[("session_id", "s"), ("from_timestamp", "1")],
        &[],
        &[],
        200,
        Reply::Json(json!([])),
    )
    .await;
    let events = client(&server)
        .poll_v3_flow_assistant_response()
        .session_id("s")
        .from_timestamp("1")
        .send()
        .await;
    assert!(events.expect("[] decodes").is_empty());

    let server = MockServer::start_async().await;
    let error = spec.examples(id, "422")[0].clone();
    mock_operation(
        &server,
        &spec,
        id,
        &[("session_id", "s"), ("from_timestamp", "x")],
        &[],
        &[],
        422,
        Reply::Json(error),
    )
    .await;
    let err = client(&server)
        .poll_v3_flow_assistant_response()
        .session_id("s")
        .from_timestamp("x")
        .send()
        .await;
    assert_validation(err.unwrap_err(), "Field required");
}

/// Each operation's test above runs again here, alone on this thread, and must send a request
/// its operation's mock serves: a test with the right name and an empty body fails this one.
#[test]
fn every_operation_is_exercised_by_its_test() {
    contract_tests::hits::assert_every_operation_exercised(
        "flowhunt",
        &[
            (
                "create_v3_flow_assistant_session",
                create_v3_flow_assistant_session,
            ),
            (
                "invoke_v3_flow_assistant_response",
                invoke_v3_flow_assistant_response,
            ),
            ("poll_v3_flow_assistant_response", poll_v3_flow_assistant_response),
        ],
    );
}
