//! Built-in spouts. Each one can regenerate message `k` from `k` alone, so keeping a
//! message for replay costs one set entry, not a copy of its values.

use std::collections::VecDeque;
use std::sync::Arc;

use super::super::rng::{Rng, derive_seed, splitmix64};
use super::super::tuple::{Text, Val, Values};
use super::{Behaviour, Config, Emitter, Env, Factory, Spout, TaskInfo};
use crate::policy::PathUse;
use crate::runtime::error::RunError;

/// Sentences in the pool a sentence generator draws from.
pub const SENTENCE_POOL: usize = 4096;

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
pub fn sentence_pool(seed: u64, vocabulary: usize, words: usize, size: usize) -> Vec<Arc<str>> {
    let vocab: Vec<String> = (0..vocabulary.max(1) as u64).map(vocabulary_word).collect();
    let mut rng = Rng::new(seed);
    (0..size)
        .map(|_| {
            let s: Vec<&str> = (0..words.max(1))
                .map(|_| vocab[rng.below(vocab.len())].as_str())
                .collect();
            Arc::from(s.join(" "))
        })
        .collect()
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
}

/// A finite or endless spout over messages `0, 1, 2, …` that replays failed ones.
struct Replaying<F> {
    make: F,
    next: u64,
    limit: Option<u64>,
    tracking: bool,
    pending: PendingIds,
    replays: VecDeque<u64>,
}

impl<F: FnMut(u64) -> Values + Send> Replaying<F> {
    fn boxed(info: &TaskInfo, limit: Option<u64>, make: F) -> Behaviour
    where
        F: 'static,
    {
        Behaviour::Spout(Box::new(Self {
            make,
            next: 0,
            limit,
            tracking: info.tracking,
            pending: PendingIds::default(),
            replays: VecDeque::new(),
        }))
    }
}

impl<F: FnMut(u64) -> Values + Send> Spout for Replaying<F> {
    fn next_tuple(&mut self, out: &mut Emitter) -> bool {
        if let Some(k) = self.replays.pop_front() {
            out.replay(k, (self.make)(k));
            return true;
        }
        if self.limit.is_some_and(|l| self.next >= l) {
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
        self.pending.remove(msg_id);
    }

    fn fail(&mut self, msg_id: u64) {
        if self.pending.contains(msg_id) {
            self.replays.push_back(msg_id);
        }
    }

    fn is_done(&self) -> bool {
        self.limit.is_some_and(|l| self.next >= l)
            && self.pending.is_empty()
            && self.replays.is_empty()
    }
}

fn limit(cfg: &Config) -> Option<u64> {
    match cfg.int("limit", 0) {
        n if n > 0 => Some(n as u64),
        _ => None,
    }
}

/// Picks pool entry for message `k` of a task: a pure function of (seed, k).
fn pick(task_seed: u64, k: u64, len: usize) -> usize {
    let mut s = task_seed ^ k.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (((splitmix64(&mut s) >> 32) * len as u64) >> 32) as usize
}

pub fn sentence_factory(cfg: &Config) -> Factory {
    let seed = cfg.int("seed", 42) as u64;
    let pool = Arc::new(sentence_pool(
        seed,
        cfg.int("vocabulary", 1000).max(1) as usize,
        cfg.int("words_per_sentence", 10).max(1) as usize,
        SENTENCE_POOL,
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
    let seed = cfg.int("seed", 42) as u64;
    // Words are short, so they are kept inline: emitting one copies it, with no
    // reference count shared between cores.
    let words: Arc<Vec<Text>> = Arc::new(
        (0..cfg.int("vocabulary", 1000).max(1) as u64)
            .map(|i| Text::from(vocabulary_word(i)))
            .collect(),
    );
    let limit = limit(cfg);
    Arc::new(move |info: &TaskInfo| {
        let words = words.clone();
        let task_seed = derive_seed(seed, u64::from(info.index));
        Ok(Replaying::boxed(info, limit, move |k| {
            Values::One(Val::Str(words[pick(task_seed, k, words.len())].clone()))
        }))
    })
}

pub fn sequence_factory(cfg: &Config) -> Factory {
    let start = cfg.int("start", 0);
    let limit = limit(cfg);
    Arc::new(move |info: &TaskInfo| {
        let (index, count) = (i64::from(info.index), i64::from(info.count));
        Ok(Replaying::boxed(info, limit, move |k| {
            Values::One(Val::Int(
                start
                    .wrapping_add((k as i64).wrapping_mul(count))
                    .wrapping_add(index),
            ))
        }))
    })
}

/// Largest file `file_lines` reads. It keeps every line in memory so it can replay any
/// of them, so the file's size is the memory it takes.
pub const FILE_LINES_MAX_BYTES: u64 = 64 * 1024 * 1024;

pub fn file_lines_factory(cfg: &Config, env: &Env, node: &str) -> Result<Factory, RunError> {
    let path = env.path(
        node,
        "path",
        PathUse::ReadFile,
        &cfg.text("path", "input.txt"),
    )?;
    let io_error = |source| RunError::Io {
        node: node.to_string(),
        path: path.clone(),
        source,
    };
    let text = read_bounded(&path, FILE_LINES_MAX_BYTES)
        .map_err(io_error)?
        .ok_or_else(|| RunError::Config {
            node: node.to_string(),
            message: format!(
                "{} is larger than {} MiB, the most file_lines keeps in memory for replay",
                path.display(),
                FILE_LINES_MAX_BYTES / (1024 * 1024)
            ),
        })?;
    let lines: Arc<Vec<Arc<str>>> = Arc::new(text.lines().map(Arc::from).collect());
    let repeat = cfg.flag("repeat", false);
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

/// The text of the regular file at `path` if it holds at most `limit` bytes; `None` if
/// it holds more. Reads no further than one byte past the limit, whatever the file is
/// (a device or a pipe never ends), and refuses a link swapped in after the check.
fn read_bounded(path: &std::path::Path, limit: u64) -> std::io::Result<Option<String>> {
    use std::io::Read;
    let file = crate::policy::paths::open_for_read(path)?;
    let mut bytes = Vec::new();
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Ok(None);
    }
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
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
    fn vocabulary_words_are_distinct() {
        let words: std::collections::HashSet<String> = (0..5000).map(vocabulary_word).collect();
        assert_eq!(words.len(), 5000);
    }

    #[test]
    fn pool_has_requested_shape() {
        let pool = sentence_pool(1, 1000, 10, 16);
        assert_eq!(pool.len(), 16);
        assert!(pool.iter().all(|s| s.split(' ').count() == 10));
    }
}
