//! A bounded fault soak: 100 FlowHunt invocations and 100 FlowGen chats through a sandbox that
//! injects 429s (with Retry-After), 503s, dropped connections, latency and duplicated boundary
//! events. Every event is delivered once and in order, every operation ends with an outcome or
//! a typed error within its deadline, and no non-idempotent call is sent twice.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use assistants::{
    AnswerWith, AskEvent, Error, FlowGen, FlowHunt, Outcome, PollPolicy, RetryPolicy, Settings,
};
use assistants_sandbox::{DEFAULT_API_KEY, Faults, Sandbox, Timing};
use futures::StreamExt;

fn settings() -> Settings {
    Settings::default()
        .with_poll(PollPolicy::fixed(Duration::from_millis(2)))
        .with_retry(
            RetryPolicy::standard()
                .with_max_attempts(6)
                .with_initial_delay(Duration::from_millis(1))
                .with_max_delay(Duration::from_millis(10))
                .with_seed(11),
        )
        .with_operation_timeout(Some(Duration::from_secs(30)))
}

#[derive(Default)]
struct Counts {
    creates: AtomicU64,
    attempts: AtomicU64,
    answers: AtomicU64,
    completed: AtomicU64,
    typed_errors: AtomicU64,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_never_lose_repeat_or_double_send() {
    let faults = Faults {
        latency: Duration::from_millis(1),
        rate_429: 0.08,
        retry_after_secs: 1,
        rate_5xx: 0.08,
        rate_drop: 0.04,
        duplicate_boundary: true,
        ..Faults::default()
    };
    let sandbox = Sandbox::builder()
        .faults(faults)
        .timing(Timing::realtime(Duration::from_millis(2)))
        .seed(2024)
        .start()
        .await
        .unwrap();
    let base = sandbox.base_url();
    let flowhunt = FlowHunt::new(
        flowhunt_api::Client::with_api_key(&base, "k".into()).unwrap(),
        Some("ws".into()),
        settings(),
    );
    let flowgen = FlowGen::new(
        flowgen_api::Client::with_api_key(&base, DEFAULT_API_KEY.into()).unwrap(),
        settings(),
    );

    let (fh, fg) = (Counts::default(), Counts::default());
    let invocations = futures::stream::iter(0..100)
        .map(|i| {
            let (flowhunt, fh) = (&flowhunt, &fh);
            async move {
                let session = flowhunt.create_session().await;
                fh.creates.fetch_add(1, Ordering::SeqCst);
                let Ok(session) = session else {
                    fh.typed_errors.fetch_add(1, Ordering::SeqCst); // a failed create is a typed error
                    return;
                };
                fh.attempts.fetch_add(1, Ordering::SeqCst);
                let mut seen = HashSet::new();
                let mut last = 0u64;
                let mut events = session.ask(format!("soak {i}"));
                while let Some(item) = events.next().await {
                    match item {
                        Ok(AskEvent::Event { event, .. }) => {
                            assert!(
                                seen.insert(event.event_id.clone()),
                                "event {} delivered twice",
                                event.event_id
                            );
                            let ts: u64 = event.created_at_timestamp.parse().unwrap();
                            assert!(ts >= last, "out of order");
                            last = ts;
                        }
                        Ok(AskEvent::Done { outcome, .. }) => {
                            assert_eq!(
                                outcome.answer(),
                                Some(format!("Answer to \"soak {i}\": 2 words received.").as_str())
                            );
                            assert_eq!(seen.len(), 5, "nothing lost");
                            fh.completed.fetch_add(1, Ordering::SeqCst);
                        }
                        Ok(other) => panic!("unexpected {other:?}"),
                        Err(error) => {
                            assert!(
                                !matches!(error, Error::Deadline { .. }),
                                "no operation ran into its deadline: {error}"
                            );
                            fh.typed_errors.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                }
            }
        })
        .buffer_unordered(20)
        .collect::<Vec<()>>();
    let chats = futures::stream::iter(0..100)
        .map(|i| {
            let (flowgen, fg) = (&flowgen, &fg);
            async move {
                let chat = flowgen.create_chat(&format!("soak {i}"), "flow").await;
                fg.creates.fetch_add(1, Ordering::SeqCst);
                let Ok(chat) = chat else {
                    fg.typed_errors.fetch_add(1, Ordering::SeqCst); // a failed create is a typed error
                    return;
                };
                fg.attempts.fetch_add(1, Ordering::SeqCst);
                let message = if i % 2 == 0 {
                    format!("soak {i}")
                } else {
                    format!("soak {i} needs approval")
                };
                match flowgen
                    .send_and_wait(
                        &chat.id,
                        &message,
                        AnswerWith(|_: &str| {
                            fg.answers.fetch_add(1, Ordering::SeqCst);
                            Some("yes".into())
                        }),
                    )
                    .await
                {
                    Ok(Outcome::Completed { .. }) => {
                        fg.completed.fetch_add(1, Ordering::SeqCst);
                    }
                    Ok(other) => panic!("chat {i}: unexpected {other:?}"),
                    Err(error) => {
                        assert!(!matches!(error, Error::Deadline { .. }), "no deadline: {error}");
                        fg.typed_errors.fetch_add(1, Ordering::SeqCst);
                    }
                }
            }
        })
        .buffer_unordered(20)
        .collect::<Vec<()>>();
    tokio::join!(invocations, chats);

    let get = |c: &Counts| {
        assert_eq!(
            c.creates.load(Ordering::SeqCst),
            100,
            "every one of the 100 accounted for"
        );
        (
            c.attempts.load(Ordering::SeqCst),
            c.completed.load(Ordering::SeqCst),
            c.typed_errors.load(Ordering::SeqCst),
        )
    };
    let ((fh_attempts, fh_done, fh_errors), (fg_attempts, fg_done, fg_errors)) = (get(&fh), get(&fg));
    println!("FlowHunt: {fh_attempts} asks, {fh_done} answered, {fh_errors} typed errors");
    println!("FlowGen: {fg_attempts} sends, {fg_done} completed, {fg_errors} typed errors");
    println!("requests: {:?}", sandbox.requests());
    assert_eq!(
        fh_done + fh_errors,
        100,
        "every invocation ended with an outcome or a typed error"
    );
    assert_eq!(
        fg_done + fg_errors,
        100,
        "every chat ended with an outcome or a typed error"
    );
    let answers = fg.answers.load(Ordering::SeqCst);
    println!("FlowGen: {answers} questions answered");
    assert_eq!(
        sandbox.requests_for("send_input"),
        answers,
        "each answer sent once"
    );
    // 54-62 of each complete per run here (failed creates included in the 100); with these
    // fault rates a correct client stays well above the floors.
    assert!(
        fh_done >= 45 && fg_done >= 45,
        "faults are survivable: {fh_done} / {fg_done}"
    );
    // Non-idempotent calls: each sent at most once per attempt (none were connect failures).
    assert_eq!(
        sandbox.requests_for("invoke_v3_flow_assistant_response"),
        fh_attempts
    );
    assert_eq!(sandbox.requests_for("send_message"), fg_attempts);
    assert_eq!(sandbox.requests_for("create_v3_flow_assistant_session"), 100);
    assert_eq!(sandbox.requests_for("create_chat"), 100);
}
