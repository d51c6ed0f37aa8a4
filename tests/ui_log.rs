//! The run log in the bottom panel: it follows the newest line until the user scrolls
//! up, lays out only the rows in view however long the log grows, keeps events apart
//! from logger output, searches, and shows a fault change once in plain words.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test crate: a failure here is the test failing
#![cfg(feature = "gui")]

use std::time::{Duration, Instant};

use egui::Vec2;
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use tributary::design::selection::Selection;
use tributary::runtime::{LogKind, LogLine};
use tributary::ui::DesignerApp;
use tributary::ui::actions::Action;
use tributary::ui::problems_panel::{BottomTab, bottom_panel_ui};
use tributary::ui::run_log::LogBook;

mod common;
use common::ui;

#[test]
fn the_run_log_shows_its_newest_lines_and_lays_out_only_what_is_in_view() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = ui::with_example(dir.path(), "word_count.ron");
    h.get_by_label("▶ Run").click();
    h.step();
    assert!(h.state().run.is_some(), "{:?}", h.state().notice);

    // The logger sink writes a line per tuple: wait for far more than fit in view.
    let deadline = Instant::now() + Duration::from_secs(60);
    while h.state().log.len() < 500 {
        assert!(Instant::now() < deadline, "the log stayed short");
        std::thread::sleep(Duration::from_millis(50));
        h.step();
    }
    h.get_by_label_contains("Run log (").click();
    h.run_steps(3);
    h.get_by_label("⏹ Stop").click();
    h.run_steps(3);

    let log = h.state().log.clone();
    assert!(log.len() >= 500);
    let newest = log.last().unwrap().clone();
    let shown = log
        .iter()
        .filter(|line| h.query_by_label(line).is_some())
        .count();
    assert!(
        h.query_by_label(&newest).is_some(),
        "the newest line is not in view"
    );
    assert!(
        shown > 0 && shown < 100,
        "{shown} of {} lines laid out",
        log.len()
    );
}

/// The panel alone, drawing `book`.
fn log_panel(book: LogBook) -> Harness<'static, LogBook> {
    let topology = tributary::model::Topology::new("t");
    let mut tab = BottomTab::Log;
    let mut h = Harness::builder()
        .with_size(Vec2::new(900.0, 160.0))
        .build_ui_state(
            move |ui, log: &mut LogBook| {
                bottom_panel_ui(ui, &mut tab, &topology, &[], log);
            },
            book,
        );
    h.run_steps(10);
    h
}

fn numbered(lines: usize) -> LogBook {
    let mut book = LogBook::default();
    for i in 0..lines {
        book.push(format!("line number {i}"));
    }
    book
}

fn run_line(node: &str, kind: LogKind, text: &str) -> LogLine {
    LogLine {
        at: Duration::from_millis(1500),
        node: node.into(),
        task: 3,
        kind,
        text: text.into(),
    }
}

#[test]
fn a_short_log_shows_every_line_and_a_long_one_its_end() {
    let h = log_panel(numbered(1));
    assert!(h.query_by_label("line number 0").is_some());

    let h = log_panel(numbered(3));
    for i in 0..3 {
        assert!(h.query_by_label(&format!("line number {i}")).is_some());
    }

    let h = log_panel(numbered(5000));
    assert!(h.query_by_label("line number 4999").is_some());
    assert!(h.query_by_label("line number 0").is_none());
    let shown = (0..5000)
        .filter(|i| h.query_by_label(&format!("line number {i}")).is_some())
        .count();
    assert!(shown > 3 && shown < 100, "{shown} lines laid out");
}

#[test]
fn a_growing_log_follows_its_newest_line_until_the_user_pages_up() {
    let mut h = log_panel(numbered(0));
    let mut next = 0;
    let mut grow = |h: &mut Harness<'static, LogBook>, n: usize| {
        for _ in 0..n {
            h.state_mut().push(format!("line number {next}"));
            next += 1;
        }
        h.run_steps(2);
        format!("line number {}", next - 1)
    };
    // Lines arrive between frames, many at a time, long past the point where the
    // newest ones would have pushed the view off the end.
    for _ in 0..40 {
        let newest = grow(&mut h, 97);
        assert!(h.query_by_label(&newest).is_some(), "{newest} not in view");
        assert!(h.state().follows());
    }

    // Paging up stops following: new lines arrive without moving the view.
    h.get_by_label("Page up").click();
    h.run_steps(3);
    assert!(!h.state().follows());
    let newest = grow(&mut h, 50);
    assert!(
        h.query_by_label(&newest).is_none(),
        "the view jumped back to the end"
    );

    // "Jump to end" follows again.
    h.get_by_label("Jump to end").click();
    h.run_steps(3);
    assert!(h.state().follows());
    let newest = grow(&mut h, 50);
    assert!(h.query_by_label(&newest).is_some(), "{newest} not in view");
}

#[test]
fn a_full_log_that_is_trimmed_between_frames_still_shows_its_newest_line() {
    let mut h = log_panel(numbered(tributary::ui::run_log::LOG_LINES));
    let mut next = tributary::ui::run_log::LOG_LINES;
    // A busy logger: each frame brings more lines than the slack, so the book is cut
    // back (fewer rows than the frame before) while the panel follows.
    for _ in 0..6 {
        for _ in 0..1_500 {
            h.state_mut().push(format!("line number {next}"));
            next += 1;
        }
        h.step();
        let newest = format!("line number {}", next - 1);
        assert!(h.query_by_label(&newest).is_some(), "{newest} not in view");
    }
}

#[test]
fn the_events_filter_hides_logger_output_but_keeps_restarts_and_kills() {
    let mut book = LogBook::default();
    book.push("run started: word-count");
    for i in 0..3000 {
        book.push_run_line(run_line("log", LogKind::Tuple, &format!("said {i}")));
        if i == 1200 {
            book.push_run_line(run_line("engine", LogKind::Event, "worker 0 killed"));
            book.push_run_line(run_line(
                "count",
                LogKind::Error,
                "task crashed; restarted (1)",
            ));
        }
    }
    let mut h = log_panel(book);
    // All: the tail of the logger output, the kill long scrolled away.
    assert!(h.query_by_label_contains("said 2999").is_some());
    assert!(h.query_by_label_contains("worker 0 killed").is_none());

    h.get_by_label_contains("Events (").click();
    h.run_steps(3);
    assert!(h.query_by_label_contains("worker 0 killed").is_some());
    assert!(
        h.query_by_label_contains("task crashed; restarted")
            .is_some()
    );
    assert!(h.query_by_label("run started: word-count").is_some());
    assert!(
        h.query_by_label_contains("] said ").is_none(),
        "logger output shown"
    );

    h.get_by_label_contains("Output (").click();
    h.run_steps(3);
    assert!(h.query_by_label_contains("said 2999").is_some());
    assert!(h.query_by_label_contains("worker 0 killed").is_none());

    // Search picks one line out of thousands.
    h.get_by_label_contains("All (").click();
    h.get_by_role(Role::TextInput).focus();
    h.run_steps(2);
    h.get_by_role(Role::TextInput).type_text("said 1717");
    h.run_steps(3);
    assert!(h.query_by_label("   1.500s log[3] said 1717").is_some());
    assert!(h.query_by_label_contains("said 2999").is_none());
    assert!(h.query_by_label_contains("worker 0 killed").is_none());
}

#[test]
fn a_fault_slider_drag_logs_plain_words_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = ui::with_example(dir.path(), "word_count.ron");
    let ctx = h.ctx.clone();
    h.get_by_label("▶ Run").click();
    h.step();
    assert!(h.state().run.is_some(), "{:?}", h.state().notice);
    h.state_mut()
        .perform(&ctx, Action::Select(Selection::node("count")));
    h.run_steps(2);

    // Drag the Fail % slider across in many small steps, each one sent to the engine.
    let slider = h.get_by_role_and_label(Role::Slider, "Fail %").rect();
    let from = slider.left_center() + Vec2::new(4.0, 0.0);
    let to = slider.center();
    h.hover_at(from);
    h.step();
    h.drag_at(from);
    h.step();
    for i in 1..=12 {
        h.hover_at(from.lerp(to, i as f32 / 12.0));
        std::thread::sleep(Duration::from_millis(30));
        h.step();
    }
    h.drop_at(to);
    h.step();

    let faults_lines = |h: &Harness<'_, DesignerApp>| -> Vec<String> {
        h.state()
            .log
            .events()
            .filter(|l| l.contains("fault") || l.contains("Fault"))
            .cloned()
            .collect()
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while faults_lines(&h).is_empty() {
        assert!(
            Instant::now() < deadline,
            "no fault line in the log: {:#?}",
            h.state().log.events().collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(50));
        h.step();
    }
    // A few more samples, so any later line of the drag has arrived too.
    for _ in 0..5 {
        std::thread::sleep(Duration::from_millis(110));
        h.step();
    }
    let lines = faults_lines(&h);
    h.get_by_label("⏹ Stop").click();
    h.step();
    assert_eq!(lines.len(), 1, "{lines:#?}");
    let line = &lines[0];
    assert!(line.contains("count[0] faults: fail "), "{line}");
    assert!(line.ends_with(" %"), "{line}");
    assert!(!line.contains("FaultSpec"), "{line}");
}
