//! Running the built `assist` against a sandbox, checking that no key ever shows.
#![allow(dead_code)]

use std::ffi::OsString;
use std::io::Write;
use std::process::{Command, Stdio};

use assistants_sandbox::DEFAULT_API_KEY;
use serde_json::Value;

pub const FLOWHUNT_KEY: &str = "fh_secret_never_printed";

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// `assist` with only the sandbox's URLs and keys in its environment.
pub fn command(base: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_assist"));
    command
        .env_clear()
        .env("FLOWHUNT_BASE_URL", base)
        .env("PIECES_BASE_URL", base)
        .env("FLOWGEN_BASE_URL", base)
        .env("FLOWHUNT_API_KEY", FLOWHUNT_KEY)
        .env("FLOWHUNT_WORKSPACE_ID", "ws")
        .env("FLOWGEN_API_KEY", DEFAULT_API_KEY)
        .env("FLOWGEN_FLOW_ID", "flow1");
    command
}

/// Runs `assist args` with the sandbox's URL and keys in the environment.
pub async fn assist(base: &str, args: &[&str], stdin: &str) -> Run {
    assist_with(base, args, stdin, &[]).await
}

/// [`assist`] with environment changes: `Some` sets a variable, `None` removes it.
pub async fn assist_with(base: &str, args: &[&str], stdin: &str, env: &[(&str, Option<OsString>)]) -> Run {
    let mut command = command(base);
    command.args(args);
    for (name, value) in env {
        match value {
            Some(value) => command.env(name, value),
            None => command.env_remove(name),
        };
    }
    let stdin = stdin.to_string();
    tokio::task::spawn_blocking(move || {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary runs");
        // The command may leave before reading it all (a usage error): not the test's concern.
        let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
        let out = child.wait_with_output().unwrap();
        let run = Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into(),
            stderr: String::from_utf8_lossy(&out.stderr).into(),
        };
        for secret in [FLOWHUNT_KEY, DEFAULT_API_KEY] {
            assert!(
                !run.stdout.contains(secret) && !run.stderr.contains(secret),
                "a key leaked: {} {}",
                run.stdout,
                run.stderr
            );
        }
        run
    })
    .await
    .unwrap()
}

pub fn json_lines(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}
