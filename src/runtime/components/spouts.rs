//! Built-in spouts. Each one can regenerate message `k` from `k` alone, so keeping a
//! message for replay costs one set entry, not a copy of its values.

use std::collections::VecDeque;
use std::sync::Arc;

use super::super::limits;
use super::super::log::LogKind;
use super::super::rng::{Rng, derive_seed, splitmix64};
use super::super::tuple::{Text, Val, Values};
use super::{Behaviour, Config, Emitter, Env, Factory, Spout, TaskInfo};
use crate::policy::PathUse;
use crate::runtime::error::RunError;

/// Sentences in the pool a sentence generator draws from…
pub const SENTENCE_POOL: usize = 4096;
/// …as long as the pool stays under 1 MiB (counting 8 bytes a word): long sentences
/// get a smaller pool, so a file asking for a thousand words a sentence on many spouts
/// cannot claim gigabytes before anything runs.
pub const SENTENCE_POOL_BYTES: usize = 1 << 20;
/// Words a word generator keeps ready as a table; words of a larger vocabulary are
/// spelled out when drawn, so the vocabulary setting costs no memory.
const WORD_TABLE: u64 = 1 << 16;

const SYLLABLES: [&str; 16] = [
    "ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "ba", "de", "fu", "go", "hi", "ju", "ke", "pa",
];

/// Word number `i` of the built-in vocabulary: distinct, pronounceable, stable.
pub fn vocabulary_word(mut i: u64) -> String {
    let mut w = String::new();
    let mut digits = 0;
    while i > 0 || digits < 2 {
        w.push_str(SYLLABLES[(i % 16) as usize]);
        i /= 16;
        digits += 1;
    }
    w
}

/// The seeded pool of sentences (shared by the sentence spout and the benchmark).
/// Words are spelled out as drawn: no table of the whole vocabulary is built.
pub fn sentence_pool(seed: u64, vocabulary: usize, words: usize, size: usize) -> Vec<Arc<str>> {
    let vocabulary = vocabulary.max(1);
    let mut rng = Rng::new(seed);
    (0..size)
        .map(|_| {
            let s: Vec<String> = (0..words.max(1))
                .map(|_| vocabulary_word(rng.below(vocabulary) as u64))
                .collect();
            Arc::from(s.join(" "))
        })
        .collect()
}

/// Sentences in a generator's pool for sentences of `words` words (see
/// [`SENTENCE_POOL_BYTES`]).
pub fn pool_size(words: usize) -> usize {
    (SENTENCE_POOL_BYTES / words.max(1).saturating_mul(8)).clamp(1, SENTENCE_POOL)
}

/// Message ids awaiting ack. Ids are handed out in order, so a sliding window of flags
/// from the oldest unacked id replaces a hash set (no hashing per message).
#[derive(Debug, Default)]
struct PendingIds {
    base: u64,
    flags: VecDeque<bool>,
    count: usize,
}

impl PendingIds {
    /// Marks `k` pending; `k` must not be below the window (ids only grow).
    fn insert(&mut self, k: u64) {
        let Some(offset) = k.checked_sub(self.base) else {
            return;
        };
        let i = offset as usize;
        if i >= self.flags.len() {
            self.flags.resize(i + 1, false);
        }
        if !self.flags[i] {
            self.flags[i] = true;
            self.count += 1;
        }
    }

    fn contains(&self, k: u64) -> bool {
        k.checked_sub(self.base)
            .and_then(|i| self.flags.get(i as usize))
            .copied()
            .unwrap_or(false)
    }

    fn remove(&mut self, k: u64) {
        if let Some(i) = k.checked_sub(self.base)
            && let Some(flag) = self.flags.get_mut(i as usize)
            && *flag
        {
            *flag = false;
            self.count -= 1;
            while self.flags.front() == Some(&false) {
                self.flags.pop_front();
                self.base += 1;
            }
        }
    }

    fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The oldest pending id, if any (the window's front is always pending).
    fn oldest(&self) -> Option<u64> {
        (self.count > 0).then_some(self.base)
    }
}

/// A finite or endless spout over messages `0, 1, 2, …` that replays failed ones.
struct Replaying<F> {
    make: F,
    next: u64,
    limit: Option<u64>,
    tracking: bool,
    pending: PendingIds,
    replays: VecDeque<u64>,
    /// Said once in the run log when the limit is reached (a sequence that stops
    /// before it would overflow says so, instead of wrapping around).
    end_note: Option<EndNote>,
    /// Exactly-once: the batches of this task, kept by the run's coordinator.
    txn: Option<Txn>,
}

/// A transactional spout's link to its batches.
struct Txn {
    coord: Arc<crate::runtime::txn::Coordinator>,
    ledger: Arc<std::sync::Mutex<crate::runtime::txn::SpoutLedger>>,
    clock: crate::clock::RunClock,
}

impl Txn {
    fn ledger(&self) -> std::sync::MutexGuard<'_, crate::runtime::txn::SpoutLedger> {
        match self.ledger.lock() {
            Ok(l) => l,
            Err(p) => p.into_inner(),
        }
    }
}

struct EndNote {
    info: TaskInfo,
    text: String,
}

impl<F: FnMut(u64) -> Values + Send> Replaying<F> {
    fn boxed(info: &TaskInfo, limit: Option<u64>, make: F) -> Behaviour
    where
        F: 'static,
    {
        Self::boxed_with_note(info, limit, None, make)
    }

    fn boxed_with_note(
        info: &TaskInfo,
        limit: Option<u64>,
        end_note: Option<String>,
        make: F,
    ) -> Behaviour
    where
        F: 'static,
    {
        // Under exactly-once the coordinator keeps this task's batches: a rebuilt task
        // finds them and emits again what was in flight, under new attempts.
        let txn = info.env.txn.as_ref().map(|coord| {
            let (ledger, rebuilt) = coord.ledger(info.task);
            let txn = Txn {
                coord: coord.clone(),
                ledger,
                clock: info.env.clock.clone(),
            };
            if rebuilt {
                txn.ledger().rebuilt();
            }
            txn
        });
        Behaviour::Spout(Box::new(Self {
            make,
            next: 0,
            limit,
            tracking: info.tracking,
            pending: PendingIds::default(),
            replays: VecDeque::new(),
            end_note: end_note.map(|text| EndNote {
                info: info.clone(),
                text,
            }),
            txn,
        }))
    }
}

impl<F: FnMut(u64) -> Values + Send> Replaying<F> {
    /// Exactly-once: the next message of a batch, as the ledger decides.
    fn next_in_batch(&mut self, out: &mut Emitter) -> bool {
        let Some(txn) = &self.txn else {
            return false;
        };
        let now = txn.clock.now();
        let emit = txn.ledger().next(&txn.coord, now, self.limit);
        match emit {
            Some(e) => {
                out.emit_in_batch(e.msg_id, (self.make)(e.k), e.attempt, e.replay);
                true
            }
            None => {
                // Said once, when every batch of the input is committed.
                if self.end_note.is_some()
                    && txn.ledger().is_done(&txn.coord, self.limit)
                    && let Some(note) = self.end_note.take()
                {
                    let i = &note.info;
                    i.env.log.push(&i.node, i.task, LogKind::Event, note.text);
                }
                false
            }
        }
    }
}

impl<F: FnMut(u64) -> Values + Send> Spout for Replaying<F> {
    fn next_tuple(&mut self, out: &mut Emitter) -> bool {
        if self.txn.is_some() {
            return self.next_in_batch(out);
        }
        if let Some(k) = self.replays.pop_front() {
            out.replay(k, (self.make)(k));
            return true;
        }
        if self.limit.is_some_and(|l| self.next >= l) {
            if let Some(note) = self.end_note.take() {
                let i = &note.info;
                i.env.log.push(&i.node, i.task, LogKind::Event, note.text);
            }
            return false;
        }
        let k = self.next;
        self.next += 1;
        if self.tracking {
            self.pending.insert(k);
        }
        out.emit_tracked(k, (self.make)(k));
        true
    }

    fn ack(&mut self, msg_id: u64) {
        if let Some(t) = &self.txn {
            t.ledger().ack(&t.coord, msg_id, t.clock.now());
            return;
        }
        self.pending.remove(msg_id);
    }

    fn fail(&mut self, msg_id: u64) {
        if let Some(t) = &self.txn {
            t.ledger().fail(msg_id);
            return;
        }
        if self.pending.contains(msg_id) {
            self.replays.push_back(msg_id);
        }
    }

    /// Message `k` always regenerates the same values, so a refused one would be refused
    /// again on every replay: it is given up (the executor counted it as failed).
    fn refused(&mut self, msg_id: u64) {
        if let Some(t) = &self.txn {
            // A batch cannot commit without it; replaying gives the same refusal, so
            // the batch would never commit. Counting it as acked lets the batch
            // commit without the record, which the refusal already reported.
            t.ledger().ack(&t.coord, msg_id, t.clock.now());
            return;
        }
        self.pending.remove(msg_id);
    }

    /// The oldest message not yet acked, or the next to emit when none is pending:
    /// every message before it was acked. Without acking, an emit counts as acked.
    fn position(&self) -> Option<u64> {
        if self.txn.is_some() {
            // The ledger, kept by the coordinator, is where a rebuilt task goes on from.
            return None;
        }
        if self.tracking {
            Some(self.pending.oldest().unwrap_or(self.next).min(self.next))
        } else {
            Some(self.next)
        }
    }

    /// Messages `position..` are emitted again (those acked among them are duplicates,
    /// as in Storm after a restart); nothing before is.
    fn resume(&mut self, position: u64) {
        if self.txn.is_some() {
            // The ledger, kept by the coordinator, already says where to go on.
            return;
        }
        self.next = position;
        self.pending = PendingIds {
            base: position,
            ..PendingIds::default()
        };
        self.replays.clear();
    }

    fn is_done(&self) -> bool {
        if let Some(t) = &self.txn {
            return t.ledger().is_done(&t.coord, self.limit);
        }
        self.limit.is_some_and(|l| self.next >= l)
            && self.pending.is_empty()
            && self.replays.is_empty()
    }
}

fn limit(cfg: &Config) -> Option<u64> {
    match cfg.int("limit") {
        n if n > 0 => Some(n as u64),
        _ => None,
    }
}

/// Picks pool entry for message `k` of a task: a pure function of (seed, k).
fn pick(task_seed: u64, k: u64, len: usize) -> usize {
    let mixed = splitmix64(task_seed ^ k.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    (((mixed >> 32) * len as u64) >> 32) as usize
}

pub fn sentence_factory(cfg: &Config) -> Factory {
    let seed = cfg.int("seed") as u64;
    let words = cfg.int("words_per_sentence").max(1) as usize;
    let pool = Arc::new(sentence_pool(
        seed,
        cfg.int("vocabulary").max(1) as usize,
        words,
        pool_size(words),
    ));
    let limit = limit(cfg);
    Arc::new(move |info: &TaskInfo| {
        let pool = pool.clone();
        let task_seed = derive_seed(seed, u64::from(info.index));
        Ok(Replaying::boxed(info, limit, move |k| {
            Values::One(Val::Str(
                pool[pick(task_seed, k, pool.len())].clone().into(),
            ))
        }))
    })
}

pub fn word_factory(cfg: &Config) -> Factory {
    let seed = cfg.int("seed") as u64;
    // Words are short, so they are kept inline: emitting one copies it, with no
    // reference count shared between cores.
    let vocabulary = cfg.int("vocabulary").max(1) as u64;
    let words: Arc<Vec<Text>> = Arc::new(
        (0..vocabulary.min(WORD_TABLE))
            .map(|i| Text::from(vocabulary_word(i)))
            .collect(),
    );
    let limit = limit(cfg);
    Arc::new(move |info: &TaskInfo| {
        let words = words.clone();
        let task_seed = derive_seed(seed, u64::from(info.index));
        Ok(Replaying::boxed(info, limit, move |k| {
            let i = pick(task_seed, k, vocabulary as usize);
            let word = match words.get(i) {
                Some(w) => w.clone(),
                None => Text::from(vocabulary_word(i as u64)),
            };
            Values::One(Val::Str(word))
        }))
    })
}

pub fn sequence_factory(cfg: &Config) -> Factory {
    let start = cfg.int("start");
    let limit = limit(cfg);
    Arc::new(move |info: &TaskInfo| {
        let (index, count) = (i64::from(info.index), i64::from(info.count.max(1)));
        // Message k of this task is start + k·count + index: it stops at the last number
        // a 64-bit integer holds instead of wrapping around to negative numbers.
        let fits = sequence_room(start, index, count);
        let (limit, note) = match limit {
            Some(l) if l <= fits => (Some(l), None),
            _ => (
                Some(fits),
                Some(format!(
                    "sequence ends after {fits} numbers on this task: the next one would be past {} (the largest 64-bit integer)",
                    i64::MAX
                )),
            ),
        };
        Ok(Replaying::boxed_with_note(info, limit, note, move |k| {
            let n = i128::from(start) + i128::from(k) * i128::from(count) + i128::from(index);
            Values::One(Val::Int(i64::try_from(n).unwrap_or(i64::MAX)))
        }))
    })
}

/// How many numbers `start + k·count + index` (k = 0, 1, …) stay within `i64`.
fn sequence_room(start: i64, index: i64, count: i64) -> u64 {
    let first = i128::from(start) + i128::from(index);
    let room = i128::from(i64::MAX) - first;
    if room < 0 {
        return 0;
    }
    u64::try_from(room / i128::from(count.max(1)) + 1).unwrap_or(u64::MAX)
}

pub fn file_lines_factory(cfg: &Config, env: &Env, node: &str) -> Result<Factory, RunError> {
    let path = env.path(node, "path", PathUse::ReadFile, &cfg.text("path"))?;
    let text = read_bounded(&path).map_err(|source| RunError::Io {
        node: node.to_string(),
        path: path.clone(),
        source,
    })?;
    // Every file_lines node of the run shares one allowance, counted with the cost of
    // keeping each line, so many nodes (or a file of empty lines) cannot multiply it.
    let cost = text
        .lines()
        .count()
        .saturating_mul(limits::INPUT_LINE_OVERHEAD)
        .saturating_add(text.len());
    env.inputs.take(0, cost).map_err(|_| RunError::Config {
        node: node.to_string(),
        message: format!(
            "{}: the file_lines inputs of this run would take more than {} MiB together \
             (each line costs its text plus {} bytes); use smaller files",
            path.display(),
            limits::MAX_INPUT_BYTES >> 20,
            limits::INPUT_LINE_OVERHEAD
        ),
    })?;
    let lines: Arc<Vec<Arc<str>>> = Arc::new(text.lines().map(Arc::from).collect());
    let repeat = cfg.flag("repeat");
    Ok(Arc::new(move |info: &TaskInfo| {
        // Task i of n takes lines i, i+n, i+2n, …
        let mine: Vec<Arc<str>> = lines
            .iter()
            .skip(info.index as usize)
            .step_by(info.count.max(1) as usize)
            .cloned()
            .collect();
        let limit = if repeat && !mine.is_empty() {
            None
        } else {
            Some(mine.len() as u64)
        };
        Ok(Replaying::boxed(info, limit, move |k| {
            Values::One(Val::Str(
                mine[(k % mine.len().max(1) as u64) as usize].clone().into(),
            ))
        }))
    }))
}

/// Reads a `file_lines` input whole, refusing one over [`limits::MAX_INPUT_FILE_BYTES`]
/// before holding more than that in memory.
fn read_bounded(path: &std::path::Path) -> std::io::Result<String> {
    use std::io::Read;
    let max = limits::MAX_INPUT_FILE_BYTES;
    let mut bytes = Vec::new();
    // A link swapped in after the policy's check is refused, not followed.
    crate::policy::paths::open_for_read(path)?
        .take(max as u64 + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() > max {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "larger than the {} MiB limit for a file_lines input; split the file",
                max >> 20
            ),
        ));
    }
    String::from_utf8(bytes)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e.utf8_error()))
}

/// A spout that emits nothing (stand-ins for unknown spout classes).
struct Silent;

impl Spout for Silent {
    fn next_tuple(&mut self, _out: &mut Emitter) -> bool {
        false
    }

    fn is_done(&self) -> bool {
        true
    }
}

pub fn silent_factory() -> Factory {
    Arc::new(|_info: &TaskInfo| Ok(Behaviour::Spout(Box::new(Silent))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_ids_slide() {
        let mut p = PendingIds::default();
        for k in 0..5 {
            p.insert(k);
        }
        p.remove(1);
        p.remove(0);
        assert_eq!(p.base, 2);
        assert!(p.contains(3) && !p.contains(1));
        for k in 2..5 {
            p.remove(k);
        }
        assert!(p.is_empty());
    }

    #[test]
    fn a_sequence_has_room_up_to_the_largest_integer_and_no_further() {
        assert_eq!(sequence_room(i64::MAX, 0, 1), 1);
        assert_eq!(sequence_room(i64::MAX, 1, 2), 0);
        assert_eq!(sequence_room(i64::MAX - 4, 0, 2), 3); // MAX-4, MAX-2, MAX
        assert_eq!(sequence_room(0, 0, 1), i64::MAX as u64 + 1);
        assert_eq!(sequence_room(i64::MIN, 0, 1), u64::MAX);
    }

    #[test]
    fn vocabulary_words_are_distinct() {
        let words: std::collections::HashSet<String> = (0..5000).map(vocabulary_word).collect();
        assert_eq!(words.len(), 5000);
    }

    #[test]
    fn long_sentences_get_a_smaller_pool_within_its_bytes() {
        assert_eq!(pool_size(10), SENTENCE_POOL);
        assert_eq!(pool_size(1000), SENTENCE_POOL_BYTES / 8000);
        let pool = sentence_pool(1, 1_000_000, 1000, pool_size(1000));
        let bytes: usize = pool.iter().map(|s| s.len()).sum();
        assert!(bytes <= 2 * SENTENCE_POOL_BYTES, "{bytes}");
    }

    #[test]
    fn pool_has_requested_shape() {
        let pool = sentence_pool(1, 1000, 10, 16);
        assert_eq!(pool.len(), 16);
        assert!(pool.iter().all(|s| s.split(' ').count() == 10));
    }
}
