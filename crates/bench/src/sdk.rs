//! Against the official SDKs: the same sequential calls through our generated clients and
//! through the official Python SDKs (`flowhunt`, `pieces_os_client`), against the same sandbox.
//!
//! Needs the SDKs in `target/ci-tools/venv` (created by `crates/sandbox/conformance/run.sh`,
//! which CI runs first); without them the scenario is skipped (fatal under `--require-all`).
//! Goal (issue 16): >= 10x, with the sandbox in a process of its own for both sides.

use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use assistants_sandbox::Sandbox;

use crate::Size;
use crate::report::{Figure, Scenario, Skipped};
use crate::sandbox_process::SandboxProcess;

/// Rounds per side; the best is kept (noise on a shared machine only ever slows a round).
const ROUNDS: usize = 3;

/// Runs the scenario on a single-threaded runtime of its own (the natural set-up for sequential
/// calls). The sandbox runs in a process of its own for both sides; the second rows put it on
/// our runtime, in our process.
pub async fn run(size: Size) -> anyhow::Result<Scenario> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let result = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(anyhow::Error::from)
            .and_then(|runtime| runtime.block_on(measure(size)));
        let _ = tx.send(result);
    });
    rx.await.context("the scenario's thread ended")?
}

/// Calls per second of `call` made `calls` times in a row: the best of [`ROUNDS`] rounds after
/// one warm-up call (as `sdk_calls.py` measures the Python side).
async fn best_rate<F, Fut, E>(calls: usize, mut call: F) -> anyhow::Result<f64>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), E>>,
    E: std::error::Error + Send + Sync + 'static,
{
    call().await?;
    let mut best: f64 = 0.0;
    for _ in 0..ROUNDS {
        let start = Instant::now();
        for _ in 0..calls {
            call().await?;
        }
        best = best.max(calls as f64 / start.elapsed().as_secs_f64());
    }
    Ok(best)
}

/// Our FlowHunt poll and Pieces identifier calls/s against the sandbox at `base`.
async fn ours(base: &str, calls: usize) -> anyhow::Result<(f64, f64)> {
    let flowhunt = flowhunt_api::Client::with_api_key(base, "bench".into())?;
    let session = flowhunt
        .create_v3_flow_assistant_session()
        .workspace_id("bench")
        .body(flowhunt_api::types::FlowAssistantSessionCreateRequest::default())
        .send()
        .await?
        .into_inner();
    flowhunt
        .invoke_v3_flow_assistant_response()
        .session_id(&session.session_id)
        .body(flowhunt_api::types::FlowAssistantInvokeRequest::builder().message("bench"))
        .send()
        .await?;
    // Both sides: a warm-up call (connection set-up), then the best of ROUNDS rounds.
    let ours_flowhunt = best_rate(calls, || async {
        flowhunt
            .poll_v3_flow_assistant_response()
            .session_id(&session.session_id)
            .from_timestamp("0")
            .send()
            .await
            .map(drop)
    })
    .await?;
    let pieces = pieces_api::Client::with_base_url(base)?;
    let ours_pieces = best_rate(calls, || async {
        pieces.conversations_identifiers_snapshot().send().await.map(drop)
    })
    .await?;
    Ok((ours_flowhunt, ours_pieces))
}

async fn measure(size: Size) -> anyhow::Result<Scenario> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let python = root.join("target/ci-tools/venv/bin/python");
    if !python.exists() {
        return Err(Skipped {
            missing: "the official Python SDKs are not installed (target/ci-tools/venv)".into(),
            enable: "bash crates/sandbox/conformance/run.sh (installs them once)".into(),
        }
        .into());
    }
    let calls = size.pick(50, 500);
    // The fair set-up: the sandbox in a process of its own for both sides, as users run it.
    let process = SandboxProcess::start()?;
    let base = process.base_url().to_string();
    let (ours_flowhunt, ours_pieces) = ours(&base, calls).await?;

    let script = root.join("crates/bench/sdk_calls.py");
    let (python, base_arg, calls_arg) = (python.clone(), base.clone(), calls.to_string());
    let rounds_arg = ROUNDS.to_string();
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(python)
            .arg(script)
            .arg(base_arg)
            .arg(calls_arg)
            .arg(rounds_arg)
            .output()
    })
    .await?
    .context("running the official SDKs")?;
    anyhow::ensure!(
        output.status.success(),
        "the SDK script failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let theirs: serde_json::Value =
        serde_json::from_slice(&output.stdout).context("the SDK script's JSON")?;
    let their = |k: &str| theirs[k].as_f64().unwrap_or(f64::NAN);
    drop(process);
    // The earlier set-up, kept as a labelled second row: the sandbox on our own runtime.
    let sandbox = Sandbox::start().await?;
    let (shared_flowhunt, shared_pieces) = ours(&sandbox.base_url(), calls).await?;
    sandbox.shutdown().await;
    Ok(Scenario {
        name: "sdk".into(),
        description: format!(
            "{calls} sequential calls per round, best of {ROUNDS} rounds after a warm-up call, each side against the same sandbox in a process of its own (the second rows: the sandbox in our process, on our client's single-threaded runtime; Python as before against the separate process): generated Rust clients (ours) vs the official Python SDKs flowhunt 3.19.1 and pieces_os_client 5.0.1"
        ),
        figures: vec![
            Figure::higher_is_better(
                "FlowHunt poll calls/s",
                ours_flowhunt,
                their("flowhunt_poll_per_s"),
                Some(10.0),
            ),
            Figure::higher_is_better(
                "Pieces identifiers calls/s",
                ours_pieces,
                their("pieces_identifiers_per_s"),
                Some(10.0),
            ),
            Figure::higher_is_better(
                "FlowHunt poll calls/s, sandbox on our runtime",
                shared_flowhunt,
                their("flowhunt_poll_per_s"),
                None,
            ),
            Figure::higher_is_better(
                "Pieces identifiers calls/s, sandbox on our runtime",
                shared_pieces,
                their("pieces_identifiers_per_s"),
                None,
            ),
        ],
        extra: Vec::new(),
    })
}
