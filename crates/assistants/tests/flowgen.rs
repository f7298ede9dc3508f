//! The FlowGen adapter against the sandbox in both contracts.

use std::time::Duration;

use assistants::{AnswerWith, Error, FlowGen, NoInput, Outcome, PollPolicy, Settings};
use assistants_sandbox::{DEFAULT_API_KEY, FlowgenContract, Sandbox};

use crate::within;

fn flowgen(sandbox: &Sandbox, poll: Duration) -> FlowGen {
    let api = flowgen_api::Client::with_api_key(&sandbox.base_url(), DEFAULT_API_KEY.into()).unwrap();
    FlowGen::new(api, Settings::default().with_poll(PollPolicy::fixed(poll)))
}

async fn sandbox(contract: FlowgenContract) -> Sandbox {
    Sandbox::builder()
        .flowgen_contract(contract)
        .start()
        .await
        .unwrap()
}

#[tokio::test]
async fn documented_contract_answers_questions_and_returns_the_turn() {
    let sandbox = sandbox(FlowgenContract::Documented).await;
    let fg = flowgen(&sandbox, Duration::from_millis(1));
    let chat = fg.create_chat("Trip", "flow1").await.unwrap();
    let mut asked = Vec::new();
    let outcome = within(fg.send_and_wait(
        &chat.id,
        "Book it after my approval",
        AnswerWith(|prompt: &str| {
            asked.push(prompt.to_string());
            Some("yes".to_string())
        }),
    ))
    .await
    .unwrap();
    let Outcome::Completed { answer, messages } = outcome else {
        panic!("expected completion, got {outcome:?}")
    };
    assert_eq!(
        answer,
        "Thanks, received \"yes\". Done: Book it after my approval"
    );
    assert!(
        messages.iter().all(|m| !m.text.starts_with("__STATUS_")),
        "{messages:?}"
    );
    assert_eq!(
        messages.first().map(|m| m.text.as_str()),
        Some("Book it after my approval")
    );
    assert_eq!(
        asked,
        ["Do you approve this request: \"Book it after my approval\"? (yes/no)"]
    );

    // A second turn is not confused by the first run's terminal status.
    let outcome = within(fg.send_and_wait(&chat.id, "and now the hotel", NoInput))
        .await
        .unwrap();
    assert_eq!(
        outcome.answer(),
        Some("Answer to \"and now the hotel\": 4 words received.")
    );
}

#[tokio::test]
async fn open_source_contract_blocks_on_send_and_has_no_history() {
    let sandbox = sandbox(FlowgenContract::OpenSource).await;
    let fg = flowgen(&sandbox, Duration::from_millis(1));
    let chat = fg.create_chat("Trip", "flow1").await.unwrap();
    let outcome = within(fg.send_and_wait(&chat.id, "hello there", NoInput))
        .await
        .unwrap();
    assert!(matches!(outcome, Outcome::Completed { .. }), "{outcome:?}");
    assert_eq!(
        fg.get_chat(&chat.id).await.unwrap().status,
        flowgen_api::types::ChatStatus::Completed
    );
    let err = fg.history(&chat.id).await.unwrap_err();
    assert!(matches!(err, Error::Unsupported { status: 405, .. }), "{err}");
    assert!(
        err.to_string().contains("does not support message history"),
        "{err}"
    );
    let err = fg.delete_chat(&chat.id).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Unsupported {
                operation: "chat deletion",
                ..
            }
        ),
        "{err}"
    );
    let answered = within(fg.send_and_wait(
        &chat.id,
        "needs human input",
        AnswerWith(|_: &str| Some("ok".into())),
    ))
    .await
    .unwrap();
    assert!(matches!(answered, Outcome::Completed { .. }), "{answered:?}");
}

#[tokio::test]
async fn unanswered_questions_and_failures_are_outcomes() {
    for contract in [FlowgenContract::Documented, FlowgenContract::OpenSource] {
        let sandbox = sandbox(contract).await;
        let fg = flowgen(&sandbox, Duration::from_millis(1));
        let chat = fg.create_chat("t", "flow1").await.unwrap();
        let needs = within(fg.send_and_wait(&chat.id, "I need human input here", NoInput))
            .await
            .unwrap();
        assert!(
            matches!(needs, Outcome::NeedsInput { .. }),
            "{contract:?}: {needs:?}"
        );
        let chat = fg.create_chat("t", "flow1").await.unwrap();
        let failed = within(fg.send_and_wait(&chat.id, "please [fail]", NoInput))
            .await
            .unwrap();
        assert!(
            matches!(failed, Outcome::Failed { .. }),
            "{contract:?}: {failed:?}"
        );
        assert_eq!(
            sandbox.requests_for("send_message"),
            2,
            "{contract:?}: each send once"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn many_waiters_share_one_poll_loop() {
    let sandbox = sandbox(FlowgenContract::Documented).await;
    let fg = flowgen(&sandbox, Duration::from_millis(20));
    let chat = fg.create_chat("t", "flow1").await.unwrap();
    // Start a run that stays waiting for input until we answer.
    let send = {
        let fg = fg.clone();
        let id = chat.id.clone();
        tokio::spawn(async move { within(fg.send_and_wait(&id, "wait for my approval", NoInput)).await })
    };
    assert!(matches!(send.await.unwrap().unwrap(), Outcome::NeedsInput { .. }));
    let before = sandbox.requests_for("get_chat");
    let waiters = (0..200).map(|_| {
        fg.wait_until(&chat.id, |c| {
            c.status == flowgen_api::types::ChatStatus::Completed
        })
    });
    let answer = async {
        fg.send_input(&chat.id, "yes").await.unwrap();
    };
    let (results, ()) = tokio::join!(within(futures::future::join_all(waiters)), answer);
    assert!(results.iter().all(|r| r.is_ok()));
    let polls = sandbox.requests_for("get_chat") - before;
    // One loop for 200 waiters: its one status read (virtual time, instant replies) after the
    // answer sees the run completed.
    assert_eq!(polls, 1, "200 waiters made {polls} status reads");
}

#[tokio::test]
async fn invalid_ids_and_messages_never_reach_the_server() {
    let sandbox = sandbox(FlowgenContract::Documented).await;
    let fg = flowgen(&sandbox, Duration::from_millis(1));
    for id in ["", " ", &"x".repeat(2000)] {
        assert!(matches!(fg.get_chat(id).await, Err(Error::InvalidArgument(_))));
    }
    assert!(matches!(
        within(fg.send_and_wait("abc", "", NoInput)).await,
        Err(Error::InvalidArgument(_))
    ));
    assert!(sandbox.requests().is_empty(), "{:?}", sandbox.requests());
    // Hostile ids stay inside their path segment.
    let err = fg
        .get_chat("../../v3/flow-assistants/create?x=#")
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(404), "{err}");
    assert_eq!(
        sandbox.requests_for("get_chat"),
        1,
        "it reached get_chat, not another route"
    );
}

#[tokio::test(start_paused = true)]
async fn handles_taken_per_request_from_one_client_share_one_poll_loop() {
    let sandbox = sandbox(FlowgenContract::Documented).await;
    let client = assistants::Client::new(
        assistants::Config::default()
            .with_base_url(&sandbox.base_url())
            .with_flowgen_key(assistants_sandbox::DEFAULT_API_KEY)
            .with_settings(Settings::default().with_poll(PollPolicy::fixed(Duration::from_millis(20)))),
    );
    let chat = client.flowgen().unwrap().create_chat("t", "flow1").await.unwrap();
    let first = client.flowgen().unwrap();
    let id = chat.id.clone();
    let asked = within(first.send_and_wait(&id, "wait for my approval", NoInput))
        .await
        .unwrap();
    assert!(matches!(asked, Outcome::NeedsInput { .. }));
    let before = sandbox.requests_for("get_chat");
    // Two handles, as a web service taking `client.flowgen()` per request would hold.
    let waiters = (0..100).map(|_| {
        let handle = client.flowgen().unwrap();
        let id = id.clone();
        async move {
            handle
                .wait_until(&id, |c| c.status == flowgen_api::types::ChatStatus::Completed)
                .await
        }
    });
    let answer = async { client.flowgen().unwrap().send_input(&id, "yes").await.unwrap() };
    let (results, ()) = tokio::join!(within(futures::future::join_all(waiters)), answer);
    assert!(results.iter().all(|r| r.is_ok()));
    let polls = sandbox.requests_for("get_chat") - before;
    // One loop for 100 handles of one client: one status read, as for one waiter.
    assert_eq!(polls, 1, "100 handles made {polls} status reads");
}

/// Reads of 400 ms each before the send (status, history), then the wait: one deadline of
/// 1 s covers them all and fires at exactly 1 s of virtual time, with the send sent once.
#[tokio::test(start_paused = true)]
async fn one_deadline_covers_the_reads_before_the_send() {
    const CHAT: &str = r#"{"id": "c1", "name": "n", "status": "ready", "created": "2024-03-14 08:21:05.412Z",
        "updated": "2024-03-14 08:21:05.412Z", "from_type": "flow", "owner": ""}"#;
    let raw = crate::raw::Raw::start_with_delay(
        std::sync::Arc::new(|line, _| {
            let body = match line {
                "GET /chats/c1" => CHAT,
                "GET /chats/c1/messages" => "[]",
                _ => "{}",
            };
            Some(crate::raw::json("200 OK", body, ""))
        }),
        std::sync::Arc::new(|line| match line {
            "GET /chats/c1" | "GET /chats/c1/messages" => Duration::from_millis(400),
            _ => Duration::ZERO,
        }),
    )
    .await;
    let fg = FlowGen::new(
        flowgen_api::Client::with_api_key(&raw.base, "k".into()).unwrap(),
        Settings::default().with_operation_timeout(Some(Duration::from_millis(1000))),
    );
    let start = tokio::time::Instant::now();
    let err = within(fg.send_and_wait("c1", "hello", NoInput))
        .await
        .unwrap_err();
    let took = start.elapsed();
    match err {
        Error::Deadline { limit, elapsed } => {
            assert_eq!(limit, Duration::from_millis(1000));
            assert_eq!(elapsed, limit, "at the deadline, not later");
        }
        other => panic!("expected the deadline, got {other}"),
    }
    assert_eq!(
        took,
        Duration::from_millis(1000),
        "one deadline, not one per call"
    );
    // The status read and the history (0-800 ms), the send (800 ms), and the first status
    // poll, still in flight when the deadline cancels it.
    let expected = [
        ("GET /chats/c1", 2),
        ("GET /chats/c1/messages", 1),
        ("POST /chats/c1/messages", 1),
    ];
    assert_eq!(
        raw.counts(),
        expected.map(|(k, n)| (k.to_string(), n)).into(),
        "the send once"
    );
}

#[tokio::test]
async fn dot_segment_ids_never_reach_the_server() {
    let server = httpmock::MockServer::start_async().await;
    let any = server
        .mock_async(|when, then| {
            when.any_request();
            then.status(200).json_body(serde_json::json!({}));
        })
        .await;
    let fg = FlowGen::new(
        flowgen_api::Client::with_api_key(&server.base_url(), "k".into()).unwrap(),
        Settings::default(),
    );
    for id in [".", ".."] {
        assert!(
            matches!(fg.get_chat(id).await, Err(Error::InvalidArgument(_))),
            "{id}"
        );
        assert!(
            matches!(fg.delete_chat(id).await, Err(Error::InvalidArgument(_))),
            "{id}"
        );
        assert!(
            matches!(fg.history(id).await, Err(Error::InvalidArgument(_))),
            "{id}"
        );
        assert!(
            matches!(fg.send_input(id, "yes").await, Err(Error::InvalidArgument(_))),
            "{id}"
        );
        assert!(
            matches!(
                within(fg.send_and_wait(id, "hi", NoInput)).await,
                Err(Error::InvalidArgument(_))
            ),
            "{id}"
        );
        assert!(
            matches!(fg.create_chat("n", id).await, Err(Error::InvalidArgument(_))),
            "{id}"
        );
    }
    assert_eq!(any.calls_async().await, 0);
}
