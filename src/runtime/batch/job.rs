//! The scheduler: one thread that waits for each batch boundary, cuts the receivers'
//! buffers and runs the batch through the DAG in topological order — one job at a time,
//! as Spark Streaming does by default. When a job takes longer than the interval the
//! next one starts late, and the delay grows batch after batch.
//!
//! Generating batches on a separate timer thread would not change any result: a batch
//! holds exactly the records stamped in `(t − B, t]`, whenever it is cut.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::super::control::{FaultSpec, NodeSwitches};
use super::super::metrics::BatchInfo;
use super::super::metrics::add;
use super::super::rng::{Rng, derive_seed};
use super::Shared;
use super::lineage::{BatchLineage, key_partition};
use super::operator::{Item, OpCounts, Operator, RecordHook, Verdict};
use super::recover::{gather, recover_before};
use crate::clock::Timer;

/// Injected faults of one node, rolled per record.
pub(crate) struct FaultHook<'a> {
    pub faults: Option<FaultSpec>,
    pub rng: &'a mut Rng,
    pub timer: &'a dyn Timer,
    /// An immediate stop skips the injected latency of the records still to go, so a
    /// slow batch cannot hold the stop up.
    pub shutdown: &'a AtomicBool,
}

impl RecordHook for FaultHook<'_> {
    fn before(&mut self) -> Verdict {
        let Some(f) = &self.faults else {
            return Verdict::Run;
        };
        if self.shutdown.load(Ordering::Relaxed) {
            return Verdict::Fail;
        }
        if !f.added_latency.is_zero() {
            self.timer.spend(f.added_latency);
        }
        if f.crash_probability > 0.0 && self.rng.unit() < f.crash_probability {
            return Verdict::Crash;
        }
        if f.fail_probability > 0.0 && self.rng.unit() < f.fail_probability {
            return Verdict::Fail;
        }
        Verdict::Run
    }
}

pub(crate) fn faults_of(switches: &NodeSwitches) -> Option<FaultSpec> {
    switches.faults_active().then(|| switches.faults())
}

/// Waits for the boundary of the batch ending at `t_ms`; false when the run stops.
fn wait_for_batch(shared: &Shared, t_ms: u64) -> bool {
    loop {
        if shared.switches.shutdown.load(Ordering::Relaxed) {
            return false;
        }
        if shared.draining.load(Ordering::SeqCst)
            && shared
                .receivers
                .iter()
                .all(|r| r.idle.load(Ordering::SeqCst))
        {
            // Draining: run the remaining batches without waiting for the clock.
            if shared.receivers.iter().all(|r| r.buffered() == 0) {
                shared.drained.store(true, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(2));
                continue;
            }
            return true;
        }
        if shared
            .timer
            .wait_until(t_ms.saturating_mul(1000), &shared.switches.shutdown)
        {
            return true;
        }
    }
}

/// The scheduler thread's loop.
pub(crate) fn run(shared: Arc<Shared>, mut ops: Vec<Operator>, order: Vec<usize>) {
    let interval = shared.interval_ms;
    let mut rng = Rng::new(derive_seed(shared.seed, 0x6d62_6174_6368));
    let mut t_ms = interval;
    shared.stats_mut().next_job_ms = t_ms;
    while wait_for_batch(&shared, t_ms) {
        shared.busy.store(true, Ordering::SeqCst);
        // From here the batch's job has started: it is no longer waiting.
        let next = t_ms.saturating_add(interval);
        shared.stats_mut().next_job_ms = next;
        run_batch(&shared, &mut ops, &order, t_ms, &mut rng, &mut |_, _| {});
        t_ms = next;
        shared.busy.store(false, Ordering::SeqCst);
    }
}

/// What a batch's run shows an observer: each node's output for the batch (a
/// receiver's: the records cut into it), in topological order, and a window's latest
/// result when it closed at this batch.
pub(crate) type Observer<'a> = dyn FnMut(usize, &[Item]) + 'a;

/// Cuts the batch ending at `t_ms` and runs it through every operator, calling
/// `observe` with each node's output (once per node and batch, never per record).
pub(crate) fn run_batch(
    shared: &Shared,
    ops: &mut [Operator],
    order: &[usize],
    t_ms: u64,
    rng: &mut Rng,
    observe: &mut Observer<'_>,
) {
    let plan = &shared.plan;
    let timer = shared.timer.as_ref();
    let until_us = t_ms.saturating_mul(1000);
    let start_us = timer.now_us();
    let mut outputs: Vec<Vec<Item>> = vec![Vec::new(); plan.nodes.len()];
    let mut lin = BatchLineage::new(plan.nodes.len());
    // Arrival stamps per spout node, for end-to-end latency.
    let mut arrivals: Vec<(usize, Vec<u64>)> = Vec::new();
    for r in shared.receivers.iter() {
        let records = r.cut(until_us, &shared.budget);
        let stamps: Vec<u64> = records.iter().map(|rec| rec.at_us).collect();
        match arrivals.iter_mut().find(|(n, _)| *n == r.node) {
            Some((_, s)) => s.extend(stamps),
            None => arrivals.push((r.node, stamps)),
        }
        // A receiver's block is partition `task − first task` of its node.
        let part = r.task.saturating_sub(plan.nodes[r.node].tasks.start);
        lin.tags[r.node].extend(std::iter::repeat_n(part, records.len()));
        outputs[r.node].extend(records.into_iter().map(|rec| Item {
            stream: rec.stream,
            values: rec.values,
        }));
    }
    let records: u64 = arrivals.iter().map(|(_, s)| s.len() as u64).sum();
    for (at, &n) in order.iter().enumerate() {
        land_kills(shared, ops, &mut outputs, &mut lin, at, order.len());
        recover_before(shared, ops, order, &mut outputs, &mut lin, n, t_ms);
        let pn = &plan.nodes[n];
        let c = &shared.counters.tasks[n];
        let gathered = gather(plan, &shared.placement, &outputs, n);
        for &(e, count) in &gathered.per_edge {
            add(&shared.counters.edges[e], count);
        }
        let (input, parts, sources) = (gathered.input, gathered.parts, gathered.sources);
        let mut origins = Vec::new();
        let began = Instant::now();
        let mut out = Vec::new();
        let mut hook = FaultHook {
            faults: faults_of(&shared.node_switches[n]),
            rng: &mut *rng,
            timer,
            shutdown: &shared.switches.shutdown,
        };
        let counts = match &mut ops[n] {
            Operator::Receiver => {
                add(&c.emitted, outputs[n].len() as u64);
                observe(n, &outputs[n]);
                OpCounts::default()
            }
            Operator::PerRecord(op) => op.run(&input, &mut hook, &mut out, &mut origins),
            Operator::CountByKey(op) => op.run(&input, &mut hook, &mut out),
            Operator::Window(op) => {
                let counts = op.run(t_ms, &input, &mut hook, &mut out);
                if let Some(latest) = op.latest.as_ref().filter(|w| w.window_end_ms == t_ms) {
                    shared
                        .stats_mut()
                        .windows
                        .insert(pn.name().to_string(), latest.clone());
                }
                counts
            }
            Operator::Batch(op) => {
                let counts = op.run(t_ms, &input, &sources, &mut hook, &mut out);
                if let Some(latest) = op.latest_window().filter(|w| w.window_end_ms == t_ms) {
                    shared
                        .stats_mut()
                        .windows
                        .insert(pn.name().to_string(), latest.clone());
                }
                counts
            }
        };
        let spent = began.elapsed().as_nanos() as u64;
        drop(input);
        if !matches!(ops[n], Operator::Receiver) {
            add(&c.busy_ns, spent);
            add(&c.executed, counts.executed);
            add(&c.failed, counts.failed);
            add(&c.acked, counts.executed.saturating_sub(counts.failed));
            add(&c.restarts, counts.restarts);
            add(&c.refused, counts.refused);
            add(&c.emitted, out.len() as u64);
            if let Some(per_record) = spent.checked_div(counts.executed) {
                shared.counters.latencies[n]
                    .execute_latency
                    .record_n(per_record, counts.executed);
            }
            observe(n, &out);
            let partitions = shared.placement.partitions(n);
            lin.tags[n] = if matches!(ops[n], Operator::PerRecord(_)) {
                origins
                    .iter()
                    .map(|&o| parts.get(o as usize).copied().unwrap_or(0))
                    .collect()
            } else {
                out.iter()
                    .map(|it| key_partition(&it.values, partitions))
                    .collect()
            };
            outputs[n] = out;
        }
        lin.done[n] = true;
    }
    // Kills that arrived during the last operator land at the job's end.
    land_kills(
        shared,
        ops,
        &mut outputs,
        &mut lin,
        order.len(),
        order.len(),
    );
    let end_us = timer.now_us();
    for (node, stamps) in &arrivals {
        let c = &shared.counters.tasks[*node];
        let latencies = &shared.counters.latencies[*node];
        for at in stamps {
            let latency_ns = end_us.saturating_sub(*at).saturating_mul(1000);
            latencies.complete_latency.record_n(latency_ns, 1);
        }
        add(&c.acked, stamps.len() as u64);
    }
    shared.stats_mut().record(BatchInfo {
        time_ms: t_ms,
        records,
        scheduling_delay: Duration::from_micros(start_us.saturating_sub(until_us)),
        processing_time: Duration::from_micros(end_us.saturating_sub(start_us)),
        killed_workers: lin.killed.into_iter().collect(),
        recomputed: lin.recomputed,
    });
}

/// Lands the kills due at boundary `at` of the job: their workers' partitions of the
/// batch so far are lost (and recomputed when needed).
fn land_kills(
    shared: &Shared,
    ops: &[Operator],
    outputs: &mut [Vec<Item>],
    lin: &mut BatchLineage,
    at: usize,
    len: usize,
) {
    let landed = {
        let mut kills = shared.kills_mut();
        if kills.is_empty() {
            return;
        }
        kills.landing(at, len)
    };
    if landed.is_empty() {
        return;
    }
    lin.lose(&landed, &shared.placement, ops, outputs);
    let names: Vec<String> = landed.iter().map(|w| w.to_string()).collect();
    shared.env.log.push(
        "engine",
        0,
        super::super::log::LogKind::Event,
        format!(
            "worker {} lost after {at} of the batch's {len} operators: its partitions are recomputed from lineage",
            names.join(", ")
        ),
    );
}
