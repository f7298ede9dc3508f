//! The FlowGen adapter against the sandbox in both contracts.

use std::time::Duration;

use assistants::{AnswerWith, Error, FlowGen, NoInput, Outcome, PollPolicy, Settings};
use assistants_sandbox::{DEFAULT_API_KEY, FlowgenContract, Sandbox};

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
    let outcome = fg
        .send_and_wait(
            &chat.id,
            "Book it after my approval",
            AnswerWith(|prompt: &str| {
                asked.push(prompt.to_string());
                Some("yes".to_string())
            }),
        )
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
    let outcome = fg
        .send_and_wait(&chat.id, "and now the hotel", NoInput)
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
    let outcome = fg.send_and_wait(&chat.id, "hello there", NoInput).await.unwrap();
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
    let answered = fg
        .send_and_wait(
            &chat.id,
            "needs human input",
            AnswerWith(|_: &str| Some("ok".into())),
        )
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
        let needs = fg
            .send_and_wait(&chat.id, "I need human input here", NoInput)
            .await
            .unwrap();
        assert!(
            matches!(needs, Outcome::NeedsInput { .. }),
            "{contract:?}: {needs:?}"
        );
        let chat = fg.create_chat("t", "flow1").await.unwrap();
        let failed = fg
            .send_and_wait(&chat.id, "please [fail]", NoInput)
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

#[tokio::test]
async fn many_waiters_share_one_poll_loop() {
    let sandbox = sandbox(FlowgenContract::Documented).await;
    let fg = flowgen(&sandbox, Duration::from_millis(20));
    let chat = fg.create_chat("t", "flow1").await.unwrap();
    // Start a run that stays waiting for input until we answer.
    let send = {
        let fg = fg.clone();
        let id = chat.id.clone();
        tokio::spawn(async move { fg.send_and_wait(&id, "wait for my approval", NoInput).await })
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
    let (results, ()) = tokio::join!(futures::future::join_all(waiters), answer);
    assert!(results.iter().all(|r| r.is_ok()));
    let polls = sandbox.requests_for("get_chat") - before;
    assert!(
        polls < 20,
        "200 waiters made {polls} status reads: requests scale with chats, not waiters"
    );
}

#[tokio::test]
async fn invalid_ids_and_messages_never_reach_the_server() {
    let sandbox = sandbox(FlowgenContract::Documented).await;
    let fg = flowgen(&sandbox, Duration::from_millis(1));
    for id in ["", " ", &"x".repeat(2000)] {
        assert!(matches!(fg.get_chat(id).await, Err(Error::InvalidArgument(_))));
    }
    assert!(matches!(
        fg.send_and_wait("abc", "", NoInput).await,
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
