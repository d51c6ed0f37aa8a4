//! `tributary lesson check PATH… [--allow PATH]…`: plays every step of the given lesson files (or of
//! every `.ron` file in the given folders) without a display, checks every expectation
//! and that every question has an answer the run gives, and prints one line per
//! lesson. Exits 1 if a lesson is malformed or a check fails.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use tributary::lesson::{self, Outcome};

use super::term;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: LessonCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum LessonCommand {
    /// Check lesson files, or every lesson in folders.
    Check {
        /// Lesson files (.ron) or folders of them.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Also let lessons read their topology from this folder or file (repeatable);
        /// by default only from the lesson's own folder.
        #[arg(long = "allow", value_name = "PATH")]
        allow: Vec<PathBuf>,
    },
}

/// The lesson files `paths` name: files as given, folders' `.ron` files sorted.
fn lesson_files(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|f| f.extension().is_some_and(|x| x == "ron") && f.is_file())
                .collect();
            found.sort();
            out.extend(found);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let LessonCommand::Check { paths, allow } = &args.command;
    let files = lesson_files(paths)?;
    if files.is_empty() {
        anyhow::bail!("no lesson files (.ron) found");
    }
    let work = tempfile::tempdir()?;
    let mut failed = 0;
    for (i, file) in files.iter().enumerate() {
        let workdir = work.path().join(i.to_string());
        if !check_one(file, allow, &workdir) {
            failed += 1;
        }
    }
    if failed > 0 {
        term::err(format_args!("{failed} of {} lessons failed", files.len()));
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// Checks one lesson, printing its line (and its problems); true when it passed.
fn check_one(file: &Path, allow: &[PathBuf], workdir: &Path) -> bool {
    let name = file.display().to_string();
    let shown = term::escape(&name);
    let lesson = match lesson::load(file, allow) {
        Ok(l) => l,
        Err(e) => {
            term::err(format_args!("{}", term::escape_lines(&e.to_string())));
            println!("{shown}: malformed");
            return false;
        }
    };
    let problems = lesson::check(&lesson);
    if !problems.is_empty() {
        for p in &problems {
            term::err(format_args!("{}", term::escape_lines(&p.to_string())));
        }
        println!("{shown}: {} problem(s)", problems.len());
        return false;
    }
    let title = term::escape(&lesson.title).to_string();
    let started = Instant::now();
    let steps = lesson.steps.len();
    let reports = match lesson::play::play_all(lesson, workdir) {
        Ok(r) => r,
        Err(e) => {
            term::err(format_args!("{}", term::escape_lines(&e.to_string())));
            println!("{shown}: failed while playing");
            return false;
        }
    };
    let mut ok = true;
    let mut checks = 0;
    for r in &reports {
        if let Some(answer) = &r.answer {
            checks += 1;
            let said = match answer {
                Outcome::Task { explanation, .. } => explanation.clone(),
                Outcome::Number(v) => format!("{v}"),
                Outcome::YesNo { holds, value } => {
                    format!(
                        "{} (the run gave {value})",
                        if *holds { "yes" } else { "no" }
                    )
                }
            };
            println!(
                "  step {}: the answer is {}",
                r.step + 1,
                term::escape(&said)
            );
        }
        for (e, value, held) in &r.expectations {
            checks += 1;
            if !held {
                ok = false;
                term::err(format_args!(
                    "{}: step {}: expected {:?} {} {} but the run gave {value}",
                    shown,
                    r.step + 1,
                    e.0,
                    e.1.symbol(),
                    e.2
                ));
            }
        }
    }
    println!(
        "{shown}: {} — {title} ({steps} steps, {checks} checks, {:.1} s)",
        if ok { "ok" } else { "FAILED" },
        started.elapsed().as_secs_f64()
    );
    ok
}
