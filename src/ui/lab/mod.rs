//! Lab mode in the designer: a [`LabEngine`] stepped from the UI thread, one event at a
//! time, so a learner can watch tuples move, a tuple tree get acked and the acker's
//! ledger fall to zero.
//!
//! A lab is a kind of run ([`super::run::RunSession`] drives it), so the canvas
//! overlays, the live inspector (faults, Kill worker) and the run log read it as they
//! read a threaded run. What is the lab's own lives here: the play state, the selected
//! tree, and the actions of the lab toolbar, keys, event list and tree panel.

pub mod events;
pub mod toolbar;
pub mod tree_panel;

use std::collections::BTreeMap;
use std::time::Duration;

use egui::{InputState, Key, Modifiers};

use super::actions::Action;
use super::app::DesignerApp;
use super::canvas::tuple_dots::{MAX_DOTS, TupleDot, TupleDots};
use crate::model::Topology;
use crate::runtime::lab::{Event, Kind, LabEngine, LabOptions, RunningEngine, Tree, Until};
use crate::runtime::{RunError, RunOptions};

/// The most steps one "run until" takes before giving up (a 30 s message timeout is
/// 30 000 steps away at the lab's 1 ms per event).
pub const UNTIL_LIMIT: u64 = 100_000;
/// Play speeds, events per second.
pub const SPEEDS: std::ops::RangeInclusive<f64> = 1.0..=1000.0;
/// The longest frame play catches up on: a stalled window does not burst afterwards.
const MAX_FRAME: f32 = 0.1;

/// What the lab toolbar, keys, event list and tree panel ask for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LabAction {
    /// The toolbar's Lab button: start a lab on the design.
    Start,
    /// Take this many steps.
    Step(u64),
    /// Go back one step.
    Back,
    /// Play (true) or pause (false).
    Play(bool),
    /// Play speed, events per second.
    Speed(f64),
    RunUntil(Until),
    /// Run until the next tree is emitted and select it.
    TraceNext,
    /// Show this root's tree in the tree panel.
    Select(u64),
}

/// A lab run and what the designer keeps about it between frames.
pub struct LabSession {
    pub engine: LabEngine,
    pub playing: bool,
    /// Events per second while playing.
    pub speed: f64,
    /// Steps owed to play (fractions carry over between frames).
    budget: f64,
    /// The root whose tree the tree panel shows.
    pub selected: Option<u64>,
    /// The selected tree as of a step, rebuilt when either changes.
    tree: Option<(u64, u64, Option<Tree>)>,
    /// The tuples drawn on the canvas as of a step.
    dots: Option<(u64, TupleDots)>,
    /// Storm task id → (node name, the task's place among its node's tasks).
    tasks: BTreeMap<u32, (String, usize)>,
    /// The topology's message timeout, for a pending tree's countdown.
    pub message_timeout: Duration,
}

impl LabSession {
    /// A lab on `topology` at step 0.
    pub fn start(topology: &Topology, options: RunOptions) -> Result<LabSession, RunError> {
        let engine = LabEngine::start(topology, options, LabOptions::default())?;
        let mut tasks = BTreeMap::new();
        for node in topology.nodes() {
            let mut ids = engine.tasks_of(&node.name);
            ids.sort_unstable();
            for (lane, task) in ids.into_iter().enumerate() {
                tasks.insert(task, (node.name.clone(), lane));
            }
        }
        Ok(LabSession {
            engine,
            playing: false,
            speed: 10.0,
            budget: 0.0,
            selected: None,
            tree: None,
            dots: None,
            tasks,
            message_timeout: Duration::from_secs(u64::from(topology.settings.message_timeout_secs)),
        })
    }

    /// `split[3]`: a task as the lab shows it (`acker[9]` for the acker's tasks).
    pub fn task_name(&self, task: u32) -> String {
        match self.tasks.get(&task) {
            Some((node, _)) => format!("{node}[{task}]"),
            None => format!("acker[{task}]"),
        }
    }

    /// Plays for a frame of `dt` seconds: as many steps as the speed owes. Stops
    /// playing when nothing more can happen. True while still playing.
    pub fn tick(&mut self, dt: f32) -> bool {
        if !self.playing {
            self.budget = 0.0;
            return false;
        }
        self.budget += self.speed * f64::from(dt.clamp(0.0, MAX_FRAME));
        let due = self.budget.floor();
        self.budget -= due;
        let due = due as u64;
        if due > 0 && self.engine.step_n(due) < due {
            self.playing = false;
        }
        self.playing
    }

    /// The selected tree as the trace shows it now (rebuilt only when the step or the
    /// selection changed: reading a tree walks the trace).
    pub fn selected_tree(&mut self) -> Option<&Tree> {
        let root = self.selected?;
        let step = self.engine.steps();
        if !matches!(&self.tree, Some((s, r, _)) if *s == step && *r == root) {
            self.tree = Some((step, root, self.engine.tree(root)));
        }
        self.tree.as_ref().and_then(|(_, _, t)| t.as_ref())
    }

    /// Brings the canvas's tuples up to the current step (they are read again only
    /// when the lab moved: reading them walks every queue).
    pub fn refresh_dots(&mut self) {
        let step = self.engine.steps();
        if !matches!(&self.dots, Some((s, _)) if *s == step) {
            self.dots = Some((step, self.build_dots()));
        }
    }

    /// The tuples on queues and edges as of the last [`Self::refresh_dots`].
    pub fn tuple_dots(&self) -> Option<&TupleDots> {
        self.dots.as_ref().map(|(_, d)| d)
    }

    fn build_dots(&self) -> TupleDots {
        let mut dots = TupleDots::default();
        let mut drawn = 0;
        let mut place = |to: u32, from: u32, text: String, parked: bool| {
            if drawn >= MAX_DOTS {
                dots.hidden += 1;
                return;
            }
            let Some((node, lane)) = self.tasks.get(&to) else {
                return;
            };
            drawn += 1;
            let dot = TupleDot {
                task: to,
                lane: *lane,
                text: format!(
                    "{text}\nto {} from {}{}",
                    self.task_name(to),
                    self.task_name(from),
                    if parked {
                        "\nparked: the receiving queue is full"
                    } else {
                        "\nqueued"
                    }
                ),
            };
            if parked {
                let from_node = self.tasks.get(&from).map(|(n, _)| n.clone());
                dots.parked
                    .entry((from_node.unwrap_or_default(), node.clone()))
                    .or_default()
                    .push(dot);
            } else {
                dots.queued.entry(node.clone()).or_default().push(dot);
            }
        };
        for (to, from, values) in self.engine.queued_tuples() {
            place(to, from, values.describe(), false);
        }
        for (to, from, values) in self.engine.parked_tuples() {
            place(to, from, values.describe(), true);
        }
        dots
    }
}

/// The lab's panels, while Lab mode is on: the event list at the bottom and the tuple
/// tree on the right, both beside the canvas.
pub fn lab_panels_ui(ui: &mut egui::Ui, lab: &mut LabSession) -> Vec<Action> {
    let mut actions = Vec::new();
    egui::Panel::bottom("lab-events")
        .resizable(true)
        .default_size(200.0)
        .min_size(80.0)
        .show(ui, |ui| actions.extend(events::event_list_ui(ui, lab)));
    let batched = matches!(
        lab.engine.mode(),
        crate::model::ExecutionMode::MicroBatch { .. }
    );
    egui::Panel::right("lab-tree")
        .resizable(true)
        .default_size(440.0)
        .min_size(200.0)
        .show(ui, |ui| {
            if batched {
                actions.extend(batch_panel_ui(ui, lab));
            } else {
                actions.extend(tree_panel::tree_panel_ui(ui, lab));
            }
        });
    actions
}

/// Micro-batch mode's side panel: the latest batch, what each operator made of it and
/// the windows it closed; clicking a node's title selects the node.
fn batch_panel_ui(ui: &mut egui::Ui, lab: &LabSession) -> Vec<Action> {
    ui.heading("Batch");
    let latest = lab
        .engine
        .trace()
        .iter()
        .rev()
        .find_map(|e| e.batch.as_ref());
    let Some(batch) = latest else {
        ui.label(
            egui::RichText::new("No batch yet: press Step to receive for one interval and run it.")
                .weak(),
        );
        return Vec::new();
    };
    crate::ui::lab_batch_view::batch_view_ui(ui, batch)
        .map(|node| Action::Select(crate::design::selection::Selection::node(&node)))
        .into_iter()
        .collect()
}

/// The root an event is about, for clicking it in the event list.
pub fn root_of(e: &Event) -> Option<u64> {
    e.root.or_else(|| e.roots.first().copied()).map(|r| r.0)
}

/// Space steps, Shift+Space steps ten, Backspace steps back (the caller checks that no
/// text field has the keyboard).
pub fn lab_keys(i: &mut InputState, actions: &mut Vec<Action>) {
    if i.consume_key(Modifiers::SHIFT, Key::Space) {
        actions.push(Action::Lab(LabAction::Step(10)));
    }
    if i.consume_key(Modifiers::NONE, Key::Space) {
        actions.push(Action::Lab(LabAction::Step(1)));
    }
    if i.consume_key(Modifiers::NONE, Key::Backspace) {
        actions.push(Action::Lab(LabAction::Back));
    }
}

impl DesignerApp {
    /// Carries out a lab action; lab actions with no lab on do nothing.
    pub(super) fn perform_lab(&mut self, action: LabAction) {
        if action == LabAction::Start {
            match self.lab_refusal() {
                Some(why) => self.notify_error(format!("Cannot start the lab: {why}")),
                None => self.start_run_as(true),
            }
            return;
        }
        let Some(lab) = self.run.as_mut().and_then(|r| r.lab_mut()) else {
            return;
        };
        let mut problem = None;
        match action {
            LabAction::Start => {}
            LabAction::Step(n) => {
                if lab.engine.step_n(n) < n {
                    lab.playing = false;
                    problem = Some(nothing_happens(&lab.engine));
                }
            }
            LabAction::Back => {
                lab.playing = false;
                if lab.engine.can_step_back()
                    && let Err(e) = lab.engine.back(1)
                {
                    problem = Some(format!("Cannot step back: {e}"));
                }
            }
            LabAction::Play(on) => lab.playing = on,
            LabAction::Speed(speed) => lab.speed = speed.clamp(*SPEEDS.start(), *SPEEDS.end()),
            LabAction::RunUntil(Until::TreeDone(root))
                if lab.selected == Some(root)
                    && lab.selected_tree().is_some_and(|t| t.verdict.is_some()) =>
            {
                // Its verdict is behind us: running on would never find it.
                problem = Some("This tree is done already".into());
            }
            LabAction::RunUntil(until) => {
                let taken = lab.engine.run_until(until, UNTIL_LIMIT);
                let matched =
                    taken > 0 && lab.engine.trace().last().is_some_and(|e| until.matches(e));
                if !matched {
                    problem = Some(format!(
                        "{} did not happen{}",
                        until_label(until),
                        if lab.engine.is_finished_now() {
                            ": the run is finished".to_string()
                        } else {
                            format!(" within {UNTIL_LIMIT} steps")
                        }
                    ));
                }
            }
            LabAction::TraceNext => {
                lab.engine.run_until(Until::Emitted, UNTIL_LIMIT);
                match lab.engine.trace().last() {
                    Some(e) if e.kind == Kind::NextTuple && e.root.is_some() => {
                        lab.selected = root_of(e);
                    }
                    _ => problem = Some(nothing_happens(&lab.engine)),
                }
            }
            LabAction::Select(root) => lab.selected = Some(root),
        }
        if let Some(text) = problem {
            self.notify_error(text);
        }
    }

    /// Why the design cannot be stepped (`None`: it can).
    pub(super) fn lab_refusal(&self) -> Option<String> {
        let t = &self.doc.topology;
        if t.node_count() == 0 {
            Some("Nothing to step yet: drag a spout from the palette".into())
        } else if !crate::validate::is_runnable(self.diagnostics()) {
            Some("Fix the problems first".into())
        } else {
            crate::runtime::lab::refusal(t)
        }
    }
}

/// What the Run until menu calls each target.
pub fn until_label(until: Until) -> &'static str {
    match until {
        Until::Emitted => "Next new tree",
        Until::Acked => "Next ack",
        Until::Failed => "Next fail",
        Until::Timeout => "Next timeout",
        Until::Window => "Next window",
        Until::TreeDone(_) => "This tree done",
    }
}

fn nothing_happens(engine: &LabEngine) -> String {
    if engine.is_finished_now() {
        "The lab run is finished: every spout is done and every tree acked or failed".into()
    } else {
        "Nothing can happen now (every task waits)".into()
    }
}
