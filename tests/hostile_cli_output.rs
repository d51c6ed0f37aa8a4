//! What the commands print about a hostile file. Node names, include names, values and
//! file names holding escape sequences (retitle the window, clear the screen) must reach
//! the terminal as text (`\u{1b}`), never as the raw ESC byte, in warnings, in the error
//! that ends a command, and in an export printed to a terminal. An export or import
//! written to a pipe is the file itself and keeps its exact bytes.
//!
//! Every file is generated here in a temporary folder.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test crate: a failure here is the test failing

use std::io::Read;
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Longer than any case needs by far; only there so a regression fails instead of hanging.
const GUARD: Duration = Duration::from_secs(60);

/// The escape sequences a hostile name carries: set the window title, clear the screen.
const HOSTILE: &str = "\u{1b}]0;PWNED\u{7}\u{1b}[2J";
const ESC: u8 = 0x1b;
/// How an escaped ESC is shown.
const SHOWN: &str = "\\u{1b}";

fn bin() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::new(env!("CARGO_BIN_EXE_tributary"));
    cmd.timeout(GUARD);
    cmd
}

fn has_raw_esc(bytes: &[u8]) -> bool {
    bytes.contains(&ESC)
}

/// Fails unless `bytes` hold no raw ESC and do show an escaped one.
fn assert_escaped(what: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    assert!(
        !has_raw_esc(bytes),
        "{what}: a raw ESC reached the terminal:\n{text:?}"
    );
    assert!(
        text.contains(SHOWN),
        "{what}: the escaped name is missing:\n{text:?}"
    );
}

/// A Flux spout whose id holds [`HOSTILE`] (written with YAML's `\u` escapes).
fn flux_with_hostile_spout(extra: &str) -> String {
    format!(
        "name: esc\nspouts:\n  - id: \"s\\u001b]0;PWNED\\u0007\\u001b[2J\"\n    className: org.apache.storm.testing.TestWordSpout\n{extra}"
    )
}

/// A Flume agent whose sink's name holds [`HOSTILE`] (written with properties `\u`
/// escapes).
fn flume_with_hostile_sink() -> String {
    let sink = "k\\u001b]0;PWNED\\u0007";
    format!(
        "a.sources = r\na.channels = c\na.sinks = {sink}\n\
         a.sources.r.type = seq\na.sources.r.channels = c\na.channels.c.type = memory\n\
         a.sinks.{sink}.type = logger\na.sinks.{sink}.channel = c\n"
    )
}

#[test]
fn an_import_warning_shows_a_hostile_node_name_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("esc.yaml");
    std::fs::write(&file, flux_with_hostile_spout("")).unwrap();
    let out = bin()
        .arg("import")
        .arg(&file)
        .arg("-o")
        .arg(dir.path().join("esc.ron"))
        .output()
        .unwrap();
    // The lone spout has no consumer: a warning that names it.
    assert!(out.status.success());
    assert_escaped("import warning", &out.stderr);
    assert!(String::from_utf8_lossy(&out.stderr).contains("warning"));
}

#[test]
fn the_error_that_ends_a_command_shows_a_hostile_include_name_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("inc.yaml");
    std::fs::write(
        &file,
        flux_with_hostile_spout("includes:\n  - file: \"in\\u001b[2Jc.yaml\"\n"),
    )
    .unwrap();
    let out = bin()
        .arg("import")
        .arg(&file)
        .arg("-o")
        .arg(dir.path().join("inc.ron"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert_escaped("include error", &out.stderr);
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error: "));
}

#[test]
fn a_hostile_file_name_is_escaped_by_validate_and_fmt() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join(format!("ok{HOSTILE}.ron"));
    let bad = dir.path().join(format!("bad{HOSTILE}.ron"));
    let ron = dir.path().join("plain.ron");
    std::fs::write(&bad, "(not a topology").unwrap();
    let import = bin()
        .arg("import")
        .arg({
            let flume = dir.path().join("a.properties");
            std::fs::write(&flume, flume_with_hostile_sink()).unwrap();
            flume
        })
        .arg("-o")
        .arg(&ron)
        .output()
        .unwrap();
    assert!(import.status.success(), "{import:?}");
    // Not in canonical form, so `fmt --check` names it.
    let text = std::fs::read_to_string(&ron).unwrap();
    std::fs::write(&good, text.replace("    ", "  ")).unwrap();

    let validate = bin().arg("validate").arg(&good).arg(&bad).output().unwrap();
    assert!(!validate.status.success());
    assert_escaped("validate: ok line", &validate.stdout);
    assert_escaped("validate: errors", &validate.stderr);

    let check = bin()
        .args(["fmt", "--check"])
        .arg(&good)
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!check.status.success());
    assert_escaped("fmt --check", &check.stderr);

    let fmt = bin().arg("fmt").arg(&good).output().unwrap();
    assert!(fmt.status.success(), "{fmt:?}");
    assert_escaped("fmt: formatted line", &fmt.stdout);
}

#[test]
fn an_export_to_a_pipe_keeps_its_exact_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a.properties");
    std::fs::write(&file, flume_with_hostile_sink()).unwrap();
    let out = bin()
        .args(["export", "--to", "dot"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    // The exported file is the output: the name is in it as it is.
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("k\u{1b}]0;PWNED\u{7}"), "{text}");
}

/// Runs `tributary ARGS` with stdout on a new pseudo-terminal; returns what the terminal
/// received and whether the command succeeded.
fn on_terminal(args: &[&std::ffi::OsStr]) -> (Vec<u8>, bool) {
    let (mut master, mut slave) = (0, 0);
    // SAFETY: openpty writes two descriptors it opened; the name, termios and window size
    // arguments may be null.
    let opened = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(opened, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors were just opened by openpty and are owned by nothing else.
    let (master, slave) = unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
    let mut child = {
        // The command holds the only copy of the terminal's slave side; it is dropped
        // after the spawn, so reading the master ends when the child has exited.
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tributary"));
        cmd.args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::from(slave))
            .stderr(Stdio::null());
        cmd.spawn().unwrap()
    };
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut master = std::fs::File::from(master);
        let mut received = Vec::new();
        let mut buf = [0; 4096];
        // Linux reports EIO once the slave side is closed.
        while let Ok(n @ 1..) = master.read(&mut buf) {
            received.extend_from_slice(&buf[..n]);
        }
        let _ = tx.send(received);
    });
    let received = rx.recv_timeout(GUARD).unwrap_or_else(|_| {
        let _ = child.kill();
        panic!("tributary {args:?}: still printing after {GUARD:?}")
    });
    (received, child.wait().unwrap().success())
}

#[test]
fn an_export_or_import_printed_to_a_terminal_shows_names_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let flume = dir.path().join("a.properties");
    std::fs::write(&flume, flume_with_hostile_sink()).unwrap();
    for to in ["flume", "dot"] {
        let args = [
            "export".as_ref(),
            "--to".as_ref(),
            to.as_ref(),
            flume.as_os_str(),
        ];
        let (shown, ok) = on_terminal(&args);
        assert!(ok, "export --to {to}");
        assert_escaped(&format!("export --to {to} on a terminal"), &shown);
    }
    let flux = dir.path().join("esc.yaml");
    std::fs::write(&flux, flux_with_hostile_spout("")).unwrap();
    let (shown, ok) = on_terminal(&["import".as_ref(), flux.as_os_str()]);
    assert!(ok);
    assert_escaped("import (RON) on a terminal", &shown);
}
