//! `tributary run FILE [--for DURATION] [--seed N] [--json PATH|-] [--batch-ms N]
//! [--rate N] [--kill-worker AT:N]... [--compare]`: runs a topology headless with a
//! live progress line, then prints a per-node table (and, in micro-batch mode, the
//! batch figures). `--compare` runs the design in both modes at once instead (see
//! `compare.rs`). With `--json -` stdout carries only the JSON: the table and logger
//! lines go to stderr (see `term::Human`).

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use tributary::model::{ExecutionMode, ScenarioAction, ScenarioStep};
use tributary::runtime::{
    BatchMetrics, Control, Engine, LogKind, LogLine, MetricsSnapshot, RunError, RunOptions,
    ScenarioPlayer, StopMode, limits,
};
use tributary::{format, validate};

use super::term;

/// A task restarted this often counts as "kept crashing": the run exits non-zero.
const CRASH_LIMIT: u64 = 3;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Topology file (.ron).
    pub file: PathBuf,
    /// Stop after this long (e.g. `10s`, `500ms`, `2m`); default: until finite spouts
    /// finish or Ctrl+C.
    #[arg(long = "for", value_parser = parse_duration)]
    pub run_for: Option<Duration>,
    /// Seed for every random choice of the runtime.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Write the final metrics as JSON to this file, or `-` for stdout.
    #[arg(long)]
    pub json: Option<String>,
    /// Also allow file components to use this folder or file (repeatable). By default
    /// only the topology's folder is allowed.
    #[arg(long = "allow", value_name = "PATH")]
    pub allow: Vec<PathBuf>,
    /// Let sources listen beyond loopback (e.g. a netcat source on 0.0.0.0) and resolve
    /// host names. By default only loopback is allowed and no name is looked up.
    #[arg(long = "allow-network")]
    pub allow_network: bool,
    /// Let shell spouts and bolts run the programs they name (listed when refused). By
    /// default a topology runs no program at all.
    #[arg(long = "allow-exec")]
    pub allow_exec: bool,
    /// Don't print logger output.
    #[arg(long, short)]
    pub quiet: bool,
    /// Run in micro-batch mode with this batch interval (ms), whatever the file says;
    /// with `--compare`, the interval of the micro-batch side.
    #[arg(long = "batch-ms", value_parser = clap::value_parser!(u64).range(1..))]
    pub batch_ms: Option<u64>,
    /// Cap every spout task at this many records per second.
    #[arg(long)]
    pub rate: Option<f64>,
    /// Run the design record-at-a-time and micro-batch at once (same seed and rate) and
    /// print throughput and end-to-end latency of each (default `--for 10s`).
    #[arg(long)]
    pub compare: bool,
    /// Kill simulated worker N at time AT (e.g. `2s:1`; repeatable), to script the
    /// demonstration of a worker dying: its executors restart and lost trees replay.
    #[arg(long = "kill-worker", value_parser = parse_kill)]
    pub kill_worker: Vec<(Duration, u32)>,
    /// Inject faults into a node from the start, as the designer's inspector does:
    /// `NODE:fail=P[,latency=MS][,crash=P]` (repeatable; probabilities 0 to 1). With
    /// `--seed`, the same faults fall on the same tuples.
    #[arg(long = "fault", value_parser = super::faults::parse_fault, value_name = "NODE:FAULTS")]
    pub fault: Vec<(String, tributary::runtime::FaultSpec)>,
    /// Run the design at most, at least and exactly once at the same time (same seed,
    /// faults and kills) against a fault-free reference, and print records in and out,
    /// duplicates, lost and keys counted right for each. Spouts need a `limit`.
    #[arg(long, conflicts_with = "compare")]
    pub guarantees: bool,
    #[command(flatten)]
    pub cluster: super::cluster::ClusterFlags,
}

/// The folder relative paths in `file` resolve against: its own folder, `.` for a bare
/// file name (`tributary run my.ron` from inside the folder).
pub fn topology_folder(file: &std::path::Path) -> PathBuf {
    file.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), PathBuf::from)
}

/// Parses `AT:N` for `--kill-worker`: a duration and a worker index.
pub fn parse_kill(text: &str) -> Result<(Duration, u32), String> {
    let (at, worker) = text
        .rsplit_once(':')
        .ok_or_else(|| format!("expected AT:N such as 2s:1, got {text}"))?;
    let worker = worker
        .trim()
        .parse()
        .map_err(|_| format!("not a worker index: {worker}"))?;
    Ok((parse_duration(at)?, worker))
}

/// Parses `250ms`, `10s`, `2m`, `1h` or a bare number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let (num, unit) = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .map_or((t, "s"), |i| t.split_at(i));
    let value: f64 = num.parse().map_err(|_| format!("not a duration: {text}"))?;
    let secs = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        _ => {
            return Err(format!(
                "unknown unit '{unit}' in {text} (use ms, s, m or h)"
            ));
        }
    };
    Duration::try_from_secs_f64(secs).map_err(|e| format!("{text}: {e}"))
}

/// Prints why a run did not start (each diagnostic or refusal located in the file) and
/// returns the exit code: 2 for an invalid or not-allowed topology, 1 otherwise.
pub fn report_refusal(file: &std::path::Path, text: &str, error: RunError) -> ExitCode {
    match error {
        RunError::Invalid(diagnostics) => {
            for d in &diagnostics {
                print_diagnostic(&super::diagnostics::render(file, text, d));
            }
            term::err(format_args!(
                "{}: invalid, not started",
                term::escape(&file.display().to_string())
            ));
            ExitCode::from(2)
        }
        RunError::NotAllowed(refusals) => {
            super::permissions::report(file, text, &refusals);
            ExitCode::from(2)
        }
        e => {
            term::err(format_args!("error: {}", term::escape(&e.to_string())));
            ExitCode::FAILURE
        }
    }
}

/// Writes `value` as pretty JSON to `target`: stdout for `-`, else the file, atomically.
/// `run`, `run --compare` and `run --guarantees` all write their `--json` through here.
pub fn write_json(target: &str, value: &impl serde::Serialize) -> anyhow::Result<()> {
    let json = serde_json::to_string_pretty(value)?;
    if target == "-" {
        term::out(format_args!("{json}"));
    } else {
        format::write_atomically(std::path::Path::new(target), json.as_bytes())
            .with_context(|| format!("writing {target}"))?;
    }
    Ok(())
}

/// Exit code of a run ended by a second Ctrl+C (128 + SIGINT, as shells report it).
pub const EXIT_INTERRUPTED: u8 = 130;

/// Ctrl+C: the first press stops the run (a drain in progress is cut short); a second
/// press ends the process at once, whatever it is waiting for.
fn on_interrupt() -> Arc<AtomicBool> {
    let interrupted = Arc::new(AtomicBool::new(false));
    let flag = interrupted.clone();
    // If a handler cannot be installed, Ctrl+C simply ends the process.
    let _ = ctrlc::set_handler(move || {
        if flag.swap(true, Ordering::SeqCst) {
            term::err(format_args!("interrupted again: exiting now"));
            std::process::exit(i32::from(EXIT_INTERRUPTED));
        }
    });
    interrupted
}

/// Loads a topology for a command that runs it, with its text for locating problems;
/// a file that cannot be read or parsed is reported (`FILE:LINE:COL`) and becomes the
/// command's failing exit code.
pub fn load_for_run(
    file: &std::path::Path,
) -> Result<(tributary::model::Topology, String), ExitCode> {
    format::load_ron_with_text(file).map_err(|e| {
        term::err(format_args!(
            "error: {}",
            term::escape_lines(&format!("{e:#}"))
        ));
        ExitCode::FAILURE
    })
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let (mut topology, text) = match load_for_run(&args.file) {
        Ok(loaded) => loaded,
        Err(code) => return Ok(code),
    };
    let options = RunOptions {
        seed: args.seed,
        base_dir: topology_folder(&args.file),
        // `--allow` paths are given relative to where the command runs, which is how
        // the policy reads relative allowed paths.
        allowed_dirs: args.allow.clone(),
        allow_network: args.allow_network,
        allow_exec: args.allow_exec,
        topology_file: Some(args.file.clone()),
        ..RunOptions::default()
    };
    let interrupted = on_interrupt();
    if args.compare && !args.fault.is_empty() {
        term::err(format_args!(
            "error: --fault does not apply to --compare (the two modes inject faults differently); run each mode on its own"
        ));
        return Ok(ExitCode::from(2));
    }
    if (args.compare || args.guarantees) && !args.cluster.steps().is_empty() {
        term::err(format_args!(
            "error: the cluster flags (--kill-machine and the like) do not apply to --compare or --guarantees; write the steps into the file's scenario"
        ));
        return Ok(ExitCode::from(2));
    }
    if args.compare {
        return super::compare::run(args, &topology, &text, options, &interrupted);
    }
    if args.guarantees {
        return super::guarantees::run(args, &topology, &text, options);
    }
    if let Some(interval_ms) = args.batch_ms {
        topology.settings.mode = ExecutionMode::MicroBatch { interval_ms };
    }
    if let Err(why) = super::faults::check_nodes(&topology, &args.fault) {
        term::err(format_args!("error: {}", term::escape(&why)));
        return Ok(ExitCode::from(2));
    }
    // The file's scenario and the command line's kills, played as their time comes.
    let kills = args.kill_worker.iter().map(|&(at, worker)| ScenarioStep {
        at_ms: u64::try_from(at.as_millis()).unwrap_or(u64::MAX),
        action: ScenarioAction::KillWorker(worker),
    });
    let cluster_steps = args.cluster.steps();
    let refused: Vec<_> = validate::check_steps(&topology, &cluster_steps)
        .into_iter()
        .filter(|d| d.severity == validate::Severity::Error)
        .collect();
    if !refused.is_empty() {
        for d in &refused {
            term::err(format_args!("error: {}", term::escape(&d.to_string())));
        }
        return Ok(ExitCode::from(2));
    }
    let mut scenario = ScenarioPlayer::new(&topology, kills.chain(cluster_steps));
    if let Some(limit) = args.run_for {
        for step in &topology.settings.scenario {
            if Duration::from_millis(step.at_ms) > limit {
                term::err(format_args!(
                    "warning: scenario step {} comes after --for {limit:?} ends the run",
                    term::escape(&step.describe())
                ));
            }
        }
    }
    // Faults in force before the first tuple: `--fault`, and the scenario's steps at 0 s.
    let mut options = options;
    for (node, faults) in &args.fault {
        options.faults.insert(node.clone(), *faults);
    }
    for said in scenario.apply_initial(&mut options) {
        term::err(format_args!("scenario: {}", term::escape(&said)));
    }
    let engine = match Engine::start(&topology, options) {
        Ok(e) => e,
        Err(e) => return Ok(report_refusal(&args.file, &text, e)),
    };
    for (node, faults) in &args.fault {
        // Sent again through the control so the run log says it, as the inspector's do.
        engine.control(Control::SetFaults {
            node: node.clone(),
            faults: *faults,
        });
    }
    for d in validate::validate(&topology) {
        print_diagnostic(&super::diagnostics::render(&args.file, &text, &d));
    }
    if let Some(rate) = args.rate {
        for node in topology.nodes().filter(|n| !n.role.accepts_input()) {
            engine.control(Control::SetRate {
                node: node.name.clone(),
                per_sec: Some(rate),
            });
        }
    }

    let human = term::Human::beside_data(args.json.as_deref() == Some("-"));
    let live = std::io::stderr().is_terminal();
    let started = Instant::now();
    let mut last_line = Instant::now();
    let mut timed_out = false;
    let natural_end = loop {
        // Steps due now first: a step at 0 s acts before the first tuple could pass.
        for (said, controls) in scenario.due(started.elapsed()) {
            if !topology.settings.scenario.is_empty() {
                term::err(format_args!("scenario: {}", term::escape(&said)));
            }
            for control in controls {
                engine.control(control);
            }
        }
        std::thread::sleep(Duration::from_millis(20));
        // A closed stdout (`| head`) ends the run as a Ctrl+C would, quietly.
        if !print_log(engine.drain_log(), args.quiet, human) || interrupted.load(Ordering::SeqCst) {
            break false;
        }
        // A scripted kill still to come keeps a finished run going until it happened.
        if args.run_for.is_some_and(|d| started.elapsed() >= d) {
            timed_out = true;
            break true;
        }
        if scenario.is_done() && engine.is_finished() {
            break true;
        }
        if live && last_line.elapsed() >= Duration::from_millis(500) {
            last_line = Instant::now();
            term::err_part(format_args!("\r{}\x1b[K", progress(&engine.snapshot())));
        }
    };
    if live {
        term::err(format_args!(""));
    }
    if timed_out {
        term::err(format_args!(
            "stopping: draining what is in flight (at most {:?}; Ctrl+C stops at once)",
            limits::DRAIN_LIMIT
        ));
    }
    let mode = if natural_end {
        StopMode::Drain
    } else {
        StopMode::Immediate
    };
    let (final_metrics, last_lines) = engine.stop_interruptible(mode, &interrupted);
    print_log(last_lines, args.quiet, human);
    print_table(&final_metrics, human);
    if let Some(target) = &args.json {
        write_json(target, &final_metrics)?;
    }
    // A Flume thread that died fails the run, however the rest went.
    let fatal = tributary::runtime::metrics::fatal_errors(&final_metrics);
    for (node, why) in &fatal {
        term::err(format_args!(
            "[{}] {}",
            term::escape(node),
            term::escape_lines(why)
        ));
    }
    if !fatal.is_empty() {
        return Ok(ExitCode::FAILURE);
    }
    // Scripted kills and rebalances restart tasks on purpose; only restarts beyond them
    // count. Crashes asked for with `--fault crash=P` are not a failure of the run
    // either.
    let scripted_kills = topology
        .settings
        .scenario
        .iter()
        .filter(|s| {
            matches!(
                s.action,
                ScenarioAction::KillWorker(_)
                    | ScenarioAction::KillMachine(_)
                    | ScenarioAction::Rebalance { .. }
                    | ScenarioAction::RebalanceWorkers(_)
            )
        })
        .count();
    let crash_limit =
        CRASH_LIMIT + (args.kill_worker.len() + args.cluster.kills() + scripted_kills) as u64;
    let crashes_asked =
        args.fault.iter().any(|(_, f)| f.crash_probability > 0.0)
            || topology.settings.scenario.iter().any(
                |s| matches!(s.action, ScenarioAction::SetFaults { crash, .. } if crash > 0.0),
            );
    if !crashes_asked && final_metrics.max_task_restarts() >= crash_limit {
        term::err(format_args!(
            "a task kept crashing ({} restarts)",
            final_metrics.max_task_restarts()
        ));
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// A rendered diagnostic: it quotes the file and names nodes, so it is escaped.
fn print_diagnostic(rendered: &str) {
    term::err(format_args!("{}", term::escape_lines(rendered)));
}

/// Prints run log lines (logger output where `human` says, the rest to stderr), escaped;
/// false once stdout is closed.
fn print_log(lines: Vec<LogLine>, quiet: bool, human: term::Human) -> bool {
    for line in lines {
        let (node, text) = (term::escape(&line.node), term::escape(&line.text));
        match line.kind {
            LogKind::Tuple if quiet => {}
            LogKind::Tuple => {
                if !human.line(format_args!("[{node}#{}] {text}", line.task)) {
                    return false;
                }
            }
            _ => term::err(format_args!("[{node}#{}] {text}", line.task)),
        }
    }
    !term::stdout_closed()
}

fn progress(s: &MetricsSnapshot) -> String {
    let executed: f64 = s.nodes.values().map(|n| n.execute_rate).sum();
    let acked: u64 = s
        .nodes
        .values()
        .filter(|n| matches!(n.role.as_str(), "spout" | "source"))
        .map(|n| n.acked)
        .sum();
    let failed: u64 = s
        .nodes
        .values()
        .filter(|n| matches!(n.role.as_str(), "spout" | "source"))
        .map(|n| n.failed)
        .sum();
    let batches = s.batch.as_ref().map_or_else(String::new, |b| {
        format!(
            "  batch {} delay {:.0?}{}",
            b.batches_completed,
            b.last_scheduling_delay,
            if b.falling_behind { " BEHIND" } else { "" }
        )
    });
    format!(
        "{:>7.1}s  {:>12.0} tuples/s  acked {acked}  failed {failed}{batches}",
        s.elapsed.as_secs_f64(),
        executed
    )
}

/// The per-node table, where `human` says; stops at the first line a closed stdout
/// refuses.
fn print_table(s: &MetricsSnapshot, human: term::Human) {
    let header = format!(
        "{:<16} {:>11} {:>11} {:>11} {:>9} {:>7} {:>8} {:>8} {:>8} {:>10} {:>10}",
        "node",
        "emitted",
        "executed",
        "acked",
        "failed",
        "replay",
        "restarts",
        "refused",
        "cap",
        "exec p99",
        "compl p99",
    );
    if !human.line(format_args!("{header}")) {
        return;
    }
    for (name, n) in &s.nodes {
        let row = format!(
            "{:<16} {:>11} {:>11} {:>11} {:>9} {:>7} {:>8} {:>8} {:>8.2} {:>10} {:>10}",
            term::escape(name),
            n.emitted,
            n.executed,
            n.acked,
            n.failed,
            n.replayed,
            n.restarts,
            n.refused,
            n.capacity,
            latency_cell(n.execute_latency_p99),
            latency_cell(n.complete_latency_p99),
        );
        if !human.line(format_args!("{row}")) {
            return;
        }
    }
    let elapsed = format!(
        "elapsed {:.2?}   end-to-end latency p50 {:.1?}  p99 {:.1?}",
        s.elapsed, s.end_to_end_latency_p50, s.end_to_end_latency_p99
    );
    if !human.line(format_args!("{elapsed}")) {
        return;
    }
    if s.workers.len() > 1 || s.workers.iter().any(|w| w.kills > 0) {
        let workers: Vec<String> = s
            .workers
            .iter()
            .map(|w| {
                format!(
                    "{}: {} executors, killed {}",
                    w.worker,
                    w.executors.len(),
                    w.kills
                )
            })
            .collect();
        if !human.line(format_args!("workers  {}", workers.join("   "))) {
            return;
        }
    }
    if let Some(c) = s
        .cluster
        .as_ref()
        .filter(|c| c.machines.len() > 1 || !c.events.is_empty())
        && !super::cluster::print_cluster(c, human)
    {
        return;
    }
    if let Some(b) = &s.batch {
        print_batches(b, human);
    }
}

/// A latency for the table; `-` where the node has none (a spout executes nothing,
/// a bolt completes no tuple trees), so a reader never mistakes "not measured" for
/// "instant".
fn latency_cell(latency: std::time::Duration) -> String {
    if latency.is_zero() {
        "-".to_string()
    } else {
        format!("{latency:.1?}")
    }
}

/// Words shown per window result.
const TOP_SHOWN: usize = 10;

fn print_batches(b: &BatchMetrics, human: term::Human) {
    let summary = format!(
        "batches {} every {:?}: processing p50 {:.1?} p99 {:.1?}, last {:.1?}; scheduling delay last {:.1?} max {:.1?}; {:.1} records/batch{}",
        b.batches_completed,
        b.interval,
        b.processing_time_p50,
        b.processing_time_p99,
        b.last_processing_time,
        b.last_scheduling_delay,
        b.max_scheduling_delay,
        b.mean_records_per_batch,
        if b.falling_behind {
            "  FALLING BEHIND (processing exceeds the interval)"
        } else {
            ""
        }
    );
    if !human.line(format_args!("{summary}")) {
        return;
    }
    if b.workers_killed > 0 {
        let line = format!(
            "lineage: {} worker kills; {} partitions recomputed from the receivers' blocks ({} records)",
            b.workers_killed, b.partitions_recomputed, b.records_recomputed
        );
        if !human.line(format_args!("{line}")) {
            return;
        }
    }
    for (node, w) in &b.windows {
        let top: Vec<String> = w
            .top
            .iter()
            .take(TOP_SHOWN)
            .map(|(k, v)| format!("{}={v}", term::escape(k)))
            .collect();
        let line = format!(
            "window {} ending {} ms ({} batches, {} keys): {}",
            term::escape(node),
            w.window_end_ms,
            w.batches,
            w.keys,
            top.join(" ")
        );
        if !human.line(format_args!("{line}")) {
            return;
        }
    }
}
