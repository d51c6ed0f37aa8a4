//! The roots a spout task waits on, with Storm's two-bucket timeout semantics.
//!
//! A root id is 32 random high bits over a 32-bit slot index, so finding a pending root
//! is an array access instead of a hash lookup. Roots stay unique among trees in flight
//! (the slot), and the random half keeps a late message for an old tree in a reused slot
//! from matching (it is ignored, as Storm ignores unknown roots). Edge ids, which the
//! XOR ledger depends on, stay fully random 64-bit values.

use std::time::Instant;

use crate::runtime::rng::Rng;

#[derive(Debug, Clone, Copy)]
pub struct Pending {
    pub root: u64,
    pub msg_id: u64,
    pub emitted_at: Instant,
    epoch: u64,
}

#[derive(Debug, Default)]
pub struct PendingRoots {
    slots: Vec<Option<Pending>>,
    free: Vec<u32>,
    len: usize,
    epoch: u64,
}

impl PendingRoots {
    /// A fresh root id whose slot is reserved; `fill` or `release` it.
    pub fn reserve(&mut self, rng: &mut Rng) -> u64 {
        let slot = self.take_slot();
        // The high half is never zero, so neither is the root.
        let high = (rng.next_u64() & 0xFFFF_FFFF_0000_0000) | (1 << 63);
        high | u64::from(slot)
    }

    /// A root id for a tree of exactly-once batch attempt `attempt`, its slot reserved:
    /// the attempt takes the place of the random half (`runtime::txn::tagged_root`), so
    /// committers downstream know the tree's batch. A late message for an earlier tree
    /// in the same slot can only match if it was of the same attempt, and an attempt is
    /// abandoned at its first failure.
    pub fn reserve_in_batch(&mut self, attempt: u32) -> u64 {
        let slot = self.take_slot();
        crate::runtime::txn::tagged_root(attempt, slot)
    }

    /// A free slot, or a new one.
    fn take_slot(&mut self) -> u32 {
        match self.free.pop() {
            Some(s) => s,
            None => {
                self.slots.push(None);
                (self.slots.len() - 1) as u32
            }
        }
    }

    /// Records a reserved root as pending.
    pub fn fill(&mut self, root: u64, msg_id: u64, emitted_at: Instant) {
        if let Some(slot) = self.slots.get_mut(root as u32 as usize) {
            if slot.is_none() {
                self.len += 1;
            }
            *slot = Some(Pending {
                root,
                msg_id,
                emitted_at,
                epoch: self.epoch,
            });
        }
    }

    /// Gives back a reserved root that was never filled.
    pub fn release(&mut self, root: u64) {
        let slot = root as u32;
        if self.slots.get(slot as usize).is_some_and(Option::is_none) {
            self.free.push(slot);
        }
    }

    /// The pending entry of `root`, if it is still pending.
    pub fn get(&self, root: u64) -> Option<&Pending> {
        self.slots
            .get(root as u32 as usize)?
            .as_ref()
            .filter(|p| p.root == root)
    }

    /// Takes the pending entry of `root`, if it is still pending.
    #[inline]
    pub fn remove(&mut self, root: u64) -> Option<Pending> {
        let slot = root as u32;
        let entry = self.slots.get_mut(slot as usize)?;
        if entry.is_some_and(|p| p.root == root) {
            self.len -= 1;
            self.free.push(slot);
            return entry.take();
        }
        None
    }

    /// One timeout period passed: returns the entries that have now waited between one
    /// and two periods (Storm's two-bucket rotating map).
    pub fn rotate(&mut self) -> Vec<Pending> {
        self.epoch += 1;
        let mut expired = Vec::new();
        for (i, slot) in self.slots.iter_mut().enumerate() {
            if slot.is_some_and(|p| p.epoch + 2 <= self.epoch)
                && let Some(p) = slot.take()
            {
                expired.push(p);
                self.free.push(i as u32);
                self.len -= 1;
            }
        }
        expired
    }

    /// Forgets everything (a restarted spout starts over).
    pub fn clear(&mut self) {
        self.slots.clear();
        self.free.clear();
        self.len = 0;
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roots_round_trip_and_expire_after_two_rotations() {
        let mut rng = Rng::new(1);
        let mut p = PendingRoots::default();
        let now = Instant::now();
        let a = p.reserve(&mut rng);
        p.fill(a, 10, now);
        let b = p.reserve(&mut rng);
        p.fill(b, 11, now);
        assert_ne!(a, b);
        assert_eq!(p.len(), 2);
        assert_eq!(p.remove(a).map(|e| e.msg_id), Some(10));
        assert!(p.remove(a).is_none(), "removed once");
        let c = p.reserve(&mut rng);
        assert_eq!(c as u32, a as u32, "slot reused");
        assert_ne!(c, a, "with a new random half");
        p.release(c);
        assert!(p.rotate().is_empty());
        let expired = p.rotate();
        assert_eq!(expired.len(), 1);
        assert_eq!(expired[0].msg_id, 11);
        assert!(p.is_empty());
    }
}
