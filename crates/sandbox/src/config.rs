//! What a sandbox run looks like: keys, FlowGen contract, timing and injected faults.

use std::time::Duration;

/// Which FlowGen contract the sandbox serves.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FlowgenContract {
    /// The public guide: `{"message"}` bodies, sends answer at once, history and delete exist,
    /// statuses ready / running / wait_for_human_input / completed / error.
    #[default]
    Documented,
    /// The open-source server: Message-record bodies, a send blocks until the run ends and
    /// answers `null`, history and delete answer 405, statuses "" / running /
    /// wait_for_human_input / completed / failed / aborted, `/abort` exists.
    OpenSource,
}

/// How fast scripted replies unfold.
///
/// Each reply is a sequence of steps (FlowHunt events, FlowGen status changes); step `n` becomes
/// visible `n * step` after the request that started it, measured on tokio's clock, so tests
/// under paused time are deterministic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timing {
    /// Delay between two steps of a reply.
    pub step: Duration,
    /// Explicit offsets of FlowHunt's five reply events from the invoke (overrides `step`
    /// for FlowHunt), e.g. a burst, tool calls spread over seconds, then a quiet spell.
    pub flowhunt_offsets: Option<[Duration; 5]>,
}

impl Timing {
    /// Every step is visible at once (the default; for tests).
    pub fn instant() -> Self {
        Self {
            step: Duration::ZERO,
            flowhunt_offsets: None,
        }
    }

    /// Steps `step` apart (the demo uses a few hundred milliseconds).
    pub fn realtime(step: Duration) -> Self {
        Self {
            step,
            flowhunt_offsets: None,
        }
    }

    /// FlowHunt's reply events at these offsets from the invoke.
    pub fn flowhunt_schedule(offsets: [Duration; 5]) -> Self {
        Self {
            step: Duration::ZERO,
            flowhunt_offsets: Some(offsets),
        }
    }

    /// When step `n` of a reply is due, relative to its start; `None` when that is too far
    /// to represent (the step never comes).
    pub fn offset(&self, n: usize) -> Option<Duration> {
        match &self.flowhunt_offsets {
            Some(offsets) => Some(offsets.get(n).copied().unwrap_or(Duration::ZERO)),
            None => self.step.checked_mul(u32::try_from(n).ok()?),
        }
    }
}

impl Default for Timing {
    fn default() -> Self {
        Self::instant()
    }
}

/// Faults injected into responses; all off by default. Probabilities are in `0.0..=1.0`.
///
/// A request's roll is a function of the seed and the request's identity (operationId, path
/// without its all-digit segments, query, body, and how many requests with that identity came
/// before), and so are the ids it makes: a run replays with the same seed even when concurrent
/// clients' requests arrive in another order. Identities are counted for up to 100,000
/// distinct requests.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Faults {
    /// Added before every response.
    pub latency: Duration,
    /// Chance of a 429 with `Retry-After: retry_after_secs`.
    pub rate_429: f64,
    /// The `Retry-After` seconds of injected 429s.
    pub retry_after_secs: u64,
    /// Chance of a 503.
    pub rate_5xx: f64,
    /// Chance of a connection dropped after the request was read: half of them before the
    /// response head (the request is not served), half mid-body (the request is served, its
    /// real head and a first chunk sent, then the body breaks).
    pub rate_drop: f64,
    /// FlowHunt polls include the event at `from_timestamp` again (an inclusive boundary), and
    /// consecutive events share a millisecond: clients must de-duplicate by `event_id`. The
    /// same as both switches of [`FlowhuntBoundary`].
    pub duplicate_boundary: bool,
    /// Close each identifiers WebSocket abruptly after this many frames.
    pub ws_drop_after: Option<usize>,
    /// Limit the random faults to these operationIds (all operations when empty).
    pub operations: Vec<String>,
}

impl Faults {
    /// Whether any random fault (429, 5xx, drop) is configured.
    pub fn random(&self) -> bool {
        self.rate_429 > 0.0 || self.rate_5xx > 0.0 || self.rate_drop > 0.0
    }

    /// Whether the random faults apply to `operation`.
    pub fn applies_to(&self, operation: &str) -> bool {
        self.operations.is_empty() || self.operations.iter().any(|o| o == operation)
    }
}

/// How FlowHunt's event timestamps meet a poll's `from_timestamp`. The real server's boundary
/// is undocumented ("after the given timestamp", yet clients de-duplicate by id) and two events
/// can share a millisecond, so clients must work with every combination; the default is the
/// description's: exclusive, one millisecond per event.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct FlowhuntBoundary {
    /// Polls also return the events at exactly `from_timestamp`.
    pub inclusive: bool,
    /// A reply's tool-call end and closing event carry the millisecond of the tool-call start
    /// (while still becoming visible at their own offsets), so a poll can land between events
    /// of one millisecond.
    pub shared_millisecond: bool,
}

impl FlowhuntBoundary {
    /// Exclusive, one millisecond per event (the default).
    pub fn exclusive() -> Self {
        Self::default()
    }

    /// Polls also return the events at exactly `from_timestamp`.
    pub fn inclusive() -> Self {
        Self::default().with_inclusive(true)
    }

    /// With an inclusive boundary or not.
    pub fn with_inclusive(mut self, inclusive: bool) -> Self {
        self.inclusive = inclusive;
        self
    }

    /// With events sharing a millisecond or not.
    pub fn with_shared_millisecond(mut self, shared: bool) -> Self {
        self.shared_millisecond = shared;
        self
    }
}

/// Everything that configures a sandbox.
#[derive(Clone, Debug)]
pub struct SandboxConfig {
    /// FlowGen keys accepted in `X-API-KEY`.
    pub api_keys: Vec<String>,
    /// The FlowGen contract served.
    pub flowgen_contract: FlowgenContract,
    /// How fast replies unfold.
    pub timing: Timing,
    /// Injected faults.
    pub faults: Faults,
    /// FlowHunt's poll boundary (the `duplicate_boundary` fault turns both switches on).
    pub flowhunt_boundary: FlowhuntBoundary,
    /// Seed of the RNG behind ids and faults.
    pub seed: u64,
    /// Bounds on connections, their timeouts and WebSocket buffering.
    pub limits: Limits,
}

/// What one client may hold of the sandbox: it is a local tool, but a stuck or hostile client
/// must not wedge it.
///
/// The memory WebSockets can hold is bounded globally by
/// `max_websockets * (max_ws_write_buffer + max_ws_message)` plus the shared change feed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// How long a connection may take to send a request head, counted from when the server
    /// waits for one, so an idle keep-alive connection is closed after this long too.
    pub header_read_timeout: Duration,
    /// The longest silence inside a request body, and the longest a WebSocket peer may take to
    /// accept a frame, before the connection is dropped.
    pub idle_timeout: Duration,
    /// Open connections at most; connections beyond it are closed at once.
    pub max_connections: usize,
    /// Open WebSockets at most; more upgrades are refused with a 500 (PiecesOS's error format).
    pub max_websockets: usize,
    /// Bytes a WebSocket may queue for a peer that does not read.
    pub max_ws_write_buffer: usize,
    /// The largest message (and frame) a WebSocket accepts from the peer.
    pub max_ws_message: usize,
    /// How long a stop waits for open requests before it closes their connections.
    pub shutdown_grace: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(30),
            max_connections: 1024,
            max_websockets: 256,
            max_ws_write_buffer: 64 * 1024,
            max_ws_message: 16 * 1024,
            shutdown_grace: Duration::from_secs(2),
        }
    }
}

impl Limits {
    /// With this header-read timeout.
    pub fn with_header_read_timeout(mut self, timeout: Duration) -> Self {
        self.header_read_timeout = timeout;
        self
    }

    /// With this idle timeout.
    pub fn with_idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// With this many connections at most.
    pub fn with_max_connections(mut self, max: usize) -> Self {
        self.max_connections = max;
        self
    }

    /// With this many WebSockets at most.
    pub fn with_max_websockets(mut self, max: usize) -> Self {
        self.max_websockets = max;
        self
    }

    /// With this WebSocket write buffer bound.
    pub fn with_max_ws_write_buffer(mut self, bytes: usize) -> Self {
        self.max_ws_write_buffer = bytes;
        self
    }

    /// With this WebSocket message bound.
    pub fn with_max_ws_message(mut self, bytes: usize) -> Self {
        self.max_ws_message = bytes;
        self
    }

    /// With this shutdown grace.
    pub fn with_shutdown_grace(mut self, grace: Duration) -> Self {
        self.shutdown_grace = grace;
        self
    }
}

/// The FlowGen key a default sandbox accepts.
pub const DEFAULT_API_KEY: &str = "fg_sandbox_key";

impl SandboxConfig {
    /// FlowHunt's boundary as served: [`SandboxConfig::flowhunt_boundary`], with both switches
    /// on under the `duplicate_boundary` fault.
    pub fn served_boundary(&self) -> FlowhuntBoundary {
        if self.faults.duplicate_boundary {
            FlowhuntBoundary::inclusive().with_shared_millisecond(true)
        } else {
            self.flowhunt_boundary
        }
    }
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            api_keys: vec![DEFAULT_API_KEY.to_string()],
            flowgen_contract: FlowgenContract::default(),
            timing: Timing::default(),
            faults: Faults::default(),
            flowhunt_boundary: FlowhuntBoundary::default(),
            seed: 0x5eed,
            limits: Limits::default(),
        }
    }
}
