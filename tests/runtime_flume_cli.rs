//! `tributary run` of the shipped Flume and mixed topologies, end to end: real loopback
//! sockets, real spool folders, real files. Each test runs a temp copy of the topology,
//! so run artifacts stay out of the repository, and waits for conditions (the deadline
//! only turns a hang into a failure).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test crate: a failure here is the test failing

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::Child;
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

/// The body an event log line shows: the text after the hex dump (Flume's logger
/// writes `Event: { headers:{…} body: 31 32 12 }`); bodies here hold no spaces.
fn logged_body(line: &str) -> Option<&str> {
    line.trim_end().strip_suffix(" }")?.rsplit(' ').next()
}

/// Every line of every file in `dir`, sorted.
fn lines_in(dir: &Path) -> Vec<String> {
    let mut lines: Vec<String> = read_all(dir).lines().map(str::to_owned).collect();
    lines.sort();
    lines
}

fn numbers(range: std::ops::Range<u64>) -> Vec<String> {
    let mut all: Vec<String> = range.map(|n| n.to_string()).collect();
    all.sort();
    all
}

#[test]
fn the_fanout_failover_example_delivers_every_event_on_its_route() {
    let dir = tempfile::tempdir().unwrap();
    // Finite sources, so the scenario is exact: 300 clicks, 30 errors.
    let file = copy_topology("flume_fanout_failover.ron", dir.path(), |t| {
        for (name, limit) in [("clicks", 300), ("failures", 30)] {
            let node = t.node_by_name_mut(name).unwrap();
            node.config.insert("limit".into(), Value::Int(limit));
            node.config.insert("rate_per_sec".into(), Value::Int(0));
        }
    });
    let (child, rx) = spawn_run(&file);
    let clicks_dir = dir.path().join("fanout-data/clicks");
    let fallback_dir = dir.path().join("fanout-data/alerts-fallback");
    let want_clicks = numbers(0..300);
    let want_alerts = numbers(1_000_000..1_000_030);
    // Errors reach the ops agent over the hop (its logger prints them) or, while the hop
    // fails, the fallback files: together, every error once.
    let mut paged: Vec<String> = Vec::new();
    let mut alerts = Vec::new();
    wait_for("every click archived and every error paged or kept", || {
        while let Ok(line) = rx.try_recv() {
            if line.contains("[ops-console]")
                && let Some(body) = logged_body(&line)
            {
                paged.push(body.to_owned());
            }
        }
        alerts = paged.clone();
        alerts.extend(lines_in(&fallback_dir));
        alerts.sort();
        alerts.len() >= want_alerts.len() && lines_in(&clicks_dir).len() >= want_clicks.len()
    });
    interrupt_and_wait(child);
    assert_eq!(alerts, want_alerts, "paged {paged:?}");
    // Multiplexing by header: exactly the clicks in the clicks archive, nothing else.
    assert_eq!(lines_in(&clicks_dir), want_clicks);
}

#[test]
fn the_two_tier_example_stores_every_reading_once() {
    let dir = tempfile::tempdir().unwrap();
    let file = copy_topology("flume_two_tier.ron", dir.path(), |t| {
        let readings = t.node_by_name_mut("readings").unwrap();
        readings.config.insert("limit".into(), Value::Int(200));
        readings.config.insert("rate_per_sec".into(), Value::Int(0));
    });
    let (child, _rx) = spawn_run(&file);
    let rolled = dir.path().join("two-tier-data/rolled");
    wait_for("200 readings rolled to files", || {
        lines_in(&rolled).len() >= 200
    });
    interrupt_and_wait(child);
    // Over the hop into the durable channel and out to files: each reading once.
    assert_eq!(lines_in(&rolled), numbers(0..200));
}
