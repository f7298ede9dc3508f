//! Benchmark runner: `cargo run --release -p bench` (full) or `cargo run -p bench -- --quick`.
//!
//! Every scenario measures our code and a baseline in the same run on the same machine and
//! reports the ratio, since absolute figures on a shared 2-core machine are noise. Results are
//! printed as a table and written as JSON (the path is printed). `--quick` runs each scenario
//! briefly and exits non-zero when one fails to run, so CI keeps the benchmarks working. A
//! scenario that lacks an optional tool (the `sdk` one without the Python SDKs) is reported as
//! skipped, with how to enable it, and does not fail the run unless `--require-all` is given.

mod decode;
mod latency;
mod latency_real;
mod latency_sim;
mod overhead;
mod report;
mod sandbox_process;
mod schedule_server;
mod sdk;
mod waiters;

use std::process::ExitCode;

use clap::Parser;

/// Command-line options.
#[derive(Parser, Debug)]
#[command(
    name = "bench",
    about = "assistants-rs benchmarks: figures and ratios to baselines"
)]
struct Args {
    /// Run every scenario briefly (for CI); figures are not meaningful.
    #[arg(long)]
    quick: bool,
    /// Run only scenarios whose name contains this text.
    #[arg(long)]
    only: Option<String>,
    /// Fail when a scenario is skipped for lack of an optional tool (CI: every scenario runs).
    #[arg(long)]
    require_all: bool,
    /// Where to write the JSON results (default: `target/bench-results/<unix-time>.json`).
    #[arg(long)]
    out: Option<std::path::PathBuf>,
    /// Internal: serve a sandbox until stdin closes (the scenarios' sandbox process).
    #[arg(long = "serve-sandbox", hide = true)]
    serve_sandbox: bool,
}

/// How big a run is.
#[derive(Clone, Copy, Debug)]
pub struct Size {
    /// `--quick` was given.
    pub quick: bool,
}

impl Size {
    /// `full` normally, `quick` under `--quick`.
    pub fn pick(self, quick: usize, full: usize) -> usize {
        if self.quick { quick } else { full }
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    if args.serve_sandbox {
        return sandbox_process::serve();
    }
    let size = Size { quick: args.quick };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let scenarios: Vec<(&str, report::Runner)> = vec![
        ("overhead", Box::new(|s| Box::pin(overhead::run(s)))),
        ("decode", Box::new(|s| Box::pin(decode::run(s)))),
        ("waiters", Box::new(|s| Box::pin(waiters::run(s)))),
        ("sdk", Box::new(|s| Box::pin(sdk::run(s)))),
        // Last: its hundreds of sandboxes would otherwise count in the waiters' peak RSS.
        ("latency", Box::new(|s| Box::pin(latency::run(s)))),
    ];
    let mut results = Vec::new();
    let mut failed = Vec::new();
    let mut skipped = Vec::new();
    for (name, run) in scenarios {
        if args.only.as_deref().is_some_and(|only| !name.contains(only)) {
            continue;
        }
        eprintln!("running {name}{}...", if size.quick { " (quick)" } else { "" });
        match runtime.block_on(run(size)) {
            Ok(result) => results.push(result),
            Err(e) if e.downcast_ref::<report::Skipped>().is_some() => {
                eprintln!("scenario {name} skipped: {e}");
                skipped.push(name);
            }
            Err(e) => {
                eprintln!("scenario {name} failed: {e:#}");
                failed.push(name);
            }
        }
    }
    report::print(&results);
    match report::write_json(&results, size, args.out.as_deref()) {
        Ok(path) => println!("results written to {}", path.display()),
        Err(e) => {
            eprintln!("error: could not write results: {e:#}");
            return ExitCode::FAILURE;
        }
    }
    if !skipped.is_empty() {
        eprintln!(
            "scenarios skipped: {}{}",
            skipped.join(", "),
            if args.require_all {
                " (fatal: --require-all)"
            } else {
                ""
            }
        );
    }
    if !failed.is_empty() {
        eprintln!("scenarios that failed to run: {}", failed.join(", "));
    }
    if failed.is_empty() && (skipped.is_empty() || !args.require_all) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
