//! The batch coordinator: txids and attempts handed out, batches known processed, and
//! commits made strictly in txid order. One per exactly-once run, shared by every task.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use super::committer::{CommitStore, StoreKind};
use super::ledger::SpoutLedger;
use crate::runtime::log::{LogKind, RunLog};
use crate::runtime::metrics::TransactionMetrics;

/// A batch handed out and not yet committed.
#[derive(Debug)]
struct OpenBatch {
    spout_task: u32,
    /// Every attempt id it was emitted under, so what they left behind can be dropped.
    attempts: Vec<u32>,
    /// The attempt whose every message was acked.
    processed: Option<u32>,
}

#[derive(Default)]
struct Book {
    next_txid: u64,
    next_attempt: u32,
    open: BTreeMap<u64, OpenBatch>,
    committed: u64,
    ledgers: BTreeMap<u32, Arc<Mutex<SpoutLedger>>>,
    stores: Vec<Arc<Mutex<CommitStore>>>,
    /// Batches whose processed attempt a committer may have lost, by spout task.
    replays: BTreeMap<u32, Vec<u64>>,
    attempts_replayed: u64,
    lost_attempts: u64,
}

/// Trident's MasterBatchCoordinator, as shared state.
pub struct Coordinator {
    book: Mutex<Book>,
    committed: AtomicU64,
    replay_epoch: AtomicU64,
    log: Arc<RunLog>,
}

impl Coordinator {
    pub fn new(log: Arc<RunLog>) -> Self {
        Self {
            book: Mutex::new(Book {
                next_txid: 1,
                next_attempt: 1,
                ..Book::default()
            }),
            committed: AtomicU64::new(0),
            replay_epoch: AtomicU64::new(0),
            log,
        }
    }

    /// The coordinator a run of `plan` needs: one under exactly-once, else none.
    pub fn for_plan(plan: &crate::runtime::plan::Plan, log: &Arc<RunLog>) -> Option<Arc<Self>> {
        (plan.guarantee == crate::model::Guarantee::ExactlyOnce && plan.ackers() > 0)
            .then(|| Arc::new(Self::new(log.clone())))
    }

    fn book(&self) -> MutexGuard<'_, Book> {
        match self.book.lock() {
            Ok(b) => b,
            Err(p) => p.into_inner(),
        }
    }

    /// The last txid committed.
    pub fn committed_through(&self) -> u64 {
        self.committed.load(Ordering::Acquire)
    }

    pub(super) fn replay_epoch(&self) -> u64 {
        self.replay_epoch.load(Ordering::Acquire)
    }

    /// A spout task's ledger, and whether it existed already (the task is rebuilt).
    pub fn ledger(&self, task: u32) -> (Arc<Mutex<SpoutLedger>>, bool) {
        let mut book = self.book();
        if let Some(l) = book.ledgers.get(&task) {
            return (l.clone(), true);
        }
        let l = Arc::new(Mutex::new(SpoutLedger::new(task)));
        book.ledgers.insert(task, l.clone());
        (l, false)
    }

    /// A committer task's store. A task built again (after a crash or a killed worker)
    /// gets its store back with its uncommitted inputs dropped — they died with the
    /// task — and every attempt begun before now can no longer be committed.
    pub(super) fn store(
        &self,
        node: &str,
        task: u32,
        make: impl FnOnce() -> StoreKind,
    ) -> Arc<Mutex<CommitStore>> {
        let mut book = self.book();
        let next_attempt = book.next_attempt;
        for s in &book.stores {
            let mut store = lock(s);
            if store.task == task {
                store.rebuilt(next_attempt);
                return s.clone();
            }
        }
        let s = Arc::new(Mutex::new(CommitStore::new(node, task, make())));
        book.stores.push(s.clone());
        s
    }

    pub(super) fn open_batch(&self, spout_task: u32) -> (u64, u32) {
        let mut book = self.book();
        let txid = book.next_txid;
        book.next_txid += 1;
        let attempt = book.next_attempt;
        book.next_attempt += 1;
        book.open.insert(
            txid,
            OpenBatch {
                spout_task,
                attempts: vec![attempt],
                processed: None,
            },
        );
        (txid, attempt)
    }

    pub(super) fn new_attempt(&self, txid: u64) -> u32 {
        let mut book = self.book();
        let attempt = book.next_attempt;
        book.next_attempt += 1;
        book.attempts_replayed += 1;
        if let Some(b) = book.open.get_mut(&txid) {
            b.attempts.push(attempt);
            b.processed = None;
        }
        attempt
    }

    pub(super) fn take_replays(&self, task: u32) -> Vec<u64> {
        self.book().replays.remove(&task).unwrap_or_default()
    }

    /// Every message of `attempt` of batch `txid` was acked: commit what can be.
    pub(super) fn processed(&self, txid: u64, attempt: u32) {
        let mut book = self.book();
        if let Some(b) = book.open.get_mut(&txid)
            && b.attempts.last() == Some(&attempt)
        {
            b.processed = Some(attempt);
        }
        self.commit_ready(&mut book);
    }

    /// Commits batches in txid order for as long as the next one is processed.
    fn commit_ready(&self, book: &mut Book) {
        loop {
            let txid = book.committed + 1;
            let Some(batch) = book.open.get(&txid) else {
                return;
            };
            let Some(attempt) = batch.processed else {
                return;
            };
            // A committer rebuilt after this attempt began may have lost its inputs.
            let lost = book.stores.iter().any(|s| lock(s).valid_from > attempt);
            if lost {
                let task = batch.spout_task;
                if let Some(b) = book.open.get_mut(&txid) {
                    b.processed = None;
                }
                book.lost_attempts += 1;
                book.replays.entry(task).or_default().push(txid);
                self.replay_epoch.fetch_add(1, Ordering::AcqRel);
                return;
            }
            let attempts = book
                .open
                .remove(&txid)
                .map(|b| b.attempts)
                .unwrap_or_default();
            let mut files = super::committer::FileBatch::default();
            for s in &book.stores {
                lock(s).commit(txid, attempt, &attempts, &mut files);
            }
            for problem in files.write(txid) {
                self.log
                    .push(&problem.node, problem.task, LogKind::Error, problem.text);
            }
            book.committed = txid;
            self.committed.store(txid, Ordering::Release);
        }
    }

    /// The run's transactional figures and committed state, with at most `max_keys`
    /// keys per count node (`None`: all).
    pub fn report(&self, max_keys: Option<usize>) -> TransactionMetrics {
        let book = self.book();
        let mut state: BTreeMap<String, BTreeMap<String, (i64, u64)>> = BTreeMap::new();
        let mut complete = true;
        for s in &book.stores {
            let store = lock(s);
            if let Some(counts) = store.counts() {
                let node = state.entry(store.node.clone()).or_default();
                for (k, v) in counts {
                    if max_keys.is_some_and(|m| node.len() >= m) {
                        complete = false;
                        break;
                    }
                    node.insert(k.to_string(), *v);
                }
            }
        }
        TransactionMetrics {
            committed_txid: book.committed,
            attempts_replayed: book.attempts_replayed,
            lost_attempts: book.lost_attempts,
            state,
            state_complete: complete,
        }
    }
}

pub(super) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}
