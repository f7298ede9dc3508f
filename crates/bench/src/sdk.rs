//! Against the official SDKs: the same sequential calls through our generated clients and
//! through the official Python SDKs (`flowhunt`, `pieces_os_client`), against the same sandbox.
//!
//! The sandbox runs in a process of its own for both sides, as users run a server. Rounds
//! alternate (ours, then Python's, [`ROUNDS`] times) so that both sides sample the same spells
//! of load on a shared machine; each side keeps its best round. Where the time of a call goes
//! is measured too: a raw reqwest call of the same request that reads the body and decodes
//! nothing is the floor (the sandbox's share and the transport's), our client path is what our
//! call adds to it, the Python SDK's what its call adds; the bodies' sizes are printed.
//!
//! Needs the SDKs in `target/ci-tools/venv` (created by `crates/sandbox/conformance/run.sh`,
//! which CI runs first); without them the scenario is skipped (fatal under `--require-all`).
//! Goal (issue 16): >= 10x calls/s on both.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use assistants_sandbox::Sandbox;

use crate::Size;
use crate::report::{Figure, Scenario, Skipped};
use crate::sandbox_process::SandboxProcess;

/// Rounds per side, alternating; the best is kept (noise only ever slows a round).
const ROUNDS: usize = 3;

/// Calls per second of `call` made `calls` times in a row (one round).
async fn rate<F, Fut, T, E>(calls: usize, mut call: F) -> anyhow::Result<f64>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, E>>,
    E: std::error::Error + Send + Sync + 'static,
{
    let start = Instant::now();
    for _ in 0..calls {
        call().await?;
    }
    Ok(calls as f64 / start.elapsed().as_secs_f64())
}

/// Calls/s of one FlowHunt and one Pieces call.
#[derive(Clone, Copy, Debug, Default)]
struct Pair {
    flowhunt: f64,
    pieces: f64,
}

impl Pair {
    fn best(self, other: Pair) -> Pair {
        Pair {
            flowhunt: self.flowhunt.max(other.flowhunt),
            pieces: self.pieces.max(other.pieces),
        }
    }
}

/// Our clients and raw reqwest, set up and warmed against one sandbox.
struct Ours {
    flowhunt: flowhunt_api::Client,
    session: String,
    pieces: pieces_api::Client,
    raw: reqwest::Client,
    poll_url: String,
    identifiers_url: String,
    /// Body bytes of one FlowHunt poll and one Pieces identifiers answer.
    bodies: (usize, usize),
}

impl Ours {
    /// Clients for the sandbox at `base`, a session with a reply to poll, one warm-up call of
    /// each kind (connection set-up, as `sdk_calls.py` does).
    async fn new(base: &str) -> anyhow::Result<Self> {
        let flowhunt = flowhunt_api::Client::with_api_key(base, "bench".into())?;
        let session = flowhunt
            .create_v3_flow_assistant_session()
            .workspace_id("bench")
            .body(flowhunt_api::types::FlowAssistantSessionCreateRequest::default())
            .send()
            .await?
            .into_inner()
            .session_id;
        flowhunt
            .invoke_v3_flow_assistant_response()
            .session_id(&session)
            .body(flowhunt_api::types::FlowAssistantInvokeRequest::builder().message("bench"))
            .send()
            .await?;
        let pieces = pieces_api::Client::with_base_url(base)?;
        let raw = reqwest::Client::builder().http1_only().build()?;
        let mut ours = Self {
            poll_url: format!("{base}/v3/flow-assistants/{session}/invocation_response/0"),
            identifiers_url: format!("{base}/conversations/identifiers"),
            flowhunt,
            session,
            pieces,
            raw,
            bodies: (0, 0),
        };
        ours.ours_round(1).await?;
        ours.bodies = (ours.raw_poll().await?, ours.raw_identifiers().await?);
        Ok(ours)
    }

    async fn raw_poll(&self) -> reqwest::Result<usize> {
        let response = self
            .raw
            .post(&self.poll_url)
            .bearer_auth("bench")
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await?
            .error_for_status()?;
        Ok(response.bytes().await?.len())
    }

    async fn raw_identifiers(&self) -> reqwest::Result<usize> {
        let response = self
            .raw
            .get(&self.identifiers_url)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await?
            .error_for_status()?;
        Ok(response.bytes().await?.len())
    }

    /// One round of our generated clients.
    async fn ours_round(&self, calls: usize) -> anyhow::Result<Pair> {
        let flowhunt = rate(calls, || {
            self.flowhunt
                .poll_v3_flow_assistant_response()
                .session_id(&self.session)
                .from_timestamp("0")
                .send()
        })
        .await?;
        let pieces = rate(calls, || self.pieces.conversations_identifiers_snapshot().send()).await?;
        Ok(Pair { flowhunt, pieces })
    }

    /// One round of raw reqwest: the same requests, the body read, nothing decoded.
    async fn raw_round(&self, calls: usize) -> anyhow::Result<Pair> {
        let flowhunt = rate(calls, || self.raw_poll()).await?;
        let pieces = rate(calls, || self.raw_identifiers()).await?;
        Ok(Pair { flowhunt, pieces })
    }
}

/// One round of the official Python SDKs (a process per round: its start-up is not timed).
async fn python_round(python: &Path, base: &str, calls: usize) -> anyhow::Result<Pair> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("sdk_calls.py");
    let (python, base, calls) = (python.to_path_buf(), base.to_string(), calls.to_string());
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(python)
            .arg(script)
            .arg(base)
            .arg(calls)
            .arg("1")
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
    Ok(Pair {
        flowhunt: their("flowhunt_poll_per_s"),
        pieces: their("pieces_identifiers_per_s"),
    })
}

/// Runs the scenario on a single-threaded runtime of its own (the natural set-up for sequential
/// calls), on a thread of its own.
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

fn venv_python() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/ci-tools/venv/bin/python")
}

/// Microseconds per call at `per_s` calls/s.
fn micros(per_s: f64) -> f64 {
    1e6 / per_s
}

async fn measure(size: Size) -> anyhow::Result<Scenario> {
    let python = venv_python();
    if !python.exists() {
        return Err(Skipped {
            missing: "the official Python SDKs are not installed (target/ci-tools/venv)".into(),
            enable: "bash crates/sandbox/conformance/run.sh (installs them once)".into(),
        }
        .into());
    }
    let calls = size.pick(50, 500);
    // The fair set-up: the sandbox in a process of its own for both sides.
    let process = SandboxProcess::start()?;
    let base = process.base_url().to_string();
    let ours = Ours::new(&base).await?;
    let (mut best, mut floor, mut theirs) = (Pair::default(), Pair::default(), Pair::default());
    for _ in 0..ROUNDS {
        best = best.best(ours.ours_round(calls).await?);
        floor = floor.best(ours.raw_round(calls).await?);
        theirs = theirs.best(python_round(&python, &base, calls).await?);
    }
    drop(ours);
    drop(process);
    // The earlier set-up, kept as labelled second rows: the sandbox on our own runtime.
    let sandbox = Sandbox::start().await?;
    let local = Ours::new(&sandbox.base_url()).await?;
    let mut shared = Pair::default();
    for _ in 0..ROUNDS {
        shared = shared.best(local.ours_round(calls).await?);
    }
    let bodies = local.bodies;
    drop(local);
    sandbox.shutdown().await;
    let split = |name: &str, ours: f64, floor: f64, theirs: f64, body: usize| {
        format!(
            "  sdk, {name} per call: {:.0} us floor (the sandbox's share and the transport: raw reqwest, body read, nothing decoded; {body} body bytes), our client path +{:.0} us, the Python SDK's +{:.0} us; ceiling of the ratio with this server: {:.1}x",
            micros(floor),
            micros(ours) - micros(floor),
            micros(theirs) - micros(floor),
            floor / theirs,
        )
    };
    Ok(Scenario {
        name: "sdk".into(),
        description: format!(
            "{calls} sequential calls per round, {ROUNDS} rounds alternating ours / raw reqwest / Python (a process per round), best round of each, after a warm-up call, against one sandbox in a process of its own (the second rows: the sandbox in our process, on our client's single-threaded runtime): generated Rust clients (ours) vs the official Python SDKs flowhunt 3.19.1 and pieces_os_client 5.0.1"
        ),
        figures: vec![
            Figure::higher_is_better(
                "FlowHunt poll calls/s",
                best.flowhunt,
                theirs.flowhunt,
                Some(10.0),
            ),
            Figure::higher_is_better(
                "Pieces identifiers calls/s",
                best.pieces,
                theirs.pieces,
                Some(10.0),
            ),
            Figure::higher_is_better(
                "FlowHunt poll calls/s, raw reqwest floor",
                floor.flowhunt,
                theirs.flowhunt,
                None,
            ),
            Figure::higher_is_better(
                "Pieces identifiers calls/s, raw reqwest floor",
                floor.pieces,
                theirs.pieces,
                None,
            ),
            Figure::higher_is_better(
                "FlowHunt poll calls/s, sandbox in our process",
                shared.flowhunt,
                theirs.flowhunt,
                None,
            ),
            Figure::higher_is_better(
                "Pieces identifiers calls/s, sandbox in our process",
                shared.pieces,
                theirs.pieces,
                None,
            ),
        ],
        extra: vec![
            split(
                "FlowHunt poll",
                best.flowhunt,
                floor.flowhunt,
                theirs.flowhunt,
                bodies.0,
            ),
            split(
                "Pieces identifiers",
                best.pieces,
                floor.pieces,
                theirs.pieces,
                bodies.1,
            ),
        ],
    })
}
