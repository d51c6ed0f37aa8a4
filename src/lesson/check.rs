//! A parsed lesson judged against its topology before it is played: every node, edge
//! and task a step names exists, every action is one its engine and mode can do, every
//! question has an answer the run can compute. All problems are reported at once,
//! each at the step (and, where it can be found, the name) it is about.

use petgraph::stable_graph::EdgeIndex;

use crate::model::{ExecutionMode, Grouping, Role, Topology};

use super::file::{Action, Answer, Check, Engine, Expect, Highlight, Lesson, LessonError, Metric};
use super::locate;

/// Every problem of `lesson`; empty when it can be played.
pub fn check(lesson: &Lesson) -> Vec<LessonError> {
    let mut problems = Vec::new();
    let whole = |message: String| {
        LessonError::new(&lesson.path, locate::key(&lesson.text, "topology"), message)
    };
    let diagnostics = crate::validate::validate(&lesson.topology);
    if let Some(d) = diagnostics.iter().find(|d| d.is_error()) {
        problems.push(whole(format!("its topology is not valid: {d}")));
    }
    if lesson.engine == Engine::Lab
        && let Some(why) = crate::runtime::lab::refusal(&lesson.topology)
    {
        problems.push(whole(format!(
            "a Lab lesson's topology must be steppable: {why}"
        )));
    }
    if lesson.steps.is_empty() {
        problems.push(LessonError::new(
            &lesson.path,
            locate::key(&lesson.text, "steps"),
            "a lesson needs at least one step",
        ));
    }
    // Design actions change the topology as the lesson goes: later steps are judged
    // against the design as it will be then.
    let mut design = lesson.topology.clone();
    for (i, step) in lesson.steps.iter().enumerate() {
        let mut at = |name: &str, message: String| {
            problems.push(LessonError::new(
                &lesson.path,
                locate::in_step(&lesson.text, i, name),
                format!("step {}: {message}", i + 1),
            ));
        };
        for action in &step.actions {
            check_action(lesson.engine, &mut design, action, &mut at);
        }
        for h in &step.highlight {
            match h {
                Highlight::Node(n) => need_node(&design, n, &mut at),
                Highlight::Edge(from, to) => need_edge(&design, from, to, &mut at),
                Highlight::Task(n, index) => {
                    if let Some(node) = design.node_by_name(n) {
                        let tasks = node.tasks.unwrap_or(node.parallelism);
                        if *index >= tasks {
                            at(
                                n,
                                format!(
                                    "node '{n}' has {tasks} tasks (0 to {}); task {index} does not exist",
                                    tasks.saturating_sub(1)
                                ),
                            );
                        }
                    } else {
                        need_node(&design, n, &mut at);
                    }
                }
            }
        }
        match &step.check {
            Some(Check::Question(answer)) => check_answer(&design, answer, &mut at),
            Some(Check::Expect(list)) => {
                for Expect(metric, _, _) in list {
                    check_metric(&design, lesson.engine, metric, &mut at);
                }
            }
            None => {}
        }
    }
    problems
}

fn need_node(t: &Topology, name: &str, at: &mut impl FnMut(&str, String)) {
    if t.node_by_name(name).is_none() {
        at(name, format!("the topology has no node '{name}'"));
    }
}

fn need_edge(t: &Topology, from: &str, to: &str, at: &mut impl FnMut(&str, String)) {
    if edge_grouping(t, from, to).is_none() {
        at(to, format!("the topology has no edge '{from}' → '{to}'"));
    }
}

/// The edge `from → to`, if there is one.
pub(super) fn edge_between(t: &Topology, from: &str, to: &str) -> Option<EdgeIndex> {
    let (from, to) = (t.index_of(from)?, t.index_of(to)?);
    t.inputs(to).find(|(_, f, _)| *f == from).map(|(e, _, _)| e)
}

/// The grouping of the edge `from → to`, if there is one.
fn edge_grouping(t: &Topology, from: &str, to: &str) -> Option<Grouping> {
    let e = edge_between(t, from, to)?;
    t.edge(e).map(|e| e.grouping.clone())
}

/// The groupings of the edges into `node`.
pub(super) fn incoming(t: &Topology, node: &str) -> Vec<Grouping> {
    t.index_of(node)
        .map(|i| t.inputs(i).map(|(_, _, e)| e.grouping.clone()).collect())
        .unwrap_or_default()
}

fn check_action(
    engine: Engine,
    design: &mut Topology,
    action: &Action,
    at: &mut impl FnMut(&str, String),
) {
    match action {
        Action::LabStep(_) if engine != Engine::Lab => at(
            "LabStep",
            "stepping needs a Lab lesson (`engine: Lab`); this one runs live".into(),
        ),
        Action::LabUntil(_) if engine != Engine::Lab => at(
            "LabUntil",
            "stepping needs a Lab lesson (`engine: Lab`); this one runs live".into(),
        ),
        Action::Run(_) if engine != Engine::Live => at(
            "Run",
            "a timed run needs a live lesson (`engine: Live`); a Lab lesson steps".into(),
        ),
        Action::RunToEnd if engine != Engine::Live => at(
            "RunToEnd",
            "a timed run needs a live lesson (`engine: Live`); a Lab lesson steps".into(),
        ),
        Action::Run(secs) if !(secs.is_finite() && *secs > 0.0 && *secs <= 20.0) => at(
            "Run",
            format!("Run({secs}): a run lasts more than 0 and at most 20 seconds"),
        ),
        Action::SetFaults {
            node, fail, crash, ..
        } => {
            need_node(design, node, at);
            for (what, p) in [("fail", fail), ("crash", crash)] {
                if !(0.0..=1.0).contains(p) {
                    at(
                        node,
                        format!("{what} is a probability from 0 to 1, not {p}"),
                    );
                }
            }
        }
        Action::SetRate { node, per_sec } => {
            need_node(design, node, at);
            if !(per_sec.is_finite() && *per_sec >= 0.0) {
                at(
                    node,
                    format!("a rate is 0 or more per second, not {per_sec}"),
                );
            }
        }
        Action::KillWorker(w) if *w >= design.settings.workers.max(1) => {
            at(
                "KillWorker",
                format!(
                    "kill worker {w}: the topology has workers 0 to {}",
                    design.settings.workers.max(1) - 1
                ),
            );
        }
        Action::SetGrouping { from, to, grouping } => {
            need_edge(design, from, to, at);
            if let Some(e) = edge_between(design, from, to).and_then(|e| design.edge_mut(e)) {
                e.grouping = grouping.clone();
            }
        }
        Action::SetParallelism { node, parallelism } => {
            need_node(design, node, at);
            if *parallelism == 0 || *parallelism > 64 {
                at(
                    node,
                    format!("parallelism {parallelism}: a lesson uses 1 to 64"),
                );
            }
            if let Some(n) = design.node_by_name_mut(node) {
                n.parallelism = *parallelism;
                n.tasks = None;
            }
        }
        Action::SwitchMode(mode) => {
            if engine == Engine::Lab
                && let ExecutionMode::MicroBatch { interval_ms: 0 } = mode
            {
                at(
                    "SwitchMode",
                    "a micro-batch interval is at least 1 ms".into(),
                );
            }
            design.settings.mode = *mode;
        }
        Action::SetGuarantee(guarantee) => design.settings.guarantee = *guarantee,
        _ => {}
    }
}

fn check_metric(
    design: &Topology,
    engine: Engine,
    metric: &Metric,
    at: &mut impl FnMut(&str, String),
) {
    match metric {
        Metric::Emitted(n)
        | Metric::Executed(n)
        | Metric::Acked(n)
        | Metric::Failed(n)
        | Metric::Replayed(n)
        | Metric::TimedOut(n)
        | Metric::Restarts(n) => need_node(design, n, at),
        Metric::Collected(n)
        | Metric::Distinct(n)
        | Metric::TasksReached(n)
        | Metric::TasksPerKey(n) => match design.node_by_name(n) {
            Some(node) if node.component == "collector" => {}
            Some(_) => at(
                n,
                format!("'{n}' is not a collector: only collectors keep what they receive"),
            ),
            None => need_node(design, n, at),
        },
        Metric::Steps if engine != Engine::Lab => at(
            "Steps",
            "Steps counts Lab steps; this lesson runs live".into(),
        ),
        Metric::TreesAcked | Metric::TreesFailed | Metric::Steps => {}
        Metric::EventsIn(n) | Metric::EventsOut(n) => need_node(design, n, at),
        Metric::ChannelSize(n) | Metric::Commits(n) | Metric::Rollbacks(n) => {
            match design.node_by_name(n) {
                Some(node) if node.role == Role::Channel => {}
                Some(_) => at(n, format!("'{n}' is not a Flume channel")),
                None => need_node(design, n, at),
            }
        }
        Metric::WindowKeys(n) | Metric::WindowBatches(n) => {
            match design.node_by_name(n) {
                Some(node) if node.window.is_some() => {}
                Some(_) => at(n, format!("'{n}' has no window")),
                None => need_node(design, n, at),
            }
            if !matches!(design.settings.mode, ExecutionMode::MicroBatch { .. }) {
                at(n, "window results are kept in micro-batch mode".into());
            }
        }
        Metric::LatencyMs => {}
        Metric::CommittedBatches => {
            if design.settings.guarantee != crate::model::Guarantee::ExactlyOnce {
                at(
                    "CommittedBatches",
                    "batches are committed only under exactly-once (SetGuarantee(ExactlyOnce))"
                        .into(),
                );
            }
        }
        Metric::Batches
        | Metric::LastBatchRecords
        | Metric::SchedulingDelayMs
        | Metric::ProcessingMs => {
            if !matches!(design.settings.mode, ExecutionMode::MicroBatch { .. }) {
                at(
                    "",
                    "a batch metric needs the design in micro-batch mode".into(),
                );
            }
        }
    }
}

fn check_answer(design: &Topology, answer: &Answer, at: &mut impl FnMut(&str, String)) {
    match answer {
        Answer::TaskOf { node, key } => {
            let Some(n) = design.node_by_name(node) else {
                return need_node(design, node, at);
            };
            if !n.role.accepts_input() || n.role == Role::Channel {
                return at(node, format!("'{node}' receives no tuples from a grouping"));
            }
            let incoming = incoming(design, node);
            match incoming.as_slice() {
                [Grouping::Fields(f)] | [Grouping::PartialKey(f)] if f.len() == key.len() => {}
                [Grouping::Fields(f)] | [Grouping::PartialKey(f)] => at(
                    node,
                    format!(
                        "the grouping into '{node}' uses {} field(s) ({}); the key gives {}",
                        f.len(),
                        f.join(", "),
                        key.len()
                    ),
                ),
                [Grouping::Global] => {}
                [_] => at(
                    node,
                    format!(
                        "the grouping into '{node}' does not pick a task by key (use fields, partial key or global)"
                    ),
                ),
                _ => at(
                    node,
                    format!(
                        "'{node}' has {} incoming edges; TaskOf needs exactly one",
                        incoming.len()
                    ),
                ),
            }
        }
        Answer::Count(m) => check_metric(design, Engine::Lab, m, at),
        Answer::Holds(Expect(m, _, _)) => check_metric(design, Engine::Lab, m, at),
    }
}
