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
//!
//! Every record and the checkpoint carry their length and a CRC32 of their bytes. On open the
//! channel loads the checkpoint and replays the later logs: commits apply their puts and
//! takes, anything without a commit record is dropped. A torn final record (a crash in the
//! middle of a write) is reported as a warning and recovery stops there; a bad record
//! anywhere else is an error naming the file and offset, because silently skipping it could
//! lose or resurrect events.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;

use thiserror::Error;

use super::Event;
use super::channel::{ChannelConfig, Journal, QueueChannel, QueueState};
use super::util::{Clock, Conf, SystemClock};
use crate::model::Value;
use crate::policy::{Grant, PathUse, path_entries};

const CHECKPOINT_MAGIC: &[u8; 8] = b"TRBCKPT1";
const CHECKPOINT_FILE: &str = "checkpoint";
const LOCK_FILE: &str = "in_use.lock";
/// No legitimate record is this large; a larger length field means a damaged header.
const MAX_RECORD: u32 = 512 * 1024 * 1024;

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
    #[error("file channel '{channel}': {path} is in use by another channel or process")]
    InUse { channel: String, path: PathBuf },
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
            },
            checkpoint_dir: checkpoint_dir.into(),
            data_dir: data_dir.into(),
            checkpoint_interval_ms: 30_000,
            max_file_size: 2_146_435_071,
            checkpoint_on_close: true,
        }
    }

    /// Reads Flume's properties from a node config; relative folders resolve against `base`.
    pub fn from_node_config(
        node: &str,
        config: &BTreeMap<String, Value>,
        grant: &Grant,
    ) -> Result<Self, String> {
        let c = Conf(config);
        let dir = |key: &str, default: &str| {
            let raw = c.str(key).unwrap_or_else(|| default.to_string());
            // Flume allows a comma-separated list of data dirs; the first is used here
            // (the policy checked them all).
            let first = path_entries(PathUse::WriteFolder, &raw)
                .first()
                .map_or_else(|| default.to_string(), |e| e.to_string());
            grant
                .path(node, key, PathUse::WriteFolder, &first)
                .map_err(|r| r.to_string())
        };
        let mut out = Self::new(
            dir("checkpointDir", "file-channel/checkpoint")?,
            dir("dataDirs", "file-channel/data")?,
        );
        out.channel.capacity = c.uint("capacity", 1_000_000) as usize;
        out.channel.transaction_capacity = c.uint("transactionCapacity", 10_000) as usize;
        out.channel.keep_alive = Duration::from_secs_f64(c.float("keep-alive", 3.0).max(0.0));
        out.checkpoint_interval_ms = c.uint("checkpointInterval", 30_000);
        out.max_file_size = c.uint("maxFileSize", 2_146_435_071).max(1024);
        out.checkpoint_on_close = c.bool("checkpointOnClose", true);
        Ok(out)
    }
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

/// Flume's `file` channel.
pub type FileChannel = QueueChannel<FileJournal>;

impl FileChannel {
    /// Opens (creating folders as needed) and recovers the channel.
    pub fn open(
        name: &str,
        config: FileChannelConfig,
    ) -> Result<(Self, RecoveryReport), FileChannelError> {
        Self::open_with_clock(name, config, Arc::new(SystemClock))
    }

    pub fn open_with_clock(
        name: &str,
        config: FileChannelConfig,
        clock: Arc<dyn Clock>,
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
        let lock_path = config.data_dir.join(LOCK_FILE);
        let lock = lock_exclusive(&lock_path).map_err(|e| match e {
            LockError::Busy => FileChannelError::InUse {
                channel: name.to_string(),
                path: config.data_dir.clone(),
            },
            LockError::Io(source) => FileChannelError::Io {
                channel: name.to_string(),
                path: lock_path.clone(),
                source,
            },
        })?;

        let recovered = recover(name, &config)?;
        let mut report = recovered.report;
        report.events_recovered = recovered.events.len();
        if recovered.events.len() > config.channel.capacity {
            report.warnings.push(format!(
                "recovered {} events, more than the capacity {}; puts wait until sinks drain it",
                recovered.events.len(),
                config.channel.capacity
            ));
        }
        let queue: VecDeque<(u64, Event)> = recovered.events.into_iter().collect();
        let writer = LogWriter {
            data_dir: config.data_dir.clone(),
            checkpoint_dir: config.checkpoint_dir.clone(),
            file: None,
            index: recovered.last_index,
            written: 0,
            max_file_size: config.max_file_size,
            last_checkpoint_ms: clock.now_ms(),
            checkpoint_interval_ms: config.checkpoint_interval_ms,
            next_tx_hint: recovered.next_tx,
            failed: None,
        };
        let journal = FileJournal {
            writer: Mutex::new(writer),
            clock,
            checkpoint_on_close: config.checkpoint_on_close,
            _lock: lock,
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

/// The file channel's journal: appends records, fsyncs at commit, checkpoints.
pub struct FileJournal {
    writer: Mutex<LogWriter>,
    clock: Arc<dyn Clock>,
    checkpoint_on_close: bool,
    _lock: File,
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
    failed: Option<String>,
}

impl LogWriter {
    fn log_path(&self, index: u64) -> PathBuf {
        self.data_dir.join(format!("log-{index}"))
    }

    fn file(&mut self) -> Result<&mut File, String> {
        if self.file.is_none() {
            let path = self.log_path(self.index);
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
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

    fn append(&mut self, bytes: &[u8], sync: bool) -> Result<(), String> {
        if let Some(reason) = &self.failed {
            return Err(format!("log unusable after an earlier failure: {reason}"));
        }
        if self.written > self.max_file_size {
            self.file = None;
            self.index += 1;
        }
        let path = self.log_path(self.index);
        let result = self.file().and_then(|f| {
            f.write_all(bytes)
                .and_then(|()| if sync { f.sync_data() } else { Ok(()) })
                .map_err(|e| format!("{}: {e}", path.display()))
        });
        match result {
            Ok(()) => {
                self.written += bytes.len() as u64;
                Ok(())
            }
            Err(e) => {
                self.failed = Some(e.clone());
                Err(e)
            }
        }
    }
}

impl FileJournal {
    /// Snapshots `state` and starts a new log file; older files are then deleted.
    fn checkpoint(&self, state: &QueueState) -> Result<(), String> {
        let mut w = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let new_index = w.index + 1;
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
        let mut bytes = Vec::with_capacity(payload.len() + 20);
        bytes.extend_from_slice(CHECKPOINT_MAGIC);
        put_u64(&mut bytes, payload.len() as u64);
        put_u32(&mut bytes, crc32fast::hash(&payload));
        bytes.extend_from_slice(&payload);

        let tmp = w.checkpoint_dir.join(format!("{CHECKPOINT_FILE}.tmp"));
        let target = w.checkpoint_dir.join(CHECKPOINT_FILE);
        let write = || -> std::io::Result<()> {
            let mut f = File::create(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_all()?;
            fs::rename(&tmp, &target)?;
            Ok(())
        };
        write().map_err(|e| format!("checkpoint {}: {e}", target.display()))?;
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
}

impl Journal for FileJournal {
    const DURABLE: bool = true;

    fn commit(&self, tx: u64, puts: &[(u64, Event)], takes: &[u64]) -> Result<(), String> {
        let mut bytes = Vec::new();
        for (seq, event) in puts {
            let mut p = vec![KIND_PUT];
            put_u64(&mut p, tx);
            put_u64(&mut p, *seq);
            encode_event(&mut p, event);
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
        let mut w = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        w.next_tx_hint = w.next_tx_hint.max(tx + 1);
        w.append(&bytes, true)
    }

    fn rollback(&self, tx: u64, had_takes: bool) {
        if had_takes {
            let mut p = vec![KIND_ROLLBACK];
            put_u64(&mut p, tx);
            let mut bytes = Vec::new();
            frame(&mut bytes, &p);
            let mut w = self.writer.lock().unwrap_or_else(|p| p.into_inner());
            // Informational only: replay drops transactions without a commit anyway.
            let _ = w.append(&bytes, false);
        }
    }

    fn after_commit(&self, state: &QueueState) {
        let due = {
            let w = self.writer.lock().unwrap_or_else(|p| p.into_inner());
            self.clock.now_ms().saturating_sub(w.last_checkpoint_ms) >= w.checkpoint_interval_ms
        };
        if due {
            // A failed periodic checkpoint is not fatal: the log still has everything.
            let _ = self.checkpoint(state);
        }
    }

    fn close(&self, state: &QueueState) -> Result<(), String> {
        if self.checkpoint_on_close {
            self.checkpoint(state)
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

fn recover(name: &str, config: &FileChannelConfig) -> Result<Recovered, FileChannelError> {
    let mut report = RecoveryReport::default();
    let mut queue: BTreeMap<u64, Event> = BTreeMap::new();
    let mut next_seq = 0;
    let mut next_tx = 0;
    let mut first_index = 0;

    let ckpt_path = config.checkpoint_dir.join(CHECKPOINT_FILE);
    match fs::read(&ckpt_path) {
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
            first_index = p.u64().ok_or_else(bad)?;
            next_seq = p.u64().ok_or_else(bad)?;
            next_tx = p.u64().ok_or_else(bad)?;
            let count = p.u64().ok_or_else(bad)?;
            for _ in 0..count {
                let seq = p.u64().ok_or_else(bad)?;
                let event = decode_event(&mut p).ok_or_else(bad)?;
                queue.insert(seq, event);
            }
            report.from_checkpoint = queue.len();
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(source) => {
            return Err(FileChannelError::Io {
                channel: name.to_string(),
                path: ckpt_path,
                source,
            });
        }
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
    let mut last_index = first_index;
    for (position, (index, path)) in logs.iter().enumerate() {
        last_index = *index;
        let is_last = position + 1 == logs.len();
        let mut bytes = Vec::new();
        File::open(path)
            .and_then(|mut f| f.read_to_end(&mut bytes))
            .map_err(|source| FileChannelError::Io {
                channel: name.to_string(),
                path: path.clone(),
                source,
            })?;
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
            let record = (|| {
                let kind = p.u8()?;
                let tx = p.u64()?;
                next_tx = next_tx.max(tx + 1);
                match kind {
                    KIND_PUT => {
                        let seq = p.u64()?;
                        let event = decode_event(&mut p)?;
                        next_seq = next_seq.max(seq + 1);
                        pending.entry(tx).or_default().puts.push((seq, event));
                    }
                    KIND_TAKE => {
                        let seq = p.u64()?;
                        pending.entry(tx).or_default().takes.push(seq);
                    }
                    KIND_COMMIT => {
                        let done = pending.remove(&tx).unwrap_or_default();
                        for (seq, event) in done.puts {
                            queue.insert(seq, event);
                        }
                        for seq in done.takes {
                            if queue.remove(&seq).is_none() {
                                report.warnings.push(format!(
                                    "{}: transaction {tx} took event {seq}, which was not in the channel",
                                    path.display()
                                ));
                            }
                        }
                        report.commits_replayed += 1;
                    }
                    KIND_ROLLBACK => {
                        pending.remove(&tx);
                    }
                    _ => return None,
                }
                Some(())
            })();
            if record.is_none() {
                return Err(corrupt(pos, "malformed record contents".into()));
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
/// it when the process dies, so a crash never leaves a stale lock behind.
fn lock_exclusive(path: &Path) -> Result<File, LockError> {
    use std::os::fd::AsRawFd;
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(LockError::Io)?;
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
    use super::*;
    use crate::flume::channel::{Channel, Transaction};
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
}
