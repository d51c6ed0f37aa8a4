//! Compiling a validated topology into tasks and executors, numbered as Storm does:
//! components in sorted name order, each with a contiguous range of task ids from 1;
//! each executor runs a contiguous slice of its component's tasks. Acker tasks come
//! after every user task.
//!
//! Executors are spread over the topology's simulated workers round-robin in plan
//! order (executor `i` runs in worker `i % workers`), the way Storm's even scheduler
//! deals executors out over worker slots. A worker is a failure domain: killing it
//! kills all its executors at once.

use std::ops::Range;

use crate::model::{Grouping, Node, Role, Topology};

use super::error::RunError;

/// One node of the topology as the runtime sees it.
#[derive(Debug, Clone)]
pub struct PlanNode {
    pub node: Node,
    /// Task ids of this node: `first..first+count`.
    pub tasks: Range<u32>,
    pub executors: Vec<usize>,
    /// Global stream ids this node emits, in declaration order (local index = position).
    pub outputs: Vec<usize>,
    /// Plan edges that feed this node.
    pub inputs: Vec<usize>,
}

impl PlanNode {
    pub fn name(&self) -> &str {
        &self.node.name
    }

    pub fn is_spout(&self) -> bool {
        matches!(self.node.role, Role::Spout | Role::Source)
    }
}

/// One declared output stream of one node.
#[derive(Debug, Clone)]
pub struct PlanStream {
    pub node: usize,
    pub name: String,
    pub fields: Vec<String>,
    pub direct: bool,
    /// Plan edges subscribing to this stream.
    pub edges: Vec<usize>,
}

/// A subscription: consumer node `to` reads `stream` with a grouping.
#[derive(Debug, Clone)]
pub struct PlanEdge {
    pub from: usize,
    pub to: usize,
    pub stream: usize,
    pub grouping: Grouping,
    /// Positions of the grouping fields in the stream schema.
    pub field_positions: Vec<usize>,
    /// Consumer task ids, ascending (what Storm's groupers see).
    pub targets: Vec<u32>,
}

/// What an executor thread runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecutorKind {
    Node(usize),
    Acker(usize),
}

#[derive(Debug, Clone)]
pub struct PlanExecutor {
    pub kind: ExecutorKind,
    pub tasks: Range<u32>,
    /// The simulated worker this executor runs in (`0..plan.workers`).
    pub worker: u32,
}

/// The compiled topology.
#[derive(Debug, Clone)]
pub struct Plan {
    pub nodes: Vec<PlanNode>,
    pub streams: Vec<PlanStream>,
    pub edges: Vec<PlanEdge>,
    pub executors: Vec<PlanExecutor>,
    /// Index = task id; 0 is unused so ids can start at 1 like Storm's.
    pub task_executor: Vec<usize>,
    pub task_node: Vec<Option<usize>>,
    /// Executor index of each acker, in acker order.
    pub acker_executors: Vec<usize>,
    pub message_timeout_secs: u32,
    pub max_spout_pending: Option<u32>,
    /// Simulated worker processes (at least 1).
    pub workers: u32,
    /// What the run promises; at-most-once plans have no ackers.
    pub guarantee: crate::model::Guarantee,
}

impl Plan {
    pub fn ackers(&self) -> usize {
        self.acker_executors.len()
    }

    pub fn node_index(&self, name: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.node.name == name)
    }

    /// Task ids of a node in Storm's numbering (empty for an unknown name): what every
    /// engine reports as `tasks_of`, so they cannot number differently.
    pub fn tasks_of(&self, name: &str) -> Vec<u32> {
        self.node_index(name)
            .map(|i| self.nodes[i].tasks.clone().collect())
            .unwrap_or_default()
    }

    pub fn task_count(&self) -> usize {
        self.task_executor.len() - 1
    }
}

/// Splits `tasks` into `parts` contiguous ranges whose sizes differ by at most one.
fn split_range(tasks: Range<u32>, parts: u32) -> Vec<Range<u32>> {
    let n = tasks.end - tasks.start;
    let parts = parts.clamp(1, n.max(1));
    let (base, extra) = (n / parts, n % parts);
    let mut start = tasks.start;
    (0..parts)
        .map(|i| {
            let len = base + u32::from(i < extra);
            let r = start..start + len;
            start += len;
            r
        })
        .collect()
}

/// Compiles a topology that validation accepted.
pub fn compile(topology: &Topology) -> Result<Plan, RunError> {
    let mut nodes: Vec<&Node> = topology.nodes().collect();
    nodes.sort_by(|a, b| a.name.cmp(&b.name));

    let mut plan = Plan {
        nodes: Vec::new(),
        streams: Vec::new(),
        edges: Vec::new(),
        executors: Vec::new(),
        task_executor: vec![usize::MAX],
        task_node: vec![None],
        acker_executors: Vec::new(),
        message_timeout_secs: topology.settings.message_timeout_secs.max(1),
        max_spout_pending: topology.settings.max_spout_pending,
        workers: topology.settings.workers.max(1),
        guarantee: topology.settings.guarantee,
    };
    let mut next_task = 1u32;
    for (i, node) in nodes.iter().enumerate() {
        let count = node.task_count().max(1);
        let tasks = next_task..next_task + count;
        next_task += count;
        let mut executors = Vec::new();
        for range in split_range(tasks.clone(), node.parallelism.max(1)) {
            executors.push(plan.executors.len());
            for _ in range.clone() {
                plan.task_executor.push(plan.executors.len());
                plan.task_node.push(Some(i));
            }
            plan.executors.push(PlanExecutor {
                kind: ExecutorKind::Node(i),
                tasks: range,
                worker: 0,
            });
        }
        let mut outputs = Vec::new();
        for decl in &node.outputs {
            outputs.push(plan.streams.len());
            plan.streams.push(PlanStream {
                node: i,
                name: decl.stream.clone(),
                fields: decl.fields.clone(),
                direct: decl.direct,
                edges: Vec::new(),
            });
        }
        plan.nodes.push(PlanNode {
            node: (*node).clone(),
            tasks,
            executors,
            outputs,
            inputs: Vec::new(),
        });
    }
    // Ackers track spout tuple trees; with no spout in the plan (a pure-Flume run, whose
    // agents run apart) there is nothing to ack, and an acker would only sit idle.
    // At most once means no tracking at all, which is what no ackers gives.
    let tracked = plan.guarantee != crate::model::Guarantee::AtMostOnce;
    let ackers = if tracked && plan.nodes.iter().any(PlanNode::is_spout) {
        topology.settings.ackers
    } else {
        0
    };
    for a in 0..ackers {
        let task = next_task;
        next_task += 1;
        plan.acker_executors.push(plan.executors.len());
        plan.task_executor.push(plan.executors.len());
        plan.task_node.push(None);
        plan.executors.push(PlanExecutor {
            kind: ExecutorKind::Acker(a as usize),
            tasks: task..task + 1,
            worker: 0,
        });
    }
    let workers = plan.workers;
    for (i, e) in plan.executors.iter_mut().enumerate() {
        e.worker = (i as u32) % workers;
    }

    for named in topology.edge_list() {
        let (Some(from), Some(to)) = (plan.node_index(&named.from), plan.node_index(&named.to))
        else {
            continue;
        };
        let Some(&stream) = plan.nodes[from]
            .outputs
            .iter()
            .find(|&&s| plan.streams[s].name == named.stream)
        else {
            return Err(RunError::Config {
                node: named.from.clone(),
                message: format!(
                    "no declared stream '{}' for the edge to '{}'",
                    named.stream, named.to
                ),
            });
        };
        let schema = &plan.streams[stream].fields;
        let mut field_positions = Vec::new();
        for f in named.grouping.fields() {
            let Some(p) = schema.iter().position(|s| s == f) else {
                return Err(RunError::Config {
                    node: named.to.clone(),
                    message: format!(
                        "grouping field '{f}' is not in stream '{}' of '{}'",
                        named.stream, named.from
                    ),
                });
            };
            field_positions.push(p);
        }
        let targets: Vec<u32> = plan.nodes[to].tasks.clone().collect();
        let index = plan.edges.len();
        plan.streams[stream].edges.push(index);
        plan.nodes[to].inputs.push(index);
        plan.edges.push(PlanEdge {
            from,
            to,
            stream,
            grouping: named.grouping,
            field_positions,
            targets,
        });
    }
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Node, Role};

    #[test]
    fn tasks_are_numbered_by_sorted_name_in_contiguous_ranges() {
        let mut t = Topology::new("t");
        t.add_node(Node::new("b", Role::Bolt, "null").with_parallelism(2))
            .unwrap();
        let mut a = Node::new("a", Role::Spout, "sequence");
        a.tasks = Some(3);
        t.add_node(a).unwrap();
        let plan = compile(&t).unwrap();
        assert_eq!(plan.nodes[0].tasks, 1..4);
        assert_eq!(plan.nodes[1].tasks, 4..6);
        assert_eq!(plan.executors.len(), 1 + 2 + 1);
        assert_eq!(plan.task_executor[5], 2);
        assert_eq!(split_range(1..6, 2), vec![1..4, 4..6]);
    }

    #[test]
    fn no_spout_no_acker() {
        let mut t = Topology::new("t");
        t.settings.ackers = 2;
        t.add_node(Node::new("b", Role::Bolt, "null")).unwrap();
        let plan = compile(&t).unwrap();
        assert_eq!(plan.ackers(), 0);
        assert_eq!(plan.executors.len(), 1);
        t.add_node(Node::new("a", Role::Spout, "sequence")).unwrap();
        assert_eq!(compile(&t).unwrap().ackers(), 2);
    }

    #[test]
    fn executors_are_dealt_round_robin_over_workers() {
        let mut t = Topology::new("t");
        t.settings.workers = 2;
        t.settings.ackers = 1;
        t.add_node(Node::new("b", Role::Bolt, "null").with_parallelism(2))
            .unwrap();
        t.add_node(Node::new("a", Role::Spout, "sequence")).unwrap();
        let plan = compile(&t).unwrap();
        let workers: Vec<u32> = plan.executors.iter().map(|e| e.worker).collect();
        // a, b, b, acker
        assert_eq!(workers, vec![0, 1, 0, 1]);
    }
}
