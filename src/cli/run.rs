//! `tributary run FILE [--for DURATION] [--seed N] [--json PATH|-]`: runs a topology
//! headless with a live progress line, then prints a per-node table.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use tributary::runtime::{Engine, LogKind, MetricsSnapshot, RunError, RunOptions, StopMode};
use tributary::{format, validate};

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
    /// Also allow file components to use this folder (repeatable). By default only
    /// the topology's folder is allowed.
    #[arg(long = "allow")]
    pub allow: Vec<PathBuf>,
    /// Don't print logger output.
    #[arg(long, short)]
    pub quiet: bool,
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

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let topology = format::load_ron(&args.file)?;
    let text = std::fs::read_to_string(&args.file).unwrap_or_default();
    let base_dir = args
        .file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), PathBuf::from);
    // `--allow` folders are given relative to where the command runs.
    let cwd = std::env::current_dir().context("reading the current folder")?;
    let mut allowed_dirs = vec![cwd.join(&base_dir)];
    allowed_dirs.extend(args.allow.iter().map(|d| cwd.join(d)));
    let options = RunOptions {
        seed: args.seed,
        base_dir,
        allowed_dirs,
        ..RunOptions::default()
    };
    let engine = match Engine::start(&topology, options) {
        Ok(e) => e,
        Err(RunError::Invalid(diagnostics)) => {
            for d in &diagnostics {
                eprintln!("{}", super::diagnostics::render(&args.file, &text, d));
            }
            eprintln!("{}: invalid, not started", args.file.display());
            return Ok(ExitCode::from(2));
        }
        Err(e) => return Err(e.into()),
    };
    for d in validate::validate(&topology) {
        eprintln!("{}", super::diagnostics::render(&args.file, &text, &d));
    }

    let interrupted = Arc::new(AtomicBool::new(false));
    {
        let flag = interrupted.clone();
        // If a handler cannot be installed, Ctrl+C simply ends the process.
        let _ = ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst));
    }
    let live = std::io::stderr().is_terminal();
    let started = Instant::now();
    let mut last_line = Instant::now();
    let natural_end = loop {
        std::thread::sleep(Duration::from_millis(100));
        print_log(&engine, args.quiet);
        if interrupted.load(Ordering::SeqCst) {
            break false;
        }
        if args.run_for.is_some_and(|d| started.elapsed() >= d) || engine.is_finished() {
            break true;
        }
        if live && last_line.elapsed() >= Duration::from_millis(500) {
            last_line = Instant::now();
            eprint!("\r{}\x1b[K", progress(&engine.snapshot()));
        }
    };
    if live {
        eprintln!();
    }
    let final_metrics = engine.stop(if natural_end {
        StopMode::Drain
    } else {
        StopMode::Immediate
    });
    print_table(&final_metrics);
    if let Some(target) = &args.json {
        let json = serde_json::to_string_pretty(&final_metrics)?;
        if target == "-" {
            println!("{json}");
        } else {
            std::fs::write(target, json).with_context(|| format!("writing {target}"))?;
        }
    }
    if final_metrics.max_task_restarts() >= CRASH_LIMIT {
        eprintln!(
            "a task kept crashing ({} restarts)",
            final_metrics.max_task_restarts()
        );
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

fn print_log(engine: &Engine, quiet: bool) {
    for line in engine.drain_log() {
        match line.kind {
            LogKind::Tuple if quiet => {}
            LogKind::Tuple => println!("[{}#{}] {}", line.node, line.task, line.text),
            _ => eprintln!("[{}#{}] {}", line.node, line.task, line.text),
        }
    }
}

fn progress(s: &MetricsSnapshot) -> String {
    let executed: f64 = s.nodes.values().map(|n| n.execute_rate).sum();
    let acked: u64 = s
        .nodes
        .values()
        .filter(|n| n.role == "spout")
        .map(|n| n.acked)
        .sum();
    let failed: u64 = s
        .nodes
        .values()
        .filter(|n| n.role == "spout")
        .map(|n| n.failed)
        .sum();
    format!(
        "{:>7.1}s  {:>12.0} tuples/s  acked {acked}  failed {failed}",
        s.elapsed.as_secs_f64(),
        executed
    )
}

fn print_table(s: &MetricsSnapshot) {
    println!(
        "{:<16} {:>11} {:>11} {:>11} {:>9} {:>7} {:>8} {:>8} {:>10} {:>10} {:>6}",
        "node",
        "emitted",
        "executed",
        "acked",
        "failed",
        "replay",
        "restarts",
        "cap",
        "exec p99",
        "compl p99",
        ""
    );
    for (name, n) in &s.nodes {
        println!(
            "{:<16} {:>11} {:>11} {:>11} {:>9} {:>7} {:>8} {:>8.2} {:>10} {:>10}",
            name,
            n.emitted,
            n.executed,
            n.acked,
            n.failed,
            n.replayed,
            n.restarts,
            n.capacity,
            format!("{:.1?}", n.execute_latency_p99),
            format!("{:.1?}", n.complete_latency_p99),
        );
    }
    println!("elapsed {:.2?}", s.elapsed);
}
