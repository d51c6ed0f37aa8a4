//! A shell bolt: each input goes to the child as a tuple with an id; the child emits
//! (anchored to any input it still holds), acks and fails by those ids, whenever it
//! likes. The bolt holds each input's acking ids until the child settles it, sends a
//! heartbeat tuple every second and restarts the child when one goes unanswered for
//! the node's timeout.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::child::Incoming;
use super::link::Link;
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
    link: Link,
    /// Inputs the child holds, by the id it knows them by: acking ids and the ack value
    /// their anchored emits gathered.
    held: HashMap<String, (AckIds, u64)>,
    next_id: u64,
    last_heartbeat: Instant,
    /// A heartbeat was sent and its `sync` has not come back.
    heartbeat_out: bool,
    warned_multi_anchor: bool,
    voice: super::Voice,
    /// Inputs whose output was refused (a value over the cap): failed whatever the
    /// child says of them, so their trees replay rather than complete without it.
    doomed: HashSet<String>,
    reported_refusal: bool,
}

impl ShellBolt {
    pub(super) fn new(spec: Arc<Spec>, info: TaskInfo) -> Self {
        Self {
            link: Link::new(spec, info),
            held: HashMap::new(),
            next_id: 1,
            last_heartbeat: Instant::now(),
            heartbeat_out: false,
            warned_multi_anchor: false,
            voice: super::Voice::default(),
            doomed: HashSet::new(),
            reported_refusal: false,
        }
    }

    /// Sends a tuple or heartbeat; while the child's input is full, handles what it
    /// sends (it may be blocked writing to us, reading nothing until we read). A child
    /// that takes nothing for the timeout is restarted.
    fn send_draining(&mut self, message: &serde_json::Value, out: &mut Emitter) {
        let mut bytes = protocol::frame(message);
        let deadline = Instant::now() + self.link.timeout();
        loop {
            let offered = self.link.child().offer(bytes);
            match offered {
                Ok(None) => return,
                Ok(Some(back)) => bytes = back,
                Err(why) => crash(why),
            }
            if self.link.stopping() {
                return;
            }
            if Instant::now() >= deadline {
                crash(format!(
                    "the program took no input for {} s",
                    self.link.timeout().as_secs()
                ));
            }
            if let Some(incoming) = self.link.recv(Duration::from_millis(1)) {
                self.handle(incoming, out);
            }
        }
    }

    /// Handles what the child has sent so far, without waiting.
    fn drain(&mut self, out: &mut Emitter) {
        for _ in 0..MAX_PER_DRAIN {
            let Some(incoming) = self.link.try_recv() else {
                return;
            };
            self.handle(incoming, out);
        }
    }

    fn handle(&mut self, incoming: Incoming, out: &mut Emitter) {
        // Anything the child says shows it is alive (as Storm's ShellBolt counts it).
        match self.link.message(incoming) {
            FromChild::Emit(e) => self.emit(e, out),
            FromChild::Ack(id) => self.settle(&id, true, out),
            FromChild::Fail(id) => self.settle(&id, false, out),
            FromChild::Sync => self.heartbeat_out = false,
            said @ (FromChild::Log { .. } | FromChild::Error(_) | FromChild::Metrics { .. }) => {
                self.voice.hear(&self.link.info, &said)
            }
            FromChild::Pid(_) => crash("a second handshake answer (pid) from the program".into()),
        }
    }

    fn emit(&mut self, e: Emit, out: &mut Emitter) {
        let stream = self.link.emit_stream(&e);
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
            let info = &self.link.info;
            info.env.log.push(
                &info.node,
                info.task,
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
                    let info = &self.link.info;
                    info.env.log.push(
                        &info.node,
                        info.task,
                        LogKind::Error,
                        format!("an emit was refused: {}", super::capped(&why)),
                    );
                }
                Vec::new()
            }
        };
        if e.need_task_ids {
            // The child is reading, waiting for these, so the queue moves.
            self.link.send(&protocol::task_ids(&targets));
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
        if now.duration_since(self.link.last_heard) > self.link.timeout() {
            crash(format!(
                "no answer to a heartbeat, and nothing else, for {} s",
                self.link.timeout().as_secs()
            ));
        }
        if !self.heartbeat_out && now.duration_since(self.last_heartbeat) >= HEARTBEAT_EVERY {
            self.last_heartbeat = now;
            self.heartbeat_out = true;
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
            .link
            .spec
            .stream_names
            .get(input.stream as usize)
            .map_or(("", ""), |(c, s)| (c.as_str(), s.as_str()));
        let message = protocol::tuple(&id, component, stream, input.source_task, &input.values);
        self.held.insert(id, (input.ids, 0));
        self.send_draining(&message, out);
        self.drain(out);
        Ok(())
    }

    fn tick(&mut self, now: Instant, out: &mut Emitter) {
        if self.link.stopping() {
            return;
        }
        self.link.child();
        self.drain(out);
        self.heartbeat(now, out);
    }

    fn acks_itself(&self) -> bool {
        true
    }
}
