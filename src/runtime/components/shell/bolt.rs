//! A shell bolt: each input goes to the child as a tuple with an id; the child emits
//! (anchored to any input it still holds), acks and fails by those ids, whenever it
//! likes. The bolt holds each input's acking ids until the child settles it, sends a
//! heartbeat tuple every second and restarts the child when one goes unanswered for
//! the node's timeout.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::child::{Child, Incoming};
use super::protocol::{self, Emit, FromChild};
use super::{Spec, crash};
use crate::runtime::components::{Bolt, Emitter, Failed, TaskInfo};
use crate::runtime::log::LogKind;
use crate::runtime::tuple::{AckIds, Tuple, Values};

/// Inputs a child may hold unsettled; beyond this, new inputs are failed at once (their
/// trees replay) rather than held without bound.
const MAX_HELD: usize = 100_000;
/// Messages handled per call, so one chatty child cannot starve its executor.
const MAX_PER_DRAIN: usize = 4096;
/// How often a heartbeat tuple goes to the child.
const HEARTBEAT_EVERY: Duration = Duration::from_secs(1);

pub(super) struct ShellBolt {
    spec: Arc<Spec>,
    info: TaskInfo,
    child: Option<Child>,
    /// Inputs the child holds, by the id it knows them by: acking ids and the ack value
    /// their anchored emits gathered.
    held: HashMap<String, (AckIds, u64)>,
    next_id: u64,
    last_heartbeat: Instant,
    /// When the unanswered heartbeat was sent.
    awaiting_sync: Option<Instant>,
    warned_multi_anchor: bool,
    voice: super::Voice,
    /// When the child last said anything.
    last_heard: Instant,
    /// Inputs whose output was refused (a value over the cap): failed whatever the
    /// child says of them, so their trees replay rather than complete without it.
    doomed: std::collections::HashSet<String>,
    reported_refusal: bool,
}

impl ShellBolt {
    pub(super) fn new(spec: Arc<Spec>, info: TaskInfo) -> Self {
        Self {
            spec,
            info,
            child: None,
            held: HashMap::new(),
            next_id: 1,
            last_heartbeat: Instant::now(),
            awaiting_sync: None,
            warned_multi_anchor: false,
            voice: super::Voice::default(),
            last_heard: Instant::now(),
            doomed: std::collections::HashSet::new(),
            reported_refusal: false,
        }
    }

    fn stopping(&self) -> bool {
        self.info.env.stopping.load(Ordering::Relaxed)
    }

    /// The running child, started (with its handshake) on first use.
    fn child(&mut self) -> &Child {
        if self.child.is_none() {
            match self.spec.start(&self.info) {
                Ok(c) => {
                    self.last_heartbeat = Instant::now();
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

    /// Sends a reply the child is waiting for (task ids): it is reading, so the queue
    /// moves.
    fn send(&mut self, message: &serde_json::Value) {
        let timeout = self.spec.timeout;
        let stop = self.info.env.clone();
        let sent = self
            .child()
            .send(message, timeout, &|| stop.stopping.load(Ordering::Relaxed));
        if let Err(why) = sent {
            if self.stopping() {
                return;
            }
            crash(why);
        }
    }

    /// Sends a tuple or heartbeat; while the child's input is full, handles what it
    /// sends (it may be blocked writing to us, reading nothing until we read). A child
    /// that takes nothing for the timeout is restarted.
    fn send_draining(&mut self, message: &serde_json::Value, out: &mut Emitter) {
        let mut bytes = protocol::frame(message);
        let deadline = Instant::now() + self.spec.timeout;
        loop {
            let offered = self.child().offer(bytes);
            match offered {
                Ok(None) => return,
                Ok(Some(back)) => bytes = back,
                Err(why) => crash(why),
            }
            if self.stopping() {
                return;
            }
            if Instant::now() >= deadline {
                crash(format!(
                    "the program took no input for {} s",
                    self.spec.timeout.as_secs()
                ));
            }
            let incoming = self
                .child()
                .recv(Duration::from_millis(1))
                .unwrap_or_else(|why| crash(why));
            if let Some(incoming) = incoming {
                self.handle(incoming, out);
            }
        }
    }

    /// Handles what the child has sent so far, without waiting.
    fn drain(&mut self, out: &mut Emitter) {
        for _ in 0..MAX_PER_DRAIN {
            let Some(incoming) = self.child.as_ref().and_then(Child::try_recv) else {
                return;
            };
            self.handle(incoming, out);
        }
    }

    fn handle(&mut self, incoming: Incoming, out: &mut Emitter) {
        // Anything the child says shows it is alive (as Storm's ShellBolt counts it).
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
            FromChild::Emit(e) => self.emit(e, out),
            FromChild::Ack(id) => self.settle(&id, true, out),
            FromChild::Fail(id) => self.settle(&id, false, out),
            FromChild::Sync => self.awaiting_sync = None,
            said @ (FromChild::Log { .. } | FromChild::Error(_) | FromChild::Metrics { .. }) => {
                self.voice.hear(&self.info, &said)
            }
            FromChild::Pid(_) => crash("a second handshake answer (pid) from the program".into()),
        }
    }

    fn emit(&mut self, e: Emit, out: &mut Emitter) {
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
        if e.id.is_some() {
            crash("a bolt's emit carries a spout's message id".into());
        }
        for a in &e.anchors {
            if !self.held.contains_key(a) {
                crash(format!(
                    "an emit anchored to the unknown or settled tuple id \"{a}\""
                ));
            }
        }
        if e.anchors.len() > 1 && !self.warned_multi_anchor {
            self.warned_multi_anchor = true;
            self.info.env.log.push(
                &self.info.node,
                self.info.task,
                LogKind::Event,
                "an emit anchored to several tuples is anchored to the first one only (a tuple here belongs to one tree)".into(),
            );
        }
        let values = Values::from(e.values);
        let anchor = e.anchors.first().and_then(|a| self.held.get_mut(a));
        let anchor = anchor.map(|(ids, ack_val)| (&*ids, ack_val));
        let targets = match out.emit_anchored(stream, values, e.task, anchor, e.need_task_ids) {
            Ok(targets) => targets,
            Err(why) => {
                // Refused (a value over the cap, a direct emit to no consumer): the
                // input it was anchored to fails when the child settles it, so its tree
                // replays instead of completing without this tuple.
                if let Some(first) = e.anchors.first() {
                    self.doomed.insert(first.clone());
                }
                if !self.reported_refusal {
                    self.reported_refusal = true;
                    self.info.env.log.push(
                        &self.info.node,
                        self.info.task,
                        LogKind::Error,
                        format!("an emit was refused: {}", super::capped(&why)),
                    );
                }
                Vec::new()
            }
        };
        if e.need_task_ids {
            self.send(&protocol::task_ids(&targets));
        }
    }

    fn settle(&mut self, id: &str, ok: bool, out: &mut Emitter) {
        let doomed = self.doomed.remove(id);
        match self.held.remove(id) {
            Some((ids, ack_val)) => out.settle(&ids, ack_val, ok && !doomed),
            None => crash(format!(
                "{} of the unknown or already settled tuple id \"{id}\"",
                if ok { "an ack" } else { "a fail" }
            )),
        }
    }

    /// Sends a heartbeat every second; a child that says nothing at all (no emit, ack,
    /// log or sync) for the timeout is restarted, as Storm's ShellBolt does.
    fn heartbeat(&mut self, now: Instant, out: &mut Emitter) {
        if now.duration_since(self.last_heard) > self.spec.timeout {
            crash(format!(
                "no answer to a heartbeat, and nothing else, for {} s",
                self.spec.timeout.as_secs()
            ));
        }
        if self.awaiting_sync.is_none()
            && now.duration_since(self.last_heartbeat) >= HEARTBEAT_EVERY
        {
            self.last_heartbeat = now;
            self.awaiting_sync = Some(now);
            self.send_draining(&protocol::heartbeat(), out);
        }
    }
}

impl Bolt for ShellBolt {
    fn execute(&mut self, input: &Tuple, out: &mut Emitter) -> Result<(), Failed> {
        if self.held.len() >= MAX_HELD {
            self.drain(out);
            if self.held.len() >= MAX_HELD {
                return Err(Failed(format!(
                    "the program holds {MAX_HELD} tuples it has not acked or failed"
                )));
            }
        }
        let id = self.next_id.to_string();
        self.next_id += 1;
        let (component, stream) = self
            .spec
            .stream_names
            .get(input.stream as usize)
            .cloned()
            .unwrap_or_default();
        let message = protocol::tuple(&id, &component, &stream, input.source_task, &input.values);
        self.held.insert(id, (input.ids, 0));
        self.send_draining(&message, out);
        self.drain(out);
        Ok(())
    }

    fn tick(&mut self, now: Instant, out: &mut Emitter) {
        if self.stopping() {
            return;
        }
        self.child();
        self.drain(out);
        self.heartbeat(now, out);
    }

    fn flush(&mut self) -> Result<(), Failed> {
        Ok(())
    }

    fn acks_itself(&self) -> bool {
        true
    }
}
