//! The run log: lines from logger components and supervisor events, kept in a bounded
//! buffer the UI drains. Workers append under a short lock; if nobody drains, the
//! oldest lines go first so memory stays flat.

use std::collections::VecDeque;
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
}

impl RunLog {
    pub fn new(start: Instant) -> Self {
        Self {
            start,
            lines: Mutex::new(VecDeque::new()),
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
