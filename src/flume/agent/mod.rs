//! Running Flume agents built from a [`Topology`].
//!
//! [`FlumeRun::start`] takes the Flume nodes of a topology (sources, channels, sinks; the
//! node's `agent` names its agent, `"agent"` when unset), wires them from the edges (the
//! selector role on each source → channel edge, `Drain` on channel → sink edges) and the
//! topology's sink groups, and starts one thread per source and one sink runner per sink or
//! sink group. Agents of one run can reach each other through in-process avro hops: an
//! `avro_sink` delivers to the `avro_source` whose `port` matches its `port`.
//!
//! Metrics are read with [`FlumeRun::snapshot`] at any time from any thread; nothing in the
//! data path waits for a reader.
//!
//! The module is split along the run's seams: `build` turns the topology into channels,
//! sources, sinks and runners (with `wiring` deriving each source's selector from its
//! edges); `lifecycle` starts and stops agents and owns their threads; `runner` is the
//! sink runner loop; `stats` reads the metrics. This file holds the run's state and its
//! small accessors.

mod build;
mod lifecycle;
mod runner;
mod stats;
mod wiring;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use thiserror::Error;

use super::channel::Channel;
use super::fatal::{FatalError, FatalLog};
use super::file_channel::{DiskFull, FileChannelError, RecoveryReport};
use super::notice::{Notice, Notices};
use super::sink_processor::SinkProcessor;
use super::sinks::faulty::FaultSwitch;
use super::sinks::{LogOutput, SinkCounters};
use super::sources::{HopRegistry, Source, SourceContext, SourceCounters};
use super::util::StopSignal;
use crate::clock::{Clock, SystemClock};
use crate::model::Role;
use crate::model::Topology;
use crate::policy::Grant;

pub use runner::RunnerCounters;
pub use stats::{FlumeSnapshot, NodeStats, SinkState};

/// Why a topology's Flume part could not start. Names the node so the user can fix it.
#[derive(Debug, Error)]
pub enum BuildError {
    #[error("'{node}': {message}")]
    Node { node: String, message: String },
    #[error(transparent)]
    FileChannel(#[from] FileChannelError),
}

fn node_err(node: &str, message: impl Into<String>) -> BuildError {
    BuildError::Node {
        node: node.to_string(),
        message: message.into(),
    }
}

/// How agents run. The defaults are Flume's; tests shorten the back-off.
#[derive(Clone)]
pub struct AgentOptions {
    /// What the agents may touch: relative paths in node configs (file channel folders,
    /// spool folder, file_roll directory) resolve against its folder, normally the
    /// topology file's, and every path and listening address goes through it.
    pub grant: Grant,
    /// Sink runner back-off grows by this after each empty `process` (Flume: 1 s)…
    pub backoff_step: Duration,
    /// …up to this (Flume: 5 s); a failed `process` sleeps this long at once.
    pub max_backoff: Duration,
    /// How long a source waits before retrying a batch a channel refused.
    pub source_retry_pause: Duration,
    pub clock: Arc<dyn Clock>,
    /// Also print logger sink lines to standard error (headless runs).
    pub log_to_stderr: bool,
    /// Seed for load-balancing random selection.
    pub seed: u64,
    /// Shared pause switch: while set, sources hold their next batch (the engine's
    /// Pause/Resume reaches Flume sources through it).
    pub paused: Arc<AtomicBool>,
    /// Test seam: makes every file channel's disk act full while set.
    #[doc(hidden)]
    pub disk: Arc<DiskFull>,
}

impl Default for AgentOptions {
    fn default() -> Self {
        Self {
            grant: Grant::new(Path::new(".")),
            backoff_step: Duration::from_secs(1),
            max_backoff: Duration::from_secs(5),
            source_retry_pause: Duration::from_millis(500),
            clock: Arc::new(SystemClock),
            log_to_stderr: false,
            seed: 42,
            paused: Arc::new(AtomicBool::new(false)),
            disk: Arc::new(DiskFull::default()),
        }
    }
}

enum Probe {
    Source(Arc<SourceCounters>, Option<SocketAddr>),
    Channel(Arc<dyn Channel>),
    Sink(Arc<SinkCounters>, Arc<RunnerCounters>),
}

struct NodeEntry {
    agent: String,
    role: Role,
    probe: Probe,
}

struct PendingSource {
    source: Box<dyn Source>,
    ctx: SourceContext,
}

/// A sink runner waiting to start: one sink or a whole sink group.
struct Runner {
    name: String,
    /// The sink nodes it drives.
    members: Vec<String>,
    processor: SinkProcessor,
    counters: Arc<RunnerCounters>,
}

#[derive(Default)]
struct Agent {
    stop: Arc<StopSignal>,
    /// Stops only the sources that read outside input, so a draining stop can let the
    /// sinks empty the channels first.
    input_stop: Arc<StopSignal>,
    channels: Vec<Arc<dyn Channel>>,
    sources: Vec<PendingSource>,
    runners: Vec<Runner>,
    avro_ports: Vec<u16>,
    threads: Vec<JoinHandle<()>>,
    running: bool,
}

/// A running set of Flume agents.
pub struct FlumeRun {
    agents: BTreeMap<String, Agent>,
    nodes: BTreeMap<String, NodeEntry>,
    channels: BTreeMap<String, Arc<dyn Channel>>,
    hops: Arc<HopRegistry>,
    log: Arc<LogOutput>,
    recovery: BTreeMap<String, RecoveryReport>,
    errors: Vec<String>,
    /// Fault switches of every sink, by node name.
    faults: BTreeMap<String, Arc<FaultSwitch>>,
    /// Counters of the sources that read outside input (not avro hops), which decide
    /// whether the run can still receive anything.
    primary_sources: Vec<Arc<SourceCounters>>,
    /// What the run log should show: failure episodes, refusals, dead threads.
    notices: Arc<Notices>,
    /// Threads that panicked.
    fatal: Arc<FatalLog>,
}

impl FlumeRun {
    /// Builds every Flume agent of `topology` and starts them.
    ///
    /// Channels drained by non-Flume nodes (Storm bolts) are built too and are available
    /// through [`FlumeRun::channel`] for the main engine to drain in take transactions.
    pub fn start(topology: &Topology, options: AgentOptions) -> Result<Self, BuildError> {
        let mut run = Self::build(topology, &options)?;
        let names: Vec<String> = run.agents.keys().cloned().collect();
        for name in names {
            run.start_agent(&name, &options)?;
        }
        Ok(run)
    }

    /// A channel by node name, e.g. for a Storm bolt that drains it.
    pub fn channel(&self, name: &str) -> Option<Arc<dyn Channel>> {
        self.channels.get(name).cloned()
    }

    /// The fault switch of a sink, by node name: raising its failure chance makes the
    /// sink's `process` fail, so back-off and fail-over can be shown on purpose.
    pub fn fault_switch(&self, sink: &str) -> Option<Arc<FaultSwitch>> {
        self.faults.get(sink).cloned()
    }

    /// A probe that says whether every source reading outside input (all but avro hop
    /// sources, which only relay) has ended on its own: after that, only what is already
    /// in the channels can still flow. Callable from any thread.
    pub fn inputs_finished(&self) -> Arc<dyn Fn() -> bool + Send + Sync> {
        let sources = self.primary_sources.clone();
        Arc::new(move || sources.iter().all(|c| c.finished.load(Ordering::Relaxed)))
    }

    /// Logger sink lines written since the last call, oldest first.
    pub fn drain_log(&self) -> Vec<String> {
        self.log.drain()
    }

    /// Notices (failures, refusals, dead threads) since the last call, oldest first.
    pub fn drain_notices(&self) -> Vec<Notice> {
        self.notices.drain()
    }

    /// Threads that panicked so far: any means the run failed.
    pub fn fatal(&self) -> Vec<FatalError> {
        self.fatal.list()
    }

    /// Recent logger sink output, oldest first.
    pub fn log_tail(&self) -> Vec<String> {
        self.log.tail()
    }
}
