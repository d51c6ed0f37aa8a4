//! The bytes on disk: record framing, the event encoding, the checkpoint header, and the
//! largest files a channel can write (so recovery can refuse larger ones unread).
//!
//! # Format
//! All numbers are little-endian.
//! - A log record is framed as `len: u32, crc32(payload): u32, payload`. Its payload is
//!   `kind: u8, tx: u64` then, for a put, `seq: u64` and the event; for a take, `seq: u64`
//!   (the taken event's sequence number); nothing more for a commit or a rollback.
//! - An event is `header count: u32`, then per header its key and value, then the body,
//!   each as `len: u32, bytes` (keys and values are UTF-8).
//! - A checkpoint is [`CHECKPOINT_MAGIC`], `len: u64`, `crc32(payload): u32`, then the
//!   payload: `first log number, next sequence number, next transaction number, count`
//!   (u64 each) and `count` times `seq: u64, event`.
//!
//! Decoding never trusts a length: [`Reader`] returns `None` past the end instead of
//! reading out of bounds, and a record longer than [`MAX_RECORD`] is refused.

use super::FileChannelConfig;
use crate::flume::Event;
use crate::flume::channel::ChannelConfig;

/// The first bytes of every checkpoint file (format version 1).
pub(super) const CHECKPOINT_MAGIC: &[u8; 8] = b"TRBCKPT1";
/// No legitimate record is this large; a larger length field means a damaged header.
pub(super) const MAX_RECORD: u32 = 512 * 1024 * 1024;

/// Bytes of the checkpoint's header (magic, length, CRC) and of its four numbers.
pub(super) const CHECKPOINT_FIXED_BYTES: u64 = 20 + 32;
/// Bytes a take or commit record takes in the log, framing included.
pub(super) const SMALL_RECORD_BYTES: u64 = 8 + 1 + 8 + 8;
/// Most bytes one event takes in a log record or checkpoint entry, per byte it counts
/// against `byteCapacity` ([`crate::flume::channel::event_bytes`]). An event of body
/// `B`, `h` headers of `H` bytes in all is encoded in at most `41 + B + H + 8h` bytes;
/// header keys are distinct, so `h ≤ H + 1`, and that is at most `9 × (64 + B + H)` =
/// 9 × its counted bytes.
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

/// Record kinds, the first byte of a record's payload.
pub(super) const KIND_PUT: u8 = 1;
pub(super) const KIND_TAKE: u8 = 2;
pub(super) const KIND_COMMIT: u8 = 3;
pub(super) const KIND_ROLLBACK: u8 = 4;

/// Appends `payload` framed as a record: its length, its CRC32, the bytes.
pub(super) fn frame(out: &mut Vec<u8>, payload: &[u8]) {
    put_u32(out, payload.len() as u32);
    put_u32(out, crc32fast::hash(payload));
    out.extend_from_slice(payload);
}

/// Appends `v` little-endian.
pub(super) fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// Appends `v` little-endian.
pub(super) fn put_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// Appends `b` as its length and its bytes.
pub(super) fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_u32(out, b.len() as u32);
    out.extend_from_slice(b);
}

/// Appends `event`: header count, each header's key and value, the body.
pub(super) fn encode_event(out: &mut Vec<u8>, event: &Event) {
    put_u32(out, event.headers.len() as u32);
    for (k, v) in &event.headers {
        put_bytes(out, k.as_bytes());
        put_bytes(out, v.as_bytes());
    }
    put_bytes(out, &event.body);
}

/// Reads an event written by [`encode_event`]; `None` if the bytes end early or a
/// header is not UTF-8.
pub(super) fn decode_event(r: &mut Reader<'_>) -> Option<Event> {
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

/// A cursor over bytes that answers `None` instead of reading past the end, so no
/// length field in a damaged file can make decoding panic.
pub(super) struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(super) fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, pos: 0 }
    }

    pub(super) fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let out = self.bytes.get(self.pos..end)?;
        self.pos = end;
        Some(out)
    }

    pub(super) fn u8(&mut self) -> Option<u8> {
        self.bytes(1).map(|b| b[0])
    }

    pub(super) fn u32(&mut self) -> Option<u32> {
        self.bytes(4)
            .and_then(|b| b.try_into().ok())
            .map(u32::from_le_bytes)
    }

    pub(super) fn u64(&mut self) -> Option<u64> {
        self.bytes(8)
            .and_then(|b| b.try_into().ok())
            .map(u64::from_le_bytes)
    }

    pub(super) fn sized(&mut self) -> Option<&'a [u8]> {
        let n = self.u32()? as usize;
        self.bytes(n)
    }
}
