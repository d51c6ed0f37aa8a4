//! Exactly-once delivery as Trident does it: transactional batches with a txid, and
//! state that applies each batch once, in txid order.
//!
//! How the pieces map to Trident:
//! - **Coordinator** ([`Coordinator`], Trident's MasterBatchCoordinator): hands out
//!   strictly increasing txids, learns when a batch is fully processed, and commits
//!   batches one at a time in txid order. It lives beside the executors (a shared
//!   object, not a spout), so it survives task crashes and worker kills, as Trident's
//!   coordinator state survives in ZooKeeper.
//! - **Transactional spout** ([`SpoutLedger`]): a spout task cuts its messages into
//!   batches (up to [`BATCH_SIZE`] messages, closed early after [`BATCH_LINGER`] or when
//!   the input pauses). A batch is a range of message numbers, recorded in the ledger;
//!   a replay re-emits the same range, so the same txid always carries the same tuples.
//!   Batches overlap in processing, up to [`MAX_OPEN_BATCHES`] per spout task.
//! - **Attempts**: every emission of a batch gets a fresh attempt id, carried in the
//!   high half of each tuple tree's root id ([`batch_of`]), so a tuple's batch is known
//!   anywhere downstream without a field in the tuple, and what a failed attempt left
//!   in flight is never mistaken for the current attempt.
//! - **Committers** ([`committer`]): `count_by_key`, `file_sink` and `collector` keep
//!   what each attempt brought them apart (processing), and apply it only when the
//!   coordinator commits that batch (commit). State is `(value, txid)` per key, as
//!   Trident's transactional state, and lives beside the coordinator: a crash loses a
//!   task's uncommitted inputs, never its committed state.
//! - Committers' stores outlive their tasks: what a task put aside was acked, so a
//!   crash or a killed worker must not lose it (a tuple not yet put aside was not acked,
//!   and its batch replays).
//! - A batch that keeps failing is halved (Trident's opaque spouts), down to a single
//!   message; a message that fails every attempt alone is given up and logged, so one
//!   bad record cannot hold every later commit back forever.

mod committer;
mod coordinator;
mod ledger;

pub use crate::components::exactly_once::is_committer;
pub use committer::{CommitStore, committer_factory, sidecar_of};
pub use coordinator::Coordinator;
pub use ledger::SpoutLedger;

use std::time::Duration;

/// Messages a spout task puts in one batch at most.
pub const BATCH_SIZE: u64 = 100;
/// A batch still open this long after its first message is closed, so a slow spout's
/// records are not held back waiting for a full batch (Trident's batch interval).
pub const BATCH_LINGER: Duration = Duration::from_millis(200);
/// Batches one spout task may have emitted but not yet committed.
pub const MAX_OPEN_BATCHES: usize = 4;

/// The attempt id a tuple tree's root carries (0 for a root made outside a batch).
#[inline]
pub fn batch_of(root: u64) -> u32 {
    ((root >> 32) & 0x7FFF_FFFF) as u32
}

/// A root id for a tree of attempt `attempt`, in slot `slot`: the top bit is always
/// set, so it is never zero.
#[inline]
pub fn tagged_root(attempt: u32, slot: u32) -> u64 {
    (1 << 63) | (u64::from(attempt & 0x7FFF_FFFF) << 32) | u64::from(slot)
}

/// A spout message id inside a batch: the attempt over the message's offset in it.
#[inline]
pub fn msg_id(attempt: u32, offset: u64) -> u64 {
    (u64::from(attempt) << 32) | (offset & 0xFFFF_FFFF)
}

/// The attempt and offset a batch message id was made from.
#[inline]
pub fn split_msg_id(id: u64) -> (u32, u64) {
    ((id >> 32) as u32, id & 0xFFFF_FFFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roots_carry_their_attempt_and_are_never_zero() {
        for attempt in [1u32, 2, 77, 0x7FFF_FFFF] {
            for slot in [0u32, 1, 12345, u32::MAX] {
                let root = tagged_root(attempt, slot);
                assert_ne!(root, 0);
                assert_eq!(batch_of(root), attempt);
                assert_eq!(root as u32, slot);
            }
        }
        assert_eq!(split_msg_id(msg_id(9, 42)), (9, 42));
    }
}
