//! What the sandbox's test binaries share: FlowHunt's calls over raw HTTP (the sandbox is
//! tested as a server here, without the generated clients).
#![allow(dead_code)] // each test binary uses its own part

use serde_json::{Value, json};

/// Creates a FlowHunt session in workspace `w`; its id.
pub async fn flowhunt_session(client: &reqwest::Client, base: &str) -> String {
    let session: Value = client
        .post(format!("{base}/v3/flow-assistants/create?workspace_id=w"))
        .bearer_auth("t")
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    session["session_id"].as_str().unwrap().to_string()
}

/// Invokes session `sid` with `message`.
pub async fn flowhunt_invoke(
    client: &reqwest::Client,
    base: &str,
    sid: &str,
    message: &str,
) -> reqwest::Response {
    client
        .post(format!("{base}/v3/flow-assistants/{sid}/invoke"))
        .bearer_auth("t")
        .json(&json!({"message": message}))
        .send()
        .await
        .unwrap()
}

/// The events of session `sid` the poll from `from` returns.
pub async fn flowhunt_poll(
    client: &reqwest::Client,
    base: &str,
    sid: &str,
    from: impl std::fmt::Display,
) -> Vec<Value> {
    client
        .post(format!(
            "{base}/v3/flow-assistants/{sid}/invocation_response/{from}"
        ))
        .bearer_auth("t")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}
