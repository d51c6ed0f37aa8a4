//! Micro-batch mode in the lab: each step is one batch of the batch engine's own
//! stepper (`runtime::batch::stepper`), described as a trace event with the records cut
//! into the batch, each node's output for it and the windows that closed.

use crate::model::Topology;

use super::super::batch::stepper::{BatchStep, Stepper};
use super::super::error::RunError;
use super::super::options::RunOptions;
use super::trace::{BatchTrace, Event, Fields, Kind, NamedWindow, NodeBatch};

pub(super) struct BatchWorld {
    pub(super) stepper: Stepper,
    pub(super) steps: u64,
    /// Records the last batch held: a finished run stops once a batch is empty.
    last_records: usize,
}

impl BatchWorld {
    pub(super) fn build(topology: &Topology, options: &RunOptions) -> Result<BatchWorld, RunError> {
        Ok(BatchWorld {
            stepper: Stepper::build(topology, options)?,
            steps: 0,
            last_records: usize::MAX,
        })
    }

    pub(super) fn t_us(&self) -> u64 {
        self.stepper.t_us()
    }

    /// One batch; `None` once every spout is done and the last batch was empty.
    pub(super) fn step(&mut self) -> Option<Event> {
        if self.stepper.is_finished() && self.last_records == 0 {
            return None;
        }
        let batch = self.stepper.step();
        self.last_records = batch.records;
        self.steps += 1;
        let mut e = Event::new(self.steps, self.t_us(), Kind::Batch, "scheduler", 0);
        e.batch = Some(self.describe(&batch));
        Some(e)
    }

    fn describe(&self, batch: &BatchStep) -> BatchTrace {
        let plan = self.stepper.plan();
        let name = |n: usize| plan.nodes[n].name().to_string();
        let schema = |stream: u32| {
            plan.streams
                .get(stream as usize)
                .map(|s| s.fields.as_slice())
                .unwrap_or(&[])
        };
        BatchTrace {
            time_ms: batch.time_ms,
            from_ms: batch.time_ms.saturating_sub(self.stepper.interval_ms()),
            records: batch.records,
            nodes: batch
                .outputs
                .iter()
                .map(|o| NodeBatch {
                    node: name(o.node),
                    count: o.count,
                    values: o
                        .shown
                        .iter()
                        .map(|(stream, v)| Fields::named(schema(*stream), v))
                        .collect(),
                })
                .collect(),
            windows: batch
                .windows
                .iter()
                .map(|(n, w)| NamedWindow {
                    node: name(*n),
                    result: w.clone(),
                })
                .collect(),
            killed_workers: batch.killed_workers.clone(),
            recomputed: batch.recomputed.clone(),
        }
    }
}
