//! `assist`: FlowHunt, Pieces and FlowGen assistants from the terminal, and their sandbox.
//!
//! Exit codes: 0 done, 2 usage or configuration, 3 the service failed or refused, 4 the
//! deadline passed, 5 the assistant needs input that was not given.
#![forbid(unsafe_code)]

mod cmd_chat;
mod cmd_demo;
mod cmd_flowgen;
mod cmd_flowhunt;
mod cmd_meta;
mod cmd_pieces;
mod cmd_sandbox;
mod context;
mod deadline;
mod editor;
mod input;
mod keys;
mod label;
mod markdown;
mod print;
mod record;
mod reply;
mod text;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

use crate::context::{Failure, Flags, exit};
use crate::deadline::Limit;
use crate::print::Printer;

/// Talk to FlowHunt, Pieces and FlowGen assistants, or run their local sandbox.
///
/// Configuration comes from FLOWHUNT_API_KEY, FLOWHUNT_WORKSPACE_ID, FLOWGEN_API_KEY,
/// FLOWGEN_FLOW_ID and FLOWHUNT_BASE_URL / PIECES_BASE_URL / FLOWGEN_BASE_URL, or the flags.
/// Prefer the environment variables (or --api-key-file) for keys: --api-key is visible to
/// every local user in the process list.
/// Exit codes: 0 done, 2 usage or configuration, 3 the service failed or refused, 4 the
/// deadline passed, 5 the assistant needs input that was not given.
#[derive(Parser, Debug)]
#[command(name = "assist", version, about, long_about)]
struct Cli {
    /// Deadline in seconds: of the whole command, or of each reply in `chat` (default 600).
    /// A value too large to represent means no deadline.
    #[arg(long, global = true, value_name = "SECONDS")]
    timeout: Option<u64>,
    /// Print one JSON object per line (events, status changes, the outcome).
    #[arg(long, global = true)]
    json: bool,
    /// Read the API key from this file, or from the first line of stdin with `-`.
    #[arg(long, global = true, value_name = "PATH", conflicts_with = "api_key")]
    api_key_file: Option<PathBuf>,
    /// API key for the service used; prefer FLOWHUNT_API_KEY / FLOWGEN_API_KEY or
    /// --api-key-file: a flag is visible to every local user in the process list.
    #[arg(long, global = true, value_name = "KEY", hide_env_values = true)]
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
    /// Print a shell completion script (e.g. `assist completions bash > ~/.local/share/bash-completion/completions/assist`).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the man page (e.g. `assist manpage > ~/.local/share/man/man1/assist.1`).
    Manpage,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { exit::USAGE } else { exit::OK });
        }
    };
    let printer = Printer::new(cli.json);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            return fail(
                printer,
                Failure {
                    code: exit::SERVICE,
                    message: format!("cannot start the async runtime: {e}"),
                },
            );
        }
    };
    let flags = Flags {
        timeout: cli.timeout,
        api_key: cli.api_key,
        api_key_file: cli.api_key_file,
        base_url: cli.base_url,
    };
    let result: Result<u8, Failure> = runtime.block_on(async {
        match cli.command {
            Command::Demo => {
                let limit = Limit::new(flags.timeout, Some(std::time::Duration::from_secs(60)));
                limit.run(cmd_demo::run(printer, limit)).await
            }
            Command::Flowhunt(command) => cmd_flowhunt::run(&context::config(flags, printer)?, command).await,
            Command::Flowgen(command) => cmd_flowgen::run(&context::config(flags, printer)?, command).await,
            Command::Pieces(command) => cmd_pieces::run(&context::config(flags, printer)?, command).await,
            Command::Schema => {
                use std::io::Write;
                let _ = writeln!(std::io::stdout().lock(), "{:#}", record::schema());
                Ok(exit::OK)
            }
            Command::Completions { shell } => cmd_meta::completions(Cli::command(), shell),
            Command::Manpage => cmd_meta::manpage(Cli::command()),
            Command::Sandbox(args) => cmd_sandbox::run(args)
                .await
                .map(|()| exit::OK)
                .map_err(|e| Failure {
                    code: exit::SERVICE,
                    message: format!("{e:#}"),
                }),
        }
    });
    // Threads still waiting for a line of stdin must not hold the process.
    runtime.shutdown_background();
    match result {
        Ok(code) => ExitCode::from(code),
        Err(failure) => fail(printer, failure),
    }
}

/// Reports a failure: a JSON error record with `--json`, always an `error:` line on stderr
/// (server text in it escaped).
fn fail(printer: Printer, failure: Failure) -> ExitCode {
    printer.record(&record::Record::Error {
        exit_code: failure.code,
        message: failure.message.clone(),
    });
    eprintln!("error: {}", text::one_line(&failure.message));
    ExitCode::from(failure.code)
}
