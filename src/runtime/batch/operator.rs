//! What each node does to a batch. Per-record components (split = flatMap, map, filter,
//! sinks, pass-through) are the very bolts of record-at-a-time mode, called once per
//! record of the batch; keyed and windowed components become DStream operators from
//! `crate::dstream` (`updateStateByKey`, `reduceByKeyAndWindow`, and the
//! [`BatchOp`]s of `keyed_ops` and `stream_window`).

use std::ops::Range;
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::dstream::StateByKey;

use super::super::components::{Behaviour, Bolt, Emitter, Failed, TaskInfo};
use super::super::limits::{self, RefusalLog};
use super::super::log::LogKind;
use super::super::metrics::WindowResult;
use super::super::tuple::{AckIds, KeyMap, Tuple, Val, Values};
use super::key::Key;
use super::window_op::WindowOp;

/// One record between two operators: its global stream id and its values.
#[derive(Debug, Clone)]
pub(crate) struct Item {
    pub stream: u32,
    pub values: Values,
}

/// How one batch went through one operator.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct OpCounts {
    pub executed: u64,
    pub failed: u64,
    pub restarts: u64,
    /// Emits over the value cap and inputs a full buffer did not keep.
    pub refused: u64,
}

/// What injected faults decide for one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    Run,
    Fail,
    Crash,
}

/// Called before each input record by the job runner, so operators know nothing of
/// timing or fault dice (it may also spend injected latency).
pub(crate) trait RecordHook {
    fn before(&mut self) -> Verdict;
}

/// A node's operator in micro-batch mode.
pub(crate) enum Operator {
    /// A spout: its output is the batch cut from its receivers.
    Receiver,
    /// A record-at-a-time bolt applied to every record of the batch.
    PerRecord(PerRecord),
    /// `updateStateByKey` keeping running counts; emits the keys the batch changed.
    CountByKey(CountByKey),
    /// `reduceByKeyAndWindow` and friends.
    Window(Box<WindowOp>),
    /// The other DStream operators (`reduceByKey`, `countByValue`, `join`, `window`,
    /// `countByWindow`): whole-batch functions from `crate::dstream`.
    Batch(Box<dyn BatchOp>),
}

/// Where the input of one node came from: the upstream plan node of each run of records,
/// in input order. Only a join needs to tell its inputs apart.
pub(crate) type Sources = [(usize, Range<usize>)];

/// A whole-batch operator: sees the batch at once and emits its result.
pub(crate) trait BatchOp: Send {
    fn run(
        &mut self,
        time_ms: u64,
        input: &[&Item],
        sources: &Sources,
        hook: &mut dyn RecordHook,
        out: &mut Vec<Item>,
    ) -> OpCounts;

    /// The latest closed window, for window operators that report one.
    fn latest_window(&self) -> Option<&WindowResult> {
        None
    }

    /// True for operators that carry nothing from one batch to the next: running one
    /// again over the same batch gives the same output, so a lost partition of it is
    /// recomputed (`lineage`). Stateful ones keep their state checkpointed instead.
    fn per_batch(&self) -> bool {
        false
    }
}

/// Rolls the fault dice for one record; false (and counted as failed) when it must be
/// skipped. Whole-batch operators keep no per-record state a crash could lose, so a
/// crash fails the record as a failure does.
pub(crate) fn admit(hook: &mut dyn RecordHook, counts: &mut OpCounts) -> bool {
    if hook.before() == Verdict::Run {
        counts.executed += 1;
        true
    } else {
        counts.failed += 1;
        false
    }
}

pub(crate) struct PerRecord {
    pub bolt: Option<Box<dyn Bolt>>,
    pub info: TaskInfo,
    /// Global stream ids of the node's outputs, by local index.
    pub outputs: Vec<u32>,
    pub rebuild: super::super::components::Factory,
    pub refusals: RefusalLog,
}

impl PerRecord {
    fn rebuild(&mut self) {
        self.bolt = match (self.rebuild)(&self.info) {
            Ok(Behaviour::Bolt(b)) => Some(b),
            _ => None,
        };
    }

    /// Runs the bolt over `input`; `origins` gets, for each item pushed to `out`, the
    /// position in `input` of the record that produced it (its partition's lineage).
    pub fn run(
        &mut self,
        input: &[&Item],
        hook: &mut dyn RecordHook,
        out: &mut Vec<Item>,
        origins: &mut Vec<u32>,
    ) -> OpCounts {
        let mut counts = OpCounts::default();
        let mut emitter = Emitter::default();
        for (at, item) in input.iter().enumerate() {
            match hook.before() {
                Verdict::Run => {}
                Verdict::Fail => {
                    counts.failed += 1;
                    continue;
                }
                Verdict::Crash => {
                    counts.failed += 1;
                    counts.restarts += 1;
                    self.rebuild();
                    continue;
                }
            }
            let Some(bolt) = self.bolt.as_mut() else {
                counts.failed += 1;
                continue;
            };
            let tuple = Tuple {
                values: item.values.clone(),
                stream: item.stream,
                source_task: 0,
                ids: AckIds::NONE,
            };
            let result = catch_unwind(AssertUnwindSafe(|| bolt.execute(&tuple, &mut emitter)));
            let refusals = emitter.take_refusals();
            let fail_input = refusals.as_ref().is_some_and(|r| r.fail_input);
            if let Some(r) = refusals {
                counts.refused += r.count;
                let info = &self.info;
                self.refusals
                    .report(&info.env.log, &info.node, info.task, &r.first);
            }
            match result {
                Ok(Ok(())) if !fail_input => counts.executed += 1,
                Ok(_) => {
                    counts.executed += 1;
                    counts.failed += 1;
                }
                Err(_) => {
                    emitter.items.clear();
                    counts.failed += 1;
                    counts.restarts += 1;
                    self.rebuild();
                    continue;
                }
            }
            for e in emitter.items.drain(..).filter(|e| !e.refused) {
                if let Some(&stream) = self.outputs.get(e.stream) {
                    out.push(Item {
                        stream,
                        values: e.values,
                    });
                    origins.push(at as u32);
                }
            }
        }
        if let Some(bolt) = self.bolt.as_mut()
            && let Err(Failed(why)) = bolt.flush()
        {
            // The batch's output did not reach its file: its records count as failed.
            counts.failed = counts.executed;
            let info = &self.info;
            info.env.log.push_once(
                &info.node,
                info.task,
                "flush failed",
                LogKind::Error,
                format!("{why}; the batch's records are failed"),
            );
        }
        counts
    }
}

/// Word count over batches: per-batch counts (`reduceByKey`) folded into running totals
/// (`updateStateByKey`). Only keys seen in this batch are emitted, with their new
/// totals, in key order — so a sink sees each changed count once per batch.
pub(crate) struct CountByKey {
    pub key: super::super::components::FieldLookup,
    pub state: StateByKey<Key, i64>,
    pub output: Option<u32>,
    /// The node's task info: the run's keyed-state budget (shared with record-at-a-time
    /// `count_by_key`) and its log.
    pub info: TaskInfo,
}

impl CountByKey {
    pub fn run(
        &mut self,
        input: &[&Item],
        hook: &mut dyn RecordHook,
        out: &mut Vec<Item>,
    ) -> OpCounts {
        let mut counts = OpCounts::default();
        let mut batch: KeyMap<i64> = KeyMap::default();
        for item in input {
            match hook.before() {
                Verdict::Run => {}
                Verdict::Fail | Verdict::Crash => {
                    counts.failed += 1;
                    continue;
                }
            }
            let tuple = Tuple {
                values: item.values.clone(),
                stream: item.stream,
                source_task: 0,
                ids: AckIds::NONE,
            };
            match self.key.get(&tuple) {
                Ok(k) => {
                    counts.executed += 1;
                    let known = batch.contains_key(k) || self.state.get(&Key(k.clone())).is_some();
                    // A new key takes room from the run's state budget; when it is full
                    // the key is not kept (counted as refused, logged once).
                    if !known
                        && let Err(refusal) =
                            self.info.env.state.take(1, limits::state_entry_bytes(k))
                    {
                        counts.refused += 1;
                        self.info.env.log.push_once(
                            &self.info.node,
                            self.info.task,
                            "keyed state full",
                            LogKind::Error,
                            refusal.to_string(),
                        );
                        continue;
                    }
                    let n = batch.entry(k.clone()).or_default();
                    *n = n.saturating_add(1);
                }
                Err(_) => {
                    counts.executed += 1;
                    counts.failed += 1;
                }
            }
        }
        let mut changed: Vec<Key> = batch.keys().cloned().map(Key).collect();
        changed.sort();
        let state = self
            .state
            .update(batch.into_iter().map(|(k, n)| (Key(k), n)), |new, old| {
                Some(
                    new.iter()
                        .fold(old.unwrap_or(0), |total, n| total.saturating_add(*n)),
                )
            });
        if let Some(stream) = self.output {
            for key in changed {
                let total = state.get(&key).copied().unwrap_or(0);
                out.push(Item {
                    stream,
                    values: Values::two(key.0, Val::Int(total)),
                });
            }
        }
        counts
    }
}
