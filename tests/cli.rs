//! The command line, end to end, on real files.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test crate: a failure here is the test failing

use std::path::{Path, PathBuf};

mod common;
use common::cli as tributary;

fn examples() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("topologies");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "ron"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_example_validates_and_is_canonical() {
    let files = examples();
    tributary().arg("validate").args(&files).assert().success();
    tributary()
        .args(["fmt", "--check"])
        .args(&files)
        .assert()
        .success();
}

#[test]
fn validate_fails_when_any_file_is_invalid_and_names_the_node() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.ron");
    std::fs::write(
        &bad,
        "(version: 1, name: \"x\",\n nodes: [\n  (name: \"s\", role: Spout, component: \"sequence\", parallelism: 0),\n ])",
    )
    .unwrap();
    let good = &examples()[0];
    let out = tributary()
        .arg("validate")
        .arg(good)
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("bad.ron:3:4: error: node 's': parallelism is 0"),
        "{stderr}"
    );
}

#[test]
fn fmt_rewrites_and_check_detects() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("messy.ron");
    let messy = "// hand written\n(version: 1, name: \"m\", nodes: [(name: \"s\", role: Spout, component: \"sequence\", outputs: [(fields: [\"n\"])])])";
    std::fs::write(&file, messy).unwrap();
    tributary()
        .args(["fmt", "--check"])
        .arg(&file)
        .assert()
        .code(1);
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        messy,
        "--check must not write"
    );
    tributary().arg("fmt").arg(&file).assert().success();
    tributary()
        .args(["fmt", "--check"])
        .arg(&file)
        .assert()
        .success();
    let once = std::fs::read_to_string(&file).unwrap();
    tributary().arg("fmt").arg(&file).assert().success();
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        once,
        "fmt is idempotent"
    );
}

#[test]
fn fmt_leaves_broken_files_alone() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("broken.ron");
    std::fs::write(&file, "(version: 1, name: ").unwrap();
    tributary().arg("fmt").arg(&file).assert().code(1);
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "(version: 1, name: "
    );
}

#[test]
fn every_command_has_help() {
    let out = tributary().arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    let commands: Vec<String> = help
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .filter(|c| c != "help")
        .collect();
    assert!(commands.len() >= 2, "{help}");
    for command in commands {
        let out = tributary()
            .args([command.as_str(), "--help"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{command} --help failed");
        assert!(String::from_utf8_lossy(&out.stdout).contains("Usage:"));
    }
}
