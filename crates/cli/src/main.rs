//! `assist`: the FlowHunt, Pieces and FlowGen assistants from the terminal, and their sandbox.
#![forbid(unsafe_code)]

mod cmd_sandbox;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Documented exit codes.
pub mod exit {
    /// Done.
    pub const OK: u8 = 0;
    /// Usage or configuration error.
    pub const USAGE: u8 = 2;
    /// The service failed or refused.
    pub const SERVICE: u8 = 3;
}

/// Talk to FlowHunt, Pieces and FlowGen assistants, or run their local sandbox.
#[derive(Parser, Debug)]
#[command(name = "assist", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve the local simulators of all three services on one address.
    Sandbox(cmd_sandbox::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(exit::SERVICE);
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Sandbox(args) => cmd_sandbox::run(args).await,
        }
    });
    match result {
        Ok(()) => ExitCode::from(exit::OK),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(exit::SERVICE)
        }
    }
}
