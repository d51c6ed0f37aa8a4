//! Notices: what a running agent must tell the user beyond its counters — a disk failure
//! starting or ending, connections refused, a thread that died. The engine moves them into
//! the run log; counters alone would show a problem only to someone already looking.
//!
//! Anything that can fail over and over (a full disk, a client hammering a full netcat
//! source) reports through an [`Episode`], so the log gets one line when the trouble starts
//! and one when it ends, never a flood. The queue itself is bounded as well: past
//! [`MAX_NOTICES`] unread notices the oldest are dropped and the drop is counted and
//! reported, so a reader that falls behind cannot make memory grow.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Most unread notices kept; older ones are dropped (and counted) beyond this.
pub const MAX_NOTICES: usize = 1000;

/// How a notice reads in the run log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// Something the user should know, not a fault (a failure episode ended).
    Info,
    /// Something went wrong (a write failed, a thread died, a client was refused).
    Error,
}

/// One line for the run log, addressed to the node it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub node: String,
    pub severity: Severity,
    pub text: String,
}

/// A bounded queue of notices, written by agent threads and drained by the engine.
#[derive(Debug, Default)]
pub struct Notices {
    queue: Mutex<VecDeque<Notice>>,
    /// Notices dropped since the last drain because the queue was full.
    dropped: AtomicU64,
}

impl Notices {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn error(&self, node: &str, text: impl Into<String>) {
        self.push(node, Severity::Error, text.into());
    }

    pub fn info(&self, node: &str, text: impl Into<String>) {
        self.push(node, Severity::Info, text.into());
    }

    fn push(&self, node: &str, severity: Severity, text: String) {
        let mut queue = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        if queue.len() >= MAX_NOTICES {
            queue.pop_front();
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
        queue.push_back(Notice {
            node: node.to_string(),
            severity,
            text,
        });
    }

    /// Notices since the last call, oldest first; when some had to be dropped, a first
    /// notice says how many.
    pub fn drain(&self) -> Vec<Notice> {
        let mut out = Vec::new();
        let dropped = self.dropped.swap(0, Ordering::Relaxed);
        if dropped > 0 {
            out.push(Notice {
                node: "flume".into(),
                severity: Severity::Error,
                text: format!(
                    "{dropped} notices were dropped: more than {MAX_NOTICES} arrived between two reads of the log"
                ),
            });
        }
        out.extend(
            self.queue
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .drain(..),
        );
        out
    }
}

/// A run of failures of one kind, so it is reported once when it starts and once when it
/// ends instead of at every failure.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Episode {
    /// Failures in the current episode; 0 when there is none.
    failures: u64,
}

impl Episode {
    /// Counts a failure; `true` when it starts a new episode (report it then).
    pub fn fail(&mut self) -> bool {
        self.failures = self.failures.saturating_add(1);
        self.failures == 1
    }

    /// Ends the episode; `Some(failures)` when there was one (report its end then).
    pub fn recover(&mut self) -> Option<u64> {
        let failures = std::mem::take(&mut self.failures);
        (failures > 0).then_some(failures)
    }

    pub fn is_failing(&self) -> bool {
        self.failures > 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_episode_reports_its_start_and_end_once() {
        let mut e = Episode::default();
        assert_eq!(e.recover(), None);
        assert!(e.fail());
        assert!(!e.fail());
        assert!(!e.fail());
        assert!(e.is_failing());
        assert_eq!(e.recover(), Some(3));
        assert!(!e.is_failing());
        assert!(e.fail(), "a later failure starts a new episode");
    }

    #[test]
    fn the_queue_is_bounded_and_says_what_it_dropped() {
        let n = Notices::new();
        for i in 0..MAX_NOTICES + 5 {
            n.error("x", format!("{i}"));
        }
        let got = n.drain();
        assert_eq!(got.len(), MAX_NOTICES + 1);
        assert!(got[0].text.starts_with("5 notices were dropped"), "{got:?}");
        assert_eq!(got[1].text, "5");
        assert_eq!(got[MAX_NOTICES].text, (MAX_NOTICES + 4).to_string());
        assert!(n.drain().is_empty());
    }
}
