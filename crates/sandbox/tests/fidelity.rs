//! Records are complete by the real services' own models, and Pieces rejects what PiecesOS
//! does not know. Pieces responses are validated against PiecesOS's vendored spec.

use assistants_sandbox::{Sandbox, pieces::SEEDED_ASSETS, spec};
use serde_json::{Value, json};

fn upstream(schema: &str) -> jsonschema::Validator {
    let doc = spec::parse(spec::PIECES_UPSTREAM).unwrap();
    spec::compile(
        &spec::to_json_schema(&doc),
        &format!("/components/schemas/{schema}"),
    )
    .unwrap()
}

fn assert_valid(schema: &str, value: &Value) {
    let validator = upstream(schema);
    let errors: Vec<String> = validator
        .iter_errors(value)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{schema}: {errors:?}\n{value:#}");
}

async fn post(url: String, body: Option<Value>) -> (u16, String, String) {
    let mut request = reqwest::Client::new().post(url);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let kind = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, kind, response.text().await.unwrap())
}

#[tokio::test]
async fn pieces_rejects_enum_values_piecesos_does_not_know_with_a_text_500() {
    let sandbox = Sandbox::start().await.unwrap();
    let base = sandbox.base_url();
    for body in [
        json!({"type": "WIZARD", "name": "x"}),
        json!({"type": "UNKNOWN"}),
        json!({"type": "COPILOT", "messages": [{"role": "ORACLE", "fragment": {"string": {"raw": "hi"}}}]}),
        json!({"type": "COPILOT", "anchors": [{"type": "SYMLINK", "fullpath": "/tmp"}]}),
    ] {
        let (status, kind, text) = post(format!("{base}/conversations/create"), Some(body.clone())).await;
        assert_eq!(status, 500, "{body}: {text}");
        assert!(kind.starts_with("text/plain"), "{kind}");
        assert!(text.starts_with("Invalid SeededConversation"), "{text}");
    }
    let snapshot: Value = reqwest::get(format!("{base}/conversations"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        snapshot["iterable"],
        json!([]),
        "a rejected conversation was stored"
    );
}

#[tokio::test]
async fn every_pieces_record_is_complete_by_piecesos_own_models() {
    let sandbox = Sandbox::start().await.unwrap();
    let base = sandbox.base_url();
    let (status, _, text) = post(
        format!("{base}/conversations/create/from_asset/{}", SEEDED_ASSETS[0].0),
        None,
    )
    .await;
    assert_eq!(status, 200, "{text}");
    let output: Value = serde_json::from_str(&text).unwrap();
    assert_valid("ConversationsCreateFromAssetOutput", &output);
    let conversation = &output["conversation"]["reference"];
    assert_valid("Conversation", conversation);
    let message = &conversation["messages"]["iterable"][0]["reference"];
    assert_valid("FlattenedConversationMessage", message);
    for field in ["id", "created", "updated", "conversation", "role"] {
        assert!(
            message.get(field).is_some(),
            "the from-asset message lacks {field}: {message:#}"
        );
    }
    assert_eq!(message["conversation"]["id"], conversation["id"]);
    assert_eq!(conversation["assets"]["iterable"][0]["id"], SEEDED_ASSETS[0].0);

    let seeded = json!({"type": "COPILOT", "name": "Seeded", "messages": [
        {"role": "USER", "fragment": {"string": {"raw": "What does quicksort do?"}}}
    ]});
    let (status, _, text) = post(format!("{base}/conversations/create"), Some(seeded)).await;
    assert_eq!(status, 200, "{text}");
    let created: Value = serde_json::from_str(&text).unwrap();
    assert_valid("Conversation", &created);
    let message = &created["messages"]["iterable"][0]["reference"];
    assert_valid("FlattenedConversationMessage", message);
    assert_eq!(message["role"], "USER");
    let (status, _, _) = post(format!("{base}/conversations/create"), None).await;
    assert_eq!(status, 200);

    let snapshot: Value = reqwest::get(format!("{base}/conversations"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_valid("Conversations", &snapshot);
    assert_eq!(snapshot["iterable"].as_array().unwrap().len(), 3);
    let ids: Value = reqwest::get(format!("{base}/conversations/identifiers"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_valid("FlattenedConversations", &ids);
    let id = created["id"].as_str().unwrap();
    let one: Value = reqwest::get(format!("{base}/conversation/{id}"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_valid("Conversation", &one);
}

#[tokio::test]
async fn pieces_health_answers_get_and_head_like_piecesos() {
    let sandbox = Sandbox::start().await.unwrap();
    let url = format!("{}/.well-known/health", sandbox.base_url());
    let client = reqwest::Client::new();
    let get = client.get(&url).send().await.unwrap();
    assert_eq!(get.status(), 200);
    assert!(
        get.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let head = client.head(&url).send().await.unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(head.text().await.unwrap(), "");
    assert_eq!(sandbox.requests_for("get_well_known_health"), 2);
    assert_eq!(sandbox.requests_of(assistants_sandbox::Service::Pieces), 2);
}

/// FlowGen's records are PocketBase's (`flowgen.md`): a Chat has exactly the API server's
/// fields, a Message every field of the `messages` collection, ids of 15 `[a-z0-9]`, and
/// PocketBase's datetime text.
#[tokio::test]
async fn flowgen_records_are_complete_pocketbase_records() {
    use assistants_sandbox::{DEFAULT_API_KEY, FlowgenContract};
    for contract in [FlowgenContract::Documented, FlowgenContract::OpenSource] {
        let sandbox = Sandbox::builder()
            .flowgen_contract(contract)
            .start()
            .await
            .unwrap();
        let base = sandbox.base_url();
        let http = reqwest::Client::new();
        let chat: Value = http
            .post(format!("{base}/chats"))
            .header("x-api-key", DEFAULT_API_KEY)
            .json(&json!({"name": "n", "from_type": "flow", "from_flow": "abcdefghijklmno", "owner": ""}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let mut keys: Vec<&str> = chat.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "created",
                "from_flow",
                "from_template",
                "from_type",
                "id",
                "name",
                "owner",
                "status",
                "updated"
            ]
        );
        let pocketbase_id = |v: &Value| {
            let id = v.as_str().unwrap();
            id.len() == 15 && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        };
        assert!(
            pocketbase_id(&chat["id"]) && pocketbase_id(&chat["owner"]),
            "{chat}"
        );
        let time = chat["created"].as_str().unwrap();
        assert!(
            chrono::NaiveDateTime::parse_from_str(time, "%Y-%m-%d %H:%M:%S%.3fZ").is_ok(),
            "{time}"
        );
        assert!(
            chat.as_object().unwrap().values().all(|v| v.is_string()),
            "no nulls: {chat}"
        );
        if contract == FlowgenContract::OpenSource {
            continue; // history is a UI route there (405 on the API server)
        }
        let id = chat["id"].as_str().unwrap();
        let sent = http
            .post(format!("{base}/chats/{id}/messages"))
            .header("x-api-key", DEFAULT_API_KEY)
            .json(&json!({"message": "hello"}))
            .send()
            .await
            .unwrap();
        assert_eq!(sent.status(), 200);
        let history: Vec<Value> = http
            .get(format!("{base}/chats/{id}/messages"))
            .header("x-api-key", DEFAULT_API_KEY)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(!history.is_empty());
        for message in &history {
            let keys: Vec<&str> = message.as_object().unwrap().keys().map(String::as_str).collect();
            // Alphabetical, as PocketBase writes them.
            assert_eq!(
                keys,
                [
                    "chat",
                    "collectionId",
                    "collectionName",
                    "content",
                    "created",
                    "id",
                    "owner",
                    "receiver",
                    "sender",
                    "type",
                    "updated"
                ]
            );
            assert!(pocketbase_id(&message["id"]), "{message}");
            assert!(["user", "assistant"].contains(&message["type"].as_str().unwrap()));
            assert!(
                message.as_object().unwrap().values().all(|v| v.is_string()),
                "{message}"
            );
        }
    }
}
