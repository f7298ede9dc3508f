//! Per-call overhead: the generated client vs raw reqwest, same server, same concurrency.
//!
//! Both sides fetch `GET /conversations/identifiers` from a minimal in-process axum server and
//! decode the body into the same typed struct, so the difference is what the generated client
//! adds (builder, headers, the `exec` hook and body limit, `ResponseValue`). Goal (issue 16): at
//! least 0.97x raw reqwest. A third side sends the generated client's `User-Agent` and `Accept`
//! with raw reqwest: the part of the difference that is those headers, not the client's path.
//!
//! The first raw sides pass the URL as text, as reqwest's own examples do, so reqwest parses all
//! of it per call; the generated client parses its base URL once and sets each operation's path
//! on a copy (`assistants_api_runtime::BaseUrl`). A fourth side is the leanest raw caller: it
//! keeps the whole `Url` parsed and clones it per call, sending no extra header. It beats the
//! generated client (setting the path, the two headers, the response headers the
//! `ResponseValue` keeps): reported, with no goal, as where we lose.

use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use axum::Router;
use axum::routing::get;
use futures::future::try_join_all;
use pieces_api::types::FlattenedConversations;

use crate::Size;
use crate::report::{Figure, Scenario};

const CONCURRENCY: usize = 8;

async fn serve() -> anyhow::Result<(String, tokio::task::JoinHandle<()>)> {
    let body: String = serde_json::to_string(&serde_json::json!({
        "iterable": (0..10).map(|i| serde_json::json!({"id": format!("{i:08x}-9d1a-4e0c-8f2b-3a5d7e9c1b24")})).collect::<Vec<_>>()
    }))?;
    let app = Router::new().route(
        "/conversations/identifiers",
        get(move || {
            let body = body.clone();
            async move { ([("content-type", "application/json")], body) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let handle = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok((url, handle))
}

/// CPU time this process's threads have run, in ns (Linux `schedstat`), if known. It leaves
/// out the time other work holds the cores, though not its effect on caches (on the shared
/// 2-core machine it moves about as much as wall time; callgrind is the steady measure).
fn cpu_ns() -> Option<u64> {
    let mut total = 0u64;
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let stat = std::fs::read_to_string(task.ok()?.path().join("schedstat")).ok()?;
        total = total.checked_add(stat.split_whitespace().next()?.parse().ok()?)?;
    }
    Some(total)
}

/// Requests per second and CPU ns per request (client and server together) of one round.
async fn timed<F, Fut>(requests: usize, call: F) -> anyhow::Result<(f64, f64)>
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send,
{
    let call = Arc::new(call);
    let per_task = requests / CONCURRENCY;
    let start = Instant::now();
    let cpu_start = cpu_ns();
    try_join_all((0..CONCURRENCY).map(|_| {
        let call = call.clone();
        tokio::spawn(async move {
            for _ in 0..per_task {
                call().await?;
            }
            anyhow::Ok(())
        })
    }))
    .await?
    .into_iter()
    .collect::<anyhow::Result<Vec<()>>>()?;
    let done = (per_task * CONCURRENCY) as f64;
    let cpu = match (cpu_start, cpu_ns()) {
        (Some(a), Some(b)) => b.saturating_sub(a) as f64 / done,
        _ => f64::NAN,
    };
    Ok((done / start.elapsed().as_secs_f64(), cpu))
}

/// Runs the scenario.
pub async fn run(size: Size) -> anyhow::Result<Scenario> {
    let (url, server) = serve().await?;
    let requests = size.pick(200, 20_000);
    let generated = pieces_api::Client::with_base_url(&url)?;
    let raw = reqwest::Client::builder().http1_only().build()?;
    let raw_url = format!("{url}/conversations/identifiers");

    let gen_call = {
        let client = generated.clone();
        move || {
            let client = client.clone();
            async move {
                let ids = client
                    .conversations_identifiers_snapshot()
                    .send()
                    .await?
                    .into_inner();
                anyhow::ensure!(ids.iterable.len() == 10);
                Ok(())
            }
        }
    };
    // Each raw side writes its decode out in its own closure: moved into one shared function,
    // it compiled less inlined and cost the raw sides about 1,100 instructions a call more
    // (callgrind), flattering the generated client.
    let raw_call = {
        let (client, url) = (raw.clone(), raw_url.clone());
        move || {
            let (client, url) = (client.clone(), url.clone());
            async move {
                let bytes = client.get(&url).send().await?.error_for_status()?.bytes().await?;
                let ids: FlattenedConversations = serde_json::from_slice(&bytes)?;
                anyhow::ensure!(ids.iterable.len() == 10);
                Ok(())
            }
        }
    };
    // The same request on the wire as the generated client's: its `User-Agent` and `Accept`.
    // What separates it from the bare call is what those headers cost, not the client's path.
    let same = reqwest::Client::builder()
        .http1_only()
        .user_agent(pieces_api::SERVICE.user_agent)
        .build()?;
    let same_call = {
        let (client, url) = (same.clone(), raw_url.clone());
        move || {
            let (client, url) = (client.clone(), url.clone());
            async move {
                let bytes = client
                    .get(&url)
                    .header(reqwest::header::ACCEPT, "application/json")
                    .send()
                    .await?
                    .error_for_status()?
                    .bytes()
                    .await?;
                let ids: FlattenedConversations = serde_json::from_slice(&bytes)?;
                anyhow::ensure!(ids.iterable.len() == 10);
                Ok(())
            }
        }
    };
    // The leanest raw caller: the URL parsed once, no header beyond reqwest's own.
    let parsed_url = reqwest::Url::parse(&raw_url)?;
    let parsed_call = {
        let (client, url) = (raw.clone(), parsed_url);
        move || {
            let (client, url) = (client.clone(), url.clone());
            async move {
                let bytes = client.get(url).send().await?.error_for_status()?.bytes().await?;
                let ids: FlattenedConversations = serde_json::from_slice(&bytes)?;
                anyhow::ensure!(ids.iterable.len() == 10);
                Ok(())
            }
        }
    };
    // Warm up connections on every side, then alternate rounds and keep each side's best.
    timed(CONCURRENCY * 4, gen_call.clone())
        .await
        .context("generated client warm-up")?;
    timed(CONCURRENCY * 4, raw_call.clone())
        .await
        .context("raw reqwest warm-up")?;
    timed(CONCURRENCY * 4, same_call.clone())
        .await
        .context("raw reqwest (same headers) warm-up")?;
    timed(CONCURRENCY * 4, parsed_call.clone())
        .await
        .context("raw reqwest (parsed Url) warm-up")?;
    let (mut ours, mut base, mut same_rate, mut parsed_rate) = (0f64, 0f64, 0f64, 0f64);
    let (mut ours_cpu, mut base_cpu) = (f64::INFINITY, f64::INFINITY);
    for _ in 0..3 {
        let (rate, cpu) = timed(requests / 3, gen_call.clone()).await?;
        (ours, ours_cpu) = (ours.max(rate), ours_cpu.min(cpu));
        let (rate, cpu) = timed(requests / 3, raw_call.clone()).await?;
        (base, base_cpu) = (base.max(rate), base_cpu.min(cpu));
        let (rate, _) = timed(requests / 3, same_call.clone()).await?;
        same_rate = same_rate.max(rate);
        let (rate, _) = timed(requests / 3, parsed_call.clone()).await?;
        parsed_rate = parsed_rate.max(rate);
    }
    server.abort();
    Ok(Scenario {
        name: "overhead".into(),
        description: format!(
            "GET /conversations/identifiers, {CONCURRENCY} concurrent callers, {requests} requests a side: pieces-api generated client vs raw reqwest + serde_json into the same typed struct"
        ),
        figures: vec![
            Figure::higher_is_better("requests/s (generated client)", ours, base, Some(0.97)),
            Figure::higher_is_better(
                "requests/s vs raw reqwest sending the same User-Agent and Accept",
                ours,
                same_rate,
                None,
            ),
            Figure::higher_is_better(
                "requests/s vs raw reqwest keeping a parsed Url (the leanest raw caller)",
                ours,
                parsed_rate,
                None,
            ),
            Figure {
                name: "CPU us/request, client + server (fewer is better)".into(),
                ours: ours_cpu / 1000.0,
                baseline: base_cpu / 1000.0,
                ratio: base_cpu / ours_cpu,
                goal: Some(0.97),
                at_most: None,
            },
        ],
        extra: Vec::new(),
    })
}
