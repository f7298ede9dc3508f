//! Guards over the specs themselves: every operation has a contract test that really sends its
//! request, and every response body is exemplified.
//!
//! Names are checked here from the sources; that a test exercises its operation is checked
//! inside each contract binary (`every_operation_is_exercised_by_its_test`, see
//! `contract_tests::hits`), because only that binary can run its tests. This file checks that
//! each binary has that test and that the check it runs catches an empty test.

use contract_tests::hits::{ContractTest, problems};
use contract_tests::{Reply, Spec, mock_operation};

const SPECS: [&str; 3] = ["flowhunt", "pieces", "flowgen"];

/// Names of the test functions in a contract-test source (`#[tokio::test]`/`#[test]` followed
/// by `async fn name(` or `fn name(`).
fn test_functions(source: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut armed = false;
    for line in source.lines().map(str::trim) {
        if line.starts_with("#[tokio::test") || line == "#[test]" {
            armed = true;
            continue;
        }
        if armed {
            let rest = line
                .strip_prefix("async fn ")
                .or_else(|| line.strip_prefix("fn "));
            if let Some(name) = rest.and_then(|r| r.split('(').next()) {
                names.push(name.trim().to_string());
            }
            if !line.starts_with("#[") {
                armed = false;
            }
        }
    }
    names
}

/// Operation ids of `spec` that `source` has no test function for.
fn missing(spec: &Spec, source: &str) -> Vec<String> {
    let tests = test_functions(source);
    spec.operations()
        .into_iter()
        .map(|o| o.id)
        .filter(|id| !tests.contains(id))
        .collect()
}

fn contract_source(spec: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(format!("contract_{spec}.rs"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn every_operation_has_a_contract_test() {
    let mut problems = Vec::new();
    let mut total = 0;
    for name in SPECS {
        let spec = Spec::load(name);
        total += spec.operations().len();
        for id in missing(&spec, &contract_source(name)) {
            problems.push(format!("specs/{name}.yaml operation `{id}` has no test `async fn {id}` in tests/tests/contract_{name}.rs"));
        }
    }
    assert_eq!(total, 17, "the specs describe 3 + 6 + 8 operations");
    assert!(
        problems.is_empty(),
        "missing contract tests:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_guard_notices_a_deleted_test() {
    let spec = Spec::load("flowgen");
    let source = contract_source("flowgen");
    assert!(missing(&spec, &source).is_empty());
    let without = source.replace("async fn send_input()", "async fn something_else()");
    assert_eq!(missing(&spec, &without), vec!["send_input".to_string()]);
    // A helper with the operation's name that is not a test does not count.
    let demoted = source.replace("#[tokio::test]\nasync fn abort_chat()", "async fn abort_chat()");
    assert_eq!(missing(&spec, &demoted), vec!["abort_chat".to_string()]);
}

#[test]
fn every_response_body_has_an_example() {
    let mut problems = Vec::new();
    for name in SPECS {
        let spec = Spec::load(name);
        for op in spec.operations() {
            let responses = spec
                .raw()
                .pointer(&format!("{}/responses", op.pointer))
                .and_then(|r| r.as_object())
                .cloned();
            for status in responses.unwrap_or_default().keys() {
                let response = spec.response(&op.id, status);
                if response.get("content").is_some() && spec.examples(&op.id, status).is_empty() {
                    problems.push(format!("{name}: {} {status} has a body but no example", op.id));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_example_is_valid_against_its_schema() {
    let mut problems = Vec::new();
    for name in SPECS {
        let spec = Spec::load(name);
        for op in spec.operations() {
            if let Some(example) = spec.request_example(&op.id)
                && let Err(e) = spec.validate_request(&op.id, &example)
            {
                problems.push(format!("{name}: {} request example: {e:?}", op.id));
            }
            let responses = spec
                .raw()
                .pointer(&format!("{}/responses", op.pointer))
                .and_then(|r| r.as_object())
                .cloned();
            for status in responses.unwrap_or_default().keys() {
                for example in spec.examples(&op.id, status) {
                    if let Err(e) = spec.validate_response(&op.id, status, &example) {
                        problems.push(format!("{name}: {} {status} example: {e:?}", op.id));
                    }
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_contract_binary_checks_that_its_tests_exercise_their_operations() {
    for name in SPECS {
        // rustfmt may wrap the list: compare without whitespace and trailing commas.
        let squeeze = |s: &str| s.split_whitespace().collect::<String>().replace(",)", ")");
        let source = squeeze(&contract_source(name));
        let check = format!(
            "#[test]\nfn every_operation_is_exercised_by_its_test() {{\n    \
             contract_tests::hits::assert_every_operation_exercised(\n        \"{name}\","
        );
        assert!(
            source.contains(&squeeze(&check)),
            "tests/tests/contract_{name}.rs must end with the test that runs every operation's \
             test and asserts each hit its operation:\n{check}"
        );
        for op in Spec::load(name).operations() {
            let entry = format!("(\"{0}\", {0}),", op.id);
            assert!(
                source.contains(&squeeze(&entry)),
                "contract_{name}.rs does not list {entry}"
            );
        }
    }
}

/// Sends one request to a mock of flowgen's operation `id`: `method` to its path (parameters
/// filled in), or to another path when `path` is given.
fn send(id: &str, method: Option<&str>, path: Option<&str>) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a test runtime");
    runtime.block_on(async {
        let spec = Spec::load("flowgen");
        let op = spec.operation(id);
        let params: Vec<&str> = op
            .path
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .collect();
        let params: Vec<(&str, &str)> = params.into_iter().map(|p| (p, "x")).collect();
        let server = httpmock::MockServer::start_async().await;
        mock_operation(&server, &spec, id, &params, &[], &[], 204, Reply::Empty).await;
        let path = path.map_or_else(|| contract_tests::expand(&op.path, &params), str::to_string);
        let method =
            reqwest::Method::from_bytes(method.unwrap_or(&op.method).as_bytes()).expect("an HTTP method");
        let response = reqwest::Client::new()
            .request(method, server.url(path))
            .send()
            .await
            .expect("the mock answers");
        drop(response);
    });
}

#[test]
fn the_check_fails_a_test_that_never_exercises_its_operation() {
    let tests: [ContractTest; 8] = [
        ("list_chats", || send("list_chats", None, None)),
        ("create_chat", || send("create_chat", None, None)),
        ("get_chat", || send("get_chat", None, None)),
        // The right path with another operation's method is not a hit.
        ("delete_chat", || send("delete_chat", Some("GET"), None)),
        ("send_message", || send("send_message", None, None)),
        // Another operation's request does not count for this one.
        ("get_messages", || send("send_message", None, None)),
        // An empty body with the right name.
        ("send_input", || {}),
        ("abort_chat", || {
            send("abort_chat", None, Some("/chats/x/abortion"))
        }),
    ];
    let mut found = problems("flowgen", &tests);
    found.sort();
    let never =
        |id: &str| format!("`{id}`: the test passed without sending a request to its operation's mock");
    assert_eq!(
        found,
        vec![
            never("abort_chat"),
            never("delete_chat"),
            never("get_messages"),
            never("send_input")
        ]
    );

    // A missing entry, an entry that is no operation, and a failing test are named too.
    let tests: [ContractTest; 8] = [
        ("list_chats", || send("list_chats", None, None)),
        ("create_chat", || send("create_chat", None, None)),
        ("get_chat", || send("get_chat", None, None)),
        ("delete_chat", || send("delete_chat", None, None)),
        ("send_message", || panic!("boom")),
        ("get_messages", || send("get_messages", None, None)),
        ("send_inputs", || send("send_input", None, None)),
        ("abort_chat", || send("abort_chat", None, None)),
    ];
    assert_eq!(
        problems("flowgen", &tests),
        vec![
            "specs/flowgen.yaml `send_input`: no contract test is listed for it".to_string(),
            "`send_message`: the test panicked: boom".to_string(),
            "`send_inputs` is listed but is not an operation of specs/flowgen.yaml".to_string(),
        ]
    );
}
