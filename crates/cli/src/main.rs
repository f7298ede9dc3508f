//! `assist`: FlowHunt, Pieces and FlowGen assistants from the terminal, and their sandbox.
//!
//! Exit codes: 0 done, 2 usage or configuration, 3 the service failed or refused, 4 the
//! deadline passed, 5 the assistant needs input that was not given.
#![forbid(unsafe_code)]

mod cmd_demo;
mod cmd_flowgen;
mod cmd_flowhunt;
mod cmd_pieces;
mod cmd_sandbox;
mod context;
mod print;
mod record;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::context::{Failure, exit};
use crate::print::Printer;

/// Talk to FlowHunt, Pieces and FlowGen assistants, or run their local sandbox.
///
/// Configuration comes from FLOWHUNT_API_KEY, FLOWHUNT_WORKSPACE_ID, FLOWGEN_API_KEY,
/// FLOWGEN_FLOW_ID and FLOWHUNT_BASE_URL / PIECES_BASE_URL / FLOWGEN_BASE_URL, or the flags.
/// Exit codes: 0 done, 2 usage or configuration, 3 the service failed or refused, 4 the
/// deadline passed, 5 the assistant needs input that was not given.
#[derive(Parser, Debug)]
#[command(name = "assist", version, about, long_about)]
struct Cli {
    /// Overall deadline of the command, in seconds.
    #[arg(long, global = true, value_name = "SECONDS")]
    timeout: Option<u64>,
    /// Print one JSON object per line (events, status changes, the outcome).
    #[arg(long, global = true)]
    json: bool,
    /// API key for the service used (overrides FLOWHUNT_API_KEY / FLOWGEN_API_KEY; never echoed).
    #[arg(long, global = true, hide_env_values = true)]
    api_key: Option<String>,
    /// Base URL for every service (overrides the *_BASE_URL variables).
    #[arg(long, global = true)]
    base_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run all three services against an in-process sandbox: the offline tour.
    Demo,
    /// FlowHunt Flow Assistant V3.
    #[command(subcommand)]
    Flowhunt(cmd_flowhunt::Command),
    /// FlowGen chats.
    #[command(subcommand)]
    Flowgen(cmd_flowgen::Command),
    /// Pieces OS conversations.
    #[command(subcommand)]
    Pieces(cmd_pieces::Command),
    /// Serve the local simulators of all three services on one address.
    Sandbox(cmd_sandbox::Args),
    /// Print the JSON Schema of one line of `--json` output.
    Schema,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { exit::USAGE } else { exit::OK });
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(exit::SERVICE);
        }
    };
    let printer = Printer { json: cli.json };
    let config = context::config(cli.timeout, cli.api_key.clone(), cli.base_url.clone());
    let client = assistants::Client::new(config);
    let result: Result<u8, Failure> = runtime.block_on(async {
        match cli.command {
            Command::Demo => cmd_demo::run(printer, cli.timeout).await,
            Command::Flowhunt(command) => cmd_flowhunt::run(&client, printer, command).await,
            Command::Flowgen(command) => cmd_flowgen::run(&client, printer, command).await,
            Command::Pieces(command) => cmd_pieces::run(&client, printer, command).await,
            Command::Schema => {
                use std::io::Write;
                let _ = writeln!(std::io::stdout().lock(), "{:#}", record::schema());
                Ok(exit::OK)
            }
            Command::Sandbox(args) => cmd_sandbox::run(args)
                .await
                .map(|()| exit::OK)
                .map_err(|e| Failure {
                    code: exit::SERVICE,
                    message: format!("{e:#}"),
                }),
        }
    });
    match result {
        Ok(code) => ExitCode::from(code),
        Err(failure) => {
            if printer.json {
                printer.emit(
                    "",
                    record::Record::Error {
                        exit_code: failure.code,
                        message: failure.message.clone(),
                    },
                );
            }
            eprintln!("error: {}", failure.message);
            ExitCode::from(failure.code)
        }
    }
}
