//! `assist pieces ...`: list, create, delete, watch.

use assistants::{Client, ConversationChange};
use futures::StreamExt;

use crate::context::Failure;
use crate::print::Printer;
use crate::record::{Change, Record};

/// `assist pieces ...`
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// List conversations.
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
    /// Stream changes (reconnecting, reconciling) until Ctrl-C or --count changes.
    Watch {
        /// Stop after this many changes.
        #[arg(long)]
        count: Option<usize>,
    },
}

/// Runs a `pieces` command.
pub async fn run(client: &Client, printer: Printer, command: Command) -> Result<u8, Failure> {
    let pieces = client.pieces()?;
    match command {
        Command::List => {
            for c in pieces.list().await? {
                let name = c.name.clone().unwrap_or_default();
                printer.emit(
                    format!("{}  {name}", c.id),
                    Record::Conversation {
                        id: c.id.clone(),
                        name,
                    },
                );
            }
        }
        Command::Create { name } => {
            let c = pieces.create(&name).await?;
            printer.emit(
                format!("created {}", c.id),
                Record::Created {
                    id: c.id.clone(),
                    name,
                },
            );
        }
        Command::Delete { id } => {
            pieces.delete(&id).await?;
            printer.emit(
                format!("deleted {id}"),
                Record::Deleted {
                    service: "pieces".into(),
                    id: id.clone(),
                },
            );
        }
        Command::Watch { count } => {
            let mut changes = pieces.watch_conversations();
            let mut seen = 0;
            while count.is_none_or(|n| seen < n) {
                let Some(change) = changes.next().await else { break };
                print_change(printer, &change?);
                seen += 1;
            }
        }
    }
    Ok(0)
}

/// Prints one change.
pub fn print_change(printer: Printer, change: &ConversationChange) {
    let (kind, change, id) = match change {
        ConversationChange::Added(id) => ("added", Change::Added, id),
        ConversationChange::Removed(id) => ("removed", Change::Removed, id),
    };
    printer.emit(
        format!("  {kind} {id}"),
        Record::Change {
            change,
            id: id.clone(),
        },
    );
}
