//! `assist flowhunt chat` and `assist flowgen chat`: piped stdin (one message per line, one
//! conversation) and a person at a pseudo-terminal (prompt, streamed reply, Ctrl-C, `/new`,
//! history across runs).

use std::time::Duration;

use assistants_sandbox::{Sandbox, Timing};
use serde_json::Value;

mod common;

use common::{FLOWHUNT_KEY, assist, json_lines};

fn of_type<'a>(lines: &'a [Value], kind: &str) -> Vec<&'a Value> {
    lines.iter().filter(|l| l["type"] == kind).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn flowhunt_chat_from_a_pipe_is_one_session_with_answers_in_order() {
    let sandbox = Sandbox::start().await.unwrap();
    let run = assist(
        &sandbox.base_url(),
        &["--json", "flowhunt", "chat"],
        "hello there\n\nsecond message here\n",
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines = json_lines(&run.stdout);
    assert_eq!(of_type(&lines, "session").len(), 1, "one session: {}", run.stdout);
    let answers: Vec<&Value> = of_type(&lines, "outcome")
        .iter()
        .map(|o| &o["outcome"]["answer"])
        .collect();
    assert_eq!(
        answers,
        [
            "Answer to \"hello there\": 2 words received.",
            "Answer to \"second message here\": 3 words received."
        ]
    );
    assert_eq!(sandbox.requests_for("create_v3_flow_assistant_session"), 1);
    assert_eq!(
        sandbox.requests_for("invoke_v3_flow_assistant_response"),
        2,
        "blank lines are not messages"
    );

    // Human output: the same conversation, readable.
    let run = assist(
        &sandbox.base_url(),
        &["flowhunt", "chat"],
        "hello there\nsecond message here\n",
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let first = run
        .stdout
        .find("answer: Answer to \"hello there\"")
        .expect("first answer");
    let second = run
        .stdout
        .find("answer: Answer to \"second message here\"")
        .expect("second answer");
    assert!(first < second, "{}", run.stdout);
    assert_eq!(run.stdout.matches("session ").count(), 1, "{}", run.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn flowgen_chat_from_a_pipe_takes_the_next_line_as_the_answer() {
    let sandbox = Sandbox::start().await.unwrap();
    let run = assist(
        &sandbox.base_url(),
        &["--json", "flowgen", "chat"],
        "deploy after my approval\nyes\nanother message\n",
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines = json_lines(&run.stdout);
    assert_eq!(of_type(&lines, "chat").len(), 1, "one chat: {}", run.stdout);
    let questions: Vec<&Value> = of_type(&lines, "status")
        .into_iter()
        .filter(|s| s.get("prompt").is_some())
        .collect();
    assert_eq!(questions.len(), 1, "{}", run.stdout);
    let answers: Vec<&Value> = of_type(&lines, "outcome")
        .iter()
        .map(|o| &o["outcome"]["answer"])
        .collect();
    assert_eq!(
        answers,
        [
            "Thanks, received \"yes\". Done: deploy after my approval",
            "Answer to \"another message\": 2 words received."
        ]
    );
    assert_eq!(sandbox.requests_for("create_chat"), 1);
    assert_eq!(
        sandbox.requests_for("send_message"),
        2,
        "the answer went as input, not as a message"
    );
    assert_eq!(sandbox.requests_for("send_input"), 1);

    // Without an answer the conversation stops where `ask` would: needs input, exit 5.
    let run = assist(
        &sandbox.base_url(),
        &["flowgen", "chat"],
        "deploy after my approval\n",
    )
    .await;
    assert_eq!(run.code, 5, "{} {}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("  status: waiting for input"),
        "no debug quotes: {}",
        run.stdout
    );
    assert!(!run.stdout.contains("status: \""), "{}", run.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn chat_commands_work_from_a_pipe_and_failures_end_it_with_ask_codes() {
    let sandbox = Sandbox::start().await.unwrap();
    let run = assist(
        &sandbox.base_url(),
        &["--json", "flowhunt", "chat"],
        "one\n/new\ntwo\n/history\n",
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        of_type(&json_lines(&run.stdout), "session").len(),
        2,
        "/new: {}",
        run.stdout
    );
    assert_eq!(sandbox.requests_for("create_v3_flow_assistant_session"), 2);

    let run = assist(
        &sandbox.base_url(),
        &["flowhunt", "chat"],
        "please [fail]\nnever sent\n",
    )
    .await;
    assert_eq!(run.code, 3, "{} {}", run.stdout, run.stderr);
    assert!(!run.stdout.contains("never sent"), "{}", run.stdout);
}

// --- Under a pseudo-terminal -------------------------------------------------------------

use rexpect::session::{PtySession, spawn_command};

/// `assist args` on a pseudo-terminal, with its data directory under `data`.
fn at_terminal(base: &str, data: &std::path::Path, args: &[&str]) -> PtySession {
    let mut command = common::command(base);
    command
        .args(args)
        .env("TERM", "xterm")
        .env("HOME", data)
        .env("XDG_DATA_HOME", data.join("data"));
    spawn_command(command, Some(30_000)).expect("a pseudo-terminal")
}

/// Types `text` and presses Enter (a terminal sends `\r`).
fn enter(p: &mut PtySession, text: &str) {
    p.send(text).unwrap();
    p.send("\r").unwrap();
    p.flush().unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_person_at_a_terminal_chats_interrupts_starts_anew_and_keeps_history() {
    // The answer comes 3 s after the tool calls: time to interrupt the second reply.
    let sandbox = Sandbox::builder()
        .timing(Timing::flowhunt_schedule([
            Duration::ZERO,
            Duration::ZERO,
            Duration::ZERO,
            Duration::ZERO,
            Duration::from_secs(3),
        ]))
        .start()
        .await
        .unwrap();
    let base = sandbox.base_url();
    let data =
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("chat-pty-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    std::fs::create_dir_all(&data).unwrap();

    let transcript = tokio::task::spawn_blocking({
        let (base, data) = (base.clone(), data.clone());
        move || {
            let mut p = at_terminal(&base, &data, &["flowhunt", "chat"]);
            p.exp_string("/help lists the commands").unwrap();
            p.exp_string("you> ").unwrap();
            enter(&mut p, "hello there");
            let first = p.exp_regex("session [0-9a-f-]{36}").unwrap().1;
            p.exp_string("Searching the docs (search_docs)").unwrap();
            p.exp_string("Answer to \"hello there\": 2 words received.")
                .unwrap();
            p.exp_string("you> ").unwrap();

            // Ctrl-C while the reply streams: it stops, nothing is re-sent, the prompt returns.
            enter(&mut p, "second question");
            p.exp_string("search_docs done").unwrap();
            p.send_control('c').unwrap();
            p.exp_string("stopped following the reply").unwrap();
            p.exp_string("you> ").unwrap();

            // Alt-Enter: one message over two lines.
            p.send("line one\u{1b}\rline two\r").unwrap();
            p.flush().unwrap();
            p.exp_string("4 words received.").unwrap();
            p.exp_string("you> ").unwrap();

            enter(&mut p, "/new");
            p.exp_string("a new conversation starts").unwrap();
            p.exp_string("you> ").unwrap();
            enter(&mut p, "third one");
            let second = p.exp_regex("session [0-9a-f-]{36}").unwrap().1;
            p.exp_string("Answer to \"third one\": 2 words received.")
                .unwrap();
            p.exp_string("you> ").unwrap();

            // A pasted key never reaches the history file.
            enter(&mut p, &format!("my key is {FLOWHUNT_KEY}"));
            p.exp_string("words received.").unwrap();
            p.exp_string("you> ").unwrap();
            p.send_control('d').unwrap();
            p.exp_eof().unwrap();
            (first, second)
        }
    })
    .await
    .unwrap();
    assert_ne!(transcript.0, transcript.1, "/new starts a new session");
    assert_eq!(
        sandbox.requests_for("invoke_v3_flow_assistant_response"),
        5,
        "nothing re-sent after Ctrl-C"
    );
    assert_eq!(sandbox.requests_for("create_v3_flow_assistant_session"), 2);

    let history = std::fs::read_to_string(data.join("data/assist/chat-history")).unwrap();
    assert!(
        history.contains("hello there") && history.contains("third one"),
        "{history}"
    );
    assert!(
        !history.contains(FLOWHUNT_KEY),
        "no key in the history: {history}"
    );

    // A second run recalls the last message with Up; Ctrl-C on an empty line leaves.
    tokio::task::spawn_blocking({
        let (base, data) = (base.clone(), data.clone());
        move || {
            let mut p = at_terminal(&base, &data, &["flowhunt", "chat"]);
            p.exp_string("you> ").unwrap();
            p.send("\u{1b}[A").unwrap();
            p.flush().unwrap();
            p.exp_string("third one").unwrap();
            p.send_control('c').unwrap(); // clears the recalled line
            p.send_control('c').unwrap(); // leaves from the empty line
            p.exp_eof().unwrap();
        }
    })
    .await
    .unwrap();
    std::fs::remove_dir_all(&data).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_terminal_is_told_when_a_list_is_empty() {
    let sandbox = Sandbox::start().await.unwrap();
    let data =
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("empty-pty-{}", std::process::id()));
    let base = sandbox.base_url();
    tokio::task::spawn_blocking(move || {
        for (args, said) in [
            (&["flowgen", "chats"][..], "no chats"),
            (&["pieces", "list"][..], "no conversations"),
        ] {
            let mut p = at_terminal(&base, &data, args);
            p.exp_string(said).unwrap();
            p.exp_eof().unwrap();
        }
    })
    .await
    .unwrap();
    // Piped, there is no line at all (scripts count lines).
    let run = assist(&sandbox.base_url(), &["flowgen", "chats"], "").await;
    assert_eq!((run.code, run.stdout.as_str()), (0, ""));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_flowgen_question_is_asked_inline_at_the_terminal() {
    let sandbox = Sandbox::start().await.unwrap();
    let data =
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("flowgen-pty-{}", std::process::id()));
    let base = sandbox.base_url();
    tokio::task::spawn_blocking(move || {
        let mut p = at_terminal(&base, &data, &["flowgen", "chat"]);
        p.exp_string("you> ").unwrap();
        enter(&mut p, "deploy after my approval");
        p.exp_string("status: waiting for input").unwrap();
        p.exp_string("question: Do you approve this request").unwrap();
        p.exp_string("answer> ").unwrap();
        enter(&mut p, "yes");
        p.exp_string("Thanks, received \"yes\". Done: deploy after my approval")
            .unwrap();
        p.exp_string("you> ").unwrap();
        enter(&mut p, "/history");
        p.exp_string("user: yes").unwrap();
        enter(&mut p, "/quit");
        p.exp_eof().unwrap();
        let _ = std::fs::remove_dir_all(&data);
    })
    .await
    .unwrap();
    assert_eq!(sandbox.requests_for("send_input"), 1);
    assert_eq!(sandbox.requests_for("send_message"), 1);
}
