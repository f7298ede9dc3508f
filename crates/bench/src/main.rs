//! Benchmark runner: `cargo run --release -p bench` (full) or `cargo run -p bench -- --quick`.
//!
//! Every scenario measures our code and a baseline in the same run on the same machine and
//! reports the ratio, since absolute figures on a shared 2-core machine are noise. Results are
//! printed as a table and written as JSON (the path is printed). `--quick` runs each scenario
//! briefly and exits non-zero when one fails to run, so CI keeps the benchmarks working.

mod decode;
mod latency;
mod overhead;
mod report;
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
    /// Where to write the JSON results (default: target/bench-results/<unix-time>.json).
    #[arg(long)]
    out: Option<std::path::PathBuf>,
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
        ("latency", Box::new(|s| Box::pin(latency::run(s)))),
        ("waiters", Box::new(|s| Box::pin(waiters::run(s)))),
        ("sdk", Box::new(|s| Box::pin(sdk::run(s)))),
    ];
    let mut results = Vec::new();
    let mut failed = Vec::new();
    for (name, run) in scenarios {
        if args.only.as_deref().is_some_and(|only| !name.contains(only)) {
            continue;
        }
        eprintln!("running {name}{}...", if size.quick { " (quick)" } else { "" });
        match runtime.block_on(run(size)) {
            Ok(result) => results.push(result),
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
    if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        eprintln!("scenarios that failed to run: {}", failed.join(", "));
        ExitCode::FAILURE
    }
}
