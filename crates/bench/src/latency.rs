//! Reply latency suite: for five reply shapes, the requests, delivery lag and efficiency of six
//! poll policies, in a simulation on virtual time and through the facade on loopback.
//!
//! **Efficiency = requests × mean delivery lag / reply duration** (issue 13). A fixed-interval
//! poll scores about 0.5 at any interval, so the figure says how well a policy spends its
//! requests whatever its point on the cost/lag curve; the goal is <= 0.6 for the default on
//! every shape. Requests count the invoke (or send) and every poll; lag is measured from when
//! an event became visible to when the stream delivered it, for every event but the first (our
//! own message's echo, or the `running` status our send causes).
//!
//! Each invocation stretches its shape by a seeded factor in [0.95, 1.05]: figures average
//! over where events fall between polls instead of reporting the luck of one alignment.

use std::time::Duration;

use assistants::PollPolicy;

use crate::Size;
use crate::report::{Figure, Scenario};

/// Which service a shape is served by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    /// A FlowHunt invocation's events.
    FlowHunt,
    /// A FlowGen run's status changes (`running`, then `completed`).
    FlowGen,
}

/// A reply: event offsets from the invoke, in seconds; the first is the echo (not measured).
#[derive(Clone, Debug)]
pub struct Shape {
    /// Short name.
    pub name: &'static str,
    /// Who serves it.
    pub service: Service,
    /// Offsets in seconds, ascending, the first 0.
    pub offsets: Vec<f64>,
}

impl Shape {
    fn new(name: &'static str, service: Service, offsets: Vec<f64>) -> Self {
        Self {
            name,
            service,
            offsets,
        }
    }

    /// The same shape, every offset multiplied by `factor`.
    pub fn stretched(&self, factor: f64) -> Vec<f64> {
        self.offsets.iter().map(|o| o * factor).collect()
    }
}

/// The four FlowHunt shapes of issue 13 and a FlowGen run lasting `flowgen_secs`.
pub fn shapes(flowgen_secs: f64) -> Vec<Shape> {
    // Tool-heavy: a tool event every 0.7 s after the `loading` at 0.1 s, up to 10.8 s (the
    // last at 10.6), then the answer at 14 s.
    let mut tool = vec![0.0, 0.1];
    tool.extend((1..=15).map(|k| 0.1 + 0.7 * f64::from(k)));
    tool.push(14.0);
    vec![
        Shape::new("short", Service::FlowHunt, vec![0.0, 0.3, 0.8, 1.5, 2.2]),
        Shape::new("bench", Service::FlowHunt, vec![0.0, 0.1, 2.5, 6.0, 10.0]),
        Shape::new("tool-heavy", Service::FlowHunt, tool),
        Shape::new(
            "long",
            Service::FlowHunt,
            vec![0.0, 0.2, 5.0, 15.0, 30.0, 45.0, 60.0],
        ),
        Shape::new("flowgen", Service::FlowGen, vec![0.0, flowgen_secs]),
    ]
}

/// The policies compared, the default first.
pub fn policies() -> Vec<(&'static str, PollPolicy)> {
    let ms = Duration::from_millis;
    vec![
        ("default", PollPolicy::default()),
        (
            "desktop",
            PollPolicy::adaptive()
                .with_initial(ms(500))
                .with_patience(10)
                .with_max(ms(5000)),
        ),
        ("fixed 1s", PollPolicy::fixed(ms(1000))),
        ("fixed 0.5s", PollPolicy::fixed(ms(500))),
        ("fixed 0.25s", PollPolicy::fixed(ms(250))),
        ("budget 60/min", PollPolicy::budget(60)),
        ("old default", PollPolicy::adaptive()),
    ]
}

/// What the runs of one (shape, policy) produced.
#[derive(Clone, Debug, Default)]
pub struct Runs {
    /// Requests of each invocation.
    pub requests: Vec<f64>,
    /// Every measured event's lag, in seconds.
    pub lags: Vec<f64>,
    /// Each invocation's duration, in seconds.
    pub durations: Vec<f64>,
}

impl Runs {
    /// Adds one invocation.
    pub fn push(&mut self, requests: f64, lags: &[f64], duration: f64) {
        self.requests.push(requests);
        self.lags.extend_from_slice(lags);
        self.durations.push(duration);
    }

    fn mean(v: &[f64]) -> f64 {
        if v.is_empty() {
            f64::NAN
        } else {
            v.iter().sum::<f64>() / v.len() as f64
        }
    }

    /// Requests per invocation.
    pub fn requests(&self) -> f64 {
        Self::mean(&self.requests)
    }

    /// A lag percentile in ms.
    pub fn lag_ms(&self, p: f64) -> f64 {
        let mut sorted = self.lags.clone();
        sorted.sort_by(f64::total_cmp);
        if sorted.is_empty() {
            return f64::NAN;
        }
        let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
        sorted[rank.min(sorted.len() - 1)] * 1000.0
    }

    /// Requests × mean lag / duration.
    pub fn efficiency(&self) -> f64 {
        self.requests() * Self::mean(&self.lags) / Self::mean(&self.durations)
    }
}

/// Results of one path: per shape, per policy.
pub type Table = Vec<(Shape, Vec<(&'static str, Runs)>)>;

/// The stretch of invocation `i` of `n`: seeded, uniform over [0.95, 1.05]. Not a regular
/// grid: its step could match a poll interval and put every run at the same phase.
pub fn stretch(i: usize, n: usize) -> f64 {
    use rand::{Rng, SeedableRng};
    let seed = (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ n as u64;
    0.95 + 0.1 * rand::rngs::StdRng::seed_from_u64(seed).random::<f64>()
}

fn table_lines(path: &str, table: &Table) -> Vec<String> {
    let mut lines = vec![format!(
        "{path}: {:<11} {:<13} {:>9} {:>9} {:>9} {:>6}",
        "shape", "policy", "requests", "p50 ms", "p99 ms", "eff."
    )];
    for (shape, rows) in table {
        for (policy, runs) in rows {
            lines.push(format!(
                "{path}: {:<11} {:<13} {:>9.1} {:>9.0} {:>9.0} {:>6.2}",
                shape.name,
                policy,
                runs.requests(),
                runs.lag_ms(50.0),
                runs.lag_ms(99.0),
                runs.efficiency()
            ));
        }
    }
    lines
}

/// The default's efficiency per shape, against the best fixed poll's.
fn goal_figures(path: &str, table: &Table, goal: bool) -> Vec<Figure> {
    table
        .iter()
        .map(|(shape, rows)| {
            let of = |name: &str| {
                rows.iter()
                    .find(|(p, _)| *p == name)
                    .map_or(f64::NAN, |(_, r)| r.efficiency())
            };
            let ours = of("default");
            let best_fixed = ["fixed 1s", "fixed 0.5s", "fixed 0.25s"]
                .iter()
                .map(|p| of(p))
                .fold(f64::INFINITY, f64::min);
            Figure {
                name: format!("{path} {} efficiency", shape.name),
                ours,
                baseline: best_fixed,
                ratio: best_fixed / ours,
                goal: None,
                at_most: goal.then_some(0.6),
            }
        })
        .collect()
}

/// Runs the suite: the simulation (full shapes, virtual time) and the real path (concurrently,
/// every shape at once; scaled down under `--quick`).
pub async fn run(size: Size) -> anyhow::Result<Scenario> {
    let sim_runs = size.pick(100, 400);
    let sim = crate::latency_sim::run(shapes(180.0), sim_runs).await?;
    let real = crate::latency_real::run(size).await?;
    let mut figures = goal_figures("sim", &sim, true);
    figures.extend(goal_figures("real", &real, !size.quick));
    let mut extra = table_lines("sim", &sim);
    extra.extend(table_lines("real", &real));
    let scale = if size.quick {
        "x0.1, FlowGen 1.5 s"
    } else {
        "FlowGen 60 s"
    };
    Ok(Scenario {
        name: "latency".into(),
        description: format!(
            "efficiency = requests x mean lag / reply duration of the default poll policy (ours) vs the best of fixed 1/0.5/0.25 s polls (baseline; ratio above 1: the default is better), goal <= 0.6; sim: {sim_runs} runs per shape on virtual time, FlowGen run 180 s; real: through the facade on loopback (sandbox for short/bench/flowgen, the bench's schedule server for tool-heavy/long), {} invocations per FlowHunt shape and policy, {} FlowGen runs per policy, all at once ({scale})",
            crate::latency_real::invocations(size),
            crate::latency_real::flowgen_runs(size)
        ),
        figures,
        extra,
    })
}
