//! The live run: starts the runtime on the current design, keeps the latest metrics
//! snapshot (and a short history for sparklines), and turns it into canvas overlays.
//!
//! The UI never touches running tasks: it sends `Control` messages and reads snapshots,
//! which are cheap, so the window stays responsive while the engine saturates the CPU.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use super::app::DesignerApp;
use super::canvas::overlay::{NodeStats, RunOverlay};
use super::flume_panel;
use super::problems_panel::BottomTab;
use crate::design::reach::{self, Gate};
use crate::model::Topology;
use crate::policy::Refusal;
use crate::runtime::{Control, Engine, FaultSpec, LogKind, MetricsSnapshot, RunOptions, StopMode};
use crate::validate;

/// How often the UI samples the engine.
const SAMPLE_EVERY: Duration = Duration::from_millis(100);
/// Seconds of rate history kept per node for the sparkline.
const HISTORY_SECS: f64 = 60.0;
/// Run log lines kept in the bottom panel.
const LOG_LINES: usize = 2000;

/// A run in progress (or finished but not yet stopped, so its numbers stay visible).
pub struct RunSession {
    engine: Option<Engine>,
    paused: bool,
    pub(super) last: MetricsSnapshot,
    last_sample: Option<Instant>,
    /// Node → (seconds since start, tuples/s).
    pub(super) history: BTreeMap<String, VecDeque<[f64; 2]>>,
    /// Fault and rate settings as the user set them in the inspector.
    pub(super) faults: BTreeMap<String, FaultSpec>,
    pub(super) rates: BTreeMap<String, Option<f64>>,
    /// The worker the Kill worker control points at.
    pub(super) kill_target: u32,
    finished: bool,
}

/// A run waiting for the user to allow what it reaches outside its folder.
#[derive(Debug, Clone, PartialEq)]
pub struct RunPermission {
    /// What the run would touch beyond its folder and loopback.
    pub refusals: Vec<Refusal>,
    /// Set when the permission is for Compare modes rather than Run.
    pub compare: Option<super::compare::CompareSetup>,
}

impl RunSession {
    fn new(engine: Engine) -> Self {
        let last = engine.snapshot();
        Self {
            engine: Some(engine),
            paused: false,
            last,
            last_sample: None,
            history: BTreeMap::new(),
            faults: BTreeMap::new(),
            rates: BTreeMap::new(),
            kill_target: 0,
            finished: false,
        }
    }

    pub fn is_paused(&self) -> bool {
        self.paused
    }

    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// The latest numbers, as the canvas draws them.
    pub fn overlay(&self) -> RunOverlay {
        let now_ms = flume_panel::now_ms();
        let nodes = self
            .last
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
                    window: None,
                    flume: m
                        .flume
                        .as_ref()
                        .map(|f| flume_panel::flume_stats(f, now_ms)),
                };
                (name.clone(), stats)
            })
            .collect();
        let edges = self
            .last
            .edges
            .iter()
            .map(|e| ((e.from.clone(), e.to.clone(), e.stream.clone()), e.rate))
            .collect();
        let state = if self.finished {
            "finished"
        } else if self.paused {
            "paused"
        } else {
            "running"
        };
        RunOverlay {
            nodes,
            edges,
            state: state.to_string(),
        }
    }

    /// The overlay with, in a micro-batch run, each window operator's span and latest
    /// results under its node.
    pub fn overlay_on(&self, t: &Topology) -> RunOverlay {
        let mut overlay = self.overlay();
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

    /// Samples the engine (at most every 100 ms) and moves its log into `log`.
    pub fn poll(&mut self, log: &mut Vec<String>) {
        let Some(engine) = &self.engine else {
            return;
        };
        if self.last_sample.is_some_and(|t| t.elapsed() < SAMPLE_EVERY) {
            return;
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
        for line in engine.drain_log() {
            let kind = match line.kind {
                LogKind::Tuple => "",
                LogKind::Event => "event: ",
                LogKind::Error => "error: ",
            };
            log.push(format!(
                "{:>8.3}s {}[{}] {kind}{}",
                line.at.as_secs_f64(),
                line.node,
                line.task,
                line.text
            ));
        }
        trim_log(log, LOG_LINES);
        if !self.finished && engine.is_finished() {
            self.finished = true;
            log.push("run finished: every spout is done and every tuple is acked or failed".into());
        }
    }

    pub fn control(&self, command: Control) {
        if let Some(engine) = &self.engine {
            engine.control(command);
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

    /// Stops every thread now (tuples in flight are dropped) and returns the final
    /// numbers. Immediate, so the window never waits for a drain.
    pub fn stop(mut self) -> Option<MetricsSnapshot> {
        self.engine.take().map(|e| e.stop(StopMode::Immediate))
    }
}

impl DesignerApp {
    /// Run: refused with the problems listed if invalid; asks first if the topology
    /// reaches outside its folder or loopback.
    pub(super) fn start_run(&mut self, _ctx: &egui::Context) {
        if self.run.is_some() || self.comparing() {
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
            Gate::Open => self.launch(&[]),
            Gate::Ask(refusals) => {
                self.run_permission = Some(RunPermission {
                    refusals,
                    compare: None,
                });
            }
            Gate::Blocked(why) => self.notify_error(format!("Cannot run: {why}")),
        }
    }

    /// Starts the engine, with what the user allowed in the permission prompt.
    pub(super) fn launch(&mut self, consented: &[Refusal]) {
        let options = reach::with_consent(
            RunOptions {
                seed: 42,
                base_dir: self.doc.base_dir(),
                topology_file: self.doc.path.clone(),
                ..RunOptions::default()
            },
            consented,
        );
        match Engine::start(&self.doc.topology, options) {
            Ok(engine) => {
                self.log.clear();
                self.log
                    .push(format!("run started: {}", self.doc.topology.name));
                self.run = Some(RunSession::new(engine));
                self.bottom_tab = BottomTab::Log;
                self.notify("Running. Editing is locked until you stop.");
            }
            Err(e) => self.notify_error(format!("Cannot run: {e}")),
        }
    }

    /// Stops the run, or the comparison, whichever is on.
    pub(super) fn stop_run(&mut self) {
        self.stop_compare();
        if let Some(run) = self.run.take()
            && let Some(last) = run.stop()
        {
            let tuples: u64 = last.nodes.values().map(|m| m.executed).sum();
            self.log.push(format!(
                "run stopped after {:.1}s; {tuples} tuples executed",
                last.elapsed.as_secs_f64()
            ));
            self.notify("Run stopped");
        }
    }
}

/// Nodes whose rate can be limited (spouts and sources).
pub fn is_emitter(t: &Topology, name: &str) -> bool {
    t.node_by_name(name)
        .is_some_and(|n| !n.role.accepts_input())
}

/// Marks the lines that tell what happened to the run (a crash, a restart, a killed
/// worker, an error) as opposed to what a logger component printed.
fn is_notice(line: &str) -> bool {
    line.contains("] event: ") || line.contains("] error: ")
}

/// Cuts `log` to `keep` lines, dropping the oldest logger lines first: a logger printing
/// thousands of lines a second must not push a restart or a killed worker out of the
/// log before anyone could read it. Notices go too, oldest first, only if there are
/// more of them than `keep`.
fn trim_log(log: &mut Vec<String>, keep: usize) {
    let Some(mut excess) = log.len().checked_sub(keep).filter(|&e| e > 0) else {
        return;
    };
    log.retain(|line| {
        if excess > 0 && !is_notice(line) {
            excess -= 1;
            false
        } else {
            true
        }
    });
    if log.len() > keep {
        let more = log.len() - keep;
        log.drain(..more);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trimming_drops_logger_lines_before_notices() {
        let mut log: Vec<String> = vec!["   0.100s engine[0] event: worker 0 killed".into()];
        log.extend((0..10).map(|i| format!("   0.200s log[3] line {i}")));
        trim_log(&mut log, 4);
        assert_eq!(log.len(), 4);
        assert!(log[0].contains("worker 0 killed"));
        assert_eq!(log[3], "   0.200s log[3] line 9");
        assert!(log[1].ends_with("line 7"));

        let mut notices: Vec<String> = (0..5)
            .map(|i| format!("   0.100s engine[0] error: problem {i}"))
            .collect();
        trim_log(&mut notices, 3);
        assert_eq!(notices.len(), 3);
        assert!(notices[0].ends_with("problem 2"));

        let mut short = vec!["a".to_string()];
        trim_log(&mut short, 3);
        assert_eq!(short, vec!["a".to_string()]);
    }
}
