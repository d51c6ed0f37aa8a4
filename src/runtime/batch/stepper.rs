//! Micro-batch mode one batch at a time, on the caller's thread (Lab mode): the same
//! receivers, operators and batch job as a threaded run, over a manual clock.
//!
//! A step moves virtual time through one batch interval a millisecond at a time, lets
//! every receiver make one round per millisecond (in receiver order), then cuts the
//! batch `(t − B, t]` and runs its job, reporting what each node produced. Nothing reads
//! the wall clock and nothing runs on another thread, so a seed fixes every batch.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::clock::{Clock, ManualClock, RunClock, Timer};
use crate::model::Topology;

use super::super::components::Collected;
use super::super::control::Control;
use super::super::error::RunError;
use super::super::metrics::{RecomputedPartition, WindowResult};
use super::super::options::RunOptions;
use super::super::plan::Plan;
use super::super::rng::{Rng, derive_seed};
use super::super::tuple::Values;
use super::job::run_batch;
use super::operator::{Item, Operator};
use super::receiver::Receiver;
use super::{Shared, prepare};

/// At most this many records per node are kept in a step's report (the count is
/// always exact).
pub const SHOWN_PER_NODE: usize = 200;

/// What one node produced in a batch.
#[derive(Debug, Clone)]
pub struct NodeOutput {
    pub node: usize,
    /// Every record it produced in this batch.
    pub count: usize,
    /// The first [`SHOWN_PER_NODE`] of them: global stream id and values.
    pub shown: Vec<(u32, Values)>,
}

/// One batch, as a step reports it.
#[derive(Debug, Clone)]
pub struct BatchStep {
    /// The batch's end: it covers `(time_ms − interval, time_ms]`.
    pub time_ms: u64,
    /// Records cut from the receivers into it.
    pub records: usize,
    /// Each node's output, in the job's (topological) order; a receiver's output is
    /// what was cut from it.
    pub outputs: Vec<NodeOutput>,
    /// Windows that closed at this batch: node index and result.
    pub windows: Vec<(usize, WindowResult)>,
    /// Workers killed during this batch's job.
    pub killed_workers: Vec<u32>,
    /// Operator partitions lost with them and recomputed from lineage.
    pub recomputed: Vec<RecomputedPartition>,
}

/// A micro-batch run stepped by hand.
pub(crate) struct Stepper {
    shared: Arc<Shared>,
    clock: Arc<ManualClock>,
    start: Instant,
    receivers: Vec<Receiver>,
    ops: Vec<Operator>,
    order: Vec<usize>,
    rng: Rng,
    next_ms: u64,
    collected: Arc<Collected>,
    sampler: std::sync::Mutex<super::sample::Sampler>,
}

impl Stepper {
    pub fn build(topology: &Topology, options: &RunOptions) -> Result<Stepper, RunError> {
        let start = Instant::now();
        let clock = Arc::new(ManualClock::new(0));
        let run_clock = RunClock::manual(start, clock.clone());
        let timer: Arc<dyn Timer> = clock.clone();
        let prepared = prepare(topology, options, timer, run_clock)?;
        let shared = prepared.shared;
        let receivers = prepared
            .receiver_infos
            .into_iter()
            .enumerate()
            .map(|(index, info)| Receiver::new(&shared, index, info, start))
            .collect();
        let sampler =
            super::sample::Sampler::new(shared.plan.nodes.len(), shared.plan.edges.len(), start);
        Ok(Stepper {
            sampler: std::sync::Mutex::new(sampler),
            // The seed the threaded scheduler uses, so both draw the same faults.
            rng: Rng::new(derive_seed(shared.seed, 0x6d62_6174_6368)),
            next_ms: shared.interval_ms,
            shared,
            clock,
            start,
            receivers,
            ops: prepared.ops,
            order: prepared.order,
            collected: prepared.collected,
        })
    }

    pub fn plan(&self) -> &Plan {
        &self.shared.plan
    }

    pub fn interval_ms(&self) -> u64 {
        self.shared.interval_ms
    }

    /// Virtual time since the start, microseconds.
    pub fn t_us(&self) -> u64 {
        self.clock.now_us()
    }

    pub fn collected(&self) -> &Collected {
        &self.collected
    }

    pub fn log(&self) -> &super::super::log::RunLog {
        &self.shared.env.log
    }

    /// Applies a control command as a threaded micro-batch run does (a worker kill lands
    /// in the next batch's job).
    pub fn control(&self, command: Control) {
        self.shared.control(command);
    }

    /// Receives for one interval, then cuts and runs the batch.
    ///
    /// Receivers run on their own time, as receiver threads run beside the jobs: records
    /// of `(t − B, t]` are stamped in it even when the previous job ran past `t − B`.
    /// The batch clock (the shared timer) is what the jobs move: a job starts at `t`, or
    /// later if the previous one is still running, so a slow job shows as scheduling
    /// delay, as in a threaded run.
    pub fn step(&mut self) -> BatchStep {
        let interval = self.shared.interval_ms;
        let t_ms = self.next_ms;
        let from = t_ms.saturating_sub(interval);
        for ms in from + 1..=t_ms {
            let now = self.start + Duration::from_millis(ms);
            let stamp = move || ms.saturating_mul(1000);
            for r in &mut self.receivers {
                // One round per receiver and millisecond; its wait hint is the lab's
                // next millisecond.
                let _ = r.poll(&self.shared, now, &stamp);
            }
        }
        // A no-op when the previous job ran past `t`: this one then starts late.
        self.clock.set_us(t_ms.saturating_mul(1000));
        let mut outputs = Vec::new();
        let mut records = 0;
        let receivers_of: Vec<bool> = (0..self.shared.plan.nodes.len())
            .map(|n| self.shared.plan.nodes[n].is_spout())
            .collect();
        let mut observe = |node: usize, items: &[Item]| {
            if receivers_of.get(node).copied().unwrap_or(false) {
                records += items.len();
            }
            outputs.push(NodeOutput {
                node,
                count: items.len(),
                shown: items
                    .iter()
                    .take(SHOWN_PER_NODE)
                    .map(|i| (i.stream, i.values.clone()))
                    .collect(),
            });
        };
        run_batch(
            &self.shared,
            &mut self.ops,
            &self.order,
            t_ms,
            &mut self.rng,
            &mut observe,
        );
        let (killed_workers, recomputed) = {
            let stats = self.shared.stats_mut();
            stats
                .recent
                .back()
                .filter(|b| b.time_ms == t_ms)
                .map(|b| (b.killed_workers.clone(), b.recomputed.clone()))
                .unwrap_or_default()
        };
        let windows = {
            let stats = self.shared.stats_mut();
            self.shared
                .plan
                .nodes
                .iter()
                .enumerate()
                .filter_map(|(n, pn)| {
                    stats
                        .windows
                        .get(pn.name())
                        .filter(|w| w.window_end_ms == t_ms)
                        .map(|w| (n, w.clone()))
                })
                .collect()
        };
        self.next_ms = t_ms.saturating_add(interval);
        BatchStep {
            time_ms: t_ms,
            records,
            outputs,
            windows,
            killed_workers,
            recomputed,
        }
    }

    /// True when every receiver's spout is done and nothing is buffered.
    pub fn is_finished(&self) -> bool {
        let s = &self.shared;
        s.receivers
            .iter()
            .all(|r| r.done.load(std::sync::atomic::Ordering::SeqCst))
            && s.receivers.iter().all(|r| r.buffered() == 0)
    }

    /// The run's numbers, as the threaded micro-batch engine reports them, at virtual
    /// time.
    pub fn snapshot(&self) -> super::super::metrics::MetricsSnapshot {
        let clock_us = self.clock.now_us();
        let now = self.start + Duration::from_micros(clock_us);
        let mut sampler = self.sampler.lock().unwrap_or_else(|p| p.into_inner());
        let mut snap = sampler.snapshot(&self.shared, self.start, Duration::from_secs(1), now);
        snap.batch = Some(
            self.shared
                .stats_mut()
                .metrics(self.shared.interval_ms, clock_us / 1000),
        );
        snap
    }
}
