//! Contract tests for `specs/flowgen.yaml`: one test per operation, named after its operationId.
//! Both contracts are exercised: the documented one and the open-source server's.

use contract_tests::{Reply, Spec, mock_operation, undeclared};
use flowgen_api::{Client, types};
use httpmock::MockServer;
use serde_json::json;

const KEY: &str = "fg_test-key-0123456789";
const CHAT: &str = "k2j4h6g8f0d1s3a";

fn client(server: &MockServer) -> Client {
    Client::with_api_key(&server.base_url(), KEY.into()).expect("valid test configuration")
}

fn auth() -> [(&'static str, &'static str); 1] {
    [("x-api-key", KEY)]
}

fn assert_validation(err: flowgen_api::Error<types::HttpValidationError>, expected_loc: &str) {
    match err {
        flowgen_api::Error::ErrorResponse(rv) => {
            assert_eq!(rv.status().as_u16(), 422);
            let detail = rv.into_inner().detail;
            let loc: Vec<String> = detail[0]
                .loc
                .iter()
                .map(|l| serde_json::to_value(l).unwrap().to_string())
                .collect();
            assert!(loc.join(",").contains(expected_loc), "{loc:?}");
        }
        other => panic!("expected a typed 422, got {other:?}"),
    }
}

/// The union body both contracts accept.
fn union_message(text: &str) -> types::MessageCreate {
    types::MessageCreate::builder()
        .message(Some(text.to_string()))
        .content(Some(text.to_string()))
        .chat(Some(CHAT.to_string()))
        .type_(Some(types::MessageType::User))
        .owner(Some(String::new()))
        .try_into()
        .expect("complete message")
}

#[tokio::test]
async fn list_chats() {
    let spec = Spec::load("flowgen");
    let id = "list_chats";
    let server = MockServer::start_async().await;
    let example = spec.examples(id, "200")[0].clone();
    let (mock, _) = mock_operation(&server, &spec, id, &[], &[], &auth(), 200, Reply::Json(example)).await;
    let chats = client(&server).list_chats().send().await.expect("200 decodes");
    mock.assert_async().await;
    assert_eq!(chats[0].status, types::ChatStatus::Completed);

    // Real-shaped chats: "" status, null from_flow, UI-proxy records, unknown status and type.
    let server = MockServer::start_async().await;
    let chats = contract_tests::fixture("flowgen/chats.json");
    spec.validate_response(id, "200", &chats).unwrap();
    mock_operation(&server, &spec, id, &[], &[], &auth(), 200, Reply::Json(chats)).await;
    let chats = client(&server)
        .list_chats()
        .send()
        .await
        .expect("fixture decodes");
    assert_eq!(chats[0].status, types::ChatStatus::Empty);
    assert_eq!(chats[1].from_flow, None);
    assert_eq!(
        chats[2].status,
        types::ChatStatus::Unknown("paused_by_admin".into())
    );
    assert_eq!(
        chats[3].from_type,
        types::ChatFromType::Unknown("workflow".into())
    );
    assert_eq!(
        chats[0].created, "2024-03-14 08:21:05.412Z",
        "PocketBase time kept verbatim"
    );

    // No key: 401 with `detail` as a string; a wrong key on the open-source server: 500 text.
    let server = MockServer::start_async().await;
    mock_operation(
        &server,
        &spec,
        id,
        &[],
        &[],
        &auth(),
        500,
        Reply::Text("Internal Server Error".into()),
    )
    .await;
    let (status, text) = undeclared(client(&server).list_chats().send().await.unwrap_err()).await;
    assert_eq!((status, text.as_str()), (500, "Internal Server Error"));
    let server = MockServer::start_async().await;
    mock_operation(
        &server,
        &spec,
        id,
        &[],
        &[],
        &[],
        401,
        Reply::Json(json!({"detail": "Could not validate credentials"})),
    )
    .await;
    let anonymous = Client::new(&server.base_url(), Default::default());
    let (status, text) = undeclared(anonymous.list_chats().send().await.unwrap_err()).await;
    assert_eq!(status, 401);
    assert!(text.contains("Could not validate credentials"));
}

#[tokio::test]
async fn create_chat() {
    let spec = Spec::load("flowgen");
    let id = "create_chat";
    let server = MockServer::start_async().await;
    let example = spec.examples(id, "200")[0].clone();
    let (mock, captured) = mock_operation(
        &server,
        &spec,
        id,
        &[],
        &[],
        &auth(),
        200,
        Reply::Json(example.clone()),
    )
    .await;
    let chat = client(&server)
        .create_chat()
        .body(
            types::ChatCreate::builder()
                .name("My Chatbot")
                .from_type(types::ChatFromType::Flow)
                .from_flow(Some("8q2mzl4x7vw1k3d".to_string()))
                .owner(Some(String::new())),
        )
        .send()
        .await
        .expect("200 decodes");
    mock.assert_async().await;
    assert_eq!(chat.id, CHAT);
    assert_eq!(chat.status, types::ChatStatus::Empty);
    let body = &captured.bodies()[0];
    spec.validate_request(id, body).unwrap();
    assert_eq!(
        body,
        &json!({"name": "My Chatbot", "from_type": "flow", "from_flow": "8q2mzl4x7vw1k3d", "owner": ""})
    );
    // The documented body (no owner) is expressible too.
    spec.validate_request(
        id,
        &json!({"name": "My Chatbot", "from_type": "flow", "from_flow": "flow_id"}),
    )
    .unwrap();

    let server = MockServer::start_async().await;
    let error = json!({"detail": [{"type": "missing", "loc": ["body", "owner"], "msg": "Field required", "input": {"name": "x"}, "url": "https://errors.pydantic.dev/2.5/v/missing"}]});
    spec.validate_response(id, "422", &error).unwrap();
    mock_operation(&server, &spec, id, &[], &[], &auth(), 422, Reply::Json(error)).await;
    let err = client(&server)
        .create_chat()
        .body(
            types::ChatCreate::builder()
                .name("x")
                .from_type(types::ChatFromType::Flow),
        )
        .send()
        .await
        .unwrap_err();
    assert_validation(err, "owner");
}

#[tokio::test]
async fn get_chat() {
    let spec = Spec::load("flowgen");
    let id = "get_chat";
    let server = MockServer::start_async().await;
    let example = spec.examples(id, "200")[0].clone();
    let (mock, _) = mock_operation(
        &server,
        &spec,
        id,
        &[("chat_id", CHAT)],
        &[],
        &auth(),
        200,
        Reply::Json(example),
    )
    .await;
    let chat = client(&server)
        .get_chat()
        .chat_id(CHAT)
        .send()
        .await
        .expect("200 decodes");
    mock.assert_async().await;
    assert_eq!(chat.status, types::ChatStatus::WaitForHumanInput);

    // Unknown chat: 404 JSON on a documented server, 500 text on the open-source one.
    let server = MockServer::start_async().await;
    mock_operation(
        &server,
        &spec,
        id,
        &[("chat_id", "missing")],
        &[],
        &auth(),
        404,
        Reply::Json(json!({"detail": "Chat not found"})),
    )
    .await;
    mock_operation(
        &server,
        &spec,
        id,
        &[("chat_id", "gone")],
        &[],
        &auth(),
        500,
        Reply::Text("Internal Server Error".into()),
    )
    .await;
    let (status, text) = undeclared(
        client(&server)
            .get_chat()
            .chat_id("missing")
            .send()
            .await
            .unwrap_err(),
    )
    .await;
    assert_eq!(status, 404);
    assert!(text.contains("Chat not found"));
    let (status, _) = undeclared(
        client(&server)
            .get_chat()
            .chat_id("gone")
            .send()
            .await
            .unwrap_err(),
    )
    .await;
    assert_eq!(status, 500);
}

#[tokio::test]
async fn delete_chat() {
    let spec = Spec::load("flowgen");
    let id = "delete_chat";
    for reply in [
        Reply::Json(json!({"result": true})),
        Reply::Json(json!({})),
        Reply::Empty,
    ] {
        let server = MockServer::start_async().await;
        let (mock, _) =
            mock_operation(&server, &spec, id, &[("chat_id", CHAT)], &[], &auth(), 200, reply).await;
        let done = client(&server).delete_chat().chat_id(CHAT).send().await;
        assert_eq!(done.expect("any 200 body is accepted").status().as_u16(), 200);
        mock.assert_async().await;
    }
    // The open-source API server has no such route.
    let server = MockServer::start_async().await;
    mock_operation(
        &server,
        &spec,
        id,
        &[("chat_id", CHAT)],
        &[],
        &auth(),
        405,
        Reply::Json(json!({"detail": "Method Not Allowed"})),
    )
    .await;
    let (status, text) = undeclared(
        client(&server)
            .delete_chat()
            .chat_id(CHAT)
            .send()
            .await
            .unwrap_err(),
    )
    .await;
    assert_eq!(status, 405);
    assert!(text.contains("Method Not Allowed"));
}

#[tokio::test]
async fn send_message() {
    let spec = Spec::load("flowgen");
    let id = "send_message";
    for example in spec.examples(id, "200") {
        let server = MockServer::start_async().await;
        let (mock, captured) = mock_operation(
            &server,
            &spec,
            id,
            &[("chat_id", CHAT)],
            &[],
            &auth(),
            200,
            Reply::Json(example.clone()),
        )
        .await;
        let sent = client(&server)
            .send_message()
            .chat_id(CHAT)
            .body(union_message("Hello, FlowGen!"))
            .send()
            .await;
        assert_eq!(*sent.expect("null and {} decode").into_inner(), example);
        mock.assert_async().await;
        let body = &captured.bodies()[0];
        spec.validate_request(id, body).unwrap();
        assert_eq!(
            body,
            &json!({"message": "Hello, FlowGen!", "content": "Hello, FlowGen!", "chat": CHAT, "type": "user", "owner": ""})
        );
    }
    // Both contracts' own bodies are valid requests.
    spec.validate_request(id, &json!({"message": "Hello, FlowGen!"}))
        .unwrap();
    spec.validate_request(
        id,
        &json!({"content": "hi", "chat": CHAT, "type": "user", "owner": ""}),
    )
    .unwrap();

    let server = MockServer::start_async().await;
    let error = spec.examples(id, "422")[0].clone();
    mock_operation(
        &server,
        &spec,
        id,
        &[("chat_id", CHAT)],
        &[],
        &auth(),
        422,
        Reply::Json(error),
    )
    .await;
    let err = client(&server)
        .send_message()
        .chat_id(CHAT)
        .body(union_message("x"))
        .send()
        .await
        .unwrap_err();
    assert_validation(err, "content");
}

#[tokio::test]
async fn get_messages() {
    let spec = Spec::load("flowgen");
    let id = "get_messages";
    let server = MockServer::start_async().await;
    let example = spec.examples(id, "200")[0].clone();
    let (mock, _) = mock_operation(
        &server,
        &spec,
        id,
        &[("chat_id", CHAT)],
        &[],
        &auth(),
        200,
        Reply::Json(example),
    )
    .await;
    let messages = client(&server)
        .get_messages()
        .chat_id(CHAT)
        .send()
        .await
        .expect("200 decodes");
    mock.assert_async().await;
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[1].content, "__STATUS_RUNNING__");

    let server = MockServer::start_async().await;
    let history = contract_tests::fixture("flowgen/messages.json");
    spec.validate_response(id, "200", &history).unwrap();
    mock_operation(
        &server,
        &spec,
        id,
        &[("chat_id", CHAT)],
        &[],
        &auth(),
        200,
        Reply::Json(history),
    )
    .await;
    let messages = client(&server)
        .get_messages()
        .chat_id(CHAT)
        .send()
        .await
        .expect("fixture decodes");
    assert_eq!(messages[2].sender.as_deref(), Some("user_proxy"));
    assert_eq!(
        messages[4].type_,
        types::MessageType::Unknown("system_note".into())
    );

    let server = MockServer::start_async().await;
    mock_operation(
        &server,
        &spec,
        id,
        &[("chat_id", CHAT)],
        &[],
        &auth(),
        405,
        Reply::Json(json!({"detail": "Method Not Allowed"})),
    )
    .await;
    let (status, _) = undeclared(
        client(&server)
            .get_messages()
            .chat_id(CHAT)
            .send()
            .await
            .unwrap_err(),
    )
    .await;
    assert_eq!(status, 405);
}

#[tokio::test]
async fn send_input() {
    let spec = Spec::load("flowgen");
    let id = "send_input";
    let server = MockServer::start_async().await;
    let example = spec.examples(id, "200")[0].clone();
    let (mock, captured) = mock_operation(
        &server,
        &spec,
        id,
        &[("chat_id", CHAT)],
        &[],
        &auth(),
        200,
        Reply::Json(example),
    )
    .await;
    let reply = client(&server)
        .send_input()
        .chat_id(CHAT)
        .body(union_message("Yes, go ahead."))
        .send()
        .await
        .expect("decodes");
    mock.assert_async().await;
    assert_eq!(reply.detail.as_deref(), Some("Input sent to assistant."));
    assert!(reply.error.is_none());
    spec.validate_request(id, &captured.bodies()[0]).unwrap();

    // Failure still arrives with HTTP 200, as `error`.
    let server = MockServer::start_async().await;
    let failure = json!({"error": format!("No assistant found with that chat ID. {CHAT}")});
    spec.validate_response(id, "200", &failure).unwrap();
    mock_operation(
        &server,
        &spec,
        id,
        &[("chat_id", CHAT)],
        &[],
        &auth(),
        200,
        Reply::Json(failure),
    )
    .await;
    let reply = client(&server)
        .send_input()
        .chat_id(CHAT)
        .body(union_message("y"))
        .send()
        .await
        .expect("decodes");
    assert!(
        reply
            .error
            .as_deref()
            .is_some_and(|e| e.starts_with("No assistant found"))
    );

    let server = MockServer::start_async().await;
    let error = spec.examples(id, "422")[0].clone();
    mock_operation(
        &server,
        &spec,
        id,
        &[("chat_id", CHAT)],
        &[],
        &auth(),
        422,
        Reply::Json(error),
    )
    .await;
    let err = client(&server)
        .send_input()
        .chat_id(CHAT)
        .body(union_message("y"))
        .send()
        .await
        .unwrap_err();
    assert_validation(err, "content");
}

#[tokio::test]
async fn abort_chat() {
    let spec = Spec::load("flowgen");
    let id = "abort_chat";
    let server = MockServer::start_async().await;
    let example = spec.examples(id, "200")[0].clone();
    let (mock, captured) = mock_operation(
        &server,
        &spec,
        id,
        &[("chat_id", CHAT)],
        &[],
        &auth(),
        200,
        Reply::Json(example),
    )
    .await;
    let reply = client(&server)
        .abort_chat()
        .chat_id(CHAT)
        .send()
        .await
        .expect("decodes");
    mock.assert_async().await;
    assert!(reply.detail.as_deref().is_some_and(|d| d.contains("terminated")));
    assert_eq!(
        captured.bodies(),
        vec![serde_json::Value::Null],
        "abort has no body"
    );

    // A documented server without the route answers 404/405: the raw response says so.
    let server = MockServer::start_async().await;
    mock_operation(
        &server,
        &spec,
        id,
        &[("chat_id", CHAT)],
        &[],
        &auth(),
        404,
        Reply::Json(json!({"detail": "Not Found"})),
    )
    .await;
    let (status, _) = undeclared(
        client(&server)
            .abort_chat()
            .chat_id(CHAT)
            .send()
            .await
            .unwrap_err(),
    )
    .await;
    assert_eq!(status, 404);
}

/// Each operation's test above runs again here, alone on this thread, and must send a request
/// its operation's mock serves: a test with the right name and an empty body fails this one.
#[test]
fn every_operation_is_exercised_by_its_test() {
    contract_tests::hits::assert_every_operation_exercised(
        "flowgen",
        &[
            ("list_chats", list_chats),
            ("create_chat", create_chat),
            ("get_chat", get_chat),
            ("delete_chat", delete_chat),
            ("send_message", send_message),
            ("get_messages", get_messages),
            ("send_input", send_input),
            ("abort_chat", abort_chat),
        ],
    );
}
