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

use crate::design::FilePlaces;
use crate::design::selection::Selection;
use crate::lesson::{self, Highlight, Player, StepReport};

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

/// The folder of shipped lessons: `lessons/` beside the examples folder.
pub fn lessons_dir(places: &FilePlaces) -> Option<PathBuf> {
    let dir = places.examples_dir.as_deref()?.parent()?.join("lessons");
    dir.is_dir().then_some(dir)
}

/// The lessons in `dir`, by file name, each read once for its title.
pub fn list(dir: Option<&Path>) -> Vec<LessonEntry> {
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
        .map(|path| match lesson::load(&path) {
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

/// A lesson being played.
pub struct LessonSession {
    pub path: PathBuf,
    pub player: Player,
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
    /// problem is returned, one `FILE:LINE:COL: error: …` a line.
    pub fn open(path: &Path, workdir: &Path) -> Result<Self, String> {
        let lesson = lesson::load(path).map_err(|e| e.to_string())?;
        let problems = lesson::check(&lesson);
        if !problems.is_empty() {
            return Err(problems
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n"));
        }
        let player = Player::new(lesson, workdir).map_err(|e| e.to_string())?;
        Ok(LessonSession {
            path: path.to_path_buf(),
            player,
            reports: Vec::new(),
            predictions: Vec::new(),
            shown: 0,
            prediction: Prediction::None,
            overlay: None,
        })
    }

    pub fn step_count(&self) -> usize {
        self.player.lesson().steps.len()
    }

    /// Whether the shown step has been played.
    pub fn shown_played(&self) -> bool {
        self.shown < self.reports.len()
    }

    /// Plays the next step with the prediction entered; returns whether the design
    /// changed (a grouping, a parallelism or the mode).
    pub fn play(&mut self) -> Result<bool, String> {
        let before = self.player.design().edge_list();
        let mode = self.player.design().settings.mode;
        let parallelism: Vec<u32> = self
            .player
            .design()
            .nodes()
            .map(|n| n.parallelism)
            .collect();
        let report = self.player.play_next().map_err(|e| e.to_string())?;
        self.reports.push(report);
        self.predictions.push(std::mem::take(&mut self.prediction));
        self.overlay = self.player.snapshot().map(|snap| {
            let state = format!(
                "lesson · step {} of {}",
                self.reports.len(),
                self.step_count()
            );
            crate::ui::run::overlay_of(&snap, state)
        });
        let d = self.player.design();
        Ok(d.edge_list() != before
            || d.settings.mode != mode
            || d.nodes().map(|n| n.parallelism).collect::<Vec<_>>() != parallelism)
    }

    /// The shown step's highlights as a canvas selection, and the nodes whose tasks a
    /// `Task` highlight asks to show.
    pub fn highlights(&self) -> (Selection, Vec<String>) {
        let mut selection = Selection::default();
        let mut lens = Vec::new();
        let Some(step) = self.player.lesson().steps.get(self.shown) else {
            return (selection, lens);
        };
        let edges = self.player.design().edge_list();
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
        A::RunToEnd => "run until the spouts are done".into(),
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
