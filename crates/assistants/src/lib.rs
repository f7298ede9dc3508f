//! One facade over FlowHunt, Pieces OS and FlowGen assistants.
//!
//! Built on the generated clients (re-exported as [`flowhunt_api`], [`pieces_api`] and
//! [`flowgen_api`], so this one dependency is enough), it adds what every caller otherwise
//! writes by hand, once for all three services:
//! - one call path: every operation runs under one [`Deadline`] (`Settings::operation_timeout`,
//!   with a separate `Settings::attempt_timeout`), is retried with jittered backoff honouring
//!   `Retry-After` as its spec-declared idempotency allows (create, invoke, send and input are
//!   re-sent only when they provably never left), traced, and bounded in what it reads;
//! - [`PollPolicy`]: how waits pace their polls;
//! - FlowHunt's [`Session::ask`]: a stream of events, each once and in order, ending with an
//!   [`Outcome`], resumable from a serialisable [`Cursor`]; every stream on one session shares
//!   one poll loop;
//! - FlowGen's [`FlowGen::send_and_wait`] and [`FlowGen::watch`]: both server contracts, human
//!   input, and waiters that share one poll loop per chat;
//! - Pieces' [`Pieces::watch_conversations`]: a change stream that reconnects and reconciles;
//! - one [`Error`] type that keeps the server's own message;
//! - bounded memory: no response is buffered beyond [`Settings::max_body_bytes`], no stream
//!   holds more than [`Settings::max_events`] events, and no handle has more than
//!   [`Settings::max_polls_in_flight`] status polls (and so connections) open for its waits.
//!
//! Each service is a cargo feature (`flowhunt`, `pieces`, `flowgen`; all on by default): a
//! program that needs one compiles only that generated crate.
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
//!         _ => {}
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

mod call;
pub mod client;
pub mod config;
mod convert;
pub mod deadline;
pub mod error;
#[cfg(feature = "flowgen")]
pub mod flowgen;
#[cfg(feature = "flowhunt")]
pub mod flowhunt;
pub mod outcome;
#[cfg(feature = "pieces")]
pub mod pieces;
pub mod poll;
pub mod retry;
#[cfg(any(feature = "flowhunt", feature = "flowgen"))]
mod shared;
pub mod stream;
pub mod validate;

pub use client::Client;
pub use config::{Config, Settings};
pub use convert::parse_retry_after;
pub use deadline::Deadline;
pub use error::{Error, ErrorKind, Service};
#[cfg(feature = "flowgen")]
pub use flowgen::{AnswerWith, FlowGen, InputHandler, NoInput};
#[cfg(feature = "flowgen")]
pub use flowgen_api;
#[cfg(feature = "flowhunt")]
pub use flowhunt::{AskEvent, Cursor, FlowHunt, Session};
#[cfg(feature = "flowhunt")]
pub use flowhunt_api;
pub use outcome::{Outcome, Role, TurnMessage};
#[cfg(feature = "pieces")]
pub use pieces::{ConversationChange, Pieces};
#[cfg(feature = "pieces")]
pub use pieces_api;
pub use poll::{Hint, Pacer, Poll, PollPolicy, within};
pub use retry::{Idempotency, Jitter, RetryPolicy, with_retry};
pub use stream::EventStream;
pub use validate::check_id;
