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

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use thiserror::Error;

use super::Event;
use super::channel::{
    ChannelConfig, DEFAULT_BYTE_CAPACITY, Journal, QueueChannel, QueueState, event_bytes,
};
use super::notice::{Episode, Notices};
use super::util::{Clock, Settings, SystemClock};
use crate::model::Value;
use crate::policy::{self, Grant, PathUse, path_entries};

const CHECKPOINT_MAGIC: &[u8; 8] = b"TRBCKPT1";
const CHECKPOINT_FILE: &str = "checkpoint";
const LOCK_FILE: &str = "in_use.lock";
/// No legitimate record is this large; a larger length field means a damaged header.
const MAX_RECORD: u32 = 512 * 1024 * 1024;
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

/// Bytes of the checkpoint's header (magic, length, CRC) and of its four numbers.
const CHECKPOINT_FIXED_BYTES: u64 = 20 + 32;
/// Bytes a take or commit record takes in the log, framing included.
const SMALL_RECORD_BYTES: u64 = 8 + 1 + 8 + 8;
/// Most bytes one event takes in a log record or checkpoint entry, per byte it counts
/// against `byteCapacity` ([`event_bytes`]). An event of body `B`, `h` headers of `H`
/// bytes in all is encoded in at most `41 + B + H + 8h` bytes; header keys are distinct,
/// so `h ≤ H + 1`, and that is at most `9 × (64 + B + H)` = 9 × its counted bytes.
pub const ENCODED_BYTES_PER_COUNTED_BYTE: u64 = 9;

/// Largest checkpoint a channel of `config` can write: its fixed part plus the encoding
/// of `byteCapacity` bytes of events (see [`ENCODED_BYTES_PER_COUNTED_BYTE`]). Recovery
/// refuses a larger file before reading it.
pub fn max_checkpoint_bytes(config: &ChannelConfig) -> u64 {
    CHECKPOINT_FIXED_BYTES.saturating_add(
        config
            .byte_capacity
            .saturating_mul(ENCODED_BYTES_PER_COUNTED_BYTE),
    )
}

/// Largest log file a channel of `config` can write: a file is closed once it is past
/// `maxFileSize`, so it ends at most one commit later, and one commit is at most
/// `byteCapacity` bytes of puts (encoded), `transactionCapacity` takes and the commit
/// record. Recovery refuses a larger file before reading it.
pub fn max_log_bytes(config: &FileChannelConfig) -> u64 {
    let takes = (config.channel.transaction_capacity as u64)
        .saturating_add(1)
        .saturating_mul(SMALL_RECORD_BYTES);
    config.max_file_size.saturating_add(
        config
            .channel
            .byte_capacity
            .saturating_mul(ENCODED_BYTES_PER_COUNTED_BYTE)
            .saturating_add(takes),
    )
}

const KIND_PUT: u8 = 1;
const KIND_TAKE: u8 = 2;
const KIND_COMMIT: u8 = 3;
const KIND_ROLLBACK: u8 = 4;

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

    fn write_all(&self, file: &mut File, bytes: &[u8]) -> std::io::Result<()> {
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
        let mut locks = vec![lock_folder(name, &config.data_dir)?];
        if !same_folder(&config.checkpoint_dir, &config.data_dir) {
            locks.push(lock_folder(name, &config.checkpoint_dir)?);
        }

        let recovered = recover(name, &config)?;
        let mut report = recovered.report;
        // Recovery refused anything beyond capacity and byteCapacity, so the queue
        // fits the channel it is loaded into.
        report.events_recovered = recovered.events.len();
        let queue: VecDeque<(u64, Event)> = recovered.events.into_iter().collect();
        let writer = LogWriter {
            data_dir: config.data_dir.clone(),
            checkpoint_dir: config.checkpoint_dir.clone(),
            file: None,
            index: recovered.last_index,
            written: 0,
            max_file_size: config.max_file_size,
            last_checkpoint_ms: env.clock.now_ms(),
            checkpoint_interval_ms: config.checkpoint_interval_ms,
            next_tx_hint: recovered.next_tx,
            failed: None,
            log_failures: Episode::default(),
            checkpoint_failures: Episode::default(),
            checkpoint_retry_ms: 0,
        };
        let journal = FileJournal {
            name: name.to_string(),
            writer: Mutex::new(writer),
            clock: env.clock,
            notices: env.notices,
            disk: env.disk,
            checkpoint_on_close: config.checkpoint_on_close,
            _locks: locks,
        };
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

/// Takes the channel's lock in `dir`.
fn lock_folder(channel: &str, dir: &Path) -> Result<File, FileChannelError> {
    let path = dir.join(LOCK_FILE);
    lock_exclusive(&path).map_err(|e| match e {
        LockError::Busy => FileChannelError::InUse {
            channel: channel.to_string(),
            path: dir.to_path_buf(),
        },
        LockError::Io(source) => FileChannelError::Io {
            channel: channel.to_string(),
            path,
            source,
        },
    })
}

/// Whether two existing folders are the same one (a channel may keep its checkpoint and
/// its log in one folder; it must not then lock itself out).
fn same_folder(a: &Path, b: &Path) -> bool {
    match (fs::canonicalize(a), fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// The file channel's journal: appends records, fsyncs at commit, checkpoints.
pub struct FileJournal {
    name: String,
    writer: Mutex<LogWriter>,
    clock: Arc<dyn Clock>,
    notices: Arc<Notices>,
    disk: Arc<DiskFull>,
    checkpoint_on_close: bool,
    _locks: Vec<File>,
}

/// A failed log: why, and when to try writing again.
struct Failure {
    reason: String,
    retry_at_ms: u64,
    /// The wait after the next failed try.
    next_delay_ms: u64,
}

struct LogWriter {
    data_dir: PathBuf,
    checkpoint_dir: PathBuf,
    file: Option<File>,
    index: u64,
    written: u64,
    max_file_size: u64,
    last_checkpoint_ms: u64,
    checkpoint_interval_ms: u64,
    next_tx_hint: u64,
    /// Set when a write or fsync failed: the log may end in a partial record, so further
    /// appends would put good records after garbage. Commits fail until a checkpoint
    /// starts a fresh file.
    failed: Option<Failure>,
    /// Commits refused while the log is failed, reported once per episode.
    log_failures: Episode,
    /// Periodic checkpoints that failed (the log still has everything), reported once.
    checkpoint_failures: Episode,
    /// No periodic checkpoint is tried before this, after one failed.
    checkpoint_retry_ms: u64,
}

impl LogWriter {
    fn log_path(&self, index: u64) -> PathBuf {
        self.data_dir.join(format!("log-{index}"))
    }

    fn file(&mut self) -> Result<&mut File, String> {
        if self.file.is_none() {
            let path = self.log_path(self.index);
            // Never through a link planted in the folder after the run's check.
            let file = policy::paths::open_for_append(&path)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            self.written = file.metadata().map(|m| m.len()).unwrap_or(0);
            sync_dir(&self.data_dir);
            self.file = Some(file);
        }
        match self.file.as_mut() {
            Some(f) => Ok(f),
            None => Err("log file unavailable".to_string()),
        }
    }

    /// Appends (and with `sync`, fsyncs) `bytes`; a failure marks the log failed, to be
    /// tried again at once on the next commit (`now` is the clock's time).
    fn append(
        &mut self,
        disk: &DiskFull,
        bytes: &[u8],
        sync: bool,
        now: u64,
    ) -> Result<(), String> {
        if let Some(failure) = &self.failed {
            return Err(format!(
                "log unusable after an earlier failure: {}",
                failure.reason
            ));
        }
        if self.written > self.max_file_size {
            self.file = None;
            self.index = self.index.saturating_add(1);
        }
        let path = self.log_path(self.index);
        let result = self.file().and_then(|f| {
            disk.write_all(f, bytes)
                .and_then(|()| if sync { f.sync_data() } else { Ok(()) })
                .map_err(|e| format!("{}: {e}", path.display()))
        });
        match result {
            Ok(()) => {
                self.written = self.written.saturating_add(bytes.len() as u64);
                Ok(())
            }
            Err(e) => {
                self.failed = Some(Failure {
                    reason: e.clone(),
                    retry_at_ms: now,
                    next_delay_ms: RETRY_MIN_MS,
                });
                Err(e)
            }
        }
    }
}

impl FileJournal {
    /// Snapshots `state` and starts a new log file; older files are then deleted.
    fn checkpoint(&self, state: &QueueState) -> Result<(), String> {
        let mut w = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        self.checkpoint_locked(&mut w, state)
    }

    fn checkpoint_locked(&self, w: &mut LogWriter, state: &QueueState) -> Result<(), String> {
        let new_index = w.index.saturating_add(1);
        let mut payload = Vec::new();
        put_u64(&mut payload, new_index);
        put_u64(&mut payload, state.next_seq);
        put_u64(&mut payload, w.next_tx_hint.max(state.next_seq));
        let count = state.in_flight.len() + state.events.len();
        put_u64(&mut payload, count as u64);
        for (seq, event) in state.in_flight.iter() {
            put_u64(&mut payload, *seq);
            encode_event(&mut payload, event);
        }
        for (seq, event) in &state.events {
            put_u64(&mut payload, *seq);
            encode_event(&mut payload, event);
        }
        // The header is written ahead of the payload rather than copied in front of it,
        // so a checkpoint costs one copy of the queue, not two.
        let mut header = Vec::with_capacity(20);
        header.extend_from_slice(CHECKPOINT_MAGIC);
        put_u64(&mut header, payload.len() as u64);
        put_u32(&mut header, crc32fast::hash(&payload));

        let tmp = w.checkpoint_dir.join(format!("{CHECKPOINT_FILE}.tmp"));
        let target = w.checkpoint_dir.join(CHECKPOINT_FILE);
        let write = || -> std::io::Result<()> {
            let mut f = policy::paths::open_for_write(&tmp)?;
            self.disk.write_all(&mut f, &header)?;
            self.disk.write_all(&mut f, &payload)?;
            f.sync_all()?;
            fs::rename(&tmp, &target)?;
            Ok(())
        };
        if let Err(e) = write() {
            // A partial temporary file would only take space a full disk does not have.
            let _ = fs::remove_file(&tmp);
            return Err(format!("checkpoint {}: {e}", target.display()));
        }
        sync_dir(&w.checkpoint_dir);
        // The checkpoint now covers every log file before `new_index`.
        let old_index = w.index;
        w.file = None;
        w.failed = None;
        w.index = new_index;
        w.written = 0;
        w.last_checkpoint_ms = self.clock.now_ms();
        for (index, path) in list_logs(&w.data_dir).unwrap_or_default() {
            if index <= old_index {
                let _ = fs::remove_file(path);
            }
        }
        Ok(())
    }

    /// A failed log gets a chance to recover when its retry time has come: a checkpoint
    /// of the queue as it is starts a fresh log file past any partial record. `Err` while
    /// the log stays unusable.
    fn recover_log(&self, w: &mut LogWriter, state: &QueueState, now: u64) -> Result<(), String> {
        let Some(failure) = &w.failed else {
            return Ok(());
        };
        let (retry_at, delay) = (failure.retry_at_ms, failure.next_delay_ms);
        if now < retry_at {
            return Err(format!(
                "the log is not writable since an earlier failure ({}); next try in {} ms",
                failure.reason,
                retry_at - now
            ));
        }
        match self.checkpoint_locked(w, state) {
            Ok(()) => {
                if let Some(refused) = w.log_failures.recover() {
                    self.notices.info(
                        &self.name,
                        format!(
                            "writing again: the log is usable after {refused} failed commits (sources retried them; nothing committed was lost)"
                        ),
                    );
                }
                Ok(())
            }
            Err(e) => {
                w.failed = Some(Failure {
                    reason: e.clone(),
                    retry_at_ms: now.saturating_add(delay),
                    next_delay_ms: delay.saturating_mul(2).min(RETRY_MAX_MS),
                });
                Err(format!(
                    "the log is still not writable ({e}); next try in {delay} ms"
                ))
            }
        }
    }

    /// Counts a refused commit; the first of an episode goes to the run log.
    fn note_failure(&self, w: &mut LogWriter, message: &str) {
        if w.log_failures.fail() {
            self.notices.error(
                &self.name,
                format!(
                    "cannot write its log: {message}. Commits fail until it can write again (sources retry, nothing committed is lost); it retries by itself, waiting up to {} s between tries",
                    RETRY_MAX_MS / 1000
                ),
            );
        }
    }
}

impl Journal for FileJournal {
    const DURABLE: bool = true;
    /// Half a record: an event this size encodes well within [`MAX_RECORD`].
    const MAX_EVENT_BYTES: u64 = MAX_RECORD as u64 / 2;

    fn commit(
        &self,
        state: &QueueState,
        tx: u64,
        puts: &[(u64, Event)],
        takes: &[u64],
    ) -> Result<(), String> {
        let mut bytes = Vec::new();
        for (seq, event) in puts {
            let mut p = vec![KIND_PUT];
            put_u64(&mut p, tx);
            put_u64(&mut p, *seq);
            encode_event(&mut p, event);
            if p.len() > MAX_RECORD as usize {
                // Recovery would refuse such a record, so it is never written.
                return Err(format!(
                    "an event of {} bytes is too large for the log ({MAX_RECORD} bytes per record)",
                    p.len()
                ));
            }
            frame(&mut bytes, &p);
        }
        for seq in takes {
            let mut p = vec![KIND_TAKE];
            put_u64(&mut p, tx);
            put_u64(&mut p, *seq);
            frame(&mut bytes, &p);
        }
        let mut p = vec![KIND_COMMIT];
        put_u64(&mut p, tx);
        frame(&mut bytes, &p);
        let now = self.clock.now_ms();
        let mut w = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        if let Err(e) = self.recover_log(&mut w, state, now) {
            self.note_failure(&mut w, &e);
            return Err(e);
        }
        w.next_tx_hint = w.next_tx_hint.max(tx.saturating_add(1));
        let appended = w.append(&self.disk, &bytes, true, now);
        if let Err(e) = &appended {
            self.note_failure(&mut w, e);
        }
        appended
    }

    fn rollback(&self, tx: u64, had_takes: bool) {
        if had_takes {
            let mut p = vec![KIND_ROLLBACK];
            put_u64(&mut p, tx);
            let mut bytes = Vec::new();
            frame(&mut bytes, &p);
            let now = self.clock.now_ms();
            let mut w = self.writer.lock().unwrap_or_else(|p| p.into_inner());
            // Informational only: replay drops transactions without a commit anyway. A
            // failure marks the log failed; the next commit reports and recovers it.
            let _ = w.append(&self.disk, &bytes, false, now);
        }
    }

    fn after_commit(&self, state: &QueueState) {
        let now = self.clock.now_ms();
        let mut w = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let due = now.saturating_sub(w.last_checkpoint_ms) >= w.checkpoint_interval_ms
            && now >= w.checkpoint_retry_ms;
        if !due {
            return;
        }
        // A failed periodic checkpoint is not fatal: the log still has everything. It is
        // reported once and tried again after a pause, not at every commit.
        match self.checkpoint_locked(&mut w, state) {
            Ok(()) => {
                if let Some(failed) = w.checkpoint_failures.recover() {
                    self.notices.info(
                        &self.name,
                        format!("checkpoint written again after {failed} failed tries"),
                    );
                }
            }
            Err(e) => {
                w.checkpoint_retry_ms = now.saturating_add(RETRY_MAX_MS);
                if w.checkpoint_failures.fail() {
                    self.notices.error(
                        &self.name,
                        format!(
                            "{e}; the log still holds every committed event, so nothing is lost; retrying every {} s",
                            RETRY_MAX_MS / 1000
                        ),
                    );
                }
            }
        }
    }

    fn close(&self, state: &QueueState) -> Result<(), String> {
        if self.checkpoint_on_close {
            self.checkpoint(state).map_err(|e| {
                format!(
                    "{e}; the log still holds every committed event, and the next open replays it"
                )
            })
        } else {
            Ok(())
        }
    }
}

struct Recovered {
    events: Vec<(u64, Event)>,
    next_seq: u64,
    next_tx: u64,
    last_index: u64,
    report: RecoveryReport,
}

#[derive(Default)]
struct Pending {
    puts: Vec<(u64, Event)>,
    takes: Vec<u64>,
}

/// Reads `path` whole after checking its size against `limit` (also while reading, in
/// case it grows), so a crafted file cannot make recovery read more than the channel
/// could have written.
fn read_bounded(
    name: &str,
    path: &Path,
    limit: u64,
    what: &str,
) -> Result<Vec<u8>, FileChannelError> {
    let io = |source| FileChannelError::Io {
        channel: name.to_string(),
        path: path.to_path_buf(),
        source,
    };
    let too_big = |len: u64| FileChannelError::TooMuch {
        channel: name.to_string(),
        path: path.to_path_buf(),
        reason: format!(
            "is {len} bytes, more than this channel can write ({limit} bytes for {what})"
        ),
    };
    let file = policy::paths::open_for_read(path).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    if len > limit {
        return Err(too_big(len));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > limit {
        return Err(too_big(bytes.len() as u64));
    }
    Ok(bytes)
}

/// The refusal when recovered events would not fit the channel.
fn over_capacity(name: &str, path: &Path, config: &ChannelConfig) -> FileChannelError {
    FileChannelError::TooMuch {
        channel: name.to_string(),
        path: path.to_path_buf(),
        reason: format!(
            "holds more than the channel's capacity ({} events, byteCapacity {} bytes)",
            config.capacity, config.byte_capacity
        ),
    }
}

fn recover(name: &str, config: &FileChannelConfig) -> Result<Recovered, FileChannelError> {
    let mut report = RecoveryReport::default();
    let mut queue: BTreeMap<u64, Event> = BTreeMap::new();
    let mut next_seq = 0;
    let mut next_tx = 0;
    let mut first_index = 0;

    let limits = &config.channel;
    // Bytes of the events in `queue` (counted as the channel counts them), so recovery
    // stops as soon as the queue could not have been this channel's.
    let mut queued_bytes = 0u64;
    let ckpt_path = config.checkpoint_dir.join(CHECKPOINT_FILE);
    let checkpoint_limit = max_checkpoint_bytes(limits);
    match read_bounded(name, &ckpt_path, checkpoint_limit, "a checkpoint") {
        Ok(bytes) => {
            let corrupt = |reason: &str| FileChannelError::CorruptCheckpoint {
                channel: name.to_string(),
                path: ckpt_path.clone(),
                reason: reason.to_string(),
            };
            if bytes.len() < 20 || &bytes[..8] != CHECKPOINT_MAGIC {
                return Err(corrupt("not a checkpoint file (bad header)"));
            }
            let mut r = Reader::new(&bytes[8..]);
            let len = r.u64().ok_or_else(|| corrupt("truncated header"))? as usize;
            let crc = r.u32().ok_or_else(|| corrupt("truncated header"))?;
            let payload = r
                .bytes(len)
                .ok_or_else(|| corrupt("shorter than its recorded length"))?;
            if crc32fast::hash(payload) != crc {
                return Err(corrupt("checksum mismatch"));
            }
            let mut p = Reader::new(payload);
            let bad = || corrupt("malformed contents");
            let out_of_range = |what: &str, n: u64| {
                corrupt(&format!(
                    "{what} {n} is beyond {MAX_SEQUENCE}, which no channel reaches"
                ))
            };
            first_index = p.u64().ok_or_else(bad)?;
            next_seq = p.u64().ok_or_else(bad)?;
            next_tx = p.u64().ok_or_else(bad)?;
            for (what, n) in [
                ("log file number", first_index),
                ("next sequence number", next_seq),
                ("next transaction number", next_tx),
            ] {
                if n > MAX_SEQUENCE {
                    return Err(out_of_range(what, n));
                }
            }
            let count = p.u64().ok_or_else(bad)?;
            if count > limits.capacity as u64 {
                return Err(over_capacity(name, &ckpt_path, limits));
            }
            for _ in 0..count {
                let seq = p.u64().ok_or_else(bad)?;
                if seq >= next_seq {
                    return Err(corrupt(&format!(
                        "event {seq} is not below the next sequence number {next_seq}"
                    )));
                }
                let event = decode_event(&mut p).ok_or_else(bad)?;
                queued_bytes = queued_bytes.saturating_add(event_bytes(&event));
                if queued_bytes > limits.byte_capacity {
                    return Err(over_capacity(name, &ckpt_path, limits));
                }
                if let Some(replaced) = queue.insert(seq, event) {
                    queued_bytes = queued_bytes.saturating_sub(event_bytes(&replaced));
                }
            }
            report.from_checkpoint = queue.len();
        }
        Err(FileChannelError::Io { source, .. })
            if source.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }

    let logs: Vec<(u64, PathBuf)> = list_logs(&config.data_dir)
        .map_err(|source| FileChannelError::Io {
            channel: name.to_string(),
            path: config.data_dir.clone(),
            source,
        })?
        .into_iter()
        .filter(|(index, _)| *index >= first_index)
        .collect();
    let mut pending: HashMap<u64, Pending> = HashMap::new();
    // Bytes of uncommitted puts: a legitimate log holds at most one torn transaction,
    // and a transaction puts at most byteCapacity bytes.
    let mut pending_bytes = 0u64;
    let log_limit = max_log_bytes(config);
    let mut last_index = first_index;
    for (position, (index, path)) in logs.iter().enumerate() {
        if *index > MAX_SEQUENCE {
            return Err(FileChannelError::CorruptLog {
                channel: name.to_string(),
                path: path.clone(),
                offset: 0,
                reason: format!(
                    "log file number {index} is beyond {MAX_SEQUENCE}, which no channel reaches"
                ),
            });
        }
        last_index = *index;
        let is_last = position + 1 == logs.len();
        let bytes = read_bounded(
            name,
            path,
            log_limit,
            "a log file: maxFileSize plus one transaction",
        )?;
        let corrupt = |offset: usize, reason: String| FileChannelError::CorruptLog {
            channel: name.to_string(),
            path: path.clone(),
            offset: offset as u64,
            reason,
        };
        let mut pos = 0usize;
        while pos < bytes.len() {
            let rest = bytes.len() - pos;
            let torn = |reason: &str| {
                format!(
                    "{}: torn record at byte {pos} ({reason}); the last {rest} bytes were dropped, as a crash mid-write leaves them",
                    path.display()
                )
            };
            if rest < 8 {
                if is_last {
                    report.warnings.push(torn("incomplete header"));
                    break;
                }
                return Err(corrupt(pos, "truncated record header".into()));
            }
            let mut h = Reader::new(&bytes[pos..pos + 8]);
            let (len, crc) = match (h.u32(), h.u32()) {
                (Some(l), Some(c)) => (l, c),
                _ => return Err(corrupt(pos, "unreadable record header".into())),
            };
            if len > MAX_RECORD {
                return Err(corrupt(pos, format!("impossible record length {len}")));
            }
            let end = pos + 8 + len as usize;
            if end > bytes.len() {
                if is_last {
                    report.warnings.push(torn("record runs past end of file"));
                    break;
                }
                return Err(corrupt(pos, "record runs past end of file".into()));
            }
            let payload = &bytes[pos + 8..end];
            if crc32fast::hash(payload) != crc {
                if is_last && end == bytes.len() {
                    report
                        .warnings
                        .push(torn("checksum mismatch in final record"));
                    break;
                }
                return Err(corrupt(pos, "checksum mismatch".into()));
            }
            let mut p = Reader::new(payload);
            let mut over = false;
            const MALFORMED: &str = "malformed record contents";
            const OUT_OF_RANGE: &str = "transaction or sequence number beyond the largest a channel reaches (the log is damaged or crafted)";
            let record = (|| -> Result<(), &'static str> {
                let kind = p.u8().ok_or(MALFORMED)?;
                let tx = p.u64().ok_or(MALFORMED)?;
                if tx > MAX_SEQUENCE {
                    return Err(OUT_OF_RANGE);
                }
                next_tx = next_tx.max(tx + 1);
                match kind {
                    KIND_PUT => {
                        let seq = p.u64().ok_or(MALFORMED)?;
                        if seq > MAX_SEQUENCE {
                            return Err(OUT_OF_RANGE);
                        }
                        let event = decode_event(&mut p).ok_or(MALFORMED)?;
                        next_seq = next_seq.max(seq + 1);
                        pending_bytes = pending_bytes.saturating_add(event_bytes(&event));
                        over |= pending_bytes > limits.byte_capacity;
                        pending.entry(tx).or_default().puts.push((seq, event));
                    }
                    KIND_TAKE => {
                        let seq = p.u64().ok_or(MALFORMED)?;
                        pending.entry(tx).or_default().takes.push(seq);
                    }
                    KIND_COMMIT => {
                        let done = pending.remove(&tx).unwrap_or_default();
                        for (seq, event) in done.puts {
                            let counted = event_bytes(&event);
                            pending_bytes = pending_bytes.saturating_sub(counted);
                            queued_bytes = queued_bytes.saturating_add(counted);
                            if let Some(replaced) = queue.insert(seq, event) {
                                queued_bytes = queued_bytes.saturating_sub(event_bytes(&replaced));
                            }
                        }
                        for seq in done.takes {
                            if let Some(taken) = queue.remove(&seq) {
                                queued_bytes = queued_bytes.saturating_sub(event_bytes(&taken));
                            } else {
                                report.warnings.push(format!(
                                    "{}: transaction {tx} took event {seq}, which was not in the channel",
                                    path.display()
                                ));
                            }
                        }
                        report.commits_replayed += 1;
                    }
                    KIND_ROLLBACK => {
                        if let Some(dropped) = pending.remove(&tx) {
                            let bytes = dropped
                                .puts
                                .iter()
                                .fold(0u64, |sum, (_, e)| sum.saturating_add(event_bytes(e)));
                            pending_bytes = pending_bytes.saturating_sub(bytes);
                        }
                    }
                    _ => return Err(MALFORMED),
                }
                Ok(())
            })();
            if let Err(reason) = record {
                return Err(corrupt(pos, reason.into()));
            }
            // After every record the queue is what the channel held after that commit,
            // which never exceeded its capacity (taken events count until their take
            // commits, in the channel as here).
            if over || queue.len() > limits.capacity || queued_bytes > limits.byte_capacity {
                return Err(over_capacity(name, path, limits));
            }
            pos = end;
        }
    }
    report.uncommitted_dropped = pending.len();
    Ok(Recovered {
        events: queue.into_iter().collect(),
        next_seq,
        next_tx,
        last_index,
        report,
    })
}

fn list_logs(dir: &Path) -> std::io::Result<Vec<(u64, PathBuf)>> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if let Some(index) = name.strip_prefix("log-").and_then(|n| n.parse().ok()) {
            out.push((index, entry.path()));
        }
    }
    out.sort();
    Ok(out)
}

fn sync_dir(dir: &Path) {
    // Makes a create/rename durable; best effort (not all file systems allow it).
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

enum LockError {
    Busy,
    Io(std::io::Error),
}

/// Takes an exclusive advisory lock so two channels never share one log. The OS releases
/// it when the process dies, so a crash never leaves a stale lock behind. A symbolic link
/// planted as the lock file is refused (it could create or lock a file outside the folder).
fn lock_exclusive(path: &Path) -> Result<File, LockError> {
    use std::os::fd::AsRawFd;
    let file = policy::paths::open_for_lock(path).map_err(LockError::Io)?;
    // SAFETY: flock on a valid, open file descriptor owned by `file`.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if rc == 0 {
        Ok(file)
    } else {
        let err = std::io::Error::last_os_error();
        if err.raw_os_error() == Some(libc::EWOULDBLOCK) {
            Err(LockError::Busy)
        } else {
            Err(LockError::Io(err))
        }
    }
}

fn frame(out: &mut Vec<u8>, payload: &[u8]) {
    put_u32(out, payload.len() as u32);
    put_u32(out, crc32fast::hash(payload));
    out.extend_from_slice(payload);
}

fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_u32(out, b.len() as u32);
    out.extend_from_slice(b);
}

fn encode_event(out: &mut Vec<u8>, event: &Event) {
    put_u32(out, event.headers.len() as u32);
    for (k, v) in &event.headers {
        put_bytes(out, k.as_bytes());
        put_bytes(out, v.as_bytes());
    }
    put_bytes(out, &event.body);
}

fn decode_event(r: &mut Reader<'_>) -> Option<Event> {
    let count = r.u32()?;
    let mut event = Event::default();
    for _ in 0..count {
        let k = String::from_utf8(r.sized()?.to_vec()).ok()?;
        let v = String::from_utf8(r.sized()?.to_vec()).ok()?;
        event.headers.insert(k, v);
    }
    event.body = r.sized()?.to_vec();
    Some(event)
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, pos: 0 }
    }

    fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let out = self.bytes.get(self.pos..end)?;
        self.pos = end;
        Some(out)
    }

    fn u8(&mut self) -> Option<u8> {
        self.bytes(1).map(|b| b[0])
    }

    fn u32(&mut self) -> Option<u32> {
        self.bytes(4)
            .and_then(|b| b.try_into().ok())
            .map(u32::from_le_bytes)
    }

    fn u64(&mut self) -> Option<u64> {
        self.bytes(8)
            .and_then(|b| b.try_into().ok())
            .map(u64::from_le_bytes)
    }

    fn sized(&mut self) -> Option<&'a [u8]> {
        let n = self.u32()? as usize;
        self.bytes(n)
    }
}

#[cfg(test)]
mod tests {
    use std::fs::OpenOptions;

    use super::*;
    use crate::flume::channel::{Channel, ChannelError, Transaction};
    use crate::flume::util::ManualClock;

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
    fn clean_close_checkpoints_and_compacts_logs() {
        let dir = tempfile::tempdir().unwrap();
        let (ch, _) = FileChannel::open("fc", config(dir.path())).unwrap();
        put_all(&ch, &["a", "b"]);
        ch.close().unwrap();
        drop(ch);
        let logs = list_logs(&dir.path().join("data")).unwrap();
        assert!(logs.len() <= 1, "old logs deleted: {logs:?}");
        let (ch, report) = FileChannel::open("fc", config(dir.path())).unwrap();
        assert_eq!((report.from_checkpoint, report.commits_replayed), (2, 0));
        assert_eq!(drain(&ch), ["a", "b"]);
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

    fn only_log(dir: &Path) -> PathBuf {
        let logs = list_logs(&dir.join("data")).unwrap();
        assert_eq!(logs.len(), 1);
        logs[0].1.clone()
    }

    #[test]
    fn torn_final_record_is_recovered_up_to_and_reported() {
        let dir = tempfile::tempdir().unwrap();
        let (ch, _) = FileChannel::open("fc", config(dir.path())).unwrap();
        put_all(&ch, &["a"]);
        put_all(&ch, &["b"]);
        crash(ch);
        let log = only_log(dir.path());
        let len = fs::metadata(&log).unwrap().len();
        // Cut the final commit record in half.
        OpenOptions::new()
            .write(true)
            .open(&log)
            .unwrap()
            .set_len(len - 6)
            .unwrap();
        let (ch, report) = FileChannel::open("fc", config(dir.path())).unwrap();
        assert_eq!(report.warnings.len(), 1, "{:?}", report.warnings);
        assert!(report.warnings[0].contains("torn record"));
        assert_eq!(report.uncommitted_dropped, 1);
        assert_eq!(drain(&ch), ["a"]);
        // Recovery started a fresh log: reopening is clean.
        crash(ch);
        let (_, report) = FileChannel::open("fc", config(dir.path())).unwrap();
        assert!(report.warnings.is_empty());
    }

    #[test]
    fn corruption_in_the_middle_is_an_error_naming_file_and_offset() {
        let dir = tempfile::tempdir().unwrap();
        let (ch, _) = FileChannel::open("fc", config(dir.path())).unwrap();
        put_all(&ch, &["aaaa"]);
        put_all(&ch, &["bbbb"]);
        crash(ch);
        let log = only_log(dir.path());
        let mut bytes = fs::read(&log).unwrap();
        let at = bytes.windows(4).position(|w| w == b"aaaa").unwrap();
        bytes[at] = b'z';
        fs::write(&log, &bytes).unwrap();
        match FileChannel::open("fc", config(dir.path())) {
            Err(FileChannelError::CorruptLog { path, offset, .. }) => {
                assert_eq!(path, log);
                assert_eq!(offset, 0);
            }
            Err(other) => panic!("wrong error: {other}"),
            Ok(_) => panic!("corruption was accepted"),
        }
    }

    #[test]
    fn corrupt_checkpoint_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let (ch, _) = FileChannel::open("fc", config(dir.path())).unwrap();
        put_all(&ch, &["a"]);
        ch.close().unwrap();
        drop(ch);
        let path = dir.path().join("ckpt").join(CHECKPOINT_FILE);
        let mut bytes = fs::read(&path).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0xff;
        fs::write(&path, &bytes).unwrap();
        assert!(matches!(
            FileChannel::open("fc", config(dir.path())),
            Err(FileChannelError::CorruptCheckpoint { .. })
        ));
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

    #[cfg(unix)]
    #[test]
    fn a_lock_file_planted_as_a_link_is_refused_and_its_target_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let target = outside.path().join("victim");
        std::fs::create_dir_all(dir.path().join("data")).unwrap();
        std::os::unix::fs::symlink(&target, dir.path().join("data").join(LOCK_FILE)).unwrap();
        let err = FileChannel::open("fc", config(dir.path())).err().unwrap();
        assert!(
            matches!(&err, FileChannelError::Io { path, .. } if path.ends_with(LOCK_FILE)),
            "{err}"
        );
        assert!(!target.exists(), "the link's target was not created");
    }

    /// A checkpoint file in the channel's format holding `count` empty events.
    fn crafted_checkpoint(dir: &Path, count: u64) {
        let mut payload = Vec::new();
        for n in [0, count, count] {
            put_u64(&mut payload, n);
        }
        put_u64(&mut payload, count);
        for seq in 0..count {
            put_u64(&mut payload, seq);
            encode_event(&mut payload, &Event::default());
        }
        let mut bytes = CHECKPOINT_MAGIC.to_vec();
        put_u64(&mut bytes, payload.len() as u64);
        put_u32(&mut bytes, crc32fast::hash(&payload));
        bytes.extend_from_slice(&payload);
        fs::create_dir_all(dir.join("ckpt")).unwrap();
        fs::write(dir.join("ckpt").join(CHECKPOINT_FILE), bytes).unwrap();
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

    #[test]
    fn a_checkpoint_with_more_events_than_the_capacity_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        // 11 empty events: within the file size a checkpoint may have, one over capacity.
        crafted_checkpoint(dir.path(), 11);
        let (path, message) = refusal(dir.path(), small(dir.path()));
        assert_eq!(path, dir.path().join("ckpt").join(CHECKPOINT_FILE));
        assert!(message.contains("'fc'"), "{message}");
        assert!(
            message.contains("holds more than the channel's capacity (10 events"),
            "{message}"
        );
        // Ten fit, and are recovered.
        crafted_checkpoint(dir.path(), 10);
        let (_ch, report) = FileChannel::open("fc", small(dir.path())).unwrap();
        assert_eq!(report.events_recovered, 10);
    }

    #[test]
    fn a_checkpoint_larger_than_the_channel_can_write_is_refused_unread() {
        let dir = tempfile::tempdir().unwrap();
        let c = small(dir.path());
        let limit = max_checkpoint_bytes(&c.channel);
        // Empty events take 16 bytes each in a checkpoint.
        crafted_checkpoint(dir.path(), limit / 16 + 1);
        let (path, message) = refusal(dir.path(), c);
        assert_eq!(path, dir.path().join("ckpt").join(CHECKPOINT_FILE));
        assert!(
            message.contains(&format!("more than this channel can write ({limit} bytes")),
            "{message}"
        );
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
    fn a_log_larger_than_the_channel_can_write_is_refused_unread() {
        let dir = tempfile::tempdir().unwrap();
        let (ch, _) = FileChannel::open("fc", small(dir.path())).unwrap();
        put_all(&ch, &["a"]);
        crash(ch);
        let log = only_log(dir.path());
        let limit = max_log_bytes(&small(dir.path()));
        let mut f = OpenOptions::new().append(true).open(&log).unwrap();
        f.write_all(&vec![0u8; limit as usize]).unwrap();
        let (path, message) = refusal(dir.path(), small(dir.path()));
        assert_eq!(path, log);
        assert!(
            message.contains("maxFileSize plus one transaction"),
            "{message}"
        );
    }

    #[test]
    fn log_rolls_over_at_max_file_size() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = config(dir.path());
        c.max_file_size = 1024;
        let (ch, _) = FileChannel::open("fc", c.clone()).unwrap();
        let body = "x".repeat(300);
        for _ in 0..10 {
            put_all(&ch, &[body.as_str()]);
        }
        assert!(list_logs(&dir.path().join("data")).unwrap().len() > 1);
        crash(ch);
        let (ch, report) = FileChannel::open("fc", c).unwrap();
        assert_eq!(report.events_recovered, 10);
        let mut tx = Transaction::begin(&ch);
        let mut n = 0;
        while tx.take().unwrap().is_some() {
            n += 1;
        }
        tx.commit().unwrap();
        assert_eq!(n, 10);
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
        assert_eq!(said[0].severity, crate::flume::Severity::Error);
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

    /// Appends a crafted committed put to the channel's only log.
    fn append_crafted(dir: &Path, tx: u64, seq: u64) {
        let mut bytes = Vec::new();
        let mut p = vec![KIND_PUT];
        put_u64(&mut p, tx);
        put_u64(&mut p, seq);
        encode_event(&mut p, &Event::new("evil"));
        frame(&mut bytes, &p);
        let mut p = vec![KIND_COMMIT];
        put_u64(&mut p, tx);
        frame(&mut bytes, &p);
        let mut f = OpenOptions::new().append(true).open(only_log(dir)).unwrap();
        f.write_all(&bytes).unwrap();
    }

    #[test]
    fn numbers_at_the_end_of_u64_are_refused_as_corrupt() {
        for (tx, seq) in [(u64::MAX, 5), (7, u64::MAX), (MAX_SEQUENCE + 1, 1)] {
            let dir = tempfile::tempdir().unwrap();
            let (ch, _) = FileChannel::open("fc", config(dir.path())).unwrap();
            put_all(&ch, &["a"]);
            crash(ch);
            append_crafted(dir.path(), tx, seq);
            match FileChannel::open("fc", config(dir.path())) {
                Err(FileChannelError::CorruptLog { reason, .. }) => {
                    assert!(reason.contains("beyond"), "{reason}");
                }
                Err(other) => panic!("wrong error for tx {tx} seq {seq}: {other}"),
                Ok(_) => panic!("tx {tx} seq {seq} was accepted"),
            }
        }
        // A number at the bound is still fine.
        let dir = tempfile::tempdir().unwrap();
        let (ch, _) = FileChannel::open("fc", config(dir.path())).unwrap();
        put_all(&ch, &["a"]);
        crash(ch);
        append_crafted(dir.path(), MAX_SEQUENCE, MAX_SEQUENCE - 1);
        let (ch, report) = FileChannel::open("fc", config(dir.path())).unwrap();
        assert_eq!(report.events_recovered, 2);
        let mut tx = Transaction::begin(&ch);
        assert_eq!(tx.take().unwrap().unwrap().body, b"a");
        assert_eq!(tx.take().unwrap().unwrap().body, b"evil");
        tx.commit().unwrap();
        // New events continue after the crafted one without overflowing.
        put_all(&ch, &["b"]);
        assert_eq!(drain(&ch), ["b"]);
    }

    #[test]
    fn a_checkpoint_with_a_next_number_at_the_end_of_u64_is_corrupt() {
        let dir = tempfile::tempdir().unwrap();
        let (ch, _) = FileChannel::open("fc", config(dir.path())).unwrap();
        ch.close().unwrap();
        drop(ch);
        let mut payload = Vec::new();
        for v in [1, u64::MAX, 0, 0] {
            put_u64(&mut payload, v);
        }
        let mut bytes = CHECKPOINT_MAGIC.to_vec();
        put_u64(&mut bytes, payload.len() as u64);
        put_u32(&mut bytes, crc32fast::hash(&payload));
        bytes.extend_from_slice(&payload);
        fs::write(dir.path().join("ckpt").join(CHECKPOINT_FILE), bytes).unwrap();
        match FileChannel::open("fc", config(dir.path())) {
            Err(FileChannelError::CorruptCheckpoint { reason, .. }) => {
                assert!(reason.contains("next sequence number"), "{reason}");
            }
            Err(other) => panic!("wrong error: {other}"),
            Ok(_) => panic!("accepted"),
        }
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
}
