//! What a shell bolt and a shell spout share: their node's [`Spec`], the task, and the
//! task's child, started on first use. Sending, reading a message (or crashing the task
//! when there is none to read: a broken protocol, an exited program) and checking an
//! emit against the node's declared streams are decided here once for both.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::child::{Child, Incoming};
use super::protocol::{Emit, FromChild};
use super::{Spec, crash};
use crate::runtime::components::TaskInfo;

pub(super) struct Link {
    pub spec: Arc<Spec>,
    pub info: TaskInfo,
    child: Option<Child>,
    /// When the child last said anything (or was started).
    pub last_heard: Instant,
}

impl Link {
    pub fn new(spec: Arc<Spec>, info: TaskInfo) -> Self {
        Self {
            spec,
            info,
            child: None,
            last_heard: Instant::now(),
        }
    }

    pub fn stopping(&self) -> bool {
        self.info.env.stopping.load(Ordering::Relaxed)
    }

    pub fn timeout(&self) -> Duration {
        self.spec.timeout
    }

    /// The running child, started (with its handshake) on first use.
    pub fn child(&mut self) -> &Child {
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

    /// Sends one message, waiting while the child's input is full (at most the
    /// timeout, not at all once the run stops); a child that reads nothing crashes the
    /// task.
    pub fn send(&mut self, message: &serde_json::Value) {
        let timeout = self.spec.timeout;
        let env = self.info.env.clone();
        let sent = self
            .child()
            .send(message, timeout, &|| env.stopping.load(Ordering::Relaxed));
        if let Err(why) = sent
            && !self.stopping()
        {
            crash(why);
        }
    }

    /// The next message already read, without waiting (none before the child starts).
    pub fn try_recv(&self) -> Option<Incoming> {
        self.child.as_ref().and_then(Child::try_recv)
    }

    /// The next message within `wait`, if one comes.
    pub fn recv(&mut self, wait: Duration) -> Option<Incoming> {
        self.child().recv(wait).unwrap_or_else(|why| crash(why))
    }

    /// What the child said, which shows it is alive; a child that broke the protocol
    /// or exited crashes the task, saying why.
    pub fn message(&mut self, incoming: Incoming) -> FromChild {
        self.last_heard = Instant::now();
        match incoming {
            Incoming::Message(m) => m,
            Incoming::Broken(why) => crash(format!("the program broke the protocol: {why}")),
            Incoming::Closed => {
                let why = match &mut self.child {
                    Some(c) => c.exit_reason("while running"),
                    None => "the program is gone".into(),
                };
                crash(why)
            }
        }
    }

    /// The local stream an emit goes to: declared by the node, and given as many values
    /// as it has fields; anything else crashes the task, naming what was sent.
    pub fn emit_stream(&self, e: &Emit) -> usize {
        let stream = self
            .spec
            .stream_index(e.stream.as_deref())
            .unwrap_or_else(|why| crash(why));
        let (name, fields, _) = &self.spec.outputs[stream];
        if e.values.len() != fields.len() {
            crash(format!(
                "an emit of {} value(s) to \"{name}\", which declares {} field(s)",
                e.values.len(),
                fields.len()
            ));
        }
        stream
    }
}
