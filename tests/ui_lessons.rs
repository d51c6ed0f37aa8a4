//! The designer's lessons: the Lessons menu lists the shipped lessons with their saved
//! progress, a lesson is walked end to end through its panel (predict, do the step, the
//! answer and expectations revealed), progress is saved, a malformed lesson is refused
//! with its `FILE:LINE:COL`, and opening a lesson over unsaved work asks first.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test crate: a failure here is the test failing
#![cfg(feature = "gui")]

use std::path::{Path, PathBuf};

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use tributary::lesson::Outcome;
use tributary::ui::DesignerApp;
use tributary::ui::actions::Action;

mod common;
use common::ui::{designer as harness, perform};
use common::{ui, wait_for};

/// Clicks "Do this step" and waits for the step, which plays on its own thread.
fn do_step(h: &mut Harness<'static, DesignerApp>) {
    h.get_by_label("Do this step").click();
    h.step();
    wait_for("the step to play", || {
        h.step();
        !h.state().lesson.as_ref().unwrap().is_playing()
    });
    h.run();
}

fn lessons_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("lessons")
}

fn click(h: &mut Harness<'static, DesignerApp>, label: &str) {
    h.get_by_label(label).click();
    h.run();
}

#[test]
fn the_lessons_menu_lists_the_shipped_lessons() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(dir.path());
    click(&mut h, "Lessons");
    let shipped = std::fs::read_dir(lessons_dir())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "ron")
        })
        .count();
    assert!(shipped >= 10);
    for title in [
        "The tuple tree and the XOR acker",
        "Stream groupings: shuffle, fields, all, global, partial key",
        "A Flume agent: source, channel, sink and their transactions",
    ] {
        h.get_by_label_contains(title);
    }
    assert_eq!(h.query_all_by_label_contains(" steps").count(), shipped);
    h.get_by_label_contains("The tuple tree and the XOR acker")
        .click();
    h.run();
    let lesson = h.state().lesson.as_ref().expect("the lesson opened");
    assert_eq!(lesson.played(), 0);
    h.get_by_label("Do this step");
}

#[test]
fn the_tuple_tree_lesson_plays_end_to_end_and_its_progress_is_saved() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(dir.path());
    perform(
        &mut h,
        Action::OpenLesson(lessons_dir().join("06-tuple-tree.ron")),
    );
    assert!(h.state().open_error.is_none(), "{:?}", h.state().open_error);
    assert!(
        h.state().doc.topology.node_by_name("count").is_some(),
        "its design is shown"
    );
    assert!(!h.state().doc.is_dirty());
    assert!(
        h.query_by_label("Inspector").is_none(),
        "the panel takes its place"
    );
    // Step 1: an expectation, shown with what the run gave.
    h.get_by_label_contains("Step 1 of 5");
    assert!(
        h.state().selection.nodes.contains("sentences"),
        "highlighted"
    );
    do_step(&mut h);
    h.get_by_label_contains("✔ Emitted(sentences) = 1");
    assert!(h.query_by_label_contains("✖").is_none());
    click(&mut h, "Next step");

    // Step 2: a question; Do this step waits for a prediction.
    h.get_by_label_contains("Step 2 of 5");
    h.get_by_label_contains("Predict first");
    assert!(
        h.state().canvas.lens.shows("count"),
        "the tasks asked about are shown"
    );
    let tasks: Vec<String> = h
        .query_all_by_label_contains("task ")
        .filter_map(|n| n.accesskit_node().label())
        .collect();
    assert_eq!(tasks.len(), 3, "count's three tasks: {tasks:?}");
    let first = tasks[0].clone();
    click(&mut h, &first);
    do_step(&mut h);
    h.get_by_label_contains("Answer: task");
    h.get_by_label_contains("mod 3 = ");
    let session = h.state().lesson.as_ref().unwrap();
    let Some(Outcome::Task { task, .. }) = &session.reports[1].answer else {
        panic!("a task answer: {:?}", session.reports[1]);
    };
    h.get_by_label_contains(&format!("Answer: task {task}. "));
    let right = first == format!("task {task}");
    let verdict = if right {
        "✔ Your prediction was right"
    } else {
        "✖ Your prediction was wrong"
    };
    h.get_by_label(verdict);
    click(&mut h, "Next step");

    // Step 3: the first tree completes.
    do_step(&mut h);
    h.get_by_label_contains("✔ TreesAcked = 1");
    click(&mut h, "Next step");

    // Step 4: yes or no; no tree failed.
    click(&mut h, "No");
    do_step(&mut h);
    h.get_by_label_contains("Answer: no");
    h.get_by_label("✔ Your prediction was right");

    // Previous shows a played step again, with what it revealed.
    click(&mut h, "Previous step");
    h.get_by_label_contains("Step 3 of 5");
    h.get_by_label_contains("✔ TreesAcked = 1");
    click(&mut h, "Next step");
    click(&mut h, "Next step");

    // Step 5: the rest.
    do_step(&mut h);
    h.get_by_label_contains("✔ Collected(sink) = 36");
    h.get_by_label("Lesson done.");
    let overlay = h.state().lesson.as_ref().unwrap().overlay.clone();
    let overlay = overlay.expect("the lesson's run drives the canvas overlay");
    assert_eq!(overlay.nodes["sentences"].acked, 12, "{overlay:?}");
    assert_eq!(overlay.state, "lesson · after step 5 of 5");
    assert!(h.state().lesson.as_ref().unwrap().is_done());

    let saved = std::fs::read_to_string(dir.path().join("config/lessons.json")).unwrap();
    assert!(saved.contains("\"06-tuple-tree.ron\": 5"), "{saved}");
    // A new session shows it in the menu; editing stays locked until the lesson closes.
    let mut again = harness(dir.path());
    click(&mut again, "Lessons");
    again.get_by_label_contains("The tuple tree and the XOR acker  ·  done");

    perform(&mut h, Action::Delete);
    assert!(
        h.state().doc.topology.node_by_name("count").is_some(),
        "read-only"
    );
    perform(&mut h, Action::Run);
    assert!(
        h.state().run.is_none(),
        "the lesson's own run drives the canvas"
    );
    click(&mut h, "Close lesson");
    assert!(h.state().lesson.is_none());
    h.get_by_label("Inspector");
}

#[test]
fn a_malformed_lesson_is_refused_with_its_position() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.ron");
    std::fs::write(&bad, "(\n    version: 1,\n    title: 12,\n)\n").unwrap();
    let mut h = harness(dir.path());
    perform(&mut h, Action::OpenLesson(bad.clone()));
    let error = h.state().open_error.clone().expect("refused");
    assert!(error.contains(&format!("{}:3:", bad.display())), "{error}");
    assert!(h.state().lesson.is_none());
    h.get_by_label_contains("bad.ron:3:");

    // A lesson naming a node its topology lacks: refused at the step, nothing opened.
    // Its design beside it: a lesson reads its topology from its own folder.
    let designs = dir.path().join("designs");
    std::fs::create_dir_all(&designs).unwrap();
    std::fs::copy(
        lessons_dir().join("designs/small_word_count.ron"),
        designs.join("small_word_count.ron"),
    )
    .unwrap();
    let text = std::fs::read_to_string(lessons_dir().join("06-tuple-tree.ron"))
        .unwrap()
        .replace("Node(\"sentences\")", "Node(\"nowhere\")");
    let wrong = dir.path().join("wrong.ron");
    std::fs::write(&wrong, text).unwrap();
    click(&mut h, "OK");
    perform(&mut h, Action::OpenLesson(wrong.clone()));
    let error = h.state().open_error.clone().expect("refused");
    assert!(error.contains("wrong.ron:"), "{error}");
    assert!(error.contains("nowhere"), "{error}");
    assert!(h.state().lesson.is_none());
}

#[test]
fn opening_a_lesson_over_unsaved_work_asks_first() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = ui::with_example(dir.path(), "word_count.ron");
    h.run();
    h.state_mut().doc.force_dirty();
    let before = h.state().doc.topology.clone();
    perform(
        &mut h,
        Action::OpenLesson(lessons_dir().join("06-tuple-tree.ron")),
    );
    assert!(h.state().lesson.is_none(), "not before the answer");
    h.get_by_label("Save changes?");
    click(&mut h, "Cancel");
    assert!(h.state().lesson.is_none());
    assert_eq!(h.state().doc.topology, before, "the work stays");
    assert!(h.state().doc.is_dirty());

    perform(
        &mut h,
        Action::OpenLesson(lessons_dir().join("06-tuple-tree.ron")),
    );
    click(&mut h, "Don't save");
    assert!(h.state().lesson.is_some());
}

#[test]
fn a_number_prediction_is_typed_and_checked_against_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(dir.path());
    perform(
        &mut h,
        Action::OpenLesson(lessons_dir().join("05-groupings.ron")),
    );
    do_step(&mut h);
    click(&mut h, "Next step");
    h.get_by_label_contains("How many tuples did");
    assert!(
        h.get_by_label("Do this step")
            .accesskit_node()
            .is_disabled(),
        "no prediction yet"
    );
    h.get_by_role(Role::TextInput).focus();
    h.step();
    h.get_by_role(Role::TextInput).type_text("89");
    h.step();
    h.step();
    do_step(&mut h);
    // `all` copies each of the 30 words to the 3 tasks of `every`.
    h.get_by_label("Answer: 90");
    h.get_by_label("✖ Your prediction was wrong");
}
