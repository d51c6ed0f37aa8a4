//! `tributary run FILE --guarantees [--fault …] [--kill-worker AT:N] [--seed N]
//! [--for LIMIT] [--json PATH|-]`: the design at most, at least and exactly once at
//! the same time, against a fault-free reference, as a three-row table.

use std::process::ExitCode;
use std::time::Duration;

use tributary::model::{ScenarioAction, ScenarioStep, Topology};
use tributary::runtime::RunOptions;
use tributary::runtime::guarantees::{self, GuaranteeTable};

use super::run::Args;
use super::term;

/// How long each run may take when `--for` does not say.
const DEFAULT_LIMIT: Duration = Duration::from_secs(120);

pub fn run(
    args: &Args,
    topology: &Topology,
    text: &str,
    mut options: RunOptions,
) -> anyhow::Result<ExitCode> {
    if let Some(why) = guarantees::refusal(topology) {
        term::err(format_args!("error: --guarantees: {}", term::escape(&why)));
        return Ok(ExitCode::from(2));
    }
    if let Err(why) = super::faults::check_nodes(topology, &args.fault) {
        term::err(format_args!("error: {}", term::escape(&why)));
        return Ok(ExitCode::from(2));
    }
    for (node, faults) in &args.fault {
        options.faults.insert(node.clone(), *faults);
    }
    // `--kill-worker` joins the file's scenario, so every run plays the same kills.
    let mut design = topology.clone();
    for &(at, worker) in &args.kill_worker {
        design.settings.scenario.push(ScenarioStep {
            at_ms: u64::try_from(at.as_millis()).unwrap_or(u64::MAX),
            action: ScenarioAction::KillWorker(worker),
        });
    }
    design.settings.scenario.sort_by_key(|s| s.at_ms);
    let limit = args.run_for.unwrap_or(DEFAULT_LIMIT);
    term::err(format_args!(
        "running {} at most, at least and exactly once, after a fault-free reference run…",
        term::escape(&args.file.display().to_string())
    ));
    let table = match guarantees::run_side_by_side(&design, options, limit) {
        Ok(t) => t,
        Err(e) => return Ok(super::run::report_refusal(&args.file, text, e)),
    };
    let human = term::Human::beside_data(args.json.as_deref() == Some("-"));
    print_table(&table, human);
    if let Some(target) = &args.json {
        super::run::write_json(target, &table)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn print_table(t: &GuaranteeTable, human: term::Human) {
    human.line(format_args!(
        "{:<14} {:>9} {:>9} {:>10} {:>8} {:>9} {:>9} {:>12}  {}",
        "guarantee",
        "emits",
        "out",
        "duplicates",
        "lost",
        "replayed",
        "counted",
        "keys right",
        "ended"
    ));
    for r in &t.rows {
        human.line(format_args!(
            "{:<14} {:>9} {:>9} {:>10} {:>8} {:>9} {:>9} {:>12}  {}",
            r.guarantee,
            r.spout_emits,
            r.records_out,
            r.duplicates,
            r.lost,
            r.replayed,
            r.counted,
            format!("{}/{}", r.keys_matching, r.keys_total),
            if r.finished {
                format!("input done, {:.1}s", r.elapsed.as_secs_f64())
            } else {
                "time limit".to_string()
            }
        ));
    }
    human.line(format_args!(
        "reference (no faults): {} records in, {} out, {} counted over {} keys",
        t.records_in, t.reference_records_out, t.reference_counted, t.reference_keys
    ));
}
