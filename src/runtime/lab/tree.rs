//! One tuple tree, read back from a lab trace: every tuple of it with its edge id,
//! the tuple it is anchored to and the task that executed it, the acker's ledger for
//! its root step by step, its verdict, and the replay that a failure caused.
//!
//! Built from the trace alone (never from engine state), so what the designer shows
//! is what `tributary lab --trace` wrote.

use super::trace::{Event, Fields, Id, Kind, TaskRef};

/// What became of one tuple of a tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TupleState {
    /// Emitted, not executed yet (on its way, or lost with a dead worker).
    Pending,
    /// Executed and acked by its bolt.
    Acked,
    /// Executed and failed (an error, an injected failure, a crash).
    Failed,
}

/// One tuple of a tree: one delivery to one task, so a tuple sent to three tasks is
/// three entries with three edge ids, as in Storm.
#[derive(Debug, Clone, PartialEq)]
pub struct TreeTuple {
    pub edge: Id,
    /// The tuple it is anchored to; `None` for a tuple the spout emitted.
    pub parent: Option<Id>,
    pub to: TaskRef,
    pub stream: String,
    pub values: Fields,
    /// The step that emitted it.
    pub emitted: u64,
    /// The step that executed it, if any.
    pub executed: Option<u64>,
    pub state: TupleState,
}

/// One message the acker applied to the tree's root.
#[derive(Debug, Clone, PartialEq)]
pub struct LedgerStep {
    pub step: u64,
    /// `init`, `ack` or `fail`.
    pub msg: &'static str,
    /// The XOR applied (none for a fail).
    pub xor: Option<Id>,
    /// The ledger's value after it.
    pub ledger: Id,
}

/// How a tree ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    pub step: u64,
    pub ok: bool,
    /// It expired (the message timeout) rather than being failed by the acker.
    pub timed_out: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Tree {
    pub root: Id,
    pub spout: TaskRef,
    pub msg_id: Option<u64>,
    /// The step whose `next_tuple` emitted it.
    pub emitted: u64,
    /// Virtual time of that step, microseconds.
    pub emitted_us: u64,
    pub tuples: Vec<TreeTuple>,
    pub ledger: Vec<LedgerStep>,
    pub verdict: Option<Verdict>,
    /// The earlier tree this one replays (same spout task and message id).
    pub replay_of: Option<Id>,
    /// The tree that replayed this one after it failed.
    pub replayed_as: Option<Id>,
}

impl Tree {
    /// The tree of `root` as far as `trace` goes; `None` if no spout emitted it there.
    pub fn from_trace(trace: &[Event], root: Id) -> Option<Tree> {
        let start = trace
            .iter()
            .position(|e| e.kind == Kind::NextTuple && e.root == Some(root))?;
        let first = &trace[start];
        let spout = TaskRef {
            node: first.node.clone(),
            task: first.task,
        };
        let mut tree = Tree {
            root,
            spout: spout.clone(),
            msg_id: first.msg_id,
            emitted: first.step,
            emitted_us: first.t_us,
            tuples: Vec::new(),
            ledger: Vec::new(),
            verdict: None,
            replay_of: None,
            replayed_as: None,
        };
        tree.replay_of = trace[..start]
            .iter()
            .rev()
            .find(|e| same_message(e, &spout, first.msg_id))
            .and_then(|e| e.root);
        add_emits(&mut tree, first, None);
        for e in &trace[start + 1..] {
            match e.kind {
                Kind::Deliver if e.root == Some(root) => {
                    let ok = e.ok.unwrap_or(false);
                    if let Some(t) = tree.tuples.iter_mut().find(|t| Some(t.edge) == e.edge) {
                        t.executed = Some(e.step);
                        t.state = if ok {
                            TupleState::Acked
                        } else {
                            TupleState::Failed
                        };
                    }
                    add_emits(&mut tree, e, e.edge);
                }
                Kind::Ack if e.root == Some(root) => tree.ledger.push(LedgerStep {
                    step: e.step,
                    msg: e.msg.unwrap_or("ack"),
                    xor: e.xor,
                    ledger: e.ledger.unwrap_or_default(),
                }),
                Kind::Outcome if e.root == Some(root) && tree.verdict.is_none() => {
                    tree.verdict = Some(Verdict {
                        step: e.step,
                        ok: e.ok.unwrap_or(false),
                        timed_out: false,
                    });
                }
                Kind::Timeout if e.roots.contains(&root) && tree.verdict.is_none() => {
                    tree.verdict = Some(Verdict {
                        step: e.step,
                        ok: false,
                        timed_out: true,
                    });
                }
                Kind::NextTuple
                    if tree.verdict.is_some_and(|v| !v.ok)
                        && tree.replayed_as.is_none()
                        && same_message(e, &spout, tree.msg_id) =>
                {
                    tree.replayed_as = e.root;
                }
                _ => {}
            }
        }
        Some(tree)
    }

    /// True when every tuple of the tree has been executed and acked.
    pub fn all_acked(&self) -> bool {
        self.tuples.iter().all(|t| t.state == TupleState::Acked)
    }

    /// The ledger's value now (the last applied message's), zero before any.
    pub fn ledger_now(&self) -> Id {
        self.ledger.last().map(|l| l.ledger).unwrap_or_default()
    }

    /// The tuples anchored to `parent` (`None`: the spout's), in emission order.
    pub fn children(&self, parent: Option<Id>) -> impl Iterator<Item = &TreeTuple> {
        self.tuples.iter().filter(move |t| t.parent == parent)
    }
}

fn same_message(e: &Event, spout: &TaskRef, msg_id: Option<u64>) -> bool {
    e.kind == Kind::NextTuple
        && e.node == spout.node
        && e.task == spout.task
        && msg_id.is_some()
        && e.msg_id == msg_id
}

fn add_emits(tree: &mut Tree, e: &Event, parent: Option<Id>) {
    for s in &e.emits {
        if s.kind != "tuple" || s.root != Some(tree.root) {
            continue;
        }
        let Some(edge) = s.edge else {
            continue;
        };
        tree.tuples.push(TreeTuple {
            edge,
            parent,
            to: TaskRef {
                node: s.node.clone(),
                task: s.task,
            },
            stream: s.stream.clone().unwrap_or_default(),
            values: s.values.clone().unwrap_or_default(),
            emitted: e.step,
            executed: None,
            state: TupleState::Pending,
        });
    }
}
