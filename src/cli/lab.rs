//! `tributary lab FILE [--seed N] [--steps K] [--trace PATH|-] [--kill-worker STEP:N]`:
//! steps a record-at-a-time topology one event at a time (Lab mode) and writes each
//! event as a line of JSON. The same file, seed and options give the same bytes, so
//! traces can be diffed, checked against Storm's hashing, or read by tests.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use tributary::runtime::lab::Kind;
use tributary::runtime::{Control, LabEngine, LabOptions, RunOptions};

use super::run::{report_refusal, topology_folder};
use super::term;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Topology file (.ron), record-at-a-time.
    pub file: PathBuf,
    /// Seed for every random choice, the lab's schedule included.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// How many events to run (fewer if the run finishes first).
    #[arg(long, default_value_t = 1000)]
    pub steps: u64,
    /// Write the trace (one JSON object per event and line) to this file, or `-` for
    /// stdout.
    #[arg(long, value_name = "PATH|-")]
    pub trace: Option<String>,
    /// Also allow file components to use this folder or file (repeatable).
    #[arg(long = "allow", value_name = "PATH")]
    pub allow: Vec<PathBuf>,
    /// Kill simulated worker N as step STEP (e.g. `200:1`; repeatable).
    #[arg(long = "kill-worker", value_name = "STEP:N", value_parser = parse_kill_at)]
    pub kill_worker: Vec<(u64, u32)>,
    /// Virtual milliseconds one event takes.
    #[arg(long = "event-ms", default_value_t = 1.0)]
    pub event_ms: f64,
}

fn parse_kill_at(text: &str) -> Result<(u64, u32), String> {
    let (step, worker) = text
        .split_once(':')
        .ok_or_else(|| format!("expected STEP:N such as 200:1, got {text}"))?;
    let step = step
        .trim()
        .parse()
        .map_err(|_| format!("not a step number: {step}"))?;
    let worker = worker
        .trim()
        .parse()
        .map_err(|_| format!("not a worker index: {worker}"))?;
    Ok((step, worker))
}

/// Where the trace goes; opened before the run starts, so a bad path is reported
/// before any work.
enum Sink {
    None,
    Stdout(std::io::Stdout),
    File(BufWriter<File>),
}

impl Sink {
    fn open(target: Option<&str>) -> anyhow::Result<Sink> {
        Ok(match target {
            None => Sink::None,
            Some("-") => Sink::Stdout(std::io::stdout()),
            Some(path) => {
                let file = File::create(path)
                    .map_err(|e| anyhow::anyhow!("cannot write the trace to {path}: {e}"))?;
                Sink::File(BufWriter::new(file))
            }
        })
    }

    fn line(&mut self, line: &str) -> std::io::Result<()> {
        match self {
            Sink::None => Ok(()),
            Sink::Stdout(out) => writeln!(out.lock(), "{line}"),
            Sink::File(f) => writeln!(f, "{line}"),
        }
    }

    fn finish(self) -> std::io::Result<()> {
        match self {
            Sink::File(mut f) => f.flush(),
            Sink::Stdout(out) => out.lock().flush(),
            Sink::None => Ok(()),
        }
    }
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    if !(args.event_ms.is_finite() && args.event_ms > 0.0 && args.event_ms <= 60_000.0) {
        anyhow::bail!(
            "--event-ms must be between 0 and 60000, got {}",
            args.event_ms
        );
    }
    let mut sink = Sink::open(args.trace.as_deref())?;
    let (topology, text) = match super::run::load_for_run(&args.file) {
        Ok(loaded) => loaded,
        Err(code) => return Ok(code),
    };
    let options = RunOptions {
        seed: args.seed,
        base_dir: topology_folder(&args.file),
        allowed_dirs: args.allow.clone(),
        topology_file: Some(args.file.clone()),
        ..RunOptions::default()
    };
    let lab = LabOptions {
        event_cost: std::time::Duration::from_secs_f64(args.event_ms / 1000.0),
        ..LabOptions::default()
    };
    let mut engine = match LabEngine::start(&topology, options, lab) {
        Ok(e) => e,
        Err(e) => return Ok(report_refusal(&args.file, &text, e)),
    };
    let mut kills = args.kill_worker.clone();
    kills.sort_by_key(|&(step, _)| std::cmp::Reverse(step));
    let (mut acked, mut failed) = (0u64, 0u64);
    while engine.steps() < args.steps {
        let next = engine.steps() + 1;
        let event = match kills.last() {
            Some(&(at, worker)) if at <= next => {
                kills.pop();
                Some(engine.act(Control::KillWorker { worker }))
            }
            _ => engine.step(),
        };
        let Some(event) = event else {
            break;
        };
        if event.kind == Kind::Outcome {
            match event.ok {
                Some(true) => acked += 1,
                Some(false) => failed += 1,
                None => {}
            }
        }
        let line = event.to_json();
        if let Err(e) = sink.line(&line) {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                return Ok(ExitCode::SUCCESS);
            }
            anyhow::bail!("writing the trace: {e}");
        }
    }
    sink.finish()
        .map_err(|e| anyhow::anyhow!("writing the trace: {e}"))?;
    let end = if engine.is_finished_now() {
        "finished"
    } else {
        "stopped"
    };
    term::err(format_args!(
        "{end} after {} steps ({:.3} s of virtual time): {acked} trees acked, {failed} failed",
        engine.steps(),
        engine.elapsed().as_secs_f64(),
    ));
    Ok(ExitCode::SUCCESS)
}
