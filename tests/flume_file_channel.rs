//! The file channel as a whole, through its public API: committed events survive a
//! simulated crash (a drop without close) and uncommitted ones do not, checkpoints and
//! later logs combine on recovery, folders are locked against a second channel, too much
//! recovered data is refused by name, and a full disk fails commits (reported once)
//! until the channel recovers by itself. Tests that craft bytes in the channel's private
//! format stay unit tests beside `recovery`; `flume_crash.rs` is the `kill -9` test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test crate: a failure here is the test failing

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tributary::clock::ManualClock;
use tributary::flume::file_channel::{DiskFull, RETRY_MAX_MS, RETRY_MIN_MS};
use tributary::flume::{
    Channel, ChannelError, Event, FileChannel, FileChannelConfig, FileChannelEnv, FileChannelError,
    Notices, Transaction,
};

fn config(dir: &Path) -> FileChannelConfig {
    let mut c = FileChannelConfig::new(dir.join("ckpt"), dir.join("data"));
    c.channel.capacity = 1000;
    c.channel.transaction_capacity = 100;
    c.channel.keep_alive = Duration::ZERO;
    c
}

fn put_all(ch: &dyn Channel, bodies: &[&str]) {
    let mut tx = Transaction::begin(ch);
    for b in bodies {
        tx.put(Event::new(*b).with_header("k", *b)).unwrap();
    }
    tx.commit().unwrap();
}

fn drain(ch: &dyn Channel) -> Vec<String> {
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
fn crash(ch: FileChannel) {
    drop(ch);
}

fn small(dir: &Path) -> FileChannelConfig {
    let mut c = config(dir);
    c.channel.capacity = 10;
    c.channel.byte_capacity = 1024;
    c.max_file_size = 1024;
    c
}

fn refusal(dir: &Path, c: FileChannelConfig) -> (PathBuf, String) {
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

/// A channel on a disk that can be made full, with a clock the test moves.
fn on_faulty_disk(dir: &Path) -> (FileChannel, Arc<DiskFull>, Arc<ManualClock>, Arc<Notices>) {
    let clock = Arc::new(ManualClock::new(1_000));
    let env = FileChannelEnv {
        clock: clock.clone(),
        notices: Arc::new(Notices::new()),
        disk: Arc::new(DiskFull::default()),
    };
    let (disk, notices) = (env.disk.clone(), env.notices.clone());
    let (ch, _) = FileChannel::open_in("fc", config(dir), env).unwrap();
    (ch, disk, clock, notices)
}

fn try_put(ch: &dyn Channel, body: &str) -> Result<(), ChannelError> {
    let mut tx = Transaction::begin(ch);
    tx.put(Event::new(body).with_header("k", body)).unwrap();
    let result = tx.commit();
    if result.is_err() {
        tx.rollback();
    }
    result
}

#[test]
fn committed_untaken_events_survive_a_crash_and_uncommitted_do_not() {
    let dir = tempfile::tempdir().unwrap();
    let (ch, report) = FileChannel::open("fc", config(dir.path())).unwrap();
    assert_eq!(report.events_recovered, 0);
    put_all(&ch, &["a", "b", "c", "d"]);
    // A committed take of "a".
    let mut tx = Transaction::begin(&ch);
    tx.take().unwrap();
    tx.commit().unwrap();
    drop(tx);
    // An open take of "b" and an open put of "x" at the moment of the crash.
    let mut open_take = Transaction::begin(&ch);
    open_take.take().unwrap();
    let mut open_put = Transaction::begin(&ch);
    open_put.put(Event::new("x").with_header("k", "x")).unwrap();
    std::mem::forget(open_take);
    std::mem::forget(open_put);
    crash(ch);

    let (ch, report) = FileChannel::open("fc", config(dir.path())).unwrap();
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    assert_eq!(report.events_recovered, 3);
    assert_eq!(drain(&ch), ["b", "c", "d"]);
}

#[test]
fn recovery_combines_checkpoint_and_later_log() {
    let dir = tempfile::tempdir().unwrap();
    let (ch, _) = FileChannel::open("fc", config(dir.path())).unwrap();
    put_all(&ch, &["1", "2", "3"]);
    // Event "1" is taken by a transaction that is open during the checkpoint and
    // commits after it: the take must be replayed against the checkpoint.
    let mut tx = Transaction::begin(&ch);
    tx.take().unwrap();
    ch.checkpoint().unwrap();
    tx.commit().unwrap();
    drop(tx);
    put_all(&ch, &["4"]);
    crash(ch);
    let (ch, report) = FileChannel::open("fc", config(dir.path())).unwrap();
    assert_eq!(report.from_checkpoint, 3);
    assert_eq!(report.commits_replayed, 2);
    assert_eq!(drain(&ch), ["2", "3", "4"]);
}

#[test]
fn periodic_checkpoint_follows_the_clock() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(0));
    let mut c = config(dir.path());
    c.checkpoint_interval_ms = 1000;
    let (ch, _) = FileChannel::open_with_clock("fc", c.clone(), clock.clone()).unwrap();
    put_all(&ch, &["a"]);
    clock.advance(1000);
    put_all(&ch, &["b"]); // this commit triggers a checkpoint covering a and b
    put_all(&ch, &["c"]);
    crash(ch);
    let (ch, report) = FileChannel::open("fc", c).unwrap();
    assert_eq!((report.from_checkpoint, report.commits_replayed), (2, 1));
    assert_eq!(drain(&ch), ["a", "b", "c"]);
}

#[test]
fn a_second_open_of_the_same_folder_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (_ch, _) = FileChannel::open("fc", config(dir.path())).unwrap();
    assert!(matches!(
        FileChannel::open("fc2", config(dir.path())),
        Err(FileChannelError::InUse { .. })
    ));
}

#[test]
fn a_log_holding_more_than_the_capacity_is_refused_naming_the_log() {
    for (events, bytes) in [(10, 1 << 20), (100, 500)] {
        let dir = tempfile::tempdir().unwrap();
        let (ch, _) = FileChannel::open("fc", config(dir.path())).unwrap();
        let bodies: Vec<String> = (0..11).map(|i| format!("event {i}")).collect();
        put_all(&ch, &bodies.iter().map(String::as_str).collect::<Vec<_>>());
        crash(ch);
        let mut c = small(dir.path());
        c.channel.capacity = events;
        c.channel.byte_capacity = bytes;
        c.max_file_size = 1 << 20;
        let (path, message) = refusal(dir.path(), c);
        assert!(path.starts_with(dir.path().join("data")), "{message}");
        assert!(message.contains("holds more than"), "{message}");
    }
}

#[test]
fn a_full_disk_is_reported_once_and_the_channel_resumes_by_itself() {
    let dir = tempfile::tempdir().unwrap();
    let (ch, disk, clock, notices) = on_faulty_disk(dir.path());
    put_all(&ch, &["before"]);
    disk.set(true);
    for i in 0..5 {
        assert!(try_put(&ch, &format!("lost{i}")).is_err());
    }
    let stats = ch.counters().snapshot();
    assert_eq!(stats.io_failures, 5);
    assert!(ch.counters().last_error().is_some());
    let said = notices.drain();
    assert_eq!(said.len(), 1, "one line per episode: {said:?}");
    assert_eq!(said[0].severity, tributary::flume::Severity::Error);
    assert!(said[0].text.contains("cannot write its log"), "{said:?}");
    // Space returns; the next try comes after the back-off, with no restart.
    disk.set(false);
    let mut tries = 0;
    while try_put(&ch, "after").is_err() {
        tries += 1;
        assert!(tries < 100, "never resumed");
        clock.advance(RETRY_MIN_MS);
    }
    put_all(&ch, &["later"]);
    assert!(ch.counters().last_error().is_none());
    let said = notices.drain();
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(said[0].text.contains("writing again"), "{said:?}");
    // What was committed is exactly what a crash recovers.
    crash(ch);
    let (ch, report) = FileChannel::open("fc", config(dir.path())).unwrap();
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    assert_eq!(drain(&ch), ["before", "after", "later"]);
}

#[test]
fn retries_back_off_while_the_disk_stays_full() {
    let dir = tempfile::tempdir().unwrap();
    let (ch, disk, clock, _) = on_faulty_disk(dir.path());
    disk.set(true);
    // The first failure, then the immediate try, fail; the wait then doubles.
    assert!(try_put(&ch, "a").is_err());
    let mut waits = Vec::new();
    for _ in 0..8 {
        let err = try_put(&ch, "a").unwrap_err().to_string();
        if let Some(rest) = err.split("next try in ").nth(1) {
            let ms: u64 = rest.trim_end_matches(" ms").parse().unwrap();
            waits.push(ms);
            clock.advance(ms);
        }
    }
    assert!(waits.windows(2).all(|w| w[1] >= w[0]), "{waits:?}");
    assert!(waits.iter().all(|&w| w <= RETRY_MAX_MS), "{waits:?}");
    assert_eq!(waits.last(), Some(&RETRY_MAX_MS), "{waits:?}");
}

#[test]
fn a_failed_checkpoint_at_close_is_an_error_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (ch, disk, _, _) = on_faulty_disk(dir.path());
    put_all(&ch, &["a", "b"]);
    disk.set(true);
    let err = ch.close().unwrap_err().to_string();
    assert!(
        err.contains("checkpoint") && err.contains("replays"),
        "{err}"
    );
    assert!(ch.counters().last_error().is_some());
    drop(ch);
    let (ch, _) = FileChannel::open("fc", config(dir.path())).unwrap();
    assert_eq!(drain(&ch), ["a", "b"]);
}

#[test]
fn two_channels_sharing_a_checkpoint_folder_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let a = FileChannelConfig::new(dir.path().join("ck"), dir.path().join("a-data"));
    let b = FileChannelConfig::new(dir.path().join("ck"), dir.path().join("b-data"));
    let (_a, _) = FileChannel::open("a", a).unwrap();
    match FileChannel::open("b", b) {
        Err(FileChannelError::InUse { channel, path }) => {
            assert_eq!(channel, "b");
            assert_eq!(path, dir.path().join("ck"));
        }
        Err(other) => panic!("wrong error: {other}"),
        Ok(_) => panic!("a shared checkpoint folder was accepted"),
    }
    // One channel may keep both in one folder.
    let one = FileChannelConfig::new(dir.path().join("both"), dir.path().join("both"));
    let (ch, _) = FileChannel::open("c", one.clone()).unwrap();
    put_all(&ch, &["x"]);
    crash(ch);
    let (ch, _) = FileChannel::open("c", one).unwrap();
    assert_eq!(drain(&ch), ["x"]);
}

#[test]
fn a_log_file_numbered_at_the_end_of_u64_is_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let (ch, _) = FileChannel::open("fc", config(dir.path())).unwrap();
    crash(ch);
    fs::write(
        dir.path().join("data").join(format!("log-{}", u64::MAX)),
        b"",
    )
    .unwrap();
    assert!(matches!(
        FileChannel::open("fc", config(dir.path())),
        Err(FileChannelError::CorruptLog { .. })
    ));
}
