//! Fatal errors: an agent thread (a source, a sink runner) that panicked.
//!
//! A panic would otherwise end the thread silently: the source never says it finished, so
//! a run waiting for its inputs never ends, and the run exits as if all went well. Every
//! agent thread therefore runs its body through [`run_guarded`], which catches the panic,
//! records it here (the snapshot lists it, so `tributary run` exits non-zero) and reports
//! it to the run log at once.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Mutex;

use super::notice::Notices;

/// One node whose thread died.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FatalError {
    pub node: String,
    pub message: String,
}

/// The fatal errors of one run, in the order they happened.
#[derive(Debug, Default)]
pub struct FatalLog(Mutex<Vec<FatalError>>);

impl FatalLog {
    pub fn record(&self, node: &str, message: &str) {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(FatalError {
                node: node.to_string(),
                message: message.to_string(),
            });
    }

    pub fn list(&self) -> Vec<FatalError> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn is_empty(&self) -> bool {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).is_empty()
    }
}

/// Runs `body`; if it panics, records the panic as fatal for each of `nodes` (the source,
/// or the sinks a runner drives) and reports it. `true` when `body` returned normally.
///
/// Unwind safety: the data a panicking body leaves behind is shared only through mutexes
/// that every user recovers from poisoning, and the run treats the node as dead from then
/// on, so nothing observes a half-updated state as if it were whole.
pub fn run_guarded(
    nodes: &[String],
    fatal: &FatalLog,
    notices: &Notices,
    body: impl FnOnce(),
) -> bool {
    let Err(payload) = catch_unwind(AssertUnwindSafe(body)) else {
        return true;
    };
    let message = format!(
        "its thread panicked: {}; the node has stopped and the run counts as failed",
        panic_message(payload.as_ref())
    );
    for node in nodes {
        fatal.record(node, &message);
        notices.error(node, message.clone());
    }
    false
}

/// The text a panic was raised with, when it has one.
fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_string()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "(no message)".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_is_recorded_for_every_node_and_reported() {
        let fatal = FatalLog::default();
        let notices = Notices::new();
        let nodes = ["a".to_string(), "b".to_string()];
        assert!(run_guarded(&nodes, &fatal, &notices, || {}));
        assert!(fatal.is_empty());
        let value = 7;
        let ok = run_guarded(&nodes, &fatal, &notices, || {
            panic!("broken at {value}");
        });
        assert!(!ok);
        let list = fatal.list();
        assert_eq!(list.len(), 2);
        assert_eq!(list[1].node, "b");
        assert!(list[0].message.contains("broken at 7"), "{list:?}");
        let logged = notices.drain();
        assert_eq!(logged.len(), 2);
        assert!(logged[0].text.contains("panicked"), "{logged:?}");
    }
}
