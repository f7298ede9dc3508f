//! `assist flowgen ...`: ask (answering questions from the terminal or stdin), chats, history,
//! delete.

use assistants::{AnswerWith, Client};

use crate::cmd_flowhunt::print_outcome;
use crate::context::{Failure, ask_user, outcome_code};
use crate::print::{Printer, finish};
use crate::record::{MessageRecord, Record, payload};

/// `assist flowgen ...`
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Send a message and wait for the run (a new chat from the flow unless --chat is given).
    Ask {
        /// Continue this chat.
        #[arg(long, conflicts_with = "flow")]
        chat: Option<String>,
        /// The flow a new chat is created from.
        #[arg(long, env = "FLOWGEN_FLOW_ID")]
        flow: Option<String>,
        /// The message.
        message: String,
    },
    /// List chats.
    Chats,
    /// A chat's messages.
    History {
        /// The chat.
        id: String,
    },
    /// Delete a chat.
    Delete {
        /// The chat.
        id: String,
    },
}

/// Runs a `flowgen` command.
pub async fn run(client: &Client, printer: Printer, command: Command) -> Result<u8, Failure> {
    let flowgen = client.flowgen()?;
    match command {
        Command::Ask { chat, flow, message } => {
            let chat_id = match (chat, flow) {
                (Some(chat), _) => chat,
                (None, Some(flow)) => flowgen.create_chat("assist", &flow).await?.id,
                (None, None) => {
                    return Err(Failure::usage(
                        "FLOWGEN_FLOW_ID is not set: export it, or pass --flow or --chat",
                    ));
                }
            };
            printer.emit(
                format!("chat {chat_id}"),
                Record::Chat {
                    chat_id: chat_id.clone(),
                    chat: None,
                },
            );
            let spinner = printer.spinner("waiting for the run");
            let handler = AnswerWith(|prompt: &str| {
                printer.emit(
                    format!("question: {prompt}"),
                    Record::Status {
                        status: "wait_for_human_input".into(),
                        prompt: Some(prompt.to_string()),
                        answer: None,
                    },
                );
                ask_user(prompt)
            });
            // Status changes are reported from the chat's shared poll loop: no extra requests.
            let last = std::sync::Mutex::new(None::<String>);
            let statuses = flowgen.wait_until(&chat_id, |chat| {
                let status = chat.status.to_string();
                if let Ok(mut last) = last.lock()
                    && last.as_deref() != Some(status.as_str())
                {
                    printer.emit(
                        format!("  status: {status:?}"),
                        Record::Status {
                            status: status.clone(),
                            prompt: None,
                            answer: None,
                        },
                    );
                    *last = Some(status);
                }
                false
            });
            let outcome = tokio::select! {
                outcome = flowgen.send_and_wait(&chat_id, &message, handler) => outcome,
                Err(error) = statuses => Err(error),
            };
            finish(spinner);
            let outcome = outcome?;
            if let assistants::Outcome::Completed { messages, .. } = &outcome {
                for m in messages {
                    printer.emit(
                        format!("  {}: {}", m.author.as_deref().unwrap_or("user"), m.text),
                        Record::Message {
                            message: MessageRecord::Turn(m.clone()),
                        },
                    );
                }
            }
            print_outcome(printer, &outcome);
            Ok(outcome_code(&outcome))
        }
        Command::Chats => {
            for chat in flowgen.list_chats().await? {
                printer.emit(
                    format!("{}  {:<24} {}", chat.id, chat.status.to_string(), chat.name),
                    Record::Chat {
                        chat_id: chat.id.clone(),
                        chat: Some(payload(&chat)),
                    },
                );
            }
            Ok(0)
        }
        Command::History { id } => {
            for m in flowgen.history(&id).await? {
                printer.emit(
                    format!(
                        "{} {}: {}",
                        m.created.as_deref().unwrap_or(""),
                        m.type_,
                        m.content
                    ),
                    Record::Message {
                        message: MessageRecord::History(payload(&m)),
                    },
                );
            }
            Ok(0)
        }
        Command::Delete { id } => {
            flowgen.delete_chat(&id).await?;
            printer.emit(
                format!("deleted {id}"),
                Record::Deleted {
                    service: "flowgen".into(),
                    id: id.clone(),
                },
            );
            Ok(0)
        }
    }
}
