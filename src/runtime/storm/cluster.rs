//! The threaded engine's side of the simulated cluster: one thread (`trib-cluster`)
//! ticks the state machine (`runtime::cluster`) with the run's time and carries out its
//! effects on the executors — a stopped worker's executors lose their state and drop
//! what is sent to them; a started one's are rebuilt. Kills and restores from the
//! designer, the CLI and scenarios go through [`ClusterDriver::act`].

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::runtime::cluster::{Cluster, ClusterAction, ClusterSpec, ClusterView, Effect};
use crate::runtime::error::RunError;
use crate::runtime::exec::Wiring;
use crate::runtime::log::LogKind;
use crate::runtime::supervisor;

/// How often supervisors and Nimbus look at the store: well under any heartbeat
/// timeout (a second at least), and short beside a supervisor's restart backoff.
const TICK: Duration = Duration::from_millis(20);

/// The cluster of one run and the thread that ticks it.
pub(super) struct ClusterDriver {
    state: Arc<Mutex<Cluster>>,
    /// Ticks the cluster for the current executors; a rebalance replaces it.
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl ClusterDriver {
    /// Places the workers and starts ticking. Workers with no slot are stopped before
    /// any executor runs.
    pub(super) fn start(wiring: &Arc<Wiring>, spec: ClusterSpec) -> Result<Self, RunError> {
        let (cluster, effects) = Cluster::new(spec);
        carry_out(wiring, &effects);
        let state = Arc::new(Mutex::new(cluster));
        let thread = tick_thread(wiring, &state)?;
        Ok(Self {
            state,
            thread: Mutex::new(Some(thread)),
        })
    }

    /// After a rebalance: Nimbus places the new workers (refused while it is down),
    /// and the ticking goes on for the new executors. The old ticking thread has been
    /// told to stop (its executors' shutdown switch) and is joined here.
    pub(super) fn rebalance(&self, old: &Wiring, wiring: &Arc<Wiring>) -> Result<(), RunError> {
        self.join(old);
        let mut cluster = lock(&self.state);
        match cluster.rebalance(wiring.plan.workers, wiring.run_clock()) {
            Ok(effects) => carry_out(wiring, &effects),
            Err(why) => wiring.env.log.push("cluster", 0, LogKind::Error, why),
        }
        log_fresh(wiring, &mut cluster);
        drop(cluster);
        let thread = tick_thread(wiring, &self.state)?;
        *lock_thread(&self.thread) = Some(thread);
        Ok(())
    }

    /// Whether Nimbus is up: a rebalance needs it.
    pub(super) fn nimbus_up(&self) -> bool {
        lock(&self.state).nimbus_up()
    }

    /// A kill or a restore, now; a refusal is a line in the run log.
    pub(super) fn act(&self, wiring: &Wiring, action: ClusterAction) {
        let mut cluster = lock(&self.state);
        match cluster.act(action, wiring.run_clock()) {
            Ok(effects) => carry_out(wiring, &effects),
            Err(why) => wiring.env.log.push(
                "cluster",
                0,
                LogKind::Error,
                format!("{} refused: {why}", action.describe()),
            ),
        }
        log_fresh(wiring, &mut cluster);
    }

    /// Whether the supervisor that would restart worker `w` is alive.
    pub(super) fn supervisor_of_is_up(&self, w: u32) -> bool {
        lock(&self.state).supervisor_of_is_up(w)
    }

    pub(super) fn view(&self, now: Duration) -> ClusterView {
        lock(&self.state).view(now)
    }

    /// Joins the ticking thread (the executors' shutdown switch ends it).
    pub(super) fn join(&self, wiring: &Wiring) {
        let mut threads: Vec<JoinHandle<()>> =
            lock_thread(&self.thread).take().into_iter().collect();
        supervisor::join_all(&mut threads, &wiring.env.log, "the cluster thread");
    }
}

/// The thread that ticks `state` for the executors of `wiring` until their shutdown.
fn tick_thread(
    wiring: &Arc<Wiring>,
    state: &Arc<Mutex<Cluster>>,
) -> Result<JoinHandle<()>, RunError> {
    let (w, s) = (wiring.clone(), state.clone());
    std::thread::Builder::new()
        .name("trib-cluster".into())
        .spawn(move || {
            let stopping = || w.switches.shutdown.load(Ordering::Relaxed);
            while !stopping() {
                supervisor::sleep_unless(TICK, stopping);
                let mut cluster = lock(&s);
                let effects = cluster.tick(w.run_clock());
                carry_out(&w, &effects);
                log_fresh(&w, &mut cluster);
            }
        })
        .map_err(RunError::Spawn)
}

/// The cluster state survives a panic elsewhere: it is plain data, always consistent
/// between calls.
fn lock(state: &Mutex<Cluster>) -> MutexGuard<'_, Cluster> {
    match state.lock() {
        Ok(c) => c,
        Err(p) => p.into_inner(),
    }
}

fn lock_thread(thread: &Mutex<Option<JoinHandle<()>>>) -> MutexGuard<'_, Option<JoinHandle<()>>> {
    match thread.lock() {
        Ok(t) => t,
        Err(p) => p.into_inner(),
    }
}

/// A stopped worker is marked down before its kill count moves, so each executor that
/// sees the kill also sees that it must wait for a start.
fn carry_out(w: &Wiring, effects: &[Effect]) {
    for effect in effects {
        match *effect {
            Effect::Stop(worker) => {
                if let (Some(down), Some(kills)) = (
                    w.worker_down.get(worker as usize),
                    w.worker_kills.get(worker as usize),
                ) {
                    down.store(true, Ordering::Release);
                    kills.fetch_add(1, Ordering::Release);
                }
            }
            Effect::Start(worker) => {
                if let Some(down) = w.worker_down.get(worker as usize) {
                    down.store(false, Ordering::Release);
                }
            }
        }
    }
}

fn log_fresh(w: &Wiring, cluster: &mut Cluster) {
    for e in cluster.take_fresh() {
        if e.kind != crate::runtime::cluster::EventKind::Refused {
            w.env.log.push("cluster", 0, LogKind::Event, e.text);
        }
    }
}
