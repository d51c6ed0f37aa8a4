//! The run log: lines from logger components and supervisor events, kept in a bounded
//! buffer the UI drains. Workers append under a short lock; if nobody drains, the
//! oldest lines go first so memory stays flat — logger output and events in separate
//! queues, so a logger printing a hundred thousand lines a second never pushes out the
//! restart or fault change a learner is looking for.

use std::collections::{BTreeSet, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use serde::Serialize;

use crate::clock::RunClock;

/// Where a log line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum LogKind {
    /// A logger component wrote it.
    Tuple,
    /// The supervisor (restarts) or the engine.
    Event,
    /// Something went wrong in a task.
    Error,
    /// A control the user changed during the run (injected faults), in plain words.
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

/// Lines of each kind (logger output, everything else) kept when nobody drains the log.
const CAPACITY: usize = 10_000;

#[derive(Debug)]
pub struct RunLog {
    clock: RunClock,
    queues: Mutex<Queues>,
    /// (node, topic) pairs already reported by [`RunLog::push_once`].
    reported: Mutex<BTreeSet<(String, &'static str)>>,
}

/// Lines not yet drained, each numbered so the two queues merge back in push order.
#[derive(Debug, Default)]
struct Queues {
    next: u64,
    output: VecDeque<(u64, LogLine)>,
    events: VecDeque<(u64, LogLine)>,
}

impl RunLog {
    pub fn new(clock: RunClock) -> Self {
        Self {
            clock,
            queues: Mutex::new(Queues::default()),
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
            at: self.clock.elapsed(),
            node: node.to_string(),
            task,
            kind,
            text,
        };
        let mut queues = match self.queues.lock() {
            Ok(q) => q,
            Err(poisoned) => poisoned.into_inner(),
        };
        let seq = queues.next;
        queues.next += 1;
        let queue = if line.kind == LogKind::Tuple {
            &mut queues.output
        } else {
            &mut queues.events
        };
        if queue.len() >= CAPACITY {
            queue.pop_front();
        }
        queue.push_back((seq, line));
    }

    /// Every line since the last drain, in the order they were pushed.
    pub fn drain(&self) -> Vec<LogLine> {
        let mut queues = match self.queues.lock() {
            Ok(q) => q,
            Err(poisoned) => poisoned.into_inner(),
        };
        let Queues { output, events, .. } = &mut *queues;
        let mut merged = Vec::with_capacity(output.len() + events.len());
        let (mut output, mut events) = (output.drain(..).peekable(), events.drain(..).peekable());
        loop {
            let take_output = match (output.peek(), events.peek()) {
                (Some((a, _)), Some((b, _))) => a < b,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (None, None) => break,
            };
            let next = if take_output {
                output.next()
            } else {
                events.next()
            };
            merged.extend(next.map(|(_, line)| line));
        }
        merged
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn a_flood_of_logger_output_keeps_the_events_and_the_order() {
        let log = RunLog::new(RunClock::wall(Instant::now()));
        log.push("count", 0, LogKind::Setting, "faults: fail 15 %".into());
        log.push("engine", 0, LogKind::Event, "worker 0 killed".into());
        for i in 0..CAPACITY + 500 {
            log.push("log", 1, LogKind::Tuple, format!("said {i}"));
            if i == CAPACITY {
                log.push("count", 0, LogKind::Error, "task crashed".into());
            }
        }
        let lines = log.drain();
        assert_eq!(lines.len(), CAPACITY + 3);
        let texts: Vec<&str> = lines.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(texts[0], "faults: fail 15 %");
        assert_eq!(texts[1], "worker 0 killed");
        assert_eq!(texts[2], "said 500", "the oldest output went first");
        let crash = texts.iter().position(|t| *t == "task crashed");
        assert_eq!(
            crash,
            Some(2 + CAPACITY - 500 + 1),
            "merged back in push order"
        );
        assert_eq!(texts.last(), Some(&"said 10499"));
        assert!(log.drain().is_empty());
    }
}
