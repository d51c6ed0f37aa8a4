//! A shell spout: asked for tuples with `next`, it emits (tracked when it gives an id)
//! and ends each command with `sync`; acks and fails reach it by the ids it gave. A call
//! of `next_tuple` waits only briefly for the child, so the executor keeps handling
//! acks, pauses and Stop; a `next` still unanswered is awaited on the following calls,
//! and a child silent for the node's timeout is restarted.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde_json::Value as Json;

use super::child::{Child, Incoming};
use super::protocol::{self, Emit, FromChild};
use super::{Spec, crash, level_name};
use crate::runtime::components::{Emitter, Spout, TaskInfo};
use crate::runtime::log::LogKind;
use crate::runtime::tuple::Values;

/// Longest one `next_tuple` call waits for the child.
const WAIT_PER_CALL: Duration = Duration::from_millis(2);

pub(super) struct ShellSpout {
    spec: Arc<Spec>,
    info: TaskInfo,
    child: Option<Child>,
    /// Commands sent (`next`, `ack`, `fail`) whose `sync` has not come back.
    unsynced: u32,
    /// When the child last said anything, or was last asked something while silent.
    last_heard: Instant,
    /// The ids the child gave its tracked emits, by the message id the executor knows.
    ids: HashMap<u64, Json>,
    next_msg_id: u64,
    metrics_seen: Vec<String>,
    /// Framed commands and replies waiting for room in the child's input queue: acks
    /// and fails arrive while the child may be busy writing to us, so they never block.
    deferred: std::collections::VecDeque<Vec<u8>>,
}

impl ShellSpout {
    pub(super) fn new(spec: Arc<Spec>, info: TaskInfo) -> Self {
        Self {
            spec,
            info,
            child: None,
            unsynced: 0,
            last_heard: Instant::now(),
            ids: HashMap::new(),
            next_msg_id: 1,
            metrics_seen: Vec::new(),
            deferred: std::collections::VecDeque::new(),
        }
    }

    fn stopping(&self) -> bool {
        self.info.env.stopping.load(Ordering::Relaxed)
    }

    fn child(&mut self) -> &Child {
        if self.child.is_none() {
            match self.spec.start(&self.info) {
                Ok(c) => {
                    self.last_heard = Instant::now();
                    self.child = Some(c);
                }
                Err(why) => crash(why),
            }
        }
        match &self.child {
            Some(c) => c,
            None => crash("the child is gone".into()),
        }
    }

    /// Queues a message behind those waiting, and passes on as many as fit.
    fn send(&mut self, message: &Json) {
        self.deferred.push_back(protocol::frame(message));
        self.pass_on();
    }

    /// Moves waiting messages into the child's input queue until it is full.
    fn pass_on(&mut self) {
        while let Some(bytes) = self.deferred.pop_front() {
            let offered = self.child().offer(bytes);
            match offered {
                Ok(None) => {}
                Ok(Some(back)) => {
                    self.deferred.push_front(back);
                    return;
                }
                Err(_) if self.stopping() => {
                    self.deferred.clear();
                    return;
                }
                Err(why) => crash(why),
            }
        }
    }

    /// A command that the child answers with `sync`.
    fn command(&mut self, message: &Json) {
        if self.unsynced == 0 {
            self.last_heard = Instant::now();
        }
        self.unsynced += 1;
        self.send(message);
    }

    /// Handles one message; true when it was an emit that waits for its task ids (the
    /// call must return so the executor routes it).
    fn handle(&mut self, incoming: Incoming, out: &mut Emitter) -> bool {
        self.last_heard = Instant::now();
        let message = match incoming {
            Incoming::Message(m) => m,
            Incoming::Broken(why) => crash(format!("the program broke the protocol: {why}")),
            Incoming::Closed => {
                let why = match &mut self.child {
                    Some(c) => c.exit_reason("while running"),
                    None => "the program is gone".into(),
                };
                crash(why)
            }
        };
        match message {
            FromChild::Emit(e) => return self.emit(e, out),
            FromChild::Sync => self.unsynced = self.unsynced.saturating_sub(1),
            FromChild::Log { level, text } => self.info.env.log.push(
                &self.info.node,
                self.info.task,
                LogKind::Event,
                format!("[{}] {text}", level_name(level)),
            ),
            FromChild::Error(text) => self.info.env.log.push(
                &self.info.node,
                self.info.task,
                LogKind::Error,
                format!("the program reports: {text}"),
            ),
            FromChild::Metrics { name, value } => {
                if !self.metrics_seen.contains(&name) && self.metrics_seen.len() < 64 {
                    self.info.env.log.push(
                        &self.info.node,
                        self.info.task,
                        LogKind::Event,
                        format!("metric {name} = {value} (further values of it are not logged)"),
                    );
                    self.metrics_seen.push(name);
                }
            }
            FromChild::Ack(_) | FromChild::Fail(_) => {
                crash("a spout sent an ack or fail, which only bolts may".into())
            }
            FromChild::Pid(_) => crash("a second handshake answer (pid) from the program".into()),
        }
        false
    }

    fn emit(&mut self, e: Emit, out: &mut Emitter) -> bool {
        let stream = self
            .spec
            .stream_index(e.stream.as_deref())
            .unwrap_or_else(|why| crash(why));
        let fields = self.spec.outputs[stream].1.len();
        if e.values.len() != fields {
            crash(format!(
                "an emit of {} value(s) to \"{}\", which declares {fields} field(s)",
                e.values.len(),
                self.spec.outputs[stream].0
            ));
        }
        if !e.anchors.is_empty() {
            crash("a spout's emit is anchored, which only a bolt's may be".into());
        }
        let msg_id = e.id.map(|id| {
            let m = self.next_msg_id;
            self.next_msg_id += 1;
            self.ids.insert(m, id);
            m
        });
        out.emit_spout(
            stream,
            Values::from(e.values),
            e.task,
            msg_id,
            e.need_task_ids,
        );
        e.need_task_ids
    }

    fn outcome(&mut self, msg_id: u64, ok: bool) {
        if let Some(id) = self.ids.remove(&msg_id) {
            self.command(&protocol::outcome(&id, ok));
        }
    }
}

impl Spout for ShellSpout {
    fn next_tuple(&mut self, out: &mut Emitter) -> bool {
        if self.stopping() {
            return false;
        }
        self.pass_on();
        if self.unsynced == 0 {
            self.command(&protocol::next());
        }
        let deadline = Instant::now() + WAIT_PER_CALL;
        let emitted_before = out.len();
        loop {
            let now = Instant::now();
            let wait = deadline.saturating_duration_since(now);
            let incoming = match self.child().recv(wait) {
                Ok(m) => m,
                Err(why) => crash(why),
            };
            let Some(incoming) = incoming else { break };
            if self.handle(incoming, out) {
                // An emit waiting for its task ids: route it now (see `routed`).
                return true;
            }
            if self.unsynced == 0 {
                break;
            }
        }
        if self.unsynced > 0 && self.last_heard.elapsed() > self.spec.timeout {
            crash(format!(
                "no sync from the program for {} s",
                self.spec.timeout.as_secs()
            ));
        }
        out.len() > emitted_before
    }

    fn routed(&mut self, targets: &[u32]) {
        self.send(&protocol::task_ids(targets));
    }

    fn ack(&mut self, msg_id: u64) {
        self.outcome(msg_id, true);
    }

    fn fail(&mut self, msg_id: u64) {
        self.outcome(msg_id, false);
    }
}
