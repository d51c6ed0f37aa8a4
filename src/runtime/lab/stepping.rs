//! What a lab run steps: a record-at-a-time world (`world`) or a micro-batch run one
//! batch at a time (`batches`). `LabEngine` holds one and asks it the same questions
//! whichever it is, so stepping, actions, step back and the trace work alike for both.

use crate::model::{ExecutionMode, Topology};
use crate::policy::Grant;

use super::super::components::Collected;
use super::super::control::Control;
use super::super::error::RunError;
use super::super::log::RunLog;
use super::super::metrics::MetricsSnapshot;
use super::super::options::RunOptions;
use super::LabOptions;
use super::batches::BatchWorld;
use super::trace::{Event, Kind};
use super::world::World;

pub(super) enum Stepping {
    Records(World),
    Batches(BatchWorld),
}

impl Stepping {
    pub(super) fn build(
        topology: &Topology,
        options: &RunOptions,
        grant: Grant,
        lab: &LabOptions,
    ) -> Result<Stepping, RunError> {
        Ok(match topology.settings.mode {
            ExecutionMode::RecordAtATime => Stepping::Records(World::build(
                topology,
                options,
                grant,
                lab.queue_capacity,
                lab.event_cost,
            )?),
            ExecutionMode::MicroBatch { .. } => {
                Stepping::Batches(BatchWorld::build(topology, options)?)
            }
        })
    }

    pub(super) fn steps(&self) -> u64 {
        match self {
            Stepping::Records(w) => w.steps,
            Stepping::Batches(b) => b.steps,
        }
    }

    pub(super) fn t_us(&self) -> u64 {
        match self {
            Stepping::Records(w) => w.t_us(),
            Stepping::Batches(b) => b.t_us(),
        }
    }

    pub(super) fn step(&mut self) -> Option<Event> {
        match self {
            Stepping::Records(w) => w.step(),
            Stepping::Batches(b) => b.step(),
        }
    }

    /// Applies a learner action and describes it as a step.
    pub(super) fn act(&mut self, command: Control) -> Event {
        let t_us = self.t_us();
        let mut e = match (&command, &mut *self) {
            (Control::KillWorker { worker }, Stepping::Records(world)) => {
                let mut e = Event::new(0, t_us, Kind::Kill, "engine", *worker);
                world.kill_worker(*worker, &mut e);
                e
            }
            (Control::KillWorker { worker }, Stepping::Batches(b)) => {
                let mut e = Event::new(0, t_us, Kind::Kill, "engine", *worker);
                e.note = Some(format!(
                    "kill worker {worker}: lands during the next batch's job; its partitions are recomputed from lineage"
                ));
                b.stepper.control(command.clone());
                e
            }
            (other, _) => {
                let node = match other {
                    Control::SetRate { node, .. } | Control::SetFaults { node, .. } => node.clone(),
                    _ => "engine".to_string(),
                };
                let mut e = Event::new(0, t_us, Kind::Control, &node, 0);
                e.note = Some(describe(other));
                match &*self {
                    Stepping::Records(world) if matches!(command, Control::TraceEvery { .. }) => {
                        if let Control::TraceEvery { every } = command {
                            world.wiring.tracer.set_every(u64::from(every));
                        }
                    }
                    Stepping::Records(world) => {
                        let w = &world.wiring;
                        super::super::control::apply_to_switches(
                            command,
                            &w.switches,
                            &w.plan,
                            &w.node_switches,
                            &w.env.log,
                        );
                    }
                    Stepping::Batches(b) => b.stepper.control(command),
                }
                e
            }
        };
        let steps = match self {
            Stepping::Records(w) => {
                w.steps += 1;
                w.steps
            }
            Stepping::Batches(b) => {
                b.steps += 1;
                b.steps
            }
        };
        e.step = steps;
        e
    }

    pub(super) fn log(&self) -> &RunLog {
        match self {
            Stepping::Records(w) => &w.wiring.env.log,
            Stepping::Batches(b) => b.stepper.log(),
        }
    }

    pub(super) fn collected(&self) -> &Collected {
        match self {
            Stepping::Records(w) => &w.collected,
            Stepping::Batches(b) => b.stepper.collected(),
        }
    }

    pub(super) fn tasks_of(&self, node: &str) -> Vec<u32> {
        match self {
            Stepping::Records(w) => w.wiring.plan.tasks_of(node),
            Stepping::Batches(b) => b.stepper.plan().tasks_of(node),
        }
    }

    pub(super) fn is_finished(&self) -> bool {
        match self {
            Stepping::Records(w) => w.is_finished(),
            Stepping::Batches(b) => b.stepper.is_finished(),
        }
    }

    /// Pushes buffered output to its files (a step back cuts the files next).
    pub(super) fn flush(&mut self) {
        if let Stepping::Records(w) = self {
            w.flush();
        }
    }

    pub(super) fn snapshot(&self) -> MetricsSnapshot {
        match self {
            Stepping::Records(w) => w.snapshot(),
            Stepping::Batches(b) => b.stepper.snapshot(),
        }
    }

    pub(super) fn mode(&self) -> ExecutionMode {
        match self {
            Stepping::Records(_) => ExecutionMode::RecordAtATime,
            Stepping::Batches(b) => ExecutionMode::MicroBatch {
                interval_ms: b.stepper.interval_ms(),
            },
        }
    }

    /// The record-at-a-time world, when that is what runs.
    pub(super) fn records(&self) -> Option<&World> {
        match self {
            Stepping::Records(w) => Some(w),
            Stepping::Batches(_) => None,
        }
    }
}

fn describe(c: &Control) -> String {
    match c {
        Control::Pause => "pause".into(),
        Control::Resume => "resume".into(),
        Control::SetRate { per_sec: None, .. } => "rate as configured".into(),
        Control::SetRate {
            per_sec: Some(r), ..
        } => format!("rate {r}/s per task"),
        Control::SetFaults { faults, .. } => faults.describe(),
        Control::KillWorker { worker } => format!("kill worker {worker}"),
        Control::Cluster(action) => action.describe(),
        Control::Rebalance { .. } => "rebalance".into(),
        Control::TraceEvery { every: 0 } => "tracer bullets off".into(),
        Control::TraceEvery { every } => format!("trace 1 tree in {every}"),
    }
}
