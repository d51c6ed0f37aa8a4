//! Hostile input against the Flume half of `tributary run`, end to end: a client that
//! sends one enormous line, a spool file that is one enormous line, config values that
//! would once have panicked a thread, and file channels set up to share a folder.
//!
//! Memory is judged by the child process's peak resident size (`VmHWM`) before and after
//! the hostile input, so the figure compares the run with itself. Each test works in its
//! own temp folder and on loopback only; deadlines only turn a hang into a failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test crate: a failure here is the test failing

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Output};
use std::sync::mpsc;

use tributary::components;
use tributary::format::save_ron;
use tributary::model::{Grouping, Node, Role, Topology, Value};

mod common;
use common::{interrupt_and_wait, wait_for, wait_line};

/// `tributary run FILE`, its output line by line.
fn spawn_run(file: &Path) -> (Child, mpsc::Receiver<String>) {
    common::spawn_lines(&["run", &file.to_string_lossy(), "--for", "300s", "--quiet"])
}

/// Most a run's peak memory may grow while hostile input streams through it. The input
/// is several times larger, so a source that buffered it would break this.
const GROWTH_ALLOWED: u64 = 32 << 20;

fn node(name: &str, role: Role, component: &str, config: &[(&str, Value)]) -> Node {
    let descriptor = components::descriptor(component).unwrap();
    let mut n = components::new_node_as(descriptor, name, role);
    for (k, v) in config {
        n.config.insert(k.to_string(), v.clone());
    }
    n
}

/// `source` → memory channel → null sink, saved as `flow.ron` in `dir`.
fn flow(dir: &Path, source: Node) -> PathBuf {
    let mut t = Topology::new("hostile");
    let from = source.name.clone();
    t.add_node(source).unwrap();
    t.add_node(node("buf", Role::Channel, "memory", &[]))
        .unwrap();
    t.add_node(node("out", Role::Sink, "null", &[])).unwrap();
    t.connect_names(&from, "buf", "default", Grouping::Required)
        .unwrap();
    t.connect_names("buf", "out", "default", Grouping::Drain)
        .unwrap();
    let file = dir.join("flow.ron");
    save_ron(&t, &file).unwrap();
    file
}

fn tributary(args: &[&str]) -> Output {
    common::output_within(args)
}

/// Peak resident memory of a process, in bytes.
fn peak_memory(child: &Child) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    kb * 1024
}

fn report_growth(what: &str, input: u64, before: u64, after: u64) {
    eprintln!(
        "{what}: {} MiB of input; peak memory {} MiB before, {} MiB after (x{:.2})",
        input >> 20,
        before >> 20,
        after >> 20,
        after as f64 / before as f64
    );
}

#[test]
fn netcat_memory_stays_bounded_under_one_enormous_line() {
    let dir = tempfile::tempdir().unwrap();
    let source = node(
        "lines",
        Role::Source,
        "netcat",
        &[
            ("port", Value::Int(0)),
            ("max-line-length", Value::Int(4096)),
        ],
    );
    let file = flow(dir.path(), source);
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
    let client = std::net::TcpStream::connect(&addr).unwrap();
    let mut replies = BufReader::new(client.try_clone().unwrap());
    let mut reply = || {
        let mut s = String::new();
        replies.read_line(&mut s).unwrap();
        s
    };
    (&client).write_all(b"warm up\n").unwrap();
    assert_eq!(reply(), "OK\n");
    let before = peak_memory(&child);

    const INPUT: u64 = 128 << 20;
    let writer = {
        let mut client = client.try_clone().unwrap();
        std::thread::spawn(move || {
            let chunk = vec![b'x'; 1 << 20];
            for _ in 0..INPUT >> 20 {
                client.write_all(&chunk).unwrap();
            }
            client.write_all(b"\nafter\n").unwrap();
        })
    };
    assert!(reply().starts_with("FAILED: Event exceeds the maximum length"));
    writer.join().unwrap();
    assert_eq!(
        reply(),
        "OK\n",
        "the connection carries on after the long line"
    );
    let after = peak_memory(&child);
    report_growth("netcat", INPUT, before, after);
    assert!(
        after.saturating_sub(before) < GROWTH_ALLOWED,
        "peak memory grew by {} MiB",
        (after - before) >> 20
    );
    drop(client);
    interrupt_and_wait(child);
}

#[test]
fn spooldir_streams_a_file_that_is_one_enormous_line() {
    let dir = tempfile::tempdir().unwrap();
    let spool = dir.path().join("spool");
    std::fs::create_dir_all(&spool).unwrap();
    let source = node(
        "files",
        Role::Source,
        "spooldir",
        &[("spoolDir", Value::Str("spool".into()))],
    );
    let file = flow(dir.path(), source);
    let (child, _output) = spawn_run(&file);
    // A small file first, so the baseline includes a file read and a batch.
    std::fs::write(spool.join(".small"), "one\ntwo\n").unwrap();
    std::fs::rename(spool.join(".small"), spool.join("small")).unwrap();
    wait_for("the small file to complete", || {
        spool.join("small.COMPLETED").exists()
    });
    let before = peak_memory(&child);

    const INPUT: u64 = 64 << 20;
    {
        let mut big = std::fs::File::create(spool.join(".big")).unwrap();
        let chunk = vec![b'y'; 1 << 20];
        for _ in 0..INPUT >> 20 {
            big.write_all(&chunk).unwrap();
        }
        big.write_all(b"\nlast line\n").unwrap();
    }
    std::fs::rename(spool.join(".big"), spool.join("big")).unwrap();
    wait_for("the big file to complete", || {
        spool.join("big.COMPLETED").exists()
    });
    let after = peak_memory(&child);
    report_growth("spooldir", INPUT, before, after);
    assert!(
        after.saturating_sub(before) < GROWTH_ALLOWED,
        "peak memory grew by {} MiB",
        (after - before) >> 20
    );
    interrupt_and_wait(child);
}

#[test]
fn a_rate_that_once_panicked_a_source_is_refused_before_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let source = node(
        "gen",
        Role::Source,
        "sequence",
        &[("rate_per_sec", Value::Float(1e-30))],
    );
    let file = flow(dir.path(), source);
    let out = tributary(&["run", file.to_str().unwrap(), "--for", "5s"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("gen") && stderr.contains("rate_per_sec"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn file_channels_sharing_a_folder_are_refused_naming_both() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = Topology::new("shared");
    for (source, channel, sink, data) in [
        ("gen_a", "first", "out_a", "a-data"),
        ("gen_b", "second", "out_b", "b-data"),
    ] {
        t.add_node(node(source, Role::Source, "sequence", &[]))
            .unwrap();
        t.add_node(node(
            channel,
            Role::Channel,
            "file",
            &[
                // The same folder, spelled two ways.
                (
                    "checkpointDir",
                    Value::Str(
                        if channel == "first" {
                            "ck"
                        } else {
                            "./x/../ck/"
                        }
                        .into(),
                    ),
                ),
                ("dataDirs", Value::Str(data.into())),
            ],
        ))
        .unwrap();
        t.add_node(node(sink, Role::Sink, "null", &[])).unwrap();
        t.connect_names(source, channel, "default", Grouping::Required)
            .unwrap();
        t.connect_names(channel, sink, "default", Grouping::Drain)
            .unwrap();
    }
    let file = dir.path().join("shared.ron");
    save_ron(&t, &file).unwrap();
    let out = tributary(&["validate", file.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("'second'") && stderr.contains("'first'") && stderr.contains("mix"),
        "{stderr}"
    );
    // And `run` refuses it before creating any folder.
    let out = tributary(&["run", file.to_str().unwrap(), "--for", "5s"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!dir.path().join("ck").exists());
}

/// `tributary run` on `t`, expecting it refused before anything starts; its stderr.
fn refused(dir: &Path, t: &Topology) -> String {
    let file = dir.join("flow.ron");
    save_ron(t, &file).unwrap();
    let out = tributary(&["run", file.to_str().unwrap(), "--for", "5s"]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    stderr
}

#[test]
fn flume_sources_and_netcat_connections_count_toward_the_thread_limit() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = Topology::new("many");
    t.add_node(node("buf", Role::Channel, "memory", &[]))
        .unwrap();
    t.add_node(node("out", Role::Sink, "null", &[])).unwrap();
    t.connect_names("buf", "out", "default", Grouping::Drain)
        .unwrap();
    // Few enough to fit alone, but their connection threads push the run over.
    t.add_node(node(
        "listener",
        Role::Source,
        "netcat",
        &[
            ("port", Value::Int(0)),
            ("max-connections", Value::Int(256)),
        ],
    ))
    .unwrap();
    t.connect_names("listener", "buf", "default", Grouping::Required)
        .unwrap();
    let total = tributary::validate::MAX_TOTAL_EXECUTORS as usize;
    for i in 0..total - 256 {
        let name = format!("gen{i}");
        t.add_node(node(&name, Role::Source, "sequence", &[]))
            .unwrap();
        t.connect_names(&name, "buf", "default", Grouping::Required)
            .unwrap();
    }
    // Sources, netcat's own thread and its connections, the sink runner, and the
    // ackers of the (empty) Storm side.
    let threads = (total - 256) + 1 + 256 + 1 + t.settings.ackers as usize;
    let stderr = refused(dir.path(), &t);
    assert!(
        stderr.contains(&format!(
            "{threads} threads in total is above the limit of {total}"
        )),
        "{stderr}"
    );
    assert!(stderr.contains("'listener' (257)"), "{stderr}");
}

#[test]
fn channels_holding_more_than_the_run_total_are_refused_naming_the_biggest() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = Topology::new("bytes");
    let gib = tributary::flume::footprint::MAX_TOTAL_CHANNEL_BYTES as i64;
    t.add_node(node("gen", Role::Source, "sequence", &[]))
        .unwrap();
    for i in 0..3 {
        let (channel, sink) = (format!("c{i}"), format!("out{i}"));
        t.add_node(node(
            &channel,
            Role::Channel,
            "file",
            &[
                ("byteCapacity", Value::Int(gib / 2)),
                ("checkpointDir", Value::Str(format!("{channel}/ck"))),
                ("dataDirs", Value::Str(format!("{channel}/data"))),
            ],
        ))
        .unwrap();
        t.add_node(node(&sink, Role::Sink, "null", &[])).unwrap();
        t.connect_names("gen", &channel, "default", Grouping::Required)
            .unwrap();
        t.connect_names(&channel, &sink, "default", Grouping::Drain)
            .unwrap();
    }
    let stderr = refused(dir.path(), &t);
    assert!(
        stderr.contains(&format!("hold {} bytes of events together", 3 * (gib / 2))),
        "{stderr}"
    );
    assert!(stderr.contains("'c0' (536870912)"), "{stderr}");
    assert!(!dir.path().join("c0").exists(), "nothing started");
}
