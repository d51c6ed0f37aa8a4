//! The record-at-a-time engine (Storm's model): validates and compiles a topology,
//! starts one thread per executor (`executor`: spouts, bolts, ackers, their outboxes and
//! routing) and answers the facade's calls; `exec::Sampler` turns the executors' counters
//! into snapshots. Flume nodes of the topology run as Flume agents beside the executors
//! (`super::flume_bridge`).
//!
//! Threads: `start` spawns one named thread per executor (`trib-<node>-<i>`,
//! `trib-acker-<a>`), after starting the Flume agents. `shutdown` sets the shutdown
//! switch, joins every executor, then stops the Flume agents (so drain spouts have
//! rolled back their open takes first).
//!
//! The workers live on a simulated cluster (`cluster`): a thread ticks Nimbus, the
//! supervisors and the store, and decides when a killed worker runs again.

mod cluster;
mod rebalance;

use rebalance::{Generation, Rebuild, spawn_executors};

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, bounded};

use crate::model::{ExecutionMode, Topology};

use super::cluster::ClusterAction;
use super::components::{Collected, Env, factory_for};
use super::control::{Control, StopMode};
use super::error::RunError;
use super::exec::Sampler;
use super::exec::{self as executor, Msg, Wiring};
use super::flume_bridge::{FlumeSide, view};
use super::limits;
use super::log::{LogKind, LogLine, RunLog};
use super::metrics::{MetricsSnapshot, get};
use super::options::{RunOptions, admit};
use super::plan::compile;
use super::running::RunningEngine;
use super::tuple::Values;
use crate::clock::RunClock;

/// Quiescence seen by the previous `is_finished` call.
#[derive(Debug, Default)]
struct FinishCheck {
    last: Option<(Instant, u64)>,
}

/// A topology running record-at-a-time (Storm's model). Dropping it stops and joins
/// every thread. Callers use [`super::Engine`], which picks this or the micro-batch
/// engine from the topology's execution mode.
pub struct StormEngine {
    /// The running executors; a rebalance replaces them.
    generation: RwLock<Generation>,
    /// What a rebalance compiles its new plan from.
    rebuild: Mutex<Rebuild>,
    start: Instant,
    queue_batches: usize,
    sampler: Mutex<Sampler>,
    finish: Mutex<FinishCheck>,
    collected: Arc<Collected>,
    /// The Flume agents of the topology, when it has Flume nodes.
    flume: Option<FlumeSide>,
    /// The simulated cluster the workers are placed on.
    cluster: Option<cluster::ClusterDriver>,
}

impl StormEngine {
    /// Validates (refusing on errors, with the diagnostics), compiles and starts threads.
    pub fn start(topology: &Topology, options: RunOptions) -> Result<StormEngine, RunError> {
        let grant = admit(topology, &options)?;
        let start = Instant::now();
        let clock = RunClock::wall(start);
        let log = Arc::new(RunLog::new(clock.clone()));
        // Flume nodes run as Flume agents; the Storm plan keeps spouts, bolts and the
        // channels bolts drain (as spouts taking from the Flume channel).
        let split = view::split(topology)?;
        let mut overrides = options.overrides.clone();
        let flume = FlumeSide::start(
            topology,
            &split,
            crate::flume::AgentOptions {
                grant: grant.clone(),
                seed: options.seed,
                ..Default::default()
            },
            &mut overrides,
            &log,
            options.rate_window,
            start,
        )?;
        let plan = Arc::new(compile(&split.storm)?);
        let collected = Arc::new(Collected::default());
        let env = Arc::new(Env {
            collected: collected.clone(),
            windows: super::limits::Budget::windows(),
            state: super::limits::Budget::state(),
            inputs: super::limits::Budget::inputs(),
            clock,
            txn: super::txn::Coordinator::for_plan(&plan, &log),
            log,
            grant: grant.clone(),
            stopping: Default::default(),
        });
        let factories = plan
            .nodes
            .iter()
            .map(|n| factory_for(&plan, n, &env, &overrides))
            .collect::<Result<Vec<_>, _>>()?;
        let queue_batches = options.queue_batches.max(1);
        let (senders, inboxes): (Vec<_>, Vec<_>) = plan
            .executors
            .iter()
            .map(|_| bounded::<Msg>(queue_batches))
            .unzip();
        let wiring = Arc::new(Wiring::new(
            plan,
            env,
            factories,
            &options,
            executor::Transport::Channels(senders),
        ));
        let rebuild = Rebuild {
            topology: split.storm.clone(),
            overrides,
            options: options.clone(),
        };
        let sampler = Sampler::new(
            options.rate_window,
            start,
            wiring.plan.nodes.len(),
            wiring.plan.task_executor.len(),
            wiring.plan.edges.len(),
        );
        let mut engine = StormEngine {
            generation: RwLock::new(Generation {
                wiring: wiring.clone(),
                threads: Vec::new(),
                inboxes: inboxes.clone(),
                done_before: 0,
            }),
            rebuild: Mutex::new(rebuild),
            start,
            queue_batches,
            sampler: Mutex::new(sampler),
            finish: Mutex::new(FinishCheck::default()),
            collected,
            flume,
            cluster: None,
        };
        match cluster::ClusterDriver::start(&wiring, super::cluster::ClusterSpec::of(topology)) {
            Ok(driver) => engine.cluster = Some(driver),
            Err(e) => {
                engine.shutdown();
                return Err(e);
            }
        }
        let spawned = spawn_executors(&wiring, inboxes, &mut engine.generation_mut().threads);
        if let Err(e) = spawned {
            engine.shutdown();
            return Err(RunError::Spawn(e));
        }
        Ok(engine)
    }

    /// The current generation, for reading (a rebalance holds it for writing only
    /// while it swaps executors).
    fn generation(&self) -> std::sync::RwLockReadGuard<'_, Generation> {
        match self.generation.read() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    fn generation_mut(&mut self) -> &mut Generation {
        match self.generation.get_mut() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// The current executors' wiring.
    fn wiring(&self) -> Arc<Wiring> {
        self.generation().wiring.clone()
    }

    /// Kills simulated worker `worker`: each of its executors notices at its next loop
    /// turn and is restarted afresh (see `executor`). Out of range is logged
    /// and otherwise ignored.
    fn kill_worker(&self, worker: u32) {
        let w = &self.wiring();
        let log = &w.env.log;
        let Some(_) = w.worker_kills.get(worker as usize) else {
            log.push(
                "engine",
                0,
                LogKind::Error,
                format!(
                    "kill worker {worker} refused: this run has workers 0 to {}",
                    w.plan.workers - 1
                ),
            );
            return;
        };
        let k = w
            .plan
            .executors
            .iter()
            .filter(|e| e.worker == worker)
            .count();
        let Some(cluster) = &self.cluster else {
            return;
        };
        let restarts = cluster.supervisor_of_is_up(worker);
        let was_running = w
            .worker_down
            .get(worker as usize)
            .is_some_and(|d| !d.load(Ordering::Acquire));
        cluster.act(w, ClusterAction::KillWorker(worker));
        if was_running {
            let then = if restarts {
                "restarted"
            } else {
                "down until a supervisor starts them"
            };
            log.push(
                "engine",
                0,
                LogKind::Event,
                format!("worker {worker} killed: {k} executors {then}"),
            );
        }
    }

    /// Tuples sent but not yet executed, and a measure of activity; both from counters.
    fn balance(&self) -> (i128, u64) {
        let generation = self.generation();
        let w = &generation.wiring;
        let mut sent: i128 = 0;
        for (i, s) in w.exec_sent.iter().enumerate() {
            sent += i128::from(s.load(Ordering::Relaxed));
            sent += i128::from(w.exec_held[i].load(Ordering::Relaxed));
        }
        let mut done: i128 = 0;
        let mut activity = 0u64;
        for (task, node) in w.plan.task_node.iter().enumerate() {
            let c = &w.counters.tasks[task];
            if node.is_some() {
                done += i128::from(get(&c.executed) + get(&c.dropped));
            }
            activity = activity
                .wrapping_add(get(&c.executed))
                .wrapping_add(get(&c.acked))
                .wrapping_add(get(&c.failed))
                .wrapping_add(get(&c.emitted));
        }
        // Earlier generations' executed and dropped tuples were sent by their executors.
        (
            sent - (done - generation.done_before),
            activity.wrapping_add(sent as u64),
        )
    }

    fn spouts_done(&self) -> bool {
        let w = &self.wiring();
        w.plan.nodes.iter().filter(|n| n.is_spout()).all(|n| {
            n.tasks
                .clone()
                .all(|t| get(&w.counters.tasks[t as usize].done) == 1)
        })
    }

    fn drain(&self, interrupt: &AtomicBool) {
        let w = &self.wiring();
        let end = Instant::now() + limits::DRAIN_LIMIT;
        let flume_left = match &self.flume {
            Some(flume) => flume.drain(end, interrupt),
            None => None,
        };
        w.switches.deactivated.store(true, Ordering::Relaxed);
        let in_flight = || {
            let (open, _) = self.balance();
            let pending: u64 = w
                .plan
                .nodes
                .iter()
                .filter(|n| n.is_spout())
                .flat_map(|n| n.tasks.clone())
                .map(|t| get(&w.counters.tasks[t as usize].pending))
                .sum();
            (open.max(0), pending)
        };
        let mut stable = 0;
        while stable < 2 {
            if interrupt.load(Ordering::Relaxed) || Instant::now() >= end {
                let (open, pending) = in_flight();
                let why = if interrupt.load(Ordering::Relaxed) {
                    "cut short by an interrupt".to_string()
                } else {
                    format!("not done after {:?}", limits::DRAIN_LIMIT)
                };
                let mut left = format!("{open} tuples queued, {pending} trees pending");
                if let Some(flume) = &flume_left {
                    left.push_str(&format!(", {flume}"));
                }
                w.env.log.push(
                    "engine",
                    0,
                    LogKind::Event,
                    format!("drain {why} ({left}); stopping now"),
                );
                return;
            }
            if in_flight() == (0, 0) {
                stable += 1;
            } else {
                stable = 0;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn shutdown(&mut self) {
        let wiring = self.wiring();
        wiring.switches.shutdown.store(true, Ordering::Relaxed);
        wiring.env.stopping.store(true, Ordering::Relaxed);
        super::supervisor::join_all(
            &mut self.generation_mut().threads,
            &wiring.env.log,
            "an executor",
        );
        if let Some(cluster) = &self.cluster {
            cluster.join(&wiring);
        }
        // After the executors: drain spouts have rolled back their open takes by now.
        if let Some(flume) = &mut self.flume {
            for problem in flume.stop() {
                wiring.env.log.push("flume", 0, LogKind::Error, problem);
            }
        }
    }
}

impl RunningEngine for StormEngine {
    fn mode(&self) -> ExecutionMode {
        ExecutionMode::RecordAtATime
    }

    /// Cheap: reads counters once. Callable at 10 Hz from the UI thread; never blocks
    /// workers (they only write atomics).
    fn snapshot(&self) -> MetricsSnapshot {
        let generation = self.generation();
        let queued = |exec: usize| generation.inboxes.get(exec).map_or(0, Receiver::len);
        let mut sampler = match self.sampler.lock() {
            Ok(s) => s,
            Err(p) => p.into_inner(),
        };
        let mut snap = sampler.snapshot(
            &generation.wiring,
            &queued,
            self.queue_batches,
            self.start,
            Instant::now(),
        );
        if let Some(flume) = &self.flume {
            flume.fold_into(&mut snap);
        }
        snap.cluster = self
            .cluster
            .as_ref()
            .map(|c| c.view(generation.wiring.run_clock()));
        snap
    }

    /// Applies a control command; unknown node names are ignored (the UI only offers
    /// existing nodes, and a stale command after a rename is harmless).
    fn control(&self, command: Control) {
        if let Control::Rebalance { executors, workers } = command {
            self.rebalance(&executors, workers);
            return;
        }
        let w = &self.wiring();
        if let Control::KillWorker { worker } = command {
            self.kill_worker(worker);
            return;
        }
        if let Control::Cluster(action) = command {
            if let Some(cluster) = &self.cluster {
                cluster.act(w, action);
            }
            return;
        }
        if let Control::TraceEvery { every } = command {
            w.tracer.set_every(u64::from(every));
            return;
        }
        if let Some(flume) = &self.flume {
            match &command {
                Control::Pause => flume.set_paused(true),
                Control::Resume => flume.set_paused(false),
                Control::SetFaults { node, faults } if flume.set_faults(node, faults) => {
                    super::control::log_faults(&w.env.log, node, faults);
                    return;
                }
                _ => {}
            }
        }
        super::control::apply_to_switches(
            command,
            &w.switches,
            &w.plan,
            &w.node_switches,
            &w.env.log,
        );
    }

    /// Lines from logger components and supervisor events since the last call.
    fn drain_log(&self) -> Vec<LogLine> {
        let wiring = self.wiring();
        if let Some(flume) = &self.flume {
            flume.forward_log(&wiring.env.log);
        }
        wiring.env.log.drain()
    }

    /// Like [`StormEngine::collected`], with the task id that received each tuple.
    fn collected_by_task(&self, node: &str) -> Vec<(u32, Values)> {
        self.collected.get(node)
    }

    /// Task ids of a node (Storm numbering), for tests and the inspector.
    fn tasks_of(&self, node: &str) -> Vec<u32> {
        self.wiring().plan.tasks_of(node)
    }

    /// True when every spout is finite and done, nothing is pending and every queue is
    /// empty — seen twice in a row, a few milliseconds apart, with no activity between.
    fn is_finished(&self) -> bool {
        let quiet = |e: &StormEngine| {
            let (open, activity) = e.balance();
            let flume = match &e.flume {
                Some(f) => f.quiet()?,
                None => 0,
            };
            (open == 0 && e.spouts_done()).then_some(activity.wrapping_add(flume))
        };
        let mut check = match self.finish.lock() {
            Ok(c) => c,
            Err(p) => p.into_inner(),
        };
        let now = Instant::now();
        match quiet(self) {
            None => {
                check.last = None;
                false
            }
            Some(activity) => match check.last {
                Some((at, a))
                    if a == activity && now.duration_since(at) >= Duration::from_millis(3) =>
                {
                    true
                }
                Some((_, a)) if a == activity => false,
                _ => {
                    check.last = Some((now, activity));
                    false
                }
            },
        }
    }

    /// Stops every thread and returns the final metrics. `Drain` first stops Flume's
    /// outside-input sources and lets the sinks empty the channels, then stops the
    /// spouts and waits for in-flight tuples to finish — all within
    /// [`limits::DRAIN_LIMIT`], whatever the message timeout, and no longer than until
    /// `interrupt` is set (a Ctrl+C). Then the stop is immediate, and the run log says
    /// what was left in flight.
    fn stop(
        mut self: Box<Self>,
        mode: StopMode,
        interrupt: &AtomicBool,
    ) -> (MetricsSnapshot, Vec<LogLine>) {
        if mode == StopMode::Drain {
            self.drain(interrupt);
        }
        self.shutdown();
        let metrics = self.snapshot();
        // The log outlives the engine: lines written while stopping (and by the drop's
        // own shutdown, a no-op by now) are returned, not lost.
        let log = self.wiring().env.log.clone();
        drop(self);
        (metrics, log.drain())
    }
}

impl Drop for StormEngine {
    fn drop(&mut self) {
        self.shutdown();
    }
}
