//! The policy comparison on virtual time: each run drives a real [`Pacer`] on a paused tokio
//! clock through one reply, with a seeded round trip of 1-20 ms per request (the time a
//! request takes, during which the server sees the state half-way).

use std::time::Duration;

use anyhow::Context;
use assistants::poll::Pacer;
use rand::{Rng, SeedableRng};

use crate::latency::{Runs, Shape, Table, policies, stretch};

/// Simulates `runs` invocations of every shape under every policy.
pub async fn run(shapes: Vec<Shape>, runs: usize) -> anyhow::Result<Table> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    // A paused clock of its own: virtual time must not leak into the real-path scenario.
    std::thread::spawn(move || {
        let result = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .map_err(anyhow::Error::from)
            .map(|runtime| runtime.block_on(simulate(shapes, runs)));
        let _ = tx.send(result);
    });
    rx.await.context("the simulation's thread ended")?
}

async fn simulate(shapes: Vec<Shape>, runs: usize) -> Table {
    let mut table = Vec::new();
    for shape in shapes {
        let mut rows = Vec::new();
        for (name, policy) in policies() {
            let mut rng = rand::rngs::StdRng::seed_from_u64(13);
            let mut all = Runs::default();
            for i in 0..runs {
                let offsets = shape.stretched(stretch(i, runs));
                let (requests, lags) = one(policy.pacer(), &offsets, &mut rng).await;
                all.push(requests, &lags, offsets.last().copied().unwrap_or(0.0));
            }
            rows.push((name, all));
        }
        table.push((shape, rows));
    }
    table
}

/// One invocation: the poll loop starts at the invoke's answer (time 0) and polls at once, as
/// the facade's loop does; it ends when the last event is delivered.
async fn one(mut pacer: Pacer, offsets: &[f64], rng: &mut impl Rng) -> (f64, Vec<f64>) {
    let start = tokio::time::Instant::now();
    let elapsed = || start.elapsed().as_secs_f64();
    let (mut requests, mut seen, mut lags) = (1.0, 0, Vec::new()); // the invoke
    // Bounded: every policy's interval is at least 1 ms and replies last minutes at most.
    for _ in 0..1_000_000 {
        let rtt = Duration::from_micros(rng.random_range(1_000..=20_000));
        requests += 1.0;
        tokio::time::advance(rtt / 2).await;
        let observed = elapsed();
        let due = offsets.iter().filter(|o| **o <= observed).count();
        tokio::time::advance(rtt - rtt / 2).await;
        let news = due > seen;
        let delivered = elapsed();
        lags.extend(
            offsets[seen.max(1)..due.max(seen.max(1))]
                .iter()
                .map(|o| delivered - o),
        );
        seen = due;
        if seen == offsets.len() {
            break;
        }
        tokio::time::advance(pacer.next(news)).await;
    }
    (requests, lags)
}
