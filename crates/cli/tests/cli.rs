//! The built `assist` binary against an in-process sandbox: output modes, exit codes, input,
//! configuration errors, unreachable servers and deadlines. Keys never appear in any output.

use std::process::{Command, Stdio};
use std::time::Duration;

use assistants_sandbox::{DEFAULT_API_KEY, Faults, Sandbox};
use serde_json::Value;

mod common;

use common::{FLOWHUNT_KEY, assist, json_lines};

#[tokio::test(flavor = "multi_thread")]
async fn flowhunt_ask_in_text_and_json() {
    let sandbox = Sandbox::start().await.unwrap();
    let run = assist(&sandbox.base_url(), &["flowhunt", "ask", "hello there"], "").await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("answer: Answer to \"hello there\": 2 words received."),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("  → Searching the docs (search_docs)\n  ✓ search_docs done"),
        "events are printed with readable labels: {}",
        run.stdout
    );
    assert!(
        !run.stdout.contains("v3_tool_call"),
        "no wire names on a terminal: {}",
        run.stdout
    );

    let run = assist(
        &sandbox.base_url(),
        &["flowhunt", "ask", "hello there", "--json"],
        "",
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines = json_lines(&run.stdout);
    assert_eq!(lines.first().unwrap()["type"], "session");
    assert!(lines.iter().filter(|l| l["type"] == "event").count() >= 4);
    assert!(
        lines
            .iter()
            .any(|l| l["event"]["action_type"] == "v3_tool_call_start"),
        "--json keeps the raw names"
    );
    let last = lines.last().unwrap();
    assert_eq!(last["type"], "outcome");
    assert_eq!(last["outcome"]["outcome"], "completed");
}

#[tokio::test(flavor = "multi_thread")]
async fn flowgen_questions_are_answered_from_stdin_or_exit_5() {
    let sandbox = Sandbox::start().await.unwrap();
    let run = assist(
        &sandbox.base_url(),
        &["--json", "flowgen", "ask", "deploy after my approval"],
        "yes\n",
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines = json_lines(&run.stdout);
    assert!(
        lines
            .iter()
            .any(|l| l["type"] == "status" && l["status"] == "wait_for_human_input")
    );
    assert_eq!(
        lines.last().unwrap()["outcome"]["answer"],
        "Thanks, received \"yes\". Done: deploy after my approval"
    );

    let run = assist(
        &sandbox.base_url(),
        &["flowgen", "ask", "deploy after my approval"],
        "",
    )
    .await;
    assert_eq!(run.code, 5, "no input left: {}", run.stdout);
    assert!(run.stdout.contains("needs input"), "{}", run.stdout);

    let run = assist(&sandbox.base_url(), &["flowgen", "ask", "please [fail]"], "").await;
    assert_eq!(run.code, 3, "{}", run.stdout);
    let run = assist(&sandbox.base_url(), &["flowgen", "chats"], "").await;
    assert_eq!(run.code, 0);
    assert_eq!(run.stdout.lines().count(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn pieces_create_list_watch_delete() {
    let sandbox = Sandbox::start().await.unwrap();
    let base = sandbox.base_url();
    let run = assist(&base, &["--json", "pieces", "create", "--name", "Notes"], "").await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let id = json_lines(&run.stdout)[0]["id"].as_str().unwrap().to_string();
    let run = assist(&base, &["pieces", "list"], "").await;
    assert!(run.stdout.contains(&id) && run.stdout.contains("Notes"));
    let run = assist(&base, &["pieces", "watch", "--count", "1", "--json"], "").await;
    assert_eq!(json_lines(&run.stdout)[0]["change"], "added");
    let run = assist(&base, &["pieces", "delete", &id], "").await;
    assert_eq!(run.code, 0);
    let run = assist(&base, &["pieces", "delete", &id], "").await;
    assert_eq!(
        run.code, 3,
        "deleting twice is the service's refusal: {}",
        run.stderr
    );
    assert!(run.stderr.contains("was not found"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn configuration_errors_read_as_guidance() {
    let sandbox = Sandbox::start().await.unwrap();
    let run = assist(&sandbox.base_url(), &["flowgen", "ask", "--chat", "", "hi"], "").await;
    assert_eq!(run.code, 2, "an empty id is a usage error: {}", run.stderr);
    let out = tokio::task::spawn_blocking(|| {
        Command::new(env!("CARGO_BIN_EXE_assist"))
            .args(["flowgen", "chats"])
            .env_clear()
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("FLOWGEN_API_KEY is not set: export it, or pass --api-key-file PATH")
    );
    let run = assist(&sandbox.base_url(), &["flowhunt", "nope"], "").await;
    assert_eq!(run.code, 2);
    for args in [
        &["--help"][..],
        &["flowgen", "--help"],
        &["pieces", "watch", "--help"],
        &["sandbox", "--help"],
    ] {
        let run = assist(&sandbox.base_url(), args, "").await;
        assert_eq!(run.code, 0, "{args:?}");
        assert!(run.stdout.contains("Usage"), "{args:?}: {}", run.stdout);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn unreachable_servers_and_deadlines_have_their_codes() {
    let run = assist("http://127.0.0.1:9", &["pieces", "list"], "").await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.contains("connection failed"), "{}", run.stderr);
    let slow = Sandbox::builder()
        .faults(Faults {
            latency: Duration::from_secs(30),
            ..Faults::default()
        })
        .start()
        .await
        .unwrap();
    let run = assist(&slow.base_url(), &["--timeout", "1", "flowgen", "chats"], "").await;
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(run.stderr.contains("deadline"), "{}", run.stderr);
}

/// Every file under `dir`, recursively.
fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(next) = pending.pop() {
        for entry in std::fs::read_dir(&next).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                found.push(path);
            }
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread")]
async fn keys_from_env_and_flags_are_never_written_to_disk() {
    let sandbox = Sandbox::start().await.unwrap();
    let base = sandbox.base_url();
    // A fresh home, config, cache, temp and working directory: anything the binary writes lands here.
    let root = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("no-keys-on-disk-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    let runs: [&[&str]; 5] = [
        &["flowhunt", "ask", "hello there"],
        &["flowhunt", "chat"],
        &[
            "--json",
            "flowgen",
            "ask",
            "--api-key",
            DEFAULT_API_KEY,
            "plan a trip",
        ],
        &["pieces", "list"],
        &["demo"],
    ];
    let codes = tokio::task::spawn_blocking({
        let root = root.clone();
        move || {
            runs.iter()
                .map(|args| {
                    let out = Command::new(env!("CARGO_BIN_EXE_assist"))
                        .args(*args)
                        .current_dir(&root)
                        .env_clear()
                        .env("HOME", &root)
                        .env("XDG_CONFIG_HOME", root.join(".config"))
                        .env("XDG_CACHE_HOME", root.join(".cache"))
                        .env("XDG_DATA_HOME", root.join(".local"))
                        .env("TMPDIR", &root)
                        .env("FLOWHUNT_BASE_URL", &base)
                        .env("PIECES_BASE_URL", &base)
                        .env("FLOWGEN_BASE_URL", &base)
                        .env("FLOWHUNT_API_KEY", FLOWHUNT_KEY)
                        .env("FLOWHUNT_WORKSPACE_ID", "ws")
                        .env("FLOWGEN_FLOW_ID", "flow1")
                        .stdin(Stdio::null())
                        .output()
                        .expect("the binary runs");
                    (args.join(" "), out.status.code())
                })
                .collect::<Vec<_>>()
        }
    })
    .await
    .unwrap();
    for (args, code) in codes {
        assert_eq!(code, Some(0), "assist {args}");
    }
    for file in files_under(&root) {
        let bytes = std::fs::read(&file).unwrap();
        for secret in [FLOWHUNT_KEY, DEFAULT_API_KEY] {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{} holds a key",
                file.display()
            );
        }
    }
    std::fs::remove_dir_all(&root).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn every_json_line_matches_the_published_schema() {
    let sandbox = Sandbox::start().await.unwrap();
    let base = sandbox.base_url();
    let schema = assist(&base, &["schema"], "").await;
    assert_eq!(schema.code, 0, "{}", schema.stderr);
    let schema: Value = serde_json::from_str(&schema.stdout).expect("the schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("the schema compiles");

    let created = assist(
        &base,
        &["--json", "flowgen", "ask", "wait for my approval"],
        "yes\n",
    )
    .await;
    let chat_id = json_lines(&created.stdout)
        .iter()
        .find_map(|l| l["chat_id"].as_str().map(String::from))
        .expect("the chat asked");
    let conversation = assist(&base, &["--json", "pieces", "create", "--name", "Schema"], "").await;
    let conversation_id = json_lines(&conversation.stdout)[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut outputs = vec![created.stdout, conversation.stdout];
    let runs: Vec<Vec<&str>> = vec![
        vec!["demo"],
        vec!["flowhunt", "ask", "hello there"],
        vec!["flowhunt", "ask", "please [fail]"],
        vec!["flowgen", "ask", "wait for my approval"], // no answer on stdin: needs input
        vec!["flowgen", "chats"],
        vec!["flowgen", "history", &chat_id],
        vec!["flowgen", "delete", &chat_id],
        vec!["pieces", "watch", "--count", "1"],
        vec!["pieces", "list"],
        vec!["pieces", "delete", &conversation_id],
        vec!["flowgen", "history", "no-such-chat"], // an error record
    ];
    for args in runs {
        let mut with_json = vec!["--json"];
        with_json.extend(args);
        outputs.push(assist(&base, &with_json, "").await.stdout);
    }
    let mut types = std::collections::BTreeSet::new();
    for line in outputs.iter().flat_map(|o| json_lines(o)) {
        let errors: Vec<String> = validator.iter_errors(&line).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{line} breaks the schema: {errors:?}");
        types.insert(line["type"].as_str().unwrap_or_default().to_string());
    }
    let expected = [
        "change",
        "chat",
        "conversation",
        "created",
        "deleted",
        "error",
        "event",
        "message",
        "outcome",
        "sandbox",
        "session",
        "status",
        "summary",
    ];
    assert_eq!(
        types,
        expected.iter().map(|t| t.to_string()).collect(),
        "every record type was checked"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn flowhunt_resume_continues_from_a_printed_cursor() {
    let sandbox = Sandbox::start().await.unwrap();
    let base = sandbox.base_url();
    let asked = assist(&base, &["--json", "flowhunt", "ask", "resume me please"], "").await;
    assert_eq!(asked.code, 0, "{}", asked.stderr);
    let events: Vec<Value> = json_lines(&asked.stdout)
        .into_iter()
        .filter(|l| l["type"] == "event")
        .collect();
    assert_eq!(events.len(), 5, "{}", asked.stdout);
    let ids = |lines: &[Value]| -> Vec<String> {
        lines
            .iter()
            .map(|l| l["event"]["event_id"].as_str().unwrap().to_string())
            .collect()
    };
    // As if the process had been killed after printing the second event.
    let cursor = events[1]["cursor"].to_string();
    let resumed = assist(&base, &["flowhunt", "resume", &cursor, "--json"], "").await;
    assert_eq!(resumed.code, 0, "{}", resumed.stderr);
    let lines = json_lines(&resumed.stdout);
    let rest: Vec<Value> = lines.iter().filter(|l| l["type"] == "event").cloned().collect();
    assert_eq!(ids(&rest), ids(&events[2..]), "the rest, once, in order");
    assert_eq!(
        lines.last().unwrap()["outcome"]["answer"],
        "Answer to \"resume me please\": 3 words received."
    );
    assert_eq!(
        sandbox.requests_for("invoke_v3_flow_assistant_response"),
        1,
        "resume never invokes"
    );

    let bad = assist(&base, &["flowhunt", "resume", "{not a cursor"], "").await;
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("the cursor is not one"), "{}", bad.stderr);
}
