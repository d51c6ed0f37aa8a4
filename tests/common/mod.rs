//! Helpers shared by the integration tests, kept here once instead of copied into each
//! test crate: polling for a condition with a deadline, running the CLI as a child and
//! reading its lines, counting the process's threads, and writing a topology into a
//! temporary folder. A test crate takes them with `mod common;`.
//!
//! Every wait is for a condition; the deadline only turns a hang into a failure, so it
//! is generous and never part of what a test asserts.

// Each test crate uses some of these helpers, never all of them.
#![allow(dead_code)]

#[cfg(feature = "gui")]
pub mod ui;

pub mod java;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use tributary::model::Topology;
use tributary::runtime::{Engine, MetricsSnapshot};

/// How long any wait may take before the test fails as hung.
pub const DEADLINE: Duration = Duration::from_secs(120);

/// Polls `done` until it holds; fails naming `what` after [`DEADLINE`].
pub fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let end = Instant::now() + DEADLINE;
    while !done() {
        assert!(Instant::now() < end, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Polls the engine's snapshot until `done` holds and returns that snapshot; the
/// failure shows the last snapshot.
pub fn wait_for_snapshot(
    engine: &Engine,
    what: &str,
    done: impl Fn(&MetricsSnapshot) -> bool,
) -> MetricsSnapshot {
    let end = Instant::now() + DEADLINE;
    loop {
        let snap = engine.snapshot();
        if done(&snap) {
            return snap;
        }
        assert!(
            Instant::now() < end,
            "timed out waiting for {what}: {snap:#?}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The `tributary` binary this test run built.
pub fn tributary() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tributary"))
}

/// Starts `tributary ARGS` with its stdout and stderr forwarded, line by line, to the
/// returned receiver (both streams into one, in arrival order).
pub fn spawn_lines(args: &[&str]) -> (Child, mpsc::Receiver<String>) {
    let mut child = tributary()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let forward = |pipe: Box<dyn std::io::Read + Send>, tx: mpsc::Sender<String>| {
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
    };
    forward(Box::new(child.stdout.take().unwrap()), tx.clone());
    forward(Box::new(child.stderr.take().unwrap()), tx);
    (child, rx)
}

/// The first line `want` accepts; fails naming `what` when the child's output ends or
/// the deadline passes first.
pub fn wait_line(rx: &mpsc::Receiver<String>, what: &str, want: impl Fn(&str) -> bool) -> String {
    let end = Instant::now() + DEADLINE;
    loop {
        let left = end.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) if want(&line) => return line,
            Ok(_) => {}
            Err(e) => panic!("no line for {what}: {e}"),
        }
    }
}

/// Sends Ctrl+C (SIGINT) to a child run and waits for it to exit successfully.
pub fn interrupt_and_wait(mut child: Child) {
    let pid = libc::pid_t::try_from(child.id()).unwrap();
    // SAFETY: sending a signal to our own child process, whose id we just read.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
    let end = Instant::now() + DEADLINE;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "{status}");
            return;
        }
        assert!(Instant::now() < end, "run did not stop after Ctrl+C");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Threads of this whole process. A test crate that counts them holds one test, so no
/// other test's threads come and go meanwhile.
pub fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").map_or(0, |d| d.count())
}

/// Threads of this process the runtime started (their names begin with `trib-`).
pub fn runtime_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .map(|tasks| {
            tasks
                .flatten()
                .filter(|t| {
                    std::fs::read_to_string(t.path().join("comm"))
                        .is_ok_and(|c| c.starts_with("trib-"))
                })
                .count()
        })
        .unwrap_or(0)
}

/// The example topologies shipped in `topologies/`.
pub fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("topologies")
}

/// Saves `topology` as `dir/file_name` in canonical form and returns the path.
pub fn save_in(dir: &Path, file_name: &str, topology: &Topology) -> PathBuf {
    let file = dir.join(file_name);
    tributary::format::save_ron(topology, &file).unwrap();
    file
}

/// The `tributary` binary under `assert_cmd`, for tests that assert on its output. It
/// is killed after [`DEADLINE`], so a hung command fails its test instead of the suite.
pub fn cli() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::new(env!("CARGO_BIN_EXE_tributary"));
    cmd.timeout(DEADLINE);
    cmd
}

/// Runs `tributary ARGS` to the end and returns its output; kills it and fails naming
/// `ARGS` if it is still running after [`DEADLINE`], so a hung command fails the test
/// instead of hanging the suite.
pub fn output_within(args: &[&str]) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let (out_path, err_path) = (dir.path().join("stdout"), dir.path().join("stderr"));
    let mut child = tributary()
        .args(args)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .unwrap();
    let end = Instant::now() + DEADLINE;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() >= end {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "`tributary {}` still running after {DEADLINE:?}",
                args.join(" ")
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    std::process::Output {
        status,
        stdout: std::fs::read(&out_path).unwrap(),
        stderr: std::fs::read(&err_path).unwrap(),
    }
}

/// A tiny seeded generator (xorshift64*) for tests that make up input or pick
/// operations: the same seed gives the same sequence, so a failure reproduces. The seed
/// must not be zero.
pub struct SeededRng(pub u64);

impl SeededRng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n` (`0` when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}
