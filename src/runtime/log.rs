//! The run log: lines from logger components and supervisor events, kept in a bounded
//! buffer the UI drains. Workers append under a short lock; if nobody drains, the
//! oldest lines go first so memory stays flat.

use std::collections::{BTreeSet, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Serialize;

/// Where a log line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum LogKind {
    /// A logger component wrote it.
    Tuple,
    /// The supervisor (restarts) or the engine.
    Event,
    /// Something went wrong in a task.
    Error,
    /// A control the user changed during the run (injected faults), in plain words. A
    /// slider sends one change per step, so the designer keeps only a node's newest
    /// setting of a burst (see `ui::run_log`).
    Setting,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogLine {
    /// Time since the run started.
    pub at: Duration,
    pub node: String,
    pub task: u32,
    pub kind: LogKind,
    pub text: String,
}

/// Lines kept when nobody drains the log.
const CAPACITY: usize = 10_000;

#[derive(Debug)]
pub struct RunLog {
    start: Instant,
    lines: Mutex<VecDeque<LogLine>>,
    /// (node, topic) pairs already reported by [`RunLog::push_once`].
    reported: Mutex<BTreeSet<(String, &'static str)>>,
}

impl RunLog {
    pub fn new(start: Instant) -> Self {
        Self {
            start,
            lines: Mutex::new(VecDeque::new()),
            reported: Mutex::new(BTreeSet::new()),
        }
    }

    /// Pushes a line only the first time `node` reports `topic` in this run, so a
    /// limit hit a million times reads as one line (its count is in the metrics).
    /// Callers keep a flag of their own too, so the lock is taken once per task.
    pub fn push_once(
        &self,
        node: &str,
        task: u32,
        topic: &'static str,
        kind: LogKind,
        text: String,
    ) {
        let first = {
            let mut seen = match self.reported.lock() {
                Ok(s) => s,
                Err(poisoned) => poisoned.into_inner(),
            };
            seen.insert((node.to_string(), topic))
        };
        if first {
            self.push(node, task, kind, text);
        }
    }

    pub fn push(&self, node: &str, task: u32, kind: LogKind, text: String) {
        let line = LogLine {
            at: self.start.elapsed(),
            node: node.to_string(),
            task,
            kind,
            text,
        };
        let mut lines = match self.lines.lock() {
            Ok(l) => l,
            Err(poisoned) => poisoned.into_inner(),
        };
        if lines.len() >= CAPACITY {
            lines.pop_front();
        }
        lines.push_back(line);
    }

    pub fn drain(&self) -> Vec<LogLine> {
        let mut lines = match self.lines.lock() {
            Ok(l) => l,
            Err(poisoned) => poisoned.into_inner(),
        };
        lines.drain(..).collect()
    }
}
