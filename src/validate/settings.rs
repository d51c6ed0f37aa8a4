//! Rules about the topology's settings (timeout, spout pending, ackers, workers, batch
//! interval) and the whole run's totals of threads and tasks, with the limits that bound
//! what one file can make this machine do.

use super::diagnostic::{Diagnostic, Location};
use crate::flume::footprint::{self, Cost};
use crate::model::{ExecutionMode, Node, Role, Topology};

/// Most executors (threads) a whole topology may ask for: every spout and bolt
/// executor and every acker in record-at-a-time mode, every spout task (a receiver
/// thread) in micro-batch mode, and in both modes every Flume source, netcat connection
/// (`max-connections` per netcat source) and sink runner (one per sink group and per
/// sink outside a group). A few per core is what helps; this is far beyond it.
/// Each thread costs close to 1 MiB (its stack and its allocator heap) before it does
/// anything, so this bounds a run's memory floor to about half a gigabyte.
pub const MAX_TOTAL_EXECUTORS: u32 = 512;
/// Most tasks a whole topology may ask for, over all spouts and bolts. Per-task state
/// (counters, and per producer task a routing table over its consumer's tasks) grows
/// with it, so the total, not only each node, must be bounded: with both totals at
/// their limits, an executor's send slots and a task's routing tables stay within
/// executors × tasks and (tasks ÷ 2)² entries.
pub const MAX_TOTAL_TASKS: u32 = 4096;
/// Most acker tasks.
const MAX_ACKERS: u32 = 64;
/// Most simulated workers: each is only a failure domain inside one process, so more
/// than a classroom can tell apart is almost always a typo.
pub const MAX_WORKERS: u32 = 64;

pub(super) fn check_settings(t: &Topology, out: &mut Vec<Diagnostic>) {
    let s = &t.settings;
    let here = || Location::Topology;
    if s.message_timeout_secs == 0 {
        out.push(Diagnostic::error(
            here(),
            "message timeout is 0 seconds, so every tuple would fail at once",
            "set message_timeout_secs to at least 1 (Storm's default is 30)",
        ));
    }
    if s.max_spout_pending == Some(0) {
        out.push(Diagnostic::error(
            here(),
            "max spout pending is 0, so no spout could ever emit",
            "remove max_spout_pending for no limit, or set it to 1 or more",
        ));
    }
    if s.ackers > MAX_ACKERS {
        out.push(Diagnostic::error(
            here(),
            format!("{} ackers is more than the limit of {MAX_ACKERS}", s.ackers),
            "one acker per worker is Storm's default",
        ));
    }
    if s.workers == 0 {
        out.push(Diagnostic::error(
            here(),
            "workers is 0",
            "set workers to 1 or more",
        ));
    }
    if s.workers > MAX_WORKERS {
        out.push(Diagnostic::error(
            here(),
            format!(
                "{} workers is more than the limit of {MAX_WORKERS}",
                s.workers
            ),
            "workers are simulated failure domains; a handful is enough to show one dying",
        ));
    }
    if matches!(s.mode, ExecutionMode::RecordAtATime) {
        let executors: u64 = t
            .nodes()
            .filter(|n| matches!(n.role, Role::Spout | Role::Bolt))
            .map(|n| u64::from(n.parallelism.max(1)))
            .sum::<u64>()
            + u64::from(s.ackers);
        if executors > 0 && u64::from(s.workers) > executors {
            out.push(Diagnostic::warning(
                here(),
                format!(
                    "{} workers but only {executors} executors: some workers stay empty",
                    s.workers
                ),
                "executors are dealt round-robin over workers; lower workers or raise parallelism",
            ));
        }
    }
    if let ExecutionMode::MicroBatch { interval_ms } = s.mode
        && interval_ms == 0
    {
        out.push(Diagnostic::error(
            here(),
            "micro-batch interval is 0 ms",
            "Spark Streaming batch intervals are usually 500 ms to a few seconds",
        ));
    }
}

/// The whole topology's threads (executors, receivers and Flume threads) and tasks
/// against [`MAX_TOTAL_EXECUTORS`] and [`MAX_TOTAL_TASKS`]; the message names the nodes
/// (and sink groups) that ask for the most.
pub(super) fn check_totals(t: &Topology, out: &mut Vec<Diagnostic>) {
    let micro_batch = matches!(t.settings.mode, ExecutionMode::MicroBatch { .. });
    let storm: Vec<&Node> = t
        .nodes()
        .filter(|n| matches!(n.role, Role::Spout | Role::Bolt))
        .collect();
    // Threads: executors and ackers record-at-a-time; one receiver per spout task (and
    // one scheduler) in micro-batch mode.
    let threads = |n: &Node| -> u64 {
        match (micro_batch, n.role) {
            (true, Role::Spout) => u64::from(n.task_count().max(1)),
            (true, _) => 0,
            (false, _) => u64::from(n.parallelism.max(1)),
        }
    };
    let ackers = if micro_batch {
        0
    } else {
        u64::from(t.settings.ackers)
    };
    // Flume sources, netcat connections and sink runners are threads of the same run.
    let flume = footprint::threads(t);
    let executors = storm.iter().map(|n| threads(n)).sum::<u64>() + ackers;
    let total = executors.saturating_add(footprint::total(&flume));
    if total > u64::from(MAX_TOTAL_EXECUTORS) {
        let mut contributors: Vec<Cost> = storm
            .iter()
            .map(|n| Cost {
                name: n.name.clone(),
                amount: threads(n),
            })
            .collect();
        contributors.extend(flume.iter().cloned());
        let what = match (micro_batch, flume.is_empty()) {
            (false, true) => "executors",
            (true, true) => "receiver threads",
            (_, false) => "threads",
        };
        out.push(Diagnostic::error(
            Location::Topology,
            format!(
                "{total} {what} in total is above the limit of {MAX_TOTAL_EXECUTORS}; the most: {}",
                footprint::biggest(&contributors)
            ),
            if !flume.is_empty() {
                "every executor, receiver, Flume source, netcat connection (max-connections) and sink runner is a thread on this machine; lower the biggest ones"
            } else if micro_batch {
                "every spout task is a receiver thread in micro-batch mode; lower the task counts of the biggest spouts"
            } else {
                "every executor is a thread on this machine; lower the parallelism of the biggest nodes"
            },
        ));
    }
    let tasks_of = |n: &Node| u64::from(n.task_count().max(1));
    let tasks: u64 = storm.iter().map(|n| tasks_of(n)).sum();
    if tasks > u64::from(MAX_TOTAL_TASKS) {
        out.push(Diagnostic::error(
            Location::Topology,
            format!(
                "{tasks} tasks in total is above the limit of {MAX_TOTAL_TASKS}; the most: {}",
                biggest(&storm, tasks_of)
            ),
            "lower the task counts of the biggest nodes (tasks default to the parallelism)",
        ));
    }
}

/// The three nodes with the largest `size`, as `'name' (n)`, largest first.
fn biggest(nodes: &[&Node], size: impl Fn(&Node) -> u64) -> String {
    let mut sized: Vec<(u64, &str)> = nodes.iter().map(|n| (size(n), n.name.as_str())).collect();
    sized.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
    sized
        .iter()
        .take(3)
        .map(|(n, name)| format!("'{name}' ({n})"))
        .collect::<Vec<_>>()
        .join(", ")
}
