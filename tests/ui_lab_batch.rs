//! The micro-batch view of Lab mode, drawn from a real lab run's trace: the batch's
//! bounds and count, each node's output with its records, and the closed windows.
#![cfg(feature = "gui")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test crate: a failure here is the test failing

mod common;

use egui::Vec2;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use tributary::runtime::lab::BatchTrace;
use tributary::runtime::{Control, LabEngine, LabOptions, RunOptions};
use tributary::ui::lab_batch_view::batch_view_ui;

/// The batches of the micro-batch example at 4 sentences a second.
fn batches(steps: u64) -> Vec<BatchTrace> {
    let t =
        tributary::format::load_ron(&common::examples_dir().join("spark_windowed_top_words.ron"))
            .unwrap();
    let mut lab = LabEngine::start(&t, RunOptions::default(), LabOptions::default()).unwrap();
    lab.act(Control::SetRate {
        node: "sentences".into(),
        per_sec: Some(4.0),
    });
    lab.step_n(steps);
    lab.trace().iter().filter_map(|e| e.batch.clone()).collect()
}

fn view(batch: BatchTrace) -> Harness<'static, (BatchTrace, Option<String>)> {
    let mut h = Harness::builder()
        .with_size(Vec2::new(700.0, 700.0))
        .build_ui_state(
            |ui, state: &mut (BatchTrace, Option<String>)| {
                if let Some(node) = batch_view_ui(ui, &state.0) {
                    state.1 = Some(node);
                }
            },
            (batch, None),
        );
    h.run();
    h
}

#[test]
fn a_batch_shows_its_bounds_each_nodes_records_and_closed_windows() {
    let all = batches(4);
    let second = all[1].clone();
    let mut h = view(second.clone());
    assert!(
        h.query_by_label_contains("Batch (0.5 s, 1.0 s]: 2 records")
            .is_some(),
        "bounds and count"
    );
    let sentences = second.nodes.iter().find(|n| n.node == "sentences").unwrap();
    h.get_by_label("sentences: 2 records").click();
    h.run();
    let first = sentences.values[0].describe();
    assert!(
        h.query_by_label(&first).is_some(),
        "the cut records: {first}"
    );
    assert_eq!(
        h.state().1.as_deref(),
        Some("sentences"),
        "the click selects the node"
    );
    let split = second.nodes.iter().find(|n| n.node == "split").unwrap();
    assert!(
        h.query_by_label(&format!("split: {} records", split.count))
            .is_some()
    );
    assert_eq!(split.count, 16, "two sentences of eight words");
    // The batch at 1.0 s closes the first window.
    let window = &second.windows[0];
    assert!(
        h.query_by_label_contains(&format!(
            "window top_words closed: {} keys",
            window.result.keys
        ))
        .is_some()
    );
    let (key, _) = &window.result.top[0];
    assert!(h.query_by_label(key).is_some(), "the window's top key");
}

#[test]
fn a_batch_that_lost_a_worker_says_what_was_recomputed() {
    let mut t =
        tributary::format::load_ron(&common::examples_dir().join("spark_windowed_top_words.ron"))
            .unwrap();
    t.settings.workers = 2;
    for name in ["sentences", "split", "top_words", "frequent", "totals"] {
        t.node_by_name_mut(name).unwrap().parallelism = 2;
    }
    // The kill lands at a point of the next job drawn from the seed: find a seed where
    // it lost a partition that a later operator needed.
    let hit = (0..20u64)
        .find_map(|seed| {
            let options = RunOptions {
                seed,
                ..RunOptions::default()
            };
            let mut lab = LabEngine::start(&t, options, LabOptions::default()).unwrap();
            lab.act(Control::SetRate {
                node: "sentences".into(),
                per_sec: Some(40.0),
            });
            lab.step_n(2);
            lab.act(Control::KillWorker { worker: 1 });
            lab.step_n(2);
            lab.trace()
                .iter()
                .filter_map(|e| e.batch.clone())
                .find(|b| !b.recomputed.is_empty())
        })
        .expect("some seed's kill needed a recomputation");
    assert_eq!(hit.killed_workers, vec![1]);
    let r = hit.recomputed[0].clone();
    let h = view(hit);
    assert!(
        h.query_by_label("worker 1 lost during this batch's job")
            .is_some()
    );
    assert!(
        h.query_by_label(&format!(
            "recomputed from lineage: {} task {} (worker 1), {} input records",
            r.node, r.task, r.records
        ))
        .is_some(),
        "{r:?}"
    );
}
