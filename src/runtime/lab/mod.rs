//! Lab mode: a run stepped one event at a time, on the caller's thread, over a
//! virtual clock, so a learner can watch a tuple tree being acked, see which task each
//! tuple lands on, or see what one micro-batch held and what each operator made of it.
//!
//! The lab is the third way to run a plan, beside the threaded record-at-a-time engine
//! (`storm`) and the micro-batch engine (`batch`), and it runs their code:
//! - record-at-a-time (`world`): the threaded engine's own executors (`exec`): the same
//!   plan, task numbering, routing, acker ledger, timeouts, max spout pending, faults
//!   and simulated workers. What differs is only the schedule: one event at a time,
//!   chosen by a seeded generator, with one tuple per message so every delivery and
//!   every ack is its own event.
//! - micro-batch (`batches`): the batch engine's receivers, operators and job through
//!   its stepper (`batch::stepper`); a step is one batch. This is the one place an
//!   engine reaches into another's folder: the stepper is the batch engine's own API
//!   for being stepped, and the lab only describes what it returns.
//!
//! Rules:
//! - Same topology, seed and learner actions → the same events, byte for byte
//!   ([`Event::to_json`]).
//! - Learner actions (faults, rates, pause, kill worker) are steps of their own, so a
//!   run is its seed plus the list of actions with the step each was taken at.
//! - Stepping back rebuilds the world and re-executes up to the earlier step (no
//!   snapshots: components hold closures, files and user code, which cannot be
//!   copied). Each re-executed event is compared with the one recorded the first time;
//!   a difference is a determinism bug and is reported in the run log.
//! - Files a run appends to are cut back to their length at the lab's start before a
//!   re-execution, so stepping back never writes a line twice.

mod batches;
mod stepping;
mod trace;
mod tree;
mod world;

use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use crate::components::PathUse;
use crate::model::{ExecutionMode, Topology};
use crate::policy::{Declared, Grant, declared};

use super::control::{Control, StopMode};
use super::error::RunError;
use super::log::{LogKind, LogLine};
use super::metrics::MetricsSnapshot;
use super::options::{RunOptions, admit};
use super::tuple::Values;

/// The contract `LabEngine` fulfils (snapshot, log, tasks of a node, stop), named here
/// so the designer, which drives a lab directly rather than through `Engine`, can call it.
pub use super::running::RunningEngine;
use stepping::Stepping;
pub use trace::{BatchTrace, Event, Fields, Id, Kind, NamedWindow, NodeBatch, Sent, TaskRef};
pub use tree::{LedgerStep, Tree, TreeTuple, TupleState, Verdict};
pub use world::ACKER;

/// How a lab run is paced.
#[derive(Debug, Clone)]
pub struct LabOptions {
    /// Virtual time one event takes. With the default 1 ms, a 30 s message timeout is
    /// 30 000 events away (run-until-timeout jumps there).
    pub event_cost: Duration,
    /// How many messages each executor's queue holds (each message is one tuple or one
    /// ack here); a full queue parks messages in the sender's outbox, as threaded runs
    /// park whole batches.
    pub queue_capacity: usize,
}

impl Default for LabOptions {
    fn default() -> Self {
        Self {
            event_cost: Duration::from_millis(1),
            queue_capacity: 64,
        }
    }
}

/// Events kept for the designer and for checking re-executions; older ones are dropped
/// (about 1 KB each at most, so this bounds a long session's memory). Stepping back
/// still works from anywhere: it re-executes from step 0.
pub const MAX_TRACE: usize = 200_000;

/// Why the lab cannot step `topology`, or `None` when it can: one rule, for the
/// designer's Lab button and for [`LabEngine::start`].
pub fn refusal(topology: &Topology) -> Option<String> {
    refuse_unsteppable(topology).err().map(|e| e.to_string())
}

/// Where "run until" stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Until {
    /// A spout emitted a tracked tuple (a new tree).
    Emitted,
    /// A tree completed: its spout's `ack` ran.
    Acked,
    /// A tree failed: its spout's `fail` ran (a failure or a timeout's verdict).
    Failed,
    /// Pending trees expired.
    Timeout,
    /// A window emitted.
    Window,
    /// The tree with this root was acked or failed.
    TreeDone(u64),
}

impl Until {
    /// True when `e` is where "run until" stops.
    pub fn matches(self, e: &Event) -> bool {
        match self {
            Until::Emitted => e.kind == Kind::NextTuple && e.root.is_some(),
            Until::Acked => e.kind == Kind::Outcome && e.ok == Some(true),
            Until::Failed => e.kind == Kind::Outcome && e.ok == Some(false),
            Until::Timeout => e.kind == Kind::Timeout,
            Until::Window => e.kind == Kind::Window,
            Until::TreeDone(root) => {
                (e.kind == Kind::Outcome && e.root == Some(Id(root)))
                    || (e.kind == Kind::Timeout && e.roots.contains(&Id(root)))
            }
        }
    }
}

/// A lab run. Methods that move it take `&mut self`; the [`RunningEngine`] view (for
/// the canvas overlays) reads it.
pub struct LabEngine {
    topology: Topology,
    options: RunOptions,
    lab: LabOptions,
    grant: Grant,
    run: Stepping,
    /// The latest events (at most [`MAX_TRACE`]), oldest first, steps consecutive.
    trace: Vec<Event>,
    /// Learner actions with the step each one is. Kept past the current step after a
    /// step back, so stepping forward again replays them.
    actions: Vec<(u64, Control)>,
    /// Actions sent through [`RunningEngine::control`], taken at the next step.
    queued: Mutex<Vec<Control>>,
    /// Files the run appends to, with their length when the lab started.
    files: Vec<AppendedFile>,
    /// The furthest step reached: log lines of steps up to it were already shown.
    furthest: u64,
    /// Set when a re-execution did not reproduce the recorded events.
    diverged: bool,
}

impl LabEngine {
    /// Checks and builds a lab run at step 0. Refuses, naming the node, what it cannot
    /// step: Flume nodes (their agents run on their own threads and clocks).
    pub fn start(
        topology: &Topology,
        options: RunOptions,
        lab: LabOptions,
    ) -> Result<LabEngine, RunError> {
        refuse_unsteppable(topology)?;
        let grant = admit(topology, &options)?;
        // After the build: an exactly-once file sink cuts a torn batch off as it starts,
        // and stepping back must return to the file as the run began with it.
        let run = Stepping::build(topology, &options, grant.clone(), &lab)?;
        let files = appended_files(topology, &grant);
        Ok(LabEngine {
            topology: topology.clone(),
            options,
            lab,
            grant,
            run,
            trace: Vec::new(),
            actions: Vec::new(),
            queued: Mutex::new(Vec::new()),
            files,
            furthest: 0,
            diverged: false,
        })
    }

    /// Steps taken so far.
    pub fn steps(&self) -> u64 {
        self.run.steps()
    }

    /// Every event so far, oldest first.
    pub fn trace(&self) -> &[Event] {
        &self.trace
    }

    /// Virtual time since the start.
    pub fn elapsed(&self) -> Duration {
        Duration::from_micros(self.run.t_us())
    }

    /// True when every spout is done and nothing is pending or queued.
    pub fn is_finished_now(&self) -> bool {
        self.run.is_finished()
    }

    /// True when a re-execution did not reproduce the recorded run.
    pub fn diverged(&self) -> bool {
        self.diverged
    }

    /// Takes one step: a recorded or queued learner action due now, else the
    /// scheduler's next event. `None` when nothing can happen (finished or stalled).
    pub fn step(&mut self) -> Option<&Event> {
        let queued = std::mem::take(&mut *lock(&self.queued));
        for c in queued {
            self.act(c);
        }
        let next = self.run.steps() + 1;
        let e = match self.action_at(next) {
            Some(c) => self.run.act(c),
            None => self.run.step()?,
        };
        self.record(e);
        self.trace.last()
    }

    /// Takes up to `n` steps; returns how many were taken.
    pub fn step_n(&mut self, n: u64) -> u64 {
        let mut taken = 0;
        while taken < n && self.step().is_some() {
            taken += 1;
        }
        taken
    }

    /// Steps until an event matches `until` (that event included) or `max` steps were
    /// taken; returns the steps taken.
    pub fn run_until(&mut self, until: Until, max: u64) -> u64 {
        let mut taken = 0;
        while taken < max {
            let Some(e) = self.step() else {
                break;
            };
            taken += 1;
            if until.matches(e) {
                break;
            }
        }
        taken
    }

    /// Takes a learner action now, as a step of its own. Recorded actions after the
    /// current step (from before a step back) are dropped: this is a new branch.
    pub fn act(&mut self, command: Control) -> &Event {
        let step = self.run.steps() + 1;
        self.actions.retain(|(s, _)| *s < step);
        self.actions.push((step, command.clone()));
        let e = self.run.act(command);
        self.record(e);
        &self.trace[self.trace.len() - 1]
    }

    /// Goes back `n` steps (to step 0 at most): the world is rebuilt and re-executed up
    /// to there. Stepping forward afterwards replays the same events, actions included.
    pub fn back(&mut self, n: u64) -> Result<(), RunError> {
        let target = self.run.steps().saturating_sub(n);
        if n == 0 || self.run.steps() == 0 {
            return Ok(());
        }
        self.rewind_to(target)
    }

    /// Rebuilds the world and re-executes it up to step `target`.
    fn rewind_to(&mut self, target: u64) -> Result<(), RunError> {
        // Buffered lines reach their files before the files are cut back.
        self.run.flush();
        cut_back(&self.files);
        let mut run =
            Stepping::build(&self.topology, &self.options, self.grant.clone(), &self.lab)?;
        let mut fresh: Vec<Event> = Vec::new();
        for step in 1..=target {
            let e = match self.action_at(step) {
                Some(c) => run.act(c),
                None => match run.step() {
                    Some(e) => e,
                    None => break,
                },
            };
            // The lines of a re-executed step were shown the first time.
            run.log().drain();
            if let Some(recorded) = self.recorded(step)
                && recorded != &e
                && !self.diverged
            {
                self.diverged = true;
                run.log().push(
                    "lab",
                    0,
                    LogKind::Error,
                    format!(
                        "stepping back did not reproduce step {step}; the trace from there on is the new one"
                    ),
                );
            }
            push_capped(&mut fresh, e);
        }
        self.trace = fresh;
        self.run = run;
        Ok(())
    }

    /// The recorded event of `step`, if still kept.
    fn recorded(&self, step: u64) -> Option<&Event> {
        let first = self.trace.first()?.step;
        self.trace
            .get(usize::try_from(step.checked_sub(first)?).ok()?)
    }

    /// The run's numbers now (the same as its [`RunningEngine`] snapshot).
    pub fn metrics(&self) -> MetricsSnapshot {
        self.run.snapshot()
    }

    /// What collector `node` received so far.
    pub fn collected(&self, node: &str) -> Vec<Values> {
        self.run
            .collected()
            .get(node)
            .into_iter()
            .map(|(_, v)| v)
            .collect()
    }

    /// What collector `node` received so far, with the receiving task's id.
    pub fn collected_with_tasks(&self, node: &str) -> Vec<(u32, Values)> {
        self.run.collected().get(node)
    }

    /// Task ids of a node (Storm numbering); empty for unknown nodes.
    pub fn tasks_of_node(&self, node: &str) -> Vec<u32> {
        self.run.tasks_of(node)
    }

    /// The tree of `root` as the kept trace shows it.
    pub fn tree(&self, root: u64) -> Option<Tree> {
        Tree::from_trace(&self.trace, Id(root))
    }

    /// False at step 0, where there is nothing to go back to.
    pub fn can_step_back(&self) -> bool {
        self.run.steps() > 0
    }

    fn action_at(&self, step: u64) -> Option<Control> {
        self.actions
            .iter()
            .find(|(s, _)| *s == step)
            .map(|(_, c)| c.clone())
    }

    fn record(&mut self, e: Event) {
        if e.step <= self.furthest {
            // Shown already, before a step back.
            self.run.log().drain();
        }
        self.furthest = self.furthest.max(e.step);
        push_capped(&mut self.trace, e);
    }

    /// The ledger value an acker holds for `root` now (`None`: nothing held).
    pub fn ledger_value(&self, root: u64) -> Option<u64> {
        let world = self.run.records()?;
        let ackers = world.wiring.plan.ackers();
        let acker = crate::runtime::routing::acker_for(root, ackers.max(1));
        world.ledger_value(acker, root)
    }

    /// The message id spout task `task` holds for the pending tree `root`.
    pub fn pending_msg_id(&self, task: u32, root: u64) -> Option<u64> {
        self.run.records()?.pending_msg_id(task, root)
    }

    /// Every queued tuple: (receiving task, sending task, values), in queue order.
    pub fn queued_tuples(&self) -> Vec<(u32, u32, Fields)> {
        let mut out = Vec::new();
        let Some(world) = self.run.records() else {
            return out;
        };
        let w = &world.wiring;
        world.for_each_queued(|_, msg| {
            if let super::exec::Msg::Tuples { task, tuples } = msg {
                for t in tuples {
                    let schema = w.schemas.get(t.stream as usize).map_or(&[][..], |s| s);
                    out.push((*task, t.source_task, Fields::named(schema, &t.values)));
                }
            }
        });
        out
    }

    /// Every tuple parked in an outbox (its queue was full): (receiving task, sending
    /// task, values).
    pub fn parked_tuples(&self) -> Vec<(u32, u32, Fields)> {
        let mut out = Vec::new();
        let Some(world) = self.run.records() else {
            return out;
        };
        let w = &world.wiring;
        world.for_each_parked(|_, _, msg| {
            if let super::exec::Msg::Tuples { task, tuples } = msg {
                for t in tuples {
                    let schema = w.schemas.get(t.stream as usize).map_or(&[][..], |s| s);
                    out.push((*task, t.source_task, Fields::named(schema, &t.values)));
                }
            }
        });
        out
    }
}

/// Appends an event, dropping the oldest quarter when the trace is full.
fn push_capped(trace: &mut Vec<Event>, e: Event) {
    if trace.len() >= MAX_TRACE {
        trace.drain(..MAX_TRACE / 4);
    }
    trace.push(e);
}

/// What the lab cannot step, named before anything starts.
fn refuse_unsteppable(topology: &Topology) -> Result<(), RunError> {
    let split = super::flume_bridge::view::split(topology)?;
    if split.has_flume
        && let Some(node) = topology.nodes().find(|n| {
            matches!(
                n.role,
                crate::model::Role::Source | crate::model::Role::Channel | crate::model::Role::Sink
            )
        })
    {
        return Err(RunError::Unsupported {
            node: node.name.clone(),
            what: "Flume nodes in Lab mode (Flume agents run on their own threads and clocks)"
                .into(),
        });
    }
    if let Some(node) = topology
        .nodes()
        .find(|n| crate::components::runs_a_program(&n.component))
    {
        return Err(RunError::Unsupported {
            node: node.name.clone(),
            what: "a shell component in Lab mode (its program runs at its own pace, which a step cannot replay)"
                .into(),
        });
    }
    Ok(())
}

/// A file the topology's nodes append to, as it was when the lab started.
struct AppendedFile {
    path: PathBuf,
    /// Its length (`None`: it did not exist).
    len: Option<u64>,
    /// Where an exactly-once sink keeps its record beside it (`runtime::txn::sidecar_of`,
    /// allowed by the grant as the file is), with its bytes then (`None`: there was
    /// none). Stepping back restores it with the file.
    sidecar: Option<(PathBuf, Option<Vec<u8>>)>,
}

/// Files the topology's nodes append to, resolved through the grant, with their
/// length now (`None`: the file does not exist yet) and their records.
fn appended_files(topology: &Topology, grant: &Grant) -> Vec<AppendedFile> {
    declared(topology)
        .into_iter()
        .filter_map(|d| match d {
            Declared::Path {
                node,
                key,
                usage: PathUse::WriteFile,
                raw,
            } => {
                let path = grant.path(&node, &key, PathUse::WriteFile, &raw).ok()?;
                let record = crate::runtime::txn::sidecar_of(std::path::Path::new(&raw));
                let sidecar = grant
                    .path(&node, &key, PathUse::WriteFile, &record.to_string_lossy())
                    .ok()
                    .map(|at| {
                        let bytes = crate::policy::paths::open_for_read(&at).ok().and_then(|f| {
                            let mut bytes = Vec::new();
                            std::io::Read::read_to_end(&mut std::io::Read::take(f, 64), &mut bytes)
                                .ok()
                                .map(|_| bytes)
                        });
                        (at, bytes)
                    });
                let len = std::fs::symlink_metadata(&path).ok().map(|m| m.len());
                Some(AppendedFile { path, len, sidecar })
            }
            _ => None,
        })
        .collect()
}

/// Cuts each file back to the length it had when the lab started (empty if it did not
/// exist then), and puts its record back as it was. Opened as the file sinks open them
/// (`policy::paths`: a symbolic link planted at the path is refused, not followed). A
/// file that cannot be opened is left alone: re-execution then appends to it again,
/// which the next run's output shows.
fn cut_back(files: &[AppendedFile]) {
    use std::io::Write;
    for file in files {
        if let Ok(f) = crate::policy::paths::open_for_append(&file.path) {
            let _ = f.set_len(file.len.unwrap_or(0));
        }
        match &file.sidecar {
            Some((at, Some(bytes))) => {
                if let Ok(mut f) = crate::policy::paths::open_for_write(at) {
                    let _ = f.write_all(bytes);
                }
            }
            Some((at, None)) => {
                let _ = std::fs::remove_file(at);
            }
            None => {}
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl RunningEngine for LabEngine {
    fn mode(&self) -> ExecutionMode {
        self.run.mode()
    }

    fn snapshot(&self) -> MetricsSnapshot {
        self.run.snapshot()
    }

    fn control(&self, command: Control) {
        lock(&self.queued).push(command);
    }

    fn drain_log(&self) -> Vec<LogLine> {
        self.run.log().drain()
    }

    fn collected_by_task(&self, node: &str) -> Vec<(u32, Values)> {
        self.run.collected().get(node)
    }

    fn tasks_of(&self, node: &str) -> Vec<u32> {
        self.run.tasks_of(node)
    }

    fn is_finished(&self) -> bool {
        self.run.is_finished()
    }

    fn stop(
        mut self: Box<Self>,
        _mode: StopMode,
        _interrupt: &AtomicBool,
    ) -> (MetricsSnapshot, Vec<LogLine>) {
        self.run.flush();
        let snap = self.snapshot();
        (snap, self.drain_log())
    }
}
