//! Lab mode in the designer: the Lab button steps the design one event at a time; Step,
//! Back and the keys move it; the tree panel traces a tree until its ledger is 0; the
//! inspector's Kill worker acts on the lab; a design the lab cannot step has the
//! button off, saying why.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test crate: a failure here is the test failing
#![cfg(feature = "gui")]

use egui::Key;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use tributary::runtime::lab::{Kind, TupleState};
use tributary::runtime::{Control, FaultSpec};
use tributary::ui::DesignerApp;
use tributary::ui::lab::{LabAction, LabSession};

mod common;
use common::ui;

fn lab<'a>(h: &'a Harness<'_, DesignerApp>) -> &'a LabSession {
    h.state()
        .run
        .as_ref()
        .and_then(|r| r.lab())
        .expect("lab mode is on")
}

fn steps(h: &Harness<'_, DesignerApp>) -> u64 {
    lab(h).engine.steps()
}

/// word_count in Lab mode, at step 0.
fn word_count_lab(dir: &std::path::Path) -> Harness<'static, DesignerApp> {
    let mut h = ui::with_example(dir, "word_count.ron");
    assert!(h.state().run.is_none());
    h.get_by_label("Lab").click();
    h.run();
    assert!(
        h.state().run.as_ref().is_some_and(|r| r.lab().is_some()),
        "{:?}",
        h.state().notice
    );
    h
}

#[test]
fn lab_button_starts_lab_mode_and_step_shows_the_event() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = word_count_lab(dir.path());
    assert_eq!(steps(&h), 0);
    assert!(h.query_by_label_contains("step 0 ·").is_some());
    h.get_by_label("Step").click();
    h.run();
    assert_eq!(steps(&h), 1);
    assert!(h.query_by_label_contains("step 1 ·").is_some());
    // The first event is a spout emitting a sentence to a split task.
    let line = h
        .query_by_label_contains("#1 sentences[")
        .expect("the event list shows step 1");
    let text = line.accesskit_node().label().unwrap_or_default();
    assert!(text.contains("sentence="), "{text}");

    h.get_by_label("Step 10").click();
    h.run();
    assert_eq!(steps(&h), 11);
    assert!(h.query_by_label_contains("#11 ").is_some());
    // A delivery reads receiver ← sender, values, outcome.
    let deliver = lab(&h)
        .engine
        .trace()
        .iter()
        .find(|e| e.kind == Kind::Deliver)
        .cloned()
        .expect("a delivery in the first 11 steps");
    let from = deliver.from.as_ref().unwrap();
    let line = format!(
        "#{} {}[{}] \u{2190} {}[{}]  {}  ok",
        deliver.step,
        deliver.node,
        deliver.task,
        from.node,
        from.task,
        deliver.values.as_ref().unwrap().describe()
    );
    assert!(h.query_by_label(&line).is_some(), "no line {line:?}");

    // Stop lab leaves lab mode; editing is unlocked again.
    h.get_by_label("⏹ Stop lab").click();
    h.run();
    assert!(h.state().run.is_none());
    assert!(h.query_by_label("Lab").is_some());
}

#[test]
fn back_returns_to_the_previous_step_and_is_off_at_step_zero() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = word_count_lab(dir.path());
    assert!(
        h.get_by_label("Back").accesskit_node().is_disabled(),
        "nothing to go back to at step 0"
    );
    for _ in 0..3 {
        h.get_by_label("Step").click();
        h.run();
    }
    assert_eq!(steps(&h), 3);
    let third = lab(&h).engine.trace().last().cloned().unwrap();
    h.get_by_label("Back").click();
    h.run();
    assert_eq!(steps(&h), 2);
    assert!(
        h.query_by_label_contains("#3 ").is_none(),
        "step 3 is undone"
    );
    // Forward again replays the same event.
    h.get_by_label("Step").click();
    h.run();
    assert_eq!(lab(&h).engine.trace().last(), Some(&third));
    for _ in 0..3 {
        h.get_by_label("Back").click();
        h.run();
    }
    assert_eq!(steps(&h), 0);
    assert!(h.get_by_label("Back").accesskit_node().is_disabled());
}

#[test]
fn space_steps_shift_space_steps_ten_backspace_steps_back() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = word_count_lab(dir.path());
    h.key_press(Key::Space);
    h.run();
    assert_eq!(steps(&h), 1);
    h.key_press_modifiers(egui::Modifiers::SHIFT, Key::Space);
    h.run();
    assert_eq!(steps(&h), 11);
    h.key_press(Key::Backspace);
    h.run();
    assert_eq!(steps(&h), 10);
    // Backspace stepped back; it deleted nothing.
    assert_eq!(h.state().doc.topology.node_count(), 4);
}

#[test]
fn trace_the_next_tree_shows_it_until_its_ledger_is_zero() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = word_count_lab(dir.path());
    h.get_by_label("Trace the next tree").click();
    h.run();
    let root = lab(&h).selected.expect("a tree is selected");
    assert!(h.query_by_label_contains("pending: times out in").is_some());
    assert!(
        h.query_by_label_contains(&format!("root {root:016x}"))
            .is_some()
    );

    // Run until this tree is done, from the Run until menu.
    h.get_by_label("Run until").click();
    h.run();
    h.get_by_label("This tree done").click();
    h.run();
    let tree = h
        .state_mut()
        .run
        .as_mut()
        .and_then(|r| r.lab_mut())
        .and_then(|l| l.selected_tree().cloned())
        .expect("the selected tree");
    let verdict = tree.verdict.expect("the tree is done");
    assert!(verdict.ok, "{verdict:?}");
    assert_eq!(tree.ledger_now().0, 0, "an acked tree's ledger is 0");
    assert!(tree.tuples.len() > 1);
    assert!(tree.tuples.iter().all(|t| t.state == TupleState::Acked));
    // Every step before the last ack, the ledger was not 0.
    let (last, before) = tree.ledger.split_last().unwrap();
    assert_eq!(last.ledger.0, 0);
    assert!(before.iter().all(|l| l.ledger.0 != 0));
    assert!(
        h.query_by_label_contains(&format!("acked at step {}", verdict.step))
            .is_some()
    );
    assert!(
        h.query_by_label_contains("ledger is 0, every tuple acked")
            .is_some()
    );
    assert_eq!(
        h.query_all_by_label(" acked ").count(),
        tree.tuples.len(),
        "a state chip per tuple"
    );

    // Once it is done, "this tree done" takes no step (it would never come again).
    let at = steps(&h);
    h.get_by_label("Run until").click();
    h.run();
    h.get_by_label("This tree done").click();
    h.run();
    assert_eq!(steps(&h), at);
    assert!(
        h.state()
            .notice
            .as_ref()
            .is_some_and(|n| n.text.contains("done already"))
    );
}

#[test]
fn kill_worker_in_lab_mode_is_a_kill_event() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = ui::with_example(dir.path(), "word_count.ron");
    h.state_mut().doc.topology.settings.workers = 2;
    h.run();
    h.get_by_label("Lab").click();
    h.run();
    for _ in 0..5 {
        h.get_by_label("Step").click();
        h.run();
    }
    h.get_by_label("Kill worker").click();
    h.run();
    let last = lab(&h).engine.trace().last().cloned().unwrap();
    assert_eq!(last.kind, Kind::Kill, "{last:?}");
    assert_eq!(last.step, 6, "the kill is a step of its own");
    assert!(h.query_by_label_contains("#6 worker 0 killed").is_some());
}

#[test]
fn lab_is_off_for_a_flume_design_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = ui::with_example(dir.path(), "mixed_pipeline.ron");
    let why = tributary::runtime::lab::refusal(&h.state().doc.topology)
        .expect("the lab cannot step Flume nodes");
    let button = h.get_by_label("Lab");
    assert!(button.accesskit_node().is_disabled());
    button.hover();
    h.run_steps(4);
    assert!(
        h.query_by_label_contains(&why).is_some(),
        "the disabled button says why: {why}"
    );
    assert!(h.state().run.is_none());
}

#[test]
fn play_takes_steps_every_frame_until_paused() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = word_count_lab(dir.path());
    let ctx = h.ctx.clone();
    h.state_mut().perform(
        &ctx,
        tributary::ui::actions::Action::Lab(LabAction::Speed(1000.0)),
    );
    h.get_by_label("▶ Play").click();
    // Playing asks for the next frame at once, so frames are stepped one by one.
    for _ in 0..5 {
        h.step();
    }
    let played = steps(&h);
    assert!(
        played > 5,
        "1000 events/s takes several events a frame: {played}"
    );
    h.get_by_label("⏸ Pause").click();
    h.step();
    let paused = steps(&h);
    for _ in 0..5 {
        h.step();
    }
    assert_eq!(steps(&h), paused, "paused, the lab stays where it is");
}

#[test]
fn clicking_an_event_line_selects_its_tree() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = word_count_lab(dir.path());
    h.get_by_label("Step 10").click();
    h.run();
    // The latest event about a tree (the list follows the tail, so it is in view).
    let event = lab(&h)
        .engine
        .trace()
        .iter()
        .rev()
        .find(|e| e.root.is_some())
        .cloned()
        .unwrap();
    let root = event.root.unwrap().0;
    assert_eq!(lab(&h).selected, None);
    h.query_by_label_contains(&format!("#{} ", event.step))
        .unwrap()
        .click();
    h.run();
    assert_eq!(lab(&h).selected, Some(root));
    assert!(h.query_by_label(&format!("root {root:016x}")).is_some());
}

#[test]
fn a_failed_tree_links_to_its_replay() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = word_count_lab(dir.path());
    // Every word fails at the counter: each tree fails and the spout replays it.
    h.state_mut()
        .run
        .as_mut()
        .and_then(|r| r.lab_mut())
        .unwrap()
        .engine
        .act(Control::SetFaults {
            node: "count".into(),
            faults: FaultSpec {
                fail_probability: 1.0,
                ..FaultSpec::default()
            },
        });
    h.get_by_label("Trace the next tree").click();
    h.run();
    let root = lab(&h).selected.unwrap();
    h.get_by_label("Run until").click();
    h.run();
    h.get_by_label("This tree done").click();
    h.run();
    assert!(
        h.query_by_label_contains("failed at step").is_some(),
        "{:?}",
        h.state().notice
    );
    // The spout emits the same message again as a new tree.
    let mut replay = None;
    for _ in 0..50 {
        h.get_by_label("Step 10").click();
        h.run();
        replay = h
            .query_by_label_contains("replayed as ")
            .map(|n| n.accesskit_node().label().unwrap_or_default().to_string());
        if replay.is_some() {
            break;
        }
    }
    let link = replay.expect("the failed tree links to its replay");
    h.get_by_label(&link).click();
    h.run();
    let new = lab(&h).selected.unwrap();
    assert_ne!(new, root);
    assert!(link.ends_with(&format!("{new:016x}")), "{link}");
    assert!(
        h.query_by_label(&format!("replay of {root:016x}"))
            .is_some(),
        "the replay links back"
    );
}

#[test]
fn the_inspectors_fault_slider_acts_on_the_lab_as_a_step() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = word_count_lab(dir.path());
    let ctx = h.ctx.clone();
    h.state_mut().perform(
        &ctx,
        tributary::ui::actions::Action::Select(tributary::design::selection::Selection::node(
            "split",
        )),
    );
    h.run();
    h.get_by_label("Step").click();
    h.run();
    let slider = h
        .query_all_by_label("Fail %")
        .find(|n| n.accesskit_node().role() == egui::accesskit::Role::Slider)
        .expect("the fail slider");
    slider.focus();
    h.run();
    h.key_press(Key::ArrowRight);
    h.run();
    let last = lab(&h).engine.trace().last().cloned().unwrap();
    assert_eq!(last.kind, Kind::Control, "{last:?}");
    assert_eq!(last.node, "split");
    assert_eq!(last.step, 2, "the change is a step of its own");
}

#[test]
fn queued_tuples_are_dots_on_the_canvas() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = word_count_lab(dir.path());
    h.get_by_label("Step 10").click();
    h.run();
    let lab = lab(&h);
    let queued = lab.engine.queued_tuples().len() + lab.engine.parked_tuples().len();
    assert!(queued > 0, "ten steps in, tuples wait on queues");
    let dots = lab.tuple_dots().expect("drawn this frame");
    assert_eq!(dots.drawn() + dots.hidden, queued);
    let (node, list) = dots
        .queued
        .iter()
        .next()
        .expect("a node with queued tuples");
    let dot = &list[0];
    assert!(
        dot.text.contains(&format!("to {node}[{}]", dot.task)),
        "{}",
        dot.text
    );
    assert!(
        dot.text.contains("=\"") && dot.text.contains(" from "),
        "{}",
        dot.text
    );
}

#[test]
fn lab_is_off_while_a_run_is_on() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = ui::with_example(dir.path(), "word_count.ron");
    h.get_by_label("▶ Run").click();
    h.run();
    assert!(h.state().run.as_ref().is_some_and(|r| r.lab().is_none()));
    assert!(h.get_by_label("Lab").accesskit_node().is_disabled());
    h.get_by_label("⏹ Stop").click();
    h.run();
    assert!(!h.get_by_label("Lab").accesskit_node().is_disabled());
}

#[test]
fn lab_asks_before_reaching_outside_the_folder_then_steps() {
    use tributary::design::document::Document;
    use tributary::model::{Grouping, Node, Role, StreamDecl, Topology};

    let root = tempfile::tempdir().unwrap();
    let design_dir = root.path().join("design");
    std::fs::create_dir_all(&design_dir).unwrap();
    std::fs::create_dir_all(root.path().join("outside")).unwrap();
    let mut t = Topology::new("out");
    t.add_node(
        Node::new("sentences", Role::Spout, "sentence_generator")
            .with_output(StreamDecl::default_stream(&["sentence"])),
    )
    .unwrap();
    t.add_node(Node::new("out", Role::Bolt, "file_sink").with_config("path", "../outside/out.txt"))
        .unwrap();
    t.connect_names("sentences", "out", "default", Grouping::Shuffle)
        .unwrap();
    let mut h = ui::harness(
        DesignerApp::new(ui::places(root.path(), false)),
        egui::Vec2::new(1400.0, 1000.0),
    );
    h.state_mut().doc = Document::new(t, Some(design_dir.join("out.ron")), "out".into());
    h.run();

    h.get_by_label("Lab").click();
    h.run();
    assert!(h.state().run.is_none(), "nothing starts before the answer");
    let asked = h
        .state()
        .run_permission
        .clone()
        .expect("the permission prompt");
    assert!(asked.lab, "the prompt is for the lab");
    h.get_by_label("Allow once and run").click();
    h.run();
    assert!(
        h.state().run.as_ref().is_some_and(|r| r.lab().is_some()),
        "{:?}",
        h.state().notice
    );
    h.get_by_label("Step 10").click();
    h.run();
    assert_eq!(steps(&h), 10);
}

#[test]
fn a_micro_batch_design_steps_one_batch_at_a_time_in_the_batch_panel() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = ui::with_example(dir.path(), "spark_windowed_top_words.ron");
    h.get_by_label("Lab").click();
    h.run();
    assert!(h.state().run.as_ref().is_some_and(|r| r.lab().is_some()));
    assert!(h.query_by_label_contains("No batch yet").is_some());
    h.get_by_label("Step").click();
    h.run();
    assert_eq!(steps(&h), 1);
    // The 500 ms batch, its records counted, in the event list and the batch panel.
    let batch = lab(&h).engine.trace()[0].batch.clone().unwrap();
    assert_eq!((batch.from_ms, batch.time_ms), (0, 500));
    let line = format!("#1 batch (0.0 s, 0.5 s]: {} records", batch.records);
    assert!(h.query_by_label(&line).is_some(), "{line}");
    assert!(
        h.query_by_label_contains("Batch (0.0 s, 0.5 s]").is_some(),
        "the batch panel shows the latest batch"
    );
    let split = batch.nodes.iter().find(|n| n.node == "split").unwrap();
    h.get_by_label(&format!("split: {} records", split.count))
        .click();
    h.run();
    assert_eq!(
        h.state().selection.single_node(),
        Some("split"),
        "clicking a node's output selects the node"
    );
}
