//! Rules about `settings.cluster` and the scenario steps that act on it: machines and
//! slots to place every worker, a heartbeat timeout above zero, machine numbers within
//! the cluster. Whether a role is already down when a step kills it depends on the run
//! (a machine's workers move, a supervisor restarts them), so the run log says that.

use super::{Diagnostic, Location};
use crate::model::{ExecutionMode, ScenarioAction, ScenarioStep, Topology};

/// Most simulated machines: each is a box in the cluster panel.
pub const MAX_MACHINES: u32 = 64;
/// Most slots per machine (Storm's default is 4 ports).
pub const MAX_SLOTS_PER_MACHINE: u32 = 64;
/// Longest heartbeat timeout, in seconds (an hour: longer is a typo for a run).
pub const MAX_HEARTBEAT_TIMEOUT_SECS: u32 = 3600;

pub(super) fn check_cluster(t: &Topology, out: &mut Vec<Diagnostic>) {
    let Some(c) = &t.settings.cluster else {
        return;
    };
    let here = || Location::Topology;
    if c.machines == 0 || c.machines > MAX_MACHINES {
        out.push(Diagnostic::error(
            here(),
            format!("cluster machines is {}", c.machines),
            format!("give 1 to {MAX_MACHINES} machines"),
        ));
    }
    if c.slots_per_machine == 0 || c.slots_per_machine > MAX_SLOTS_PER_MACHINE {
        out.push(Diagnostic::error(
            here(),
            format!("cluster slots_per_machine is {}", c.slots_per_machine),
            format!("give 1 to {MAX_SLOTS_PER_MACHINE} slots (Storm's default is 4)"),
        ));
    }
    if c.heartbeat_timeout_secs == 0 {
        out.push(Diagnostic::error(
            here(),
            "cluster heartbeat timeout is 0 seconds, so Nimbus would judge every machine lost at once",
            "set heartbeat_timeout_secs to 1 or more (Storm's nimbus.task.timeout.secs is 30)",
        ));
    } else if c.heartbeat_timeout_secs > MAX_HEARTBEAT_TIMEOUT_SECS {
        out.push(Diagnostic::error(
            here(),
            format!(
                "cluster heartbeat timeout of {} s is above the limit of {MAX_HEARTBEAT_TIMEOUT_SECS} s",
                c.heartbeat_timeout_secs
            ),
            "a few seconds shows a lost machine being reassigned",
        ));
    }
    let workers = t.settings.workers;
    if c.machines > 0 && c.slots_per_machine > 0 && u64::from(workers) > c.slots() {
        out.push(Diagnostic::error(
            here(),
            format!(
                "{workers} workers but the cluster has {} slots ({} machines × {} slots)",
                c.slots(),
                c.machines,
                c.slots_per_machine
            ),
            "every worker needs a slot: add machines or slots_per_machine, or lower workers",
        ));
    }
}

/// The cluster steps of `steps` against the cluster `t` runs on: machine numbers in
/// range, and a warning where the run cannot play them.
pub(super) fn check_steps(t: &Topology, steps: &[ScenarioStep], out: &mut Vec<Diagnostic>) {
    let machines = t.settings.cluster.as_ref().map_or(1, |c| c.machines);
    let micro_batch = matches!(t.settings.mode, ExecutionMode::MicroBatch { .. });
    for step in steps {
        let machine = match step.action {
            ScenarioAction::KillMachine(m)
            | ScenarioAction::RestoreMachine(m)
            | ScenarioAction::KillSupervisor(m)
            | ScenarioAction::RestoreSupervisor(m) => Some(m),
            ScenarioAction::KillNimbus | ScenarioAction::RestoreNimbus => None,
            _ => continue,
        };
        let what = step.describe();
        if let Some(m) = machine
            && m >= machines
        {
            let has = if machines == 1 {
                "only machine 0".to_string()
            } else {
                format!("machines 0 to {}", machines - 1)
            };
            out.push(Diagnostic::error(
                Location::Topology,
                format!("scenario step {what:?}: there is no machine {m} (the cluster has {has})"),
                "machines are numbered from 0; set settings.cluster's machines or act on another",
            ));
        }
        // A lost machine loses its workers' partitions in micro-batch mode too; the
        // daemons have no part there (Spark's driver reschedules tasks itself).
        if micro_batch && !matches!(step.action, ScenarioAction::KillMachine(_)) {
            out.push(Diagnostic::warning(
                Location::Topology,
                format!(
                    "scenario step {what:?}: micro-batch runs simulate machines only as sets of \
                     workers to lose"
                ),
                "the step has no effect in micro-batch mode",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ClusterSettings;

    fn judged(workers: u32, c: ClusterSettings, steps: Vec<ScenarioAction>) -> Vec<String> {
        let mut t = Topology::new("t");
        t.settings.workers = workers;
        t.settings.cluster = Some(c);
        let steps: Vec<ScenarioStep> = steps
            .into_iter()
            .map(|action| ScenarioStep {
                at_ms: 2000,
                action,
            })
            .collect();
        let mut out = Vec::new();
        check_cluster(&t, &mut out);
        check_steps(&t, &steps, &mut out);
        out.iter().map(|d| d.to_string()).collect()
    }

    fn cluster(machines: u32, slots_per_machine: u32, timeout: u32) -> ClusterSettings {
        ClusterSettings {
            machines,
            slots_per_machine,
            heartbeat_timeout_secs: timeout,
        }
    }

    #[test]
    fn a_cluster_that_fits_its_workers_is_fine() {
        let ok = judged(
            4,
            cluster(2, 2, 3),
            vec![ScenarioAction::KillMachine(1), ScenarioAction::KillNimbus],
        );
        assert!(ok.is_empty(), "{ok:?}");
    }

    #[test]
    fn too_few_slots_a_zero_timeout_and_a_machine_out_of_range_are_errors() {
        let all = judged(
            5,
            cluster(2, 2, 0),
            vec![ScenarioAction::RestoreSupervisor(2)],
        )
        .join("\n");
        assert!(
            all.contains("5 workers but the cluster has 4 slots (2 machines × 2 slots)"),
            "{all}"
        );
        assert!(all.contains("heartbeat timeout is 0 seconds"), "{all}");
        assert!(
            all.contains("\"at 2s: restore supervisor 2\": there is no machine 2 (the cluster has machines 0 to 1)"),
            "{all}"
        );
        let none = judged(1, cluster(0, 0, 3), vec![]).join("\n");
        assert!(
            none.contains("cluster machines is 0") && none.contains("slots_per_machine is 0"),
            "{none}"
        );
    }
}
