//! The file channel: the shared queue plus a write-ahead log and checkpoints, so committed
//! events survive a crash (even `kill -9`) and uncommitted ones never reappear.
//!
//! # On disk
//! - `dataDirs/log-<n>`: append-only logs. A transaction's records (`put` with the event,
//!   `take` with the sequence number of the taken event, then `commit`) are appended
//!   together at commit and the file is **fsynced before the commit returns**. A rollback of
//!   a transaction that took events appends a `rollback` record (informational).
//! - `checkpointDir/checkpoint`: a snapshot of the queue (including events taken by open
//!   transactions, which are still logically in the channel) and the number of the first log
//!   file not covered by it. Written to a temporary file, fsynced, renamed. After each
//!   checkpoint a new log file starts and older ones are deleted (compaction).
//! - `in_use.lock` in both folders: an exclusive lock, so no two channels (in this run or
//!   another process) share a log or a checkpoint.
//!
//! Every record and the checkpoint carry their length and a CRC32 of their bytes. On open the
//! channel loads the checkpoint and replays the later logs: commits apply their puts and
//! takes, anything without a commit record is dropped. A torn final record (a crash in the
//! middle of a write) is reported as a warning and recovery stops there; a bad record
//! anywhere else is an error naming the file and offset, because silently skipping it could
//! lose or resurrect events. Sequence and transaction numbers beyond [`MAX_SEQUENCE`] are
//! refused as corrupt, so nothing computed from them can wrap around.
//!
//! # When a write fails
//! A failed append (a full disk, say) may leave a partial record at the end of the log, so
//! nothing more is appended to that file: commits fail (sources retry, sinks roll back;
//! nothing committed is lost) and the run log says so once. Commits keep coming, and each
//! one past the retry time tries to recover by writing a checkpoint, which starts a fresh
//! log file; the wait between tries doubles from [`RETRY_MIN_MS`] to [`RETRY_MAX_MS`].
//! When a try succeeds the channel carries on by itself and the run log says so.
//!
//! # Modules
//! `codec` (the bytes of records, events and checkpoints, and the largest files a
//! channel can write), `journal` (appending, fsync at commit, checkpoints, compaction,
//! the failed-write rules), `recovery` (checkpoint plus log replay on open) and `layout`
//! (file names, listing, locks). This file holds the channel's settings, errors and
//! `open`.

mod codec;
mod journal;
mod layout;
mod recovery;
#[cfg(test)]
mod test_support;

use std::collections::{BTreeMap, VecDeque};
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use thiserror::Error;

use super::Event;
use super::channel::{ChannelConfig, DEFAULT_BYTE_CAPACITY, QueueChannel};
use super::notice::Notices;
use super::util::Settings;
use crate::clock::{Clock, SystemClock};
use crate::model::Value;
use crate::policy::{Grant, PathUse, path_entries};

pub use codec::{ENCODED_BYTES_PER_COUNTED_BYTE, max_checkpoint_bytes, max_log_bytes};
pub use journal::FileJournal;

/// Largest sequence or transaction number recovery accepts. No channel comes near 2^62
/// events, and the headroom means adding to a recovered number cannot overflow.
pub const MAX_SEQUENCE: u64 = 1 << 62;
/// First wait before a channel whose log write failed tries to write again.
pub const RETRY_MIN_MS: u64 = 100;
/// Longest wait between tries (the wait doubles after each failed try).
pub const RETRY_MAX_MS: u64 = 5_000;
/// Default `checkpointInterval`, Flume's (ms).
pub const DEFAULT_CHECKPOINT_INTERVAL_MS: u64 = 30_000;
/// Default `maxFileSize`, Flume's: a log file larger than this is closed and a new one
/// started.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 2_146_435_071;

/// Why a file channel could not open or recover. Corruption names the file and offset so
/// the user can inspect or move it aside deliberately.
#[derive(Debug, Error)]
pub enum FileChannelError {
    #[error("file channel '{channel}': {path}: {source}")]
    Io {
        channel: String,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("file channel '{channel}': corrupt log {path} at byte {offset}: {reason}")]
    CorruptLog {
        channel: String,
        path: PathBuf,
        offset: u64,
        reason: String,
    },
    #[error("file channel '{channel}': corrupt checkpoint {path}: {reason}")]
    CorruptCheckpoint {
        channel: String,
        path: PathBuf,
        reason: String,
    },
    #[error(
        "file channel '{channel}': {path} is in use by another channel or process; give every file channel its own checkpointDir and dataDirs"
    )]
    InUse { channel: String, path: PathBuf },
    #[error(
        "file channel '{channel}': {path} {reason}; if the data is yours, raise the channel's capacity or byteCapacity to what it was written with, otherwise move the file aside"
    )]
    TooMuch {
        channel: String,
        path: PathBuf,
        reason: String,
    },
}

/// Settings of a file channel, with Flume's property names in the docs.
#[derive(Debug, Clone, PartialEq)]
pub struct FileChannelConfig {
    pub channel: ChannelConfig,
    /// `checkpointDir`.
    pub checkpoint_dir: PathBuf,
    /// `dataDirs` (one folder here).
    pub data_dir: PathBuf,
    /// `checkpointInterval` in milliseconds.
    pub checkpoint_interval_ms: u64,
    /// `maxFileSize`: a log file larger than this is closed and a new one started.
    pub max_file_size: u64,
    /// `checkpointOnClose`.
    pub checkpoint_on_close: bool,
}

impl FileChannelConfig {
    pub fn new(checkpoint_dir: impl Into<PathBuf>, data_dir: impl Into<PathBuf>) -> Self {
        Self {
            channel: ChannelConfig {
                capacity: 1_000_000,
                transaction_capacity: 10_000,
                keep_alive: Duration::from_secs(3),
                byte_capacity: DEFAULT_BYTE_CAPACITY,
            },
            checkpoint_dir: checkpoint_dir.into(),
            data_dir: data_dir.into(),
            checkpoint_interval_ms: DEFAULT_CHECKPOINT_INTERVAL_MS,
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            checkpoint_on_close: true,
        }
    }

    /// Reads Flume's properties from a node config; relative folders resolve against `base`.
    /// `byteCapacity` bounds the events the channel keeps in memory (Tributary keeps them
    /// all, Flume keeps pointers), [`DEFAULT_BYTE_CAPACITY`] by default.
    pub fn from_node_config(
        node: &str,
        config: &BTreeMap<String, Value>,
        grant: &Grant,
    ) -> Result<Self, String> {
        let s = Settings::new("file", config);
        let c = s.flume();
        let dir = |key: &str| {
            let raw = s.str(key);
            // Flume allows a comma-separated list of data dirs; the first is used here
            // (the policy checked them all).
            let first = path_entries(PathUse::WriteFolder, &raw)
                .first()
                .map_or_else(|| s.default_str(key), |e| e.to_string());
            grant
                .path(node, key, PathUse::WriteFolder, &first)
                .map_err(|r| r.to_string())
        };
        let mut out = Self::new(dir("checkpointDir")?, dir("dataDirs")?);
        out.channel.capacity = s.size("capacity");
        out.channel.transaction_capacity = s.size("transactionCapacity");
        out.channel.keep_alive = s.secs("keep-alive");
        out.channel.byte_capacity = byte_capacity(config);
        out.checkpoint_interval_ms = s.uint("checkpointInterval");
        out.max_file_size = c.uint("maxFileSize", DEFAULT_MAX_FILE_SIZE).max(1024);
        out.checkpoint_on_close = c.bool("checkpointOnClose", true);
        Ok(out)
    }
}

/// `byteCapacity` of a file channel node as it runs ([`DEFAULT_BYTE_CAPACITY`] unset).
pub fn byte_capacity(config: &BTreeMap<String, Value>) -> u64 {
    Settings::new("file", config).uint("byteCapacity")
}

/// What recovery found, for the run log and tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecoveryReport {
    /// Events in the channel after recovery.
    pub events_recovered: usize,
    pub from_checkpoint: usize,
    /// Transactions committed in the replayed logs.
    pub commits_replayed: usize,
    /// Transactions with records but no commit: dropped, as they never committed.
    pub uncommitted_dropped: usize,
    /// Non-fatal findings, e.g. a torn final record after a crash.
    pub warnings: Vec<String>,
}

/// A stand-in for a full disk, so tests can act one out: while set, every write the
/// channel makes (log records, checkpoints) writes half of its bytes and then fails with
/// "No space left on device", as a real full disk can leave a partial record behind.
#[doc(hidden)]
#[derive(Debug, Default)]
pub struct DiskFull(AtomicBool);

impl DiskFull {
    pub fn set(&self, full: bool) {
        self.0.store(full, Ordering::SeqCst);
    }

    pub(super) fn write_all(&self, file: &mut File, bytes: &[u8]) -> std::io::Result<()> {
        if self.0.load(Ordering::SeqCst) {
            file.write_all(&bytes[..bytes.len() / 2])?;
            return Err(std::io::Error::from_raw_os_error(libc::ENOSPC));
        }
        file.write_all(bytes)
    }
}

/// What a file channel works with besides its config: the clock (checkpoint interval,
/// retry waits), where it reports failures for the run log, and the disk seam for tests.
#[derive(Clone)]
pub struct FileChannelEnv {
    pub clock: Arc<dyn Clock>,
    pub notices: Arc<Notices>,
    #[doc(hidden)]
    pub disk: Arc<DiskFull>,
}

impl Default for FileChannelEnv {
    fn default() -> Self {
        Self {
            clock: Arc::new(SystemClock),
            notices: Arc::new(Notices::new()),
            disk: Arc::new(DiskFull::default()),
        }
    }
}

/// Flume's `file` channel.
pub type FileChannel = QueueChannel<FileJournal>;

impl FileChannel {
    /// Opens (creating folders as needed) and recovers the channel.
    pub fn open(
        name: &str,
        config: FileChannelConfig,
    ) -> Result<(Self, RecoveryReport), FileChannelError> {
        Self::open_in(name, config, FileChannelEnv::default())
    }

    pub fn open_with_clock(
        name: &str,
        config: FileChannelConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<(Self, RecoveryReport), FileChannelError> {
        Self::open_in(
            name,
            config,
            FileChannelEnv {
                clock,
                ..FileChannelEnv::default()
            },
        )
    }

    pub fn open_in(
        name: &str,
        config: FileChannelConfig,
        env: FileChannelEnv,
    ) -> Result<(Self, RecoveryReport), FileChannelError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            let channel = name.to_string();
            move |source| FileChannelError::Io {
                channel,
                path,
                source,
            }
        };
        fs::create_dir_all(&config.data_dir).map_err(io(&config.data_dir))?;
        fs::create_dir_all(&config.checkpoint_dir).map_err(io(&config.checkpoint_dir))?;
        // Both folders are locked: a checkpoint shared with another channel would mix
        // the two queues as surely as a shared log.
        let mut locks = vec![layout::lock_folder(name, &config.data_dir)?];
        if !layout::same_folder(&config.checkpoint_dir, &config.data_dir) {
            locks.push(layout::lock_folder(name, &config.checkpoint_dir)?);
        }

        let recovered = recovery::recover(name, &config)?;
        let mut report = recovered.report;
        // Recovery refused anything beyond capacity and byteCapacity, so the queue
        // fits the channel it is loaded into.
        report.events_recovered = recovered.events.len();
        let queue: VecDeque<(u64, Event)> = recovered.events.into_iter().collect();
        let journal = FileJournal::new(
            name,
            &config,
            env,
            locks,
            recovered.last_index,
            recovered.next_tx,
        );
        let channel = QueueChannel::with_journal(
            name,
            config.channel,
            journal,
            queue,
            recovered.next_seq,
            recovered.next_tx,
        );
        // Start from a clean slate: a checkpoint of what was recovered, a fresh log file,
        // and no old (possibly torn) files left to trip the next recovery.
        channel
            .with_state(|state| channel.journal.checkpoint(state))
            .map_err(|m| FileChannelError::Io {
                channel: name.to_string(),
                path: config.checkpoint_dir.clone(),
                source: std::io::Error::other(m),
            })?;
        Ok((channel, report))
    }

    /// Writes a checkpoint now (also done every `checkpointInterval` and on close).
    pub fn checkpoint(&self) -> Result<(), String> {
        self.with_state(|state| self.journal.checkpoint(state))
    }
}
