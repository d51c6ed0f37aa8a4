//! The write-ahead journal of a file channel: a transaction's records are appended at
//! commit and fsynced before the commit returns; checkpoints snapshot the queue and
//! compact the logs; a failed write makes the log unusable until a checkpoint starts a
//! fresh file (see the parent module for the retry rules).
//!
//! Rules kept here: records of one transaction are written together, in one append,
//! after the commit decision; nothing is appended after a failed write (the file may end
//! in a partial record); a checkpoint is written to a temporary file, fsynced and renamed
//! before any log it covers is deleted. One mutex guards the writer, taken after the
//! queue's lock (the channel calls in with its state held), never the other way round.

use std::fs::{self, File};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use super::codec::{
    CHECKPOINT_MAGIC, KIND_COMMIT, KIND_PUT, KIND_ROLLBACK, KIND_TAKE, MAX_RECORD, encode_event,
    frame, put_u32, put_u64,
};
use super::{DiskFull, FileChannelConfig, FileChannelEnv, RETRY_MAX_MS, RETRY_MIN_MS, layout};
use crate::clock::Clock;
use crate::flume::Event;
use crate::flume::channel::{Journal, QueueState};
use crate::flume::notice::{Episode, Notices};
use crate::policy;

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
        layout::log_path(&self.data_dir, index)
    }

    fn file(&mut self) -> Result<&mut File, String> {
        if self.file.is_none() {
            let path = self.log_path(self.index);
            // Never through a link planted in the folder after the run's check.
            let file = policy::paths::open_for_append(&path)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            self.written = file.metadata().map(|m| m.len()).unwrap_or(0);
            layout::sync_dir(&self.data_dir);
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
    /// The journal of a channel just recovered: it appends to log file `last_index` (a
    /// fresh one once the opening checkpoint is written) and numbers transactions from
    /// `next_tx`. `locks` are held for as long as the journal lives.
    pub(super) fn new(
        name: &str,
        config: &FileChannelConfig,
        env: FileChannelEnv,
        locks: Vec<File>,
        last_index: u64,
        next_tx: u64,
    ) -> Self {
        let writer = LogWriter {
            data_dir: config.data_dir.clone(),
            checkpoint_dir: config.checkpoint_dir.clone(),
            file: None,
            index: last_index,
            written: 0,
            max_file_size: config.max_file_size,
            last_checkpoint_ms: env.clock.now_ms(),
            checkpoint_interval_ms: config.checkpoint_interval_ms,
            next_tx_hint: next_tx,
            failed: None,
            log_failures: Episode::default(),
            checkpoint_failures: Episode::default(),
            checkpoint_retry_ms: 0,
        };
        FileJournal {
            name: name.to_string(),
            writer: Mutex::new(writer),
            clock: env.clock,
            notices: env.notices,
            disk: env.disk,
            checkpoint_on_close: config.checkpoint_on_close,
            _locks: locks,
        }
    }

    /// Snapshots `state` and starts a new log file; older files are then deleted.
    pub(super) fn checkpoint(&self, state: &QueueState) -> Result<(), String> {
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

        let tmp = w
            .checkpoint_dir
            .join(format!("{}.tmp", layout::CHECKPOINT_FILE));
        let target = w.checkpoint_dir.join(layout::CHECKPOINT_FILE);
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
        layout::sync_dir(&w.checkpoint_dir);
        // The checkpoint now covers every log file before `new_index`.
        let old_index = w.index;
        w.file = None;
        w.failed = None;
        w.index = new_index;
        w.written = 0;
        w.last_checkpoint_ms = self.clock.now_ms();
        for (index, path) in layout::list_logs(&w.data_dir).unwrap_or_default() {
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

#[cfg(test)]
mod tests {
    use crate::flume::channel::{Channel, Transaction};
    use crate::flume::file_channel::FileChannel;
    use crate::flume::file_channel::layout::list_logs;
    use crate::flume::file_channel::test_support::{config, crash, drain, put_all};

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
