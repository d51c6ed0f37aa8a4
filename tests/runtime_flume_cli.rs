//! `tributary run` of the shipped Flume and mixed topologies, end to end: real loopback
//! sockets, real spool folders, real files. Each test runs a temp copy of the topology,
//! so run artifacts stay out of the repository, and waits for conditions (the deadline
//! only turns a hang into a failure).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test crate: a failure here is the test failing

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;

use tributary::format::{load_ron, save_ron};
use tributary::model::Value;

mod common;
use common::{interrupt_and_wait, wait_for, wait_line};

/// `tributary run FILE`, its output line by line.
fn spawn_run(file: &Path) -> (Child, mpsc::Receiver<String>) {
    common::spawn_lines(&["run", &file.to_string_lossy(), "--for", "120s"])
}

/// Copies a shipped topology into `dir`, letting `edit` change it first.
fn copy_topology(
    name: &str,
    dir: &Path,
    edit: impl FnOnce(&mut tributary::model::Topology),
) -> PathBuf {
    let mut t = load_ron(&Path::new("topologies").join(name)).unwrap();
    edit(&mut t);
    let file = dir.join(name);
    save_ron(&t, &file).unwrap();
    file
}

fn read_all(dir: &Path) -> String {
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.map_while(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    names.sort();
    names
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap_or_default())
        .collect()
}

#[test]
fn flume_log_pipeline_runs_with_netcat_logger_and_rolled_files() {
    let dir = tempfile::tempdir().unwrap();
    let file = copy_topology("flume_log_pipeline.ron", dir.path(), |t| {
        // An ephemeral port; the run logs the address it bound.
        let lines = t.node_by_name_mut("lines").unwrap();
        lines.config.insert("port".into(), Value::Int(0));
    });
    let (child, rx) = spawn_run(&file);
    let line = wait_line(&rx, "the listening address", |l| {
        l.contains("listening on ")
    });
    let addr = line
        .rsplit("listening on ")
        .next()
        .unwrap()
        .trim()
        .to_string();
    let mut client = std::net::TcpStream::connect(&addr).unwrap();
    client.write_all(b"alpha one\nbeta two\n").unwrap();
    let mut replies = BufReader::new(client.try_clone().unwrap());
    for _ in 0..2 {
        let mut reply = String::new();
        replies.read_line(&mut reply).unwrap();
        assert_eq!(reply, "OK\n");
    }
    wait_line(&rx, "the first event logged", |l| {
        l.contains("[console]") && l.contains("alpha one")
    });
    wait_line(&rx, "the second event logged", |l| {
        l.contains("[console]") && l.contains("beta two")
    });
    let rolled = dir.path().join("flume-data/rolled");
    wait_for("both lines rolled to files", || {
        read_all(&rolled) == "alpha one\nbeta two\n"
    });
    drop(client);
    interrupt_and_wait(child);
}

#[test]
fn mixed_pipeline_counts_a_spooled_file_into_the_file_sink() {
    let dir = tempfile::tempdir().unwrap();
    let file = copy_topology("mixed_pipeline.ron", dir.path(), |_| {});
    let spool = dir.path().join("spool");
    std::fs::create_dir_all(&spool).unwrap();
    let (child, _rx) = spawn_run(&file);
    // Spool files must be complete when they appear: write aside, then move in.
    let staged = dir.path().join("app.log");
    std::fs::write(
        &staged,
        "INFO up\nERROR disk full\nWARN slow\nERROR disk gone\nERROR again\n",
    )
    .unwrap();
    std::fs::rename(&staged, spool.join("app.log")).unwrap();
    wait_for("the spooled file completed", || {
        spool.join("app.log.COMPLETED").exists()
    });
    let report = dir.path().join("error-counts.txt");
    wait_for("three ERROR counts in the report", || {
        std::fs::read_to_string(&report).is_ok_and(|t| t.lines().any(|l| l == "ERROR\t3"))
    });
    interrupt_and_wait(child);
    assert!(!spool.join("app.log").exists());
}

/// Runs a shipped example headless for a moment and returns its final metrics (JSON).
fn run_briefly(name: &str, dir: &Path) -> serde_json::Value {
    let file = copy_topology(name, dir, |_| {});
    let json = dir.join("metrics.json");
    let status = Command::new(env!("CARGO_BIN_EXE_tributary"))
        .args(["run", file.to_str().unwrap(), "--for", "2s", "-q", "--json"])
        .arg(&json)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "{name}: {status}");
    serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap()
}

#[test]
fn the_fanout_failover_example_runs_headless() {
    let dir = tempfile::tempdir().unwrap();
    let m = run_briefly("flume_fanout_failover.ron", dir.path());
    let n = &m["nodes"];
    assert_eq!(n["hot"]["role"], "channel");
    assert!(n["clicks-archive"]["executed"].as_u64().unwrap() > 0, "{n}");
    // Errors reach the ops agent over the hop (or the fallback, if the hop failed).
    let alerts =
        n["pager"]["executed"].as_u64().unwrap() + n["fallback"]["executed"].as_u64().unwrap();
    assert!(alerts > 0, "{n}");
    assert!(n["pager"]["flume"]["sink"]["active"].is_boolean());
    // Multiplexing: no error reached the clicks channel.
    let clicks = read_all(&dir.path().join("fanout-data/clicks"));
    assert!(
        !clicks.is_empty()
            && clicks
                .lines()
                .all(|l| l.parse::<u64>().unwrap() < 1_000_000)
    );
}

#[test]
fn the_two_tier_example_runs_headless() {
    let dir = tempfile::tempdir().unwrap();
    let m = run_briefly("flume_two_tier.ron", dir.path());
    let n = &m["nodes"];
    let stored = n["store"]["executed"].as_u64().unwrap();
    assert!(stored > 0, "{n}");
    assert_eq!(n["durable"]["flume"]["agent"], "collector");
    let rolled = read_all(&dir.path().join("two-tier-data/rolled"));
    assert_eq!(rolled.lines().count() as u64, stored);
}
