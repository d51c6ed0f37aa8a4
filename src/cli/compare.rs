//! `tributary run FILE --compare [--batch-ms N] [--rate N] [--for D] [--json PATH|-]`:
//! the same design record-at-a-time and micro-batch at once, as a two-row table.

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;
use tributary::model::{ExecutionMode, Topology};
use tributary::runtime::{Comparison, ModeFigures, RunError, RunOptions, SideBySide};

use super::run::Args;
use super::term;

/// How often the comparison looks for a Ctrl+C while it runs.
const POLL: Duration = Duration::from_millis(50);

/// Interval of the micro-batch side when neither the file nor `--batch-ms` gives one.
const DEFAULT_BATCH_MS: u64 = 1000;
const DEFAULT_RUN: Duration = Duration::from_secs(10);

#[derive(Serialize)]
struct Report<'a> {
    comparison: &'a Comparison,
    record_at_a_time: &'a tributary::runtime::MetricsSnapshot,
    micro_batch: &'a tributary::runtime::MetricsSnapshot,
}

pub fn run(
    args: &Args,
    topology: &Topology,
    text: &str,
    options: RunOptions,
    interrupted: &AtomicBool,
) -> anyhow::Result<ExitCode> {
    let interval_ms = args.batch_ms.unwrap_or(match topology.settings.mode {
        ExecutionMode::MicroBatch { interval_ms } => interval_ms,
        ExecutionMode::RecordAtATime => DEFAULT_BATCH_MS,
    });
    let run_for = args.run_for.unwrap_or(DEFAULT_RUN);
    let pair = match SideBySide::start(topology, options, interval_ms, args.rate) {
        Ok(p) => p,
        Err(RunError::Invalid(diagnostics)) => {
            for d in &diagnostics {
                let rendered = super::diagnostics::render(&args.file, text, d);
                term::err(format_args!("{}", term::escape_lines(&rendered)));
            }
            term::err(format_args!(
                "{}: invalid in one of the modes, not started",
                term::escape(&args.file.display().to_string())
            ));
            return Ok(ExitCode::from(2));
        }
        Err(RunError::NotAllowed(refusals)) => {
            super::permissions::report(&args.file, text, &refusals);
            return Ok(ExitCode::from(2));
        }
        Err(e) => {
            term::err(format_args!("error: {}", term::escape(&e.to_string())));
            return Ok(ExitCode::FAILURE);
        }
    };
    term::err(format_args!(
        "running {} record-at-a-time and in {interval_ms} ms micro-batches for {run_for:?}…",
        term::escape(&args.file.display().to_string())
    ));
    // Ctrl+C ends the comparison early (both runs stop at once).
    let end = Instant::now() + run_for;
    while Instant::now() < end && !interrupted.load(Ordering::SeqCst) {
        std::thread::sleep(end.saturating_duration_since(Instant::now()).min(POLL));
    }
    // Logger output would interleave two runs; it is dropped here.
    let _ = (pair.record.drain_log(), pair.batch.drain_log());
    let (comparison, record, batch) = pair.stop();
    // With `--json -` stdout carries only the JSON; the table goes to stderr.
    print_comparison(
        &comparison,
        term::Human::beside_data(args.json.as_deref() == Some("-")),
    );
    if let Some(target) = &args.json {
        let report = Report {
            comparison: &comparison,
            record_at_a_time: &record,
            micro_batch: &batch,
        };
        super::run::write_json(target, &report)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn row(f: &ModeFigures) -> String {
    let mode = match f.interval_ms {
        Some(ms) => format!("{} ({ms} ms)", f.mode),
        None => f.mode.clone(),
    };
    format!(
        "{:<24} {:>12} {:>14.0} {:>12} {:>12}{}",
        mode,
        f.records,
        f.throughput_per_sec,
        format!("{:.1?}", f.end_to_end_latency_p50),
        format!("{:.1?}", f.end_to_end_latency_p99),
        if f.falling_behind == Some(true) {
            "  falling behind"
        } else {
            ""
        }
    )
}

/// The two-row table, where `human` says; stops at the first line a closed stdout
/// refuses.
fn print_comparison(c: &Comparison, human: term::Human) {
    let show = |r: Option<f64>| r.map_or_else(|| "n/a".to_string(), |r| format!("{r:.1}×"));
    let lines = [
        format!(
            "{:<24} {:>12} {:>14} {:>12} {:>12}",
            "mode", "records", "records/s", "e2e p50", "e2e p99"
        ),
        row(&c.record_at_a_time),
        row(&c.micro_batch),
        format!(
            "micro-batch ÷ record-at-a-time: latency p50 {}, p99 {}; throughput {}",
            show(c.latency_ratio_p50),
            show(c.latency_ratio_p99),
            show(c.throughput_ratio)
        ),
    ];
    for line in lines {
        if !human.line(format_args!("{line}")) {
            return;
        }
    }
}
