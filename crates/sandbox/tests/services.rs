//! The simulators over real HTTP on loopback: scripted replies, wire formats, both FlowGen
//! contracts and the identifiers WebSocket.

use std::time::Duration;

use assistants_sandbox::{DEFAULT_API_KEY, FlowgenContract, Sandbox, Timing};
use futures::StreamExt;
use serde_json::{Value, json};

fn http() -> reqwest::Client {
    reqwest::Client::new()
}

async fn post(url: String, body: Option<Value>) -> (u16, Value) {
    let mut request = http().post(url).bearer_auth("any-token");
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn flowgen(method: reqwest::Method, url: String, body: Option<Value>) -> (u16, String) {
    let mut request = http().request(method, url).header("x-api-key", DEFAULT_API_KEY);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn flowhunt_reply_unfolds_and_welcome_comes_first() {
    let sandbox = Sandbox::builder()
        .timing(Timing::realtime(Duration::from_secs(3600)))
        .start()
        .await
        .unwrap();
    let base = sandbox.base_url();
    let response = http()
        .post(format!("{base}/v3/flow-assistants/create?workspace_id=w"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403, "create needs a bearer token");

    let (status, session) = post(
        format!("{base}/v3/flow-assistants/create?workspace_id=w"),
        Some(json!({"start_with_welcome_message": true})),
    )
    .await;
    assert_eq!(status, 201);
    let sid = session["session_id"].as_str().unwrap().to_string();
    let (status, invocation) = post(
        format!("{base}/v3/flow-assistants/{sid}/invoke"),
        Some(json!({"message": "hello there"})),
    )
    .await;
    assert_eq!(status, 200);
    let created: u64 = invocation["created_at"].as_str().unwrap().parse().unwrap();

    // From 0: the welcome message and the human echo are due; the rest is an hour away.
    let (_, events) = post(
        format!("{base}/v3/flow-assistants/{sid}/invocation_response/0"),
        None,
    )
    .await;
    let kinds: Vec<_> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["event_type"].clone(), e["action_type"].clone()))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (json!("ai"), json!("message")),
            (json!("human"), json!("message"))
        ]
    );
    let welcome_ts: u64 = events[0]["created_at_timestamp"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        welcome_ts < created,
        "the welcome message predates the invocation"
    );
    // From the invocation's timestamp (exclusive), nothing is due yet.
    let (_, events) = post(
        format!("{base}/v3/flow-assistants/{sid}/invocation_response/{created}"),
        None,
    )
    .await;
    assert_eq!(events, json!([]));
}

#[tokio::test]
async fn flowhunt_scripted_answers_questions_and_failures() {
    let sandbox = Sandbox::start().await.unwrap();
    let base = sandbox.base_url();
    let (_, session) = post(
        format!("{base}/v3/flow-assistants/create?workspace_id=w"),
        Some(json!({})),
    )
    .await;
    let sid = session["session_id"].as_str().unwrap();
    for (message, last_action, needle) in [
        (
            "hello there",
            "message",
            "Answer to \"hello there\": 2 words received.",
        ),
        (
            "deploy after my approval",
            "hook_waiting_for_input",
            "Do you approve",
        ),
        ("please [fail]", "failed", "scripted failure"),
    ] {
        let (_, invocation) = post(
            format!("{base}/v3/flow-assistants/{sid}/invoke"),
            Some(json!({"message": message})),
        )
        .await;
        let from = invocation["created_at"].as_str().unwrap();
        let (_, events) = post(
            format!("{base}/v3/flow-assistants/{sid}/invocation_response/{from}"),
            None,
        )
        .await;
        let events = events.as_array().unwrap();
        let actions: Vec<&str> = events
            .iter()
            .map(|e| e["action_type"].as_str().unwrap())
            .collect();
        assert_eq!(
            actions,
            ["loading", "v3_tool_call_start", "v3_tool_call_end", last_action],
            "{message}"
        );
        let texts: Vec<&str> = events[3]["metadata"]
            .as_object()
            .unwrap()
            .values()
            .filter_map(Value::as_str)
            .collect();
        assert!(texts.iter().any(|t| t.contains(needle)), "{}", events[3]);
        let stamps: Vec<u64> = events
            .iter()
            .map(|e| e["created_at_timestamp"].as_str().unwrap().parse().unwrap())
            .collect();
        assert!(
            stamps.windows(2).all(|w| w[0] < w[1]),
            "timestamps strictly increase: {stamps:?}"
        );
    }
    // FastAPI-shaped 422s.
    let (status, body) = post(
        format!("{base}/v3/flow-assistants/{sid}/invoke"),
        Some(json!({"ai_model": "GPT4.1"})),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(body["detail"][0]["loc"], json!(["body", "message"]));
    let (status, body) = post(
        format!("{base}/v3/flow-assistants/create?workspace_id=w"),
        Some(json!({"context_flow_id": "nope"})),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    let (status, _) = post(format!("{base}/v3/flow-assistants/create"), Some(json!({}))).await;
    assert_eq!(status, 422, "workspace_id is required");
}

#[tokio::test]
async fn pieces_conversations_and_identifiers_stream() {
    let sandbox = Sandbox::start().await.unwrap();
    let base = sandbox.base_url();
    let (status, first) = post(
        format!("{base}/conversations/create"),
        Some(json!({"name": "One", "type": "COPILOT"})),
    )
    .await;
    assert_eq!(status, 200);
    let first_id = first["id"].as_str().unwrap().to_string();

    let ws_url = format!("{}/conversations/stream/identifiers", base.replace("http", "ws"));
    let (mut ws, _) = tokio_tungstenite::connect_async(ws_url).await.unwrap();
    let frame = |m: tokio_tungstenite::tungstenite::Message| {
        serde_json::from_str::<Value>(m.to_text().unwrap()).unwrap()
    };
    let full = frame(ws.next().await.unwrap().unwrap());
    assert_eq!(
        full["iterable"],
        json!([{"conversation": {"id": first_id}, "deleted": false}])
    );

    let (_, from_asset) = post(
        format!("{base}/conversations/create/from_asset/2254f2c8-5797-40e8-ac56-41166dc0e159"),
        None,
    )
    .await;
    let second_id = from_asset["conversation"]["id"].as_str().unwrap().to_string();
    assert_eq!(
        from_asset["conversation"]["reference"]["messages"]["iterable"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let added = frame(ws.next().await.unwrap().unwrap());
    assert_eq!(added["iterable"][0]["conversation"]["id"], json!(second_id));

    let deleted = http()
        .post(format!("{base}/conversations/{first_id}/delete"))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    let removal = frame(ws.next().await.unwrap().unwrap());
    assert_eq!(
        removal["iterable"][0],
        json!({"conversation": {"id": first_id}, "deleted": true})
    );

    let ids: Value = http()
        .get(format!("{base}/conversations/identifiers"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ids["iterable"], json!([{"id": second_id}]));
    let again = http()
        .post(format!("{base}/conversations/{first_id}/delete"))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 500);
    assert!(
        again.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let unknown = http()
        .post(format!(
            "{base}/conversations/create/from_asset/00000000-0000-4000-8000-000000000000"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 500);
    assert_eq!(
        http()
            .get(format!("{base}/.well-known/health"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

async fn wait_status(base: &str, chat: &str, wanted: &str) -> Value {
    // Bounded: the scripted run moves on every scheduler turn with instant timing.
    for _ in 0..10_000 {
        let (_, body) = flowgen(reqwest::Method::GET, format!("{base}/chats/{chat}"), None).await;
        let record: Value = serde_json::from_str(&body).unwrap();
        if record["status"] == wanted {
            return record;
        }
        tokio::task::yield_now().await;
    }
    panic!("chat {chat} never reached {wanted}");
}

#[tokio::test]
async fn flowgen_documented_contract_with_human_input() {
    let sandbox = Sandbox::start().await.unwrap();
    let base = sandbox.base_url();
    let (status, body) = flowgen(reqwest::Method::GET, format!("{base}/chats"), None).await;
    assert_eq!((status, body.as_str()), (200, "[]"));
    let no_key = http().get(format!("{base}/chats")).send().await.unwrap();
    assert_eq!(no_key.status(), 401);
    let wrong = http()
        .get(format!("{base}/chats"))
        .header("x-api-key", "fg_wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 403);

    let (status, body) = flowgen(
        reqwest::Method::POST,
        format!("{base}/chats"),
        Some(json!({"name": "Trip", "from_type": "flow", "from_flow": "f1"})),
    )
    .await;
    assert_eq!(status, 200, "the documented body has no owner: {body}");
    let chat: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(chat["status"], "ready");
    let id = chat["id"].as_str().unwrap();
    assert!(chat["created"].as_str().unwrap().contains(' '), "PocketBase time");

    let (status, body) = flowgen(
        reqwest::Method::POST,
        format!("{base}/chats/{id}/messages"),
        Some(json!({"message": "Book it after my approval"})),
    )
    .await;
    assert_eq!((status, body.as_str()), (200, "{}"), "answers at once");
    wait_status(&base, id, "wait_for_human_input").await;
    let (_, reply) = flowgen(
        reqwest::Method::POST,
        format!("{base}/chats/{id}/input"),
        Some(json!({"message": "yes"})),
    )
    .await;
    assert_eq!(reply, r#"{"detail":"Input sent to assistant."}"#);
    wait_status(&base, id, "completed").await;
    let (status, history) = flowgen(reqwest::Method::GET, format!("{base}/chats/{id}/messages"), None).await;
    assert_eq!(status, 200);
    let history: Vec<Value> = serde_json::from_str(&history).unwrap();
    let contents: Vec<&str> = history.iter().map(|m| m["content"].as_str().unwrap()).collect();
    assert!(
        contents
            .iter()
            .any(|c| c.starts_with("__STATUS_WAIT_FOR_HUMAN_INPUT__"))
    );
    assert!(
        contents.contains(&"Thanks, received \"yes\". Done: Book it after my approval"),
        "{contents:?}"
    );
    assert_eq!(contents.last(), Some(&"__STATUS_COMPLETED__ DONE"));
    let (_, late) = flowgen(
        reqwest::Method::POST,
        format!("{base}/chats/{id}/input"),
        Some(json!({"message": "late"})),
    )
    .await;
    assert!(late.contains("No assistant found"), "{late}");

    let (status, _) = flowgen(
        reqwest::Method::POST,
        format!("{base}/chats/{id}/messages"),
        Some(json!({"content": "x"})),
    )
    .await;
    assert_eq!(status, 422, "the documented contract needs `message`");
    let (status, body) = flowgen(reqwest::Method::DELETE, format!("{base}/chats/{id}"), None).await;
    assert_eq!((status, body.as_str()), (200, r#"{"result":true}"#));
    let (status, _) = flowgen(reqwest::Method::GET, format!("{base}/chats/{id}"), None).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn flowgen_open_source_contract() {
    let sandbox = Sandbox::builder()
        .flowgen_contract(FlowgenContract::OpenSource)
        .start()
        .await
        .unwrap();
    let base = sandbox.base_url();
    let (status, body) = flowgen(
        reqwest::Method::POST,
        format!("{base}/chats"),
        Some(json!({"name": "Trip", "from_type": "flow", "from_flow": "f1"})),
    )
    .await;
    assert_eq!(status, 422, "owner is required: {body}");
    assert!(body.contains("owner"));
    let (_, body) = flowgen(
        reqwest::Method::POST,
        format!("{base}/chats"),
        Some(json!({"name": "Trip", "from_type": "flow", "from_flow": "f1", "owner": ""})),
    )
    .await;
    let chat: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(chat["status"], "");
    let id = chat["id"].as_str().unwrap();

    let (status, _) = flowgen(
        reqwest::Method::POST,
        format!("{base}/chats/{id}/messages"),
        Some(json!({"message": "hi"})),
    )
    .await;
    assert_eq!(status, 422, "the open-source server needs the Message record");
    let body = json!({"message": "hi there", "content": "hi there", "chat": id, "type": "user", "owner": ""});
    let (status, answer) = flowgen(
        reqwest::Method::POST,
        format!("{base}/chats/{id}/messages"),
        Some(body),
    )
    .await;
    assert_eq!(
        (status, answer.as_str()),
        (200, "null"),
        "the send answers when the run has ended"
    );
    let (_, record) = flowgen(reqwest::Method::GET, format!("{base}/chats/{id}"), None).await;
    assert!(record.contains(r#""status":"completed""#), "{record}");

    let failing = json!({"content": "[fail] now", "chat": id, "type": "user", "owner": ""});
    flowgen(
        reqwest::Method::POST,
        format!("{base}/chats/{id}/messages"),
        Some(failing),
    )
    .await;
    let (_, record) = flowgen(reqwest::Method::GET, format!("{base}/chats/{id}"), None).await;
    assert!(record.contains(r#""status":"failed""#), "{record}");

    let (status, body) = flowgen(reqwest::Method::GET, format!("{base}/chats/{id}/messages"), None).await;
    assert_eq!(
        (status, body.as_str()),
        (405, r#"{"detail":"Method Not Allowed"}"#)
    );
    let (status, _) = flowgen(reqwest::Method::DELETE, format!("{base}/chats/{id}"), None).await;
    assert_eq!(status, 405);
    let (status, body) = flowgen(
        reqwest::Method::GET,
        format!("{base}/chats/nosuchchat00000"),
        None,
    )
    .await;
    assert_eq!((status, body.as_str()), (500, "Internal Server Error"));
    let wrong = http()
        .get(format!("{base}/chats"))
        .header("x-api-key", "fg_wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 500);
    let (_, abort) = flowgen(reqwest::Method::POST, format!("{base}/chats/{id}/abort"), None).await;
    assert!(abort.contains("No assistant found"), "{abort}");
}

#[tokio::test]
async fn open_source_abort_ends_a_waiting_run() {
    let sandbox = Sandbox::builder()
        .flowgen_contract(FlowgenContract::OpenSource)
        .start()
        .await
        .unwrap();
    let base = sandbox.base_url();
    let (_, body) = flowgen(
        reqwest::Method::POST,
        format!("{base}/chats"),
        Some(json!({"name": "t", "from_type": "flow", "owner": ""})),
    )
    .await;
    let id = serde_json::from_str::<Value>(&body).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let send = {
        let (base, id) = (base.clone(), id.clone());
        tokio::spawn(async move {
            let body = json!({"content": "needs human input", "chat": id, "type": "user", "owner": ""});
            flowgen(
                reqwest::Method::POST,
                format!("{base}/chats/{id}/messages"),
                Some(body),
            )
            .await
        })
    };
    wait_status(&base, &id, "wait_for_human_input").await;
    let (_, abort) = flowgen(reqwest::Method::POST, format!("{base}/chats/{id}/abort"), None).await;
    assert!(abort.contains("terminated"), "{abort}");
    assert_eq!(
        send.await.unwrap(),
        (200, "null".to_string()),
        "the blocked send returns"
    );
    let record = wait_status(&base, &id, "aborted").await;
    assert_eq!(record["status"], "aborted");
}
