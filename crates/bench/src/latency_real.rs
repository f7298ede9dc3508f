//! The real path: the facade's FlowHunt stream and FlowGen wait over loopback HTTP, every
//! (shape, policy, invocation) at once, so the suite takes as long as its longest reply.
//!
//! The sandbox serves what it can express (FlowHunt replies of five events: the short and the
//! bench shape; a FlowGen run of three equal steps), one sandbox per run so its request counts
//! are the run's; the bench's [`ScheduleServer`] serves
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

// Field assignment, not a struct literal: `Settings` may be `#[non_exhaustive]`.
#[allow(clippy::field_reassign_with_default)]
fn settings(poll: PollPolicy) -> Settings {
    let mut settings = Settings::default();
    settings.poll = poll;
    settings
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

/// Where a FlowHunt run's requests are counted.
enum Counts {
    /// The run's own sandbox.
    Sandbox(Sandbox),
    /// The shared schedule server, per session.
    Schedule(Arc<ScheduleServer>),
}

/// One run with its client and server set up (session or chat created, connection open), so
/// that nothing expensive, such as loading a TLS client's root certificates, delays a
/// measured poll.
enum Prepared {
    FlowHunt {
        session: assistants::Session,
        counts: Counts,
        offsets: Vec<f64>,
    },
    FlowGen {
        flowgen: FlowGen,
        chat_id: String,
        sandbox: Sandbox,
        duration: f64,
    },
}

async fn prepare(
    service: Service,
    offsets: Vec<f64>,
    poll: PollPolicy,
    server: &Arc<ScheduleServer>,
) -> anyhow::Result<Prepared> {
    let duration = offsets.last().copied().unwrap_or(0.0);
    if service == Service::FlowGen {
        let sandbox = flowgen_sandbox(duration).await?;
        let api = flowgen_api::Client::with_api_key(&sandbox.base_url(), DEFAULT_API_KEY.into())?;
        let flowgen = FlowGen::new(api, settings(poll));
        let chat_id = flowgen.create_chat("latency", "flow").await?.id;
        return Ok(Prepared::FlowGen {
            flowgen,
            chat_id,
            sandbox,
            duration,
        });
    }
    let (base_url, counts) = if offsets.len() == 5 {
        let sandbox = flowhunt_sandbox(&offsets).await?;
        (sandbox.base_url(), Counts::Sandbox(sandbox))
    } else {
        (server.base_url().to_string(), Counts::Schedule(server.clone()))
    };
    let api = flowhunt_api::Client::with_api_key(&base_url, "bench".into())?;
    let session = FlowHunt::new(api, Some("bench".into()), settings(poll))
        .create_session()
        .await?;
    Ok(Prepared::FlowHunt {
        session,
        counts,
        offsets,
    })
}

async fn measure(prepared: Prepared) -> anyhow::Result<One> {
    match prepared {
        Prepared::FlowHunt {
            session,
            counts,
            offsets,
        } => {
            let duration = offsets.last().copied().unwrap_or(0.0);
            let requests = match counts {
                Counts::Sandbox(sandbox) => {
                    let lags = ask(&session, "latency".into()).await?;
                    let requests = sandbox.requests_for("poll_v3_flow_assistant_response")
                        + sandbox.requests_for("invoke_v3_flow_assistant_response");
                    sandbox.shutdown().await;
                    (requests, lags)
                }
                Counts::Schedule(server) => {
                    // The schedule server reads the offsets (ms) from the message.
                    let message: Vec<String> = offsets
                        .iter()
                        .map(|o| format!("{}", (o * 1000.0).round()))
                        .collect();
                    let lags = ask(&session, message.join(",")).await?;
                    (server.requests(session.id()), lags)
                }
            };
            Ok((requests.0 as f64, requests.1, duration))
        }
        Prepared::FlowGen {
            flowgen,
            chat_id,
            sandbox,
            duration,
        } => flowgen_run(&flowgen, &chat_id, sandbox, duration).await,
    }
}

/// PocketBase's `2024-03-14 08:21:05.412Z` as epoch ms.
fn pocketbase_ms(time: &str) -> Option<f64> {
    let naive =
        chrono::NaiveDateTime::parse_from_str(time.trim().trim_end_matches('Z'), "%Y-%m-%d %H:%M:%S%.f")
            .ok()?;
    Some(naive.and_utc().timestamp_millis() as f64)
}

/// A sandbox whose FlowGen runs take `duration` (three equal steps).
async fn flowgen_sandbox(duration: f64) -> anyhow::Result<Sandbox> {
    let step = Duration::from_secs_f64(duration / 3.0);
    Ok(Sandbox::builder().timing(Timing::realtime(step)).start().await?)
}

/// A FlowGen run: `running` at the send, `completed` at `duration`.
async fn flowgen_run(
    flowgen: &FlowGen,
    chat_id: &str,
    sandbox: Sandbox,
    duration: f64,
) -> anyhow::Result<One> {
    let counted = || sandbox.requests_for("get_chat") + sandbox.requests_for("send_message");
    let before = counted();
    let outcome = flowgen.send_and_wait(chat_id, "plan a trip", NoInput).await?;
    let delivered = now_ms();
    let requests = counted() - before;
    anyhow::ensure!(
        matches!(outcome, Outcome::Completed { .. }),
        "FlowGen run: {outcome:?}"
    );
    let done = flowgen.get_chat(chat_id).await?;
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
    let mut setups = Vec::new();
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
                setups.push(tokio::spawn(async move {
                    let prepared = prepare(service, offsets, policy, &server)
                        .await
                        .with_context(|| format!("setting up shape {name}"))?;
                    anyhow::Ok((s, p, name, prepared))
                }));
            }
        }
    }
    // Servers and clients are all set up before any run starts: set-up is CPU-bound (specs
    // compiled into validators, TLS roots loaded) and would delay measured polls.
    let mut prepared = Vec::with_capacity(setups.len());
    for setup in setups {
        prepared.push(setup.await??);
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
    let jobs: Vec<_> = prepared
        .into_iter()
        .map(|(s, p, name, prepared)| {
            tokio::spawn(async move {
                let one = measure(prepared).await.with_context(|| format!("shape {name}"))?;
                anyhow::Ok((s, p, one))
            })
        })
        .collect();
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
