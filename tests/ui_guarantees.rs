//! The guarantees panel in the designer: opened from the toolbar, run with a fault,
//! it shows a row per guarantee in which exactly-once loses and repeats nothing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test crate: a failure here is the test failing

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use egui_kittest::kittest::{NodeT, Queryable};
use tributary::ui::actions::Action;
use tributary::ui::guarantees_panel::GuaranteesState;

fn open_design(dir: &Path) -> egui_kittest::Harness<'static, tributary::ui::DesignerApp> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/guarantees/word_count.ron");
    let file = dir.join("word_count.ron");
    std::fs::copy(&src, &file).unwrap();
    let mut h = common::ui::designer(dir);
    common::ui::perform(&mut h, Action::Open(Some(file)));
    h
}

#[test]
fn the_toolbar_opens_the_panel_and_the_table_shows_what_each_guarantee_kept() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = open_design(dir.path());
    h.get_by_label("Guarantees").click();
    h.run();
    assert!(h.query_by_label("Guarantees side by side").is_some());
    // The set-up chose the count to fail tuples at.
    assert!(h.query_by_label("count").is_some());
    h.get_by_label("Run all three").click();
    h.step();
    let started = Instant::now();
    loop {
        h.step();
        let done = matches!(
            h.state().guarantees.as_ref().map(|g| &g.state),
            Some(GuaranteesState::Done(_) | GuaranteesState::Failed(_))
        );
        if done {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the runs never ended"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    h.run();
    let table = match &h.state().guarantees.as_ref().unwrap().state {
        GuaranteesState::Done(t) => t.clone(),
        GuaranteesState::Failed(why) => panic!("{why}"),
        _ => unreachable!(),
    };
    let exact = table
        .rows
        .iter()
        .find(|r| r.guarantee == "exactly-once")
        .unwrap();
    assert_eq!((exact.duplicates, exact.lost), (0, 0), "{exact:?}");
    assert_eq!(exact.counted, table.reference_counted);
    for g in ["at-most-once", "at-least-once", "exactly-once"] {
        assert!(h.query_by_label(g).is_some(), "no row for {g}");
    }
    assert!(
        h.query_by_label_contains("Reference without faults: 120 records in")
            .is_some()
    );
    h.get_by_label("Close").click();
    h.run();
    assert!(h.state().guarantees.is_none());
}

#[test]
fn a_design_with_an_endless_spout_cannot_compare_guarantees_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = common::ui::with_example(dir.path(), "word_count.ron");
    h.run();
    let button = h.get_by_label("Guarantees");
    assert!(button.accesskit_node().is_disabled());
}

#[test]
fn an_exactly_once_run_shows_the_counts_committed_state_with_txids() {
    use tributary::design::selection::Selection;
    let dir = tempfile::tempdir().unwrap();
    let mut h = open_design(dir.path());
    // Slow enough that the run is still on when the inspector is read.
    h.state_mut()
        .doc
        .topology
        .node_by_name_mut("sentences")
        .unwrap()
        .config
        .insert("rate_per_sec".into(), tributary::model::Value::Float(40.0));
    h.step();
    h.get_by_label("▶ Run").click();
    h.step();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        std::thread::sleep(Duration::from_millis(20));
        h.step();
        let committed = h
            .state()
            .run
            .as_ref()
            .and_then(|r| r.snapshot().transactions.as_ref())
            .is_some_and(|t| t.committed_txid >= 2);
        if committed {
            break;
        }
        assert!(Instant::now() < deadline, "no batch committed");
    }
    assert!(h.query_by_label_contains("Exactly-once: batch").is_some());
    let ctx = h.ctx.clone();
    h.state_mut()
        .perform(&ctx, Action::Select(Selection::node("count")));
    h.step();
    h.step();
    assert!(h.query_by_label("Committed state").is_some());
    assert!(h.query_by_label("txid").is_some());
}
