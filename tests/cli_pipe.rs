//! The command line is pipeable: when stdout carries data (`run --json -`, `run
//! --compare --json -`, `import` and `export` without `-o`), stdout holds that data and
//! nothing else; the per-node table, the progress and the logger lines go to stderr.
//! Each run works on a copy of an example in its own temporary folder.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test crate: a failure here is the test failing

use std::path::PathBuf;

mod common;
use common::cli as bin;

/// The word-count example (it has a logger bolt) copied into `dir`.
fn word_count_in(dir: &tempfile::TempDir) -> PathBuf {
    let copy = dir.path().join("word_count.ron");
    std::fs::copy(common::examples_dir().join("word_count.ron"), &copy).unwrap();
    copy
}

/// Stdout parsed as one JSON document: fails if anything else is on it.
fn only_json(stdout: &[u8]) -> serde_json::Value {
    serde_json::from_slice(stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not only JSON ({e}):\n{}",
            String::from_utf8_lossy(stdout)
        )
    })
}

#[test]
fn run_json_to_stdout_prints_only_the_json_and_the_rest_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let file = word_count_in(&dir);
    // Without -q: the logger's lines are printed too, on stderr.
    let out = bin()
        .args(["run", file.to_str().unwrap(), "--for", "1s", "--json", "-"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let metrics = only_json(&out.stdout);
    assert!(metrics["nodes"]["sentences"].is_object(), "{metrics}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("emitted"),
        "the table is on stderr: {stderr}"
    );
    assert!(
        stderr.contains("[log#"),
        "logger lines are on stderr: {stderr}"
    );
}

#[test]
fn run_json_to_a_file_keeps_the_table_on_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let file = word_count_in(&dir);
    let json = dir.path().join("m.json");
    let out = bin()
        .args(["run", file.to_str().unwrap(), "--for", "500ms", "-q"])
        .args(["--json", json.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("emitted"));
    only_json(&std::fs::read(&json).unwrap());
}

#[test]
fn compare_json_to_stdout_prints_only_the_json() {
    let dir = tempfile::tempdir().unwrap();
    let file = word_count_in(&dir);
    let out = bin()
        .args(["run", file.to_str().unwrap(), "--compare", "--for", "1s"])
        .args(["--batch-ms", "200", "--json", "-"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let report = only_json(&out.stdout);
    assert!(report["comparison"].is_object(), "{report}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("records/s"),
        "the table is on stderr: {stderr}"
    );
}

#[test]
fn import_and_export_to_stdout_print_only_the_document() {
    let dir = tempfile::tempdir().unwrap();
    let file = word_count_in(&dir);
    let out = bin()
        .args(["export", "--to", "dot", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let topology = tributary::format::load_ron(&file).unwrap();
    let want = tributary::format::export(&topology, tributary::format::ExportTarget::Dot).unwrap();
    assert_eq!(String::from_utf8(out.stdout.clone()).unwrap(), want);

    // A real Flux file from Storm's own repository, imported to standard output: the
    // output is exactly one RON document holding its graph.
    let flux = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/conformance/flux/core-tests__diamond-topology.yaml");
    let out = bin()
        .args(["import", flux.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    let imported = tributary::format::from_ron_str(&text, &flux).unwrap();
    assert!(imported.node_count() > 0, "{text}");
}
