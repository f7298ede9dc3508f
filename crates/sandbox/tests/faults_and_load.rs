//! Fault injection (deterministic by seed) and state under 1,000 parallel requests.

use std::collections::HashSet;
use std::time::Duration;

use assistants_sandbox::{DEFAULT_API_KEY, Faults, Sandbox};
use futures::StreamExt;
use serde_json::{Value, json};

mod common;
use common::{flowhunt_invoke, flowhunt_poll, flowhunt_session};

async fn statuses(sandbox: &Sandbox, n: usize) -> Vec<u16> {
    let client = reqwest::Client::new();
    let mut out = Vec::new();
    for _ in 0..n {
        let response = client
            .get(format!("{}/conversations/identifiers", sandbox.base_url()))
            .send()
            .await
            .unwrap();
        out.push(response.status().as_u16());
    }
    out
}

#[tokio::test]
async fn injected_429_carries_retry_after_and_503_and_drops() {
    let faults = Faults {
        rate_429: 1.0,
        retry_after_secs: 7,
        ..Faults::default()
    };
    let sandbox = Sandbox::builder().faults(faults).start().await.unwrap();
    let response = reqwest::get(format!("{}/conversations", sandbox.base_url()))
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["retry-after"], "7");

    let sandbox = Sandbox::builder()
        .faults(Faults {
            rate_5xx: 1.0,
            ..Faults::default()
        })
        .start()
        .await
        .unwrap();
    assert_eq!(statuses(&sandbox, 3).await, [503, 503, 503]);

    let sandbox = Sandbox::builder()
        .faults(Faults {
            rate_drop: 1.0,
            ..Faults::default()
        })
        .start()
        .await
        .unwrap();
    let outcome = match reqwest::get(format!("{}/conversations", sandbox.base_url())).await {
        Ok(response) => response.bytes().await.map(|_| ()),
        Err(e) => Err(e),
    };
    let err = outcome.expect_err("the connection breaks off");
    assert!(
        !err.is_status() && !err.is_decode(),
        "a transport failure, not an HTTP answer: {err:?}"
    );
}

#[tokio::test]
async fn faults_can_be_scoped_to_operations() {
    let faults = Faults {
        rate_5xx: 1.0,
        operations: vec!["conversations_snapshot".into()],
        ..Faults::default()
    };
    let sandbox = Sandbox::builder().faults(faults).start().await.unwrap();
    assert_eq!(
        statuses(&sandbox, 2).await,
        [200, 200],
        "identifiers are not in scope"
    );
    let response = reqwest::get(format!("{}/conversations", sandbox.base_url()))
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
}

#[tokio::test]
async fn the_same_seed_replays_the_same_faults() {
    let faults = Faults {
        rate_5xx: 0.5,
        ..Faults::default()
    };
    let a = Sandbox::builder()
        .faults(faults.clone())
        .seed(42)
        .start()
        .await
        .unwrap();
    let b = Sandbox::builder()
        .faults(faults.clone())
        .seed(42)
        .start()
        .await
        .unwrap();
    let c = Sandbox::builder().faults(faults).seed(7).start().await.unwrap();
    let (sa, sb, sc) = (
        statuses(&a, 40).await,
        statuses(&b, 40).await,
        statuses(&c, 40).await,
    );
    assert_eq!(sa, sb);
    assert_ne!(sa, sc, "another seed gives another sequence");
    assert!(sa.contains(&503) && sa.contains(&200));
}

/// What each of `names` got on each of three tries (status, and the chat id when created),
/// sending them in `order` (`None`: all at once).
async fn creates(sandbox: &Sandbox, names: &[String], order: Option<Vec<usize>>) -> Vec<Vec<(u16, Value)>> {
    let client = reqwest::Client::new();
    let create = |name: String| {
        let (client, base) = (client.clone(), sandbox.base_url());
        async move {
            let response = client
                .post(format!("{base}/chats"))
                .header("x-api-key", DEFAULT_API_KEY)
                .json(&json!({"name": name, "from_type": "flow", "from_flow": "f1"}))
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let id = match status {
                200 => response.json::<Value>().await.unwrap()["id"].clone(),
                _ => Value::Null,
            };
            (status, id)
        }
    };
    let mut results = vec![Vec::new(); names.len()];
    for _try in 0..3 {
        match &order {
            Some(order) => {
                for &i in order {
                    results[i].push(create(names[i].clone()).await);
                }
            }
            None => {
                let all = futures::future::join_all(names.iter().cloned().map(create)).await;
                for (i, result) in all.into_iter().enumerate() {
                    results[i].push(result);
                }
            }
        }
    }
    results
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fault_rolls_and_ids_do_not_depend_on_arrival_order() {
    let faults = Faults {
        rate_5xx: 0.5,
        ..Faults::default()
    };
    let start = |seed| Sandbox::builder().faults(faults.clone()).seed(seed).start();
    let (a, b, c, other) = (
        start(42).await.unwrap(),
        start(42).await.unwrap(),
        start(42).await.unwrap(),
        start(7).await.unwrap(),
    );
    let names: Vec<String> = (0..30).map(|i| format!("chat {i}")).collect();
    let forwards = creates(&a, &names, Some((0..30).collect())).await;
    let backwards = creates(&b, &names, Some((0..30).rev().collect())).await;
    let together = creates(&c, &names, None).await;
    assert_eq!(
        forwards, backwards,
        "the same request gets the same roll and id in any order"
    );
    assert_eq!(forwards, together, "and concurrently");
    let statuses: Vec<u16> = forwards.iter().flatten().map(|(s, _)| *s).collect();
    assert!(statuses.contains(&503) && statuses.contains(&200));
    let injected = u64::try_from(statuses.iter().filter(|s| **s == 503).count()).unwrap();
    assert_eq!(
        a.injected_for("create_chat"),
        injected,
        "injected faults are counted"
    );
    assert_eq!(a.requests_for("create_chat"), 90);
    assert_ne!(
        forwards,
        creates(&other, &names, Some((0..30).collect())).await,
        "another seed, other faults"
    );
}

#[tokio::test]
async fn flowhunt_boundaries_are_switchable() {
    use assistants_sandbox::FlowhuntBoundary;
    for inclusive in [false, true] {
        let boundary = FlowhuntBoundary::exclusive()
            .with_inclusive(inclusive)
            .with_shared_millisecond(true);
        let sandbox = Sandbox::builder()
            .flowhunt_boundary(boundary)
            .start()
            .await
            .unwrap();
        let client = reqwest::Client::new();
        let base = sandbox.base_url();
        let sid = flowhunt_session(&client, &base).await;
        flowhunt_invoke(&client, &base, &sid, "hi").await;
        let poll = |from: u64| flowhunt_poll(&client, &base, &sid, from);
        let all = poll(0).await;
        let stamps: Vec<u64> = all
            .iter()
            .map(|e| e["created_at_timestamp"].as_str().unwrap().parse().unwrap())
            .collect();
        let first = stamps[0];
        assert_eq!(
            stamps,
            [first, first + 1, first + 2, first + 2, first + 2],
            "tool end and answer share the tool start's millisecond"
        );
        let at = poll(first + 2).await;
        assert_eq!(at.len(), if inclusive { 3 } else { 0 }, "inclusive: {inclusive}");
        assert_eq!(poll(first + 1).await.len(), if inclusive { 4 } else { 3 });
    }
}

#[tokio::test]
async fn duplicate_boundary_repeats_the_event_at_the_cursor() {
    let sandbox = Sandbox::builder()
        .faults(Faults {
            duplicate_boundary: true,
            ..Faults::default()
        })
        .start()
        .await
        .unwrap();
    let client = reqwest::Client::new();
    let base = sandbox.base_url();
    let sid = flowhunt_session(&client, &base).await;
    flowhunt_invoke(&client, &base, &sid, "hi").await;
    let poll = |from: String| flowhunt_poll(&client, &base, &sid, from);
    let all = poll("0".into()).await;
    let last_ts = all.last().unwrap()["created_at_timestamp"]
        .as_str()
        .unwrap()
        .to_string();
    let again = poll(last_ts.clone()).await;
    assert!(
        !again.is_empty(),
        "an inclusive boundary returns the newest events again"
    );
    assert!(again.iter().all(|e| e["created_at_timestamp"] == json!(last_ts)));
    let shared: HashSet<&str> = all
        .iter()
        .map(|e| e["created_at_timestamp"].as_str().unwrap())
        .collect();
    assert!(shared.len() < all.len(), "some events share a millisecond");
}

#[tokio::test]
async fn websocket_drops_after_the_configured_frames() {
    let sandbox = Sandbox::builder()
        .faults(Faults {
            ws_drop_after: Some(1),
            ..Faults::default()
        })
        .start()
        .await
        .unwrap();
    let base = sandbox.base_url();
    let url = format!("{}/conversations/stream/identifiers", base.replace("http", "ws"));
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    assert!(ws.next().await.unwrap().is_ok(), "the first frame arrives");
    reqwest::Client::new()
        .post(format!("{base}/conversations/create"))
        .json(&json!({"type": "COPILOT"}))
        .send()
        .await
        .unwrap();
    match ws.next().await {
        None | Some(Err(_)) => {}
        Some(Ok(frame)) => assert!(frame.is_close(), "expected the socket to drop, got {frame:?}"),
    }
}

#[tokio::test]
async fn latency_is_added_on_tokio_time() {
    let sandbox = Sandbox::builder()
        .faults(Faults {
            latency: Duration::from_millis(30),
            ..Faults::default()
        })
        .start()
        .await
        .unwrap();
    let started = std::time::Instant::now();
    statuses(&sandbox, 1).await;
    assert!(
        started.elapsed() >= Duration::from_millis(30),
        "latency is a lower bound, never an upper one"
    );
}

/// 1,000 parallel requests of mixed operations: nothing lost, nothing corrupted, no 5xx.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_parallel_requests_lose_nothing() {
    let sandbox = Sandbox::start().await.unwrap();
    let base = sandbox.base_url();
    let client = reqwest::Client::new();
    let sid = flowhunt_session(&client, &base).await;
    let results = futures::stream::iter(0..1000)
        .map(|i| {
            let (client, base, sid) = (client.clone(), base.clone(), sid.clone());
            async move {
                let response = match i % 5 {
                    0 => client
                        .post(format!("{base}/conversations/create"))
                        .json(&json!({"name": format!("c{i}"), "type": "COPILOT"})),
                    1 => client
                        .post(format!("{base}/chats"))
                        .header("x-api-key", DEFAULT_API_KEY)
                        .json(&json!({"name": format!("chat{i}"), "from_type": "flow"})),
                    2 => client
                        .post(format!("{base}/v3/flow-assistants/{sid}/invoke"))
                        .json(&json!({"message": format!("m{i}")})),
                    3 => client.get(format!("{base}/conversations/identifiers")),
                    _ => client
                        .post(format!("{base}/chats"))
                        .header("x-api-key", DEFAULT_API_KEY)
                        .json(&json!({"name": 5})),
                }
                .send()
                .await
                .unwrap();
                (i % 5, response.status().as_u16())
            }
        })
        .buffer_unordered(200)
        .collect::<Vec<_>>()
        .await;
    for (kind, status) in &results {
        let expected = if *kind == 4 { 422 } else { 200 };
        assert_eq!(*status, expected, "request kind {kind}");
    }
    let ids: Value = client
        .get(format!("{base}/conversations/identifiers"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let unique: HashSet<&str> = ids["iterable"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(unique.len(), 200, "every created conversation is there, once");
    let chats: Vec<Value> = client
        .get(format!("{base}/chats"))
        .header("x-api-key", DEFAULT_API_KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(chats.len(), 200);
    let events = flowhunt_poll(&client, &base, &sid, 0).await;
    assert_eq!(events.len(), 200 * 5, "five events per invocation, none lost");
    let event_ids: HashSet<&str> = events.iter().map(|e| e["event_id"].as_str().unwrap()).collect();
    assert_eq!(event_ids.len(), events.len());
    assert_eq!(
        sandbox.requests_for("conversations_create_specific_conversation"),
        200
    );
    assert_eq!(sandbox.requests_for("invoke_v3_flow_assistant_response"), 200);
}

#[tokio::test]
async fn drops_break_before_the_head_or_mid_body() {
    let sandbox = Sandbox::builder()
        .faults(Faults {
            rate_drop: 1.0,
            ..Faults::default()
        })
        .start()
        .await
        .unwrap();
    let client = reqwest::Client::new();
    let (mut before_head, mut mid_body) = (0, 0);
    for i in 0..40 {
        let sent = client
            .post(format!("{}/chats", sandbox.base_url()))
            .header("x-api-key", DEFAULT_API_KEY)
            .json(&json!({"name": format!("chat {i}"), "from_type": "flow", "from_flow": "f1"}))
            .send()
            .await;
        match sent {
            Err(error) => {
                assert!(!error.is_connect(), "the request was read: {error:?}");
                before_head += 1;
            }
            Ok(response) => {
                assert_eq!(response.status(), 200);
                let body = response.bytes().await.expect_err("the body breaks");
                assert!(body.is_body() || body.is_decode(), "{body:?}");
                mid_body += 1;
            }
        }
    }
    assert!(before_head > 5 && mid_body > 5, "{before_head} / {mid_body}");
    assert_eq!(sandbox.injected_for("create_chat"), 40);
}
