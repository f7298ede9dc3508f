//! The FlowHunt adapter against the sandbox (and httpmock where a server must misbehave
//! precisely): outcomes, exactly-once ordered delivery, welcome messages, cursors, deadlines,
//! retries, input checks, and streams sharing one poll loop per session.

use std::collections::HashSet;
use std::time::Duration;

use assistants::{AskEvent, Error, FlowHunt, Outcome, PollPolicy, RetryPolicy, Settings};
use assistants_sandbox::{Faults, FlowhuntBoundary, Sandbox, Timing};
use futures::StreamExt;

use crate::{WAIT, next};

fn settings() -> Settings {
    Settings::default().with_poll(PollPolicy::fixed(Duration::from_millis(1)))
}

fn flowhunt(base: &str, settings: Settings) -> FlowHunt {
    let api = flowhunt_api::Client::with_api_key(base, "test-key".into()).unwrap();
    FlowHunt::new(api, Some("workspace-1".into()), settings)
}

async fn collect(
    stream: assistants::EventStream<AskEvent>,
) -> (Vec<flowhunt_api::types::FlowSessionEvent>, Option<Outcome>) {
    let items: Vec<_> = tokio::time::timeout(WAIT, stream.collect())
        .await
        .expect("the stream stalled");
    let mut events = Vec::new();
    let mut outcome = None;
    for item in items {
        match item.expect("no error") {
            AskEvent::Event { event, .. } => events.push(*event),
            AskEvent::Done { outcome: o, .. } => outcome = Some(o),
            other => panic!("unexpected {other:?}"),
        }
    }
    (events, outcome)
}

const WELCOME: &str = "Hi! I am the sandbox flow assistant. How can I help?";

/// On either boundary `ask` answers with the reply, not the welcome; resumed from the start
/// of the session (where the welcome reaches the event stream), the welcome is an event of
/// an earlier turn and the answer is still the reply.
#[tokio::test(start_paused = true)]
async fn ask_once_returns_the_answer_not_the_welcome_message() {
    for inclusive in [false, true] {
        let sandbox = Sandbox::builder()
            .flowhunt_boundary(FlowhuntBoundary::exclusive().with_inclusive(inclusive))
            .start()
            .await
            .unwrap();
        let fh = flowhunt(&sandbox.base_url(), settings());
        let request = flowhunt_api::types::FlowAssistantSessionCreateRequest::builder()
            .start_with_welcome_message(Some(true));
        let session = fh.create_session_with(request.try_into().unwrap()).await.unwrap();
        let answer = "Answer to \"what is a flow\": 4 words received.";
        match session.ask_once("what is a flow").await.unwrap() {
            Outcome::Completed {
                answer: got,
                messages,
            } => {
                assert_eq!(got, answer, "inclusive: {inclusive}");
                assert!(
                    messages.iter().all(|m| m.text != WELCOME),
                    "no welcome: {messages:?}"
                );
            }
            other => panic!("expected an answer, got {other:?}"),
        }
        let from_start = assistants::Cursor::at(session.id(), 0).with_message("what is a flow");
        let (events, outcome) = collect(session.resume(from_start)).await;
        let text = |e: &flowhunt_api::types::FlowSessionEvent| {
            e.metadata
                .as_ref()
                .and_then(|m| m["message"].as_str())
                .map(String::from)
        };
        assert_eq!(
            text(&events[0]).as_deref(),
            Some(WELCOME),
            "the welcome reached the stream"
        );
        assert_eq!(events.len(), 6, "the welcome and the turn's five events");
        assert_eq!(outcome.as_ref().and_then(Outcome::answer), Some(answer));
    }
}

#[tokio::test]
async fn questions_and_failures_become_outcomes() {
    let sandbox = Sandbox::start().await.unwrap();
    let session = flowhunt(&sandbox.base_url(), settings())
        .create_session()
        .await
        .unwrap();
    let needs = session.ask_once("deploy after my approval").await.unwrap();
    assert!(
        matches!(needs, Outcome::NeedsInput { ref prompt } if prompt.contains("Do you approve")),
        "{needs:?}"
    );
    let failed = session.ask_once("please [fail]").await.unwrap();
    assert!(
        matches!(failed, Outcome::Failed { ref reason } if reason.contains("scripted failure")),
        "{failed:?}"
    );
}

/// Three events in one millisecond, visible 10 ms apart, against exclusive and inclusive
/// servers (and the same schedule with one millisecond per event): each event once, in order,
/// and exactly one poll per 5 ms tick of the fixed policy until the answer is due at 20 ms.
#[tokio::test(start_paused = true)]
async fn boundary_events_are_delivered_once_in_order_on_any_server() {
    let ms = Duration::from_millis;
    for (inclusive, shared) in [(false, false), (false, true), (true, false), (true, true)] {
        let sandbox = Sandbox::builder()
            .flowhunt_boundary(
                FlowhuntBoundary::exclusive()
                    .with_inclusive(inclusive)
                    .with_shared_millisecond(shared),
            )
            .timing(Timing::flowhunt_schedule([ms(0), ms(0), ms(0), ms(10), ms(20)]))
            .start()
            .await
            .unwrap();
        let settings = Settings::default().with_poll(PollPolicy::fixed(ms(5)));
        let session = flowhunt(&sandbox.base_url(), settings)
            .create_session()
            .await
            .unwrap();
        let (events, outcome) = collect(session.ask("hello there")).await;
        let case = format!("inclusive {inclusive}, shared {shared}");
        let ids: Vec<&str> = events.iter().map(|e| e.event_id.as_str()).collect();
        let unique: HashSet<&&str> = ids.iter().collect();
        assert_eq!((unique.len(), ids.len()), (5, 5), "{case}: each event once");
        let stamps: Vec<u64> = events
            .iter()
            .map(|e| e.created_at_timestamp.parse().unwrap())
            .collect();
        let c = stamps[0];
        let expected = if shared {
            [c, c + 1, c + 2, c + 2, c + 2]
        } else {
            [c, c + 1, c + 2, c + 10, c + 20]
        };
        assert_eq!(stamps, expected, "{case}: in order");
        assert_eq!(
            outcome.as_ref().and_then(Outcome::answer),
            Some("Answer to \"hello there\": 2 words received."),
            "{case}"
        );
        assert_eq!(
            sandbox.requests_for("poll_v3_flow_assistant_response"),
            5,
            "{case}: polls at 0, 5, 10, 15 and 20 ms"
        );
    }
}

#[tokio::test]
async fn a_cursor_resumes_in_a_new_client_with_nothing_lost_or_repeated() {
    let sandbox = Sandbox::start().await.unwrap();
    let session = flowhunt(&sandbox.base_url(), settings())
        .create_session()
        .await
        .unwrap();
    let mut stream = session.ask("resume me please");
    let mut first = Vec::new();
    let mut cursor = None;
    for _ in 0..2 {
        if let Some(Ok(AskEvent::Event { event, cursor: c })) = next(&mut stream).await {
            first.push(event.event_id);
            cursor = Some(c);
        }
    }
    drop(stream); // the process "restarts"
    let saved = serde_json::to_string(&cursor.unwrap()).unwrap();

    let fresh = flowhunt(&sandbox.base_url(), settings());
    let cursor: assistants::Cursor = serde_json::from_str(&saved).unwrap();
    let (rest, outcome) = collect(fresh.session(cursor.session_id()).resume(cursor)).await;
    let mut all: Vec<String> = first.clone();
    all.extend(rest.iter().map(|e| e.event_id.clone()));
    let unique: HashSet<&String> = all.iter().collect();
    assert_eq!(unique.len(), all.len(), "nothing repeated");
    assert_eq!(all.len(), 5, "nothing lost");
    assert_eq!(
        outcome.and_then(|o| o.answer().map(String::from)).as_deref(),
        Some("Answer to \"resume me please\": 3 words received.")
    );
    assert_eq!(
        sandbox.requests_for("invoke_v3_flow_assistant_response"),
        1,
        "resume never invokes"
    );
}

#[tokio::test]
async fn out_of_order_events_are_sorted() {
    let server = httpmock::MockServer::start_async().await;
    let event = |id: &str, ts: &str, kind: &str, event_type: &str| {
        serde_json::json!({"workspace_id": "w", "session_id": "s", "event_id": id, "event_type": event_type,
            "created_at_timestamp": ts, "action_type": kind, "credits": 0, "metadata": {"message_id": "m", "message": format!("text {id}")}})
    };
    server
        .mock_async(|when, then| {
            when.method("POST").path("/v3/flow-assistants/s/invoke");
            then.status(200)
                .json_body(serde_json::json!({"message_id": "m", "created_at": "1000"}));
        })
        .await;
    let shuffled = serde_json::json!([
        event("c", "1003", "message", "ai"),
        event("a", "1001", "loading", "ai"),
        event("b", "1002", "v3_tool_call_start", "flow_assistant_action"),
    ]);
    server
        .mock_async(|when, then| {
            when.method("POST")
                .path("/v3/flow-assistants/s/invocation_response/999");
            then.status(200).json_body(shuffled);
        })
        .await;
    let fh = flowhunt(&server.base_url(), settings());
    let (events, outcome) = collect(fh.session("s").ask("hi")).await;
    let ids: Vec<_> = events.iter().map(|e| e.event_id.as_str()).collect();
    assert_eq!(ids, ["a", "b", "c"]);
    assert_eq!(outcome.unwrap().answer(), Some("text c"));
}

#[tokio::test]
async fn an_invoke_that_reached_the_server_is_not_sent_twice() {
    let faults = Faults {
        rate_5xx: 1.0,
        operations: vec!["invoke_v3_flow_assistant_response".into()],
        ..Faults::default()
    };
    let sandbox = Sandbox::builder().faults(faults).start().await.unwrap();
    let session = flowhunt(&sandbox.base_url(), settings())
        .create_session()
        .await
        .unwrap();
    let err = session.ask_once("hello").await.unwrap_err();
    assert_eq!(err.status(), Some(503), "{err}");
    assert_eq!(sandbox.requests_for("invoke_v3_flow_assistant_response"), 1);
}

/// Half the polls get a 429 with `Retry-After: 2`: each is retried after exactly 2 s (virtual
/// time), and the answer arrives.
#[tokio::test(start_paused = true)]
async fn polls_are_retried_through_429s_after_their_retry_after() {
    let faults = Faults {
        rate_429: 0.5,
        retry_after_secs: 2,
        operations: vec!["poll_v3_flow_assistant_response".into()],
        ..Faults::default()
    };
    let sandbox = Sandbox::builder().faults(faults).seed(9).start().await.unwrap();
    let settings = settings().with_retry(RetryPolicy::standard().with_max_attempts(10));
    let session = flowhunt(&sandbox.base_url(), settings)
        .create_session()
        .await
        .unwrap();
    let started = tokio::time::Instant::now();
    let outcome = session.ask_once("hello again").await.unwrap();
    let elapsed = started.elapsed();
    assert_eq!(
        outcome.answer(),
        Some("Answer to \"hello again\": 2 words received.")
    );
    let throttled = sandbox.injected_for("poll_v3_flow_assistant_response");
    assert!(throttled > 0, "the seed throttles some polls");
    let waited = Duration::from_secs(2 * throttled);
    // Instant timing: the events are all there at once, so the only waits are the 429s'.
    assert_eq!(elapsed, waited, "{throttled} x Retry-After: 2 s");
    assert_eq!(
        sandbox.requests_for("poll_v3_flow_assistant_response"),
        throttled + 1,
        "every throttled poll retried, then one answered"
    );
}

#[tokio::test(start_paused = true)]
async fn the_deadline_fires_during_a_slow_response() {
    let faults = Faults {
        latency: Duration::from_secs(30),
        operations: vec![],
        ..Faults::default()
    };
    let sandbox = Sandbox::builder().faults(faults).start().await.unwrap();
    let settings = settings().with_operation_timeout(Some(Duration::from_secs(2)));
    let fh = flowhunt(&sandbox.base_url(), settings);
    let err = fh.session("any").ask_once("hello").await.unwrap_err();
    assert!(
        matches!(err, Error::Deadline { limit, .. } if limit == Duration::from_secs(2)),
        "{err}"
    );
}

#[tokio::test]
async fn bad_input_is_rejected_before_any_request() {
    let sandbox = Sandbox::start().await.unwrap();
    let fh = flowhunt(&sandbox.base_url(), settings());
    for (session, message) in [("s", ""), ("s", "   "), ("", "hi")] {
        let err = fh.session(session).ask_once(message).await.unwrap_err();
        assert!(matches!(err, Error::InvalidArgument(_)), "{err}");
    }
    let huge = "x".repeat(Settings::default().max_message_bytes + 1);
    assert!(matches!(
        fh.session("s").ask_once(huge).await,
        Err(Error::InvalidArgument(_))
    ));
    assert!(sandbox.requests().is_empty(), "{:?}", sandbox.requests());
    let no_workspace = FlowHunt::new(
        flowhunt_api::Client::with_api_key(&sandbox.base_url(), "k".into()).unwrap(),
        None,
        settings(),
    );
    let err = no_workspace.create_session().await.unwrap_err();
    assert!(
        err.to_string().contains("FLOWHUNT_WORKSPACE_ID is not set"),
        "{err}"
    );
}

#[tokio::test]
async fn messages_from_every_unicode_plane_round_trip() {
    let sandbox = Sandbox::start().await.unwrap();
    let session = flowhunt(&sandbox.base_url(), settings())
        .create_session()
        .await
        .unwrap();
    // BMP (Latin, CJK, RTL, combining), SMP (emoji, Linear B), SIP (CJK Ext. B), TIP, SSP tag, private use.
    let message = "héllo 你好 שלום e\u{301} 🦀 \u{10000} \u{20000} \u{30000} \u{E0041} \u{F0000} \u{10FFFD}";
    let outcome = session.ask_once(message).await.unwrap();
    let words = message.split_whitespace().count();
    assert_eq!(
        outcome.answer(),
        Some(format!("Answer to \"{message}\": {words} words received.").as_str())
    );
}

#[tokio::test(start_paused = true)]
async fn many_followers_of_one_invocation_share_one_poll_loop() {
    let sandbox = Sandbox::builder()
        .timing(assistants_sandbox::Timing::realtime(Duration::from_millis(30)))
        .start()
        .await
        .unwrap();
    let fh = flowhunt(
        &sandbox.base_url(),
        Settings::default().with_poll(PollPolicy::fixed(Duration::from_millis(10))),
    );
    let session = fh.create_session().await.unwrap();
    let mut asked = session.ask("share the polling");
    let Some(Ok(AskEvent::Event { event, cursor })) = next(&mut asked).await else {
        panic!("the first event");
    };
    // 100 more streams follow the same invocation from the first event's cursor, each on its
    // own clone of the handle, while the asking stream goes on.
    let followers = (0..100).map(|_| {
        let session = fh.clone().session(cursor.session_id());
        collect(session.resume(cursor.clone()))
    });
    let (rest, followed) = tokio::join!(collect(asked), futures::future::join_all(followers));
    let mut ids = vec![event.event_id.clone()];
    ids.extend(rest.0.iter().map(|e| e.event_id.clone()));
    assert_eq!(
        ids.len(),
        5,
        "echo, loading, tool start, tool end, answer: {ids:?}"
    );
    let answer = rest.1.as_ref().and_then(|o| o.answer()).map(String::from);
    assert!(answer.is_some(), "{:?}", rest.1);
    for (events, outcome) in &followed {
        let theirs: Vec<&str> = events.iter().map(|e| e.event_id.as_str()).collect();
        assert_eq!(theirs, ids[1..], "each follower gets the rest once, in order");
        assert_eq!(
            outcome.as_ref().and_then(|o| o.answer()).map(String::from),
            answer
        );
    }
    let polls = sandbox.requests_for("poll_v3_flow_assistant_response");
    // One loop, one poll per 10 ms tick from the invoke (0 ms) to the answer (120 ms), on
    // virtual time: 13, for 101 streams. Requests scale with sessions, not streams.
    assert_eq!(polls, 13, "101 streams made {polls} polls");
    assert_eq!(sandbox.requests_for("invoke_v3_flow_assistant_response"), 1);
}

#[tokio::test]
async fn a_follower_from_further_back_widens_the_shared_log_without_losing_events() {
    let sandbox = Sandbox::start().await.unwrap();
    let fh = flowhunt(&sandbox.base_url(), settings());
    let session = fh.create_session().await.unwrap();
    let (first, outcome) = collect(session.ask("first question")).await;
    assert!(outcome.is_some());
    // A stream that needs only the newest events keeps the loop alive and covered from late on
    // while a second stream resumes from the very start of the session.
    let late: assistants::Cursor = serde_json::from_value(serde_json::json!({
        "session_id": session.id(),
        "from_timestamp": first.last().unwrap().created_at_timestamp.parse::<u64>().unwrap(),
        "seen_at_boundary": first.iter().map(|e| e.event_id.clone()).collect::<Vec<_>>(),
        "invocation_timestamp": null,
        "message": "never sent",
    }))
    .unwrap();
    let early = assistants::Cursor::at(session.id(), 0)
        .with_invocation_timestamp(Some(0))
        .with_message("first question");
    let mut waiting = session.resume(late);
    // One poll of the stream makes it follow the session's loop; nothing newer exists yet.
    assert!(futures::FutureExt::now_or_never(waiting.next()).is_none());
    let (replayed, outcome) = collect(session.resume(early)).await;
    let ids = |events: &[flowhunt_api::types::FlowSessionEvent]| {
        events.iter().map(|e| e.event_id.clone()).collect::<Vec<_>>()
    };
    assert_eq!(
        ids(&replayed),
        ids(&first),
        "every event of the first turn, once, in order"
    );
    assert_eq!(
        outcome.as_ref().and_then(|o| o.answer()),
        Some("Answer to \"first question\": 2 words received.")
    );
    drop(waiting);
}

#[tokio::test(start_paused = true)]
async fn streams_on_handles_taken_per_request_from_one_client_share_one_poll_loop() {
    let sandbox = Sandbox::builder()
        .timing(assistants_sandbox::Timing::realtime(Duration::from_millis(30)))
        .start()
        .await
        .unwrap();
    let client = assistants::Client::new(
        assistants::Config::default()
            .with_base_url(&sandbox.base_url())
            .with_flowhunt("k", "workspace-1")
            .with_settings(Settings::default().with_poll(PollPolicy::fixed(Duration::from_millis(10)))),
    );
    let session = client.flowhunt().unwrap().create_session().await.unwrap();
    let mut asked = session.ask("share the polling");
    let Some(Ok(AskEvent::Event { cursor, .. })) = next(&mut asked).await else {
        panic!("the first event");
    };
    let before = sandbox.requests_for("poll_v3_flow_assistant_response");
    // Each follower takes its own handle from the client, as a request handler would.
    let followers = (0..50).map(|_| {
        let handle = client.flowhunt().unwrap();
        collect(handle.session(cursor.session_id()).resume(cursor.clone()))
    });
    let (rest, followed) = tokio::join!(collect(asked), futures::future::join_all(followers));
    let polls = sandbox.requests_for("poll_v3_flow_assistant_response") - before;
    let answer = rest.1.as_ref().and_then(|o| o.answer()).expect("an answer");
    assert!(
        followed
            .iter()
            .all(|(_, o)| o.as_ref().and_then(|o| o.answer()) == Some(answer))
    );
    // One loop polling every 10 ms (virtual time) after the first poll, until the answer at
    // 120 ms: 12 more polls for 51 streams on one session, not 51 loops' worth.
    assert_eq!(polls, 12, "{polls} polls for 51 streams on one session");
}
