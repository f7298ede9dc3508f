//! One facade over FlowHunt, Pieces OS and FlowGen assistants.
//!
//! Built on the generated clients (`flowhunt-api`, `pieces-api`, `flowgen-api`), it adds what
//! every caller otherwise writes by hand, once for all three services:
//! - [`RetryPolicy`]: jittered exponential backoff honouring `Retry-After`; a call that is not
//!   idempotent (create, invoke, send, input) is re-sent only when it provably never left;
//! - an overall deadline per operation that also cancels the request in flight;
//! - [`PollPolicy`]: polling that is fast after an action and backs off while nothing changes;
//! - FlowHunt's [`Session::ask`]: a stream of events, each once and in order, ending with an
//!   [`Outcome`], resumable from a serialisable [`Cursor`]; every stream on one session shares
//!   one poll loop;
//! - FlowGen's [`FlowGen::send_and_wait`]: both server contracts, human input, and waiters that
//!   share one poll loop per chat;
//! - Pieces' [`Pieces::watch_conversations`]: a change stream that reconnects and reconciles;
//! - one [`Error`] type that keeps the server's own message;
//! - bounded memory: no response is buffered beyond [`Settings::max_body_bytes`].
//!
//! ```no_run
//! use futures::StreamExt;
//!
//! # async fn demo() -> Result<(), assistants::Error> {
//! let client = assistants::Client::new(assistants::Config::from_env());
//!
//! // FlowHunt: stream the events of one invocation.
//! let session = client.flowhunt()?.create_session().await?;
//! let mut events = session.ask("Add a chat input to my flow");
//! while let Some(item) = events.next().await {
//!     match item? {
//!         assistants::AskEvent::Event { event, .. } => println!("{}", event.action_type),
//!         assistants::AskEvent::Done { outcome, .. } => println!("{outcome:?}"),
//!     }
//! }
//!
//! // FlowGen: send, answer the assistant's questions, get the outcome.
//! let flowgen = client.flowgen()?;
//! let chat = flowgen.create_chat("Trip", "flow-id").await?;
//! let outcome = flowgen.send_and_wait(&chat.id, "Plan a trip", assistants::AnswerWith(|_q: &str| Some("yes".into()))).await?;
//! println!("{outcome:?}");
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod client;
pub mod config;
pub mod error;
pub mod flowgen;
pub mod flowhunt;
pub mod outcome;
pub mod pieces;
pub mod poll;
pub mod retry;
mod shared;

pub use client::Client;
pub use config::{Config, Settings};
pub use error::{Error, ErrorKind, Service};
pub use flowgen::{AnswerWith, FlowGen, InputHandler, NoInput};
pub use flowhunt::{AskEvent, Cursor, EventStream, FlowHunt, Session};
pub use outcome::{Outcome, Role, TurnMessage};
pub use pieces::{ConversationChange, Pieces};
pub use poll::{PollPolicy, within};
pub use retry::{Idempotency, RetryPolicy, with_retry};
