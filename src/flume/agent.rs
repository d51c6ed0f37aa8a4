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

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use petgraph::stable_graph::NodeIndex;
use thiserror::Error;

use super::channel::{Channel, ChannelStats};
use super::channel_processor::ChannelProcessor;
use super::fatal::{FatalError, FatalLog, run_guarded};
use super::file_channel::{
    DiskFull, FileChannel, FileChannelConfig, FileChannelEnv, FileChannelError, RecoveryReport,
};
use super::interceptor::InterceptorChain;
use super::memory_channel::{MemoryChannel, memory_config};
use super::notice::{Notice, Notices};
use super::selector::ChannelSelector;
use super::sink_processor::{
    FailoverProcessor, LoadBalanceProcessor, Selection as LbSelection, Sink, SinkProcessor,
    SinkSlot, Status,
};
use super::sinks::faulty::{FaultSwitch, FaultySink};
use super::sinks::{AvroSink, FileRollSink, LogOutput, LoggerSink, NullSink, SinkCounters};
use super::sources::{
    HopEndpoint, HopRegistry, NetcatSource, SeqSource, Source, SourceContext, SourceCounters,
    SpoolDirSource,
};
use super::util::{Conf, StopSignal};
use crate::clock::{Clock, SystemClock};
use crate::model::{Grouping, Role, SinkProcessor as SinkProcessorSpec, Topology};
use crate::policy::Grant;

/// The agent name used for Flume nodes that name none.
pub const DEFAULT_AGENT: &str = "agent";

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

/// Counters of one sink runner (a sink or a whole sink group).
#[derive(Debug, Default)]
pub struct RunnerCounters {
    /// Back-off sleeps taken (empty channel or failure).
    pub backoffs: AtomicU64,
    /// The runner is sleeping in back-off right now.
    pub in_backoff: AtomicBool,
    /// `process` calls that failed (every sink of a group failed, or the only sink did).
    pub errors: AtomicU64,
    /// The processor's view of its sinks after the last `process`.
    pub slots: Mutex<Vec<SinkSlot>>,
}

/// Back-off and fail-over state of one sink, for the canvas.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SinkState {
    /// The sink is usable (for failover: it is the one in use).
    pub active: bool,
    /// Failed over or blacklisted until this time (ms since the epoch or the test clock).
    pub penalty_until_ms: Option<u64>,
    pub sequential_failures: u32,
    /// The sink's runner is sleeping in back-off.
    pub in_backoff: bool,
    pub backoffs: u64,
    pub failures: u64,
}

/// Metrics of one Flume node at one moment.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NodeStats {
    pub agent: String,
    pub role: Option<Role>,
    /// Source: events received; channel: puts committed; sink: events delivered.
    pub events_in: u64,
    /// Source: events committed to its channels; channel: takes committed; sink: delivered.
    pub events_out: u64,
    /// Channels only.
    pub channel: Option<ChannelStats>,
    /// Source: its last put was refused and it is waiting (back-pressure).
    /// Channel: a put is waiting for space or failed for lack of it.
    pub blocked: bool,
    /// Sinks only.
    pub sink: Option<SinkState>,
    pub last_error: Option<String>,
    /// Netcat sources: the address actually bound (useful with port 0).
    pub listening: Option<SocketAddr>,
    /// Sources: the source ended on its own (a `seq` source reached its limit, or its
    /// thread died).
    pub finished: bool,
    /// Sources: lines longer than the limit (netcat refuses them, spooldir cuts them).
    pub too_long: u64,
    /// Netcat sources: connections refused because `max-connections` were open.
    pub refused_connections: u64,
    /// The node's thread panicked: the node has stopped and the run has failed.
    pub fatal: Option<String>,
}

/// Metrics of a whole run.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FlumeSnapshot {
    pub nodes: BTreeMap<String, NodeStats>,
    /// Agent name → still running.
    pub agents: BTreeMap<String, bool>,
    /// Recovery findings of file channels, by channel name.
    pub recovery: BTreeMap<String, RecoveryReport>,
    /// Threads that panicked, in order: any entry means the run failed.
    pub fatal: Vec<FatalError>,
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

fn agent_of(node: &crate::model::Node) -> String {
    node.agent
        .clone()
        .unwrap_or_else(|| DEFAULT_AGENT.to_string())
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

    fn build(topology: &Topology, options: &AgentOptions) -> Result<Self, BuildError> {
        let mut run = FlumeRun {
            agents: BTreeMap::new(),
            nodes: BTreeMap::new(),
            channels: BTreeMap::new(),
            hops: Arc::new(HopRegistry::default()),
            log: Arc::new(LogOutput::new(options.log_to_stderr)),
            recovery: BTreeMap::new(),
            errors: Vec::new(),
            faults: BTreeMap::new(),
            primary_sources: Vec::new(),
            notices: Arc::new(Notices::new()),
            fatal: Arc::new(FatalLog::default()),
        };
        let clock = Arc::clone(&options.clock);

        // Channels first: sources and sinks refer to them.
        let mut channel_at: BTreeMap<NodeIndex, Arc<dyn Channel>> = BTreeMap::new();
        for index in topology.node_indices() {
            let Some(node) = topology.node(index) else {
                continue;
            };
            if node.role != Role::Channel {
                continue;
            }
            let channel: Arc<dyn Channel> = match node.component.as_str() {
                "memory" => Arc::new(MemoryChannel::new(&node.name, memory_config(&node.config))),
                "file" => {
                    let config = FileChannelConfig::from_node_config(
                        &node.name,
                        &node.config,
                        &options.grant,
                    )
                    .map_err(|m| node_err(&node.name, m))?;
                    let env = FileChannelEnv {
                        clock: Arc::clone(&clock),
                        notices: Arc::clone(&run.notices),
                        disk: Arc::clone(&options.disk),
                    };
                    let (channel, report) = FileChannel::open_in(&node.name, config, env)?;
                    run.recovery.insert(node.name.clone(), report);
                    Arc::new(channel)
                }
                other => {
                    return Err(node_err(
                        &node.name,
                        format!("channel type '{other}' cannot run (memory and file can)"),
                    ));
                }
            };
            let agent = agent_of(node);
            run.agents
                .entry(agent.clone())
                .or_default()
                .channels
                .push(Arc::clone(&channel));
            run.channels.insert(node.name.clone(), Arc::clone(&channel));
            run.nodes.insert(
                node.name.clone(),
                NodeEntry {
                    agent,
                    role: Role::Channel,
                    probe: Probe::Channel(Arc::clone(&channel)),
                },
            );
            channel_at.insert(index, channel);
        }

        // Sources.
        for index in topology.node_indices() {
            let Some(node) = topology.node(index) else {
                continue;
            };
            if node.role != Role::Source {
                continue;
            }
            let processor = Arc::new(Self::processor_for(topology, index, &channel_at, &clock)?);
            let counters = Arc::new(SourceCounters::default());
            let agent_name = agent_of(node);
            let agent = run.agents.entry(agent_name.clone()).or_default();
            let ctx = SourceContext {
                processor: Arc::clone(&processor),
                stop: Arc::clone(&agent.input_stop),
                counters: Arc::clone(&counters),
                retry_pause: options.source_retry_pause,
                paused: Arc::clone(&options.paused),
                notices: Arc::clone(&run.notices),
                fatal: Arc::clone(&run.fatal),
            };
            let mut listening = None;
            let source: Option<Box<dyn Source>> = match node.component.as_str() {
                "sequence" | "seq" => Some(Box::new(SeqSource::new(&node.name, &node.config))),
                "netcat" => {
                    let s = NetcatSource::bind(&node.name, &node.config, &options.grant)
                        .map_err(|m| node_err(&node.name, m))?;
                    listening = s.local_addr();
                    Some(Box::new(s))
                }
                "spooldir" => Some(Box::new(
                    SpoolDirSource::new(&node.name, &node.config, &options.grant)
                        .map_err(|m| node_err(&node.name, m))?,
                )),
                "avro_source" | "avro" => {
                    let port = u16::try_from(Conf(&node.config).uint("port", 4141))
                        .map_err(|_| node_err(&node.name, "port out of range"))?;
                    run.hops
                        .register(
                            port,
                            Arc::new(HopEndpoint {
                                source: node.name.clone(),
                                processor,
                                counters: Arc::clone(&counters),
                            }),
                        )
                        .map_err(|m| node_err(&node.name, m))?;
                    agent.avro_ports.push(port);
                    None
                }
                "exec" => {
                    return Err(node_err(
                        &node.name,
                        "the exec source is not supported: running shell commands from a topology is a security risk",
                    ));
                }
                other => {
                    return Err(node_err(
                        &node.name,
                        format!("source type '{other}' cannot run as a Flume source"),
                    ));
                }
            };
            if let Some(source) = source {
                run.primary_sources.push(Arc::clone(&counters));
                agent.sources.push(PendingSource { source, ctx });
            }
            run.nodes.insert(
                node.name.clone(),
                NodeEntry {
                    agent: agent_name,
                    role: Role::Source,
                    probe: Probe::Source(counters, listening),
                },
            );
        }

        // Sinks, then group them under their processors.
        let mut sinks: BTreeMap<String, (String, Box<dyn Sink>)> = BTreeMap::new();
        for index in topology.node_indices() {
            let Some(node) = topology.node(index) else {
                continue;
            };
            if node.role != Role::Sink {
                continue;
            }
            let drains: Vec<NodeIndex> = topology
                .inputs(index)
                .filter(|(_, from, _)| channel_at.contains_key(from))
                .map(|(_, from, _)| from)
                .collect();
            let [from] = drains[..] else {
                return Err(node_err(
                    &node.name,
                    format!(
                        "a sink drains exactly one channel, but this one has {}",
                        drains.len()
                    ),
                ));
            };
            let Some(channel) = channel_at.get(&from).cloned() else {
                continue;
            };
            let counters = Arc::new(SinkCounters::default());
            let sink: Box<dyn Sink> = match node.component.as_str() {
                "logger" => Box::new(LoggerSink::new(
                    &node.name,
                    &node.config,
                    channel,
                    Arc::clone(&run.log),
                    Arc::clone(&counters),
                )),
                "null" => Box::new(NullSink::new(
                    &node.name,
                    &node.config,
                    channel,
                    Arc::clone(&counters),
                )),
                "file_roll" => Box::new(
                    FileRollSink::new(
                        &node.name,
                        &node.config,
                        &options.grant,
                        channel,
                        Arc::clone(&clock),
                        Arc::clone(&counters),
                    )
                    .map_err(|m| node_err(&node.name, m))?,
                ),
                "avro_sink" | "avro" => Box::new(AvroSink::new(
                    &node.name,
                    &node.config,
                    channel,
                    Arc::clone(&run.hops),
                    Arc::clone(&counters),
                )),
                other => {
                    return Err(node_err(
                        &node.name,
                        format!("sink type '{other}' cannot run as a Flume sink"),
                    ));
                }
            };
            let switch = Arc::new(FaultSwitch::default());
            run.faults.insert(node.name.clone(), Arc::clone(&switch));
            let fault_seed = options.seed ^ (run.faults.len() as u64).wrapping_mul(0x2545_f491);
            let sink: Box<dyn Sink> = Box::new(FaultySink::new(
                sink,
                switch,
                Arc::clone(&counters),
                fault_seed,
            ));
            let agent = agent_of(node);
            run.nodes.insert(
                node.name.clone(),
                NodeEntry {
                    agent: agent.clone(),
                    role: Role::Sink,
                    // The runner counters are filled in below, once groups are known.
                    probe: Probe::Sink(counters, Arc::new(RunnerCounters::default())),
                },
            );
            sinks.insert(node.name.clone(), (agent, sink));
        }

        let mut seed = options.seed;
        for group in &topology.sink_groups {
            let mut members = Vec::new();
            let mut agent = None;
            for name in &group.sinks {
                let Some((a, sink)) = sinks.remove(name) else {
                    return Err(BuildError::Node {
                        node: group.name.clone(),
                        message: format!(
                            "sink group lists '{name}', which is not a runnable sink (or is in another group)"
                        ),
                    });
                };
                agent.get_or_insert(a);
                members.push(sink);
            }
            let Some(agent) = agent else { continue };
            let processor = match &group.processor {
                SinkProcessorSpec::Default => match members.len() {
                    1 => members.pop().map(SinkProcessor::Default),
                    _ => {
                        return Err(node_err(
                            &group.name,
                            "the default sink processor takes exactly one sink",
                        ));
                    }
                },
                SinkProcessorSpec::Failover {
                    priorities,
                    max_penalty_ms,
                } => Some(SinkProcessor::Failover(FailoverProcessor::new(
                    members,
                    priorities,
                    *max_penalty_ms,
                    Arc::clone(&clock),
                ))),
                SinkProcessorSpec::LoadBalance {
                    random,
                    backoff,
                    max_timeout_ms,
                } => {
                    seed = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
                    Some(SinkProcessor::LoadBalance(LoadBalanceProcessor::new(
                        members,
                        if *random {
                            LbSelection::Random
                        } else {
                            LbSelection::RoundRobin
                        },
                        *backoff,
                        *max_timeout_ms,
                        seed,
                        Arc::clone(&clock),
                    )))
                }
            };
            if let Some(processor) = processor {
                run.add_runner(&agent, &group.name, &group.sinks, processor);
            }
        }
        for (name, (agent, sink)) in sinks {
            run.add_runner(
                &agent,
                &name,
                std::slice::from_ref(&name),
                SinkProcessor::Default(sink),
            );
        }
        Ok(run)
    }

    fn add_runner(
        &mut self,
        agent: &str,
        name: &str,
        members: &[String],
        processor: SinkProcessor,
    ) {
        let counters = Arc::new(RunnerCounters::default());
        *counters.slots.lock().unwrap_or_else(|p| p.into_inner()) = processor.slots();
        for member in members {
            if let Some(NodeEntry {
                probe: Probe::Sink(_, runner),
                ..
            }) = self.nodes.get_mut(member)
            {
                *runner = Arc::clone(&counters);
            }
        }
        self.agents
            .entry(agent.to_string())
            .or_default()
            .runners
            .push(Runner {
                name: name.to_string(),
                members: members.to_vec(),
                processor,
                counters,
            });
    }

    /// The selector and channels of one source, from its outgoing edges.
    fn processor_for(
        topology: &Topology,
        index: NodeIndex,
        channel_at: &BTreeMap<NodeIndex, Arc<dyn Channel>>,
        clock: &Arc<dyn Clock>,
    ) -> Result<ChannelProcessor, BuildError> {
        let Some(node) = topology.node(index) else {
            return Err(node_err("?", "node vanished"));
        };
        let mut links: Vec<(String, NodeIndex, Grouping)> = topology
            .outputs(index)
            .filter(|(_, to, _)| channel_at.contains_key(to))
            .filter_map(|(_, to, e)| {
                topology
                    .node(to)
                    .map(|n| (n.name.clone(), to, e.grouping.clone()))
            })
            .collect();
        // Channel order by name, so a run is the same whatever order edges were added in.
        links.sort_by(|a, b| a.0.cmp(&b.0));
        if links.is_empty() {
            return Err(node_err(&node.name, "a source needs at least one channel"));
        }
        let channels: Vec<Arc<dyn Channel>> = links
            .iter()
            .filter_map(|(_, to, _)| channel_at.get(to).cloned())
            .collect();
        let multiplexing = links.iter().any(|(_, _, g)| {
            matches!(
                g,
                Grouping::Mapped(_) | Grouping::MappedOptional(_) | Grouping::Default
            )
        });
        let selector = if multiplexing {
            let header = Conf(&node.config).str("selector.header").ok_or_else(|| {
                node_err(
                    &node.name,
                    "multiplexing links need a 'selector.header' setting naming the header to route on",
                )
            })?;
            let mut mapping: BTreeMap<String, BTreeSet<usize>> = BTreeMap::new();
            let mut optional: BTreeMap<String, BTreeSet<usize>> = BTreeMap::new();
            let mut default = BTreeSet::new();
            for (i, (_, _, g)) in links.iter().enumerate() {
                match g {
                    Grouping::Mapped(values) => values.iter().for_each(|v| {
                        mapping.entry(v.clone()).or_default().insert(i);
                    }),
                    Grouping::MappedOptional(values) => values.iter().for_each(|v| {
                        optional.entry(v.clone()).or_default().insert(i);
                    }),
                    Grouping::Default => {
                        default.insert(i);
                    }
                    other => {
                        return Err(node_err(
                            &node.name,
                            format!(
                                "link to '{}' is {} but the source multiplexes; use Mapped, MappedOptional or Default",
                                links[i].0,
                                other.label()
                            ),
                        ));
                    }
                }
            }
            ChannelSelector::Multiplexing {
                header,
                mapping,
                optional,
                default,
            }
        } else {
            ChannelSelector::Replicating {
                channels: (0..links.len()).collect(),
                optional: links
                    .iter()
                    .enumerate()
                    .filter(|(_, (_, _, g))| *g == Grouping::Optional)
                    .map(|(i, _)| i)
                    .collect(),
            }
        };
        let interceptors = InterceptorChain::from_config(&node.config, Arc::clone(clock))
            .map_err(|e| node_err(&node.name, e.to_string()))?;
        Ok(ChannelProcessor::new(channels, selector, interceptors))
    }

    fn start_agent(&mut self, name: &str, options: &AgentOptions) -> Result<(), BuildError> {
        let Some(agent) = self.agents.get_mut(name) else {
            return Ok(());
        };
        for PendingSource { source, ctx } in agent.sources.drain(..) {
            let thread = format!("flume-src-{}", source.name());
            let nodes = vec![source.name().to_string()];
            let counters = Arc::clone(&ctx.counters);
            let (fatal, notices) = (Arc::clone(&self.fatal), Arc::clone(&self.notices));
            let handle = std::thread::Builder::new()
                .name(thread)
                .spawn(move || {
                    run_guarded(&nodes, &fatal, &notices, || source.run(ctx));
                    // Also after a panic: a dead source receives nothing more, so a run
                    // waiting for its inputs to finish can end.
                    counters.finished.store(true, Ordering::Relaxed);
                })
                .map_err(|e| node_err(name, format!("cannot start a thread: {e}")))?;
            agent.threads.push(handle);
        }
        for runner in agent.runners.drain(..) {
            let stop = Arc::clone(&agent.stop);
            let step = options.backoff_step;
            let max = options.max_backoff;
            let (fatal, notices) = (Arc::clone(&self.fatal), Arc::clone(&self.notices));
            let Runner {
                name: runner_name,
                members,
                processor,
                counters,
            } = runner;
            let handle = std::thread::Builder::new()
                .name(format!("flume-sink-{runner_name}"))
                .spawn(move || {
                    run_guarded(&members, &fatal, &notices, || {
                        run_sinks(processor, &counters, &stop, step, max);
                    });
                })
                .map_err(|e| node_err(name, format!("cannot start a thread: {e}")))?;
            agent.threads.push(handle);
        }
        agent.running = true;
        Ok(())
    }

    /// Stops one agent: its avro sources stop accepting, sources stop, sinks finish their
    /// current batch, channels close (file channels checkpoint). Upstream agents that
    /// forward to it see failed deliveries and roll back (or fail over).
    pub fn stop_agent(&mut self, name: &str) {
        let Some(agent) = self.agents.get_mut(name) else {
            return;
        };
        for port in agent.avro_ports.drain(..) {
            self.hops.unregister(port);
        }
        agent.input_stop.stop();
        agent.stop.stop();
        for channel in &agent.channels {
            channel.shutdown();
        }
        for handle in agent.threads.drain(..) {
            if handle.join().is_err() {
                self.errors
                    .push(format!("a thread of agent '{name}' panicked"));
            }
        }
        for channel in &agent.channels {
            if let Err(e) = channel.close() {
                self.errors.push(e.to_string());
            }
        }
        agent.running = false;
    }

    /// Stops the sources that read outside input (netcat, spooldir, sequence) in every
    /// agent and leaves sinks and hops running, so what the channels hold still flows
    /// out: the first half of a draining stop. Their threads end on their own, which
    /// [`FlumeRun::inputs_finished`] then reports.
    pub fn stop_inputs(&self) {
        for agent in self.agents.values() {
            agent.input_stop.stop();
        }
    }

    /// Stops every agent and joins all threads; returns problems met while stopping.
    pub fn stop(mut self) -> Vec<String> {
        self.stop_all();
        std::mem::take(&mut self.errors)
    }

    fn stop_all(&mut self) {
        let names: Vec<String> = self.agents.keys().cloned().collect();
        for name in names {
            self.stop_agent(&name);
        }
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

    /// Current metrics of every Flume node.
    pub fn snapshot(&self) -> FlumeSnapshot {
        let fatal = self.fatal.list();
        let mut nodes = BTreeMap::new();
        for (name, entry) in &self.nodes {
            let mut stats = NodeStats {
                agent: entry.agent.clone(),
                role: Some(entry.role),
                fatal: fatal
                    .iter()
                    .find(|f| f.node == *name)
                    .map(|f| f.message.clone()),
                ..NodeStats::default()
            };
            match &entry.probe {
                Probe::Source(c, listening) => {
                    stats.events_in = c.received.load(Ordering::Relaxed);
                    stats.events_out = c.accepted.load(Ordering::Relaxed);
                    stats.blocked = c.blocked.load(Ordering::Relaxed);
                    stats.last_error = c.last_error();
                    stats.listening = *listening;
                    stats.finished = c.finished.load(Ordering::Relaxed);
                    stats.too_long = c.too_long.load(Ordering::Relaxed);
                    stats.refused_connections = c.refused_connections.load(Ordering::Relaxed);
                }
                Probe::Channel(ch) => {
                    let counters = ch.counters();
                    let c = counters.snapshot();
                    stats.events_in = c.puts_committed;
                    stats.events_out = c.takes_committed;
                    stats.blocked = c.blocked;
                    stats.channel = Some(c);
                    stats.last_error = counters.last_error();
                }
                Probe::Sink(c, runner) => {
                    let delivered = c.delivered.load(Ordering::Relaxed);
                    stats.events_in = delivered;
                    stats.events_out = delivered;
                    stats.last_error = c.last_error();
                    let slots = runner.slots.lock().unwrap_or_else(|p| p.into_inner());
                    let slot = slots
                        .iter()
                        .find(|s| s.name == *name)
                        .cloned()
                        .unwrap_or_default();
                    stats.sink = Some(SinkState {
                        active: slot.active,
                        penalty_until_ms: slot.penalty_until_ms,
                        sequential_failures: slot.sequential_failures,
                        in_backoff: runner.in_backoff.load(Ordering::Relaxed),
                        backoffs: runner.backoffs.load(Ordering::Relaxed),
                        failures: c.failures.load(Ordering::Relaxed),
                    });
                }
            }
            nodes.insert(name.clone(), stats);
        }
        FlumeSnapshot {
            nodes,
            agents: self
                .agents
                .iter()
                .map(|(n, a)| (n.clone(), a.running))
                .collect(),
            recovery: self.recovery.clone(),
            fatal,
        }
    }
}

#[cfg(test)]
impl FlumeRun {
    /// Starts `topology` with source `name` replaced by one that panics as soon as it
    /// runs: no config value makes a thread panic any more, so tests of the fatal path
    /// inject one.
    pub(crate) fn start_with_panicking_source(
        topology: &Topology,
        options: AgentOptions,
        name: &str,
    ) -> Result<Self, BuildError> {
        struct Panicking(String);
        impl Source for Panicking {
            fn name(&self) -> &str {
                &self.0
            }
            fn run(self: Box<Self>, _ctx: SourceContext) {
                panic!("injected failure in {}", self.0);
            }
        }
        let mut run = Self::build(topology, &options)?;
        for agent in run.agents.values_mut() {
            for pending in &mut agent.sources {
                if pending.source.name() == name {
                    pending.source = Box::new(Panicking(name.to_string()));
                }
            }
        }
        let names: Vec<String> = run.agents.keys().cloned().collect();
        for agent in names {
            run.start_agent(&agent, &options)?;
        }
        Ok(run)
    }
}

impl Drop for FlumeRun {
    /// Dropping a run stops it cleanly, so no thread outlives its run.
    fn drop(&mut self) {
        self.stop_all();
    }
}

/// Flume's `SinkRunner`: call `process` in a loop; after an empty poll sleep
/// `min(step × consecutive back-offs, max)`, after a failure sleep `max`.
fn run_sinks(
    processor: SinkProcessor,
    counters: &RunnerCounters,
    stop: &StopSignal,
    step: Duration,
    max: Duration,
) {
    run_sinks_with(
        processor,
        counters,
        step,
        max,
        || stop.is_stopped(),
        |d| stop.sleep(d),
    );
}

/// The runner loop with its clock-facing parts injected: `stopped` is polled before each
/// `process`, `sleep` pauses and returns `true` when the runner should stop.
fn run_sinks_with(
    mut processor: SinkProcessor,
    counters: &RunnerCounters,
    step: Duration,
    max: Duration,
    stopped: impl Fn() -> bool,
    mut sleep: impl FnMut(Duration) -> bool,
) {
    let mut consecutive: u32 = 0;
    while !stopped() {
        let result = processor.process();
        *counters.slots.lock().unwrap_or_else(|p| p.into_inner()) = processor.slots();
        let pause = match result {
            Ok(Status::Ready) => {
                consecutive = 0;
                continue;
            }
            Ok(Status::Backoff) => {
                consecutive = consecutive.saturating_add(1);
                step.saturating_mul(consecutive).min(max)
            }
            Err(_) => {
                counters.errors.fetch_add(1, Ordering::Relaxed);
                max
            }
        };
        counters.backoffs.fetch_add(1, Ordering::Relaxed);
        counters.in_backoff.store(true, Ordering::Relaxed);
        let stop_now = sleep(pause);
        counters.in_backoff.store(false, Ordering::Relaxed);
        if stop_now {
            break;
        }
    }
    processor.stop();
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader, Write};
    use std::time::Instant;

    use super::*;
    use crate::model::{Node, SinkGroup, Value};

    fn fast(base: &std::path::Path) -> AgentOptions {
        AgentOptions {
            grant: Grant::new(base),
            backoff_step: Duration::from_millis(2),
            max_backoff: Duration::from_millis(10),
            source_retry_pause: Duration::from_millis(2),
            ..AgentOptions::default()
        }
    }

    fn node(
        name: &str,
        role: Role,
        component: &str,
        agent: &str,
        config: &[(&str, Value)],
    ) -> Node {
        let mut n = Node::new(name, role, component);
        n.agent = Some(agent.to_string());
        for (k, v) in config {
            n.config.insert(k.to_string(), v.clone());
        }
        n
    }

    fn int(v: i64) -> Value {
        Value::Int(v)
    }

    fn s(v: &str) -> Value {
        Value::Str(v.into())
    }

    /// Waits for a condition the run is sure to reach; the deadline only turns a hang into
    /// a failure, it does not decide the outcome.
    fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !done() {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    fn lines_in(dir: &std::path::Path) -> Vec<String> {
        let mut out = Vec::new();
        if let Ok(entries) = std::fs::read_dir(dir) {
            for e in entries.flatten() {
                let text = std::fs::read_to_string(e.path()).unwrap_or_default();
                out.extend(text.lines().map(str::to_string));
            }
        }
        out
    }

    #[test]
    fn seq_to_file_channel_to_file_roll_end_to_end() {
        let base = tempfile::tempdir().unwrap();
        let mut t = Topology::new("t");
        t.add_node(node(
            "gen",
            Role::Source,
            "sequence",
            "a",
            &[("limit", int(50)), ("batchSize", int(5))],
        ))
        .unwrap();
        t.add_node(node(
            "durable",
            Role::Channel,
            "file",
            "a",
            &[
                ("checkpointDir", s("ck")),
                ("dataDirs", s("data")),
                ("keep-alive", int(0)),
            ],
        ))
        .unwrap();
        t.add_node(node(
            "out",
            Role::Sink,
            "file_roll",
            "a",
            &[
                ("sink.directory", s("rolled")),
                ("sink.rollInterval", int(0)),
            ],
        ))
        .unwrap();
        t.connect_names("gen", "durable", "default", Grouping::Required)
            .unwrap();
        t.connect_names("durable", "out", "default", Grouping::Drain)
            .unwrap();
        let run = FlumeRun::start(&t, fast(base.path())).unwrap();
        wait_for("50 events delivered", || {
            run.snapshot().nodes["out"].events_out == 50
        });
        let snap = run.snapshot();
        assert_eq!(snap.nodes["gen"].events_out, 50);
        assert_eq!(snap.nodes["durable"].channel.unwrap().takes_committed, 50);
        assert!(snap.agents["a"]);
        assert!(run.stop().is_empty());
        let lines = lines_in(&base.path().join("rolled"));
        let expected: Vec<String> = (0..50).map(|i| i.to_string()).collect();
        assert_eq!(lines, expected);
    }

    /// Drops a file into the spool folder atomically (write hidden, then rename), as
    /// spooling sources require.
    fn spool(dir: &std::path::Path, name: &str, lines: std::ops::Range<u64>) {
        let text: String = lines.map(|i| format!("{i}\n")).collect();
        let hidden = dir.join(format!(".{name}"));
        std::fs::write(&hidden, text).unwrap();
        std::fs::rename(hidden, dir.join(name)).unwrap();
    }

    #[test]
    fn two_tier_failover_survives_losing_a_collector() {
        let base = tempfile::tempdir().unwrap();
        let spool_dir = base.path().join("spool");
        std::fs::create_dir_all(&spool_dir).unwrap();
        let mut t = Topology::new("t");
        t.add_node(node(
            "files",
            Role::Source,
            "spooldir",
            "edge",
            &[
                ("spoolDir", s("spool")),
                ("pollDelay", int(5)),
                ("batchSize", int(10)),
            ],
        ))
        .unwrap();
        t.add_node(node(
            "buf",
            Role::Channel,
            "memory",
            "edge",
            &[("keep-alive", int(0)), ("capacity", int(1000))],
        ))
        .unwrap();
        t.add_node(node(
            "fwdA",
            Role::Sink,
            "avro_sink",
            "edge",
            &[("port", int(7101)), ("batch-size", int(10))],
        ))
        .unwrap();
        t.add_node(node(
            "fwdB",
            Role::Sink,
            "avro_sink",
            "edge",
            &[("port", int(7102)), ("batch-size", int(10))],
        ))
        .unwrap();
        t.connect_names("files", "buf", "default", Grouping::Required)
            .unwrap();
        t.connect_names("buf", "fwdA", "default", Grouping::Drain)
            .unwrap();
        t.connect_names("buf", "fwdB", "default", Grouping::Drain)
            .unwrap();
        t.sink_groups.push(SinkGroup {
            name: "fwd".into(),
            sinks: vec!["fwdA".into(), "fwdB".into()],
            processor: SinkProcessorSpec::Failover {
                priorities: BTreeMap::from([("fwdA".to_string(), 20), ("fwdB".to_string(), 10)]),
                max_penalty_ms: 30_000,
            },
        });
        for (agent, port) in [("collA", 7101), ("collB", 7102)] {
            t.add_node(node(
                &format!("{agent}-in"),
                Role::Source,
                "avro_source",
                agent,
                &[("port", int(port))],
            ))
            .unwrap();
            // Collector A keeps its channel on disk, so what it holds when it goes down
            // can be checked afterwards.
            let channel = if agent == "collA" {
                node(
                    &format!("{agent}-ch"),
                    Role::Channel,
                    "file",
                    agent,
                    &[
                        ("keep-alive", int(0)),
                        ("checkpointDir", s("a-ck")),
                        ("dataDirs", s("a-data")),
                    ],
                )
            } else {
                node(
                    &format!("{agent}-ch"),
                    Role::Channel,
                    "memory",
                    agent,
                    &[("keep-alive", int(0))],
                )
            };
            t.add_node(channel).unwrap();
            t.add_node(node(
                &format!("{agent}-out"),
                Role::Sink,
                "file_roll",
                agent,
                &[("sink.directory", s(agent)), ("sink.rollInterval", int(0))],
            ))
            .unwrap();
            t.connect_names(
                &format!("{agent}-in"),
                &format!("{agent}-ch"),
                "default",
                Grouping::Required,
            )
            .unwrap();
            t.connect_names(
                &format!("{agent}-ch"),
                &format!("{agent}-out"),
                "default",
                Grouping::Drain,
            )
            .unwrap();
        }
        let mut run = FlumeRun::start(&t, fast(base.path())).unwrap();
        // Phase 1: everything goes through the primary.
        spool(&spool_dir, "one.log", 0..100);
        wait_for("collector A receives phase 1", || {
            run.snapshot().nodes["collA-out"].events_out == 100
        });
        let before = run.snapshot();
        assert!(before.nodes["fwdA"].sink.as_ref().unwrap().active);
        assert_eq!(before.nodes["collB-out"].events_out, 0, "B is the backup");
        // Phase 2: the primary collector is down; the group fails over to B.
        run.stop_agent("collA");
        spool(&spool_dir, "two.log", 100..200);
        wait_for("collector B receives phase 2", || {
            run.snapshot().nodes["collB-out"].events_out == 100
        });
        let snap = run.snapshot();
        let fwd_a = snap.nodes["fwdA"].sink.clone().unwrap();
        assert!(
            !fwd_a.active && fwd_a.penalty_until_ms.is_some(),
            "{fwd_a:?}"
        );
        assert!(fwd_a.failures >= 1);
        assert!(snap.nodes["fwdB"].sink.as_ref().unwrap().active);
        assert!(!snap.agents["collA"]);
        assert!(snap.agents["edge"]);
        assert!(run.stop().is_empty());
        let a: Vec<u64> = lines_in(&base.path().join("collA"))
            .iter()
            .map(|l| l.parse().unwrap())
            .collect();
        let b: Vec<u64> = lines_in(&base.path().join("collB"))
            .iter()
            .map(|l| l.parse().unwrap())
            .collect();
        assert_eq!(a, (0..100).collect::<Vec<u64>>());
        assert_eq!(b, (100..200).collect::<Vec<u64>>());
    }

    #[test]
    fn fan_in_from_two_agents_with_an_optional_side_channel() {
        let base = tempfile::tempdir().unwrap();
        let mut t = Topology::new("t");
        for (agent, start) in [("edge1", 0), ("edge2", 1000)] {
            t.add_node(node(
                &format!("{agent}-gen"),
                Role::Source,
                "sequence",
                agent,
                &[
                    ("start", int(start)),
                    ("limit", int(40)),
                    ("batchSize", int(4)),
                ],
            ))
            .unwrap();
            t.add_node(node(
                &format!("{agent}-ch"),
                Role::Channel,
                "memory",
                agent,
                &[("keep-alive", int(0))],
            ))
            .unwrap();
            // A small optional side channel nobody drains: it takes the first batch of 4,
            // then its puts fail (whole batches) and are ignored; the main flow carries on.
            t.add_node(node(
                &format!("{agent}-side"),
                Role::Channel,
                "memory",
                agent,
                &[("keep-alive", int(0)), ("capacity", int(6))],
            ))
            .unwrap();
            t.add_node(node(
                &format!("{agent}-fwd"),
                Role::Sink,
                "avro_sink",
                agent,
                &[("port", int(7201))],
            ))
            .unwrap();
            t.connect_names(
                &format!("{agent}-gen"),
                &format!("{agent}-ch"),
                "default",
                Grouping::Required,
            )
            .unwrap();
            t.connect_names(
                &format!("{agent}-gen"),
                &format!("{agent}-side"),
                "default",
                Grouping::Optional,
            )
            .unwrap();
            t.connect_names(
                &format!("{agent}-ch"),
                &format!("{agent}-fwd"),
                "default",
                Grouping::Drain,
            )
            .unwrap();
        }
        t.add_node(node(
            "in",
            Role::Source,
            "avro_source",
            "collector",
            &[("port", int(7201))],
        ))
        .unwrap();
        t.add_node(node(
            "all",
            Role::Channel,
            "memory",
            "collector",
            &[("keep-alive", int(0))],
        ))
        .unwrap();
        t.add_node(node(
            "store",
            Role::Sink,
            "file_roll",
            "collector",
            &[
                ("sink.directory", s("store")),
                ("sink.rollInterval", int(0)),
            ],
        ))
        .unwrap();
        t.connect_names("in", "all", "default", Grouping::Required)
            .unwrap();
        t.connect_names("all", "store", "default", Grouping::Drain)
            .unwrap();
        let run = FlumeRun::start(&t, fast(base.path())).unwrap();
        wait_for("both edges delivered", || {
            run.snapshot().nodes["store"].events_out == 80
        });
        let snap = run.snapshot();
        assert_eq!(snap.nodes["in"].events_out, 80);
        assert_eq!(snap.nodes["edge1-side"].channel.unwrap().size, 4);
        assert!(run.stop().is_empty());
        let got: BTreeSet<u64> = lines_in(&base.path().join("store"))
            .iter()
            .map(|l| l.parse().unwrap())
            .collect();
        let expected: BTreeSet<u64> = (0..40).chain(1000..1040).collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn netcat_interceptors_and_multiplexing_end_to_end() {
        let base = tempfile::tempdir().unwrap();
        let mut t = Topology::new("t");
        t.add_node(node(
            "lines",
            Role::Source,
            "netcat",
            "edge",
            &[
                ("port", int(0)),
                ("interceptors", s("drop lvl")),
                ("interceptors.drop.type", s("regex_filter")),
                ("interceptors.drop.regex", s("^DEBUG")),
                ("interceptors.drop.excludeEvents", Value::Bool(true)),
                ("interceptors.lvl.type", s("static")),
                ("interceptors.lvl.key", s("level")),
                ("interceptors.lvl.value", s("info")),
                ("selector.header", s("level")),
            ],
        ))
        .unwrap();
        t.add_node(node(
            "hot",
            Role::Channel,
            "memory",
            "edge",
            &[("keep-alive", int(0))],
        ))
        .unwrap();
        t.add_node(node(
            "cold",
            Role::Channel,
            "memory",
            "edge",
            &[("keep-alive", int(0))],
        ))
        .unwrap();
        t.add_node(node("console", Role::Sink, "logger", "edge", &[]))
            .unwrap();
        t.add_node(node("drop", Role::Sink, "null", "edge", &[]))
            .unwrap();
        t.connect_names(
            "lines",
            "hot",
            "default",
            Grouping::Mapped(vec!["info".into()]),
        )
        .unwrap();
        t.connect_names("lines", "cold", "default", Grouping::Default)
            .unwrap();
        t.connect_names("hot", "console", "default", Grouping::Drain)
            .unwrap();
        t.connect_names("cold", "drop", "default", Grouping::Drain)
            .unwrap();
        let run = FlumeRun::start(&t, fast(base.path())).unwrap();
        let addr = run.snapshot().nodes["lines"].listening.unwrap();
        let mut client = std::net::TcpStream::connect(addr).unwrap();
        client.write_all(b"hello\nDEBUG noise\nworld\n").unwrap();
        let mut replies = BufReader::new(client.try_clone().unwrap());
        for _ in 0..3 {
            let mut line = String::new();
            replies.read_line(&mut line).unwrap();
            assert_eq!(line, "OK\n");
        }
        wait_for("two events logged", || run.log_tail().len() == 2);
        let tail = run.log_tail();
        assert!(
            tail[0].contains("level=info") && tail[0].ends_with("hello }"),
            "{tail:?}"
        );
        assert!(tail[1].ends_with("world }"), "{tail:?}");
        let snap = run.snapshot();
        assert_eq!(snap.nodes["cold"].events_in, 0);
        assert_eq!(
            (
                snap.nodes["lines"].events_in,
                snap.nodes["lines"].events_out
            ),
            (3, 2)
        );
        drop(client);
        assert!(run.stop().is_empty());
    }

    #[test]
    fn spooldir_agent_renames_completed_files() {
        let base = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(base.path().join("spool")).unwrap();
        std::fs::write(base.path().join("spool/one.log"), "a\nb\n").unwrap();
        let mut t = Topology::new("t");
        t.add_node(node(
            "files",
            Role::Source,
            "spooldir",
            "ingest",
            &[("spoolDir", s("spool")), ("pollDelay", int(5))],
        ))
        .unwrap();
        t.add_node(node(
            "buf",
            Role::Channel,
            "memory",
            "ingest",
            &[("keep-alive", int(0))],
        ))
        .unwrap();
        t.add_node(node("sink", Role::Sink, "null", "ingest", &[]))
            .unwrap();
        t.connect_names("files", "buf", "default", Grouping::Required)
            .unwrap();
        t.connect_names("buf", "sink", "default", Grouping::Drain)
            .unwrap();
        let run = FlumeRun::start(&t, fast(base.path())).unwrap();
        wait_for("file completed", || {
            base.path().join("spool/one.log.COMPLETED").exists()
        });
        wait_for("events drained", || {
            run.snapshot().nodes["sink"].events_out == 2
        });
        assert!(run.stop().is_empty());
    }

    #[test]
    fn a_full_channel_blocks_its_source_visibly() {
        let base = tempfile::tempdir().unwrap();
        let mut t = Topology::new("t");
        t.add_node(node("gen", Role::Source, "sequence", "a", &[]))
            .unwrap();
        t.add_node(node(
            "small",
            Role::Channel,
            "memory",
            "a",
            &[("capacity", int(5)), ("keep-alive", int(0))],
        ))
        .unwrap();
        // A Storm bolt drains this channel in the main engine; here nobody does.
        t.add_node(Node::new("bolt", Role::Bolt, "split")).unwrap();
        t.connect_names("gen", "small", "default", Grouping::Required)
            .unwrap();
        t.connect_names("small", "bolt", "default", Grouping::Drain)
            .unwrap();
        let run = FlumeRun::start(&t, fast(base.path())).unwrap();
        wait_for("source blocked", || run.snapshot().nodes["gen"].blocked);
        let snap = run.snapshot();
        assert_eq!(snap.nodes["small"].channel.unwrap().size, 5);
        assert!(snap.nodes["small"].blocked);
        assert!(run.channel("small").is_some());
        assert!(run.stop().is_empty());
    }

    /// A sink that replays a script of outcomes.
    struct Scripted(std::collections::VecDeque<Result<Status, ()>>);

    impl Sink for Scripted {
        fn name(&self) -> &str {
            "scripted"
        }
        fn process(&mut self) -> Result<Status, crate::flume::sink_processor::SinkError> {
            match self.0.pop_front().unwrap_or(Ok(Status::Backoff)) {
                Ok(s) => Ok(s),
                Err(()) => Err(crate::flume::sink_processor::SinkError {
                    sink: "scripted".into(),
                    message: "down".into(),
                }),
            }
        }
    }

    #[test]
    fn sink_runner_backs_off_in_growing_steps_capped_at_max() {
        use Status::{Backoff, Ready};
        let script = [
            Ok(Backoff),
            Ok(Backoff),
            Ok(Backoff),
            Ok(Backoff),
            Ok(Backoff),
            Ok(Backoff),
            Ok(Ready),
            Ok(Backoff),
            Err(()),
        ];
        let sink = Scripted(script.into_iter().collect());
        let counters = RunnerCounters::default();
        let mut pauses = Vec::new();
        run_sinks_with(
            SinkProcessor::Default(Box::new(sink)),
            &counters,
            Duration::from_secs(1),
            Duration::from_secs(5),
            || false,
            |d| {
                pauses.push(d.as_secs());
                pauses.len() == 8
            },
        );
        assert_eq!(pauses, [1, 2, 3, 4, 5, 5, 1, 5]);
        assert_eq!(counters.errors.load(Ordering::Relaxed), 1);
        assert_eq!(counters.backoffs.load(Ordering::Relaxed), 8);
    }

    #[test]
    fn unsupported_pieces_are_refused_by_name() {
        let mut t = Topology::new("t");
        t.add_node(node("sh", Role::Source, "exec", "a", &[]))
            .unwrap();
        t.add_node(node("c", Role::Channel, "memory", "a", &[]))
            .unwrap();
        t.connect_names("sh", "c", "default", Grouping::Required)
            .unwrap();
        let err = FlumeRun::start(&t, AgentOptions::default()).err().unwrap();
        assert!(err.to_string().contains("'sh'") && err.to_string().contains("security"));
    }

    /// A sink that panics on its first `process`.
    struct PanickingSink;

    impl Sink for PanickingSink {
        fn name(&self) -> &str {
            "out"
        }
        fn process(&mut self) -> Result<Status, crate::flume::sink_processor::SinkError> {
            panic!("injected sink failure");
        }
    }

    fn seq_to_null() -> Topology {
        let mut t = Topology::new("t");
        t.add_node(node(
            "gen",
            Role::Source,
            "sequence",
            "a",
            &[("limit", int(3))],
        ))
        .unwrap();
        t.add_node(node(
            "c",
            Role::Channel,
            "memory",
            "a",
            &[("keep-alive", int(0))],
        ))
        .unwrap();
        t.add_node(node("out", Role::Sink, "null", "a", &[]))
            .unwrap();
        t.connect_names("gen", "c", "default", Grouping::Required)
            .unwrap();
        t.connect_names("c", "out", "default", Grouping::Drain)
            .unwrap();
        t
    }

    #[test]
    fn a_panicking_source_is_fatal_logged_and_finished() {
        let base = tempfile::tempdir().unwrap();
        let options = fast(base.path());
        let run = FlumeRun::start_with_panicking_source(&seq_to_null(), options, "gen").unwrap();
        wait_for("the source to finish", || (run.inputs_finished())());
        let snap = run.snapshot();
        assert_eq!(snap.fatal.len(), 1, "{:?}", snap.fatal);
        assert_eq!(snap.fatal[0].node, "gen");
        let fatal = snap.nodes["gen"].fatal.clone().unwrap();
        assert!(fatal.contains("injected failure in gen"), "{fatal}");
        assert!(snap.nodes["gen"].finished);
        let notices = run.drain_notices();
        assert!(
            notices
                .iter()
                .any(|n| n.node == "gen" && n.text.contains("panicked")),
            "{notices:?}"
        );
        assert!(run.stop().is_empty(), "the panic was caught in its thread");
    }

    #[test]
    fn a_panicking_sink_runner_is_fatal_for_its_sink() {
        let base = tempfile::tempdir().unwrap();
        let options = fast(base.path());
        let mut run = FlumeRun::build(&seq_to_null(), &options).unwrap();
        let agent = run.agents.get_mut("a").unwrap();
        agent.runners[0].processor = SinkProcessor::Default(Box::new(PanickingSink));
        run.start_agent("a", &options).unwrap();
        wait_for("the runner to die", || !run.fatal().is_empty());
        let snap = run.snapshot();
        assert_eq!(snap.fatal[0].node, "out");
        assert!(snap.nodes["out"].fatal.is_some());
        assert!(snap.nodes["gen"].fatal.is_none());
        assert!(run.stop().is_empty());
    }

    #[test]
    fn a_full_disk_is_logged_once_and_the_flow_resumes_when_space_returns() {
        let base = tempfile::tempdir().unwrap();
        let mut t = Topology::new("t");
        t.add_node(node(
            "gen",
            Role::Source,
            "sequence",
            "a",
            &[("limit", int(200))],
        ))
        .unwrap();
        t.add_node(node(
            "durable",
            Role::Channel,
            "file",
            "a",
            &[
                ("checkpointDir", s("ck")),
                ("dataDirs", s("data")),
                ("keep-alive", int(0)),
            ],
        ))
        .unwrap();
        t.add_node(node("out", Role::Sink, "null", "a", &[]))
            .unwrap();
        t.connect_names("gen", "durable", "default", Grouping::Required)
            .unwrap();
        t.connect_names("durable", "out", "default", Grouping::Drain)
            .unwrap();
        let options = fast(base.path());
        let (disk, paused) = (Arc::clone(&options.disk), Arc::clone(&options.paused));
        // The channel opens on a healthy disk; the disk fills before the first event.
        paused.store(true, Ordering::Relaxed);
        let run = FlumeRun::start(&t, options).unwrap();
        disk.set(true);
        paused.store(false, Ordering::Relaxed);
        wait_for("commits to fail", || {
            run.snapshot().nodes["durable"]
                .channel
                .is_some_and(|c| c.io_failures >= 20)
        });
        let notices = run.drain_notices();
        let errors: Vec<_> = notices
            .iter()
            .filter(|n| n.node == "durable" && n.text.contains("cannot write its log"))
            .collect();
        assert_eq!(errors.len(), 1, "one line for the episode: {notices:?}");
        assert!(run.snapshot().nodes["durable"].last_error.is_some());
        assert_eq!(run.snapshot().nodes["out"].events_out, 0);
        // Space returns: everything flows, with no restart.
        disk.set(false);
        wait_for("all events delivered", || {
            run.snapshot().nodes["out"].events_out == 200
        });
        let notices = run.drain_notices();
        assert!(
            notices.iter().any(|n| n.text.contains("writing again")),
            "{notices:?}"
        );
        assert!(run.snapshot().nodes["durable"].last_error.is_none());
        assert!(run.stop().is_empty());
    }
}
