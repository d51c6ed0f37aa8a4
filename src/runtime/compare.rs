//! The seed's central comparison: one design run record-at-a-time and micro-batch at
//! the same time (two engines, same seed, same input rate), reduced to throughput and
//! end-to-end latency percentiles per mode.

use std::time::Duration;

use serde::Serialize;

use crate::model::{ExecutionMode, Topology};

use super::control::{Control, StopMode};
use super::engine::Engine;
use super::error::RunError;
use super::metrics::{MetricsSnapshot, as_millis};
use super::options::RunOptions;

/// One mode's figures in a comparison.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct ModeFigures {
    /// `record-at-a-time` or `micro-batch`.
    pub mode: String,
    pub interval_ms: Option<u64>,
    #[serde(serialize_with = "as_millis")]
    pub elapsed: Duration,
    /// Input records whose processing completed (spout trees acked; records of
    /// completed batches).
    pub records: u64,
    /// `records` per second of the run.
    pub throughput_per_sec: f64,
    #[serde(serialize_with = "as_millis")]
    pub end_to_end_latency_p50: Duration,
    #[serde(serialize_with = "as_millis")]
    pub end_to_end_latency_p99: Duration,
    /// Micro-batch only: batches run, and whether the jobs fell behind the clock.
    pub batches: Option<u64>,
    pub falling_behind: Option<bool>,
}

impl ModeFigures {
    /// Reads the figures from a snapshot of either mode.
    pub fn from_snapshot(s: &MetricsSnapshot) -> Self {
        let records: u64 = s
            .nodes
            .values()
            .filter(|n| n.role == "spout" || n.role == "source")
            .map(|n| n.acked)
            .sum();
        let secs = s.elapsed.as_secs_f64();
        Self {
            mode: if s.batch.is_some() {
                "micro-batch".into()
            } else {
                "record-at-a-time".into()
            },
            interval_ms: s.batch.as_ref().map(|b| b.interval.as_millis() as u64),
            elapsed: s.elapsed,
            records,
            throughput_per_sec: if secs > 0.0 {
                records as f64 / secs
            } else {
                0.0
            },
            end_to_end_latency_p50: s.end_to_end_latency_p50,
            end_to_end_latency_p99: s.end_to_end_latency_p99,
            batches: s.batch.as_ref().map(|b| b.batches_completed),
            falling_behind: s.batch.as_ref().map(|b| b.falling_behind),
        }
    }
}

/// Both modes' figures and their ratios (micro-batch over record-at-a-time).
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Comparison {
    pub record_at_a_time: ModeFigures,
    pub micro_batch: ModeFigures,
    /// Micro-batch p50 latency ÷ record-at-a-time p50 latency (`None` when the latter
    /// is zero, e.g. acking off).
    pub latency_ratio_p50: Option<f64>,
    pub latency_ratio_p99: Option<f64>,
    /// Micro-batch throughput ÷ record-at-a-time throughput.
    pub throughput_ratio: Option<f64>,
}

fn ratio(a: f64, b: f64) -> Option<f64> {
    (b > 0.0).then(|| a / b)
}

impl Comparison {
    pub fn new(record: &MetricsSnapshot, batch: &MetricsSnapshot) -> Self {
        let r = ModeFigures::from_snapshot(record);
        let b = ModeFigures::from_snapshot(batch);
        Self {
            latency_ratio_p50: ratio(
                b.end_to_end_latency_p50.as_secs_f64(),
                r.end_to_end_latency_p50.as_secs_f64(),
            ),
            latency_ratio_p99: ratio(
                b.end_to_end_latency_p99.as_secs_f64(),
                r.end_to_end_latency_p99.as_secs_f64(),
            ),
            throughput_ratio: ratio(b.throughput_per_sec, r.throughput_per_sec),
            record_at_a_time: r,
            micro_batch: b,
        }
    }
}

/// The same design running in both modes at once.
pub struct SideBySide {
    pub record: Engine,
    pub batch: Engine,
}

/// `topology` with another execution mode. The record-at-a-time copy keeps at least one
/// acker: without acking a spout never learns when a record is done, so there would be
/// no end-to-end latency to compare.
fn in_mode(topology: &Topology, mode: ExecutionMode) -> Topology {
    let mut t = topology.clone();
    t.settings.mode = mode;
    if mode == ExecutionMode::RecordAtATime {
        t.settings.ackers = t.settings.ackers.max(1);
    }
    t
}

/// Why `topology` cannot be compared at `interval_ms`, in words naming the mode and
/// the node: the first error either copy has (a Flume node in micro-batch mode, a
/// micro-batch-only operator record at a time, a window the interval does not divide).
/// `None` when both copies can run. The designer's Compare button and the start of a
/// comparison both ask this.
pub fn refusal(topology: &Topology, interval_ms: u64) -> Option<String> {
    [
        ExecutionMode::RecordAtATime,
        ExecutionMode::MicroBatch { interval_ms },
    ]
    .into_iter()
    .find_map(|mode| {
        // Flume agents run once at a time: two copies would bind the same ports and read
        // the same spool folders.
        if let ExecutionMode::MicroBatch { interval_ms } = mode
            && let Some(n) = topology
                .nodes()
                .find(|n| n.role.system() == crate::model::System::Flume)
        {
            return Some(format!(
                "cannot run in {interval_ms} ms micro-batches beside a record-at-a-time copy: node '{}': a Flume node's agents run once at a time (both copies would read the same input)",
                n.name
            ));
        }
        let copy = in_mode(topology, mode);
        let diagnostics = crate::validate::validate(&copy);
        let error = diagnostics.into_iter().find(|d| d.is_error())?;
        let mode = match mode {
            ExecutionMode::RecordAtATime => "record at a time".to_string(),
            ExecutionMode::MicroBatch { interval_ms } => {
                format!("in {interval_ms} ms micro-batches")
            }
        };
        Some(format!(
            "cannot run {mode}: {}: {}",
            error.location, error.message
        ))
    })
}

impl SideBySide {
    /// Starts both engines with the same options (seed included). `rate_per_sec`, when
    /// given, caps every spout task in both runs (an unthrottled spout measures how fast
    /// each engine can go, not latency at a given load).
    pub fn start(
        topology: &Topology,
        options: RunOptions,
        interval_ms: u64,
        rate_per_sec: Option<f64>,
    ) -> Result<Self, RunError> {
        let record = Engine::start(
            &in_mode(topology, ExecutionMode::RecordAtATime),
            options.clone(),
        )?;
        let batch = Engine::start(
            &in_mode(topology, ExecutionMode::MicroBatch { interval_ms }),
            options,
        )?;
        if let Some(rate) = rate_per_sec {
            for node in topology.nodes().filter(|n| !n.role.accepts_input()) {
                for engine in [&record, &batch] {
                    engine.control(Control::SetRate {
                        node: node.name.clone(),
                        per_sec: Some(rate),
                    });
                }
            }
        }
        Ok(Self { record, batch })
    }

    /// Figures so far (for a live view).
    pub fn comparison(&self) -> Comparison {
        Comparison::new(&self.record.snapshot(), &self.batch.snapshot())
    }

    /// Stops both at once (nothing drained, so neither mode gets a flattering tail) and
    /// returns the final figures with both final snapshots.
    pub fn stop(self) -> (Comparison, MetricsSnapshot, MetricsSnapshot) {
        let record = self.record.stop(StopMode::Immediate);
        let batch = self.batch.stop(StopMode::Immediate);
        (Comparison::new(&record, &batch), record, batch)
    }
}

/// Runs `topology` in both modes for `run_for` and returns the comparison.
pub fn compare(
    topology: &Topology,
    options: RunOptions,
    interval_ms: u64,
    rate_per_sec: Option<f64>,
    run_for: Duration,
) -> Result<Comparison, RunError> {
    let pair = SideBySide::start(topology, options, interval_ms, rate_per_sec)?;
    std::thread::sleep(run_for);
    Ok(pair.stop().0)
}

#[cfg(test)]
mod refusal_tests {
    use super::*;

    fn example(file: &str) -> Topology {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("topologies")
            .join(file);
        match crate::format::load_ron(&path) {
            Ok(t) => t,
            Err(e) => panic!("{file}: {e}"),
        }
    }

    #[test]
    fn a_design_either_mode_refuses_cannot_be_compared_and_says_why() {
        assert_eq!(refusal(&example("word_count.ron"), 500), None);
        let flume = refusal(&example("flume_fanout_failover.ron"), 500).unwrap_or_default();
        assert!(
            flume.starts_with("cannot run in 500 ms micro-batches") && flume.contains("Flume"),
            "{flume}"
        );
        let join = refusal(&example("spark_join_clicks.ron"), 500).unwrap_or_default();
        assert!(join.starts_with("cannot run record at a time: "), "{join}");
    }
}
