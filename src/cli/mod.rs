//! Command-line interface: argument definitions and dispatch, one file per command.

mod bench;
mod bench_lab;
mod bench_raw;
mod bench_shell;
mod bench_soak;
mod cluster;
mod compare;
mod diagnostics;
mod export;
mod faults;
mod fmt;
mod guarantees;
mod import;
mod lab;
mod lesson;
mod open;
mod permissions;
mod run;
mod term;
mod validate;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Design, run and watch stream-processing topologies (Storm, Flume, Spark Streaming).
///
/// Without a command, opens the designer (on FILE if given).
#[derive(Debug, Parser)]
#[command(name = "tributary", version, about, long_about = None)]
pub struct Cli {
    /// A topology (.ron) to open in the designer.
    pub file: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check topology files and print every problem; exit 0 only if all are valid
    /// (warnings are allowed).
    Validate(validate::Args),
    /// Rewrite topology files in canonical form (stable order, standard layout).
    Fmt(fmt::Args),
    /// Import a Storm Flux YAML or Flume properties file as a topology.
    Import(import::Args),
    /// Export a topology as Storm Flux YAML, Flume properties or Graphviz DOT.
    Export(export::Args),
    /// Run a topology headless: live progress, then a per-node table (and JSON).
    Run(run::Args),
    /// Step a topology one event at a time (Lab mode) and write the trace as JSON lines.
    Lab(lab::Args),
    /// Check lessons: play every step headless and check its expectations and answers.
    Lesson(lesson::Args),
    /// Measure the runtime against a hand-written pipeline on the word-count workload.
    Bench(bench::Args),
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    if matches!(
        cli.command,
        Some(
            Command::Validate(_)
                | Command::Fmt(_)
                | Command::Import(_)
                | Command::Export(_)
                | Command::Bench(_)
                | Command::Lab(_)
        )
    ) {
        quit_quietly_on_closed_pipe();
    }
    match cli.command {
        Some(Command::Validate(args)) => validate::run(&args),
        Some(Command::Fmt(args)) => fmt::run(&args),
        Some(Command::Import(args)) => import::run(&args),
        Some(Command::Export(args)) => export::run(&args),
        Some(Command::Run(args)) => run::run(&args),
        Some(Command::Bench(args)) => bench::run(&args),
        Some(Command::Lab(args)) => lab::run(&args),
        Some(Command::Lesson(args)) => lesson::run(&args),
        None => open::run(cli.file),
    }
}

/// Prints the error that ended a command. Its text often quotes the file (an include's
/// name, a node's name, a value), so it is shown escaped like every other such string.
pub fn print_error(error: &anyhow::Error) {
    term::err(format_args!(
        "error: {}",
        term::escape_lines(&format!("{error:#}"))
    ));
}

/// Restores the default action of `SIGPIPE` (end the process), so `tributary bench |
/// head` stops like any Unix filter instead of panicking in `println!`. Only for
/// commands that print and open no sockets: `run` and the designer keep Rust's default
/// (ignored), because a netcat source writing its `OK` to a client that hung up must get
/// an error, not end the whole run.
fn quit_quietly_on_closed_pipe() {
    #[cfg(unix)]
    // SAFETY: called before any thread starts; SIG_DFL is a valid disposition.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
