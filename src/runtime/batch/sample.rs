//! Turns the micro-batch counters into the same [`MetricsSnapshot`] record-at-a-time
//! runs publish, so the CLI table and the canvas overlays need no second code path.
//! Counters exist per node (one partition), and each node is shown as one task.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::super::metrics::{
    EdgeMetrics, MetricsSnapshot, NodeMetrics, TaskMetrics, WorkerMetrics,
};
use super::super::metrics::{Histogram, get, quantile};
use super::Shared;

#[derive(Debug, Clone)]
struct Sample {
    at: Instant,
    /// Per node: emitted, executed, acked, failed, busy ns.
    nodes: Vec<[u64; 5]>,
    edges: Vec<u64>,
}

/// Recent samples for sliding-window rates.
#[derive(Debug)]
pub(crate) struct Sampler {
    history: VecDeque<Sample>,
}

impl Sampler {
    pub fn new(nodes: usize, edges: usize, start: Instant) -> Self {
        Self {
            history: VecDeque::from([Sample {
                at: start,
                nodes: vec![[0; 5]; nodes],
                edges: vec![0; edges],
            }]),
        }
    }

    pub fn snapshot(
        &mut self,
        s: &Shared,
        start: Instant,
        window: Duration,
        now: Instant,
    ) -> MetricsSnapshot {
        while self.history.len() > 1 && now.duration_since(self.history[1].at) >= window {
            self.history.pop_front();
        }
        let base = self.history.front().cloned();
        let dt = base
            .as_ref()
            .map_or(0.0, |b| now.duration_since(b.at).as_secs_f64())
            .max(1e-6);
        let rate = |cur: u64, old: u64| cur.saturating_sub(old) as f64 / dt;
        let plan = &s.plan;
        let mut snap = MetricsSnapshot {
            elapsed: now.duration_since(start),
            paused: s.switches.paused.load(Ordering::Relaxed),
            ..Default::default()
        };
        let mut current = Sample {
            at: now,
            nodes: Vec::new(),
            edges: s.counters.edges.iter().map(|e| get(e)).collect(),
        };
        let mut e2e = Histogram::empty_counts();
        for (i, pn) in plan.nodes.iter().enumerate() {
            let c = &s.counters.tasks[i];
            let receivers: Vec<_> = s.receivers.iter().filter(|r| r.node == i).collect();
            let received: u64 = receivers.iter().map(|r| get(&r.emitted)).sum();
            let buffered: usize = receivers.iter().map(|r| r.buffered()).sum();
            let restarts =
                get(&c.restarts) + receivers.iter().map(|r| get(&r.restarts)).sum::<u64>();
            let emitted = if pn.is_spout() {
                received
            } else {
                get(&c.emitted)
            };
            let raw = [
                emitted,
                get(&c.executed),
                get(&c.acked),
                get(&c.failed),
                get(&c.busy_ns),
            ];
            let old = base
                .as_ref()
                .and_then(|b| b.nodes.get(i).copied())
                .unwrap_or([0; 5]);
            let mut exec_h = Histogram::empty_counts();
            let mut comp_h = Histogram::empty_counts();
            let latencies = &s.counters.latencies[i];
            latencies.execute_latency.add_to(&mut exec_h);
            latencies.complete_latency.add_to(&mut comp_h);
            if pn.is_spout() {
                for (slot, v) in e2e.iter_mut().zip(&comp_h) {
                    *slot += v;
                }
            }
            let mut m = NodeMetrics {
                role: pn.node.role.label().to_string(),
                component: pn.node.component.clone(),
                emitted: raw[0],
                transferred: raw[0],
                executed: raw[1],
                acked: raw[2],
                failed: raw[3],
                restarts,
                pending: if pn.is_spout() { buffered as u64 } else { 0 },
                emit_rate: rate(raw[0], old[0]),
                execute_rate: rate(raw[1], old[1]),
                ack_rate: rate(raw[2], old[2]),
                fail_rate: rate(raw[3], old[3]),
                queue_depth: buffered,
                queue_capacity: s.budget.max_items(),
                execute_latency_p50: quantile(&exec_h, 0.5),
                execute_latency_p99: quantile(&exec_h, 0.99),
                complete_latency_p50: quantile(&comp_h, 0.5),
                complete_latency_p99: quantile(&comp_h, 0.99),
                capacity: (raw[4].saturating_sub(old[4]) as f64 / (dt * 1e9)).min(1.0),
                done: pn.is_spout() && receivers.iter().all(|r| r.done.load(Ordering::Relaxed)),
                refused: get(&c.refused) + receivers.iter().map(|r| get(&r.refused)).sum::<u64>(),
                ..Default::default()
            };
            if pn.is_spout() {
                for r in &receivers {
                    m.tasks.push(TaskMetrics {
                        task: r.task,
                        emitted: get(&r.emitted),
                        transferred: get(&r.emitted),
                        restarts: get(&r.restarts),
                        pending: r.buffered() as u64,
                        ..Default::default()
                    });
                }
            } else {
                m.tasks.push(TaskMetrics {
                    task: pn.tasks.start,
                    emitted: m.emitted,
                    transferred: m.transferred,
                    executed: m.executed,
                    acked: m.acked,
                    failed: m.failed,
                    restarts: m.restarts,
                    ..Default::default()
                });
            }
            current.nodes.push(raw);
            snap.nodes.insert(pn.name().to_string(), m);
        }
        for (e, edge) in plan.edges.iter().enumerate() {
            let old = base
                .as_ref()
                .and_then(|b| b.edges.get(e).copied())
                .unwrap_or(0);
            snap.edges.push(EdgeMetrics {
                from: plan.nodes[edge.from].name().to_string(),
                to: plan.nodes[edge.to].name().to_string(),
                stream: plan.streams[edge.stream].name.clone(),
                grouping: edge.grouping.label(),
                tuples: current.edges[e],
                rate: rate(current.edges[e], old),
                ..Default::default()
            });
        }
        // Workers, for the run panel's kill control: the nodes with a partition on each.
        let kills = s.kills_mut().per_worker.clone();
        snap.workers = (0..s.placement.worker_count)
            .map(|w| WorkerMetrics {
                worker: w,
                executors: s
                    .placement
                    .nodes_on(w)
                    .into_iter()
                    .map(|n| plan.nodes[n].name().to_string())
                    .collect(),
                kills: kills.get(w as usize).copied().unwrap_or(0),
            })
            .collect();
        snap.end_to_end_latency_p50 = quantile(&e2e, 0.5);
        snap.end_to_end_latency_p99 = quantile(&e2e, 0.99);
        self.history.push_back(current);
        snap
    }
}
