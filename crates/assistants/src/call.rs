//! The one call path every operation of every service goes through: the operation's deadline,
//! a per-attempt timeout, retries as the operation's idempotency allows, a tracing span, and
//! the conversion of the generated client's error (its body read through the body limit).

use std::future::Future;
use std::sync::Arc;

use assistants_api_runtime::Operation;
use progenitor_client::ResponseValue;

use crate::config::Settings;
use crate::convert::{ErrorBody, from_generated};
use crate::deadline::Deadline;
use crate::error::{Error, Service};
use crate::retry::{Idempotency, Jitter, retry};

impl From<Operation> for Idempotency {
    fn from(operation: Operation) -> Self {
        if operation.is_idempotent() {
            Self::Safe
        } else {
            Self::NonIdempotent
        }
    }
}

/// What a successful call yields: a generated response's inner value, or `()` where the
/// caller already took what it needs.
pub(crate) trait Reply {
    /// The value handed back.
    type Value;
    /// Takes it.
    fn value(self) -> Self::Value;
}

impl<T> Reply for ResponseValue<T> {
    type Value = T;
    fn value(self) -> T {
        self.into_inner()
    }
}

impl Reply for () {
    type Value = ();
    fn value(self) {}
}

/// One service's call path: its settings and the client's one source of jitter.
#[derive(Clone, Debug)]
pub(crate) struct Caller {
    pub(crate) service: Service,
    pub(crate) settings: Arc<Settings>,
    pub(crate) jitter: Jitter,
}

impl Caller {
    /// A call path for `service` with `settings`, drawing jitter from `jitter`.
    pub(crate) fn new(service: Service, settings: Arc<Settings>, jitter: Jitter) -> Self {
        Self {
            service,
            settings,
            jitter,
        }
    }

    /// Sends `op` (built afresh by `send` for every attempt) within `deadline`.
    pub(crate) async fn call<R, E, F, Fut>(
        &self,
        op: Operation,
        deadline: &Deadline,
        mut send: F,
    ) -> Result<R::Value, Error>
    where
        R: Reply,
        E: ErrorBody,
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<R, progenitor_client::Error<E>>>,
    {
        let settings = &self.settings;
        let attempt = || {
            let sent = send();
            async move {
                let result = match settings.attempt_timeout {
                    None => sent.await,
                    Some(limit) => match tokio::time::timeout(limit, sent).await {
                        Ok(result) => result,
                        Err(_) => {
                            return Err(Error::AttemptTimeout {
                                service: self.service,
                                operation: op.id(),
                                limit,
                            });
                        }
                    },
                };
                match result {
                    Ok(reply) => Ok(reply.value()),
                    Err(error) => Err(from_generated(self.service, error, settings.max_body_bytes).await),
                }
            }
        };
        let span = tracing::debug_span!("operation", service = %self.service, operation = op.id());
        let retried = retry(
            &settings.retry,
            &self.jitter,
            op.into(),
            op.id(),
            deadline,
            attempt,
        );
        deadline.run(tracing::Instrument::instrument(retried, span)).await
    }
}
