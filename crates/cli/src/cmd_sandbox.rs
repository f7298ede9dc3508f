//! `assist sandbox`: serve the simulators until Ctrl-C.

use std::time::Duration;

use anyhow::Context;
use assistants_sandbox::{Faults, FlowgenContract, Limits, Sandbox, SandboxConfig, Timing};

/// Options of `assist sandbox`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8787")]
    listen: String,
    /// The FlowGen API key to accept (FlowHunt accepts any bearer token; Pieces needs none).
    #[arg(long, env = "FLOWGEN_API_KEY", hide_env_values = true)]
    api_key: Option<String>,
    /// Which FlowGen contract to serve.
    #[arg(long, value_enum, default_value_t = Contract::Documented)]
    flowgen_contract: Contract,
    /// Milliseconds between the steps of a scripted reply (0: everything at once).
    #[arg(long, default_value_t = 0)]
    step_ms: u64,
    /// Added latency before every response, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Chance (0-1) of a 429 with Retry-After.
    #[arg(long, default_value_t = 0.0)]
    rate_429: f64,
    /// Retry-After seconds of injected 429s.
    #[arg(long, default_value_t = 1)]
    retry_after: u64,
    /// Chance (0-1) of a 503.
    #[arg(long, default_value_t = 0.0)]
    rate_5xx: f64,
    /// Chance (0-1) of a connection dropped mid-response.
    #[arg(long, default_value_t = 0.0)]
    rate_drop: f64,
    /// Repeat FlowHunt events at the poll boundary.
    #[arg(long)]
    duplicate_boundary: bool,
    /// Drop identifiers WebSockets after this many frames.
    #[arg(long)]
    ws_drop_after: Option<usize>,
    /// Limit the random faults to these operationIds (repeatable).
    #[arg(long = "fault-operation")]
    fault_operations: Vec<String>,
    /// Seed of ids and fault rolls, to replay a run.
    #[arg(long, default_value_t = 0x5eed)]
    seed: u64,
    /// Open connections at most; more are closed at once.
    #[arg(long, default_value_t = Limits::default().max_connections)]
    max_connections: usize,
    /// Seconds a connection may take to send a request head (an idle keep-alive connection is
    /// closed after this long too).
    #[arg(long, default_value_t = Limits::default().header_read_timeout.as_secs())]
    header_timeout_secs: u64,
    /// Seconds of silence allowed inside a request body or on a WebSocket write.
    #[arg(long, default_value_t = Limits::default().idle_timeout.as_secs())]
    idle_timeout_secs: u64,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum Contract {
    Documented,
    OpenSource,
}

/// Serves until Ctrl-C or SIGTERM; open requests get the sandbox's shutdown grace (2 s), then
/// their connections are closed, so a half-sent request cannot hold the exit.
pub async fn run(args: Args) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {}: choose another --listen address",
                args.listen
            )
        })?;
    let addr = listener.local_addr()?;
    let mut config = SandboxConfig::default();
    if let Some(key) = args.api_key.filter(|k| !k.is_empty()) {
        config.api_keys = vec![key];
    }
    config.flowgen_contract = match args.flowgen_contract {
        Contract::Documented => FlowgenContract::Documented,
        Contract::OpenSource => FlowgenContract::OpenSource,
    };
    config.timing = Timing::realtime(Duration::from_millis(args.step_ms));
    config.faults = Faults {
        latency: Duration::from_millis(args.latency_ms),
        rate_429: args.rate_429,
        retry_after_secs: args.retry_after,
        rate_5xx: args.rate_5xx,
        rate_drop: args.rate_drop,
        duplicate_boundary: args.duplicate_boundary,
        ws_drop_after: args.ws_drop_after,
        operations: args.fault_operations,
    };
    config.seed = args.seed;
    config.limits = Limits::default()
        .with_max_connections(args.max_connections)
        .with_header_read_timeout(Duration::from_secs(args.header_timeout_secs))
        .with_idle_timeout(Duration::from_secs(args.idle_timeout_secs));
    let key_note = if config.api_keys == [assistants_sandbox::DEFAULT_API_KEY] {
        format!(
            "FlowGen key: {} (the default; set --api-key to choose one)",
            assistants_sandbox::DEFAULT_API_KEY
        )
    } else {
        "FlowGen key: the one given with --api-key / FLOWGEN_API_KEY".to_string()
    };
    println!("sandbox listening on http://{addr}");
    println!("  FlowHunt: any bearer token; Pieces: no auth; {key_note}");
    println!(
        "  FlowGen contract: {:?}; press Ctrl-C to stop",
        config.flowgen_contract
    );
    Sandbox::serve_until(listener, config, stop_signal()).await?;
    Ok(())
}

/// Resolves on Ctrl-C, or SIGTERM where there is one.
async fn stop_signal() {
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(term) => term,
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
