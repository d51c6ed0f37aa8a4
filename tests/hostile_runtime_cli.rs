//! `tributary run` against hostile files and impatient users: stops that must come
//! promptly whatever the topology, Ctrl+C (once and twice), a reader that goes away
//! (`| head -1`), and names and values that carry terminal escape sequences. Waits are
//! for conditions; the deadlines only turn a hang into a failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test crate: a failure here is the test failing

use std::io::{BufRead, BufReader, Read};
use std::os::fd::AsRawFd;
use std::process::{Child, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use tributary::model::{Grouping, Node, Role, StreamDecl, Topology};
use tributary::runtime::limits;

mod common;
use common::{save_in, tributary as bin};

/// Far above every bound under test: reaching it means the run hung.
const DEADLINE: Duration = Duration::from_secs(60);

/// Waits for the child to exit; fails the test if it is still running at the deadline.
fn wait_exit(child: &mut Child, what: &str) -> ExitStatus {
    let end = Instant::now() + DEADLINE;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() >= end {
            let _ = child.kill();
            panic!("{what}: still running after {DEADLINE:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Forwards a pipe's lines to a channel, so a test can wait for one.
fn lines_of(pipe: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

fn wait_line(rx: &mpsc::Receiver<String>, seen: &mut Vec<String>, want: &str) {
    let end = Instant::now() + DEADLINE;
    loop {
        let left = end.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                let found = line.contains(want);
                seen.push(line);
                if found {
                    return;
                }
            }
            Err(e) => panic!("no line with {want:?} ({e}): {seen:#?}"),
        }
    }
}

fn interrupt(child: &Child) {
    let pid = libc::pid_t::try_from(child.id()).unwrap();
    // SAFETY: sending a signal to our own child process, whose id we just read.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
}

/// A Flume source filling a memory channel that nothing drains, with a message
/// timeout of five minutes: a drain bounded by the timeout would wait ten.
fn undrained_channel() -> Topology {
    let mut t = Topology::new("undrained");
    t.settings.message_timeout_secs = 300;
    t.add_node(
        Node::new("gen", Role::Source, "sequence")
            .with_config("rate_per_sec", 1000)
            .with_output(StreamDecl::default_stream(&["n"])),
    )
    .unwrap();
    t.add_node(
        Node::new("ch", Role::Channel, "memory")
            .with_config("capacity", 100)
            .with_config("keep-alive", 0),
    )
    .unwrap();
    t.connect_names("gen", "ch", "default", Grouping::Required)
        .unwrap();
    t
}

#[test]
fn run_for_ends_within_the_drain_bound_when_a_channel_never_empties() {
    let dir = tempfile::tempdir().unwrap();
    let file = save_in(dir.path(), "t.ron", &undrained_channel());
    let mut child = bin()
        .args(["run", file.to_str().unwrap(), "--for", "1s", "-q"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = String::new();
    let pipe = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut pipe = pipe;
        pipe.read_to_string(&mut stderr).map(|_| stderr)
    });
    let status = wait_exit(&mut child, "run --for 1s");
    let stderr = reader.join().unwrap().unwrap();
    assert!(status.success(), "{status}: {stderr}");
    let bound = format!("drain not done after {:?}", limits::DRAIN_LIMIT);
    assert!(stderr.contains(&bound), "{stderr}");
    assert!(stderr.contains("channel 'ch' holds"), "{stderr}");
}

#[test]
fn ctrl_c_cuts_a_drain_short() {
    let dir = tempfile::tempdir().unwrap();
    let file = save_in(dir.path(), "t.ron", &undrained_channel());
    let mut child = bin()
        .args(["run", file.to_str().unwrap(), "--for", "1s", "-q"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let rx = lines_of(child.stderr.take().unwrap());
    let mut seen = Vec::new();
    wait_line(&rx, &mut seen, "stopping: draining");
    interrupt(&child);
    let status = wait_exit(&mut child, "run after Ctrl+C during the drain");
    assert!(status.success(), "{status}");
    wait_line(&rx, &mut seen, "drain cut short by an interrupt");
}

/// An endless logger: it prints until someone stops it.
fn endless_logger() -> Topology {
    let mut t = Topology::new("chatty");
    t.add_node(
        Node::new("s", Role::Spout, "sentence_generator")
            .with_output(StreamDecl::default_stream(&["sentence"])),
    )
    .unwrap();
    t.add_node(Node::new("log", Role::Bolt, "logger")).unwrap();
    t.connect_names("s", "log", "default", Grouping::Shuffle)
        .unwrap();
    t
}

/// Bytes waiting in a pipe (`FIONREAD`).
fn queued(pipe: &impl AsRawFd) -> usize {
    let mut n: libc::c_int = 0;
    // SAFETY: FIONREAD writes one int through the pointer, to a live local.
    let r = unsafe { libc::ioctl(pipe.as_raw_fd(), libc::FIONREAD, &mut n) };
    assert_eq!(r, 0);
    usize::try_from(n).unwrap_or(0)
}

#[test]
fn a_second_ctrl_c_exits_at_once_with_130() {
    let dir = tempfile::tempdir().unwrap();
    let file = save_in(dir.path(), "t.ron", &endless_logger());
    // Nobody reads stdout: once the pipe is full, the run blocks writing a log line,
    // so the first Ctrl+C cannot end it — as with any stuck stop.
    let mut child = bin()
        .args(["run", file.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let end = Instant::now() + DEADLINE;
    while queued(&stdout) < 60_000 {
        assert!(Instant::now() < end, "stdout never filled");
        std::thread::sleep(Duration::from_millis(20));
    }
    interrupt(&child);
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        child.try_wait().unwrap().is_none(),
        "blocked on stdout, the first Ctrl+C only asks to stop"
    );
    interrupt(&child);
    let status = wait_exit(&mut child, "run after a second Ctrl+C");
    assert_eq!(status.code(), Some(130), "{status}");
    drop(stdout);
}

#[test]
fn a_closed_stdout_ends_the_run_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let file = save_in(dir.path(), "t.ron", &endless_logger());
    // `tributary run t.ron | head -1`
    let mut child = bin()
        .args(["run", file.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    stdout.read_line(&mut first).unwrap();
    assert!(first.starts_with("[log#"), "{first}");
    drop(stdout);
    let mut stderr = String::new();
    let pipe = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut pipe = pipe;
        pipe.read_to_string(&mut stderr).map(|_| stderr)
    });
    let status = wait_exit(&mut child, "run after its reader left");
    let stderr = reader.join().unwrap().unwrap();
    assert!(status.success(), "{status}: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn names_and_values_reach_the_terminal_escaped() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("in.txt"), "ok\n\u{1b}]0;pwned\u{7}\n").unwrap();
    let mut t = Topology::new("escapes");
    t.add_node(
        Node::new("lines", Role::Spout, "file_lines")
            .with_config("path", "in.txt")
            .with_output(StreamDecl::default_stream(&["line"])),
    )
    .unwrap();
    let evil = "log\u{1b}[2J\u{202e}";
    t.add_node(Node::new(evil, Role::Bolt, "logger")).unwrap();
    t.connect_names("lines", evil, "default", Grouping::Shuffle)
        .unwrap();
    let file = save_in(dir.path(), "t.ron", &t);
    let out = bin()
        .args(["run", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success());
    for (what, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        assert!(!bytes.contains(&0x1b), "raw ESC on {what}");
        assert!(!bytes.contains(&0x07), "raw BEL on {what}");
        let text = String::from_utf8_lossy(bytes);
        assert!(!text.contains('\u{202e}'), "raw bidi override on {what}");
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("[log\\u{1b}[2J\\u{202e}#2] \\u{1b}]0;pwned\\u{7}"),
        "{stdout}"
    );
    assert!(
        stdout.contains("log\\u{1b}[2J\\u{202e}"),
        "in the table too"
    );
}

#[test]
fn refusals_show_in_the_table_and_the_json() {
    let dir = tempfile::tempdir().unwrap();
    let huge = "x".repeat(limits::MAX_VALUE_BYTES + 1);
    std::fs::write(dir.path().join("in.txt"), format!("a\n{huge}\nb\n")).unwrap();
    let mut t = Topology::new("refusals");
    t.add_node(
        Node::new("lines", Role::Spout, "file_lines")
            .with_config("path", "in.txt")
            .with_output(StreamDecl::default_stream(&["line"])),
    )
    .unwrap();
    t.add_node(Node::new("out", Role::Bolt, "null")).unwrap();
    t.connect_names("lines", "out", "default", Grouping::Shuffle)
        .unwrap();
    let file = save_in(dir.path(), "t.ron", &t);
    let json = dir.path().join("m.json");
    let out = bin()
        .args([
            "run",
            file.to_str().unwrap(),
            "--json",
            json.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let header = stdout.lines().next().unwrap_or_default();
    let column = header
        .split_whitespace()
        .position(|c| c == "refused")
        .unwrap_or_else(|| panic!("no refused column: {header}"));
    let row = stdout
        .lines()
        .find(|l| l.starts_with("lines "))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert_eq!(row.split_whitespace().nth(column), Some("1"), "{stdout}");
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap();
    assert_eq!(metrics["nodes"]["lines"]["refused"], 1);
    assert_eq!(metrics["nodes"]["out"]["refused"], 0);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.matches("over the limit of").count(), 1, "{stderr}");
}
