//! Who answers a chat that waits for human input.

use std::future::Future;

/// Answers a chat that waits for human input; `None` leaves the question unanswered (the turn
/// then ends with [`Outcome::NeedsInput`](crate::Outcome::NeedsInput)).
pub trait InputHandler: Send {
    /// The answer to `prompt`.
    fn answer(&mut self, prompt: &str) -> impl Future<Output = Option<String>> + Send;
}

/// Never answers: turns that need input end with [`Outcome::NeedsInput`](crate::Outcome::NeedsInput).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoInput;

impl InputHandler for NoInput {
    async fn answer(&mut self, _prompt: &str) -> Option<String> {
        None
    }
}

/// Answers with a closure.
#[derive(Debug)]
pub struct AnswerWith<F>(pub F);

impl<F: FnMut(&str) -> Option<String> + Send> InputHandler for AnswerWith<F> {
    async fn answer(&mut self, prompt: &str) -> Option<String> {
        (self.0)(prompt)
    }
}
