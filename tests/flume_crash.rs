//! The file channel survives `kill -9`.
//!
//! The parent re-runs this test binary as a child ("writer" role, selected by an
//! environment variable) that puts, takes and commits in a seeded loop against a file
//! channel, keeping a journal (fsynced) of what it attempted, committed and delivered. The
//! parent SIGKILLs it after it reports progress through its stdout pipe (no sleeps), several
//! rounds in a row, then reopens the channel, drains it and checks:
//! every committed put was delivered before a crash or is still in the channel; nothing that
//! was rolled back or never committed appears; duplicates are limited to the one batch a
//! child may have delivered but not yet committed when it was killed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test crate: a failure here is the test failing

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use tributary::flume::{Event, FileChannel, FileChannelConfig, Transaction};

const DIR_VAR: &str = "TRIBUTARY_FLUME_CRASH_DIR";
const ROUND_VAR: &str = "TRIBUTARY_FLUME_CRASH_ROUND";
const SEED: u64 = 0x005e_edf1;
/// Kill points (child progress counts) for each round.
const KILL_AFTER: [u64; 4] = [150, 400, 60, 900];

fn channel_config(dir: &Path) -> FileChannelConfig {
    let mut c = FileChannelConfig::new(dir.join("ckpt"), dir.join("data"));
    c.channel.capacity = 5_000;
    c.channel.transaction_capacity = 16;
    c.channel.keep_alive = Duration::ZERO;
    // Frequent checkpoints, so kills land before, during and after them.
    c.checkpoint_interval_ms = 15;
    c.max_file_size = 16 * 1024;
    c
}

/// Appends a journal line. One unbuffered `write` per line: the kernel has it once the call
/// returns, and a SIGKILL (unlike a power cut) cannot take it back, so only deliveries are
/// also fsynced. Syncing every line would make every kill land in the same place (the
/// journal's fsync); this way kills land all over the put/take/commit/checkpoint cycle.
fn journal_line(journal: &mut File, line: String, sync: bool) {
    journal.write_all(line.as_bytes()).unwrap();
    if sync {
        journal.sync_data().unwrap();
    }
}

fn ids_text(ids: &[u64]) -> String {
    ids.iter().map(u64::to_string).collect::<Vec<_>>().join(",")
}

/// The child role. A no-op when run as an ordinary test.
#[test]
fn crash_child_writer() {
    let Ok(dir) = std::env::var(DIR_VAR) else {
        return;
    };
    let round: u64 = std::env::var(ROUND_VAR).unwrap().parse().unwrap();
    let dir = Path::new(&dir);
    let (channel, report) = FileChannel::open("crash", channel_config(dir)).unwrap();
    eprintln!("child round {round}: recovered {report:?}");
    let mut journal = OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("journal.txt"))
        .unwrap();
    journal_line(&mut journal, format!("S {round}\n"), false);
    let mut rng = common::SeededRng(SEED ^ (round + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    let mut next_id = round * 1_000_000;
    let stdout = std::io::stdout();
    for step in 0..1_000_000u64 {
        if rng.below(100) < 55 {
            let n = 1 + rng.below(8) as u64;
            let ids: Vec<u64> = (next_id..next_id + n).collect();
            next_id += n;
            journal_line(&mut journal, format!("A {}\n", ids_text(&ids)), false);
            let mut tx = Transaction::begin(&channel);
            for id in &ids {
                tx.put(Event::new(id.to_string()).with_header("id", id.to_string()))
                    .unwrap();
            }
            let deliberate_rollback = rng.below(100) < 15;
            if deliberate_rollback || tx.commit().is_err() {
                tx.rollback();
                journal_line(&mut journal, format!("R {}\n", ids_text(&ids)), false);
            } else {
                drop(tx);
                journal_line(&mut journal, format!("C {}\n", ids_text(&ids)), false);
            }
        } else {
            let want = 1 + rng.below(8);
            let commit = rng.below(100) >= 15;
            let mut tx = Transaction::begin(&channel);
            let mut ids = Vec::new();
            for _ in 0..want {
                match tx.take().unwrap() {
                    Some(e) => ids.push(e.body_text().parse::<u64>().unwrap()),
                    None => break,
                }
            }
            if commit && !ids.is_empty() {
                // Deliver first (durably), then commit: at-least-once, like a real sink.
                journal_line(&mut journal, format!("D {}\n", ids_text(&ids)), true);
                tx.commit().unwrap();
            } else {
                tx.rollback();
            }
        }
        let mut out = stdout.lock();
        writeln!(out, "PROGRESS {step}").unwrap();
        out.flush().unwrap();
    }
}

#[derive(Default)]
struct Journal {
    attempted: BTreeSet<u64>,
    committed: BTreeSet<u64>,
    rolled_back: BTreeSet<u64>,
    /// Delivery count per id.
    delivered: BTreeMap<u64, u32>,
    /// The final delivery batch of each round: delivered, commit possibly lost to the kill.
    last_delivery_per_round: Vec<BTreeSet<u64>>,
}

fn read_journal(path: &Path) -> Journal {
    let text = std::fs::read_to_string(path).unwrap();
    let mut j = Journal::default();
    let mut round = 0usize;
    let complete = match text.rfind('\n') {
        Some(end) => &text[..=end],
        None => "",
    };
    for line in complete.lines() {
        let (kind, rest) = line.split_at(1);
        let ids: Vec<u64> = rest
            .trim()
            .split(',')
            .filter(|s| !s.is_empty())
            .map(|s| s.parse().unwrap())
            .collect();
        match kind {
            "S" => {
                round = ids[0] as usize;
                j.last_delivery_per_round.resize(round + 1, BTreeSet::new());
            }
            "A" => j.attempted.extend(ids),
            "C" => j.committed.extend(ids),
            "R" => j.rolled_back.extend(ids),
            "D" => {
                for id in &ids {
                    *j.delivered.entry(*id).or_default() += 1;
                }
                j.last_delivery_per_round[round] = ids.into_iter().collect();
            }
            other => panic!("unknown journal line kind {other:?}"),
        }
    }
    j
}

#[test]
fn file_channel_survives_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut warnings = 0;
    for (round, &kill_after) in KILL_AFTER.iter().enumerate() {
        let mut child = Command::new(&exe)
            .args([
                "crash_child_writer",
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(DIR_VAR, dir.path())
            .env(ROUND_VAR, round.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut reached = false;
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap();
            if let Some(n) = line.strip_prefix("PROGRESS ")
                && n.trim().parse::<u64>().unwrap() >= kill_after
            {
                // SIGKILL on Unix: no destructors, no checkpoint on close.
                child.kill().unwrap();
                reached = true;
                break;
            }
        }
        let status = child.wait().unwrap();
        assert!(
            reached,
            "child ended before reaching {kill_after}: {status:?}"
        );
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(libc::SIGKILL));
    }

    let (channel, report) = FileChannel::open("crash", channel_config(dir.path())).unwrap();
    warnings += report.warnings.len();
    let mut drained = Vec::new();
    loop {
        let mut tx = Transaction::begin(&channel);
        let mut got = 0;
        while let Some(e) = tx.take().unwrap() {
            assert_eq!(e.headers.get("id"), Some(&e.body_text().into_owned()));
            drained.push(e.body_text().parse::<u64>().unwrap());
            got += 1;
            if got == 16 {
                break;
            }
        }
        tx.commit().unwrap();
        if got == 0 {
            break;
        }
    }
    let drained_set: BTreeSet<u64> = drained.iter().copied().collect();
    assert_eq!(drained_set.len(), drained.len(), "an event drained twice");

    let j = read_journal(&dir.path().join("journal.txt"));
    assert!(!j.committed.is_empty() && !j.delivered.is_empty());

    // No committed event lost.
    for id in &j.committed {
        assert!(
            j.delivered.contains_key(id) || drained_set.contains(id),
            "committed event {id} was lost"
        );
    }
    // Nothing rolled back or never attempted appears.
    for id in drained_set.iter().chain(j.delivered.keys()) {
        assert!(j.attempted.contains(id), "event {id} was never put");
        assert!(
            !j.rolled_back.contains(id),
            "rolled-back event {id} appeared"
        );
    }
    // Uncommitted puts: only the one in-flight put per round (at the kill) may be in doubt.
    let in_doubt: BTreeSet<u64> = j
        .attempted
        .iter()
        .filter(|id| !j.committed.contains(id) && !j.rolled_back.contains(id))
        .copied()
        .collect();
    let rounds_in_doubt: BTreeSet<u64> = in_doubt.iter().map(|id| id / 1_000_000).collect();
    assert!(in_doubt.len() <= KILL_AFTER.len() * 8);
    assert!(rounds_in_doubt.len() <= KILL_AFTER.len());
    // Duplicates only from a batch delivered right before a kill.
    let last: BTreeSet<u64> = j
        .last_delivery_per_round
        .iter()
        .flatten()
        .copied()
        .collect();
    for (id, count) in &j.delivered {
        if *count > 1 || drained_set.contains(id) {
            assert!(
                last.contains(id),
                "event {id} delivered twice without a crash"
            );
        }
    }
    // Count form of the same property: delivered + drained - duplicates = committed
    // (plus in-doubt puts whose commit reached the disk before the kill).
    let mut union: BTreeSet<u64> = j.delivered.keys().copied().collect();
    union.extend(&drained_set);
    let extra: BTreeSet<u64> = union.difference(&j.committed).copied().collect();
    assert!(extra.is_subset(&in_doubt));
    assert_eq!(union.len(), j.committed.len() + extra.len());
    eprintln!(
        "crash test: {} committed, {} delivered before kills, {} drained after, {} in-doubt recovered, {} recovery warnings",
        j.committed.len(),
        j.delivered.len(),
        drained_set.len(),
        extra.len(),
        warnings
    );
}
