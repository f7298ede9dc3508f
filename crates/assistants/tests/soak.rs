//! A bounded fault soak that replays by seed: 100 FlowHunt invocations and 100 FlowGen chats
//! through a sandbox that injects 429s (with `Retry-After: 1`), 503s, dropped connections,
//! latency and boundary events sharing a millisecond (inclusive boundary), on virtual time.
//!
//! The sandbox rolls each fault from the seed and the request's identity, never from arrival
//! order, so one seed gives one set of counts run after run. The oracle is exact: a correct
//! client completes every invocation and chat whose non-idempotent calls (create, invoke, send,
//! input) were not hit by a fault, and loses nothing to faults on the calls it may retry
//! (polls, status reads). Every one of the 100 + 100 ends with an outcome or a typed error, no
//! non-idempotent call is sent twice, and every event is delivered once and in order.

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use assistants::{
    AnswerWith, AskEvent, Error, FlowGen, FlowHunt, Outcome, PollPolicy, RetryPolicy, Settings,
};
use assistants_sandbox::{DEFAULT_API_KEY, Faults, Sandbox, Timing};
use futures::StreamExt;

/// The seed of the replay test; `SOAK_SEED` picks another one for a documented run.
const SEED: u64 = 2024;

const RATE_429: f64 = 0.08;
const RATE_5XX: f64 = 0.08;
const RATE_DROP: f64 = 0.04;

/// A stream that yields nothing for this long (virtual time) has hung: fail instead.
const STALL: Duration = Duration::from_secs(120);

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
    created: AtomicU64,
    answers: AtomicU64,
    completed: AtomicU64,
    typed_errors: AtomicU64,
}

impl Counts {
    fn add(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::SeqCst);
    }
}

/// What one soak run produced; equal across runs of one seed.
#[derive(Debug, PartialEq, Eq)]
struct Report {
    /// Sessions created, invocations answered, invocations ending in a typed error.
    flowhunt: (u64, u64, u64),
    /// Chats created, chats completed, chats ending in a typed error.
    flowgen: (u64, u64, u64),
    /// Questions answered (each `send_input` sent once).
    answers: u64,
    /// Requests served and faults injected, by operation.
    requests: BTreeMap<String, u64>,
    injected: BTreeMap<String, u64>,
    /// Virtual time the whole soak took.
    elapsed: Duration,
}

/// A `Counts` read: (created, completed, typed errors), after checking all 100 ended.
fn read(counts: &Counts, service: &str) -> (u64, u64, u64) {
    let (created, done, errors) = (
        counts.created.load(Ordering::SeqCst),
        counts.completed.load(Ordering::SeqCst),
        counts.typed_errors.load(Ordering::SeqCst),
    );
    assert_eq!(
        done + errors,
        100,
        "{service}: every one of the 100 ended with an outcome or a typed error (failed creates included)"
    );
    (created, done, errors)
}

/// An error a fault can cause: an injected 429/503 or a broken connection, never a deadline.
fn typed(error: &Error) {
    assert!(
        matches!(error.status(), Some(429 | 503)) || matches!(error, Error::Transport { .. }),
        "only injected faults fail an operation: {error}"
    );
}

async fn soak(seed: u64) -> Report {
    let faults = Faults {
        latency: Duration::from_millis(1),
        rate_429: RATE_429,
        retry_after_secs: 1,
        rate_5xx: RATE_5XX,
        rate_drop: RATE_DROP,
        duplicate_boundary: true,
        ..Faults::default()
    };
    let sandbox = Sandbox::builder()
        .faults(faults)
        .timing(Timing::realtime(Duration::from_millis(2)))
        .seed(seed)
        .start()
        .await
        .unwrap();
    let started = tokio::time::Instant::now();
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
    let invocations = futures::stream::iter(0..100u32)
        .map(|i| {
            let (flowhunt, fh) = (&flowhunt, &fh);
            async move {
                // A distinct body per invocation gives each create its own identity (and so its
                // own fault rolls and session id) whatever order the creates arrive in.
                let request = flowhunt_api::types::FlowAssistantSessionCreateRequest {
                    context_flow_id: Some(uuid::Uuid::from_u128(u128::from(i) + 1)),
                    ..Default::default()
                };
                let session = match flowhunt.create_session_with(request).await {
                    Ok(session) => session,
                    Err(error) => {
                        typed(&error);
                        return Counts::add(&fh.typed_errors);
                    }
                };
                Counts::add(&fh.created);
                let mut seen = HashSet::new();
                let mut last = 0u64;
                let mut events = session.ask(format!("soak {i}"));
                loop {
                    let item = tokio::time::timeout(STALL, events.next())
                        .await
                        .unwrap_or_else(|_| panic!("invocation {i}: the stream stalled"));
                    match item {
                        None => panic!("invocation {i}: the stream ended without an outcome"),
                        Some(Ok(AskEvent::Event { event, .. })) => {
                            assert!(
                                seen.insert(event.event_id.clone()),
                                "event {} delivered twice",
                                event.event_id
                            );
                            let ts: u64 = event.created_at_timestamp.parse().unwrap();
                            assert!(ts >= last, "out of order");
                            last = ts;
                        }
                        Some(Ok(AskEvent::Done { outcome, .. })) => {
                            assert_eq!(
                                outcome.answer(),
                                Some(format!("Answer to \"soak {i}\": 2 words received.").as_str())
                            );
                            assert_eq!(seen.len(), 5, "nothing lost");
                            return Counts::add(&fh.completed);
                        }
                        Some(Ok(other)) => panic!("unexpected {other:?}"),
                        Some(Err(error)) => {
                            typed(&error);
                            return Counts::add(&fh.typed_errors);
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
                let chat = match flowgen.create_chat(&format!("soak {i}"), "flow").await {
                    Ok(chat) => chat,
                    Err(error) => {
                        typed(&error);
                        return Counts::add(&fg.typed_errors);
                    }
                };
                Counts::add(&fg.created);
                let message = if i % 2 == 0 {
                    format!("soak {i}")
                } else {
                    format!("soak {i} needs approval")
                };
                let answer = AnswerWith(|_: &str| {
                    Counts::add(&fg.answers);
                    Some("yes".into())
                });
                let sent = flowgen.send_and_wait(&chat.id, &message, answer);
                match tokio::time::timeout(STALL, sent).await {
                    Err(_) => panic!("chat {i}: the wait stalled"),
                    Ok(Ok(Outcome::Completed { .. })) => Counts::add(&fg.completed),
                    Ok(Ok(other)) => panic!("chat {i}: unexpected {other:?}"),
                    Ok(Err(error)) => {
                        typed(&error);
                        Counts::add(&fg.typed_errors);
                    }
                }
            }
        })
        .buffer_unordered(20)
        .collect::<Vec<()>>();
    tokio::join!(invocations, chats);

    let report = Report {
        flowhunt: read(&fh, "FlowHunt"),
        flowgen: read(&fg, "FlowGen"),
        answers: fg.answers.load(Ordering::SeqCst),
        requests: sandbox.requests(),
        injected: sandbox.injected(),
        elapsed: started.elapsed(),
    };
    println!("seed {seed}: {report:#?}");
    check(&sandbox, &report);
    report
}

/// The exact oracle of one run, from what the sandbox served and injected.
fn check(sandbox: &Sandbox, report: &Report) {
    let (requests, injected) = (|op| sandbox.requests_for(op), |op| sandbox.injected_for(op));
    let (fh_created, fh_done, _) = report.flowhunt;
    let (fg_created, fg_done, _) = report.flowgen;

    // Creates are not idempotent: each sent once, and any fault on one fails it.
    assert_eq!(requests("create_v3_flow_assistant_session"), 100);
    assert_eq!(requests("create_chat"), 100);
    assert_eq!(fh_created, 100 - injected("create_v3_flow_assistant_session"));
    assert_eq!(fg_created, 100 - injected("create_chat"));

    // One invoke / send per created session / chat (a drop after sending is never re-sent).
    assert_eq!(requests("invoke_v3_flow_assistant_response"), fh_created);
    assert_eq!(requests("send_message"), fg_created);
    // Each answer sent once: a 429, 503 or drop on `send_input` is not retried.
    assert_eq!(requests("send_input"), report.answers);

    // Polls and status reads are retried through every fault they met: only the faults on
    // non-idempotent calls cost an outcome.
    assert_eq!(
        fh_done,
        fh_created - injected("invoke_v3_flow_assistant_response"),
        "every invocation that reached the assistant was answered"
    );
    assert_eq!(
        fg_done,
        fg_created - injected("send_message") - injected("send_input"),
        "every chat whose send and answer reached the server completed"
    );
    assert!(
        injected("poll_v3_flow_assistant_response") > 0 && injected("get_chat") > 0,
        "the retried calls met faults too: {:?}",
        report.injected
    );

    // Expected completions: FlowHunt 100 * 0.8 (create) * 0.8 (invoke) = 64, sd 4.8; FlowGen
    // 100 * 0.8 * 0.8 * (half need an answer: 0.5 + 0.5 * 0.8) = 57.6, sd 4.9. The floors are
    // 3 sd below: a correct client stays above them on any seed (about 1 in 700 runs below).
    assert!(
        fh_done >= 50 && fg_done >= 43,
        "faults are survivable: {fh_done} / {fg_done}"
    );
    // `Retry-After: 1` was waited for: without it, the whole run takes milliseconds.
    assert!(
        report.elapsed >= Duration::from_secs(1),
        "Retry-After honoured: {:?}",
        report.elapsed
    );
}

fn seed() -> u64 {
    std::env::var("SOAK_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(SEED)
}

#[tokio::test(start_paused = true)]
async fn faults_never_lose_repeat_or_double_send_and_replay_by_seed() {
    let first = soak(seed()).await;
    let second = soak(seed()).await;
    assert_eq!(first, second, "the same seed replays the same counts");
}

/// Answers, FlowHunt and FlowGen counts, and faults per never-retried operation.
type Outcomes = (u64, (u64, u64, u64), (u64, u64, u64), Vec<(String, u64)>);

/// What does not depend on timing: the outcomes, and the faults met by the calls that are
/// never retried (the creates, invokes, sends and answers, one request each).
fn outcomes(report: &Report) -> Outcomes {
    let once = [
        "create_v3_flow_assistant_session",
        "invoke_v3_flow_assistant_response",
        "create_chat",
        "send_message",
        "send_input",
    ];
    let injected = report
        .injected
        .iter()
        .filter(|(op, _)| once.contains(&op.as_str()))
        .map(|(op, n)| (op.clone(), *n))
        .collect();
    (report.answers, report.flowhunt, report.flowgen, injected)
}

/// Two worker threads on the real clock reorder the requests (and add polls); the faults
/// follow the requests, not their order, so the outcomes are those of the virtual-time run.
#[test]
fn real_concurrency_meets_the_same_faults() {
    let virtual_time = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap()
        .block_on(soak(seed()));
    let real = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(soak(seed()));
    assert_eq!(outcomes(&real), outcomes(&virtual_time));
}
