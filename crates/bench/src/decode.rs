//! Decode: a real-shaped 1,000-conversation Pieces snapshot, typed vs `serde_json::Value`.
//!
//! Goal (issue 16): typed decode at least 1.5x the throughput of parsing into a `Value`. The
//! free-form parts (`RawJson`) are checked but not built, which is where most of the gain is.

use std::time::Instant;

use anyhow::Context;
use pieces_api::types::Conversations;
use serde_json::{Value, json};

use crate::Size;
use crate::report::{Figure, Scenario};

/// Builds a snapshot shaped like PiecesOS output: timestamps with microseconds, messages with
/// indices (including a `-1` deleted entry), annotations, and free-form nested references.
pub fn snapshot(conversations: usize) -> Value {
    let items: Vec<Value> = (0..conversations)
        .map(|i| {
            let id = format!("{i:08x}-9d1a-4e0c-8f2b-3a5d7e9c1b24");
            let messages: Vec<Value> =
                (0..6).map(|m| json!({"id": format!("{m:08x}-4d5e-4f60-8172-{i:012x}")})).collect();
            let mut indices = serde_json::Map::new();
            for (m, msg) in messages.iter().enumerate() {
                indices.insert(msg["id"].as_str().unwrap_or_default().to_string(), json!(m));
            }
            indices.insert(format!("deleted-{i}"), json!(-1));
            json!({
                "schema": {"migration": 0, "semantic": "MAJOR_0_MINOR_0_PATCH_1"},
                "id": id,
                "name": format!("Conversation {i} about the release plan"),
                "created": {"value": "2023-10-26T15:30:01.617743Z", "readable": "Last week - June 3rd, 3:33 a.m."},
                "updated": {"value": "2023-10-27T09:12:44.000981Z", "readable": "Yesterday"},
                "favorited": i % 7 == 0,
                "application": {
                    "id": "a1b2c3d4-0000-4000-8000-000000000001", "name": "VS_CODE", "version": "2.3.1",
                    "platform": "LINUX", "onboarded": true, "privacy": "OPEN",
                    "schema": {"migration": 0, "semantic": "MAJOR_0_MINOR_0_PATCH_1"}
                },
                "messages": {"iterable": messages, "indices": indices},
                "annotations": {"iterable": [{"id": format!("ann-{i}"), "reference": {"type": "SUMMARY", "text": "A summary of the conversation."}}]},
                "model": {"id": "gpt-4o", "schema": {"migration": 0, "semantic": "MAJOR_0_MINOR_0_PATCH_1"}},
                "type": "COPILOT",
                "grounding": {"messages": {"iterable": []}},
                "score": {"manual": 0, "automatic": i % 5}
            })
        })
        .collect();
    json!({"iterable": items, "schema": {"migration": 0, "semantic": "MAJOR_0_MINOR_0_PATCH_1"}})
}

/// Runs the scenario.
pub async fn run(size: Size) -> anyhow::Result<Scenario> {
    let bytes = serde_json::to_vec(&snapshot(1_000))?;
    let rounds = size.pick(3, 40);
    // Warm up both paths and check that the typed decode really succeeds.
    let typed: Conversations = serde_json::from_slice(&bytes).context("typed decode of the snapshot")?;
    anyhow::ensure!(
        typed.iterable.len() == 1_000,
        "decoded {} conversations",
        typed.iterable.len()
    );
    // The free-form parts were really decoded (kept as text), not skipped.
    let application = typed.iterable[0].application.as_ref().map(|a| a.to_value());
    anyhow::ensure!(
        matches!(application, Some(Ok(ref v)) if v["name"] == "VS_CODE"),
        "the first conversation's application did not decode: {application:?}"
    );
    let _: Value = serde_json::from_slice(&bytes)?;

    let (mut typed_best, mut value_best) = (f64::MAX, f64::MAX);
    for _ in 0..rounds {
        // Interleave so that machine noise hits both sides alike; keep each side's best time.
        let t = Instant::now();
        let decoded: Conversations = serde_json::from_slice(&bytes)?;
        typed_best = typed_best.min(t.elapsed().as_secs_f64());
        std::hint::black_box(decoded);
        let t = Instant::now();
        let decoded: Value = serde_json::from_slice(&bytes)?;
        value_best = value_best.min(t.elapsed().as_secs_f64());
        std::hint::black_box(decoded);
    }
    let mib = bytes.len() as f64 / (1024.0 * 1024.0);
    Ok(Scenario {
        name: "decode".into(),
        description: format!(
            "{mib:.1} MiB, 1,000 conversations: typed pieces_api::types::Conversations vs serde_json::Value (best of {rounds})"
        ),
        figures: vec![
            Figure::higher_is_better("snapshots/s", 1.0 / typed_best, 1.0 / value_best, Some(1.5)),
            Figure::higher_is_better("MiB/s", mib / typed_best, mib / value_best, None),
        ],
        extra: Vec::new(),
    })
}
