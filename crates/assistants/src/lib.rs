//! One facade over FlowHunt, Pieces OS and FlowGen assistants.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod config;
pub mod error;
pub mod flowgen;
pub mod flowhunt;
pub mod outcome;
pub mod pieces;
pub mod poll;
pub mod retry;

pub use config::{Config, Settings};
pub use error::{Error, ErrorKind, Service};
pub use flowgen::{AnswerWith, FlowGen, InputHandler, NoInput};
pub use flowhunt::{AskEvent, Cursor, EventStream, FlowHunt, Session};
pub use outcome::{Outcome, Role, TurnMessage};
pub use pieces::{ConversationChange, Pieces};
pub use poll::{PollPolicy, within};
pub use retry::{Idempotency, RetryPolicy, with_retry};
