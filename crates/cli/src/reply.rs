//! One reply of an assistant, printed the same way by `ask`, `chat` and the demo: events and
//! status changes as they arrive (readable lines, or raw records with `--json`), a spinner
//! while the service is quiet, questions asked inline, then the outcome.

use assistants::{AskEvent, Cursor, EventStream, FlowGen, InputHandler, Outcome};
use futures::StreamExt;

use crate::context::{Failure, exit};
use crate::input::{Input, Line};
use crate::label;
use crate::print::{Printer, Spinner};
use crate::record::{MessageRecord, Record, payload};
use crate::text::one_line;

/// Follows a FlowHunt stream to its outcome, printing each event as it arrives.
pub async fn flowhunt(printer: Printer, mut events: EventStream<AskEvent>) -> Result<Outcome, Failure> {
    let spinner = printer.spinner("waiting for the assistant");
    while let Some(item) = events.next().await {
        match item? {
            AskEvent::Event { event, cursor } => {
                let record = event_record(&event, Some(cursor));
                match label::flowhunt_event(&event) {
                    Some(line) => spinner.emit(line, record),
                    None => printer.record(&record),
                }
            }
            AskEvent::Done { outcome, .. } => return Ok(outcome),
            _ => {} // kinds of item this version does not show
        }
    }
    Err(Failure {
        code: exit::SERVICE,
        message: "the event stream ended without an outcome".into(),
    })
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

/// Answers FlowGen's questions from the user's input: the question is printed, the next line
/// is the answer (none at the end of input: the turn then needs input).
struct Answers<'a> {
    printer: Printer,
    spinner: &'a Spinner,
    input: &'a Input,
}

impl InputHandler for Answers<'_> {
    async fn answer(&mut self, prompt: &str) -> Option<String> {
        self.spinner.pause();
        self.printer.emit(
            format!("question: {}", one_line(prompt)),
            Record::Status {
                status: "wait_for_human_input".into(),
                prompt: Some(prompt.to_string()),
                answer: None,
            },
        );
        let line = self.input.read("answer> ", false).await;
        self.spinner.resume();
        match line {
            Line::Text(text) if !text.trim().is_empty() => Some(text),
            _ => None,
        }
    }
}

/// Sends `message` to a FlowGen chat and follows the run: status changes as they happen,
/// questions answered from `input`, then the turn's messages. Returns the outcome.
pub async fn flowgen(
    printer: Printer,
    flowgen: &FlowGen,
    chat_id: &str,
    message: &str,
    input: &Input,
) -> Result<Outcome, Failure> {
    let spinner = printer.spinner("waiting for the run");
    let handler = Answers {
        printer,
        spinner: &spinner,
        input,
    };
    // Status changes come from the chat's shared poll loop: no extra requests. Until the run
    // is seen going, a final status is the previous run's and is not news.
    let statuses = async {
        let mut changes = flowgen.watch(chat_id);
        let mut going = false;
        while let Some(chat) = changes.next().await {
            let chat = chat?;
            if !assistants::flowgen::is_terminal(&chat.status) {
                going = true;
            } else if !going {
                continue;
            }
            let status = chat.status.to_string();
            spinner.emit(
                format!("  status: {}", label::flowgen_status(&status)),
                Record::Status {
                    status,
                    prompt: None,
                    answer: None,
                },
            );
        }
        Err::<(), _>(assistants::Error::WaitEnded {
            service: assistants::Service::FlowGen,
            reason: "the status stream ended",
        })
    };
    // Both branches wake on the same read of the shared loop; the status stream goes first so
    // that a status is printed before the turn that read it ends (a question answered at once
    // from the end of the input ended the turn first about half the time).
    let outcome = tokio::select! {
        biased;
        Err(error) = statuses => Err(error),
        outcome = flowgen.send_and_wait(chat_id, message, handler) => outcome,
    };
    drop(spinner);
    let outcome = outcome?;
    if let Outcome::Completed { messages, answer } = &outcome {
        for m in messages {
            let record = Record::Message {
                message: MessageRecord::Turn(m.clone()),
            };
            if m.text == *answer || m.role == assistants::Role::User {
                printer.record(&record); // the outcome shows the answer; the user knows their own
            } else {
                let author = one_line(m.author.as_deref().unwrap_or("user")).into_owned();
                printer.emit(format!("  {author}: {}", m.text), record);
            }
        }
    }
    Ok(outcome)
}

/// Prints an outcome (every service, every command).
pub fn print_outcome(printer: Printer, outcome: &Outcome) {
    let record = Record::Outcome {
        outcome: outcome.clone(),
    };
    match outcome {
        Outcome::Completed { answer, .. } => printer.answer("answer: ", answer, record),
        Outcome::NeedsInput { prompt } => printer.emit(format!("needs input: {}", one_line(prompt)), record),
        Outcome::Failed { reason } => printer.emit(format!("failed: {}", one_line(reason)), record),
    }
}

/// Prints a FlowGen chat's history (`history ID`, `/history`); says so when it is empty. Human
/// output leaves out the `__STATUS_...` markers; `--json` has every message.
pub fn print_history(printer: Printer, messages: &[flowgen_api::types::Message]) {
    if messages.is_empty() {
        printer.empty("messages");
    }
    for m in messages {
        if m.content.starts_with("__STATUS_") && !printer.json {
            continue; // status markers are the service's bookkeeping, not the conversation
        }
        printer.emit(
            format!(
                "{} {}: {}",
                one_line(m.created.as_deref().unwrap_or("")),
                one_line(&m.type_.to_string()),
                m.content
            ),
            Record::Message {
                message: MessageRecord::History(payload(m)),
            },
        );
    }
}
