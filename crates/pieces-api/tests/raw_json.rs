//! Free-form parts of a response (`RawJson`) through the generated client: kept as the exact
//! text the server sent, and a part that is not valid JSON fails the call with a typed error.

use httpmock::MockServer;
use pieces_api::{Client, Error, RawJson, types};

const APPLICATION: &str = r#"{"name": "VS_CODE",  "version": "2.3.1", "zz_new": {"score": 1.50}}"#;

fn snapshot(application: &str) -> String {
    format!(
        r#"{{"iterable": [{{"id": "c1", "type": "COPILOT", "application": {application},
        "created": {{"value": "2023-10-26T15:30:01.617743Z"}}, "updated": {{"value": "2023-10-26T15:30:01.617743Z"}},
        "messages": {{"iterable": []}}}}]}}"#
    )
}

async fn serve(body: String) -> (MockServer, Client) {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(httpmock::Method::GET).path("/conversations");
            then.status(200)
                .header("content-type", "application/json")
                .body(body);
        })
        .await;
    let client = Client::with_base_url(&server.base_url()).expect("a loopback URL");
    (server, client)
}

#[tokio::test]
async fn free_form_parts_arrive_as_sent_and_parse_on_demand() {
    let (_server, client) = serve(snapshot(APPLICATION)).await;
    let snapshot = client
        .conversations_snapshot()
        .send()
        .await
        .expect("decodes")
        .into_inner();
    let application: &RawJson = snapshot.iterable[0].application.as_ref().expect("application");
    assert_eq!(application.get(), APPLICATION);
    assert_eq!(application.to_value().expect("parses")["zz_new"]["score"], 1.5);

    #[derive(serde::Deserialize)]
    struct Application<'a> {
        name: &'a str,
    }
    let typed: Application<'_> = application.parse().expect("parses into a type");
    assert_eq!(typed.name, "VS_CODE");
    // The schema's name is kept as an alias of the wrapper.
    let _: Option<&types::FreeForm> = snapshot.iterable[0].model.as_ref();
}

#[tokio::test]
async fn invalid_json_in_a_free_form_part_is_a_typed_decode_error() {
    let (_server, client) = serve(snapshot(r#"{"name": "VS_CODE", "version": 2.3.1}"#)).await;
    match client.conversations_snapshot().send().await {
        Err(Error::InvalidResponsePayload(body, err)) => {
            assert_eq!(err.classify(), serde_json::error::Category::Syntax, "{err}");
            assert!(String::from_utf8_lossy(&body).contains("2.3.1"));
        }
        other => panic!("expected InvalidResponsePayload, got {other:?}"),
    }
}
