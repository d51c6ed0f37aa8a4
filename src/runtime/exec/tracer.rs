//! Tracer bullets: every hop of a sample of tuple trees, recorded by the executors that
//! run them (Storm users asked for exactly this: which task emitted, executed and acked
//! each tuple of a tree, and when).
//!
//! Which trees are traced follows from the root id alone (`samples`), so every
//! executor decides by itself, without a flag travelling in the tuple. With tracing off
//! the executors read one relaxed atomic per batch and compare a local per tuple; the
//! recording itself (a short-held mutex) happens only for sampled trees.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::runtime::metrics::{TraceDone, TraceHop, TracedTree};
use crate::runtime::rng::splitmix64;

/// Finished trees kept for the snapshot, newest last.
pub const KEPT: usize = 32;
/// Trees still open at most (older ones are dropped: a tree whose tuples died with a
/// crashed task never gets its verdict here).
const OPEN: usize = 64;
/// Hops recorded per tree at most (a tree that fans out into thousands of tuples keeps
/// its first hops).
const HOPS: usize = 256;

#[derive(Debug, Default)]
pub struct Tracer {
    /// Trace one tree in this many (0: off).
    every: AtomicU64,
    book: Mutex<Book>,
}

#[derive(Debug, Default)]
struct Book {
    open: VecDeque<TracedTree>,
    done: VecDeque<TracedTree>,
}

/// Whether the tree `root` is one of the 1 in `every` traced (`every` = 0: none).
#[inline]
pub fn samples(root: u64, every: u64) -> bool {
    every != 0 && root != 0 && splitmix64(root).is_multiple_of(every)
}

impl Tracer {
    /// How many trees per traced one (0: tracing is off). One relaxed load.
    #[inline]
    pub fn every(&self) -> u64 {
        self.every.load(Ordering::Relaxed)
    }

    pub fn set_every(&self, every: u64) {
        self.every.store(every, Ordering::Relaxed);
    }

    fn book(&self) -> std::sync::MutexGuard<'_, Book> {
        self.book.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A spout task emitted the traced tree `root` at `at`.
    #[cold]
    pub fn emitted(&self, root: u64, spout: &str, task: u32, at: Duration) {
        let mut book = self.book();
        if book.open.len() >= OPEN {
            book.open.pop_front();
        }
        book.open.push_back(TracedTree {
            root,
            spout: spout.to_string(),
            spout_task: task,
            emitted: at,
            hops: Vec::new(),
            done: None,
        });
    }

    /// Bolt task `task` of `node` executed a tuple of the traced tree `root` that
    /// `from_task` of `from_node` had emitted, from `started` to `ended`.
    #[cold]
    #[allow(clippy::too_many_arguments)] // one hop's fields, recorded where they are known
    pub fn executed(
        &self,
        root: u64,
        node: &str,
        task: u32,
        from_node: &str,
        from_task: u32,
        started: Duration,
        ended: Duration,
        ok: bool,
    ) {
        let mut book = self.book();
        let Some(tree) = book.open.iter_mut().find(|t| t.root == root) else {
            return;
        };
        if tree.hops.len() >= HOPS {
            return;
        }
        // The parent's end: the sender's latest execution in this tree that ended by
        // now, or the spout's emit.
        let parent_end = tree
            .hops
            .iter()
            .filter(|h| h.task == from_task && h.ended <= started)
            .map(|h| h.ended)
            .max()
            .unwrap_or(tree.emitted);
        tree.hops.push(TraceHop {
            node: node.to_string(),
            task,
            from_node: from_node.to_string(),
            from_task,
            started,
            ended,
            waited: started.saturating_sub(parent_end),
            ok,
        });
    }

    /// The acker settled the traced tree `root`.
    #[cold]
    pub fn done(&self, root: u64, ok: bool, at: Duration) {
        let mut book = self.book();
        let Some(i) = book.open.iter().position(|t| t.root == root) else {
            return;
        };
        if let Some(mut tree) = book.open.remove(i) {
            tree.done = Some(TraceDone { at, ok });
            if book.done.len() >= KEPT {
                book.done.pop_front();
            }
            book.done.push_back(tree);
        }
    }

    /// The finished traced trees, oldest first.
    pub fn recent(&self) -> Vec<TracedTree> {
        self.book().done.iter().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_tree_in_n_is_sampled_and_hops_wait_for_their_parent() {
        let hits = (1..=100_000u64).filter(|&r| samples(r, 1000)).count();
        assert!((60..=140).contains(&hits), "{hits} of 100 000 at 1 in 1000");
        assert!(!samples(5, 0), "off samples nothing");
        let t = Tracer::default();
        let ms = Duration::from_millis;
        t.emitted(7, "spout", 1, ms(10));
        t.executed(7, "split", 3, "spout", 1, ms(12), ms(13), true);
        t.executed(7, "count", 5, "split", 3, ms(20), ms(21), true);
        assert!(t.recent().is_empty(), "not done yet");
        t.done(7, true, ms(25));
        let tree = &t.recent()[0];
        assert_eq!(tree.hops[0].waited, ms(2), "from the emit");
        assert_eq!(tree.hops[1].waited, ms(7), "from split's end");
        assert_eq!(tree.complete_latency(), Some(ms(15)));
    }
}
