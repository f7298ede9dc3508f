//! Issue 18, CLI side: hostile server text never reaches the terminal raw, `--timeout` is
//! overall (also while waiting for a human answer), a huge timeout is no deadline, input is
//! checked before any side effect, and keys come from files, stdin or the environment, trimmed.

use std::ffi::OsString;
use std::time::{Duration, Instant};

use assistants_sandbox::{DEFAULT_API_KEY, Faults, Sandbox};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

mod common;

use common::{assist, assist_with, json_lines};

/// No character a terminal would act on (escape, BEL, CR, C1, bidi overrides) in `text`.
fn assert_inert(text: &str) {
    let bad: Vec<char> = text
        .chars()
        .filter(|&c| (c.is_control() && c != '\n') || ('\u{202a}'..='\u{202e}').contains(&c))
        .collect();
    assert!(
        bad.is_empty(),
        "raw control characters {bad:?} reach the terminal: {text:?}"
    );
}

/// A FlowGen server whose chat list and error bodies carry terminal escape sequences.
async fn hostile_flowgen() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 65536 {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&head);
                let (status, kind, body) = if head.starts_with("GET /chats ") {
                    let chats = serde_json::json!([{
                        "name": "\u{1b}]0;pwned\u{7}Trip\u{1b}[2J", "from_type": "flow", "owner": "o",
                        "id": "k2j4\rFAKE", "status": "running\u{1b}[31m",
                        "created": "2024-03-14 08:21:05.412Z", "updated": "2024-03-14 08:21:05.412Z"
                    }]);
                    ("200 OK", "application/json", chats.to_string())
                } else {
                    let body =
                        "boom \u{1b}]8;;http://evil\u{1b}\\click\u{1b}]8;;\u{1b}\\ \rerror: fake \u{202e}";
                    ("500 Internal Server Error", "text/plain", body.to_string())
                };
                let response = format!(
                    "HTTP/1.1 {status}\r\ncontent-type: {kind}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(response.as_bytes()).await;
            });
        }
    });
    base
}

#[tokio::test(flavor = "multi_thread")]
async fn server_text_is_escaped_in_human_output_and_untouched_in_json() {
    let base = hostile_flowgen().await;
    let run = assist(&base, &["flowgen", "chats"], "").await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_inert(&run.stdout);
    assert!(
        run.stdout.contains("\\u{1b}]0;pwned\\u{7}Trip"),
        "shown, escaped: {}",
        run.stdout
    );
    assert!(run.stdout.contains("k2j4\\rFAKE"), "{}", run.stdout);

    let run = assist(&base, &["--json", "flowgen", "chats"], "").await;
    let lines = json_lines(&run.stdout);
    assert_eq!(
        lines[0]["chat"]["name"], "\u{1b}]0;pwned\u{7}Trip\u{1b}[2J",
        "--json keeps the text"
    );
    assert!(
        run.stdout.contains("\\u001b]0;pwned\\u0007"),
        "escaped by JSON: {}",
        run.stdout
    );

    for json in [false, true] {
        let mut args = vec!["flowgen", "history", "k2j4h6g8f0d1s3a"];
        if json {
            args.insert(0, "--json");
        }
        let run = assist(&base, &args, "").await;
        assert_eq!(run.code, 3, "{}", run.stderr);
        assert!(
            run.stderr.starts_with("error: ") && run.stderr.contains("boom"),
            "{}",
            run.stderr
        );
        assert_inert(&run.stderr);
        assert_eq!(
            run.stderr.lines().count(),
            1,
            "one error line, no spoofed second: {}",
            run.stderr
        );
        if json {
            let error = &json_lines(&run.stdout)[0];
            assert!(
                error["message"]
                    .as_str()
                    .unwrap()
                    .contains("\u{1b}]8;;http://evil"),
                "{error}"
            );
        }
    }

    // Answers (the sandbox echoes the message) keep their lines but lose their escapes.
    let sandbox = Sandbox::start().await.unwrap();
    let run = assist(
        &sandbox.base_url(),
        &["flowhunt", "ask", "hi \u{1b}]0;t\u{7} \u{1b}[2J\rthere"],
        "",
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_inert(&run.stdout);
    assert!(
        run.stdout.contains("answer: Answer to \"hi \\u{1b}]0;t\\u{7}"),
        "{}",
        run.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_timeout_is_overall_for_the_whole_command() {
    let slow = Sandbox::builder()
        .faults(Faults {
            latency: Duration::from_secs(3),
            ..Faults::default()
        })
        .start()
        .await
        .unwrap();
    let started = Instant::now();
    let run = assist(&slow.base_url(), &["--timeout", "4", "flowhunt", "ask", "hi"], "").await;
    let took = started.elapsed();
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(run.stderr.contains("deadline of 4s"), "{}", run.stderr);
    // Create (3 s) then invoke (3 s): each within 4 s, together not. Per-operation deadlines
    // would end after about 7 s.
    assert!(took < Duration::from_secs(6), "ended after {took:?}");

    // A stream that never ends on its own ends at the deadline too.
    let quiet = Sandbox::start().await.unwrap();
    let run = assist(&quiet.base_url(), &["--timeout", "1", "pieces", "watch"], "").await;
    assert_eq!(run.code, 4, "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_deadline_fires_while_waiting_for_an_answer_on_a_silent_pipe() {
    let sandbox = Sandbox::start().await.unwrap();
    let mut command = common::command(&sandbox.base_url());
    command
        .args(["--timeout", "2", "flowgen", "ask", "deploy after my approval"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = command.spawn().unwrap();
    let stdin = child.stdin.take(); // held open and silent for the whole run
    let pid = child.id();
    let waited = tokio::time::timeout(
        Duration::from_secs(20),
        tokio::task::spawn_blocking(move || child.wait_with_output().unwrap()),
    )
    .await;
    drop(stdin);
    let Ok(output) = waited else {
        let _ = std::process::Command::new("kill")
            .args(["-9", &pid.to_string()])
            .status();
        panic!("still waiting for stdin long after the 2 s deadline");
    };
    let output = output.unwrap();
    assert_eq!(
        output.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("question: Do you approve"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_huge_timeout_is_no_deadline_and_never_a_panic() {
    let sandbox = Sandbox::start().await.unwrap();
    for huge in [
        u64::MAX.to_string(),
        (1u64 << 62).to_string(),
        "31536000000".into(),
    ] {
        let run = assist(
            &sandbox.base_url(),
            &["--timeout", &huge, "flowhunt", "ask", "hi"],
            "",
        )
        .await;
        assert_eq!(run.code, 0, "--timeout {huge}: {}", run.stderr);
        assert!(run.stdout.contains("answer: "), "{}", run.stdout);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn input_is_checked_before_anything_is_created_sent_or_printed() {
    let sandbox = Sandbox::start().await.unwrap();
    let base = sandbox.base_url();
    let long = "x".repeat(5000);
    let runs: Vec<Vec<&str>> = vec![
        vec!["flowhunt", "ask", "   "],
        vec!["flowhunt", "ask", "--flow", "not-a-uuid", "hi"],
        vec!["flowhunt", "ask", "--session", "..", "hi"],
        vec!["flowhunt", "ask", "--session", &long, "hi"],
        vec!["flowhunt", "chat", "--session", "."],
        vec![
            "flowhunt",
            "resume",
            r#"{"session_id":"..","from_timestamp":0,"seen_at_boundary":[],"message":"m"}"#,
        ],
        vec!["flowgen", "ask", "--flow", "F", "   "],
        vec!["flowgen", "ask", "--chat", &long, "hi"],
        vec!["flowgen", "ask", "--chat", "..", "hi"],
        vec!["flowgen", "chat", "--chat", "."],
        vec!["flowgen", "history", ".."],
        vec!["flowgen", "delete", ".."],
        vec!["flowgen", "delete", "."],
        vec!["pieces", "delete", ".."],
        vec!["pieces", "delete", "."],
    ];
    for args in runs {
        for json in [false, true] {
            let mut line = args.clone();
            if json {
                line.insert(0, "--json");
            }
            let run = assist(&base, &line, "").await;
            assert_eq!(run.code, 2, "{line:?}: {}", run.stderr);
            let printed: Vec<_> = run
                .stdout
                .lines()
                .filter(|l| !l.contains("\"type\":\"error\""))
                .collect();
            assert!(
                printed.is_empty(),
                "{line:?} printed before checking: {}",
                run.stdout
            );
            assert!(!run.stderr.contains(&long), "the long id is not echoed");
        }
    }
    // A whitespace-only line of a piped chat is no message.
    let run = assist(&base, &["flowhunt", "chat"], "   \n\t\n").await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let sent: u64 = sandbox.requests().values().sum();
    assert_eq!(sent, 0, "nothing reached the server: {:?}", sandbox.requests());
}

#[tokio::test(flavor = "multi_thread")]
async fn keys_come_from_files_stdin_or_the_environment_trimmed() {
    let sandbox = Sandbox::start().await.unwrap();
    let base = sandbox.base_url();
    let no_env = [("FLOWGEN_API_KEY", None)];
    let dir =
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("key-files-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("flowgen.key");
    std::fs::write(&file, format!("  {DEFAULT_API_KEY}\n\n")).unwrap();
    let path = file.to_str().unwrap();

    let run = assist_with(&base, &["--api-key-file", path, "flowgen", "chats"], "", &no_env).await;
    assert_eq!(run.code, 0, "a key file, trimmed: {}", run.stderr);
    let run = assist_with(
        &base,
        &["--api-key-file", "-", "flowgen", "chats"],
        &format!("{DEFAULT_API_KEY}\n"),
        &no_env,
    )
    .await;
    assert_eq!(run.code, 0, "the key on stdin: {}", run.stderr);
    // The rest of stdin is left for the command: here the chat's messages.
    let run = assist_with(
        &base,
        &["--json", "--api-key-file", "-", "flowgen", "chat"],
        &format!("{DEFAULT_API_KEY}\nhello from stdin\n"),
        &no_env,
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("Answer to \\\"hello from stdin\\\""),
        "{}",
        run.stdout
    );

    let padded = [(
        "FLOWGEN_API_KEY",
        Some(OsString::from(format!(" {DEFAULT_API_KEY}\n"))),
    )];
    let run = assist_with(&base, &["flowgen", "chats"], "", &padded).await;
    assert_eq!(
        run.code, 0,
        "an env key with whitespace around it: {}",
        run.stderr
    );
    let run = assist_with(
        &base,
        &["--api-key", &format!("{DEFAULT_API_KEY} "), "flowgen", "chats"],
        "",
        &no_env,
    )
    .await;
    assert_eq!(run.code, 0, "a flag key with a trailing space: {}", run.stderr);

    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStringExt;
        let invalid = [(
            "FLOWGEN_API_KEY",
            Some(OsString::from_vec(b"fg_\xff\xfe".to_vec())),
        )];
        let run = assist_with(&base, &["flowgen", "chats"], "", &invalid).await;
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(
            run.stderr.contains("FLOWGEN_API_KEY is not valid UTF-8"),
            "{}",
            run.stderr
        );
        assert!(!run.stderr.contains("not set"), "{}", run.stderr);
    }
    let run = assist_with(
        &base,
        &[
            "--api-key-file",
            dir.join("absent").to_str().unwrap(),
            "flowgen",
            "chats",
        ],
        "",
        &no_env,
    )
    .await;
    assert_eq!(run.code, 2, "{}", run.stderr);

    let help = assist(&base, &["--help"], "").await;
    assert!(help.stdout.contains("--api-key-file <PATH>"), "{}", help.stdout);
    assert!(
        help.stdout
            .contains("visible to every local user in the process list"),
        "{}",
        help.stdout
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn completions_and_the_man_page_are_generated() {
    for (shell, marker) in [
        ("bash", "_assist()"),
        ("zsh", "#compdef assist"),
        ("fish", "complete -c assist"),
        ("elvish", "assist"),
        ("powershell", "assist"),
    ] {
        let run = assist("http://127.0.0.1:9", &["completions", shell], "").await;
        assert_eq!(run.code, 0, "{shell}: {}", run.stderr);
        assert!(
            run.stdout.contains(marker),
            "{shell}: {}",
            &run.stdout[..run.stdout.len().min(300)]
        );
        assert!(
            run.stdout.contains("flowhunt") && run.stdout.contains("chat"),
            "{shell}: subcommands complete"
        );
    }
    let run = assist("http://127.0.0.1:9", &["completions", "tcsh"], "").await;
    assert_eq!(run.code, 2, "an unknown shell is a usage error");
    let man = assist("http://127.0.0.1:9", &["manpage"], "").await;
    assert_eq!(man.code, 0, "{}", man.stderr);
    assert!(
        man.stdout.starts_with(".ie") || man.stdout.contains(".TH assist"),
        "{}",
        &man.stdout[..200.min(man.stdout.len())]
    );
    assert!(
        man.stdout.contains("flowhunt") && man.stdout.contains("\\-\\-timeout"),
        "roff with the commands and flags"
    );
}
