//! Storm's `rebalance` for the threaded engine: a node's executors or the number of
//! workers change while the run goes on. The task count stays, so task ids — and with
//! them where a fields grouping sends each key — do not move; tasks are dealt to the new
//! executors as `plan::compile` deals them. As in Storm, the workers restart: the old
//! executors stop (their in-memory state and in-flight tuples are lost, and those trees
//! time out and replay), Nimbus places the new workers, and the new executors start,
//! spouts resuming from their last fully acked position. Counts carry over.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, bounded};

use super::StormEngine;
use crate::model::{Role, Topology};
use crate::runtime::components::{Factory, factory_for};
use crate::runtime::exec::{self as executor, Msg, Wiring};
use crate::runtime::log::LogKind;
use crate::runtime::metrics::get;
use crate::runtime::options::RunOptions;
use crate::runtime::plan::{ExecutorKind, compile};

/// Most workers a rebalance may ask for (as many as validation allows a design).
const MAX_WORKERS: u32 = 64;

/// The executors of one plan: a run starts with one, and each rebalance replaces it.
pub(super) struct Generation {
    pub(super) wiring: Arc<Wiring>,
    pub(super) threads: Vec<JoinHandle<()>>,
    pub(super) inboxes: Vec<Receiver<Msg>>,
    /// Tuples earlier generations executed or dropped: the drain's balance counts only
    /// what this generation's executors sent.
    pub(super) done_before: i128,
}

/// What a rebalance compiles a new plan from: the Storm half of the topology as last
/// rebalanced, the components standing in for Flume channels, the run's options.
pub(super) struct Rebuild {
    pub(super) topology: Topology,
    pub(super) overrides: BTreeMap<String, Factory>,
    pub(super) options: RunOptions,
}

/// Starts one named thread per executor of `wiring`, each reading its inbox.
pub(super) fn spawn_executors(
    wiring: &Arc<Wiring>,
    inboxes: Vec<Receiver<Msg>>,
    threads: &mut Vec<JoinHandle<()>>,
) -> std::io::Result<()> {
    for (index, inbox) in inboxes.into_iter().enumerate() {
        let name = match wiring.plan.executors[index].kind {
            ExecutorKind::Node(n) => format!("trib-{}-{index}", wiring.plan.nodes[n].node.name),
            ExecutorKind::Acker(a) => format!("trib-acker-{a}"),
        };
        let w = wiring.clone();
        let handle = std::thread::Builder::new()
            .name(name)
            .spawn(move || executor::run(w, index, inbox))?;
        threads.push(handle);
    }
    Ok(())
}

impl StormEngine {
    /// Rebalances now; what changed, or why nothing did, is a line in the run log.
    pub(super) fn rebalance(&self, executors: &[(String, u32)], workers: Option<u32>) {
        let log = self.wiring().env.log.clone();
        match self.try_rebalance(executors, workers) {
            Ok(said) => log.push(
                "engine",
                0,
                LogKind::Event,
                format!("rebalanced: {said}; trees in flight time out and replay"),
            ),
            Err(why) => log.push(
                "engine",
                0,
                LogKind::Error,
                format!("rebalance refused: {why}"),
            ),
        }
    }

    fn try_rebalance(
        &self,
        executors: &[(String, u32)],
        workers: Option<u32>,
    ) -> Result<String, String> {
        let mut rebuild = lock(&self.rebuild);
        let (topology, said) = rebalanced(&rebuild.topology, executors, workers)?;
        if let Some(cluster) = &self.cluster {
            if !cluster.nimbus_up() {
                return Err("Nimbus is down, and a rebalance is Nimbus's work".into());
            }
            if let Some(c) = &topology.settings.cluster
                && u64::from(topology.settings.workers) > c.slots()
            {
                return Err(format!(
                    "{} workers but the cluster has {} slots",
                    topology.settings.workers,
                    c.slots()
                ));
            }
        }
        let plan = compile(&topology).map_err(|e| e.to_string())?;
        let old = self.wiring();
        if plan.task_executor.len() != old.plan.task_executor.len() {
            return Err("the task count would change".into());
        }
        let factories = plan
            .nodes
            .iter()
            .map(|n| factory_for(&plan, n, &old.env, &rebuild.overrides))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.to_string())?;
        let (senders, inboxes): (Vec<_>, Vec<_>) = plan
            .executors
            .iter()
            .map(|_| bounded::<Msg>(self.queue_batches))
            .unzip();
        let mut wiring = Wiring::new(
            Arc::new(plan),
            old.env.clone(),
            factories,
            &rebuild.options,
            executor::Transport::Channels(senders),
        );
        let mut generation = match self.generation.write() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        // The old workers stop, as Storm restarts them: state and queued input lost.
        old.switches.shutdown.store(true, Ordering::Relaxed);
        crate::runtime::supervisor::join_all(&mut generation.threads, &old.env.log, "an executor");
        for (index, inbox) in generation.inboxes.iter().enumerate() {
            executor::after_kill(&old, index, inbox.try_iter());
        }
        let done_before: i128 = old
            .plan
            .task_node
            .iter()
            .enumerate()
            .filter(|(_, node)| node.is_some())
            .map(|(task, _)| {
                let c = &old.counters.tasks[task];
                i128::from(get(&c.executed) + get(&c.dropped))
            })
            .sum();
        carry_over(&old, &mut wiring);
        let wiring = Arc::new(wiring);
        if let Some(cluster) = &self.cluster {
            cluster
                .rebalance(&old, &wiring)
                .map_err(|e| e.to_string())?;
        }
        *generation = Generation {
            wiring: wiring.clone(),
            threads: Vec::new(),
            inboxes: inboxes.clone(),
            done_before,
        };
        spawn_executors(&wiring, inboxes, &mut generation.threads).map_err(|e| e.to_string())?;
        rebuild.topology = topology;
        Ok(said)
    }
}

/// `t` with the new executor counts (tasks pinned at their current number) and worker
/// count, and the change in words; a request the run cannot honour is refused.
fn rebalanced(
    t: &Topology,
    executors: &[(String, u32)],
    workers: Option<u32>,
) -> Result<(Topology, String), String> {
    let mut t = t.clone();
    let mut said = Vec::new();
    for (name, n) in executors {
        let Some(node) = t
            .node_by_name_mut(name)
            .filter(|n| matches!(n.role, Role::Spout | Role::Bolt))
        else {
            return Err(format!("no spout or bolt is named '{name}'"));
        };
        let tasks = node.task_count().max(1);
        if *n == 0 || *n > tasks {
            return Err(format!(
                "'{name}' has {tasks} tasks, so it can run on 1 to {tasks} executors, not {n}"
            ));
        }
        said.push(format!(
            "{name} {} -> {n} executors",
            node.parallelism.max(1)
        ));
        node.tasks = Some(tasks);
        node.parallelism = *n;
    }
    if let Some(n) = workers {
        if n == 0 || n > MAX_WORKERS {
            return Err(format!("{n} workers (give 1 to {MAX_WORKERS})"));
        }
        said.push(format!("{} -> {n} workers", t.settings.workers.max(1)));
        t.settings.workers = n;
    }
    if said.is_empty() {
        return Err("nothing to change".into());
    }
    Ok((t, said.join(", ")))
}

/// What the new executors take over from the old: every count, the live switches
/// (pause, rates, faults, tracer bullets), and lives numbered after every earlier one,
/// so spouts resume and draw ids no earlier life used.
fn carry_over(old: &Wiring, new: &mut Wiring) {
    new.counters.carry_from(&old.counters);
    for (a, b) in [
        (&new.switches.paused, &old.switches.paused),
        (&new.switches.deactivated, &old.switches.deactivated),
    ] {
        a.store(b.load(Ordering::Relaxed), Ordering::Relaxed);
    }
    for (n, node) in new.plan.nodes.iter().enumerate() {
        if let (Some(to), Some(from)) = (
            new.node_switches.get(n),
            old.plan
                .node_index(node.name())
                .and_then(|i| old.node_switches.get(i)),
        ) {
            to.set_rate(from.rate());
            to.set_faults(&from.faults());
        }
    }
    new.tracer.set_every(old.tracer.every());
    let first_life = old
        .worker_kills
        .iter()
        .map(|k| k.load(Ordering::Relaxed))
        .max()
        .unwrap_or(0)
        .max(old.first_life)
        + 1;
    new.first_life = first_life;
    for kills in &new.worker_kills {
        kills.store(first_life, Ordering::Relaxed);
    }
}

fn lock(rebuild: &Mutex<Rebuild>) -> MutexGuard<'_, Rebuild> {
    match rebuild.lock() {
        Ok(r) => r,
        Err(p) => p.into_inner(),
    }
}
