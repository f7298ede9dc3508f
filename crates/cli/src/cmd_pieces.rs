//! `assist pieces ...`: list, create, delete, watch.

use assistants::ConversationChange;
use futures::StreamExt;

use crate::context::{Ctx, Failure, check_id, exit};
use crate::print::Printer;
use crate::record::{Change, Record};
use crate::text::one_line;

/// `assist pieces ...`
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// List conversations (on a terminal, says when there are none; --json then prints nothing).
    List,
    /// Create a conversation.
    Create {
        /// Its name.
        #[arg(long, default_value = "New Conversation")]
        name: String,
    },
    /// Delete a conversation.
    Delete {
        /// The conversation.
        id: String,
    },
    /// Stream changes (reconnecting, reconciling) until Ctrl-C, --count changes or --timeout.
    Watch {
        /// Stop after this many changes.
        #[arg(long)]
        count: Option<usize>,
    },
}

/// Runs a `pieces` command.
pub async fn run(ctx: &Ctx, command: Command) -> Result<u8, Failure> {
    let printer = ctx.printer;
    match command {
        Command::List => {
            let pieces = ctx.pieces()?;
            let conversations = ctx.limit.run(async { Ok(pieces.list().await?) }).await?;
            if conversations.is_empty() {
                printer.empty("conversations");
            }
            for c in conversations {
                let name = c.name.clone().unwrap_or_default();
                printer.emit(
                    format!("{}  {}", one_line(&c.id), one_line(&name)),
                    Record::Conversation {
                        id: c.id.clone(),
                        name,
                    },
                );
            }
        }
        Command::Create { name } => {
            let pieces = ctx.pieces()?;
            let c = ctx.limit.run(async { Ok(pieces.create(&name).await?) }).await?;
            printer.emit(
                format!("created {}", one_line(&c.id)),
                Record::Created {
                    id: c.id.clone(),
                    name,
                },
            );
        }
        Command::Delete { id } => {
            check_id("the conversation id", &id)?;
            let pieces = ctx.pieces()?;
            ctx.limit.run(async { Ok(pieces.delete(&id).await?) }).await?;
            printer.emit(
                format!("deleted {}", one_line(&id)),
                Record::Deleted {
                    service: "pieces".into(),
                    id: id.clone(),
                },
            );
        }
        Command::Watch { count } => {
            let pieces = ctx.pieces()?;
            ctx.limit
                .run(async {
                    let mut changes = pieces.watch_conversations();
                    let mut seen = 0usize;
                    while count.is_none_or(|n| seen < n) {
                        let Some(change) = changes.next().await else { break };
                        print_change(printer, &change?);
                        seen = seen.saturating_add(1);
                    }
                    Ok(())
                })
                .await?;
        }
    }
    Ok(exit::OK)
}

/// Prints one change.
pub fn print_change(printer: Printer, change: &ConversationChange) {
    let (kind, change, id) = match change {
        ConversationChange::Added(id) => ("added", Change::Added, id),
        ConversationChange::Removed(id) => ("removed", Change::Removed, id),
        _ => return, // kinds of change this version does not show
    };
    printer.emit(
        format!("  {kind} {}", one_line(id)),
        Record::Change {
            change,
            id: id.clone(),
        },
    );
}
