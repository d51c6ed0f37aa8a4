//! `tributary bench --lab`: what Lab mode costs the designer's frame. It steps two
//! designs for a fixed number of events — the word-count example's shape and a 50-node
//! chain (the frame-budget case the lab must meet) — and reports microseconds per step
//! and what playing at 1000 events per second costs a 60 Hz frame (about 17 steps).

use std::time::Instant;

use serde::Serialize;
use tributary::model::{Grouping, Node, Role, StreamDecl, Topology};
use tributary::runtime::{LabEngine, LabOptions, RunOptions};

/// Steps one frame takes when playing at 1000 events/s and 60 frames/s.
const STEPS_PER_FRAME: f64 = 1000.0 / 60.0;

#[derive(Debug, Serialize)]
pub struct LabFigure {
    pub design: String,
    pub steps: u64,
    pub us_per_step: f64,
    /// Milliseconds of one 60 Hz frame spent stepping at 1000 events/s.
    pub frame_ms_at_1000_per_s: f64,
}

/// sentences → split → count → sink, acked, parallelism 1/2/2.
fn word_count() -> Topology {
    let mut t = Topology::new("lab-word-count");
    t.settings.ackers = 1;
    t.settings.max_spout_pending = Some(64);
    let nodes = [
        Node::new("sentences", Role::Spout, "sentence_generator")
            .with_output(StreamDecl::default_stream(&["sentence"])),
        Node::new("split", Role::Bolt, "split")
            .with_parallelism(2)
            .with_output(StreamDecl::default_stream(&["word"])),
        Node::new("count", Role::Bolt, "count_by_key")
            .with_parallelism(2)
            .with_config("key", "word")
            .with_output(StreamDecl::default_stream(&["word", "count"])),
        Node::new("sink", Role::Bolt, "null"),
    ];
    for n in nodes {
        // Names are distinct and components known: adding cannot fail.
        let _ = t.add_node(n);
    }
    let _ = t.connect_names("sentences", "split", "default", Grouping::Shuffle);
    let _ = t.connect_names(
        "split",
        "count",
        "default",
        Grouping::Fields(vec!["word".into()]),
    );
    let _ = t.connect_names("count", "sink", "default", Grouping::Shuffle);
    t
}

/// A spout and 49 map bolts in a chain, acked.
fn chain_of_50() -> Topology {
    let mut t = Topology::new("lab-chain-50");
    t.settings.ackers = 1;
    t.settings.max_spout_pending = Some(64);
    let _ = t.add_node(
        Node::new("n0", Role::Spout, "sequence").with_output(StreamDecl::default_stream(&["n"])),
    );
    for i in 1..50 {
        let _ = t.add_node(
            Node::new(format!("n{i}"), Role::Bolt, "map")
                .with_output(StreamDecl::default_stream(&["n"])),
        );
        let _ = t.connect_names(
            &format!("n{}", i - 1),
            &format!("n{i}"),
            "default",
            Grouping::Shuffle,
        );
    }
    t
}

fn measure(t: &Topology, steps: u64) -> anyhow::Result<LabFigure> {
    let mut lab = LabEngine::start(t, RunOptions::default(), LabOptions::default())
        .map_err(|e| anyhow::anyhow!("{}: {e}", t.name))?;
    let began = Instant::now();
    let taken = lab.step_n(steps);
    let us = began.elapsed().as_secs_f64() * 1e6 / taken.max(1) as f64;
    Ok(LabFigure {
        design: t.name.clone(),
        steps: taken,
        us_per_step: us,
        frame_ms_at_1000_per_s: us * STEPS_PER_FRAME / 1000.0,
    })
}

/// Both designs, `steps` events each.
pub fn figures(steps: u64) -> anyhow::Result<Vec<LabFigure>> {
    Ok(vec![
        measure(&word_count(), steps)?,
        measure(&chain_of_50(), steps)?,
    ])
}
