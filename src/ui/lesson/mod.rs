//! Guided lessons in the designer: the Lessons menu's list, and a lesson being played
//! (its player, the learner's predictions and what each played step revealed). The
//! lesson's design is the document while the lesson is on; editing is locked, so the
//! canvas shows what the lesson's steps made. Playing goes through `lesson::Player`, so
//! the designer plays a lesson exactly as `tributary lesson check` does.

pub mod markdown;
pub mod menu;
mod open;
pub mod panel;
pub mod progress;

use std::path::{Path, PathBuf};
use std::sync::mpsc;

use crate::design::FilePlaces;
use crate::design::selection::Selection;
use crate::lesson::{self, Highlight, Lesson, LessonError, Player, StepReport};
use crate::model::Topology;

/// What the lesson panel asks the app to do.
#[derive(Debug, Clone, PartialEq)]
pub enum LessonAction {
    /// Play the shown step (its actions, then its check).
    DoStep,
    Next,
    Previous,
    Close,
}

/// A lesson in the menu: its file, title and step count (or why it cannot open).
#[derive(Debug, Clone, PartialEq)]
pub struct LessonEntry {
    pub path: PathBuf,
    pub title: String,
    pub steps: usize,
    pub problem: bool,
}

/// Where a lesson may read its topology besides its own folder: the shipped examples,
/// which the shipped lessons use.
pub fn allowed_topologies(places: &FilePlaces) -> Vec<PathBuf> {
    places.examples_dir.iter().cloned().collect()
}

/// The folder of shipped lessons: `lessons/` beside the examples folder.
pub fn lessons_dir(places: &FilePlaces) -> Option<PathBuf> {
    let dir = places.examples_dir.as_deref()?.parent()?.join("lessons");
    dir.is_dir().then_some(dir)
}

/// The lessons in `dir`, by file name, each read once for its title. `allowed`: where
/// besides its own folder a lesson may read its topology (the shipped examples).
pub fn list(dir: Option<&Path>, allowed: &[PathBuf]) -> Vec<LessonEntry> {
    let Some(dir) = dir else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "ron"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| match lesson::load(&path, allowed) {
            Ok(l) => LessonEntry {
                title: l.title,
                steps: l.steps.len(),
                problem: false,
                path,
            },
            Err(_) => LessonEntry {
                title: crate::design::document::file_label(&path),
                steps: 0,
                problem: true,
                path,
            },
        })
        .collect()
}

/// The learner's prediction for the shown step's question.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Prediction {
    #[default]
    None,
    /// A task id of the node asked about.
    Task(u32),
    /// A number, as typed.
    Number(String),
    YesNo(bool),
}

/// A step being played on its own thread, so a live lesson's run (up to 20 s a step)
/// never freezes the window. The player comes back with the report.
type Playing = mpsc::Receiver<(Player, Result<StepReport, LessonError>)>;

/// A lesson being played.
pub struct LessonSession {
    pub path: PathBuf,
    /// The lesson as read (the player keeps its own copy while it plays).
    pub lesson: Lesson,
    /// The design as the played steps made it: the document shows it.
    pub design: Topology,
    /// `None` while a step plays on its thread.
    player: Option<Player>,
    playing: Option<Playing>,
    /// What each played step revealed, in order.
    pub reports: Vec<StepReport>,
    /// The predictions made for played steps (shown beside their answers).
    pub predictions: Vec<Prediction>,
    /// The step on show (0-based); at most the next step to play.
    pub shown: usize,
    /// The prediction being entered for the next step.
    pub prediction: Prediction,
    /// The run's numbers after the last played step, as the canvas draws them.
    pub overlay: Option<crate::ui::canvas::overlay::RunOverlay>,
}

impl LessonSession {
    /// Loads, checks and prepares the lesson in `path`, its copy under `workdir`. Every
    /// problem is returned, one `FILE:LINE:COL: error: …` a line. `allowed` as in
    /// [`list`].
    pub fn open(path: &Path, workdir: &Path, allowed: &[PathBuf]) -> Result<Self, String> {
        let lesson = lesson::load(path, allowed).map_err(|e| e.to_string())?;
        let problems = lesson::check(&lesson);
        if !problems.is_empty() {
            return Err(problems
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n"));
        }
        let player = Player::new(lesson.clone(), workdir).map_err(|e| e.to_string())?;
        Ok(LessonSession {
            path: path.to_path_buf(),
            design: player.design().clone(),
            lesson,
            player: Some(player),
            playing: None,
            reports: Vec::new(),
            predictions: Vec::new(),
            shown: 0,
            prediction: Prediction::None,
            overlay: None,
        })
    }

    pub fn step_count(&self) -> usize {
        self.lesson.steps.len()
    }

    /// Steps played so far.
    pub fn played(&self) -> usize {
        self.reports.len()
    }

    pub fn is_done(&self) -> bool {
        self.played() >= self.step_count()
    }

    /// Whether a step is playing now.
    pub fn is_playing(&self) -> bool {
        self.playing.is_some()
    }

    /// Whether the shown step has been played.
    pub fn shown_played(&self) -> bool {
        self.shown < self.reports.len()
    }

    /// Starts playing the next step, with the prediction entered, on its own thread.
    pub fn start_play(&mut self) {
        let Some(mut player) = self.player.take() else {
            return;
        };
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let result = player.play_next();
            // The session may have closed meanwhile: then nobody waits for the step.
            let _ = tx.send((player, result));
        });
        self.playing = Some(rx);
    }

    /// The playing step's result once it is in: `Ok(true)` when the step changed the
    /// design (a grouping, a parallelism, the mode). An error leaves the step unplayed.
    pub fn poll(&mut self) -> Option<Result<bool, String>> {
        let rx = self.playing.as_ref()?;
        let (player, result) = match rx.try_recv() {
            Ok(back) => back,
            Err(mpsc::TryRecvError::Empty) => return None,
            Err(mpsc::TryRecvError::Disconnected) => {
                self.playing = None;
                return Some(Err(
                    "the step stopped unexpectedly; close the lesson and open it again".into(),
                ));
            }
        };
        self.playing = None;
        let outcome = result.map_err(|e| e.to_string()).map(|report| {
            self.reports.push(report);
            self.predictions.push(std::mem::take(&mut self.prediction));
            // The canvas shows the run of the step last played, which the panel may
            // have moved past with Next: "after step k" says which.
            self.overlay = player.snapshot().map(|snap| {
                let state = format!(
                    "lesson · after step {} of {}",
                    self.played(),
                    self.step_count()
                );
                crate::ui::run::overlay_of(&snap, state)
            });
            let changed = *player.design() != self.design;
            if changed {
                self.design = player.design().clone();
            }
            changed
        });
        self.player = Some(player);
        Some(outcome)
    }

    /// The shown step's highlights as a canvas selection, and the nodes whose tasks a
    /// `Task` highlight asks to show.
    pub fn highlights(&self) -> (Selection, Vec<String>) {
        let mut selection = Selection::default();
        let mut lens = Vec::new();
        let Some(step) = self.lesson.steps.get(self.shown) else {
            return (selection, lens);
        };
        let edges = self.design.edge_list();
        // A question about which task gets a key shows that node's tasks to pick from.
        if let Some(lesson::Check::Question(lesson::Answer::TaskOf { node, .. })) = &step.check {
            lens.push(node.clone());
        }
        for h in &step.highlight {
            match h {
                Highlight::Node(n) => {
                    selection.nodes.insert(n.clone());
                }
                Highlight::Edge(from, to) => {
                    if selection.edge.is_none() {
                        selection.edge = edges
                            .iter()
                            .find(|e| e.from == *from && e.to == *to)
                            .cloned();
                    }
                }
                Highlight::Task(n, _) => {
                    selection.nodes.insert(n.clone());
                    lens.push(n.clone());
                }
            }
        }
        (selection, lens)
    }
}

/// The shown step's actions in words, for the panel.
pub fn action_words(action: &lesson::Action) -> String {
    use lesson::Action as A;
    match action {
        A::LabStep(n) => format!("take {n} lab steps"),
        A::LabUntil(e) => format!("step until {}", until_words(e)),
        A::Run(s) => format!("run for {s} s"),
        A::RunToEnd => "run until every finite source is done (at most 20 s)".into(),
        A::SetFaults {
            node,
            fail,
            crash,
            latency_ms,
        } => {
            format!("set faults on `{node}`: fail {fail}, crash {crash}, +{latency_ms} ms latency")
        }
        A::SetRate { node, per_sec } => format!("cap `{node}` at {per_sec} per second"),
        A::KillWorker(w) => format!("kill worker {w}"),
        A::Restart => "stop the run abruptly and start it again".into(),
        A::SetGrouping { from, to, grouping } => {
            format!("make the grouping `{from}` to `{to}` {grouping:?}")
        }
        A::SetParallelism { node, parallelism } => {
            format!("set the parallelism of `{node}` to {parallelism}")
        }
        A::SwitchMode(mode) => format!("switch to {mode:?}"),
        A::SetGuarantee(g) => format!("make the run {}", g.label()),
    }
}

fn until_words(event: &lesson::UntilEvent) -> &'static str {
    use lesson::UntilEvent as U;
    match event {
        U::Emitted => "a spout emits a new tree",
        U::Acked => "a tree is acked",
        U::Failed => "a tree fails",
        U::Timeout => "a tree times out",
        U::Window => "a window fires",
    }
}
