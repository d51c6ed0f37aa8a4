//! Building a micro-batch run: task infos for components, the topological order of
//! the DAG, and the operator each node becomes.

use std::sync::Arc;

use crate::dstream::StateByKey;

use super::super::components::{Behaviour, Config, Env, Factory, FieldLookup, TaskInfo};
use super::super::error::RunError;
use super::super::plan::{Plan, PlanNode};
use super::keyed_ops::{CountByValue, Join, ReduceByKey, Reduction};
use super::operator::{CountByKey, Operator, PerRecord};
use super::stream_window::{CountByWindow, WindowAll};
use super::window_op::{WindowOp, window_shape};

pub(crate) fn task_info(plan: &Plan, n: usize, env: &Arc<Env>, index: u32, count: u32) -> TaskInfo {
    let pn = &plan.nodes[n];
    TaskInfo {
        node: pn.name().to_string(),
        task: pn.tasks.start + index,
        index,
        count,
        tracking: false,
        env: env.clone(),
        schemas: Arc::new(plan.streams.iter().map(|s| s.fields.clone()).collect()),
        consumers: pn
            .outputs
            .iter()
            .map(|&s| {
                plan.streams[s]
                    .edges
                    .iter()
                    .flat_map(|&e| plan.edges[e].targets.clone())
                    .collect()
            })
            .collect(),
    }
}

/// Nodes in an order where every producer comes before its consumers.
pub(crate) fn topological_order(plan: &Plan) -> Result<Vec<usize>, RunError> {
    let mut indegree: Vec<usize> = plan.nodes.iter().map(|n| n.inputs.len()).collect();
    let mut ready: Vec<usize> = (0..plan.nodes.len())
        .filter(|&n| indegree[n] == 0)
        .collect();
    ready.reverse();
    let mut order = Vec::with_capacity(plan.nodes.len());
    while let Some(n) = ready.pop() {
        order.push(n);
        for e in plan.edges.iter().filter(|e| e.from == n) {
            indegree[e.to] -= 1;
            if indegree[e.to] == 0 {
                ready.push(e.to);
            }
        }
    }
    match (0..plan.nodes.len()).find(|&n| indegree[n] > 0) {
        Some(n) => Err(RunError::Unsupported {
            node: plan.nodes[n].name().to_string(),
            what: "a cycle in micro-batch mode: a batch must flow through the DAG once".into(),
        }),
        None => Ok(order),
    }
}

/// The node's single stream output, if anyone reads it.
fn first_output(pn: &PlanNode) -> Option<u32> {
    pn.outputs.first().map(|&s| s as u32)
}

pub(crate) fn operator_for(
    plan: &Plan,
    n: usize,
    env: &Arc<Env>,
    factory: &Factory,
    overridden: bool,
    interval_ms: u64,
) -> Result<Operator, RunError> {
    let pn = &plan.nodes[n];
    if pn.is_spout() {
        return Ok(Operator::Receiver);
    }
    let info = task_info(plan, n, env, 0, 1);
    let cfg = Config::new(pn);
    match (pn.node.component.as_str(), overridden) {
        ("count_by_key", false) => Ok(Operator::CountByKey(CountByKey {
            key: FieldLookup::new(&cfg.text("key"), &info),
            state: StateByKey::new(),
            output: first_output(pn),
            info: info.clone(),
        })),
        ("window_aggregate", false) => Ok(Operator::Window(Box::new(WindowOp::build(
            pn,
            &info,
            interval_ms,
            first_output(pn),
        )?))),
        ("reduce_by_key", false) => Ok(Operator::Batch(Box::new(ReduceByKey {
            key: FieldLookup::new(&cfg.text("key"), &info),
            field: FieldLookup::new(&cfg.text("field"), &info),
            reduction: Reduction::parse(&cfg.text("reduce")),
            output: first_output(pn),
        }))),
        ("count_by_value", false) => Ok(Operator::Batch(Box::new(CountByValue {
            field: FieldLookup::new(&cfg.text("field"), &info),
            output: first_output(pn),
        }))),
        ("window", false) => Ok(Operator::Batch(Box::new(WindowAll::new(
            window_shape(pn, interval_ms)?,
            first_output(pn),
        )))),
        ("count_by_window", false) => Ok(Operator::Batch(Box::new(CountByWindow::new(
            window_shape(pn, interval_ms)?,
            first_output(pn),
        )))),
        ("join", false) => {
            let side = |setting: &str| {
                let named = cfg.text(setting);
                plan.node_index(&named).ok_or_else(|| RunError::Config {
                    node: pn.name().to_string(),
                    message: format!("'{setting}' names '{named}', which is not a node"),
                })
            };
            Ok(Operator::Batch(Box::new(Join {
                key: FieldLookup::new(&cfg.text("key"), &info),
                left: side("left")?,
                right: side("right")?,
                output: first_output(pn),
            })))
        }
        _ => match factory(&info) {
            Ok(Behaviour::Bolt(bolt)) => Ok(Operator::PerRecord(PerRecord {
                bolt: Some(bolt),
                outputs: pn.outputs.iter().map(|&s| s as u32).collect(),
                info,
                rebuild: factory.clone(),
                refusals: Default::default(),
            })),
            Ok(Behaviour::Spout(_)) => Err(RunError::Config {
                node: pn.name().to_string(),
                message: "a spout component on a bolt".into(),
            }),
            Err(message) => Err(RunError::Config {
                node: pn.name().to_string(),
                message,
            }),
        },
    }
}
