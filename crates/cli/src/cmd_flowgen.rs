//! `assist flowgen ...`: ask (answering questions from the terminal or stdin), chat, chats,
//! history, delete.

use crate::context::{Ctx, Failure, check_id, exit, outcome_code};
use crate::input::Input;
use crate::record::{Record, payload};
use crate::reply;
use crate::text::one_line;

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
    /// Talk in one chat: a new one from the flow with the first message, unless --chat is given.
    ///
    /// On a terminal: a line editor with history (Alt-Enter for a new line), status changes as
    /// they happen, questions asked inline, answers as Markdown; Ctrl-C stops following a
    /// reply, Ctrl-D or /quit leaves. With stdin a pipe, each line is one message and a
    /// question takes the next line as its answer; --timeout applies to each reply.
    Chat {
        /// Continue this chat.
        #[arg(long, conflicts_with = "flow")]
        chat: Option<String>,
        /// The flow new chats are created from (for the first message and /new).
        #[arg(long, env = "FLOWGEN_FLOW_ID")]
        flow: Option<String>,
    },
    /// List chats (on a terminal, says when there are none; --json then prints nothing).
    Chats,
    /// A chat's messages (on a terminal, says when there are none; --json then prints nothing).
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

/// The chat to use, checked before anything is created: the one given, or a flow to create one.
pub enum Target {
    /// An existing chat.
    Chat(String),
    /// A new chat from this flow.
    Flow(String),
}

impl Target {
    /// Checks `--chat` / `--flow` (FLOWGEN_FLOW_ID).
    pub fn new(chat: Option<String>, flow: Option<String>) -> Result<Self, Failure> {
        match (chat, flow) {
            (Some(chat), _) => {
                check_id("the chat id", &chat)?;
                Ok(Self::Chat(chat))
            }
            (None, Some(flow)) => {
                check_id("the flow id", &flow)?;
                Ok(Self::Flow(flow))
            }
            (None, None) => Err(Failure::usage(
                "FLOWGEN_FLOW_ID is not set: export it, or pass --flow or --chat",
            )),
        }
    }
}

/// Creates a chat from `flow` and says so.
pub async fn create_chat(ctx: &Ctx, flowgen: &assistants::FlowGen, flow: &str) -> Result<String, Failure> {
    let chat = flowgen.create_chat("assist", flow).await?;
    announce(ctx, &chat.id);
    Ok(chat.id)
}

/// Prints the chat in use.
pub fn announce(ctx: &Ctx, chat_id: &str) {
    ctx.printer.emit(
        format!("chat {}", one_line(chat_id)),
        Record::Chat {
            chat_id: chat_id.to_string(),
            chat: None,
        },
    );
}

/// Runs a `flowgen` command.
pub async fn run(ctx: &Ctx, command: Command) -> Result<u8, Failure> {
    match command {
        Command::Ask { chat, flow, message } => {
            let target = Target::new(chat, flow)?;
            ctx.check_message(&message)?;
            let flowgen = ctx.flowgen()?;
            let input = Input::lines();
            ctx.limit
                .run(async {
                    let chat_id = match target {
                        Target::Chat(id) => {
                            announce(ctx, &id);
                            id
                        }
                        Target::Flow(flow) => create_chat(ctx, &flowgen, &flow).await?,
                    };
                    let outcome = reply::flowgen(ctx.printer, &flowgen, &chat_id, &message, &input).await?;
                    reply::print_outcome(ctx.printer, &outcome);
                    Ok(outcome_code(&outcome))
                })
                .await
        }
        Command::Chat { chat, flow } => crate::cmd_chat::flowgen(ctx, chat, flow).await,
        Command::Chats => {
            let flowgen = ctx.flowgen()?;
            let chats = ctx.limit.run(async { Ok(flowgen.list_chats().await?) }).await?;
            if chats.is_empty() {
                ctx.printer.empty("chats");
            }
            for chat in chats {
                ctx.printer.emit(
                    format!(
                        "{}  {:<24} {}",
                        one_line(&chat.id),
                        crate::label::flowgen_status(&chat.status.to_string()),
                        one_line(&chat.name)
                    ),
                    Record::Chat {
                        chat_id: chat.id.clone(),
                        chat: Some(payload(&chat)),
                    },
                );
            }
            Ok(exit::OK)
        }
        Command::History { id } => {
            check_id("the chat id", &id)?;
            let flowgen = ctx.flowgen()?;
            let messages = ctx.limit.run(async { Ok(flowgen.history(&id).await?) }).await?;
            reply::print_history(ctx.printer, &messages);
            Ok(exit::OK)
        }
        Command::Delete { id } => {
            check_id("the chat id", &id)?;
            let flowgen = ctx.flowgen()?;
            ctx.limit
                .run(async { Ok(flowgen.delete_chat(&id).await?) })
                .await?;
            ctx.printer.emit(
                format!("deleted {}", one_line(&id)),
                Record::Deleted {
                    service: "flowgen".into(),
                    id: id.clone(),
                },
            );
            Ok(exit::OK)
        }
    }
}
