//! `assist demo`: the whole product offline, against the sandbox started in-process.

use std::time::{Duration, Instant};

use assistants::{AnswerWith, Client, ConversationChange, Outcome};
use assistants_sandbox::{DEFAULT_API_KEY, Sandbox, Service, Timing};
use futures::StreamExt;

use crate::cmd_pieces::print_change;
use crate::context::{Failure, demo_config, exit};
use crate::deadline::Limit;
use crate::print::Printer;
use crate::record::Record;
use crate::reply::{self, print_outcome};
use crate::text::one_line;

struct Row {
    service: &'static str,
    outcome: String,
    requests: u64,
    elapsed: Duration,
}

fn requests(sandbox: &Sandbox, service: &str) -> u64 {
    sandbox.requests_of(match service {
        "FlowHunt" => Service::FlowHunt,
        "Pieces" => Service::Pieces,
        _ => Service::FlowGen,
    })
}

fn label(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Completed { .. } => "completed".into(),
        Outcome::NeedsInput { .. } => "needs input".into(),
        Outcome::Failed { .. } => "failed".into(),
    }
}

/// Runs the demo; exits 0 when every service behaved.
pub async fn run(printer: Printer, limit: Limit) -> Result<u8, Failure> {
    let sandbox = Sandbox::builder()
        .timing(Timing::realtime(Duration::from_millis(150)))
        .start()
        .await
        .map_err(|e| Failure::usage(format!("cannot start the sandbox: {e}")))?;
    printer.emit(
        format!(
            "sandbox running at {} (FlowHunt, Pieces and FlowGen simulators)",
            sandbox.base_url()
        ),
        Record::Sandbox {
            base_url: sandbox.base_url(),
        },
    );
    let client = Client::new(demo_config(&sandbox.base_url(), DEFAULT_API_KEY, limit));
    let mut rows = Vec::new();

    printer.say("\n== FlowHunt: ask the flow assistant, events as they arrive");
    let started = Instant::now();
    let session = client.flowhunt()?.create_session().await?;
    let outcome = reply::flowhunt(printer, session.ask("How do I add a chat input to my flow?")).await?;
    print_outcome(printer, &outcome);
    rows.push(Row {
        service: "FlowHunt",
        outcome: label(&outcome),
        requests: requests(&sandbox, "FlowHunt"),
        elapsed: started.elapsed(),
    });

    printer.say("\n== FlowGen: a chat that pauses for human input, answered by the demo");
    let started = Instant::now();
    let flowgen = client.flowgen()?;
    let chat = flowgen.create_chat("Launch plan", "demo-flow").await?;
    let spinner = printer.spinner("FlowGen run in progress");
    let handler = AnswerWith(|prompt: &str| {
        spinner.emit(
            format!("  question: {}\n  demo answers: yes", one_line(prompt)),
            Record::Status {
                status: "wait_for_human_input".into(),
                prompt: Some(prompt.to_string()),
                answer: Some("yes".into()),
            },
        );
        Some("yes".to_string())
    });
    let outcome = flowgen
        .send_and_wait(
            &chat.id,
            "Plan the launch, but ask for my approval first",
            handler,
        )
        .await;
    drop(spinner);
    let outcome = outcome?;
    print_outcome(printer, &outcome);
    rows.push(Row {
        service: "FlowGen",
        outcome: label(&outcome),
        requests: requests(&sandbox, "FlowGen"),
        elapsed: started.elapsed(),
    });

    printer.say("\n== Pieces: create, watch and delete conversations");
    let started = Instant::now();
    let pieces = client.pieces()?;
    let first = pieces.create("Release notes").await?;
    // The watch reports what exists when it starts, then every change as it happens.
    let mut changes = pieces.watch_conversations();
    let mut pieces_ok = true;
    let mut next_change = async |want: ConversationChange| -> Result<(), Failure> {
        match tokio::time::timeout(Duration::from_secs(10), changes.next()).await {
            Ok(Some(Ok(change))) => {
                print_change(printer, &change);
                pieces_ok &= change == want;
            }
            Ok(Some(Err(e))) => return Err(e.into()),
            _ => pieces_ok = false,
        }
        Ok(())
    };
    next_change(ConversationChange::Added(first.id.clone())).await?;
    let second = pieces.create("Code review").await?;
    next_change(ConversationChange::Added(second.id.clone())).await?;
    pieces.delete(&first.id).await?;
    next_change(ConversationChange::Removed(first.id.clone())).await?;
    pieces.delete(&second.id).await?;
    rows.push(Row {
        service: "Pieces",
        outcome: if pieces_ok {
            "watched 3 changes".into()
        } else {
            "missed changes".into()
        },
        requests: requests(&sandbox, "Pieces"),
        elapsed: started.elapsed(),
    });

    printer.say("\nservice    outcome              requests   time");
    for row in &rows {
        printer.emit(
            format!(
                "{:<10} {:<20} {:>8}   {:.1}s",
                row.service,
                row.outcome,
                row.requests,
                row.elapsed.as_secs_f64()
            ),
            Record::Summary {
                service: row.service.into(),
                outcome: row.outcome.clone(),
                requests: row.requests,
                seconds: row.elapsed.as_secs_f64(),
            },
        );
    }
    sandbox.shutdown().await;
    let all_ok = rows
        .iter()
        .all(|r| r.outcome == "completed" || r.outcome == "watched 3 changes");
    Ok(if all_ok { exit::OK } else { exit::SERVICE })
}
