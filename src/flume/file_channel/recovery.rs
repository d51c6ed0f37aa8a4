//! Recovery: rebuilding a file channel's queue from its checkpoint and the logs after it.
//!
//! Rules (stated for the whole channel in the parent module): a transaction counts only
//! when its commit record is read; a torn *final* record (a crash mid-write) is a warning
//! and replay stops there; any other bad record, a bad checkpoint, or a number beyond
//! [`MAX_SEQUENCE`] is an error naming the file (and the byte offset in a log), because
//! skipping it could lose or resurrect events. Every file is size-checked against what
//! this channel could have written before it is read, and the queue is checked against
//! `capacity` and `byteCapacity` after every record, so a crafted file cannot make
//! recovery use more memory than the channel itself may.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};

use super::codec::{
    CHECKPOINT_MAGIC, KIND_COMMIT, KIND_PUT, KIND_ROLLBACK, KIND_TAKE, MAX_RECORD, Reader,
    decode_event, max_checkpoint_bytes, max_log_bytes,
};
use super::{FileChannelConfig, FileChannelError, MAX_SEQUENCE, RecoveryReport, layout};
use crate::flume::Event;
use crate::flume::channel::{ChannelConfig, event_bytes};
use crate::policy;

/// What recovery rebuilt: the queue in sequence order, the numbers to continue from,
/// the last log file replayed, and what it found.
pub(super) struct Recovered {
    pub(super) events: Vec<(u64, Event)>,
    pub(super) next_seq: u64,
    pub(super) next_tx: u64,
    pub(super) last_index: u64,
    pub(super) report: RecoveryReport,
}

/// Records of a transaction whose commit has not been read yet.
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

/// The channel as rebuilt so far.
#[derive(Default)]
struct Replay {
    report: RecoveryReport,
    queue: BTreeMap<u64, Event>,
    next_seq: u64,
    next_tx: u64,
    /// Bytes of the events in `queue` (counted as the channel counts them), so recovery
    /// stops as soon as the queue could not have been this channel's.
    queued_bytes: u64,
    /// Transactions whose commit has not been read yet.
    pending: HashMap<u64, Pending>,
    /// Bytes of uncommitted puts: a legitimate log holds at most one torn transaction,
    /// and a transaction puts at most byteCapacity bytes.
    pending_bytes: u64,
}

/// Loads the checkpoint (if any) and replays the logs it does not cover; see the parent
/// module for what is dropped, warned about or refused.
pub(super) fn recover(
    name: &str,
    config: &FileChannelConfig,
) -> Result<Recovered, FileChannelError> {
    let mut s = Replay::default();
    let first_index = load_checkpoint(name, config, &mut s)?;
    let last_index = replay_logs(name, config, first_index, &mut s)?;
    s.report.uncommitted_dropped = s.pending.len();
    Ok(Recovered {
        events: s.queue.into_iter().collect(),
        next_seq: s.next_seq,
        next_tx: s.next_tx,
        last_index,
        report: s.report,
    })
}

/// Loads the checkpoint into `s`, if there is one; returns the number of the first log
/// file it does not cover (0 without a checkpoint).
fn load_checkpoint(
    name: &str,
    config: &FileChannelConfig,
    s: &mut Replay,
) -> Result<u64, FileChannelError> {
    let limits = &config.channel;
    let ckpt_path = config.checkpoint_dir.join(layout::CHECKPOINT_FILE);
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
            let first_index = p.u64().ok_or_else(bad)?;
            s.next_seq = p.u64().ok_or_else(bad)?;
            s.next_tx = p.u64().ok_or_else(bad)?;
            for (what, n) in [
                ("log file number", first_index),
                ("next sequence number", s.next_seq),
                ("next transaction number", s.next_tx),
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
                if seq >= s.next_seq {
                    return Err(corrupt(&format!(
                        "event {seq} is not below the next sequence number {}",
                        s.next_seq
                    )));
                }
                let event = decode_event(&mut p).ok_or_else(bad)?;
                s.queued_bytes = s.queued_bytes.saturating_add(event_bytes(&event));
                if s.queued_bytes > limits.byte_capacity {
                    return Err(over_capacity(name, &ckpt_path, limits));
                }
                if let Some(replaced) = s.queue.insert(seq, event) {
                    s.queued_bytes = s.queued_bytes.saturating_sub(event_bytes(&replaced));
                }
            }
            s.report.from_checkpoint = s.queue.len();
            Ok(first_index)
        }
        Err(FileChannelError::Io { source, .. })
            if source.kind() == std::io::ErrorKind::NotFound =>
        {
            Ok(0)
        }
        Err(e) => Err(e),
    }
}

/// Replays the log files from `first_index` on into `s`; returns the last file's number.
fn replay_logs(
    name: &str,
    config: &FileChannelConfig,
    first_index: u64,
    s: &mut Replay,
) -> Result<u64, FileChannelError> {
    let limits = &config.channel;
    let logs: Vec<(u64, PathBuf)> = layout::list_logs(&config.data_dir)
        .map_err(|source| FileChannelError::Io {
            channel: name.to_string(),
            path: config.data_dir.clone(),
            source,
        })?
        .into_iter()
        .filter(|(index, _)| *index >= first_index)
        .collect();
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
                    s.report.warnings.push(torn("incomplete header"));
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
                    s.report.warnings.push(torn("record runs past end of file"));
                    break;
                }
                return Err(corrupt(pos, "record runs past end of file".into()));
            }
            let payload = &bytes[pos + 8..end];
            if crc32fast::hash(payload) != crc {
                if is_last && end == bytes.len() {
                    s.report
                        .warnings
                        .push(torn("checksum mismatch in final record"));
                    break;
                }
                return Err(corrupt(pos, "checksum mismatch".into()));
            }
            let record = s.apply(payload, limits, path);
            let over = match record {
                Ok(over) => over,
                Err(reason) => return Err(corrupt(pos, reason.into())),
            };
            // After every record the queue is what the channel held after that commit,
            // which never exceeded its capacity (taken events count until their take
            // commits, in the channel as here).
            if over || s.queue.len() > limits.capacity || s.queued_bytes > limits.byte_capacity {
                return Err(over_capacity(name, path, limits));
            }
            pos = end;
        }
    }
    Ok(last_index)
}

impl Replay {
    /// Applies one record's payload: puts and takes wait in their transaction until its
    /// commit applies them, a rollback drops them. `Ok(true)` when the uncommitted puts
    /// alone are more than `byteCapacity`, which no channel writes.
    fn apply(
        &mut self,
        payload: &[u8],
        limits: &ChannelConfig,
        path: &Path,
    ) -> Result<bool, &'static str> {
        const MALFORMED: &str = "malformed record contents";
        const OUT_OF_RANGE: &str = "transaction or sequence number beyond the largest a channel reaches (the log is damaged or crafted)";
        let mut p = Reader::new(payload);
        let mut over = false;
        let kind = p.u8().ok_or(MALFORMED)?;
        let tx = p.u64().ok_or(MALFORMED)?;
        if tx > MAX_SEQUENCE {
            return Err(OUT_OF_RANGE);
        }
        self.next_tx = self.next_tx.max(tx + 1);
        match kind {
            KIND_PUT => {
                let seq = p.u64().ok_or(MALFORMED)?;
                if seq > MAX_SEQUENCE {
                    return Err(OUT_OF_RANGE);
                }
                let event = decode_event(&mut p).ok_or(MALFORMED)?;
                self.next_seq = self.next_seq.max(seq + 1);
                self.pending_bytes = self.pending_bytes.saturating_add(event_bytes(&event));
                over |= self.pending_bytes > limits.byte_capacity;
                self.pending.entry(tx).or_default().puts.push((seq, event));
            }
            KIND_TAKE => {
                let seq = p.u64().ok_or(MALFORMED)?;
                self.pending.entry(tx).or_default().takes.push(seq);
            }
            KIND_COMMIT => {
                let done = self.pending.remove(&tx).unwrap_or_default();
                for (seq, event) in done.puts {
                    let counted = event_bytes(&event);
                    self.pending_bytes = self.pending_bytes.saturating_sub(counted);
                    self.queued_bytes = self.queued_bytes.saturating_add(counted);
                    if let Some(replaced) = self.queue.insert(seq, event) {
                        self.queued_bytes =
                            self.queued_bytes.saturating_sub(event_bytes(&replaced));
                    }
                }
                for seq in done.takes {
                    if let Some(taken) = self.queue.remove(&seq) {
                        self.queued_bytes = self.queued_bytes.saturating_sub(event_bytes(&taken));
                    } else {
                        self.report.warnings.push(format!(
                            "{}: transaction {tx} took event {seq}, which was not in the channel",
                            path.display()
                        ));
                    }
                }
                self.report.commits_replayed += 1;
            }
            KIND_ROLLBACK => {
                if let Some(dropped) = self.pending.remove(&tx) {
                    let bytes = dropped
                        .puts
                        .iter()
                        .fold(0u64, |sum, (_, e)| sum.saturating_add(event_bytes(e)));
                    self.pending_bytes = self.pending_bytes.saturating_sub(bytes);
                }
            }
            _ => return Err(MALFORMED),
        }
        Ok(over)
    }
}

#[cfg(test)]
mod tests {
    use std::fs::{self, OpenOptions};
    use std::io::Write;

    use super::*;
    use crate::flume::channel::{Channel, Transaction};
    use crate::flume::file_channel::FileChannel;
    use crate::flume::file_channel::codec::{encode_event, frame, put_u32, put_u64};
    use crate::flume::file_channel::layout::CHECKPOINT_FILE;
    use crate::flume::file_channel::test_support::{
        config, crash, drain, only_log, put_all, refusal, small,
    };

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
}
