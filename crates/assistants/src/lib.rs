//! One facade over FlowHunt, Pieces OS and FlowGen assistants.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod error;
pub mod poll;
pub mod retry;

pub use error::{Error, ErrorKind, Service};
pub use poll::{PollPolicy, within};
pub use retry::{Idempotency, RetryPolicy, with_retry};
