//! Lessons: a topology plus ordered steps of text, actions, highlights and checks, kept
//! as RON files teachers can write. A question's right answer is never in the file: it
//! is computed from the run (`play`), so a lesson cannot teach something the engine
//! does not do.
//!
//! - [`file`] reads a lesson (`FILE:LINE:COL` for every problem, as topologies);
//! - [`locate`] finds where in the text a step or a name is, for problems found after
//!   parsing;
//! - [`check`] judges a parsed lesson against its topology (nodes and edges named,
//!   actions the mode can do);
//! - [`play`] runs a lesson's steps on the lab or a live engine and answers its checks.
//!
//! Rule: nothing here draws; the designer's lesson panel and `tributary lesson check`
//! both go through `play`, so a lesson checks headless exactly as it plays.

pub mod check;
pub mod file;
pub mod locate;
pub mod play;

pub use check::check;
pub use file::{
    Action, Answer, Check, Engine, Expect, Highlight, Lesson, LessonError, Metric, Op, Step,
    TopologySource, UntilEvent, load,
};
pub use play::{Outcome, Player, StepReport};
