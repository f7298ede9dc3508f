//! Per-call overhead: the generated client vs raw reqwest, same server, same concurrency.
//!
//! Both sides fetch `GET /conversations/identifiers` from a minimal in-process axum server and
//! decode the body into the same typed struct, so the difference is what the generated client
//! adds (builder, headers, the `exec` hook and body limit, `ResponseValue`). Goal (issue 16): at
//! least 0.97x raw reqwest.

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

async fn timed<F, Fut>(requests: usize, call: F) -> anyhow::Result<f64>
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send,
{
    let call = Arc::new(call);
    let per_task = requests / CONCURRENCY;
    let start = Instant::now();
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
    Ok((per_task * CONCURRENCY) as f64 / start.elapsed().as_secs_f64())
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
    // Warm up connections on both sides, then alternate rounds and keep each side's best.
    timed(CONCURRENCY * 4, gen_call.clone())
        .await
        .context("generated client warm-up")?;
    timed(CONCURRENCY * 4, raw_call.clone())
        .await
        .context("raw reqwest warm-up")?;
    let (mut ours, mut base) = (0f64, 0f64);
    for _ in 0..3 {
        ours = ours.max(timed(requests / 3, gen_call.clone()).await?);
        base = base.max(timed(requests / 3, raw_call.clone()).await?);
    }
    server.abort();
    Ok(Scenario {
        name: "overhead".into(),
        description: format!(
            "GET /conversations/identifiers, {CONCURRENCY} concurrent callers, {requests} requests a side: pieces-api generated client vs raw reqwest + serde_json into the same typed struct"
        ),
        figures: vec![Figure::higher_is_better(
            "requests/s (generated client)",
            ours,
            base,
            Some(0.97),
        )],
        extra: Vec::new(),
    })
}
