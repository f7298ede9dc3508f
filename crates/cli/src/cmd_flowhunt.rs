//! `assist flowhunt ask|resume`: a question, its events as they arrive, and the outcome; or the
//! rest of a stream from a cursor that `--json` printed.

use assistants::{AskEvent, Client, Cursor, EventStream, Outcome};
use futures::StreamExt;

use crate::context::{Failure, outcome_code};
use crate::print::{Printer, finish};
use crate::record::{Record, payload};

/// `assist flowhunt ...`
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Ask the flow assistant (a new session unless --session is given).
    Ask {
        /// Continue this session instead of creating one.
        #[arg(long)]
        session: Option<String>,
        /// The flow (UUID) the assistant works on, for a new session.
        #[arg(long)]
        flow: Option<String>,
        /// The message.
        message: String,
    },
    /// Continue an interrupted stream from the cursor `ask --json` printed.
    ///
    /// Pass the `cursor` of the last event line seen: nothing is repeated or lost, and nothing
    /// is sent to the assistant again.
    Resume {
        /// The cursor, as JSON (`{"session_id": ..., "from_timestamp": ..., ...}`).
        cursor: String,
    },
}

/// Runs a `flowhunt` command.
pub async fn run(client: &Client, printer: Printer, command: Command) -> Result<u8, Failure> {
    let (session, flow, message) = match command {
        Command::Ask {
            session,
            flow,
            message,
        } => (session, flow, message),
        Command::Resume { cursor } => {
            let cursor: Cursor = serde_json::from_str(&cursor).map_err(|e| {
                Failure::usage(format!(
                    "the cursor is not one `assist flowhunt ask --json` printed ({e}); pass the \"cursor\" object of its last event line"
                ))
            })?;
            let session = client.flowhunt()?.session(cursor.session_id.clone());
            return follow(printer, session.resume(cursor)).await;
        }
    };
    let flowhunt = client.flowhunt()?;
    let session = match session {
        Some(id) => flowhunt.session(id),
        None => {
            let mut request = flowhunt_api::types::FlowAssistantSessionCreateRequest::default();
            if let Some(flow) = flow {
                request.context_flow_id = Some(
                    flow.parse()
                        .map_err(|_| Failure::usage(format!("--flow {flow:?} is not a UUID")))?,
                );
            }
            flowhunt.create_session_with(request).await?
        }
    };
    printer.emit(
        format!("session {}", session.id()),
        Record::Session {
            session_id: session.id().to_string(),
        },
    );
    follow(printer, session.ask(message)).await
}

/// Prints a stream's events as they arrive (each with the cursor to resume after it), then
/// its outcome.
async fn follow(printer: Printer, mut events: EventStream<AskEvent>) -> Result<u8, Failure> {
    let spinner = printer.spinner("waiting for the assistant");
    let mut outcome = None;
    while let Some(item) = events.next().await {
        match item {
            Ok(AskEvent::Event { event, cursor }) => {
                let record = event_record(&event, Some(cursor));
                printer.emit_over(spinner.as_ref(), describe(&event), record);
            }
            Ok(AskEvent::Done {
                outcome: done,
                cursor,
            }) => {
                outcome = Some(done);
                let _ = cursor;
            }
            Err(error) => {
                finish(spinner);
                return Err(error.into());
            }
        }
    }
    finish(spinner);
    let outcome = outcome.ok_or_else(|| Failure {
        code: crate::context::exit::SERVICE,
        message: "no outcome".into(),
    })?;
    print_outcome(printer, &outcome);
    Ok(outcome_code(&outcome))
}

fn describe(event: &flowhunt_api::types::FlowSessionEvent) -> String {
    let meta = |k: &str| {
        event
            .metadata
            .as_ref()
            .and_then(|m| m.get(k))
            .and_then(|v| v.as_str())
            .map(str::to_string)
    };
    let detail = meta("message")
        .or_else(|| meta("loading_desc"))
        .or_else(|| meta("action_description"))
        .or_else(|| meta("tool_name"))
        .or_else(|| meta("prompt_message"))
        .unwrap_or_default();
    format!("  [{}] {}: {}", event.action_type, event.event_type, detail)
}

/// Prints an outcome (shared by every service).
pub fn print_outcome(printer: Printer, outcome: &Outcome) {
    let text = match outcome {
        Outcome::Completed { answer, .. } => format!("answer: {answer}"),
        Outcome::NeedsInput { prompt } => format!("needs input: {prompt}"),
        Outcome::Failed { reason } => format!("failed: {reason}"),
    };
    printer.emit(
        text,
        Record::Outcome {
            outcome: outcome.clone(),
        },
    );
}

/// A FlowHunt event as a `--json` record, with the cursor to resume after it (the demo, which
/// never resumes, passes none).
pub fn event_record(event: &flowhunt_api::types::FlowSessionEvent, cursor: Option<Cursor>) -> Record {
    Record::Event {
        service: "flowhunt".into(),
        event: payload(event),
        cursor,
    }
}
