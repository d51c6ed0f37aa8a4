//! Executors: one OS thread each, running a contiguous range of one node's tasks (or
//! one acker). They talk only through bounded crossbeam channels carrying *batches*.
//!
//! No executor ever blocks on a send: a full channel parks the batch in a local
//! overflow queue (Storm's `pendingEmits`), because spout → bolt → acker → spout is a
//! cycle and blocking sends on a cycle can deadlock. Spouts stop calling `next_tuple`
//! and bolts stop reading input while their overflow is non-empty: that is the
//! backpressure. Spouts and ackers always keep reading, so the cycle always drains.

mod acker_loop;
mod bolt;
mod outbox;
mod pending;
mod route;
mod spout;

use std::sync::Arc;
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender};

use super::acker::AckMsg;
use super::components::{Env, Factory};
use super::control::{EngineSwitches, NodeSwitches};
use super::metrics::Counters;
use super::plan::{ExecutorKind, Plan};
use super::tuple::Tuple;

pub(crate) use bolt::BoltSink;
pub use outbox::Outbox;

/// What travels on a channel: always a batch.
#[derive(Debug)]
pub enum Msg {
    Tuples {
        task: u32,
        tuples: Vec<Tuple>,
    },
    Acks(Vec<AckMsg>),
    /// Acker → spout: `(root, ok)` outcomes for one spout task.
    Outcomes {
        task: u32,
        outcomes: Vec<(u64, bool)>,
    },
}

impl Msg {
    pub fn tuple_count(&self) -> u64 {
        match self {
            Msg::Tuples { tuples, .. } => tuples.len() as u64,
            _ => 0,
        }
    }
}

/// The free list of one executor's batch buffers: (give back, take).
pub type SpareBatches = (Sender<Vec<Tuple>>, Receiver<Vec<Tuple>>);

/// Everything executors share, read-only.
pub struct Wiring {
    pub plan: Arc<Plan>,
    pub senders: Vec<Sender<Msg>>,
    /// Per executor: emptied batch buffers, handed back for producers to refill. Reusing
    /// them keeps batch memory warm in cache instead of faulting in fresh pages.
    pub spare_batches: Vec<SpareBatches>,
    pub counters: Arc<Counters>,
    /// Per executor: tuples handed to channels (or overflow) and tuples still held in
    /// the outbox at the end of the last step. Used to decide when a run has drained.
    pub exec_sent: Vec<crossbeam_utils::CachePadded<std::sync::atomic::AtomicU64>>,
    pub exec_held: Vec<crossbeam_utils::CachePadded<std::sync::atomic::AtomicU64>>,
    pub switches: Arc<EngineSwitches>,
    pub node_switches: Vec<Arc<NodeSwitches>>,
    pub env: Arc<Env>,
    pub factories: Vec<Factory>,
    pub schemas: Arc<Vec<Vec<String>>>,
    pub batch_size: usize,
    pub flush_interval: Duration,
    pub seed: u64,
}

impl Wiring {
    /// An empty batch buffer for executor `exec`: a recycled one if available.
    #[inline]
    pub fn take_batch(&self, exec: usize) -> Vec<Tuple> {
        self.spare_batches[exec]
            .1
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(self.batch_size))
    }

    /// Returns an emptied batch buffer of executor `exec` for reuse (dropped if the
    /// spare list is full).
    #[inline]
    pub fn recycle_batch(&self, exec: usize, mut batch: Vec<Tuple>) {
        batch.clear();
        let _ = self.spare_batches[exec].0.try_send(batch);
    }

    pub fn acking(&self) -> bool {
        self.plan.ackers() > 0
    }

    pub fn timeout(&self) -> Duration {
        Duration::from_secs(u64::from(self.plan.message_timeout_secs))
    }
}

/// Runs executor `index` until shutdown. This is the body of its thread.
pub fn run(wiring: Arc<Wiring>, index: usize, inbox: Receiver<Msg>) {
    match wiring.plan.executors[index].kind {
        ExecutorKind::Node(n) if wiring.plan.nodes[n].is_spout() => {
            spout::run(&wiring, index, n, &inbox)
        }
        ExecutorKind::Node(n) => bolt::run(&wiring, index, n, &inbox),
        ExecutorKind::Acker(_) => acker_loop::run(&wiring, index, &inbox),
    }
}
