//! Playing a lesson: each step's actions run on the lesson's engine (the lab, or a
//! live run), then its check is answered from that run. The designer's lesson panel
//! and `tributary lesson check` both play through here.
//!
//! A lesson's topology runs from a copy with its data in a work folder the caller
//! gives (the designer: the user's data folder; the CLI: a temporary folder), so a
//! lesson never writes beside the files it was opened from.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::model::{Grouping, Topology};
use crate::runtime::lab::Kind;
use crate::runtime::routing::{deep_hash, floor_mod};
use crate::runtime::tuple::{Val, Values};
use crate::runtime::{
    Control, Engine as LiveEngine, FaultSpec, LabEngine, LabOptions, MetricsSnapshot, RunOptions,
    StopMode, Until,
};

use super::check::{edge_between, incoming};
use super::file::{Action, Answer, Check, Engine, Expect, Lesson, LessonError, Metric, UntilEvent};
use super::locate;

/// Most lab steps one `LabUntil` takes.
pub const UNTIL_LIMIT: u64 = 100_000;
/// Longest a `RunToEnd` waits.
pub const RUN_TO_END_LIMIT: Duration = Duration::from_secs(20);

/// The right answer to a step's question, with how the run gives it.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The task that receives the key: its Storm id, its index among the node's
    /// tasks, and the routing written out.
    Task {
        task: u32,
        index: usize,
        tasks: Vec<u32>,
        explanation: String,
    },
    Number(f64),
    YesNo {
        holds: bool,
        value: f64,
    },
}

/// What playing one step gave.
#[derive(Debug, Clone, PartialEq)]
pub struct StepReport {
    pub step: usize,
    /// The question's answer, if the step asks one.
    pub answer: Option<Outcome>,
    /// Each expectation with the value the run gave and whether it held.
    pub expectations: Vec<(Expect, f64, bool)>,
}

impl StepReport {
    /// False when an expectation of the step did not hold.
    pub fn passed(&self) -> bool {
        self.expectations.iter().all(|(_, _, ok)| *ok)
    }
}

enum Run {
    Idle,
    Lab(Box<LabEngine>),
    Live(LiveEngine),
}

/// A lesson being played, step by step.
pub struct Player {
    lesson: Lesson,
    design: Topology,
    base_dir: PathBuf,
    topology_file: Option<PathBuf>,
    run: Run,
    next: usize,
}

impl Player {
    /// Prepares `lesson` to play, copying its topology and the data it reads into a
    /// fresh folder under `workdir`.
    pub fn new(lesson: Lesson, workdir: &Path) -> Result<Player, LessonError> {
        let fail = |message: String| LessonError::new(&lesson.path, None, message);
        let places = crate::design::FilePlaces {
            config_dir: None,
            examples_dir: None,
            data_dir: Some(workdir.to_path_buf()),
        };
        let (base_dir, topology_file) = match &lesson.topology_file {
            Some(file) => {
                let copy =
                    crate::design::example_copy::copy_example(&places, file).map_err(fail)?;
                let folder = copy
                    .parent()
                    .map_or_else(|| workdir.to_path_buf(), Path::to_path_buf);
                (folder, Some(copy))
            }
            None => {
                let folder = workdir.join("inline");
                std::fs::create_dir_all(&folder)
                    .map_err(|e| fail(format!("{}: cannot create: {e}", folder.display())))?;
                (folder, None)
            }
        };
        Ok(Player {
            design: lesson.topology.clone(),
            lesson,
            base_dir,
            topology_file,
            run: Run::Idle,
            next: 0,
        })
    }

    pub fn lesson(&self) -> &Lesson {
        &self.lesson
    }

    /// The design as the lesson's actions so far have made it.
    pub fn design(&self) -> &Topology {
        &self.design
    }

    /// The step `play_next` plays (0-based); equal to the step count at the end.
    pub fn next_step(&self) -> usize {
        self.next
    }

    pub fn is_done(&self) -> bool {
        self.next >= self.lesson.steps.len()
    }

    /// The lab run, in a Lab lesson once started.
    pub fn lab(&self) -> Option<&LabEngine> {
        match &self.run {
            Run::Lab(l) => Some(l),
            _ => None,
        }
    }

    pub fn lab_mut(&mut self) -> Option<&mut LabEngine> {
        match &mut self.run {
            Run::Lab(l) => Some(l),
            _ => None,
        }
    }

    /// The run's numbers now, if a run is going.
    pub fn snapshot(&self) -> Option<MetricsSnapshot> {
        match &self.run {
            Run::Idle => None,
            Run::Lab(l) => Some(l.metrics()),
            Run::Live(e) => Some(e.snapshot()),
        }
    }

    fn options(&self) -> RunOptions {
        RunOptions {
            seed: self.lesson.seed,
            base_dir: self.base_dir.clone(),
            topology_file: self.topology_file.clone(),
            ..RunOptions::default()
        }
    }

    fn error(&self, step: usize, message: String) -> LessonError {
        LessonError::new(
            &self.lesson.path,
            locate::step(&self.lesson.text, step),
            format!("step {}: {message}", step + 1),
        )
    }

    /// Starts the lesson's engine on the current design, if not running.
    fn ensure_run(&mut self, step: usize) -> Result<(), LessonError> {
        if !matches!(self.run, Run::Idle) {
            return Ok(());
        }
        let options = self.options();
        self.run = match self.lesson.engine {
            Engine::Lab => Run::Lab(Box::new(
                LabEngine::start(&self.design, options, LabOptions::default())
                    .map_err(|e| self.error(step, format!("the lab did not start: {e}")))?,
            )),
            Engine::Live => Run::Live(
                LiveEngine::start(&self.design, options)
                    .map_err(|e| self.error(step, format!("the run did not start: {e}")))?,
            ),
        };
        Ok(())
    }

    /// Stops the run (its numbers are gone; the next action starts a fresh one).
    fn restart(&mut self) {
        if let Run::Live(e) = std::mem::replace(&mut self.run, Run::Idle) {
            e.stop(StopMode::Immediate);
        }
    }

    fn control(&mut self, command: Control) {
        match &mut self.run {
            Run::Lab(l) => {
                l.act(command);
            }
            Run::Live(e) => e.control(command),
            Run::Idle => {}
        }
    }

    /// Plays the next step: its actions, then its check. Expectations that do not hold
    /// are in the report (`passed`), not errors; errors are actions that could not run.
    pub fn play_next(&mut self) -> Result<StepReport, LessonError> {
        let step = self.next;
        let Some(s) = self.lesson.steps.get(step).cloned() else {
            return Err(self.error(step, "the lesson has no more steps".into()));
        };
        for action in &s.actions {
            self.act(step, action)?;
        }
        let mut report = StepReport {
            step,
            answer: None,
            expectations: Vec::new(),
        };
        match &s.check {
            Some(Check::Question(answer)) => {
                report.answer = Some(self.answer(step, answer)?);
            }
            Some(Check::Expect(list)) => {
                for e in list {
                    let value = self.metric(step, &e.0)?;
                    report
                        .expectations
                        .push((e.clone(), value, e.1.holds(value, e.2)));
                }
            }
            None => {}
        }
        self.next += 1;
        Ok(report)
    }

    fn act(&mut self, step: usize, action: &Action) -> Result<(), LessonError> {
        match action {
            Action::SetGrouping { from, to, grouping } => {
                if let Some(e) =
                    edge_between(&self.design, from, to).and_then(|e| self.design.edge_mut(e))
                {
                    e.grouping = grouping.clone();
                }
                self.restart();
                return Ok(());
            }
            Action::SetParallelism { node, parallelism } => {
                if let Some(n) = self.design.node_by_name_mut(node) {
                    n.parallelism = *parallelism;
                    n.tasks = None;
                }
                self.restart();
                return Ok(());
            }
            Action::SwitchMode(mode) => {
                self.design.settings.mode = *mode;
                self.restart();
                return Ok(());
            }
            Action::SetGuarantee(guarantee) => {
                self.design.settings.guarantee = *guarantee;
                self.restart();
                return Ok(());
            }
            Action::Restart => {
                self.restart();
                return self.ensure_run(step);
            }
            _ => {}
        }
        self.ensure_run(step)?;
        match action {
            Action::LabStep(n) => {
                if let Some(l) = self.lab_mut() {
                    l.step_n(*n);
                }
            }
            Action::LabUntil(event) => {
                let until = match event {
                    UntilEvent::Emitted => Until::Emitted,
                    UntilEvent::Acked => Until::Acked,
                    UntilEvent::Failed => Until::Failed,
                    UntilEvent::Timeout => Until::Timeout,
                    UntilEvent::Window => Until::Window,
                };
                if let Some(l) = self.lab_mut() {
                    l.run_until(until, UNTIL_LIMIT);
                }
            }
            Action::Run(secs) => {
                std::thread::sleep(Duration::from_secs_f64(secs.clamp(0.0, 20.0)));
            }
            Action::RunToEnd => {
                if let Run::Live(e) = &self.run {
                    e.wait_finished(RUN_TO_END_LIMIT);
                }
            }
            Action::SetFaults {
                node,
                fail,
                crash,
                latency_ms,
            } => self.control(Control::SetFaults {
                node: node.clone(),
                faults: FaultSpec {
                    fail_probability: *fail,
                    crash_probability: *crash,
                    added_latency: Duration::from_millis(*latency_ms),
                },
            }),
            Action::SetRate { node, per_sec } => self.control(Control::SetRate {
                node: node.clone(),
                per_sec: Some(*per_sec),
            }),
            Action::KillWorker(worker) => self.control(Control::KillWorker { worker: *worker }),
            Action::SetGrouping { .. }
            | Action::SetParallelism { .. }
            | Action::SwitchMode(_)
            | Action::SetGuarantee(_)
            | Action::Restart => {}
        }
        Ok(())
    }

    /// A metric's value now.
    fn metric(&mut self, step: usize, metric: &Metric) -> Result<f64, LessonError> {
        self.ensure_run(step)?;
        let snap = self.snapshot().unwrap_or_default();
        let node = |name: &str| snap.nodes.get(name).cloned().unwrap_or_default();
        let by_task = |name: &str| match &self.run {
            Run::Lab(l) => l.collected_with_tasks(name),
            Run::Live(e) => e.collected_by_task(name),
            Run::Idle => Vec::new(),
        };
        let collected =
            |name: &str| -> Vec<Values> { by_task(name).into_iter().map(|(_, v)| v).collect() };
        let lab_outcomes = |ok: bool| {
            self.lab().map(|l| {
                l.trace()
                    .iter()
                    .filter(|e| e.kind == Kind::Outcome && e.ok == Some(ok))
                    .count() as f64
            })
        };
        let channel =
            |n: &crate::runtime::NodeMetrics| n.flume.as_ref().and_then(|f| f.channel.clone());
        let batch = || snap.batch.as_ref();
        let window = |name: &str| batch().and_then(|b| b.windows.get(name).cloned());
        let spouts_total = |f: fn(&crate::runtime::NodeMetrics) -> u64| {
            snap.nodes
                .values()
                .filter(|n| n.role == "Spout")
                .map(f)
                .sum::<u64>() as f64
        };
        Ok(match metric {
            Metric::Emitted(n) => node(n).emitted as f64,
            Metric::Executed(n) => node(n).executed as f64,
            Metric::Acked(n) => node(n).acked as f64,
            Metric::Failed(n) => node(n).failed as f64,
            Metric::Replayed(n) => node(n).replayed as f64,
            Metric::TimedOut(n) => node(n).timed_out as f64,
            Metric::Restarts(n) => node(n).restarts as f64,
            Metric::Collected(n) => collected(n).len() as f64,
            Metric::TasksReached(n) => {
                let tasks: BTreeSet<u32> = by_task(n).iter().map(|(t, _)| *t).collect();
                tasks.len() as f64
            }
            Metric::TasksPerKey(n) => {
                let mut per_key: BTreeMap<String, BTreeSet<u32>> = BTreeMap::new();
                for (task, v) in by_task(n) {
                    let key = v.get(0).map(|x| format!("{x:?}")).unwrap_or_default();
                    per_key.entry(key).or_default().insert(task);
                }
                per_key.values().map(BTreeSet::len).max().unwrap_or(0) as f64
            }
            Metric::Distinct(n) => {
                let mut keys: Vec<String> = collected(n).iter().map(|v| format!("{v:?}")).collect();
                keys.sort_unstable();
                keys.dedup();
                keys.len() as f64
            }
            Metric::TreesAcked => lab_outcomes(true).unwrap_or_else(|| spouts_total(|n| n.acked)),
            Metric::TreesFailed => {
                lab_outcomes(false).unwrap_or_else(|| spouts_total(|n| n.failed))
            }
            Metric::Steps => self.lab().map_or(0.0, |l| l.steps() as f64),
            Metric::EventsIn(n) => node(n).flume.map_or(0, |f| f.events_in) as f64,
            Metric::EventsOut(n) => node(n).flume.map_or(0, |f| f.events_out) as f64,
            Metric::ChannelSize(n) => channel(&node(n)).map_or(0, |c| c.size) as f64,
            Metric::Commits(n) => channel(&node(n)).map_or(0, |c| c.commits) as f64,
            Metric::Rollbacks(n) => channel(&node(n)).map_or(0, |c| c.rollbacks) as f64,
            Metric::Batches => batch().map_or(0, |b| b.batches_completed) as f64,
            Metric::CommittedBatches => {
                snap.transactions.as_ref().map_or(0, |t| t.committed_txid) as f64
            }
            Metric::LastBatchRecords => batch().map_or(0, |b| b.last_batch_records) as f64,
            Metric::SchedulingDelayMs => {
                batch().map_or(0.0, |b| b.last_scheduling_delay.as_secs_f64() * 1000.0)
            }
            Metric::ProcessingMs => {
                batch().map_or(0.0, |b| b.last_processing_time.as_secs_f64() * 1000.0)
            }
            Metric::WindowKeys(n) => window(n).map_or(0, |w| w.keys) as f64,
            Metric::WindowBatches(n) => window(n).map_or(0, |w| w.batches) as f64,
            Metric::LatencyMs => snap.end_to_end_latency_p50.as_secs_f64() * 1000.0,
        })
    }

    fn answer(&mut self, step: usize, answer: &Answer) -> Result<Outcome, LessonError> {
        match answer {
            Answer::Count(m) => Ok(Outcome::Number(self.metric(step, m)?)),
            Answer::Holds(Expect(m, op, v)) => {
                let value = self.metric(step, m)?;
                Ok(Outcome::YesNo {
                    holds: op.holds(value, *v),
                    value,
                })
            }
            Answer::TaskOf { node, key } => {
                task_of(&self.design, node, key).map_err(|why| self.error(step, why))
            }
        }
    }
}

/// Which task of `node` a tuple with `key` goes to, by the grouping into it, with
/// Storm's arithmetic written out.
pub fn task_of(
    design: &Topology,
    node: &str,
    key: &[crate::model::Value],
) -> Result<Outcome, String> {
    let plan = crate::runtime::plan::compile(design).map_err(|e| e.to_string())?;
    let tasks = plan.tasks_of(node);
    let values: Vec<Val> = key.iter().map(val_of).collect();
    let shown = key
        .iter()
        .map(|v| match v {
            crate::model::Value::Str(s) => format!("`{s}`"),
            other => format!("`{other}`"),
        })
        .collect::<Vec<_>>()
        .join(", ");
    match incoming(design, node).as_slice() {
        [Grouping::Global] => Ok(Outcome::Task {
            task: tasks.first().copied().unwrap_or(0),
            index: 0,
            explanation: format!(
                "a global grouping sends everything to the lowest task of `{node}`: task {}",
                tasks.first().copied().unwrap_or(0)
            ),
            tasks,
        }),
        [Grouping::Fields(_)] | [Grouping::PartialKey(_)] => {
            let h = deep_hash(values.iter());
            let index = floor_mod(h, tasks.len().max(1));
            let task = tasks.get(index).copied().unwrap_or(0);
            Ok(Outcome::Task {
                task,
                index,
                explanation: format!(
                    "{shown} hashes (Java's deepHashCode) to {h}; {h} mod {} = {index}, so task {task} of `{node}` (its tasks are {})",
                    tasks.len(),
                    tasks
                        .iter()
                        .map(u32::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                tasks,
            })
        }
        _ => Err(format!(
            "the grouping into '{node}' does not pick a task by key"
        )),
    }
}

fn val_of(v: &crate::model::Value) -> Val {
    use crate::model::Value;
    match v {
        Value::Bool(b) => Val::Bool(*b),
        Value::Int(i) => Val::Int(*i),
        Value::Float(f) => Val::Float(*f),
        Value::Str(s) => Val::str(s),
        Value::List(_) => Val::Null,
    }
}

/// Plays every step of `lesson` in a temporary folder under `workdir`; returns each
/// step's report, or the first error. Bounded by the lesson's own limits.
pub fn play_all(lesson: Lesson, workdir: &Path) -> Result<Vec<StepReport>, LessonError> {
    let mut player = Player::new(lesson, workdir)?;
    let mut reports = Vec::new();
    while !player.is_done() {
        reports.push(player.play_next()?);
    }
    player.restart();
    Ok(reports)
}
