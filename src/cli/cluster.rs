//! `tributary run`'s cluster flags (`--kill-machine AT:N`, `--restore-machine AT:N`,
//! `--kill-nimbus AT`, `--restore-nimbus AT`, `--kill-supervisor AT:N`,
//! `--restore-supervisor AT:N`), played as scenario steps, and the cluster's lines in
//! the final table.

use std::time::Duration;

use tributary::model::{ScenarioAction, ScenarioStep};
use tributary::runtime::cluster::ClusterView;

use super::run::{parse_duration, parse_kill};
use super::term;

#[derive(Debug, Clone, Default, clap::Args)]
pub struct ClusterFlags {
    /// Kill simulated machine N at time AT (e.g. `2s:1`; repeatable): its supervisor and
    /// workers are gone, and Nimbus reassigns the workers after the heartbeat timeout.
    #[arg(long = "kill-machine", value_parser = parse_kill, value_name = "AT:N")]
    pub kill_machine: Vec<(Duration, u32)>,
    /// Bring machine N back at time AT, with its supervisor.
    #[arg(long = "restore-machine", value_parser = parse_kill, value_name = "AT:N")]
    pub restore_machine: Vec<(Duration, u32)>,
    /// Kill Nimbus at time AT: workers keep running, nothing is reassigned.
    #[arg(long = "kill-nimbus", value_parser = parse_duration, value_name = "AT")]
    pub kill_nimbus: Vec<Duration>,
    /// Bring Nimbus back at time AT.
    #[arg(long = "restore-nimbus", value_parser = parse_duration, value_name = "AT")]
    pub restore_nimbus: Vec<Duration>,
    /// Kill machine N's supervisor at time AT: its workers keep running, a dead one
    /// stays dead.
    #[arg(long = "kill-supervisor", value_parser = parse_kill, value_name = "AT:N")]
    pub kill_supervisor: Vec<(Duration, u32)>,
    /// Bring machine N's supervisor back at time AT.
    #[arg(long = "restore-supervisor", value_parser = parse_kill, value_name = "AT:N")]
    pub restore_supervisor: Vec<(Duration, u32)>,
}

impl ClusterFlags {
    /// The flags as scenario steps.
    pub fn steps(&self) -> Vec<ScenarioStep> {
        let step = |at: Duration, action| ScenarioStep {
            at_ms: u64::try_from(at.as_millis()).unwrap_or(u64::MAX),
            action,
        };
        let mut steps = Vec::new();
        for (list, make) in [
            (
                &self.kill_machine,
                ScenarioAction::KillMachine as fn(u32) -> ScenarioAction,
            ),
            (&self.restore_machine, ScenarioAction::RestoreMachine),
            (&self.kill_supervisor, ScenarioAction::KillSupervisor),
            (&self.restore_supervisor, ScenarioAction::RestoreSupervisor),
        ] {
            steps.extend(list.iter().map(|&(at, m)| step(at, make(m))));
        }
        steps.extend(
            self.kill_nimbus
                .iter()
                .map(|&at| step(at, ScenarioAction::KillNimbus)),
        );
        steps.extend(
            self.restore_nimbus
                .iter()
                .map(|&at| step(at, ScenarioAction::RestoreNimbus)),
        );
        steps
    }

    /// Kills that restart tasks on purpose (a lost machine's workers restart elsewhere).
    pub fn kills(&self) -> usize {
        self.kill_machine.len()
    }
}

/// The cluster's lines of the final table: each machine with its slots, Nimbus and the
/// assignment version, and how many events the timeline holds. False once stdout is
/// closed.
pub fn print_cluster(c: &ClusterView, human: term::Human) -> bool {
    let nimbus = if c.nimbus_up { "up" } else { "DOWN" };
    let head = format!(
        "cluster  Nimbus {nimbus}, assignment version {}, heartbeat timeout {} ms, {} events",
        c.assignment_version,
        c.heartbeat_timeout_ms,
        c.events.len()
    );
    if !human.line(format_args!("{head}")) {
        return false;
    }
    for m in &c.machines {
        let state = match (m.up, m.supervisor_up) {
            (false, _) => "DOWN",
            (true, false) => "up, supervisor DOWN",
            (true, true) => "up",
        };
        let slots: Vec<String> = m
            .slots
            .iter()
            .map(|s| match s.worker {
                Some(w) => {
                    let running = c.workers.get(w as usize).is_some_and(|v| v.running);
                    format!(
                        "{}: worker {w}{}",
                        s.port,
                        if running { "" } else { " (down)" }
                    )
                }
                None => format!("{}: free", s.port),
            })
            .collect();
        let line = format!("  machine {} {state}   {}", m.machine, slots.join("   "));
        if !human.line(format_args!("{line}")) {
            return false;
        }
    }
    true
}
