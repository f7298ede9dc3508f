//! Guards over the specs themselves: every operation has a contract test, and every response
//! body is exemplified.

use contract_tests::Spec;

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
