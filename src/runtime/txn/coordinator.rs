//! The batch coordinator: txids and attempts handed out, batches known processed, and
//! commits made strictly in txid order. One per exactly-once run, shared by every task.
//!
//! Lock order, everywhere: a spout's ledger, then the book, then a committer's store.
//! A committer's `execute` takes only its store; the coordinator never takes a ledger.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use super::committer::{CommitStore, FileBatch, StoreKind};
use super::ledger::SpoutLedger;
use crate::runtime::log::{LogKind, RunLog};
use crate::runtime::metrics::TransactionMetrics;

/// The largest attempt id a root can carry (31 bits); ids wrap back to 1 after it.
const MAX_ATTEMPT: u32 = 0x7FFF_FFFF;

/// A batch handed out and not yet committed.
#[derive(Debug)]
struct OpenBatch {
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
    attempts_replayed: u64,
    given_up: u64,
    /// A file could not be written; the batch stays uncommitted and is tried again.
    write_failed: Option<u64>,
}

/// Trident's MasterBatchCoordinator, as shared state.
pub struct Coordinator {
    book: Mutex<Book>,
    committed: AtomicU64,
    /// A commit failed (a file could not be written) and should be tried again.
    retry: AtomicBool,
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
            retry: AtomicBool::new(false),
            log,
        }
    }

    /// The coordinator a run of `plan` needs: one under exactly-once, else none.
    pub fn for_plan(plan: &crate::runtime::plan::Plan, log: &Arc<RunLog>) -> Option<Arc<Self>> {
        (plan.guarantee == crate::model::Guarantee::ExactlyOnce && plan.ackers() > 0)
            .then(|| Arc::new(Self::new(log.clone())))
    }

    fn book(&self) -> MutexGuard<'_, Book> {
        lock(&self.book)
    }

    /// The last txid committed.
    pub fn committed_through(&self) -> u64 {
        self.committed.load(Ordering::Acquire)
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
    /// gets its store back as it was: what the store holds was acked, so it must
    /// outlive the task, as Trident's state outlives a worker.
    pub(super) fn store(
        &self,
        node: &str,
        task: u32,
        make: impl FnOnce() -> StoreKind,
    ) -> Arc<Mutex<CommitStore>> {
        let mut book = self.book();
        if let Some(s) = book.stores.iter().find(|s| lock(s).task == task) {
            return s.clone();
        }
        let s = Arc::new(Mutex::new(CommitStore::new(node, task, make())));
        book.stores.push(s.clone());
        s
    }

    fn take_attempt(book: &mut Book) -> u32 {
        let attempt = book.next_attempt;
        book.next_attempt = if attempt >= MAX_ATTEMPT {
            1
        } else {
            attempt + 1
        };
        attempt
    }

    pub(super) fn open_batch(&self) -> (u64, u32) {
        let mut book = self.book();
        let txid = book.next_txid;
        book.next_txid += 1;
        let attempt = Self::take_attempt(&mut book);
        book.open.insert(
            txid,
            OpenBatch {
                attempts: vec![attempt],
                processed: None,
            },
        );
        (txid, attempt)
    }

    pub(super) fn new_attempt(&self, txid: u64) -> u32 {
        let mut book = self.book();
        let attempt = Self::take_attempt(&mut book);
        book.attempts_replayed += 1;
        if let Some(b) = book.open.get_mut(&txid) {
            b.attempts.push(attempt);
            b.processed = None;
        }
        attempt
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

    /// A message of batch `txid` failed every attempt: the batch commits with nothing
    /// (a fresh attempt no tuple carries), so the batches after it are not held up
    /// forever, and the log says what was given up.
    pub(super) fn give_up(&self, txid: u64, node_task: u32, message: u64, attempts: u32) {
        let mut book = self.book();
        let attempt = Self::take_attempt(&mut book);
        book.given_up += 1;
        if let Some(b) = book.open.get_mut(&txid) {
            b.attempts.push(attempt);
            b.processed = Some(attempt);
        }
        self.log.push(
            "exactly-once",
            node_task,
            LogKind::Error,
            format!(
                "message {message} of spout task {node_task} failed {attempts} attempts of batch {txid}: \
                 given up (it counts as lost) so later batches can commit"
            ),
        );
        self.commit_ready(&mut book);
    }

    /// Tries again a commit a file write turned down, when one did.
    pub(super) fn retry_if_needed(&self) {
        if self.retry.swap(false, Ordering::AcqRel) {
            let mut book = self.book();
            self.commit_ready(&mut book);
        }
    }

    /// Commits batches in txid order for as long as the next one is processed.
    fn commit_ready(&self, book: &mut Book) {
        loop {
            let txid = book.committed + 1;
            let Some(attempt) = book.open.get(&txid).and_then(|b| b.processed) else {
                return;
            };
            // Files first: if one cannot be written, nothing of the batch is applied
            // anywhere, and it is tried again later.
            let mut files = FileBatch::default();
            for s in &book.stores {
                lock(s).stage_lines(attempt, &mut files);
            }
            if let Err(problem) = files.write(txid) {
                if book.write_failed != Some(txid) {
                    book.write_failed = Some(txid);
                    self.log
                        .push(&problem.node, problem.task, LogKind::Error, problem.text);
                }
                self.retry.store(true, Ordering::Release);
                return;
            }
            book.write_failed = None;
            book.open.remove(&txid);
            // What any attempt of a batch not yet committed left stays; the rest
            // (attempts abandoned, late tuples of committed batches) goes.
            let live: BTreeSet<u32> = book
                .open
                .values()
                .flat_map(|b| b.attempts.iter().copied())
                .collect();
            for s in &book.stores {
                let mut store = lock(s);
                store.commit(txid, attempt);
                store.keep_only(&live);
            }
            book.committed = txid;
            self.committed.store(txid, Ordering::Release);
        }
    }

    /// The run's transactional figures and committed state, with at most `max_keys`
    /// keys per count node (`None`: all). A key counted by several tasks of a node
    /// (a grouping that does not route by key) shows their sum.
    pub fn report(&self, max_keys: Option<usize>) -> TransactionMetrics {
        let book = self.book();
        let mut state: BTreeMap<String, BTreeMap<String, (i64, u64)>> = BTreeMap::new();
        let mut complete = true;
        for s in &book.stores {
            let store = lock(s);
            if let Some(counts) = store.counts() {
                let node = state.entry(store.node.clone()).or_default();
                for (k, v) in counts {
                    let key = k.to_string();
                    if !node.contains_key(&key) && max_keys.is_some_and(|m| node.len() >= m) {
                        complete = false;
                        continue;
                    }
                    let e = node.entry(key).or_insert((0, 0));
                    e.0 = e.0.saturating_add(v.0);
                    e.1 = e.1.max(v.1);
                }
            }
        }
        TransactionMetrics {
            committed_txid: book.committed,
            attempts_replayed: book.attempts_replayed,
            given_up: book.given_up,
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
