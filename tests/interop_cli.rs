//! `tributary import` and `tributary export` end to end.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test crate: a failure here is the test failing

mod common;

use std::path::Path;

use predicates::prelude::*;

fn corpus(file: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/conformance")
        .join(file)
}

#[test]
fn import_writes_ron_and_export_writes_each_format() {
    let dir = tempfile::tempdir().unwrap();
    let ron = dir.path().join("wc.ron");
    common::cli()
        .arg("import")
        .arg(corpus("flux/examples__simple_wordcount.yaml"))
        .arg("-o")
        .arg(&ron)
        .assert()
        .success();
    common::cli()
        .args(["validate"])
        .arg(&ron)
        .assert()
        .success();
    for (to, expect) in [
        ("flux", "org.apache.storm.testing.TestWordSpout"),
        ("dot", "digraph"),
        ("svg", "<svg xmlns="),
    ] {
        common::cli()
            .args(["export", "--to", to])
            .arg(&ron)
            .assert()
            .success()
            .stdout(predicate::str::contains(expect));
    }
    let out = dir.path().join("wc.yaml");
    common::cli()
        .args(["export", "--to", "flux", "-o"])
        .arg(&out)
        .arg(&ron)
        .assert()
        .success();
    assert!(std::fs::read_to_string(out).unwrap().contains("streams:"));
}

#[test]
fn export_explains_what_the_target_cannot_express() {
    common::cli()
        .args(["export", "--to", "flume"])
        .arg(corpus("flux/examples__simple_wordcount.yaml"))
        .assert()
        .failure()
        .stderr(predicate::str::contains("'spout-1' (spout)"));
}

#[test]
fn import_picks_one_flume_agent_and_reports_broken_ones() {
    let file = corpus("flume/node-tests__flume-conf.properties");
    common::cli()
        .arg("import")
        .arg(&file)
        .args(["--agent", "host1"])
        .assert()
        .success()
        .stdout(predicate::str::contains("agent: \"host1\""));
    common::cli()
        .arg("import")
        .arg(&file)
        .assert()
        .failure()
        .stderr(predicate::str::contains("sink 'sink3' has no type"));
}
