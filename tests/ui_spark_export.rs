//! File → Export → Spark job in the designer: the review dialog lists what the job maps
//! with a caveat and what it refuses, and nothing is written before the user confirms.
#![cfg(feature = "gui")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test crate: a failure here is the test failing

mod common;

use egui_kittest::kittest::Queryable;
use tributary::format::ExportTarget;
use tributary::ui::actions::Action;

#[test]
fn the_review_lists_caveats_and_writes_only_when_confirmed() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = common::ui::with_example(dir.path(), "word_count.ron");
    let ctx = h.ctx.clone();
    let job = dir.path().join("wc.py");
    h.state_mut()
        .perform(&ctx, Action::Export(ExportTarget::Spark, Some(job.clone())));
    h.run();
    h.get_by_label("Export as a Spark job");
    // `count` has Storm tasks, which become partitions: said before anything is written.
    h.get_by_label_contains("'count': Storm tasks are not exported:");
    assert!(h.query_by_label_contains("Refused").is_none());
    assert!(!job.exists(), "written before the user confirmed");

    h.get_by_label("Export…").click();
    h.run();
    let text = std::fs::read_to_string(&job).unwrap();
    assert!(text.contains("def node_count(split):"), "{text}");
    assert!(text.contains("# Node 'count' (count_by_key, 2 tasks)."));
    assert!(h.query_by_label("Export as a Spark job").is_none());
    let notice = h.state().notice.clone().expect("told the result");
    assert!(!notice.is_error, "{notice:?}");
}

#[test]
fn refusals_name_the_nodes_and_keep_export_disabled() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = common::ui::with_example(dir.path(), "mixed_pipeline.ron");
    let ctx = h.ctx.clone();
    let job = dir.path().join("mixed.py");
    h.state_mut()
        .perform(&ctx, Action::Export(ExportTarget::Spark, Some(job.clone())));
    h.run();
    h.get_by_label_contains("Refused (");
    h.get_by_label_contains("'buffer': a Flume channel");
    h.get_by_label_contains("'logs': component 'spooldir' has no Spark form");
    // Disabled: a click does nothing.
    h.get_by_label("Export…").click();
    h.run();
    assert!(!job.exists());
    h.get_by_label("Cancel").click();
    h.run();
    assert!(h.query_by_label("Export as a Spark job").is_none());
    assert!(!job.exists());
}

#[test]
fn the_file_menu_offers_the_spark_job() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = common::ui::with_example(dir.path(), "word_count.ron");
    h.get_by_label("File").click();
    h.run();
    h.get_by_label("Export").hover();
    h.run();
    h.get_by_label("Spark job…").click();
    h.run();
    h.get_by_label("Export as a Spark job");
    h.get_by_label("Cancel").click();
    h.run();
    assert!(h.query_by_label("Export as a Spark job").is_none());
}

#[test]
fn validation_errors_are_listed_as_refusals() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = common::ui::with_example(dir.path(), "word_count.ron");
    let ctx = h.ctx.clone();
    h.state_mut()
        .doc
        .topology
        .node_by_name_mut("split")
        .unwrap()
        .parallelism = 0;
    let job = dir.path().join("wc.py");
    h.state_mut()
        .perform(&ctx, Action::Export(ExportTarget::Spark, Some(job.clone())));
    h.run();
    h.get_by_label_contains("Refused (");
    h.get_by_label_contains("parallelism is 0");
    h.get_by_label("Export…").click();
    h.run();
    assert!(!job.exists());
}
