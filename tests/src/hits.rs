//! Which operations a contract test really sent a request for.
//!
//! Test names prove nothing: an empty `async fn send_input() {}` has the right name. So the
//! shared mock helpers record every request that reaches a mocked operation (its method, its
//! path and the query and headers the mock requires), and each contract binary has one test
//! that runs every operation's test inside its own scope and asserts that operation was hit.
//!
//! Scopes are per thread because cargo runs a binary's tests on parallel threads: another test
//! hitting `send_input` at the same moment must not cover for an empty `send_input` test. A
//! scope is taken when a mock is set up (on the test's thread; `#[tokio::test]` runs its body
//! on the thread that calls it), and the mock server's threads record into that scope.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex};

use crate::Spec;

/// A set of `spec/operationId` pairs that received a request.
#[derive(Clone, Default, Debug)]
pub struct Hits(Arc<Mutex<BTreeSet<String>>>);

impl Hits {
    /// Records that `spec`'s operation `id` received a request.
    pub fn record(&self, spec: &str, id: &str) {
        if let Ok(mut hits) = self.0.lock() {
            hits.insert(format!("{spec}/{id}"));
        }
    }

    /// Whether `spec`'s operation `id` received a request.
    pub fn contains(&self, spec: &str, id: &str) -> bool {
        self.0
            .lock()
            .map(|h| h.contains(&format!("{spec}/{id}")))
            .unwrap_or(false)
    }
}

thread_local! {
    static SCOPE: RefCell<Option<Hits>> = const { RefCell::new(None) };
}

/// The recorder of the calling thread's scope; outside a scope, one nobody reads (a contract
/// test run on its own records nothing anyone checks).
pub fn current() -> Hits {
    SCOPE.with(|s| s.borrow().clone()).unwrap_or_default()
}

/// Runs `f` with a fresh scope on this thread and returns what it hit. A panic inside `f` is
/// caught and returned as its message, so one failing operation does not hide the others.
pub fn scoped(f: impl FnOnce()) -> (Hits, Result<(), String>) {
    let hits = Hits::default();
    let previous = SCOPE.with(|s| s.replace(Some(hits.clone())));
    let outcome = catch_unwind(AssertUnwindSafe(f)).map_err(|panic| {
        panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "a non-string panic".to_string())
    });
    SCOPE.with(|s| s.replace(previous));
    (hits, outcome)
}

/// One operation's contract test, as the synchronous function `#[tokio::test]` makes of it.
pub type ContractTest = (&'static str, fn());

/// What is wrong with the contract tests of `spec`: operations with no entry in `tests`,
/// entries that are not operations of the spec, tests that panic, and tests that never sent a
/// request their operation's mock matched.
pub fn problems(spec: &str, tests: &[ContractTest]) -> Vec<String> {
    let spec_ids: Vec<String> = Spec::load(spec).operations().into_iter().map(|o| o.id).collect();
    let mut problems = Vec::new();
    for id in &spec_ids {
        if !tests.iter().any(|(name, _)| name == id) {
            problems.push(format!(
                "specs/{spec}.yaml `{id}`: no contract test is listed for it"
            ));
        }
    }
    for (id, test) in tests {
        if !spec_ids.iter().any(|s| s == id) {
            problems.push(format!(
                "`{id}` is listed but is not an operation of specs/{spec}.yaml"
            ));
            continue;
        }
        let (hits, outcome) = scoped(*test);
        if let Err(message) = outcome {
            problems.push(format!("`{id}`: the test panicked: {message}"));
        } else if !hits.contains(spec, id) {
            problems.push(format!(
                "`{id}`: the test passed without sending a request to its operation's mock"
            ));
        }
    }
    problems
}

/// Asserts that every operation of `spec` has a test in `tests` that passes and exercises it.
///
/// # Panics
/// With every problem [`problems`] finds.
pub fn assert_every_operation_exercised(spec: &str, tests: &[ContractTest]) {
    let problems = problems(spec, tests);
    assert!(
        problems.is_empty(),
        "contract tests of specs/{spec}.yaml:\n{}",
        problems.join("\n")
    );
}
