//! Waiter scale: many concurrent waiters over many FlowGen chats share one poll loop per chat.
//! Baseline: the requests one independent poll loop per waiter would make over the same time
//! (each waiter polling at the same pace). Also reports the process's peak RSS.
//!
//! Goal (issue 8): 10,000 waiters over 100 chats with RSS <= 64 MiB; requests bounded by chats.

use std::time::{Duration, Instant};

use assistants::{FlowGen, NoInput, Outcome, PollPolicy, Settings};
use assistants_sandbox::{DEFAULT_API_KEY, Sandbox};
use flowgen_api::types::ChatStatus;

use crate::Size;
use crate::report::{Figure, Scenario};

/// Peak resident set size of this process in MiB (Linux), if known.
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Runs the scenario.
pub async fn run(size: Size) -> anyhow::Result<Scenario> {
    let chats = size.pick(10, 100);
    let per_chat = size.pick(100, 100);
    let interval = Duration::from_millis(50);
    let sandbox = Sandbox::start().await?;
    let api = flowgen_api::Client::with_api_key(&sandbox.base_url(), DEFAULT_API_KEY.into())?;
    let flowgen = FlowGen::new(api, Settings::default().with_poll(PollPolicy::fixed(interval)));
    // Every chat waits for human input until we answer.
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
    let before = sandbox.requests_for("get_chat");
    let started = Instant::now();
    let waiters = ids.iter().flat_map(|id| {
        (0..per_chat)
            .map(|_| flowgen.wait_until(id, |c| c.status == ChatStatus::Completed))
            .collect::<Vec<_>>()
    });
    let answer = async {
        // Let the waiters wait a while before the runs complete.
        tokio::time::sleep(Duration::from_millis(500)).await;
        for id in &ids {
            flowgen.send_input(id, "yes").await?;
        }
        anyhow::Ok(())
    };
    let (results, answered) = tokio::join!(futures::future::join_all(waiters), answer);
    answered?;
    let failures = results.iter().filter(|r| r.is_err()).count();
    anyhow::ensure!(failures == 0, "{failures} waiters failed");
    let elapsed = started.elapsed();
    let ours = (sandbox.requests_for("get_chat") - before) as f64;
    let waiters = (chats * per_chat) as f64;
    // One loop per waiter at the same interval over the same time.
    let naive = waiters * (elapsed.as_secs_f64() / interval.as_secs_f64()).ceil();
    let rss = peak_rss_mib().unwrap_or(f64::NAN);
    sandbox.shutdown().await;
    Ok(Scenario {
        name: "waiters".into(),
        description: format!(
            "{} waiters over {chats} FlowGen chats for {:.1}s, one shared poll loop per chat ({}ms) vs one loop per waiter; peak RSS {rss:.1} MiB (includes the in-process sandbox; goal <= 64 MiB)",
            waiters,
            elapsed.as_secs_f64(),
            interval.as_millis()
        ),
        figures: vec![
            Figure {
                name: "status reads (fewer is better)".into(),
                ours,
                baseline: naive,
                ratio: naive / ours.max(1.0),
                goal: Some(waiters / chats as f64 / 2.0),
                at_most: None,
            },
            Figure {
                name: "peak RSS (MiB)".into(),
                ours: rss,
                baseline: 64.0,
                ratio: 64.0 / rss,
                goal: Some(1.0),
                at_most: Some(64.0),
            },
        ],
        extra: Vec::new(),
    })
}
