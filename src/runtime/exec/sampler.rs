//! The record-at-a-time engine's sampler: turns the executors' raw counters into a
//! [`MetricsSnapshot`] with totals, rates over a sliding window and latency percentiles.
//! It runs on the caller's thread (the UI at 10 Hz) and only reads atomics, so workers
//! never wait for it.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::super::metrics::{
    EdgeMetrics, Histogram, MetricsSnapshot, NodeMetrics, TaskMetrics, TaskPair, WorkerMetrics,
    get, quantile,
};
use super::super::plan::ExecutorKind;
use crate::runtime::exec::Wiring;

/// Keys of committed state a live snapshot carries per count node; the snapshot a run
/// ends with carries them all.
const LIVE_STATE_KEYS: usize = 500;

/// Raw totals kept to compute rates.
#[derive(Debug, Clone)]
struct Sample {
    at: Instant,
    /// Per node: emitted, executed, acked, failed, busy_ns max over tasks.
    nodes: Vec<[u64; 4]>,
    busy: Vec<u64>,
    edges: Vec<u64>,
}

/// Keeps recent samples for sliding-window rates.
#[derive(Debug)]
pub struct Sampler {
    window: Duration,
    history: VecDeque<Sample>,
}

impl Sampler {
    pub fn new(window: Duration, start: Instant, nodes: usize, tasks: usize, edges: usize) -> Self {
        let zero = Sample {
            at: start,
            nodes: vec![[0; 4]; nodes],
            busy: vec![0; tasks],
            edges: vec![0; edges],
        };
        Self {
            window: window.max(Duration::from_millis(100)),
            history: VecDeque::from([zero]),
        }
    }

    /// Reads every counter once and builds a snapshot.
    pub fn snapshot(
        &mut self,
        w: &Wiring,
        queued: &dyn Fn(usize) -> usize,
        queue_batches: usize,
        start: Instant,
        now: Instant,
    ) -> MetricsSnapshot {
        let plan = &w.plan;
        let c = &w.counters;
        let mut snap = MetricsSnapshot {
            elapsed: now.duration_since(start),
            paused: w.switches.paused.load(Ordering::Relaxed),
            traces: w.tracer.recent(),
            // Live: enough of the committed state to look at; at the end, all of it.
            transactions: w.env.txn.as_ref().map(|t| {
                let stopped = w.switches.shutdown.load(Ordering::Relaxed);
                t.report((!stopped).then_some(LIVE_STATE_KEYS))
            }),
            final_counts: w.env.collected.final_counts(),
            ..Default::default()
        };
        // Baseline: the oldest sample still inside the window (or the newest older one).
        while self.history.len() > 1 && now.duration_since(self.history[1].at) >= self.window {
            self.history.pop_front();
        }
        let base = self.history.front().cloned();
        let mut current = Sample {
            at: now,
            nodes: Vec::new(),
            busy: vec![0; plan.task_executor.len()],
            edges: c.edges.iter().map(|e| e.load(Ordering::Relaxed)).collect(),
        };
        let dt = base
            .as_ref()
            .map_or(0.0, |b| now.duration_since(b.at).as_secs_f64())
            .max(1e-6);
        let rate = |cur: u64, old: u64| cur.saturating_sub(old) as f64 / dt;

        let mut end_to_end = Histogram::empty_counts();
        let mut incoming = vec![0u64; plan.nodes.len()];
        for (e, edge) in plan.edges.iter().enumerate() {
            incoming[edge.to] += current.edges[e];
        }
        for (i, pn) in plan.nodes.iter().enumerate() {
            let rate_limit = pn
                .is_spout()
                .then(|| {
                    // The node's own setting read in place (no copy of its config
                    // per snapshot), through the registry's one home of defaults.
                    w.node_switches[i].rate().unwrap_or_else(|| {
                        crate::components::config_or_default(
                            &pn.node.config,
                            &pn.node.component,
                            "rate_per_sec",
                            crate::model::Value::as_f64,
                        )
                        .unwrap_or(0.0)
                    })
                })
                .filter(|r| *r > 0.0);
            let mut m = NodeMetrics {
                role: pn.node.role.label().to_string(),
                component: pn.node.component.clone(),
                done: pn.is_spout(),
                rate_limit,
                workers: pn
                    .executors
                    .iter()
                    .map(|&e| plan.executors[e].worker)
                    .collect(),
                ..Default::default()
            };
            let mut exec_h = Histogram::empty_counts();
            let mut comp_h = Histogram::empty_counts();
            let mut capacity: f64 = 0.0;
            for task in pn.tasks.clone() {
                let t = &c.tasks[task as usize];
                let exec = plan.task_executor[task as usize];
                // Read before the counts, so a task read as paused shows all its emits.
                let paused = t.paused.load(Ordering::Acquire) == 1;
                let tm = TaskMetrics {
                    task,
                    executor: exec,
                    emitted: get(&t.emitted),
                    transferred: get(&t.transferred),
                    executed: get(&t.executed),
                    acked: get(&t.acked),
                    failed: get(&t.failed),
                    replayed: get(&t.replayed),
                    timed_out: get(&t.timed_out),
                    restarts: get(&t.restarts),
                    last_restart: t.last_restart(),
                    pending: get(&t.pending),
                    queued_batches: queued(exec),
                    paused,
                };
                m.emitted += tm.emitted;
                m.transferred += tm.transferred;
                m.executed += tm.executed;
                m.acked += tm.acked;
                m.failed += tm.failed;
                m.replayed += tm.replayed;
                m.timed_out += tm.timed_out;
                m.restarts += tm.restarts;
                m.last_restart = m.last_restart.max(tm.last_restart);
                m.pending += tm.pending;
                m.dropped += get(&t.dropped);
                m.done &= get(&t.done) == 1;
                let busy = get(&t.busy_ns);
                current.busy[task as usize] = busy;
                if let Some(b) = &base {
                    let old = b.busy.get(task as usize).copied().unwrap_or(0);
                    capacity = capacity.max(busy.saturating_sub(old) as f64 / (dt * 1e9));
                }
                m.refused += get(&t.refused);
                m.tasks.push(tm);
            }
            for &exec in &pn.executors {
                let l = &c.latencies[exec];
                l.execute_latency.add_to(&mut exec_h);
                l.complete_latency.add_to(&mut comp_h);
            }
            let raw = [m.emitted, m.executed, m.acked, m.failed];
            let old = base
                .as_ref()
                .and_then(|b| b.nodes.get(i).copied())
                .unwrap_or([0; 4]);
            m.emit_rate = rate(raw[0], old[0]);
            m.execute_rate = rate(raw[1], old[1]);
            m.ack_rate = rate(raw[2], old[2]);
            m.fail_rate = rate(raw[3], old[3]);
            current.nodes.push(raw);
            m.capacity = capacity.min(1.0);
            m.execute_latency_p50 = quantile(&exec_h, 0.5);
            m.execute_latency_p99 = quantile(&exec_h, 0.99);
            if pn.is_spout() {
                for (total, n) in end_to_end.iter_mut().zip(&comp_h) {
                    *total += n;
                }
            }
            m.complete_latency_p50 = quantile(&comp_h, 0.5);
            m.complete_latency_p99 = quantile(&comp_h, 0.99);
            if !pn.is_spout() {
                m.queue_depth = incoming[i].saturating_sub(m.executed + m.dropped) as usize;
                m.queue_capacity = pn.executors.len() * queue_batches * w.batch_size;
            }
            snap.nodes.insert(pn.node.name.clone(), m);
        }
        for (e, edge) in plan.edges.iter().enumerate() {
            let old = base
                .as_ref()
                .and_then(|b| b.edges.get(e).copied())
                .unwrap_or(0);
            snap.edges.push(EdgeMetrics {
                from: plan.nodes[edge.from].node.name.clone(),
                to: plan.nodes[edge.to].node.name.clone(),
                stream: plan.streams[edge.stream].name.clone(),
                grouping: edge.grouping.label(),
                tuples: current.edges[e],
                rate: rate(current.edges[e], old),
                pairs: pairs_of(w, e),
            });
        }
        for ex in &plan.executors {
            if let ExecutorKind::Acker(_) = ex.kind {
                snap.acker_pending += get(&c.tasks[ex.tasks.start as usize].pending);
            }
        }
        snap.workers = w
            .worker_kills
            .iter()
            .enumerate()
            .map(|(i, kills)| WorkerMetrics {
                worker: i as u32,
                executors: plan
                    .executors
                    .iter()
                    .filter(|e| e.worker as usize == i)
                    .map(|e| match e.kind {
                        ExecutorKind::Node(n) => plan.nodes[n].node.name.clone(),
                        ExecutorKind::Acker(_) => "acker".to_string(),
                    })
                    .collect(),
                kills: kills.load(Ordering::Relaxed).saturating_sub(w.first_life),
            })
            .collect();
        snap.end_to_end_latency_p50 = quantile(&end_to_end, 0.5);
        snap.end_to_end_latency_p99 = quantile(&end_to_end, 0.99);
        self.history.push_back(current);
        snap
    }
}

/// The non-zero pair counts of plan edge `e`, in task order (`None` when the run keeps
/// none for it): the table's rows are the sending node's tasks, its columns the
/// receiving node's.
fn pairs_of(w: &Wiring, e: usize) -> Option<Vec<TaskPair>> {
    let cells = &w.counters.pairs[e];
    if cells.is_empty() {
        return None;
    }
    let edge = &w.plan.edges[e];
    let senders = w.plan.nodes[edge.from].tasks.clone();
    let first_target = edge.targets.first().copied().unwrap_or(0);
    let span = cells.len() / senders.len().max(1);
    let mut out = Vec::new();
    for (row, from) in senders.enumerate() {
        for col in 0..span {
            let tuples = cells.get(row * span + col).map_or(0, get);
            if tuples > 0 {
                out.push(TaskPair {
                    from,
                    to: first_target + col as u32,
                    tuples,
                });
            }
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use crate::model::{Grouping, Node, Role, StreamDecl, Topology};
    use crate::runtime::lab::{LabEngine, LabOptions};
    use crate::runtime::running::RunningEngine;
    use crate::runtime::{RunOptions, Val, key_route};

    /// The lab engine steps the same executors, so its snapshots carry the same pair
    /// counts: each word's tuples reach the task the lens names for it.
    #[test]
    fn a_lab_run_counts_task_pairs_as_routing_sends_them() {
        let mut t = Topology::new("lab-lens");
        t.add_node(
            Node::new("words", Role::Spout, "word_generator")
                .with_config("limit", 200)
                .with_config("vocabulary", 20)
                .with_parallelism(2)
                .with_output(StreamDecl::default_stream(&["word"])),
        )
        .unwrap();
        t.add_node(Node::new("sink", Role::Bolt, "collector").with_parallelism(3))
            .unwrap();
        let grouping = Grouping::Fields(vec!["word".into()]);
        t.connect_names("words", "sink", "default", grouping.clone())
            .unwrap();
        let mut lab = LabEngine::start(&t, RunOptions::default(), LabOptions::default()).unwrap();
        lab.step_n(100_000);
        assert!(lab.is_finished_now());
        let snap = lab.snapshot();
        let edge = &snap.edges[0];
        let pairs = edge.pairs.clone().unwrap();
        assert_eq!(pairs.iter().map(|p| p.tuples).sum::<u64>(), 400);
        assert_eq!(edge.tuples, 400);
        let senders: std::collections::BTreeSet<u32> = pairs.iter().map(|p| p.from).collect();
        assert_eq!(senders.len(), 2, "{pairs:?}");
        let mut by_pairs: BTreeMap<u32, u64> = BTreeMap::new();
        for p in &pairs {
            *by_pairs.entry(p.to).or_default() += p.tuples;
        }
        let receivers = lab.tasks_of_node("sink");
        let mut by_collector: BTreeMap<u32, u64> = BTreeMap::new();
        for (task, v) in lab.collected_by_task("sink") {
            *by_collector.entry(task).or_default() += 1;
            let word = Val::str(v.get(0).unwrap().as_str().unwrap());
            let told = key_route::explain(&grouping, &[word], &receivers).unwrap();
            assert_eq!(told.tasks, [task]);
        }
        assert_eq!(by_pairs, by_collector);
    }
}
