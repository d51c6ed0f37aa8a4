//! The live run: starts the runtime on the current design, keeps the latest metrics
//! snapshot (and a short history for sparklines), and turns it into canvas overlays.
//!
//! The UI never touches running tasks: it sends `Control` messages and reads snapshots,
//! which are cheap, so the window stays responsive while the engine saturates the CPU.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use super::app::DesignerApp;
use super::canvas::overlay::{LostState, NodeStats, RunOverlay};
use super::flume_panel;
use super::problems_panel::BottomTab;
use super::run_log::LogBook;
use super::speed::Speed;
use crate::design::reach::{self, Gate};
use crate::model::Topology;
use crate::policy::Refusal;
use crate::runtime::lab::RunningEngine;
use crate::runtime::{
    Control, Engine, FaultSpec, MetricsSnapshot, NodeMetrics, RunOptions, StopMode,
};
use crate::validate;

/// How often the UI samples the engine.
const SAMPLE_EVERY: Duration = Duration::from_millis(100);
/// Seconds of rate history kept per node for the sparkline.
const HISTORY_SECS: f64 = 60.0;

/// What a run drives: the threaded engine, or a lab stepped from the UI thread.
enum Driver {
    Threads(Engine),
    Lab(Box<super::lab::LabSession>),
}

impl Driver {
    fn snapshot(&self) -> MetricsSnapshot {
        match self {
            Driver::Threads(e) => e.snapshot(),
            Driver::Lab(lab) => lab.engine.snapshot(),
        }
    }

    fn drain_log(&self) -> Vec<crate::runtime::LogLine> {
        match self {
            Driver::Threads(e) => e.drain_log(),
            Driver::Lab(lab) => lab.engine.drain_log(),
        }
    }

    fn is_finished(&self) -> bool {
        match self {
            Driver::Threads(e) => e.is_finished(),
            Driver::Lab(lab) => lab.engine.is_finished(),
        }
    }
}

/// A run in progress (or finished but not yet stopped, so its numbers stay visible).
/// A lab run is one too, so the canvas overlays, the live inspector and the run log
/// read it as they read a threaded run.
pub struct RunSession {
    engine: Option<Driver>,
    /// The lab step the snapshot was taken at (lab runs sample when they move).
    sampled_step: Option<u64>,
    paused: bool,
    pub(super) last: MetricsSnapshot,
    last_sample: Option<Instant>,
    /// Node → (seconds since start, tuples/s).
    pub(super) history: BTreeMap<String, VecDeque<[f64; 2]>>,
    /// Fault and rate settings as the user set them in the inspector.
    pub(super) faults: BTreeMap<String, FaultSpec>,
    /// Fault settings as last sent to the engine (a drag is sent when it ends).
    pub(super) applied_faults: BTreeMap<String, FaultSpec>,
    pub(super) rates: BTreeMap<String, Option<f64>>,
    /// The worker the Kill worker control points at.
    pub(super) kill_target: u32,
    /// Tracer bullets: one tree in this many traced (0: off), as last sent.
    pub(super) trace_every: u32,
    /// The traced tree the canvas draws (its root); `None`: the latest.
    pub(super) traced: Option<u64>,
    /// The toolbar's cap on every spout.
    pub(super) speed: Speed,
    finished: bool,
    /// The design's scenario, played by a threaded run as its time comes.
    scenario: crate::runtime::ScenarioPlayer,
}

/// A run waiting for the user to allow what it reaches outside its folder.
#[derive(Debug, Clone, PartialEq)]
pub struct RunPermission {
    /// What the run would touch beyond its folder and loopback.
    pub refusals: Vec<Refusal>,
    /// Set when the permission is for Compare modes rather than Run.
    pub compare: Option<super::compare::CompareSetup>,
    /// Set when the permission is for the Lab button rather than Run.
    pub lab: bool,
}

impl RunSession {
    fn new(engine: Driver) -> Self {
        let last = engine.snapshot();
        Self {
            engine: Some(engine),
            sampled_step: None,
            paused: false,
            last,
            last_sample: None,
            history: BTreeMap::new(),
            faults: BTreeMap::new(),
            applied_faults: BTreeMap::new(),
            rates: BTreeMap::new(),
            kill_target: 0,
            trace_every: 0,
            traced: None,
            speed: Speed::default(),
            finished: false,
            scenario: Default::default(),
        }
    }

    pub fn is_paused(&self) -> bool {
        self.paused
    }

    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// The traced tree the canvas draws: the one picked in the inspector while it is
    /// still kept, else the latest.
    pub(super) fn shown_trace(&self) -> Option<&crate::runtime::TracedTree> {
        let traces = &self.last.traces;
        self.traced
            .and_then(|root| traces.iter().find(|t| t.root == root))
            .or_else(|| traces.last())
    }

    /// The latest numbers, as the canvas draws them.
    pub fn overlay(&self) -> RunOverlay {
        let state = if let Some(lab) = self.lab() {
            format!("lab · step {}", lab.engine.steps())
        } else if self.finished {
            "finished".to_string()
        } else if self.paused {
            "paused".to_string()
        } else {
            "running".to_string()
        };
        let mut overlay = overlay_of(&self.last, state);
        overlay.trace = self
            .shown_trace()
            .map(super::canvas::trace_path::TracePath::of);
        overlay
    }

    /// The overlay with, in a micro-batch run, each window operator's span and latest
    /// results under its node.
    pub fn overlay_on(&self, t: &Topology) -> RunOverlay {
        let mut overlay = self.overlay();
        for (name, stats) in &mut overlay.nodes {
            if let Some(m) = self.last.nodes.get(name) {
                stats.stalled = stall_text(m, t.settings.max_spout_pending);
                stats.lost_state = lost_state(t, name, m);
                stats.placement = placement_note(t, name, m, self.last.cluster.as_ref());
            }
        }
        if let Some(b) = &self.last.batch {
            for (name, badge) in super::batch_panel::window_badges(b, t) {
                if let Some(stats) = overlay.nodes.get_mut(&name) {
                    stats.window = Some(badge);
                }
            }
        }
        overlay
    }

    /// The latest snapshot (for tests and embedding programs).
    pub fn snapshot(&self) -> &MetricsSnapshot {
        &self.last
    }

    /// The points the live inspector's sparkline draws for `node`: (seconds since the
    /// start, tuples/s), oldest first. Read by tests to check what the sparkline shows.
    pub fn rate_history(&self, node: &str) -> Vec<[f64; 2]> {
        self.history
            .get(node)
            .map(|h| h.iter().copied().collect())
            .unwrap_or_default()
    }

    /// Samples the engine (at most every 100 ms) and moves its log into `log`.
    pub fn poll(&mut self, log: &mut LogBook) {
        let Some(engine) = &self.engine else {
            return;
        };
        match engine {
            Driver::Threads(_) => {
                if self.last_sample.is_some_and(|t| t.elapsed() < SAMPLE_EVERY) {
                    return;
                }
            }
            // A lab moves only when stepped: its numbers change with its step.
            Driver::Lab(lab) => {
                if self.sampled_step == Some(lab.engine.steps()) {
                    return;
                }
                self.sampled_step = Some(lab.engine.steps());
            }
        }
        self.last_sample = Some(Instant::now());
        self.last = engine.snapshot();
        let t = self.last.elapsed.as_secs_f64();
        for (name, m) in &self.last.nodes {
            let emits = m.role == "spout" || m.role == "source";
            let rate = if emits { m.emit_rate } else { m.execute_rate };
            let h = self.history.entry(name.clone()).or_default();
            h.push_back([t, rate]);
            while h.front().is_some_and(|p| t - p[0] > HISTORY_SECS) {
                h.pop_front();
            }
        }
        if let Driver::Threads(threads) = engine {
            for (said, controls) in self.scenario.due(self.last.elapsed) {
                log.push(format!("scenario: {said}"));
                for control in controls {
                    // The inspector's sliders show what the scenario set.
                    if let Control::SetFaults { node, faults } = &control {
                        self.faults.insert(node.clone(), *faults);
                        self.applied_faults.insert(node.clone(), *faults);
                    }
                    threads.control(control);
                }
            }
        }
        for line in engine.drain_log() {
            log.push_run_line(line);
        }
        if !self.finished && engine.is_finished() {
            self.finished = true;
            log.push("run finished: every spout is done and every tuple is acked or failed");
        }
    }

    /// Sends a control message to a threaded run; a lab takes it at its next step
    /// (the inspector's knobs use [`Self::send`], which a lab takes at once).
    pub fn control(&self, command: Control) {
        match &self.engine {
            Some(Driver::Threads(engine)) => engine.control(command),
            Some(Driver::Lab(lab)) => RunningEngine::control(&lab.engine, command),
            None => {}
        }
    }

    /// The one place the inspector's knobs (faults, rates, kill worker) reach the run:
    /// a lab takes the command now, as a step of its own, so its event shows at once.
    pub(super) fn send(&mut self, command: Control) {
        match &mut self.engine {
            Some(Driver::Lab(lab)) => {
                lab.engine.act(command);
            }
            _ => self.control(command),
        }
    }

    /// The lab, when this run is one.
    pub fn lab(&self) -> Option<&super::lab::LabSession> {
        match &self.engine {
            Some(Driver::Lab(lab)) => Some(lab),
            _ => None,
        }
    }

    /// The lab, to step it, when this run is one.
    pub fn lab_mut(&mut self) -> Option<&mut super::lab::LabSession> {
        match &mut self.engine {
            Some(Driver::Lab(lab)) => Some(lab),
            _ => None,
        }
    }

    pub fn pause(&mut self) {
        self.control(Control::Pause);
        self.paused = true;
    }

    pub fn resume(&mut self) {
        self.control(Control::Resume);
        self.paused = false;
    }

    pub fn speed(&self) -> Speed {
        self.speed
    }

    /// Caps every spout of the run at `speed` (see [`super::speed`]) and says so in
    /// the log.
    pub fn set_speed(&mut self, t: &Topology, speed: Speed, log: &mut LogBook) {
        self.speed = speed;
        for command in super::speed::rate_commands(t, speed, &self.rates) {
            self.control(command);
        }
        log.push(speed.describe());
    }

    /// Stops every thread now (tuples in flight are dropped) and returns the final
    /// numbers. Immediate, so the window never waits for a drain.
    pub fn stop(mut self) -> Option<MetricsSnapshot> {
        self.engine.take().map(|e| match e {
            Driver::Threads(e) => e.stop(StopMode::Immediate),
            Driver::Lab(lab) => {
                let never = std::sync::atomic::AtomicBool::new(false);
                Box::new(lab.engine).stop(StopMode::Immediate, &never).0
            }
        })
    }
}

impl DesignerApp {
    /// Run: refused with the problems listed if invalid; asks first if the topology
    /// reaches outside its folder or loopback.
    pub(super) fn start_run(&mut self, _ctx: &egui::Context) {
        self.start_run_as(false);
    }

    /// Run or Lab: the same checks and permission prompt; `lab` picks the engine.
    pub(super) fn start_run_as(&mut self, lab: bool) {
        if self.run.is_some() || self.comparing() {
            return;
        }
        if self.doc.topology.node_count() == 0 {
            self.notify_error("Nothing to run yet: drag a spout or source from the palette");
            return;
        }
        let diagnostics = validate::validate(&self.doc.topology);
        if !validate::is_runnable(&diagnostics) {
            let errors = diagnostics.iter().filter(|d| d.is_error()).count();
            self.bottom_tab = BottomTab::Problems;
            self.notify_error(format!(
                "Cannot run: {errors} problem(s) to fix first (see Problems)"
            ));
            return;
        }
        match reach::gate(
            &self.doc.topology,
            &self.doc.base_dir(),
            self.doc.path.as_deref(),
        ) {
            Gate::Open if lab => self.launch_lab(&[]),
            Gate::Open => self.launch(&[]),
            Gate::Ask(refusals) if self.remembered_exec(&refusals) => {
                if lab {
                    self.launch_lab(&refusals);
                } else {
                    self.launch(&refusals);
                }
            }
            Gate::Ask(refusals) => {
                self.run_permission = Some(RunPermission {
                    refusals,
                    compare: None,
                    lab,
                });
            }
            Gate::Blocked(why) => self.notify_error(format!("Cannot run: {why}")),
        }
    }

    /// Have all of `refusals` (programs) been allowed for the open design already?
    pub(super) fn remembered_exec(&self, refusals: &[Refusal]) -> bool {
        reach::all_remembered(
            refusals,
            &self.exec_consent,
            self.doc.path.as_deref(),
            &self.doc.base_dir(),
        )
    }

    /// Remembers the programs among `consented` for the open design, if it is saved.
    pub(super) fn remember_exec(&mut self, consented: &[Refusal]) {
        let base_dir = self.doc.base_dir();
        for c in reach::to_remember(consented, self.doc.path.as_deref(), &base_dir) {
            if !self.exec_consent.contains(&c) {
                self.exec_consent.push(c);
            }
        }
    }

    /// Starts the engine, with what the user allowed in the permission prompt.
    pub(super) fn launch(&mut self, consented: &[Refusal]) {
        // The scenario's faults at 0 s are in force before the first tuple.
        let mut scenario = crate::runtime::ScenarioPlayer::new(&self.doc.topology, []);
        let mut options = self.run_options(consented);
        let initial = scenario.apply_initial(&mut options);
        let faults = options.faults.clone();
        match Engine::start(&self.doc.topology, options) {
            Ok(engine) => {
                self.log.clear();
                self.log
                    .push(format!("run started: {}", self.doc.topology.name));
                for said in initial {
                    self.log.push(format!("scenario: {said}"));
                }
                let mut session = RunSession::new(Driver::Threads(engine));
                session.scenario = scenario;
                session.faults = faults.clone();
                session.applied_faults = faults;
                self.run = Some(session);
                self.bottom_tab = BottomTab::Log;
                self.notify("Running. Editing is locked until you stop.");
            }
            Err(e) => self.notify_error(format!("Cannot run: {e}")),
        }
    }

    /// The options every run of the designer starts with (Run and Lab alike): a fixed
    /// seed, the design's folder, and what the user allowed in the permission prompt.
    pub(super) fn run_options(&self, consented: &[Refusal]) -> RunOptions {
        reach::with_consent(
            RunOptions {
                seed: 42,
                base_dir: self.doc.base_dir(),
                topology_file: self.doc.path.clone(),
                ..RunOptions::default()
            },
            consented,
        )
    }

    /// Starts a lab on the design at step 0, with what the user allowed.
    pub(super) fn launch_lab(&mut self, consented: &[Refusal]) {
        let options = self.run_options(consented);
        match super::lab::LabSession::start(&self.doc.topology, options) {
            Ok(lab) => {
                self.log.clear();
                self.log
                    .push(format!("lab started: {}", self.doc.topology.name));
                self.run = Some(RunSession::new(Driver::Lab(Box::new(lab))));
                self.bottom_tab = BottomTab::Log;
                self.notify("Lab mode: step with Space, go back with Backspace. Editing is locked until you stop.");
            }
            Err(e) => self.notify_error(format!("Cannot start the lab: {e}")),
        }
    }

    /// Stops the run, or the comparison, whichever is on.
    pub(super) fn stop_run(&mut self) {
        self.stop_compare();
        let lab_step = self
            .run
            .as_ref()
            .and_then(|r| r.lab())
            .map(|l| l.engine.steps());
        if let Some(run) = self.run.take()
            && let Some(last) = run.stop()
        {
            let tuples: u64 = last.nodes.values().map(|m| m.executed).sum();
            if let Some(step) = lab_step {
                self.log.push(format!(
                    "lab stopped at step {step}; {tuples} tuples executed"
                ));
                self.notify("Lab stopped");
            } else {
                self.log.push(format!(
                    "run stopped after {:.1}s; {tuples} tuples executed",
                    last.elapsed.as_secs_f64()
                ));
                self.notify("Run stopped");
            }
        }
    }
}

/// Nodes whose rate can be limited (spouts and sources).
pub fn is_emitter(t: &Topology, name: &str) -> bool {
    t.node_by_name(name)
        .is_some_and(|n| !n.role.accepts_input())
}

/// A spout whose tasks all wait at max spout pending and that has stopped emitting, in
/// words: it emits nothing until acks, fails or timeouts free a slot. `None` for other
/// nodes, for spouts with room, and for a spout at the limit that still emits as acks
/// return (a fast spout lives at its limit; that is flow control, not a stall).
pub fn stall_text(m: &NodeMetrics, max_spout_pending: Option<u32>) -> Option<String> {
    let max = u64::from(max_spout_pending?.max(1));
    if m.role != "spout" || m.tasks.is_empty() || m.done {
        return None;
    }
    /// Below one tuple a second, a spout at its limit is waiting, not flowing.
    const STILL: f64 = 1.0;
    let stalled = m.emit_rate < STILL && m.tasks.iter().all(|task| task.pending >= max);
    stalled.then(|| {
        let limit = max * m.tasks.len() as u64;
        format!(
            "{}/{limit} pending — waiting for acks or timeouts",
            m.pending
        )
    })
}

/// What a restart of `name` lost, if its component keeps state in its tasks (the
/// registry says which) and a task of it restarted; the time is the engine's.
fn lost_state(t: &Topology, name: &str, m: &NodeMetrics) -> Option<LostState> {
    let component = &t.node_by_name(name)?.component;
    // Under exactly-once a committer's state lives beside the coordinator, not in its
    // tasks: a restart loses nothing of it.
    let exactly_once = t.settings.guarantee == crate::model::Guarantee::ExactlyOnce
        && matches!(t.settings.mode, crate::model::ExecutionMode::RecordAtATime);
    if exactly_once && crate::components::exactly_once::is_committer(component) {
        return None;
    }
    let what = crate::components::descriptor(component)?.task_state?;
    Some(LostState {
        what,
        at: m.last_restart?,
    })
}

/// Where a node's executors run, for the note under it: how many there are when a
/// rebalance changed them from the design's, and on a cluster the machines they are on.
fn placement_note(
    t: &Topology,
    name: &str,
    m: &NodeMetrics,
    cluster: Option<&crate::runtime::cluster::ClusterView>,
) -> Option<String> {
    let mut parts = Vec::new();
    let executors = m.workers.len();
    // As the plan deals them: never more executors than tasks.
    let designed = t.node_by_name(name).map_or(0, |n| {
        n.parallelism.max(1).min(n.task_count().max(1)) as usize
    });
    if executors > 0 && executors != designed {
        parts.push(format!("{executors} executors now"));
    }
    if t.settings.cluster.is_some()
        && let Some(place) = cluster.and_then(|c| c.where_text(&m.workers))
    {
        parts.push(place);
    }
    (!parts.is_empty()).then(|| parts.join(" · "))
}

/// A snapshot's numbers as the canvas draws them (a run's, or a lesson's), with `state`
/// shown as the run's state.
pub fn overlay_of(last: &MetricsSnapshot, state: String) -> RunOverlay {
    let now_ms = flume_panel::now_ms();
    let nodes = last
        .nodes
        .iter()
        .map(|(name, m)| {
            let emits = m.role == "spout" || m.role == "source";
            let stats = NodeStats {
                rate: if emits { m.emit_rate } else { m.execute_rate },
                acked: m.acked,
                failed: m.failed,
                queue_fill: (m.queue_capacity > 0)
                    .then(|| m.queue_depth as f32 / m.queue_capacity as f32),
                restarts: m.restarts,
                replayed: m.replayed,
                lost_state: None,
                stalled: None,
                window: None,
                placement: None,
                flume: m
                    .flume
                    .as_ref()
                    .map(|f| flume_panel::flume_stats(f, now_ms)),
            };
            (name.clone(), stats)
        })
        .collect();
    let edges = last
        .edges
        .iter()
        .map(|e| ((e.from.clone(), e.to.clone(), e.stream.clone()), e.rate))
        .collect();
    RunOverlay {
        nodes,
        edges,
        pairs: last
            .edges
            .iter()
            .map(|e| {
                let pairs = e
                    .pairs
                    .as_ref()
                    .map(|p| p.iter().map(|p| (p.from, p.to, p.tuples)).collect());
                ((e.from.clone(), e.to.clone(), e.stream.clone()), pairs)
            })
            .collect(),
        state,
        trace: None,
    }
}

impl DesignerApp {
    /// Runs a shell node's program once on `sample`, on a thread of its own: the
    /// inspector polls for the result (a slow or silent program never blocks a frame).
    pub(super) fn try_shell(
        &mut self,
        node: String,
        command: Vec<String>,
        spout: bool,
        sample: String,
    ) {
        let (tx, rx) = std::sync::mpsc::channel();
        let base_dir = self.doc.base_dir();
        let spawned = std::thread::Builder::new()
            .name("try-shell".into())
            .spawn(move || {
                let tried =
                    crate::runtime::components::try_once(&crate::runtime::components::TryRequest {
                        node: &node,
                        command: &command,
                        base_dir: &base_dir,
                        spout,
                        sample: &sample,
                        timeout: std::time::Duration::from_secs(10),
                    });
                let _ = tx.send(tried);
            });
        match spawned {
            Ok(_) => {
                if let Some(t) = &mut self.inspector.shell_try {
                    t.running = Some(rx);
                    t.result = None;
                }
            }
            Err(e) => self.notify_error(format!("Cannot start the try: {e}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::TaskMetrics;

    #[test]
    fn a_spout_at_max_spout_pending_says_it_waits() {
        let task = |pending| TaskMetrics {
            pending,
            ..TaskMetrics::default()
        };
        let mut m = NodeMetrics {
            role: "spout".into(),
            pending: 1000,
            tasks: vec![task(1000)],
            ..NodeMetrics::default()
        };
        assert_eq!(
            stall_text(&m, Some(1000)).as_deref(),
            Some("1000/1000 pending — waiting for acks or timeouts")
        );
        assert_eq!(stall_text(&m, None), None, "no limit, no stall");
        m.emit_rate = 20_000.0;
        assert_eq!(stall_text(&m, Some(1000)), None, "at its limit but flowing");
        m.emit_rate = 0.0;
        m.tasks = vec![task(1000), task(3)];
        assert_eq!(stall_text(&m, Some(1000)), None, "one task still has room");
        m.tasks = vec![task(999)];
        assert_eq!(stall_text(&m, Some(1000)), None);
        m.role = "bolt".into();
        m.tasks = vec![task(1000)];
        assert_eq!(stall_text(&m, Some(1000)), None);
    }
}
