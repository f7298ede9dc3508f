//! The real path: the facade's FlowHunt stream and FlowGen wait over loopback HTTP, every
//! (shape, policy, invocation) at once, so the suite takes as long as its longest reply.
//!
//! The sandbox serves what it can express (FlowHunt replies of five events: the short and the
//! bench shape; a FlowGen run of three equal steps), one sandbox per run so its request counts
//! are the run's; the bench's [`ScheduleServer`](crate::schedule_server::ScheduleServer) serves
//! the tool-heavy and the long shape.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use assistants::{AskEvent, FlowGen, FlowHunt, NoInput, Outcome, PollPolicy, Settings};
use assistants_sandbox::{DEFAULT_API_KEY, Sandbox, Timing};
use futures::StreamExt;

use crate::Size;
use crate::latency::{Runs, Service, Shape, Table, policies, shapes, stretch};
use crate::schedule_server::ScheduleServer;

/// Invocations per (FlowHunt shape, policy).
pub fn invocations(size: Size) -> usize {
    size.pick(2, 8)
}

/// FlowGen runs per policy: one event each, so more of them for a stable mean lag.
pub fn flowgen_runs(size: Size) -> usize {
    size.pick(2, 16)
}

fn now_ms() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(0.0)
}

fn settings(poll: PollPolicy) -> Settings {
    Settings {
        poll,
        ..Settings::default()
    }
}

/// One run's requests, lags (s) and duration (s).
type One = (f64, Vec<f64>, f64);

/// Collects the non-echo events' lags of one ask until its outcome.
async fn ask(session: &assistants::Session, message: String) -> anyhow::Result<Vec<f64>> {
    let mut lags = Vec::new();
    let mut events = session.ask(message);
    while let Some(item) = events.next().await {
        if let AskEvent::Event { event, .. } = item? {
            let due: f64 = event.created_at_timestamp.parse().unwrap_or(0.0);
            if event.event_type != flowhunt_api::types::MessageType::Human {
                lags.push((now_ms() - due).max(0.0) / 1000.0);
            }
        }
    }
    Ok(lags)
}

/// A sandbox serving FlowHunt's five reply events at `offsets`.
async fn flowhunt_sandbox(offsets: &[f64]) -> anyhow::Result<Sandbox> {
    let schedule: [Duration; 5] = offsets
        .iter()
        .map(|o| Duration::from_secs_f64(*o))
        .collect::<Vec<_>>()
        .try_into()
        .map_err(|_| anyhow::anyhow!("the sandbox serves five FlowHunt events"))?;
    Ok(Sandbox::builder()
        .timing(Timing::flowhunt_schedule(schedule))
        .start()
        .await?)
}

async fn sandbox_flowhunt(sandbox: Sandbox, offsets: Vec<f64>, poll: PollPolicy) -> anyhow::Result<One> {
    let api = flowhunt_api::Client::with_api_key(&sandbox.base_url(), "bench".into())?;
    let session = FlowHunt::new(api, Some("bench".into()), settings(poll))
        .create_session()
        .await?;
    let lags = ask(&session, "latency".into()).await?;
    let requests = sandbox.requests_for("poll_v3_flow_assistant_response")
        + sandbox.requests_for("invoke_v3_flow_assistant_response");
    sandbox.shutdown().await;
    Ok((requests as f64, lags, offsets.last().copied().unwrap_or(0.0)))
}

async fn scheduled_flowhunt(
    server: Arc<ScheduleServer>,
    offsets: Vec<f64>,
    poll: PollPolicy,
) -> anyhow::Result<One> {
    let api = flowhunt_api::Client::with_api_key(server.base_url(), "bench".into())?;
    let session = FlowHunt::new(api, Some("bench".into()), settings(poll))
        .create_session()
        .await?;
    let message: Vec<String> = offsets
        .iter()
        .map(|o| format!("{}", (o * 1000.0).round()))
        .collect();
    let lags = ask(&session, message.join(",")).await?;
    let requests = server.requests(session.id());
    Ok((requests as f64, lags, offsets.last().copied().unwrap_or(0.0)))
}

/// PocketBase's `2024-03-14 08:21:05.412Z` as epoch ms.
fn pocketbase_ms(time: &str) -> Option<f64> {
    let naive =
        chrono::NaiveDateTime::parse_from_str(time.trim().trim_end_matches('Z'), "%Y-%m-%d %H:%M:%S%.f")
            .ok()?;
    Some(naive.and_utc().timestamp_millis() as f64)
}

/// A FlowGen run of three equal steps (`running` at the send, `completed` at `duration`).
/// A sandbox whose FlowGen runs take `duration` (three equal steps).
async fn flowgen_sandbox(duration: f64) -> anyhow::Result<Sandbox> {
    let step = Duration::from_secs_f64(duration / 3.0);
    Ok(Sandbox::builder().timing(Timing::realtime(step)).start().await?)
}

async fn sandbox_flowgen(sandbox: Sandbox, duration: f64, poll: PollPolicy) -> anyhow::Result<One> {
    let api = flowgen_api::Client::with_api_key(&sandbox.base_url(), DEFAULT_API_KEY.into())?;
    let flowgen = FlowGen::new(api, settings(poll));
    let chat = flowgen.create_chat("latency", "flow").await?;
    let counted = || sandbox.requests_for("get_chat") + sandbox.requests_for("send_message");
    let before = counted();
    let outcome = flowgen.send_and_wait(&chat.id, "plan a trip", NoInput).await?;
    let delivered = now_ms();
    let requests = counted() - before;
    anyhow::ensure!(
        matches!(outcome, Outcome::Completed { .. }),
        "FlowGen run: {outcome:?}"
    );
    let done = flowgen.get_chat(&chat.id).await?;
    let completed = pocketbase_ms(&done.updated).context("the completed chat's `updated`")?;
    sandbox.shutdown().await;
    Ok((
        requests as f64,
        vec![((delivered - completed) / 1000.0).max(0.0)],
        duration,
    ))
}

/// Runs every shape under every policy at once.
pub async fn run(size: Size) -> anyhow::Result<Table> {
    let scale = if size.quick { 0.1 } else { 1.0 };
    let flowgen_secs = if size.quick { 1.5 } else { 60.0 };
    let shapes: Vec<Shape> = shapes(flowgen_secs)
        .into_iter()
        .map(|mut s| {
            if s.service == Service::FlowHunt {
                s.offsets.iter_mut().for_each(|o| *o *= scale);
            }
            s
        })
        .collect();
    let setup = std::time::Instant::now();
    let server = Arc::new(ScheduleServer::start().await?);
    let mut jobs = Vec::new();
    for (s, shape) in shapes.iter().enumerate() {
        for (p, (_, policy)) in policies().into_iter().enumerate() {
            let n = if shape.service == Service::FlowGen {
                flowgen_runs(size)
            } else {
                invocations(size)
            };
            for i in 0..n {
                let offsets = shape.stretched(stretch(i, n));
                let (policy, server) = (policy.clone(), server.clone());
                let (service, name) = (shape.service, shape.name);
                let duration = offsets.last().copied().unwrap_or(0.0);
                // Servers start before any run does: their set-up must not delay a measured poll.
                let sandbox = match service {
                    Service::FlowGen => Some(flowgen_sandbox(duration).await?),
                    _ if offsets.len() == 5 => Some(flowhunt_sandbox(&offsets).await?),
                    _ => None,
                };
                let job = async move {
                    let one = match (service, sandbox) {
                        (Service::FlowGen, Some(sandbox)) => sandbox_flowgen(sandbox, duration, policy).await,
                        (_, Some(sandbox)) => sandbox_flowhunt(sandbox, offsets, policy).await,
                        (_, None) => scheduled_flowhunt(server, offsets, policy).await,
                    };
                    one.map(|one| (s, p, one))
                        .with_context(|| format!("shape {name}"))
                };
                jobs.push(job);
            }
        }
    }
    let mut table: Table = shapes
        .iter()
        .map(|s| {
            (
                s.clone(),
                policies()
                    .into_iter()
                    .map(|(name, _)| (name, Runs::default()))
                    .collect(),
            )
        })
        .collect();
    let started = std::time::Instant::now();
    let jobs: Vec<_> = jobs.into_iter().map(tokio::spawn).collect();
    eprintln!(
        "latency: {} runs started after {:.1} s of set-up",
        jobs.len(),
        setup.elapsed().as_secs_f64()
    );
    for job in jobs {
        let (s, p, (requests, lags, duration)) = job.await??;
        table[s].1[p].1.push(requests, &lags, duration);
    }
    eprintln!("latency: runs took {:.1} s", started.elapsed().as_secs_f64());
    if let Ok(server) = Arc::try_unwrap(server) {
        server.shutdown();
    }
    Ok(table)
}
