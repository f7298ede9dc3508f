//! Reply latency: event delivery lag and requests per invocation, adaptive polling vs a fixed
//! 1 s poll, on a realistic FlowHunt reply (a burst right after the invoke, tool calls spread
//! over seconds, the answer after a quiet spell: events at 0, 0.1, 2.5, 6 and 10 s).
//!
//! Goal (issue 8): p50 <= 100 ms and p99 <= 500 ms with at most 1.5x the fixed poll's requests.

use std::time::Duration;

use assistants::{AskEvent, FlowHunt, PollPolicy, Settings};
use assistants_sandbox::{Sandbox, Timing};
use futures::StreamExt;

use crate::Size;
use crate::report::{Figure, Scenario};

struct Measured {
    lags_ms: Vec<f64>,
    requests_per_invocation: f64,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn now_ms() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(0.0)
}

async fn measure(offsets: [Duration; 5], poll: PollPolicy, invocations: usize) -> anyhow::Result<Measured> {
    let sandbox = Sandbox::builder()
        .timing(Timing::flowhunt_schedule(offsets))
        .start()
        .await?;
    let api = flowhunt_api::Client::with_api_key(&sandbox.base_url(), "bench".into())?;
    let flowhunt = FlowHunt::new(api, Some("bench".into()), Settings::default().with_poll(poll));
    let runs = (0..invocations).map(|i| {
        let flowhunt = flowhunt.clone();
        async move {
            let session = flowhunt.create_session().await?;
            let mut lags = Vec::new();
            let mut events = session.ask(format!("latency run {i}"));
            while let Some(item) = events.next().await {
                if let AskEvent::Event { event, .. } = item? {
                    let due: f64 = event.created_at_timestamp.parse().unwrap_or(0.0);
                    if event.event_type != flowhunt_api::types::MessageType::Human {
                        lags.push((now_ms() - due).max(0.0));
                    }
                }
            }
            anyhow::Ok(lags)
        }
    });
    let mut lags_ms: Vec<f64> = futures::future::try_join_all(runs)
        .await?
        .into_iter()
        .flatten()
        .collect();
    lags_ms.sort_by(f64::total_cmp);
    let requests = sandbox.requests_for("poll_v3_flow_assistant_response")
        + sandbox.requests_for("invoke_v3_flow_assistant_response");
    sandbox.shutdown().await;
    Ok(Measured {
        lags_ms,
        requests_per_invocation: requests as f64 / invocations as f64,
    })
}

/// Runs the scenario.
pub async fn run(size: Size) -> anyhow::Result<Scenario> {
    let scale = if size.quick { 0.1 } else { 1.0 };
    let offsets = [0.0, 0.1, 2.5, 6.0, 10.0].map(|s: f64| Duration::from_secs_f64(s * scale));
    let invocations = size.pick(2, 8);
    let fixed_interval = Duration::from_secs_f64(1.0 * scale);
    let (adaptive, fixed) = tokio::join!(
        measure(offsets, PollPolicy::adaptive(), invocations),
        measure(offsets, PollPolicy::fixed(fixed_interval), invocations)
    );
    let (adaptive, fixed) = (adaptive?, fixed?);
    let (a50, a99) = (
        percentile(&adaptive.lags_ms, 50.0),
        percentile(&adaptive.lags_ms, 99.0),
    );
    let (f50, f99) = (percentile(&fixed.lags_ms, 50.0), percentile(&fixed.lags_ms, 99.0));
    // For lags lower is better: the ratio is baseline / ours, so above 1 means we do better.
    let lower = |name: &str, ours: f64, base: f64, at_most: f64| Figure {
        name: name.into(),
        ours,
        baseline: base,
        ratio: if ours > 0.0 { base / ours } else { f64::INFINITY },
        goal: None,
        // The lag goals are absolute, and apply to the full run only (quick runs are scaled).
        at_most: (!size.quick).then_some(at_most),
    };
    let requests_ratio = fixed.requests_per_invocation / adaptive.requests_per_invocation;
    Ok(Scenario {
        name: "latency".into(),
        description: format!(
            "FlowHunt reply with events at 0/0.1/2.5/6/10 s (x{scale}), {invocations} concurrent invocations: adaptive polling (ours) vs a fixed {}ms poll; goals p50 <= 100 ms, p99 <= 500 ms (absolute), requests ratio >= 1/1.5",
            fixed_interval.as_millis()
        ),
        figures: vec![
            lower("delivery lag p50 (ms)", a50, f50, 100.0),
            lower("delivery lag p99 (ms)", a99, f99, 500.0),
            Figure {
                name: "requests per invocation".into(),
                ours: adaptive.requests_per_invocation,
                baseline: fixed.requests_per_invocation,
                ratio: requests_ratio,
                goal: Some(1.0 / 1.5),
                at_most: None,
            },
        ],
    })
}
