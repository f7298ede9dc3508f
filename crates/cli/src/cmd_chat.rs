//! `assist flowhunt chat` and `assist flowgen chat`: a conversation in one session or chat.
//!
//! Each line read is a message (or one of the commands below); each reply is printed as `ask`
//! prints it, under its own `--timeout`. On a terminal Ctrl-C stops following a reply: nothing
//! is re-sent and the prompt returns. With stdin a pipe, the first reply that does not complete
//! ends the command with `ask`'s exit code.

use std::io::Write;

use assistants::{FlowGen, FlowHunt, Outcome, Session};

use crate::cmd_flowgen::Target;
use crate::context::{Ctx, Failure, check_id, exit, outcome_code};
use crate::input::{Input, Line};
use crate::reply;
use crate::text::one_line;

const HELP: &str = "\
Type a message and press Enter; Alt-Enter (or Esc, Enter) starts a new line.
  /new      start a fresh conversation
  /history  show the conversation so far
  /help     show this help
  /quit     leave (also Ctrl-D, or Ctrl-C on an empty line)
Ctrl-C while a reply comes stops following it; nothing is sent again.";

/// Who wrote a line of the local transcript.
enum Who {
    You,
    Assistant,
}

/// One service's side of a conversation.
trait Conversation {
    /// Sends one message and follows the reply to its outcome.
    async fn send(&mut self, ctx: &Ctx, input: &Input, message: &str) -> Result<Outcome, Failure>;
    /// Forgets the session or chat: the next message starts a new one.
    fn reset(&mut self) -> Result<(), Failure>;
    /// Prints the conversation so far; `false` when only the local transcript can tell.
    async fn history(&self, ctx: &Ctx) -> Result<bool, Failure>;
}

struct FlowHuntChat {
    flowhunt: FlowHunt,
    flow: Option<String>,
    session: Option<Session>,
}

impl Conversation for FlowHuntChat {
    async fn send(&mut self, ctx: &Ctx, _: &Input, message: &str) -> Result<Outcome, Failure> {
        let session = match &self.session {
            Some(session) => session.clone(),
            None => {
                let request = crate::cmd_flowhunt::session_request(self.flow.as_deref())?;
                let session = crate::cmd_flowhunt::create_session(ctx, &self.flowhunt, request).await?;
                self.session = Some(session.clone());
                session
            }
        };
        reply::flowhunt(ctx.printer, session.ask(message)).await
    }

    fn reset(&mut self) -> Result<(), Failure> {
        self.session = None;
        Ok(())
    }

    async fn history(&self, _: &Ctx) -> Result<bool, Failure> {
        Ok(false) // FlowHunt's event log is not a transcript: the local one is shown
    }
}

struct FlowGenChat {
    flowgen: FlowGen,
    flow: Option<String>,
    chat: Option<String>,
}

impl Conversation for FlowGenChat {
    async fn send(&mut self, ctx: &Ctx, input: &Input, message: &str) -> Result<Outcome, Failure> {
        let chat = match (&self.chat, &self.flow) {
            (Some(chat), _) => chat.clone(),
            (None, Some(flow)) => {
                let chat = crate::cmd_flowgen::create_chat(ctx, &self.flowgen, flow).await?;
                self.chat = Some(chat.clone());
                chat
            }
            (None, None) => return Err(Failure::usage("no chat: pass --chat or --flow")),
        };
        reply::flowgen(ctx.printer, &self.flowgen, &chat, message, input).await
    }

    fn reset(&mut self) -> Result<(), Failure> {
        if self.flow.is_none() {
            return Err(Failure::usage(
                "/new needs a flow to create the chat from: pass --flow or export FLOWGEN_FLOW_ID",
            ));
        }
        self.chat = None;
        Ok(())
    }

    async fn history(&self, ctx: &Ctx) -> Result<bool, Failure> {
        let Some(chat) = &self.chat else { return Ok(false) };
        match self.flowgen.history(chat).await {
            Ok(messages) => {
                reply::print_history(ctx.printer, &messages);
                Ok(true)
            }
            Err(assistants::Error::Unsupported { .. }) => Ok(false),
            Err(error) => Err(error.into()),
        }
    }
}

/// `assist flowhunt chat`.
pub async fn flowhunt(ctx: &Ctx, session: Option<String>, flow: Option<String>) -> Result<u8, Failure> {
    if let Some(id) = &session {
        check_id("the session id", id)?;
    }
    crate::cmd_flowhunt::session_request(flow.as_deref())?;
    let flowhunt = match session {
        Some(_) => ctx.flowhunt()?,
        None => ctx.flowhunt_for_sessions()?,
    };
    let session = session.map(|id| {
        let session = flowhunt.session(id);
        crate::cmd_flowhunt::announce(ctx, &session);
        session
    });
    converse(
        ctx,
        "FlowHunt",
        FlowHuntChat {
            flowhunt,
            flow,
            session,
        },
    )
    .await
}

/// `assist flowgen chat`.
pub async fn flowgen(ctx: &Ctx, chat: Option<String>, flow: Option<String>) -> Result<u8, Failure> {
    let (chat, flow) = match Target::new(chat, flow)? {
        Target::Chat(chat) => (Some(chat), None),
        Target::Flow(flow) => (None, Some(flow)),
    };
    let flowgen = ctx.flowgen()?;
    if let Some(chat) = &chat {
        crate::cmd_flowgen::announce(ctx, chat);
    }
    converse(ctx, "FlowGen", FlowGenChat { flowgen, flow, chat }).await
}

/// A note for the person at the terminal (stderr: stdout carries the conversation).
fn note(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{}", crate::text::multi_line(text));
}

/// The conversation loop shared by both services.
async fn converse(ctx: &Ctx, service: &str, mut conversation: impl Conversation) -> Result<u8, Failure> {
    let keys = ctx.key_filter();
    let input = Input::conversation(keys);
    let terminal = input.is_editor();
    if terminal {
        note(&format!(
            "{service} chat: /help lists the commands, Ctrl-D leaves."
        ));
    }
    let mut transcript: Vec<(Who, String)> = Vec::new();
    let mut code = exit::OK;
    loop {
        let text = match input.read("you> ", true).await {
            Line::Text(text) => text,
            Line::Interrupted | Line::End => break,
        };
        match text.trim() {
            "" => continue,
            "/quit" | "/exit" => break,
            "/help" => {
                note(HELP);
                continue;
            }
            "/new" => {
                match conversation.reset() {
                    Ok(()) => {
                        transcript.clear();
                        note("a new conversation starts with your next message");
                    }
                    Err(failure) => note(&format!("error: {}", one_line(&failure.message))),
                }
                continue;
            }
            "/history" => {
                match ctx.limit.run(conversation.history(ctx)).await {
                    Ok(true) => {}
                    Ok(false) => print_transcript(ctx, &transcript),
                    Err(failure) => note(&format!("error: {}", one_line(&failure.message))),
                }
                continue;
            }
            _ => {}
        }
        if let Err(failure) = ctx.check_message(&text) {
            if !terminal {
                return Err(failure);
            }
            note(&format!("error: {}", one_line(&failure.message)));
            continue;
        }
        let reply = ctx.limit.run(conversation.send(ctx, &input, &text));
        let result = if terminal {
            tokio::select! {
                result = reply => Some(result),
                _ = tokio::signal::ctrl_c() => None,
            }
        } else {
            Some(reply.await)
        };
        transcript.push((Who::You, text));
        match result {
            None => note("stopped following the reply (nothing was sent again)"),
            Some(Ok(outcome)) => {
                reply::print_outcome(ctx.printer, &outcome);
                if let Some(answer) = outcome.answer() {
                    transcript.push((Who::Assistant, answer.to_string()));
                }
                code = outcome_code(&outcome);
                if code != exit::OK && !terminal {
                    return Ok(code);
                }
            }
            Some(Err(failure)) => {
                if !terminal {
                    return Err(failure);
                }
                note(&format!("error: {}", one_line(&failure.message)));
            }
        }
        if terminal && input.awaiting() {
            note("the question is no longer asked: what you type now is sent as a new message");
        }
    }
    Ok(if terminal { exit::OK } else { code })
}

/// The local transcript, for `/history` where the service has none to give.
fn print_transcript(ctx: &Ctx, transcript: &[(Who, String)]) {
    if transcript.is_empty() {
        note("nothing said yet");
    }
    for (who, text) in transcript {
        match who {
            Who::You => ctx.printer.say(format!("you: {text}")),
            Who::Assistant => ctx.printer.say(format!("assistant: {text}")),
        }
    }
}
