//! Lessons: every shipped lesson plays and passes headless; bad lessons are refused
//! with the file, line and column; answers come from the run.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test crate: a failure here is the test failing

mod common;

use std::path::{Path, PathBuf};

use predicates::str::contains;
use tributary::lesson::{self, Outcome};

fn lessons_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("lessons")
}

#[test]
fn every_shipped_lesson_checks_headless() {
    // The shipped lessons read some of their designs from the shipped examples.
    let out = common::cli()
        .args(["lesson", "check", "--allow"])
        .arg(common::examples_dir())
        .arg(lessons_dir())
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.lines().filter(|l| l.contains(": ok — ")).collect();
    let files = std::fs::read_dir(lessons_dir())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "ron")
        })
        .count();
    assert!(files >= 3, "{files} lessons");
    assert_eq!(lines.len(), files, "{text}");
}

/// A lesson file in a temporary folder beside a copy of the lessons' designs.
fn write_lesson(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let designs = dir.path().join("designs");
    std::fs::create_dir_all(&designs).unwrap();
    for name in ["numbers.ron", "small_word_count.ron"] {
        std::fs::copy(lessons_dir().join("designs").join(name), designs.join(name)).unwrap();
    }
    let file = dir.path().join("l.ron");
    std::fs::write(&file, text).unwrap();
    (dir, file)
}

fn errors_of(text: &str) -> Vec<String> {
    let (_dir, file) = write_lesson(text);
    match lesson::load(&file, &[]) {
        Err(e) => vec![e.to_string()],
        Ok(l) => lesson::check(&l).iter().map(ToString::to_string).collect(),
    }
}

const HEAD: &str = "(\n    version: 1,\n    title: \"t\",\n    topology: File(\"designs/numbers.ron\"),\n    steps: [\n";

#[test]
fn a_malformed_lesson_is_refused_at_its_line_and_column() {
    let errors = errors_of(&format!(
        "{HEAD}        (text: \"a\", actions: [LabStep(\"ten\")]),\n    ],\n)"
    ));
    assert_eq!(errors.len(), 1);
    assert!(errors[0].contains("l.ron:6:"), "{errors:?}");
    let errors = errors_of(&format!(
        "{HEAD}        (text: \"a\", colour: 3),\n    ],\n)"
    ));
    assert!(
        errors[0].contains("l.ron:6:") && errors[0].contains("colour"),
        "{errors:?}"
    );
    assert!(
        !errors[0].contains("Record"),
        "no Rust type names: {errors:?}"
    );
    let errors = errors_of("");
    assert!(errors[0].contains("l.ron:1:1"), "{errors:?}");
}

#[test]
fn names_the_topology_lacks_and_actions_the_mode_cannot_do_are_located() {
    let text = format!(
        "{HEAD}        (text: \"a\", actions: [LabStep(1)]),\n        (\n            text: \"b\",\n            highlight: [Node(\"nowhere\")],\n        ),\n        (text: \"c\", actions: [SwitchMode(MicroBatch(interval_ms: 500)), KillWorker(7)]),\n        (text: \"d\", actions: [Run(2)]),\n    ],\n)"
    );
    let errors = errors_of(&text);
    assert_eq!(errors.len(), 3, "{errors:#?}");
    assert!(
        errors[0].contains("l.ron:9:30") && errors[0].contains("'nowhere'"),
        "{errors:#?}"
    );
    assert!(
        // Micro-batch runs have workers too (lineage recovery); this one is out of range.
        errors[1].contains("l.ron:11:73") && errors[1].contains("kill worker 7"),
        "{errors:#?}"
    );
    assert!(
        errors[2].contains("l.ron:12:31") && errors[2].contains("live lesson"),
        "{errors:#?}"
    );
}

#[test]
fn a_failing_expectation_fails_the_check_naming_the_step() {
    let (_dir, file) = write_lesson(&format!(
        "{HEAD}        (text: \"a\", actions: [LabStep(5000)], check: Expect([(Distinct(\"sink\"), Eq, 299)])),\n    ],\n)"
    ));
    common::cli()
        .args(["lesson", "check"])
        .arg(&file)
        .assert()
        .failure()
        .stderr(contains(
            "step 1: expected Distinct(\"sink\") = 299 but the run gave 300",
        ));
}

/// Storm's fields grouping written out from the Java sources (not the crate's code).
fn storm_index(word: &str, tasks: i32) -> i32 {
    let h = word
        .encode_utf16()
        .fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(i32::from(c)));
    31i32.wrapping_add(h).rem_euclid(tasks)
}

#[test]
fn a_task_question_is_answered_by_the_routing_and_the_lab_agrees() {
    let (dir, file) = write_lesson(
        "(version: 1, title: \"t\", topology: File(\"designs/small_word_count.ron\"), steps: [\n            (text: \"a\", actions: [LabStep(3000)], check: Question(TaskOf(node: \"count\", key: [\"kalo\"]))),\n        ])",
    );
    let l = lesson::load(&file, &[]).unwrap();
    let mut player = lesson::Player::new(l, dir.path()).unwrap();
    let report = player.play_next().unwrap();
    let Some(Outcome::Task {
        task,
        index,
        tasks,
        explanation,
    }) = report.answer
    else {
        panic!("{report:?}");
    };
    assert_eq!(index as i32, storm_index("kalo", 3));
    assert_eq!(task, tasks[index]);
    assert!(explanation.contains("mod 3"), "{explanation}");
    // Every word the lab delivered to `count` went to the task the same rule picks.
    let lab = player.lab().unwrap();
    let mut seen = 0;
    for e in lab
        .trace()
        .iter()
        .filter(|e| e.node == "count" && e.from.is_some())
    {
        let Some(tributary::runtime::Val::Str(w)) = e.values.as_ref().unwrap().get("word") else {
            continue;
        };
        let i = storm_index(w.as_str(), 3) as usize;
        assert_eq!(e.task, tasks[i]);
        seen += 1;
    }
    assert_eq!(seen, 36);
}

#[test]
fn a_lesson_reads_its_topology_only_from_its_folder_unless_allowed() {
    let (dir, file) = write_lesson(
        "(version: 1, title: \"t\", topology: File(\"../elsewhere/t.ron\"), steps: [(text: \"a\")])",
    );
    let outside = dir.path().parent().unwrap().join("elsewhere");
    let errors = errors_of_file(&file, &[]);
    assert!(
        errors[0].contains("l.ron:1:41") && errors[0].contains("outside"),
        "{errors:?}"
    );
    // Allowed, it is read (and here it does not exist, which is the next complaint).
    let errors = errors_of_file(&file, &[outside]);
    assert!(!errors[0].contains("outside"), "{errors:?}");
}

fn errors_of_file(file: &Path, allowed: &[PathBuf]) -> Vec<String> {
    match lesson::load(file, allowed) {
        Err(e) => vec![e.to_string()],
        Ok(l) => lesson::check(&l).iter().map(ToString::to_string).collect(),
    }
}
