//! Micro-batch mode: the runtime side of Spark Streaming. Spouts become receivers that
//! buffer stamped records; a scheduler cuts the buffers every batch interval into a
//! batch covering `(t − B, t]` and runs it through the DAG, one job at a time.
//!
//! One module per job: `build` (operators from nodes), `receiver` (threads and
//! buffers), `lineage` (partitions, workers, kills) and `recover` (a node's input by
//! partition, recomputing lost partitions), `operator`, `keyed_ops`, `stream_window` and `window_op` (what each node
//! does to a batch; the batch math itself is `crate::dstream`), `job` (the scheduler),
//! `stats` and `sample` (the numbers, as `super::metrics` types), this file (start,
//! control, stop). Time comes from a [`crate::clock::Timer`]: the run's monotonic clock,
//! or a test's `ManualClock`.
//!
//! Threads: `start` spawns one receiver thread per spout task (`trib-recv-<node>-<i>`),
//! then the scheduler (`trib-batches`), which cuts each batch and runs its job itself,
//! one batch at a time (no thread per job). `shutdown` sets the shutdown switch and joins
//! them in spawn order, receivers first (a draining stop first deactivates the
//! receivers and waits, bounded, for the scheduler to run what is buffered). A failed
//! spawn shuts down what was already started.
//!
//! Groupings do not route in this mode: every operator sees the batch whole (keyed
//! operators group by key inside it, which is what a shuffle by key would give).
//! Parallelism of a spout is its number of receivers; a node's tasks are the partitions
//! of its output, placed on the simulated workers, which matters only when a worker is
//! killed: `lineage` and `recover` then recompute its lost partitions.

mod build;
mod job;
mod key;
mod keyed_ops;
mod lineage;
mod operator;
mod receiver;
mod recover;
mod sample;
mod stats;
pub(crate) mod stepper;
mod stream_window;
mod window_op;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::clock::{ManualClock, MonotonicClock, Timer};
use crate::model::{ExecutionMode, Topology};

use super::components::{Collected, Env, Factory, factory_for};
use super::control::{Control, EngineSwitches, NodeSwitches, StopMode};
use super::error::RunError;
use super::flume_bridge::{FlumeSide, view};
use super::limits::{self, Budget};
use super::log::{LogKind, LogLine, RunLog};
use super::metrics::{Counters, MetricsSnapshot};
use super::options::{RunOptions, admit};
use super::plan::{Plan, compile};
use super::running::RunningEngine;
use super::tuple::Values;

use build::{operator_for, task_info, topological_order};
use receiver::ReceiverState;
use stats::BatchStats;

/// State shared by the receivers, the scheduler and the engine handle.
pub(crate) struct Shared {
    pub plan: Arc<Plan>,
    pub env: Arc<Env>,
    pub factories: Vec<Factory>,
    pub switches: EngineSwitches,
    pub node_switches: Vec<NodeSwitches>,
    pub timer: Arc<dyn Timer>,
    pub receivers: Vec<ReceiverState>,
    /// One counter block per plan node (index = node, not task: one partition each).
    pub counters: Counters,
    stats: Mutex<BatchStats>,
    pub interval_ms: u64,
    /// Room of all receivers together (`limits::MAX_BUFFERED_RECORDS`; Spark's receiver
    /// rate limit plays this role): bounds memory when a spout is unthrottled or the
    /// jobs fall behind, whatever the number of receivers.
    pub budget: Budget,
    pub seed: u64,
    /// A batch is being cut or run.
    pub busy: AtomicBool,
    /// Stop requested with drain: run what is buffered without waiting for the clock.
    pub draining: AtomicBool,
    /// Draining finished: receivers idle and every buffer empty.
    pub drained: AtomicBool,
    /// Where each node's partitions live (`lineage`).
    pub placement: lineage::Placement,
    /// Worker kills requested and not landed yet.
    kills: Mutex<lineage::Kills>,
    /// The workers on each simulated machine (`settings.cluster`, placed as the
    /// threaded engine places them; one machine holding every worker without it).
    machines: Vec<std::collections::BTreeSet<u32>>,
}

impl Shared {
    pub fn stats_mut(&self) -> MutexGuard<'_, BatchStats> {
        match self.stats.lock() {
            Ok(s) => s,
            Err(p) => p.into_inner(),
        }
    }

    pub fn kills_mut(&self) -> MutexGuard<'_, lineage::Kills> {
        match self.kills.lock() {
            Ok(k) => k,
            Err(p) => p.into_inner(),
        }
    }

    /// Loses a set of simulated workers: their partitions of the running (or next)
    /// batch are recomputed from lineage. Losing a machine is losing its workers. A
    /// worker out of range is refused with a line in the run log.
    pub fn lose_workers(&self, workers: std::collections::BTreeSet<u32>) {
        let count = self.placement.worker_count;
        if let Some(bad) = workers.iter().find(|&&w| w >= count) {
            self.env.log.push(
                "engine",
                0,
                LogKind::Error,
                format!(
                    "kill worker {bad} refused: the topology has {count} workers (0 to {})",
                    count - 1
                ),
            );
            return;
        }
        self.kills_mut().request(workers);
    }

    /// Applies a control command: a worker or machine kill is lineage's, the rest the
    /// switches'.
    pub fn control(&self, command: Control) {
        if let Control::KillWorker { worker } = command {
            self.lose_workers(std::collections::BTreeSet::from([worker]));
            return;
        }
        if let Control::Cluster(action) = command {
            self.cluster_action(action);
            return;
        }
        super::control::apply_to_switches(
            command,
            &self.switches,
            &self.plan,
            &self.node_switches,
            &self.env.log,
        );
    }
}

impl Shared {
    /// A cluster action in micro-batch mode. Losing a machine loses its workers'
    /// partitions of the batch, recomputed from lineage; its receivers' input blocks
    /// survive as the replicas Spark keeps on another executor. Spark's driver
    /// reschedules lost tasks itself, so Nimbus and supervisors have nothing to do here.
    fn cluster_action(&self, action: super::cluster::ClusterAction) {
        use super::cluster::ClusterAction;
        let log = |kind, text: String| self.env.log.push("engine", 0, kind, text);
        match action {
            ClusterAction::KillWorker(worker) => {
                self.lose_workers(std::collections::BTreeSet::from([worker]));
            }
            ClusterAction::KillMachine(m) => match self.machines.get(m as usize) {
                Some(workers) if !workers.is_empty() => {
                    let names: Vec<String> = workers.iter().map(u32::to_string).collect();
                    log(
                        LogKind::Event,
                        format!(
                            "machine {m} lost with worker(s) {}: their partitions of the batch \
                             are recomputed from lineage, from the receivers' blocks (replicated \
                             on another machine, or in the write-ahead log)",
                            names.join(", ")
                        ),
                    );
                    self.lose_workers(workers.clone());
                }
                Some(_) => log(
                    LogKind::Event,
                    format!("machine {m} lost: it ran no worker, so nothing is recomputed"),
                ),
                None => log(
                    LogKind::Error,
                    format!(
                        "kill machine {m} refused: the cluster has machines 0 to {}",
                        self.machines.len().saturating_sub(1)
                    ),
                ),
            },
            other => log(
                LogKind::Event,
                format!(
                    "{}: no effect in micro-batch mode (Spark's driver reschedules lost tasks \
                     itself; there is no Nimbus or supervisor)",
                    other.role()
                ),
            ),
        }
    }
}

/// The workers on each machine of `topology`'s cluster, placed by the even scheduler as
/// a record-at-a-time run places them.
fn workers_by_machine(topology: &Topology, workers: u32) -> Vec<std::collections::BTreeSet<u32>> {
    use super::cluster::placement;
    let (machines, slots) = topology
        .settings
        .cluster
        .as_ref()
        .map_or((1, workers.max(1)), |c| (c.machines, c.slots_per_machine));
    let placed = placement::place(workers, machines, slots);
    (0..machines)
        .map(|m| placement::workers_on(&placed, m).into_iter().collect())
        .collect()
}

/// A micro-batch run built and not started: what the threaded engine and the lab's
/// batch stepper share.
pub(crate) struct Prepared {
    pub shared: Arc<Shared>,
    pub ops: Vec<operator::Operator>,
    pub order: Vec<usize>,
    pub receiver_infos: Vec<super::components::TaskInfo>,
    pub collected: Arc<Collected>,
}

/// Validates, compiles and builds a micro-batch run's shared state, operators and
/// receivers' task infos, on `timer` (batch time) and `clock` (what components and the
/// run log read).
pub(crate) fn prepare(
    topology: &Topology,
    options: &RunOptions,
    timer: Arc<dyn Timer>,
    clock: crate::clock::RunClock,
) -> Result<Prepared, RunError> {
    prepare_split(topology, topology, options, timer, clock, None)
}

/// [`prepare`] for a run whose job is `run` (the topology's spouts and bolts, with the
/// channels bolts drain as receivers: `flume_bridge::view`), admitted as `topology`,
/// with the run log the Flume agents already write to.
fn prepare_split(
    topology: &Topology,
    run: &Topology,
    options: &RunOptions,
    timer: Arc<dyn Timer>,
    clock: crate::clock::RunClock,
    log: Option<Arc<RunLog>>,
) -> Result<Prepared, RunError> {
    let ExecutionMode::MicroBatch { interval_ms } = topology.settings.mode else {
        return Err(RunError::Config {
            node: topology.name.clone(),
            message: "not a micro-batch topology".into(),
        });
    };
    let grant = admit(topology, options)?;
    let plan = Arc::new(compile(run)?);
    let collected = Arc::new(Collected::default());
    let env = Arc::new(Env {
        log: log.unwrap_or_else(|| Arc::new(RunLog::new(clock.clone()))),
        collected: collected.clone(),
        windows: super::limits::Budget::windows(),
        state: super::limits::Budget::state(),
        inputs: super::limits::Budget::inputs(),
        clock,
        grant: grant.clone(),
        stopping: Default::default(),
        // Micro-batch runs recover by recomputing from lineage instead.
        txn: None,
    });
    let factories = plan
        .nodes
        .iter()
        .map(|n| factory_for(&plan, n, &env, &options.overrides))
        .collect::<Result<Vec<_>, _>>()?;
    let order = topological_order(&plan)?;
    let ops = (0..plan.nodes.len())
        .map(|n| {
            let overridden = options.overrides.contains_key(plan.nodes[n].name());
            operator_for(&plan, n, &env, &factories[n], overridden, interval_ms)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut receivers = Vec::new();
    let mut receiver_infos = Vec::new();
    for (n, pn) in plan.nodes.iter().enumerate().filter(|(_, p)| p.is_spout()) {
        let count = pn.tasks.end - pn.tasks.start;
        for index in 0..count {
            receivers.push(ReceiverState::new(n, pn.tasks.start + index));
            receiver_infos.push(task_info(&plan, n, &env, index, count));
        }
    }
    let shared = Arc::new(Shared {
        counters: Counters::new(plan.nodes.len(), plan.nodes.len(), plan.edges.len()),
        node_switches: plan
            .nodes
            .iter()
            .map(|n| {
                let switches = NodeSwitches::new();
                if let Some(f) = options.faults.get(n.name()) {
                    switches.set_faults(f);
                }
                switches
            })
            .collect(),
        switches: EngineSwitches::default(),
        env,
        factories,
        timer,
        receivers,
        stats: Mutex::new(BatchStats::default()),
        interval_ms,
        budget: Budget::receivers(),
        seed: options.seed,
        busy: AtomicBool::new(false),
        draining: AtomicBool::new(false),
        drained: AtomicBool::new(false),
        placement: lineage::Placement::new(&plan),
        kills: Mutex::new(lineage::Kills::new(options.seed, plan.workers)),
        machines: workers_by_machine(topology, plan.workers),
        plan,
    });
    Ok(Prepared {
        shared,
        ops,
        order,
        receiver_infos,
        collected,
    })
}

/// A topology running in micro-batch mode. Dropping it stops and joins every thread.
pub struct BatchEngine {
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
    start: Instant,
    sampler: Mutex<sample::Sampler>,
    collected: Arc<Collected>,
    rate_window: Duration,
    /// The topology's Flume agents, when it has Flume nodes.
    flume: Option<FlumeSide>,
}

impl BatchEngine {
    /// Validates, compiles and starts the receivers and the scheduler. `manual` replaces
    /// the real clock (tests drive batches by hand).
    pub fn start(
        topology: &Topology,
        mut options: RunOptions,
        manual: Option<Arc<ManualClock>>,
    ) -> Result<BatchEngine, RunError> {
        let start = Instant::now();
        let timer: Arc<dyn Timer> = match manual {
            Some(clock) => clock,
            None => Arc::new(MonotonicClock { start }),
        };
        let clock = crate::clock::RunClock::wall(start);
        let log = Arc::new(RunLog::new(clock.clone()));
        // Flume nodes run as Flume agents beside the job; a channel bolts drain becomes
        // a receiver (Spark's Flume receiver) through the drain spout.
        let split = view::split(topology)?;
        let flume = if split.has_flume {
            let grant = admit(topology, &options)?;
            FlumeSide::start(
                topology,
                &split,
                crate::flume::AgentOptions {
                    grant,
                    seed: options.seed,
                    ..Default::default()
                },
                &mut options.overrides,
                &log,
                options.rate_window,
                start,
            )?
        } else {
            None
        };
        let prepared = prepare_split(topology, &split.storm, &options, timer, clock, Some(log))?;
        let shared = prepared.shared;
        let mut engine = BatchEngine {
            sampler: Mutex::new(sample::Sampler::new(
                shared.plan.nodes.len(),
                shared.plan.edges.len(),
                start,
            )),
            shared: shared.clone(),
            threads: Vec::new(),
            start,
            collected: prepared.collected,
            rate_window: options.rate_window.max(Duration::from_millis(100)),
            flume,
        };
        for (index, info) in prepared.receiver_infos.into_iter().enumerate() {
            let s = shared.clone();
            let name = format!("trib-recv-{}-{index}", info.node);
            engine.spawn(name, move || receiver::run(s, index, info))?;
        }
        let s = shared.clone();
        let (ops, order) = (prepared.ops, prepared.order);
        engine.spawn("trib-batches".into(), move || job::run(s, ops, order))?;
        Ok(engine)
    }

    fn spawn(&mut self, name: String, f: impl FnOnce() + Send + 'static) -> Result<(), RunError> {
        match std::thread::Builder::new().name(name).spawn(f) {
            Ok(handle) => {
                self.threads.push(handle);
                Ok(())
            }
            Err(e) => {
                self.shutdown();
                Err(RunError::Spawn(e))
            }
        }
    }

    /// Joins the receivers (a drain spout's open takes roll back as it drops) and the
    /// scheduler, then stops the Flume agents upstream first.
    fn shutdown(&mut self) {
        self.shared.switches.shutdown.store(true, Ordering::SeqCst);
        super::supervisor::join_all(
            &mut self.threads,
            &self.shared.env.log,
            "a micro-batch thread",
        );
        if let Some(flume) = &mut self.flume {
            for problem in flume.stop() {
                self.shared
                    .env
                    .log
                    .push("flume", 0, LogKind::Error, problem);
            }
        }
    }
}

impl RunningEngine for BatchEngine {
    fn mode(&self) -> ExecutionMode {
        ExecutionMode::MicroBatch {
            interval_ms: self.shared.interval_ms,
        }
    }

    /// Cheap: reads counters and takes the batch statistics' lock once.
    fn snapshot(&self) -> MetricsSnapshot {
        let clock_ms = self.shared.timer.now_us() / 1000;
        let mut sampler = match self.sampler.lock() {
            Ok(s) => s,
            Err(p) => p.into_inner(),
        };
        let mut snap = sampler.snapshot(&self.shared, self.start, self.rate_window, Instant::now());
        if let Some(flume) = &self.flume {
            flume.fold_into(&mut snap);
        }
        snap.batch = Some(
            self.shared
                .stats_mut()
                .metrics(self.shared.interval_ms, clock_ms),
        );
        snap
    }

    /// Pause stops the receivers (batches keep coming, empty); rates and faults act as in
    /// record-at-a-time mode (faults per record, on operators and receivers); a worker
    /// kill loses the worker's partitions of the batch, recomputed from lineage.
    fn control(&self, command: Control) {
        if let Some(flume) = &self.flume {
            match &command {
                Control::Pause => flume.set_paused(true),
                Control::Resume => flume.set_paused(false),
                Control::SetFaults { node, faults } if flume.set_faults(node, faults) => {
                    super::control::log_faults(&self.shared.env.log, node, faults);
                    return;
                }
                _ => {}
            }
        }
        self.shared.control(command);
    }

    fn drain_log(&self) -> Vec<LogLine> {
        if let Some(flume) = &self.flume {
            flume.forward_log(&self.shared.env.log);
        }
        self.shared.env.log.drain()
    }

    fn collected_by_task(&self, node: &str) -> Vec<(u32, Values)> {
        self.collected.get(node)
    }

    fn tasks_of(&self, node: &str) -> Vec<u32> {
        self.shared.plan.tasks_of(node)
    }

    /// True when every receiver's spout is done, every buffer is empty and no batch is
    /// running: the last records have gone through their batch.
    fn is_finished(&self) -> bool {
        let s = &self.shared;
        s.receivers.iter().all(|r| r.done.load(Ordering::SeqCst))
            && s.receivers.iter().all(|r| r.buffered() == 0)
            && !s.busy.load(Ordering::SeqCst)
            && self.flume.as_ref().is_none_or(|f| f.quiet().is_some())
    }

    /// `Drain` stops the receivers and runs every buffered record through its batch
    /// without waiting for the clock, for up to [`limits::DRAIN_LIMIT`] or until
    /// `interrupt` is set; `Immediate` drops what is buffered. A drain that gives up
    /// says so in the run log.
    fn stop(
        mut self: Box<Self>,
        mode: StopMode,
        interrupt: &AtomicBool,
    ) -> (MetricsSnapshot, Vec<LogLine>) {
        if mode == StopMode::Drain {
            let s = &self.shared;
            let end = Instant::now() + limits::DRAIN_LIMIT;
            // Flume first: its outside inputs stop and the receivers empty the channels.
            if let Some(left) = self.flume.as_ref().and_then(|f| f.drain(end, interrupt)) {
                s.env.log.push(
                    "engine",
                    0,
                    LogKind::Event,
                    format!("Flume not drained ({left}); stopping the batches now"),
                );
            }
            s.switches.deactivated.store(true, Ordering::SeqCst);
            s.draining.store(true, Ordering::SeqCst);
            let drained = || s.drained.load(Ordering::SeqCst) && !s.busy.load(Ordering::SeqCst);
            let cut = || interrupt.load(Ordering::Relaxed);
            while Instant::now() < end && !drained() && !cut() {
                std::thread::sleep(Duration::from_millis(2));
            }
            if !drained() {
                let buffered: usize = s.receivers.iter().map(ReceiverState::buffered).sum();
                let why = if cut() {
                    "cut short by an interrupt".to_string()
                } else {
                    format!("not done after {:?}", limits::DRAIN_LIMIT)
                };
                s.env.log.push(
                    "engine",
                    0,
                    LogKind::Event,
                    format!("drain {why} ({buffered} records buffered); stopping now"),
                );
            }
        }
        self.shutdown();
        let metrics = self.snapshot();
        // The log outlives the engine: lines written while stopping are returned.
        let log = self.shared.env.log.clone();
        drop(self);
        (metrics, log.drain())
    }
}

impl Drop for BatchEngine {
    fn drop(&mut self) {
        self.shutdown();
    }
}
