//! Waiter scale: many concurrent waiters over many FlowGen chats share one poll loop per chat.
//!
//! Side by side, at a scale this machine holds for both (1,000 waiters over 10 chats), the
//! baseline is measured, not computed: one poll loop per waiter, each waiter with its own
//! `FlowGen` handle (`FlowGen::new`, so its own loop per chat) over the same connection pool and
//! sandbox. Ours also at 10,000 waiters over 100 chats, where reads per chat should not grow. Memory is the waiters' own: the
//! process's resident set while every waiter waits, minus the same just before they started
//! (so the sandbox, the chats and earlier scenarios' peaks are not counted). Ours runs first:
//! memory freed by one side can be reused by the next, which can only flatter the baseline.
//!
//! Goals: status reads bounded by chats (at least half the waiters per chat fewer than one loop
//! per waiter); the 10,000 waiters' own memory <= 64 MiB.

use std::time::{Duration, Instant};

use assistants::{FlowGen, NoInput, Outcome, PollPolicy, Settings};
use assistants_sandbox::{DEFAULT_API_KEY, Sandbox};
use flowgen_api::types::ChatStatus;

use crate::Size;
use crate::report::{Figure, Scenario};

/// How long the waiters wait before the runs are answered.
const WAIT: Duration = Duration::from_millis(500);

fn proc_status_mib(key: &str) -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Peak resident set size of this process in MiB (Linux), if known.
pub fn peak_rss_mib() -> Option<f64> {
    proc_status_mib("VmHWM:")
}

/// Current resident set size of this process in MiB (Linux), if known.
fn rss_mib() -> Option<f64> {
    proc_status_mib("VmRSS:")
}

/// What one side of the comparison measured.
struct Side {
    reads: f64,
    elapsed: Duration,
    /// Resident MiB added while every waiter waited.
    own_mib: f64,
}

/// `chats` chats, each waiting for human input, then `per_chat` waiters on each until it
/// completes. `shared`: every waiter goes through one `FlowGen` (one loop per chat); otherwise
/// each waiter gets its own handle (one loop per waiter).
async fn side(
    sandbox: &Sandbox,
    api: &flowgen_api::Client,
    chats: usize,
    per_chat: usize,
    shared: bool,
) -> anyhow::Result<Side> {
    let settings = || Settings::default().with_poll(PollPolicy::fixed(Duration::from_millis(50)));
    let flowgen = FlowGen::new(api.clone(), settings());
    let mut ids = Vec::new();
    for i in 0..chats {
        let chat = flowgen.create_chat(&format!("scale {i}"), "flow").await?;
        let outcome = flowgen
            .send_and_wait(&chat.id, "waiting for my approval", NoInput)
            .await?;
        anyhow::ensure!(
            matches!(outcome, Outcome::NeedsInput { .. }),
            "chat {i}: {outcome:?}"
        );
        ids.push(chat.id);
    }
    let handles: Vec<FlowGen> = if shared {
        vec![flowgen.clone()]
    } else {
        (0..chats * per_chat)
            .map(|_| FlowGen::new(api.clone(), settings()))
            .collect()
    };
    let rss_before = rss_mib().unwrap_or(f64::NAN);
    let before = sandbox.requests_for("get_chat");
    let started = Instant::now();
    let waiters = ids.iter().enumerate().flat_map(|(c, id)| {
        let handles = &handles;
        (0..per_chat).map(move |w| {
            let handle = &handles[(c * per_chat + w) % handles.len()];
            handle.wait_until(id, |chat| chat.status == ChatStatus::Completed)
        })
    });
    let answer = async {
        tokio::time::sleep(WAIT).await;
        let waiting = rss_mib().unwrap_or(f64::NAN);
        for id in &ids {
            flowgen.send_input(id, "yes").await?;
        }
        anyhow::Ok(waiting)
    };
    let (results, waiting) = tokio::join!(futures::future::join_all(waiters), answer);
    let waiting = waiting?;
    let failures = results.iter().filter(|r| r.is_err()).count();
    anyhow::ensure!(failures == 0, "{failures} waiters failed");
    let elapsed = started.elapsed();
    Ok(Side {
        reads: (sandbox.requests_for("get_chat") - before) as f64,
        elapsed,
        own_mib: waiting - rss_before,
    })
}

/// Runs the scenario.
pub async fn run(size: Size) -> anyhow::Result<Scenario> {
    let (chats, per_chat) = (size.pick(2, 10), size.pick(10, 100));
    let (big_chats, big_per_chat) = (size.pick(10, 100), size.pick(100, 100));
    let sandbox = Sandbox::start().await?;
    let api = flowgen_api::Client::with_api_key(&sandbox.base_url(), DEFAULT_API_KEY.into())?;
    // Ours first (both sizes): memory the baseline frees would be reused by a later side.
    let ours = side(&sandbox, &api, chats, per_chat, true).await?;
    let big = side(&sandbox, &api, big_chats, big_per_chat, true).await?;
    let naive = side(&sandbox, &api, chats, per_chat, false).await?;
    let peak = peak_rss_mib().unwrap_or(f64::NAN);
    sandbox.shutdown().await;
    let (small, large) = (chats * per_chat, big_chats * big_per_chat);
    let lower = |name: String, ours: f64, baseline: f64, goal: Option<f64>| Figure {
        name,
        ours,
        baseline,
        // A side that added no resident memory counts as 0.1 MiB, so the ratio stays finite.
        ratio: baseline / ours.max(0.1),
        goal,
        at_most: None,
    };
    Ok(Scenario {
        name: "waiters".into(),
        description: format!(
            "{small} waiters over {chats} FlowGen chats, one shared poll loop per chat vs one loop per waiter (a FlowGen handle each), both measured ({:.1}s / {:.1}s); ours also at {large} over {big_chats} chats ({:.1}s); polls every 50 ms; 'own MiB' = resident set while waiting minus just before; process peak {peak:.1} MiB (sandbox and earlier scenarios included)",
            ours.elapsed.as_secs_f64(),
            naive.elapsed.as_secs_f64(),
            big.elapsed.as_secs_f64(),
        ),
        figures: vec![
            lower(
                format!("status reads, {small} waiters (fewer is better)"),
                ours.reads,
                naive.reads,
                Some(per_chat as f64 / 2.0),
            ),
            lower(
                format!("waiters' own MiB, {small} waiters"),
                ours.own_mib,
                naive.own_mib,
                None,
            ),
            lower(
                format!("status reads per chat per second, {large} waiters (baseline: ours at {small})"),
                big.reads / big_chats as f64 / big.elapsed.as_secs_f64(),
                ours.reads / chats as f64 / ours.elapsed.as_secs_f64(),
                // Bounded by chats: ten times the waiters, about the same reads per chat.
                Some(0.8),
            ),
            Figure {
                name: format!("waiters' own MiB, {large} waiters"),
                ours: big.own_mib,
                baseline: f64::NAN,
                ratio: f64::NAN,
                goal: None,
                at_most: Some(64.0),
            },
            Figure {
                name: "process peak RSS (MiB, sandbox and both sides included)".into(),
                ours: peak,
                baseline: f64::NAN,
                ratio: f64::NAN,
                goal: None,
                at_most: None,
            },
        ],
        extra: Vec::new(),
    })
}
