//! What a caller needs to know of an operation before sending it: its name and whether it may
//! be sent twice. The xtask emits one [`Operation`] constant per operation of a spec (the
//! generated `operations` module of each client crate), so names and idempotency are declared
//! once, from the spec.

/// One operation of a spec.
///
/// Idempotency comes from the HTTP method (`GET`, `HEAD`, `PUT`, `DELETE`, `OPTIONS` are
/// idempotent, `POST` and `PATCH` are not), overridden by the operation's `x-idempotent`
/// extension where a `POST` only reads or deletes (FlowHunt's poll, Pieces' delete).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Operation {
    id: &'static str,
    method: &'static str,
    idempotent: bool,
}

impl Operation {
    /// An operation as the spec declares it.
    pub const fn new(id: &'static str, method: &'static str, idempotent: bool) -> Self {
        Self {
            id,
            method,
            idempotent,
        }
    }

    /// The spec's `operationId`.
    pub const fn id(&self) -> &'static str {
        self.id
    }

    /// The HTTP method, upper case.
    pub const fn method(&self) -> &'static str {
        self.method
    }

    /// Whether sending it twice has the effect of sending it once, so a retry after the request
    /// may have reached the server is safe.
    pub const fn is_idempotent(&self) -> bool {
        self.idempotent
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_operation_reports_what_the_spec_declared() {
        let poll = Operation::new("poll_events", "POST", true);
        assert_eq!(
            (poll.id(), poll.method(), poll.is_idempotent()),
            ("poll_events", "POST", true)
        );
        let send = Operation::new("send_message", "POST", false);
        assert!(!send.is_idempotent());
    }
}
