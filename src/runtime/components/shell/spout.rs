//! A shell spout, in lockstep with its child as Storm's ShellSpout is: one command at a
//! time (`next`, `ack` or `fail`), each answered with `sync` before the next is sent, so
//! a program with no library that reads its task ids right after an emit never finds a
//! command there instead. Emits carry the child's own message ids (any JSON), mapped to
//! the executor's. A call of `next_tuple` waits only briefly, so the executor keeps
//! handling outcomes, pauses and Stop; a command still unanswered is awaited on the
//! following calls, and a child silent for the node's timeout is restarted.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value as Json;

use super::child::Incoming;
use super::link::Link;
use super::protocol::{self, Emit, FromChild};
use super::{Spec, Voice, crash};
use crate::runtime::components::{Emitter, Spout, TaskInfo};
use crate::runtime::tuple::Values;

/// Longest one `next_tuple` call waits for the child.
const WAIT_PER_CALL: Duration = Duration::from_millis(2);
/// Acks and fails waiting for their turn, at most: more means the child emits without
/// ever ending a command, and it is restarted rather than let memory grow.
const MAX_WAITING: usize = 100_000;

pub(super) struct ShellSpout {
    /// Its `last_heard` is also set when a command is sent to a silent child.
    link: Link,
    /// The command sent whose `sync` has not come back: `true` for a `next`.
    in_command: Option<bool>,
    /// The ids the child gave its tracked emits, by the message id the executor knows.
    ids: HashMap<u64, Json>,
    next_msg_id: u64,
    /// Acks and fails waiting for the current command to end.
    waiting: VecDeque<Json>,
    /// An emit that waits for its task ids was passed on; the reply goes out in `routed`.
    awaiting_routing: bool,
    voice: Voice,
}

impl ShellSpout {
    pub(super) fn new(spec: Arc<Spec>, info: TaskInfo) -> Self {
        Self {
            link: Link::new(spec, info),
            in_command: None,
            ids: HashMap::new(),
            next_msg_id: 1,
            waiting: VecDeque::new(),
            awaiting_routing: false,
            voice: Voice::default(),
        }
    }

    /// Starts the next command: a waiting ack or fail first, else `next` if asked.
    fn start_command(&mut self, may_ask_next: bool) -> bool {
        let (message, is_next) = match self.waiting.pop_front() {
            Some(m) => (m, false),
            None if may_ask_next => (protocol::next(), true),
            None => return false,
        };
        self.in_command = Some(is_next);
        self.link.last_heard = Instant::now();
        // In lockstep at most one command and its replies are queued, so the queue has
        // room unless the child stopped reading.
        self.link.send(&message);
        true
    }

    /// Handles one message; true when it was an emit that waits for its task ids (the
    /// call must return so the executor routes it, and `routed` replies).
    fn handle(&mut self, incoming: Incoming, out: &mut Emitter) -> bool {
        match self.link.message(incoming) {
            FromChild::Emit(e) => return self.emit(e, out),
            FromChild::Sync => self.in_command = None,
            said @ (FromChild::Log { .. } | FromChild::Error(_) | FromChild::Metrics { .. }) => {
                self.voice.hear(&self.link.info, &said)
            }
            FromChild::Ack(_) | FromChild::Fail(_) => {
                crash("a spout sent an ack or fail, which only bolts may".into())
            }
            FromChild::Pid(_) => crash("a second handshake answer (pid) from the program".into()),
        }
        false
    }

    fn emit(&mut self, e: Emit, out: &mut Emitter) -> bool {
        let stream = self.link.emit_stream(&e);
        if !e.anchors.is_empty() {
            crash("a spout's emit is anchored, which only a bolt's may be".into());
        }
        let msg_id = e.id.map(|id| {
            let m = self.next_msg_id;
            self.next_msg_id += 1;
            self.ids.insert(m, id);
            m
        });
        let before = out.len();
        out.emit_spout(
            stream,
            Values::from(e.values),
            e.task,
            msg_id,
            e.need_task_ids,
        );
        let passed_on = out.items.last().is_some_and(|em| !em.refused) && out.len() > before;
        if e.need_task_ids && !passed_on {
            // Refused before routing (a value over the cap): it went to no task.
            self.link.send(&protocol::task_ids(&[]));
            return false;
        }
        self.awaiting_routing = e.need_task_ids;
        e.need_task_ids
    }

    /// Queues an ack or fail for its turn.
    fn outcome(&mut self, msg_id: u64, ok: bool) {
        let Some(id) = self.ids.remove(&msg_id) else {
            return;
        };
        if self.waiting.len() >= MAX_WAITING {
            crash(format!(
                "{MAX_WAITING} acks and fails wait while the program never ends its command with sync"
            ));
        }
        self.waiting.push_back(protocol::outcome(&id, ok));
    }
}

impl Spout for ShellSpout {
    fn next_tuple(&mut self, out: &mut Emitter) -> bool {
        if self.link.stopping() {
            return false;
        }
        self.link.child();
        let deadline = Instant::now() + WAIT_PER_CALL;
        let emitted_before = out.len();
        let mut asked_next = false;
        loop {
            if self.in_command.is_none() {
                // One `next` per call: its emits are routed before the next one.
                if !self.start_command(!asked_next) {
                    break;
                }
                asked_next |= self.in_command == Some(true);
            }
            let wait = deadline.saturating_duration_since(Instant::now());
            let Some(incoming) = self.link.recv(wait) else {
                break;
            };
            if self.handle(incoming, out) {
                return true;
            }
        }
        if self.in_command.is_some() && self.link.last_heard.elapsed() > self.link.timeout() {
            crash(format!(
                "no sync from the program for {} s",
                self.link.timeout().as_secs()
            ));
        }
        out.len() > emitted_before
    }

    fn routed(&mut self, targets: &[u32]) {
        if std::mem::take(&mut self.awaiting_routing) {
            self.link.send(&protocol::task_ids(targets));
        }
    }

    fn ack(&mut self, msg_id: u64) {
        self.outcome(msg_id, true);
    }

    fn fail(&mut self, msg_id: u64) {
        self.outcome(msg_id, false);
    }
}
