//! The generated typed mocks (`mock` feature of each client crate) match what the generated
//! clients send and serve what they decode: a user's test reads as the API does.

use httpmock::MockServer;
use serde_json::json;

#[tokio::test]
async fn flowgen_chat_round_trip_with_typed_mocks() {
    use flowgen_api::mock::MockServerExt;
    use flowgen_api::{Client, types};

    let server = MockServer::start_async().await;
    let body = types::ChatCreate::builder()
        .name("Trip")
        .from_type(types::ChatFromType::Flow)
        .from_flow(Some("8q2mzl4x7vw1k3d".to_string()))
        .owner(Some(String::new()));
    let body: types::ChatCreate = body.try_into().unwrap();
    let chat: types::Chat = serde_json::from_value(json!({
        "id": "k2j4h6g8f0d1s3a", "name": "Trip", "status": "", "from_type": "flow",
        "from_flow": "8q2mzl4x7vw1k3d", "owner": "", "created": "2024-03-14 08:21:05.412Z",
        "updated": "2024-03-14 08:21:05.412Z", "collectionId": "c", "collectionName": "chats"
    }))
    .unwrap();
    let create = server.create_chat(|when, then| {
        when.body(&body);
        then.ok(&chat);
    });
    let get = server.get_chat(|when, then| {
        when.chat_id("k2j4h6g8f0d1s3a");
        then.ok(&chat);
    });
    let client = Client::with_api_key(&server.base_url(), " fg_key\n".into()).unwrap();
    let created = client.create_chat().body(body.clone()).send().await.unwrap();
    let read = client.get_chat().chat_id(&created.id).send().await.unwrap();
    assert_eq!(read.into_inner(), chat);
    create.assert_async().await;
    get.assert_async().await;
}

#[tokio::test]
async fn flowhunt_session_and_poll_with_typed_mocks() {
    use flowhunt_api::mock::MockServerExt;
    use flowhunt_api::{Client, types};

    let server = MockServer::start_async().await;
    let session = types::FlowSessionResponse {
        created_at: "2026-03-30T09:14:05.218734".into(),
        session_id: "5b1f7c2e-8d4a-4e61-9a3f-0c7d2b9e4f18".into(),
    };
    let create = server.create_v3_flow_assistant_session(|when, then| {
        when.workspace_id("w-1")
            .body(&types::FlowAssistantSessionCreateRequest::default());
        then.created(&session);
    });
    let poll = server.poll_v3_flow_assistant_response(|when, then| {
        when.session_id(&session.session_id).from_timestamp("0");
        then.ok(&vec![]);
    });
    let client = Client::with_api_key(&server.base_url(), "fh_key".into()).unwrap();
    let created = client
        .create_v3_flow_assistant_session()
        .workspace_id("w-1")
        .body(types::FlowAssistantSessionCreateRequest::default())
        .send()
        .await
        .unwrap();
    assert_eq!(created.into_inner(), session);
    let events = client
        .poll_v3_flow_assistant_response()
        .session_id(&session.session_id)
        .from_timestamp("0")
        .send()
        .await
        .unwrap();
    assert!(events.is_empty());
    create.assert_async().await;
    poll.assert_async().await;
}

#[tokio::test]
async fn pieces_delete_and_its_failure_with_typed_mocks() {
    use pieces_api::Client;
    use pieces_api::mock::MockServerExt;

    let server = MockServer::start_async().await;
    let deleted = server.conversations_delete_specific_conversation(|when, then| {
        when.conversation("c-1");
        then.no_content();
    });
    let failing = server.conversations_delete_specific_conversation(|when, then| {
        when.conversation("c-2");
        then.internal_server_error(json!("conversation is locked"));
    });
    let client = Client::with_base_url(&server.base_url()).unwrap();
    client
        .conversations_delete_specific_conversation()
        .conversation("c-1")
        .send()
        .await
        .unwrap();
    let error = client
        .conversations_delete_specific_conversation()
        .conversation("c-2")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.status().map(|s| s.as_u16()), Some(500));
    deleted.assert_async().await;
    failing.assert_async().await;
}
