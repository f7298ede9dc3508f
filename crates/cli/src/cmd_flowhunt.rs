//! `assist flowhunt ask|chat|resume`: a question, its events as they arrive, and the outcome; a
//! conversation in one session; or the rest of a stream from a cursor `--json` printed.

use assistants::{Cursor, FlowHunt, Session};

use crate::context::{Ctx, Failure, check_id, outcome_code};
use crate::record::Record;
use crate::reply;

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
    /// Talk with the flow assistant: one session for the whole conversation.
    ///
    /// On a terminal: a line editor with history (Alt-Enter for a new line), events as they
    /// arrive, answers as Markdown; Ctrl-C stops following a reply, Ctrl-D or /quit leaves.
    /// With stdin a pipe, each line is one message; --timeout applies to each reply.
    Chat {
        /// Continue this session instead of creating one with the first message.
        #[arg(long)]
        session: Option<String>,
        /// The flow (UUID) the assistant works on, for new sessions.
        #[arg(long)]
        flow: Option<String>,
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

/// The request that creates a session, its flow checked first.
pub fn session_request(
    flow: Option<&str>,
) -> Result<flowhunt_api::types::FlowAssistantSessionCreateRequest, Failure> {
    let mut request = flowhunt_api::types::FlowAssistantSessionCreateRequest::default();
    if let Some(flow) = flow {
        request.context_flow_id = Some(
            flow.trim()
                .parse()
                .map_err(|_| Failure::usage("--flow is not a UUID"))?,
        );
    }
    Ok(request)
}

/// Creates a session and says so.
pub async fn create_session(
    ctx: &Ctx,
    flowhunt: &FlowHunt,
    request: flowhunt_api::types::FlowAssistantSessionCreateRequest,
) -> Result<Session, Failure> {
    let session = flowhunt.create_session_with(request).await?;
    announce(ctx, &session);
    Ok(session)
}

/// Prints the session in use.
pub fn announce(ctx: &Ctx, session: &Session) {
    ctx.printer.emit(
        format!("session {}", crate::text::one_line(session.id())),
        Record::Session {
            session_id: session.id().to_string(),
        },
    );
}

/// Runs a `flowhunt` command.
pub async fn run(ctx: &Ctx, command: Command) -> Result<u8, Failure> {
    match command {
        Command::Ask {
            session,
            flow,
            message,
        } => {
            // Everything is checked before a session is created or anything printed.
            if let Some(id) = &session {
                check_id("the session id", id)?;
            }
            let request = session_request(flow.as_deref())?;
            ctx.check_message(&message)?;
            let flowhunt = match session {
                Some(_) => ctx.flowhunt()?,
                None => ctx.flowhunt_for_sessions()?,
            };
            ctx.limit
                .run(async {
                    let session = match session {
                        Some(id) => {
                            let session = flowhunt.session(id);
                            announce(ctx, &session);
                            session
                        }
                        None => create_session(ctx, &flowhunt, request).await?,
                    };
                    let outcome = reply::flowhunt(ctx.printer, session.ask(message)).await?;
                    reply::print_outcome(ctx.printer, &outcome);
                    Ok(outcome_code(&outcome))
                })
                .await
        }
        Command::Chat { session, flow } => crate::cmd_chat::flowhunt(ctx, session, flow).await,
        Command::Resume { cursor } => {
            let cursor: Cursor = serde_json::from_str(&cursor).map_err(|e| {
                Failure::usage(format!(
                    "the cursor is not one `assist flowhunt ask --json` printed ({e}); pass the \"cursor\" object of its last event line"
                ))
            })?;
            check_id("the cursor's session id", cursor.session_id())?;
            let session = ctx.flowhunt()?.session(cursor.session_id());
            ctx.limit
                .run(async {
                    let outcome = reply::flowhunt(ctx.printer, session.resume(cursor)).await?;
                    reply::print_outcome(ctx.printer, &outcome);
                    Ok(outcome_code(&outcome))
                })
                .await
        }
    }
}
