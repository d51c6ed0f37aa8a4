//! Runs a Java program kept beside the tests (`tests/oracles/`) as an oracle: expected
//! values that come from a real JVM rather than from the crate under test.
//!
//! Java 17 or newer is part of what `.ci/setup` installs, so a missing `java` fails the
//! test with that advice instead of skipping it. The program runs by single-source launch
//! (`java File.java`) in a fresh temporary folder that is also its `java.io.tmpdir`, with
//! the JVM's shared performance file turned off, so it writes nowhere else; it reads its
//! questions on stdin and answers on stdout.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;

use super::DEADLINE;

/// Runs `tests/oracles/{file}` with `input` on its stdin and returns its stdout lines.
/// Fails when Java is missing, when the program fails, or after [`super::DEADLINE`].
pub fn run_oracle(file: &str, input: &str) -> Vec<String> {
    let source = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/oracles")
        .join(file);
    let dir = tempfile::tempdir().unwrap();
    let err_path = dir.path().join("stderr.txt");
    let spawned = Command::new("java")
        .arg("-XX:-UsePerfData")
        // A short program: the quick compiler alone and the simplest collector start it
        // in about half the time, which matters on a loaded two-core machine.
        .arg("-XX:TieredStopAtLevel=1")
        .arg("-XX:+UseSerialGC")
        .arg(format!("-Djava.io.tmpdir={}", dir.path().display()))
        // Storm's workers run with UTF-8 as the default charset (the default from Java 18
        // on); `String.getBytes()` in the oracles means that.
        .arg("-Dfile.encoding=UTF-8")
        .arg(&source)
        .current_dir(dir.path())
        .env_remove("JAVA_TOOL_OPTIONS")
        .env_remove("JDK_JAVA_OPTIONS")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(e) => panic!(
            "cannot start `java` ({e}): the routing oracles need Java 17 or newer with its \
             compiler (a JDK); run .ci/setup --for-tests"
        ),
    };
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_owned();
    let writer = std::thread::spawn(move || {
        // A program that died early closes its stdin; its exit status says why.
        let _ = stdin.write_all(input.as_bytes());
    });
    let mut stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut out = String::new();
        let _ = stdout.read_to_string(&mut out);
        let _ = tx.send(out);
    });
    let Ok(out) = rx.recv_timeout(DEADLINE) else {
        let _ = child.kill();
        let _ = child.wait();
        panic!("the Java oracle {file} did not finish within {DEADLINE:?}");
    };
    let status = child.wait().unwrap();
    writer.join().unwrap();
    let err = std::fs::read_to_string(&err_path).unwrap_or_default();
    assert!(
        status.success(),
        "the Java oracle {file} failed ({status}); a JDK 17+ is needed (run .ci/setup --for-tests):\n{err}"
    );
    out.lines().map(str::to_owned).collect()
}
