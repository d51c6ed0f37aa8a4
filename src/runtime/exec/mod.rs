//! Executors: each runs a contiguous range of one node's tasks (or one acker). The
//! threaded engine (`runtime::storm`) gives each its OS thread; they talk only through
//! bounded crossbeam channels carrying *batches*.
//!
//! No executor ever blocks on a send: a full channel parks the batch in a local
//! overflow queue (Storm's `pendingEmits`), because spout → bolt → acker → spout is a
//! cycle and blocking sends on a cycle can deadlock. Spouts stop calling `next_tuple`
//! and bolts stop reading input while their overflow is non-empty: that is the
//! backpressure. Spouts and ackers always keep reading, so the cycle always drains.
//!
//! Each executor lives in one simulated worker. Killing the worker bumps its kill
//! count; every executor of it sees that at its next loop turn (one relaxed load),
//! loses its in-memory state (tasks, pending roots, ledger, outbox, queued input) and
//! waits until a supervisor starts the worker again (`Wiring::worker_down` clears:
//! at once for a plain kill, later for a lost machine or a dead supervisor), then is
//! rebuilt after a backoff, as Storm's supervisor restarts a dead worker.

mod acker_loop;
mod bolt;
mod outbox;
mod pending;
mod route;
mod sampler;
mod spout;
pub(crate) mod tracer;
mod transport;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender};

use crate::runtime::acker::AckMsg;
use crate::runtime::components::{Env, Factory};
use crate::runtime::control::{EngineSwitches, NodeSwitches};
use crate::runtime::metrics::{self, Counters};
use crate::runtime::options::RunOptions;
use crate::runtime::plan::{ExecutorKind, Plan};
use crate::runtime::supervisor;
use crate::runtime::tuple::Tuple;
use crossbeam_utils::CachePadded;

pub(crate) use acker_loop::AckerExec;
pub(crate) use bolt::{BoltExec, BoltSink, TICK_EVERY};
pub use outbox::Outbox;
pub(crate) use sampler::Sampler;
pub(crate) use spout::{SpoutExec, handle as deliver_outcomes, spouts_active};
pub use transport::{LabQueues, Transport};

/// What travels on a channel: always a batch.
#[derive(Debug)]
pub enum Msg {
    Tuples {
        task: u32,
        tuples: Vec<Tuple>,
    },
    Acks(Vec<AckMsg>),
    /// Acker → spout: `(root, ok)` outcomes for one spout task.
    Outcomes {
        task: u32,
        outcomes: Vec<(u64, bool)>,
    },
}

impl Msg {
    pub fn tuple_count(&self) -> u64 {
        match self {
            Msg::Tuples { tuples, .. } => tuples.len() as u64,
            _ => 0,
        }
    }
}

/// The free list of one executor's batch buffers: (give back, take).
pub type SpareBatches = (Sender<Vec<Tuple>>, Receiver<Vec<Tuple>>);

/// Everything executors share, read-only.
pub struct Wiring {
    pub plan: Arc<Plan>,
    /// How batches reach each executor.
    pub transport: Transport,
    /// Tracer bullets: the sampled trees' hops.
    pub tracer: tracer::Tracer,
    /// Per executor: emptied batch buffers, handed back for producers to refill. Reusing
    /// them keeps batch memory warm in cache instead of faulting in fresh pages.
    pub spare_batches: Vec<SpareBatches>,
    pub counters: Arc<Counters>,
    /// Per executor: tuples handed to channels (or overflow) and tuples still held in
    /// the outbox at the end of the last step. Used to decide when a run has drained.
    pub exec_sent: Vec<crossbeam_utils::CachePadded<std::sync::atomic::AtomicU64>>,
    pub exec_held: Vec<crossbeam_utils::CachePadded<std::sync::atomic::AtomicU64>>,
    pub switches: Arc<EngineSwitches>,
    pub node_switches: Vec<Arc<NodeSwitches>>,
    pub env: Arc<Env>,
    pub factories: Vec<Factory>,
    pub schemas: Arc<Vec<Vec<String>>>,
    pub batch_size: usize,
    pub flush_interval: Duration,
    pub seed: u64,
    /// Per simulated worker: how often it was killed. Executors compare it with the
    /// value their current life started with.
    pub worker_kills: Vec<crossbeam_utils::CachePadded<AtomicU64>>,
    /// Per simulated worker: its process is gone and no supervisor has started it
    /// again yet (its machine is lost, or its supervisor is dead). Set before the kill
    /// count moves; its executors wait, dropping their input, until it clears.
    pub worker_down: Vec<crossbeam_utils::CachePadded<std::sync::atomic::AtomicBool>>,
    /// The life number executors start at: 0 for a run's first executors; after a
    /// rebalance, above any earlier life, so rebuilt spouts resume and draw new ids.
    /// `worker_kills` starts at it too.
    pub first_life: u64,
}

impl Wiring {
    /// The wiring of a compiled plan: counters, switches and spare buffers sized to it,
    /// with batches travelling over `transport`.
    pub fn new(
        plan: Arc<Plan>,
        env: Arc<Env>,
        factories: Vec<Factory>,
        options: &RunOptions,
        transport: Transport,
    ) -> Wiring {
        let executors = plan.executors.len();
        let padded = || CachePadded::new(AtomicU64::new(0));
        let mut counters = Counters::new(plan.task_executor.len(), executors, plan.edges.len());
        for (e, edge) in plan.edges.iter().enumerate() {
            let senders = plan.nodes[edge.from].tasks.len();
            counters.keep_pairs(e, senders, route::receiver_span(&edge.targets));
        }
        Wiring {
            counters: Arc::new(counters),
            exec_sent: (0..executors).map(|_| padded()).collect(),
            exec_held: (0..executors).map(|_| padded()).collect(),
            switches: Arc::new(EngineSwitches::default()),
            node_switches: plan
                .nodes
                .iter()
                .map(|n| {
                    let switches = NodeSwitches::new();
                    if let Some(f) = options.faults.get(n.name()) {
                        switches.set_faults(f);
                    }
                    Arc::new(switches)
                })
                .collect(),
            env,
            factories,
            schemas: Arc::new(plan.streams.iter().map(|s| s.fields.clone()).collect()),
            batch_size: options.batch_size.max(1),
            flush_interval: options.flush_interval,
            seed: options.seed,
            transport,
            tracer: tracer::Tracer::default(),
            spare_batches: (0..executors)
                .map(|_| crossbeam_channel::bounded(options.queue_batches.max(1) * 2))
                .collect(),
            worker_kills: (0..plan.workers).map(|_| padded()).collect(),
            worker_down: (0..plan.workers)
                .map(|_| CachePadded::new(std::sync::atomic::AtomicBool::new(false)))
                .collect(),
            first_life: 0,
            plan,
        }
    }

    /// An empty batch buffer for executor `exec`: a recycled one if available, else a
    /// fresh one with room for `capacity` tuples (it grows if more come).
    #[inline]
    pub fn take_batch(&self, exec: usize, capacity: usize) -> Vec<Tuple> {
        self.spare_batches[exec]
            .1
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(capacity))
    }

    /// Returns an emptied batch buffer of executor `exec` for reuse (dropped if the
    /// spare list is full).
    #[inline]
    pub fn recycle_batch(&self, exec: usize, mut batch: Vec<Tuple>) {
        batch.clear();
        let _ = self.spare_batches[exec].0.try_send(batch);
    }

    pub fn acking(&self) -> bool {
        self.plan.ackers() > 0
    }

    /// Time since the run started, the clock snapshots and the run log use.
    pub fn run_clock(&self) -> Duration {
        self.env.clock.elapsed()
    }

    pub fn timeout(&self) -> Duration {
        Duration::from_secs(u64::from(self.plan.message_timeout_secs))
    }
}

/// Why an executor's loop returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exit {
    /// The engine is stopping (or its channels are gone).
    Shutdown,
    /// Its worker was killed: the executor is to be started afresh.
    Killed,
}

/// One life of an executor: it ends when its worker's kill count moves on.
pub(crate) struct Life<'a> {
    kills: &'a AtomicU64,
    epoch: u64,
}

impl Life<'_> {
    /// Which life this is: 0 for the first, then the worker's kill count at its start.
    pub(crate) fn number(&self) -> u64 {
        self.epoch
    }

    /// One relaxed load: cheap enough for every loop turn.
    #[inline]
    pub(crate) fn killed(&self) -> bool {
        self.kills.load(Ordering::Relaxed) != self.epoch
    }
}

/// Runs executor `index` until shutdown, starting it again whenever its worker is
/// killed. This is the body of its thread.
pub fn run(wiring: Arc<Wiring>, index: usize, inbox: Receiver<Msg>) {
    let w = &*wiring;
    let ex = &w.plan.executors[index];
    let kills = &*w.worker_kills[ex.worker as usize];
    // The first life starts at `first_life`, so a kill sent before the thread got going
    // counts.
    let mut epoch = w.first_life;
    let mut backoff = supervisor::Backoff::default();
    loop {
        let life = Life { kills, epoch };
        let exit = match ex.kind {
            ExecutorKind::Node(n) if w.plan.nodes[n].is_spout() => {
                spout::run(w, index, n, &inbox, &life)
            }
            ExecutorKind::Node(n) => bolt::run(w, index, n, &inbox, &life),
            ExecutorKind::Acker(_) => acker_loop::run(w, index, &inbox, &life),
        };
        if exit == Exit::Shutdown {
            return;
        }
        after_kill(w, index, std::iter::from_fn(|| inbox.try_recv().ok()));
        // Until a supervisor starts the worker again, what is sent to it is lost, as to
        // a dead process: its trees time out and replay.
        let down = &w.worker_down[ex.worker as usize];
        while down.load(Ordering::Acquire) && !w.switches.shutdown.load(Ordering::Relaxed) {
            if let Ok(msg) = inbox.recv_timeout(Duration::from_millis(5)) {
                drop_input(w, std::iter::once(msg));
            }
        }
        epoch = kills.load(Ordering::Acquire);
        let delay = backoff.next_delay(w.env.clock.now());
        supervisor::sleep_unless(delay, || w.switches.shutdown.load(Ordering::Relaxed));
    }
}

/// What a killed worker's executor leaves behind, for either scheduler: the input that
/// was waiting for it is lost (counted as dropped at its tasks; those trees time out
/// and are replayed), it holds nothing, and each of its tasks counts a restart.
pub(crate) fn after_kill(w: &Wiring, index: usize, lost_input: impl Iterator<Item = Msg>) {
    let lost_at = w.run_clock();
    drop_input(w, lost_input);
    w.exec_held[index].store(0, Ordering::Relaxed);
    for task in w.plan.executors[index].tasks.clone() {
        let c = &w.counters.tasks[task as usize];
        c.note_restart(lost_at);
        c.pending.store(0, Ordering::Relaxed);
    }
}

/// Input that reached a dead executor: counted as dropped at its tasks (their trees
/// time out and replay).
fn drop_input(w: &Wiring, lost_input: impl Iterator<Item = Msg>) {
    for msg in lost_input {
        if let Msg::Tuples { task, tuples } = msg {
            metrics::add(
                &w.counters.tasks[task as usize].dropped,
                tuples.len() as u64,
            );
        }
    }
}

/// What a crashed task goes through before it is rebuilt, for spouts and bolts alike:
/// the restart is counted and timed, logged, and the supervisor's backoff is waited out
/// (cut short by shutdown).
pub(crate) fn wait_after_crash(
    w: &Wiring,
    node: usize,
    task: u32,
    backoff: &mut supervisor::Backoff,
    why: &str,
) {
    let delay = note_crash(w, node, task, backoff, why);
    supervisor::sleep_unless(delay, || w.switches.shutdown.load(Ordering::Relaxed));
}

/// The bookkeeping of a crashed task (its restart count and time, the log line) and how
/// long its supervisor waits before starting it again. Threads sleep that long; the lab
/// keeps the executor down for that much virtual time.
pub(crate) fn note_crash(
    w: &Wiring,
    node: usize,
    task: u32,
    backoff: &mut supervisor::Backoff,
    why: &str,
) -> Duration {
    let n = w.counters.tasks[task as usize].note_restart(w.run_clock());
    let name = &w.plan.nodes[node].node.name;
    w.env.log.push(
        name,
        task,
        crate::runtime::log::LogKind::Event,
        format!("task {task} crashed ({why}); restart #{n}"),
    );
    backoff.next_delay(w.env.clock.now())
}
