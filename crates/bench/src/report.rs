//! Scenario results: the printed table and the JSON file.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;

use serde::Serialize;

use crate::Size;

/// A scenario: runs at a size and returns its result.
pub type Runner = Box<dyn Fn(Size) -> Pin<Box<dyn Future<Output = anyhow::Result<Scenario>>>>>;

/// One measured figure.
#[derive(Debug, Clone, Serialize)]
pub struct Figure {
    /// What was measured, e.g. "requests/s".
    pub name: String,
    /// Ours.
    pub ours: f64,
    /// The baseline's.
    pub baseline: f64,
    /// `ours / baseline` when higher is better, `baseline / ours` when lower is better: above 1
    /// always means we do better.
    pub ratio: f64,
    /// The goal for `ratio`, if the issue sets one.
    pub goal: Option<f64>,
    /// An absolute upper bound for `ours`, if the issue sets one (lags in ms).
    pub at_most: Option<f64>,
}

impl Figure {
    /// A figure where a higher value is better (throughput).
    pub fn higher_is_better(name: &str, ours: f64, baseline: f64, goal: Option<f64>) -> Self {
        let ratio = if baseline > 0.0 { ours / baseline } else { f64::NAN };
        Self {
            name: name.into(),
            ours,
            baseline,
            ratio,
            goal,
            at_most: None,
        }
    }

    /// Whether the goal is met (true when there is none).
    pub fn meets_goal(&self) -> bool {
        self.goal.is_none_or(|g| self.ratio >= g) && self.at_most.is_none_or(|max| self.ours <= max)
    }
}

/// The result of one scenario.
#[derive(Debug, Clone, Serialize)]
pub struct Scenario {
    /// Short name.
    pub name: String,
    /// What "ours" and "baseline" are.
    pub description: String,
    /// Figures, ratio to baseline included.
    pub figures: Vec<Figure>,
    /// Further lines printed after the table (a scenario's own detail table).
    pub extra: Vec<String>,
}

/// Why a scenario could not run because an optional tool is missing, and how to enable it:
/// the run reports it as skipped (fatal only under `--require-all`).
#[derive(Debug)]
pub struct Skipped {
    /// What is missing.
    pub missing: String,
    /// The command or step that provides it.
    pub enable: String,
}

impl std::fmt::Display for Skipped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}; to enable it: {}", self.missing, self.enable)
    }
}

impl std::error::Error for Skipped {}

/// Two decimals for small figures (efficiencies), one for the rest.
fn value(v: f64) -> String {
    if v.abs() < 10.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.1}")
    }
}

/// Prints one table over all scenarios.
pub fn print(results: &[Scenario]) {
    println!(
        "{:<10} {:<34} {:>14} {:>14} {:>8} {:>6} {:>5}",
        "scenario", "figure", "ours", "baseline", "ratio", "goal", "met"
    );
    for s in results {
        for f in &s.figures {
            let goal = match (f.goal, f.at_most) {
                (_, Some(max)) => format!("<={max}"),
                (Some(g), None) => format!("{g:.2}"),
                (None, None) => "-".into(),
            };
            println!(
                "{:<10} {:<34} {:>14} {:>14} {:>8.2} {:>6} {:>5}",
                s.name,
                f.name,
                value(f.ours),
                value(f.baseline),
                f.ratio,
                goal,
                match (f.goal, f.at_most) {
                    (None, None) => "-", // no goal: a figure to read, not to pass
                    _ if f.meets_goal() => "yes",
                    _ => "NO",
                }
            );
        }
    }
    for s in results {
        println!("  {}: {}", s.name, s.description);
    }
    for line in results.iter().flat_map(|s| &s.extra) {
        println!("{line}");
    }
}

#[derive(Serialize)]
struct File<'a> {
    quick: bool,
    unix_time: u64,
    scenarios: &'a [Scenario],
}

/// Writes the results as JSON and returns the path.
pub fn write_json(results: &[Scenario], size: Size, out: Option<&Path>) -> anyhow::Result<PathBuf> {
    let unix_time = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let path = match out {
        Some(p) => p.to_path_buf(),
        None => {
            let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-results");
            std::fs::create_dir_all(&dir)?;
            let dir = dir.canonicalize().unwrap_or(dir);
            dir.join(format!(
                "{unix_time}{}.json",
                if size.quick { "-quick" } else { "" }
            ))
        }
    };
    let json = serde_json::to_string_pretty(&File {
        quick: size.quick,
        unix_time,
        scenarios: results,
    })?;
    std::fs::write(&path, json)?;
    Ok(path)
}
