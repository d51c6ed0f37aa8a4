//! Helpers shared by the file channel's unit tests: a small channel config, putting and
//! draining events in one transaction each, a simulated crash, and the one log file.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::layout::list_logs;
use super::{FileChannel, FileChannelConfig, FileChannelError};
use crate::flume::Event;
use crate::flume::channel::{Channel, Transaction};

pub(super) fn config(dir: &Path) -> FileChannelConfig {
    let mut c = FileChannelConfig::new(dir.join("ckpt"), dir.join("data"));
    c.channel.capacity = 1000;
    c.channel.transaction_capacity = 100;
    c.channel.keep_alive = Duration::ZERO;
    c
}

pub(super) fn put_all(ch: &dyn Channel, bodies: &[&str]) {
    let mut tx = Transaction::begin(ch);
    for b in bodies {
        tx.put(Event::new(*b).with_header("k", *b)).unwrap();
    }
    tx.commit().unwrap();
}

pub(super) fn drain(ch: &dyn Channel) -> Vec<String> {
    let mut tx = Transaction::begin(ch);
    let mut out = Vec::new();
    while let Some(e) = tx.take().unwrap() {
        assert_eq!(e.headers.get("k").map(String::as_bytes), Some(&e.body[..]));
        out.push(e.body_text().into_owned());
    }
    tx.commit().unwrap();
    out
}

/// Simulates a crash: dropping without `close` writes nothing (no checkpoint), and
/// every commit was already fsynced, so the disk is left as a kill would leave it.
pub(super) fn crash(ch: FileChannel) {
    drop(ch);
}

pub(super) fn only_log(dir: &Path) -> PathBuf {
    let logs = list_logs(&dir.join("data")).unwrap();
    assert_eq!(logs.len(), 1);
    logs[0].1.clone()
}

pub(super) fn small(dir: &Path) -> FileChannelConfig {
    let mut c = config(dir);
    c.channel.capacity = 10;
    c.channel.byte_capacity = 1024;
    c.max_file_size = 1024;
    c
}

pub(super) fn refusal(dir: &Path, c: FileChannelConfig) -> (PathBuf, String) {
    match FileChannel::open("fc", c) {
        Err(e @ FileChannelError::TooMuch { .. }) => {
            let FileChannelError::TooMuch { ref path, .. } = e else {
                unreachable!()
            };
            assert!(path.starts_with(dir), "{e}");
            (path.clone(), e.to_string())
        }
        Err(e) => panic!("expected a refusal for too much data, got {e}"),
        Ok(_) => panic!("expected a refusal for too much data, the channel opened"),
    }
}
