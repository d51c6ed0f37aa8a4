//! Compare mode: the current design running record-at-a-time and in micro-batches at
//! the same time ([`SideBySide`]), sampled like a normal run into two series of
//! throughput and end-to-end latency that the comparison panel draws.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::app::DesignerApp;
use super::canvas::overlay::rate_text;
use super::problems_panel::BottomTab;
use super::run::RunPermission;
use crate::design::reach::{self, Gate};
use crate::model::{ExecutionMode, Topology};
use crate::policy::Refusal;
use crate::runtime::{Comparison, MetricsSnapshot, ModeFigures, RunOptions, SideBySide};
use crate::validate;

/// Interval offered for the micro-batch side when the design is record-at-a-time.
pub const DEFAULT_INTERVAL_MS: u64 = 500;
/// Input rate per spout task offered by default: an unthrottled spout measures how fast
/// each engine can go, not the latency at a given load.
pub const DEFAULT_RATE: f64 = 2000.0;
const SAMPLE_EVERY: Duration = Duration::from_millis(100);
/// Seconds of history kept for the panel's charts.
const HISTORY_SECS: f64 = 120.0;

/// Rates over several batches, so micro-batch bursts read as a steady rate.
fn rate_window(interval_ms: u64) -> Duration {
    (Duration::from_millis(interval_ms) * 4).max(Duration::from_secs(1))
}

/// What the user chose before starting a comparison.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CompareSetup {
    /// Interval of the micro-batch side.
    pub interval_ms: u64,
    /// Cap per spout task in both runs; `None` = as the design says.
    pub rate_per_sec: Option<f64>,
}

impl CompareSetup {
    /// The design's own interval if it is micro-batch, else a default.
    pub fn for_topology(t: &Topology) -> Self {
        let interval_ms = match t.settings.mode {
            ExecutionMode::MicroBatch { interval_ms } => interval_ms,
            ExecutionMode::RecordAtATime => DEFAULT_INTERVAL_MS,
        };
        Self {
            interval_ms,
            rate_per_sec: Some(DEFAULT_RATE),
        }
    }
}

/// One mode's live numbers at a sample.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LivePoint {
    /// Seconds since the start.
    pub t: f64,
    /// Input records whose processing completed, per second over the last few batch
    /// intervals: the throughput both modes can be compared on.
    pub records_rate: f64,
    /// Tuples per second executed by the design's last nodes (those with no outgoing
    /// edge): what comes out of the pipeline.
    pub sink_rate: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

/// One mode's side of the comparison.
#[derive(Debug, Clone, Default)]
pub struct ModeSide {
    pub figures: ModeFigures,
    pub now: LivePoint,
    pub history: VecDeque<LivePoint>,
    /// (seconds, records done) over the last rate window.
    records: VecDeque<(f64, u64)>,
}

impl ModeSide {
    fn push(&mut self, snapshot: &MetricsSnapshot, sinks: &[String], window: Duration) {
        self.figures = ModeFigures::from_snapshot(snapshot);
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let t = snapshot.elapsed.as_secs_f64();
        self.records.push_back((t, self.figures.records));
        while self
            .records
            .get(1)
            .is_some_and(|(old, _)| t - old >= window.as_secs_f64())
        {
            self.records.pop_front();
        }
        let records_rate = match self.records.front() {
            Some(&(t0, r0)) if t > t0 => self.figures.records.saturating_sub(r0) as f64 / (t - t0),
            _ => 0.0,
        };
        let point = LivePoint {
            t,
            records_rate,
            sink_rate: sinks
                .iter()
                .filter_map(|s| snapshot.nodes.get(s))
                .map(|m| m.execute_rate)
                .sum(),
            p50_ms: ms(snapshot.end_to_end_latency_p50),
            p99_ms: ms(snapshot.end_to_end_latency_p99),
        };
        self.now = point;
        self.history.push_back(point);
        while self
            .history
            .front()
            .is_some_and(|p| point.t - p.t > HISTORY_SECS)
        {
            self.history.pop_front();
        }
    }

    /// The texts the panel shows for this side, in its column order.
    pub fn row(&self) -> ModeRow {
        let mode = match self.figures.interval_ms {
            Some(ms) => format!("{} ({ms} ms)", self.figures.mode),
            None => self.figures.mode.clone(),
        };
        let batches = match (self.figures.batches, self.figures.falling_behind) {
            (Some(n), Some(true)) => format!("{n}, falling behind"),
            (Some(n), _) => n.to_string(),
            (None, _) => "—".to_string(),
        };
        ModeRow {
            mode,
            records_rate: rate_text(self.now.records_rate),
            sink_rate: rate_text(self.now.sink_rate),
            p50: latency_text(self.now.p50_ms),
            p99: latency_text(self.now.p99_ms),
            records: super::canvas::overlay::count_text(self.figures.records),
            batches,
        }
    }
}

/// A latency in ms, precise enough to tell 0.3 ms from 3 ms.
pub fn latency_text(ms: f64) -> String {
    if ms >= 100.0 {
        format!("{ms:.0} ms")
    } else if ms >= 10.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.2} ms")
    }
}

/// One row of the comparison table, as shown.
#[derive(Debug, Clone, PartialEq)]
pub struct ModeRow {
    pub mode: String,
    /// Input records completed per second.
    pub records_rate: String,
    /// Tuples per second executed by the last nodes.
    pub sink_rate: String,
    pub p50: String,
    pub p99: String,
    pub records: String,
    pub batches: String,
}

/// A comparison: running, or stopped with its results kept until cleared (so they can
/// be read after Stop).
pub struct CompareSession {
    pair: Option<SideBySide>,
    pub setup: CompareSetup,
    pub record: ModeSide,
    pub batch: ModeSide,
    pub comparison: Comparison,
    sinks: Vec<String>,
    rate_window: Duration,
    last_sample: Option<Instant>,
}

impl CompareSession {
    fn new(pair: SideBySide, setup: CompareSetup, t: &Topology) -> Self {
        let sources: Vec<String> = t.edge_list().into_iter().map(|e| e.from).collect();
        let sinks = t
            .nodes()
            .filter(|n| n.role.accepts_input() && !sources.contains(&n.name))
            .map(|n| n.name.clone())
            .collect();
        let mut session = Self {
            pair: Some(pair),
            setup,
            record: ModeSide::default(),
            batch: ModeSide::default(),
            comparison: Comparison::default(),
            sinks,
            rate_window: rate_window(setup.interval_ms),
            last_sample: None,
        };
        session.poll();
        session
    }

    /// Samples both engines (at most every 100 ms). Their logs are dropped: two runs'
    /// lines would interleave into nonsense.
    pub fn poll(&mut self) {
        let Some(pair) = &self.pair else {
            return;
        };
        if self.last_sample.is_some_and(|t| t.elapsed() < SAMPLE_EVERY) {
            return;
        }
        self.last_sample = Some(Instant::now());
        let (record, batch) = (pair.record.snapshot(), pair.batch.snapshot());
        let _ = (pair.record.drain_log(), pair.batch.drain_log());
        self.record.push(&record, &self.sinks, self.rate_window);
        self.batch.push(&batch, &self.sinks, self.rate_window);
        self.comparison = Comparison::new(&record, &batch);
    }

    /// Both engines are still running.
    pub fn is_running(&self) -> bool {
        self.pair.is_some()
    }

    /// Stops both engines now (nothing drained) and returns the final figures; the
    /// series and the table stay. `None` when already stopped.
    pub fn stop(&mut self) -> Option<Comparison> {
        let final_figures = self.pair.take()?.stop().0;
        self.comparison = final_figures.clone();
        Some(final_figures)
    }
}

impl DesignerApp {
    /// A comparison is running (its results may stay on screen after it stops).
    pub fn comparing(&self) -> bool {
        self.compare
            .as_ref()
            .is_some_and(CompareSession::is_running)
    }

    /// Compare modes: refused if invalid; asks first, like Run, if the design reaches
    /// outside its folder or loopback.
    pub(super) fn start_compare(&mut self, setup: CompareSetup) {
        if self.run.is_some() || self.comparing() {
            return;
        }
        let diagnostics = validate::validate(&self.doc.topology);
        if !validate::is_runnable(&diagnostics) {
            self.bottom_tab = BottomTab::Problems;
            self.notify_error("Cannot compare: fix the problems first (see Problems)");
            return;
        }
        if let Some(why) = crate::runtime::compare::refusal(&self.doc.topology, setup.interval_ms) {
            self.notify_error(format!("Cannot compare: {why}"));
            return;
        }
        match reach::gate(
            &self.doc.topology,
            &self.doc.base_dir(),
            self.doc.path.as_deref(),
        ) {
            Gate::Open => self.launch_compare(setup, &[]),
            Gate::Ask(refusals) if self.remembered_exec(&refusals) => {
                self.launch_compare(setup, &refusals)
            }
            Gate::Ask(refusals) => {
                self.run_permission = Some(RunPermission {
                    refusals,
                    lab: false,
                    compare: Some(setup),
                });
            }
            Gate::Blocked(why) => self.notify_error(format!("Cannot compare: {why}")),
        }
    }

    pub(super) fn launch_compare(&mut self, setup: CompareSetup, consented: &[Refusal]) {
        let options = reach::with_consent(
            RunOptions {
                seed: 42,
                base_dir: self.doc.base_dir(),
                topology_file: self.doc.path.clone(),
                rate_window: rate_window(setup.interval_ms),
                ..RunOptions::default()
            },
            consented,
        );
        let t = &self.doc.topology;
        match SideBySide::start(t, options, setup.interval_ms.max(1), setup.rate_per_sec) {
            Ok(pair) => {
                self.log.push(format!(
                    "comparison started: {} record-at-a-time and in {} ms micro-batches",
                    t.name, setup.interval_ms
                ));
                self.compare = Some(CompareSession::new(pair, setup, t));
                self.notify("Comparing modes. Editing is locked until you stop.");
            }
            Err(e) => self.notify_error(format!("Cannot compare: {e}")),
        }
    }

    /// Stops a running comparison; its results stay in the panel until cleared.
    pub(super) fn stop_compare(&mut self) {
        if let Some(session) = &mut self.compare
            && let Some(c) = session.stop()
        {
            let show = |r: Option<f64>| r.map_or_else(|| "n/a".into(), |r| format!("{r:.1}×"));
            self.log.push(format!(
                "comparison stopped after {:.1}s; micro-batch ÷ record-at-a-time: latency p50 {}, p99 {}; throughput {}",
                c.micro_batch.elapsed.as_secs_f64(),
                show(c.latency_ratio_p50),
                show(c.latency_ratio_p99),
                show(c.throughput_ratio)
            ));
            self.notify("Comparison stopped; its results stay until you clear them");
        }
    }
}
