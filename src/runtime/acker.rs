//! Storm's acker: a per-root XOR ledger that reaches zero exactly when a tuple tree is
//! complete, and the rotating map both ackers and spouts use for timeouts.

use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};

/// Hashes a root id to itself. A root is a spout's pending-slot index in its low 32 bits
/// under random high bits (see the spout's pending roots), so the table position comes
/// from the slot, and the trees in flight, whose slots are reused most-recent-first, sit
/// in a compact, cache-warm stretch of the table instead of at random places in it; the
/// random high bits still tell entries apart. Any other keys stay correct, only slower.
#[derive(Debug, Default, Clone, Copy)]
pub struct RootHasher(u64);

impl Hasher for RootHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    #[inline]
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

pub type RootBuild = BuildHasherDefault<RootHasher>;

/// A map whose entries expire after one to two rotations (Storm's `RotatingMap`).
/// Rotating once per message timeout makes an entry expire between T and 2T. Keys are
/// ids the runtime draws itself from its seeded generator, never outside input, so the
/// default hash is the fast unseeded Fx (`rustc-hash`).
#[derive(Debug)]
pub struct RotatingMap<V, S = rustc_hash::FxBuildHasher> {
    /// `buckets[0]` is the newest.
    buckets: [HashMap<u64, V, S>; 2],
}

impl<V, S: Default> Default for RotatingMap<V, S> {
    fn default() -> Self {
        Self {
            buckets: [HashMap::default(), HashMap::default()],
        }
    }
}

impl<V, S: BuildHasher> RotatingMap<V, S> {
    pub fn insert(&mut self, key: u64, value: V) {
        self.buckets[1].remove(&key);
        self.buckets[0].insert(key, value);
    }

    pub fn get_mut(&mut self, key: u64) -> Option<&mut V> {
        let [newest, oldest] = &mut self.buckets;
        newest.get_mut(&key).or_else(|| oldest.get_mut(&key))
    }

    pub fn get(&self, key: u64) -> Option<&V> {
        let [newest, oldest] = &self.buckets;
        newest.get(&key).or_else(|| oldest.get(&key))
    }

    pub fn remove(&mut self, key: u64) -> Option<V> {
        self.buckets[0]
            .remove(&key)
            .or_else(|| self.buckets[1].remove(&key))
    }

    pub fn contains(&self, key: u64) -> bool {
        self.buckets.iter().any(|b| b.contains_key(&key))
    }

    pub fn len(&self) -> usize {
        self.buckets[0].len() + self.buckets[1].len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Starts a new bucket and returns the entries of the oldest one (now expired).
    pub fn rotate(&mut self) -> Vec<(u64, V)> {
        let expired: Vec<(u64, V)> = self.buckets[1].drain().collect();
        self.buckets.swap(0, 1);
        expired
    }

    /// Updates the entry for `key` (created with `V::default()` if absent, and moved to
    /// the newest bucket like a `put` would); removes and returns it when `f` says the
    /// entry is finished. One hash lookup in the common case.
    pub fn update(&mut self, key: u64, f: impl FnOnce(&mut V) -> bool) -> Option<V>
    where
        V: Default,
    {
        use std::collections::hash_map::Entry;
        if let Some(mut v) = self.buckets[1].remove(&key) {
            if f(&mut v) {
                return Some(v);
            }
            self.buckets[0].insert(key, v);
            return None;
        }
        match self.buckets[0].entry(key) {
            Entry::Occupied(mut e) => f(e.get_mut()).then(|| e.remove()),
            Entry::Vacant(e) => {
                let mut v = V::default();
                if f(&mut v) {
                    Some(v)
                } else {
                    e.insert(v);
                    None
                }
            }
        }
    }

    pub fn clear(&mut self) {
        self.buckets[0].clear();
        self.buckets[1].clear();
    }
}

/// One message on the acker streams (`__ack_init`, `__ack_ack`, `__ack_fail`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AckMsg {
    Init {
        root: u64,
        xor: u64,
        spout_task: u32,
    },
    Ack {
        root: u64,
        xor: u64,
    },
    Fail {
        root: u64,
    },
}

/// What the acker tells a spout task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    pub spout_task: u32,
    pub root: u64,
    pub ok: bool,
}

#[derive(Debug, Default, Clone, Copy)]
struct Entry {
    val: u64,
    spout_task: Option<u32>,
    failed: bool,
}

/// The ledger of one acker task.
#[derive(Debug, Default)]
pub struct Ledger {
    pending: RotatingMap<Entry, RootBuild>,
}

impl Ledger {
    /// Applies one message; returns the outcome when the tree completes or fails.
    /// INIT and ACK may arrive in either order; a tree completes only once INIT (which
    /// names the spout task) has arrived.
    pub fn apply(&mut self, msg: AckMsg) -> Option<Outcome> {
        let root = match msg {
            AckMsg::Init { root, .. } | AckMsg::Ack { root, .. } | AckMsg::Fail { root } => root,
        };
        let done = self.pending.update(root, |entry| {
            match msg {
                AckMsg::Init {
                    xor, spout_task, ..
                } => {
                    entry.val ^= xor;
                    entry.spout_task = Some(spout_task);
                }
                AckMsg::Ack { xor, .. } => entry.val ^= xor,
                AckMsg::Fail { .. } => entry.failed = true,
            }
            entry.spout_task.is_some() && (entry.failed || entry.val == 0)
        })?;
        Some(Outcome {
            spout_task: done.spout_task?,
            root,
            ok: !done.failed,
        })
    }

    /// The XOR value the ledger holds for `root` (`None` when it holds nothing for it:
    /// never seen, completed, failed or expired).
    pub fn value(&self, root: u64) -> Option<u64> {
        self.pending.get(root).map(|e| e.val)
    }

    /// Expires the oldest bucket silently (the spout times those roots out itself).
    pub fn rotate(&mut self) -> usize {
        self.pending.rotate().len()
    }

    pub fn len(&self) -> usize {
        self.pending.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tree_completes_exactly_when_every_edge_is_acked() {
        let mut l = Ledger::default();
        let (root, e1, e2, c1) = (7, 0x11, 0x22, 0x44);
        assert_eq!(
            l.apply(AckMsg::Init {
                root,
                xor: e1 ^ e2,
                spout_task: 3
            }),
            None
        );
        // Bolt acks e1 and emits child c1 anchored to it.
        assert_eq!(l.apply(AckMsg::Ack { root, xor: e1 ^ c1 }), None);
        assert_eq!(l.apply(AckMsg::Ack { root, xor: c1 }), None);
        let done = l.apply(AckMsg::Ack { root, xor: e2 }).unwrap();
        assert!(done.ok);
        assert_eq!(done.spout_task, 3);
        assert!(l.is_empty());
    }

    #[test]
    fn acks_before_init_wait_for_init() {
        let mut l = Ledger::default();
        assert_eq!(l.apply(AckMsg::Ack { root: 1, xor: 5 }), None);
        let done = l
            .apply(AckMsg::Init {
                root: 1,
                xor: 5,
                spout_task: 1,
            })
            .unwrap();
        assert!(done.ok);
    }

    #[test]
    fn fail_reports_failure_and_zero_targets_complete_at_once() {
        let mut l = Ledger::default();
        l.apply(AckMsg::Init {
            root: 2,
            xor: 9,
            spout_task: 1,
        });
        assert!(!l.apply(AckMsg::Fail { root: 2 }).unwrap().ok);
        assert!(
            l.apply(AckMsg::Init {
                root: 3,
                xor: 0,
                spout_task: 1
            })
            .unwrap()
            .ok
        );
    }

    #[test]
    fn ledger_keeps_roots_of_one_slot_apart() {
        // Same slot (low bits), different random halves: distinct trees.
        let (a, b) = ((1u64 << 63) | (5 << 32) | 3, (1u64 << 63) | (9 << 32) | 3);
        let mut l = Ledger::default();
        l.apply(AckMsg::Init {
            root: a,
            xor: 1,
            spout_task: 1,
        });
        l.apply(AckMsg::Init {
            root: b,
            xor: 2,
            spout_task: 1,
        });
        assert_eq!(l.apply(AckMsg::Ack { root: a, xor: 2 }), None);
        let done = l.apply(AckMsg::Ack { root: b, xor: 2 }).unwrap();
        assert_eq!((done.root, done.ok), (b, true));
        assert_eq!(l.len(), 1);
    }

    #[test]
    fn rotation_expires_after_two_rotations() {
        let mut m: RotatingMap<()> = RotatingMap::default();
        m.insert(1, ());
        assert!(m.rotate().is_empty());
        assert_eq!(m.rotate().len(), 1);
    }
}
