//! Micro-batch runs in the designer: the batch strip shows the batch clock, the interval
//! and the latest window's results, in body text, without moving the canvas; edges say
//! what their grouping means in micro-batch mode; Compare modes runs a design both ways
//! at once and shows each run's throughput and latency, and Stop leaves no runtime
//! thread behind.
//! In its own test binary so thread counting sees no other test binary's engines; the
//! tests here take turns.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test crate: a failure here is the test failing
#![cfg(feature = "gui")]

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use egui::Vec2;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use tributary::design::document::Document;
use tributary::model::{ExecutionMode, Topology, WindowSize, WindowSpec};
use tributary::ui::DesignerApp;
use tributary::ui::actions::Action;

mod common;
use common::runtime_threads;

/// One engine at a time, so a test's thread count is its own.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn example(name: &str) -> Topology {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("topologies")
        .join(name);
    tributary::format::load_ron(&path).unwrap()
}

fn designer(dir: &tempfile::TempDir) -> Harness<'static, DesignerApp> {
    let places = common::ui::places(dir.path(), false);
    common::ui::harness(DesignerApp::new(places), Vec2::new(1400.0, 1000.0))
}

/// Steps frames (sleeping between them so the engine moves) until `done` holds.
fn step_until(
    h: &mut Harness<'static, DesignerApp>,
    what: &str,
    done: impl Fn(&Harness<'static, DesignerApp>) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        std::thread::sleep(Duration::from_millis(100));
        h.step();
        if done(h) {
            return;
        }
        assert!(Instant::now() < deadline, "never saw: {what}");
    }
}

/// Number after "Batch #" in the strip, if the strip is shown.
fn batch_number(h: &Harness<'static, DesignerApp>) -> Option<u64> {
    let node = h.query_by_label_contains("Batch #")?;
    // A label's text is its accessibility value.
    node.accesskit_node()
        .value()?
        .trim_start_matches("Batch #")
        .parse()
        .ok()
}

#[test]
fn batch_strip_shows_the_clock_the_interval_and_the_latest_window() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let mut h = designer(&dir);
    // The example, faster: 100 ms batches, a 300 ms window sliding every 200 ms.
    let mut t = example("spark_windowed_top_words.ron");
    t.settings.mode = ExecutionMode::MicroBatch { interval_ms: 100 };
    t.node_by_name_mut("top_words").unwrap().window = Some(WindowSpec {
        length: WindowSize::Millis(300),
        slide: WindowSize::Millis(200),
    });
    h.state_mut().doc = Document::new(t, None, "fast windows".into());
    h.step();
    assert!(batch_number(&h).is_none(), "no strip before a run");

    h.get_by_label("▶ Run").click();
    h.step();
    assert!(h.state().run.is_some(), "{:?}", h.state().notice);

    step_until(&mut h, "a completed batch and a closed window", |h| {
        let windows = h
            .state()
            .run
            .as_ref()
            .and_then(|r| r.snapshot().batch.as_ref())
            .map(|b| b.windows.clone())
            .unwrap_or_default();
        batch_number(h).is_some_and(|n| n > 0)
            && windows.get("top_words").is_some_and(|w| !w.top.is_empty())
    });
    assert!(h.query_by_label("interval 100 ms").is_some());
    assert!(
        h.query_by_label_contains("300ms window, slide 200ms")
            .is_some()
    );
    assert!(h.query_by_label_contains("window ended at").is_some());
    // The window's top key is a row of the table (the strip and the canvas caption
    // are drawn from the same snapshot).
    let snapshot = h.state().run.as_ref().unwrap().snapshot().clone();
    let (key, _) = snapshot.batch.as_ref().unwrap().windows["top_words"].top[0].clone();
    assert!(
        h.query_all_by_label(&key).count() >= 1,
        "row for {key} in the window table"
    );
    // Keeping up or falling behind is always said.
    assert!(
        h.query_by_label("✔ keeping up").is_some()
            || h.query_by_label("⚠ falling behind").is_some()
    );

    // Selected, the window node shows its results in the inspector too.
    h.get_by_label("top_words").click();
    h.step();
    h.step();
    assert!(
        h.query_by_label("Window: 300ms window, slide 200ms")
            .is_some()
    );

    h.get_by_label("⏹ Stop").click();
    h.step();
    h.step();
    assert!(h.state().run.is_none());
    assert!(batch_number(&h).is_none(), "the strip goes with the run");
    assert_eq!(runtime_threads(), 0, "Stop joins every runtime thread");
}

/// Seconds in a strip line such as "clock 25.8 s" or "next batch ends at 26.0 s".
#[test]
fn killing_a_worker_shows_what_was_recomputed_from_lineage_in_the_strip() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let mut h = designer(&dir);
    let mut t = example("spark_windowed_top_words.ron");
    t.settings.mode = ExecutionMode::MicroBatch { interval_ms: 100 };
    t.settings.workers = 2;
    for name in ["sentences", "split", "top_words", "frequent", "totals"] {
        t.node_by_name_mut(name).unwrap().parallelism = 2;
    }
    h.state_mut().doc = Document::new(t, None, "two workers".into());
    h.step();
    h.get_by_label("▶ Run").click();
    h.step();
    step_until(&mut h, "a completed batch", |h| {
        batch_number(h).is_some_and(|n| n > 0)
    });
    assert!(h.query_by_label("Recovery from lineage").is_none());
    assert!(
        h.query_by_label_contains("partitions of ").is_some(),
        "the kill control says what lives on worker 0"
    );
    // Worker 0 (the control's first choice) dies during the next batch's job.
    h.get_by_label("Kill worker").click();
    step_until(&mut h, "the kill's recovery in the strip", |h| {
        h.query_by_label("Recovery from lineage").is_some()
    });
    assert!(h.query_by_label_contains("1 worker kills ·").is_some());
    assert!(
        h.query_by_label_contains("worker 0 lost; recomputed:")
            .is_some()
    );
    h.get_by_label("⏹ Stop").click();
    h.step();
    h.step();
    assert_eq!(runtime_threads(), 0, "Stop joins every runtime thread");
}

#[test]
fn a_flume_channel_feeds_a_micro_batch_run_from_the_designer() {
    use tributary::model::{Grouping, Node, Role, StreamDecl};
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let mut h = designer(&dir);
    let mut t = Topology::new("flume into batches");
    t.settings.mode = ExecutionMode::MicroBatch { interval_ms: 100 };
    t.add_node(
        Node::new("gen", Role::Source, "sequence")
            .with_config("limit", 200i64)
            .with_config("rate_per_sec", 1000)
            .with_output(StreamDecl::default_stream(&["n"])),
    )
    .unwrap();
    t.add_node(Node::new("events", Role::Channel, "memory"))
        .unwrap();
    t.add_node(Node::new("sink", Role::Bolt, "collector"))
        .unwrap();
    t.connect_names("gen", "events", "default", Grouping::Required)
        .unwrap();
    t.connect_names("events", "sink", "default", Grouping::Drain)
        .unwrap();
    h.state_mut().doc = Document::new(t, None, "flume".into());
    h.step();
    h.get_by_label("▶ Run").click();
    h.step();
    assert!(h.state().run.is_some(), "{:?}", h.state().notice);
    step_until(&mut h, "every event through a batch", |h| {
        h.state().run.as_ref().is_some_and(|r| {
            let snap = r.snapshot();
            snap.nodes.get("sink").is_some_and(|n| n.executed == 200)
                && snap.batch.as_ref().is_some_and(|b| b.batches_completed > 0)
        })
    });
    assert!(batch_number(&h).is_some(), "the batch strip is on");
    h.get_by_label("⏹ Stop").click();
    h.step();
    h.step();
    assert_eq!(
        runtime_threads(),
        0,
        "Stop joins every runtime and Flume thread"
    );
}

fn seconds_after(h: &Harness<'static, DesignerApp>, prefix: &str) -> f64 {
    let text = h
        .query_all_by_label_contains(prefix)
        .filter_map(|n| n.accesskit_node().value())
        .find(|v| v.starts_with(prefix))
        .unwrap_or_else(|| panic!("a line starting {prefix:?}"));
    text.trim_start_matches(prefix)
        .trim_end_matches(" s")
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("seconds in {text:?}"))
}

#[test]
fn the_batch_strip_keeps_the_canvas_in_place_and_reads_at_body_size() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let mut h = designer(&dir);
    let ctx = h.ctx.clone();
    let example =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("topologies/spark_windowed_top_words.ron");
    h.state_mut().perform(&ctx, Action::OpenExample(example));
    h.step();
    h.step();
    let before = h.get_by_label("canvas").rect();
    assert!(batch_number(&h).is_none(), "no batch numbers before a run");

    h.get_by_label("▶ Run").click();
    h.step();
    assert!(h.state().run.is_some(), "{:?}", h.state().notice);
    step_until(&mut h, "a completed batch in the strip", |h| {
        batch_number(h).is_some_and(|n| n > 0)
    });
    assert_eq!(
        h.get_by_label("canvas").rect(),
        before,
        "the strip appeared without moving or shrinking the canvas"
    );
    // The next batch is ahead of the clock it is read with (one snapshot, one frame).
    let clock = seconds_after(&h, "clock ");
    let next = seconds_after(&h, "next batch ends at ");
    assert!(
        next >= clock && next <= clock + 0.6,
        "next batch {next} s at clock {clock} s"
    );
    // Body text, not small text.
    let body = ctx.global_style().text_styles[&egui::TextStyle::Body].size;
    for line in ["next batch ends at", "delay ", "interval 500 ms"] {
        let height = h.get_by_label_contains(line).rect().height();
        assert!(
            height >= body,
            "{line}: {height} px against body text {body}"
        );
    }

    h.get_by_label("⏹ Stop").click();
    h.step();
    h.step();
    assert!(h.state().run.is_none());
    assert_eq!(
        h.get_by_label("canvas").rect(),
        before,
        "the canvas keeps its size after Stop"
    );
    assert_eq!(runtime_threads(), 0);
}

#[test]
fn micro_batch_edges_say_what_their_grouping_means_there() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = designer(&dir);
    let ctx = h.ctx.clone();
    let example =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("topologies/spark_windowed_top_words.ron");
    h.state_mut().perform(&ctx, Action::OpenExample(example));
    h.step();
    h.step();
    let keyed = "edge split → top_words: by key (word)";
    h.get_by_label(keyed);
    h.get_by_label("edge sentences → split: round-robin");
    assert!(
        h.query_by_label("edge split → top_words: fields(word)")
            .is_none()
    );

    // The hover names the Storm grouping and says what it becomes.
    h.get_by_label(keyed).hover();
    h.run_steps(4);
    assert!(
        h.query_by_label_contains(
            "Storm's fields(word). In micro-batch mode, a repartition by key"
        )
        .is_some(),
        "the hover explains the Storm name"
    );

    // Selected, the inspector keeps the file's grouping and says what it means here.
    h.get_by_label(keyed).click();
    h.step();
    h.step();
    assert!(
        h.query_by_label("In micro-batch mode: by key (word)")
            .is_some()
    );

    // The same design record at a time keeps Storm's names.
    let mut t = h.state().doc.topology.clone();
    t.settings.mode = ExecutionMode::RecordAtATime;
    h.state_mut().doc = Document::new(t, None, "record at a time".into());
    h.step();
    h.step();
    h.get_by_label("edge split → top_words: fields(word)");
    h.get_by_label("edge sentences → split: shuffle");
}

#[test]
fn compare_modes_shows_both_runs_and_stop_leaves_no_threads() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let mut h = designer(&dir);
    let ctx = h.ctx.clone();
    let example = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("topologies/word_count.ron");
    h.state_mut().perform(&ctx, Action::OpenExample(example));
    h.step();
    assert_eq!(runtime_threads(), 0);

    h.get_by_label("Compare modes").click();
    h.run();
    assert!(h.state().compare_setup.is_some(), "the set-up dialog opens");
    h.get_by_label("Start comparison").click();
    h.step();
    assert!(h.state().compare.is_some(), "{:?}", h.state().notice);
    assert!(h.state().run.is_none());
    assert!(runtime_threads() > 0, "both engines have threads");

    step_until(&mut h, "throughput and latency for both modes", |h| {
        let Some(c) = &h.state().compare else {
            return false;
        };
        [&c.record, &c.batch].iter().all(|side| {
            side.now.records_rate > 0.0 && side.now.sink_rate > 0.0 && side.now.p50_ms > 0.0
        })
    });
    let c = h.state().compare.as_ref().unwrap();
    let rows = [c.record.row(), c.batch.row()];
    assert!(rows[0].mode.starts_with("record-at-a-time"));
    assert_eq!(rows[1].mode, "micro-batch (500 ms)");
    for row in &rows {
        for text in [
            &row.mode,
            &row.records_rate,
            &row.sink_rate,
            &row.p50,
            &row.p99,
        ] {
            assert!(
                h.query_all_by_label(text).count() >= 1,
                "the panel shows {text}"
            );
        }
    }
    // Each column says what it measures, in view, not only on hover: the last nodes'
    // rows are output, not work.
    assert!(
        h.query_by_label_contains("last-node rows/s: Rows executed per second")
            .is_some(),
        "the columns are explained"
    );
    // Editing is locked while the comparison runs.
    h.state_mut().perform(&ctx, Action::SelectAll);
    h.state_mut().perform(&ctx, Action::Delete);
    assert!(h.state().doc.topology.node_count() > 0);

    h.get_by_label("⏹ Stop").click();
    h.step();
    assert_eq!(runtime_threads(), 0, "Stop joins both engines' threads");
    assert!(
        h.state()
            .log
            .iter()
            .any(|l| l.starts_with("comparison stopped"))
    );
    // The results stay after Stop, until cleared.
    let c = h.state().compare.as_ref().expect("results kept after Stop");
    assert!(!c.is_running());
    let kept = [c.record.row(), c.batch.row()];
    h.step();
    for row in &kept {
        for text in [&row.records_rate, &row.p50, &row.p99] {
            assert!(
                h.query_all_by_label(text).count() >= 1,
                "after Stop the panel still shows {text}"
            );
        }
    }
    assert!(
        h.query_by_label("▶ Run").is_some(),
        "editing and running are back"
    );
    h.get_by_label("Clear results").click();
    h.step();
    assert!(h.state().compare.is_none(), "Clear closes the results");
}

#[test]
fn compare_modes_asks_before_reaching_outside_the_folder() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let mut h = designer(&dir);
    // Word count writing its counts next to (not inside) the design's folder.
    let mut t = example("word_count.ron");
    let log = t.node_by_name_mut("log").unwrap();
    log.component = "file_sink".into();
    log.config.clear();
    log.config.insert(
        "path".into(),
        tributary::model::Value::Str("../counts.txt".into()),
    );
    let design = dir.path().join("design").join("word_count.ron");
    h.state_mut().doc = Document::new(t, Some(design), "word_count".into());
    h.step();

    h.get_by_label("Compare modes").click();
    h.run();
    h.get_by_label("Start comparison").click();
    h.run();
    let asked = h.state().run_permission.clone();
    assert!(
        asked.is_some_and(|p| p.compare.is_some() && !p.refusals.is_empty()),
        "asked first"
    );
    assert!(
        h.state().compare.is_none(),
        "nothing started before the answer"
    );
    assert_eq!(runtime_threads(), 0);

    h.get_by_label("Allow once and run").click();
    h.step();
    h.step();
    assert!(h.state().compare.is_some(), "{:?}", h.state().notice);
    h.get_by_label("⏹ Stop").click();
    h.step();
    assert!(h.state().compare.as_ref().is_some_and(|c| !c.is_running()));
    assert_eq!(runtime_threads(), 0);
}

#[test]
fn compare_modes_is_off_for_a_design_one_mode_refuses_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = designer(&dir);
    h.state_mut().doc = Document::new(example("flume_fanout_failover.ron"), None, "f".into());
    h.run();
    let button = h.get_by_label("Compare modes");
    assert!(
        button.accesskit_node().is_disabled(),
        "a Flume design cannot run in micro-batches"
    );
    button.hover();
    h.run_steps(4);
    assert!(
        h.query_by_label_contains("cannot run in 500 ms micro-batches")
            .is_some(),
        "the disabled button says why"
    );

    h.state_mut().doc = Document::new(example("word_count.ron"), None, "w".into());
    h.run();
    assert!(
        !h.get_by_label("Compare modes")
            .accesskit_node()
            .is_disabled()
    );
}
