//! The sandbox in a process of its own, as users run a server: this binary re-run with
//! `--serve-sandbox`. The bench's process then holds only the client side, so its resident set
//! and CPU are the client's own, and the sandbox's are read from `/proc/<pid>/status`.
//!
//! The child prints `url <base url>` once it listens, then answers one line per command read
//! from its stdin (`requests <operation>`: how many such requests it served); it stops when its
//! stdin closes (the parent dropping [`SandboxProcess`], or dying).

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, ExitCode, Stdio};

use anyhow::Context;
use assistants_sandbox::Sandbox;

/// The hidden flag that makes this binary serve a sandbox instead of running benchmarks.
pub const FLAG: &str = "--serve-sandbox";

/// Resident memory of a process, in MiB.
#[derive(Clone, Copy, Debug)]
pub struct Memory {
    /// Resident now (`VmRSS`).
    pub rss: f64,
    /// Peak resident since start or the last [`reset_peak`] (`VmHWM`).
    pub peak: f64,
}

/// The memory of process `pid` (`"self"` for this one), if `/proc` says (Linux).
pub fn memory(pid: &str) -> Option<Memory> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let mib = |key: &str| -> Option<f64> {
        let line = status.lines().find(|l| l.starts_with(key))?;
        let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib / 1024.0)
    };
    Some(Memory {
        rss: mib("VmRSS:")?,
        peak: mib("VmHWM:")?,
    })
}

/// Resets process `pid`'s peak resident set to its current one (Linux >= 4.0); false when the
/// kernel refused, in which case the peak still counts everything since the process started.
pub fn reset_peak(pid: &str) -> bool {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok()
}

/// A sandbox running in a child process; dropping this stops it.
pub struct SandboxProcess {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    url: String,
}

impl SandboxProcess {
    /// Starts the child and waits until it listens.
    pub fn start() -> anyhow::Result<Self> {
        let exe = std::env::current_exe().context("locating the bench binary")?;
        let mut child = Command::new(exe)
            .arg(FLAG)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting the sandbox process")?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            let _ = child.kill();
            anyhow::bail!("the sandbox process has no stdio pipes");
        };
        let mut process = Self {
            child,
            stdin: Some(stdin),
            stdout: BufReader::new(stdout),
            url: String::new(),
        };
        let line = process.line()?;
        process.url = line
            .strip_prefix("url ")
            .with_context(|| format!("the sandbox process said {line:?}"))?
            .to_string();
        Ok(process)
    }

    fn line(&mut self) -> anyhow::Result<String> {
        let mut line = String::new();
        self.stdout
            .read_line(&mut line)
            .context("reading from the sandbox process")?;
        anyhow::ensure!(!line.is_empty(), "the sandbox process ended");
        Ok(line.trim_end().to_string())
    }

    /// The sandbox's base URL.
    pub fn base_url(&self) -> &str {
        &self.url
    }

    /// The child's process id, as `/proc` names it.
    pub fn pid(&self) -> String {
        self.child.id().to_string()
    }

    /// How many requests for `operation` the sandbox has served (a blocking round trip over
    /// the pipes; the child answers at once).
    pub fn requests_for(&mut self, operation: &str) -> anyhow::Result<u64> {
        let stdin = self.stdin.as_mut().context("the sandbox process is stopping")?;
        writeln!(stdin, "requests {operation}").context("writing to the sandbox process")?;
        stdin.flush()?;
        let line = self.line()?;
        line.parse()
            .with_context(|| format!("the sandbox process answered {line:?}"))
    }

    /// The child's memory.
    pub fn memory(&self) -> Option<Memory> {
        memory(&self.pid())
    }
}

impl Drop for SandboxProcess {
    fn drop(&mut self) {
        // Closing its stdin stops the child; it answers nothing more, so waiting is short.
        drop(self.stdin.take());
        let _ = self.child.wait();
    }
}

/// The child's side: serves a sandbox on a current-thread runtime (one core, as a small server
/// would) until stdin closes.
pub fn serve() -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the sandbox's runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        let sandbox = match Sandbox::start().await {
            Ok(sandbox) => sandbox,
            Err(e) => {
                eprintln!("error: cannot start the sandbox: {e}");
                return ExitCode::FAILURE;
            }
        };
        println!("url {}", sandbox.base_url());
        // Commands are read on a thread of their own: the runtime's one thread serves requests.
        let (tx, mut rx) = tokio::sync::mpsc::channel::<String>(1);
        std::thread::spawn(move || {
            for line in std::io::stdin().lock().lines() {
                let Ok(line) = line else { break };
                if tx.blocking_send(line).is_err() {
                    break;
                }
            }
        });
        while let Some(command) = rx.recv().await {
            let answer = match command.strip_prefix("requests ") {
                Some(operation) => sandbox.requests_for(operation).to_string(),
                None => format!("unknown command {command:?}"),
            };
            println!("{answer}");
        }
        sandbox.shutdown().await;
        ExitCode::SUCCESS
    })
}
