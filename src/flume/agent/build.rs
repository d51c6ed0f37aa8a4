//! Building a run from a [`Topology`]: channels first (sources and sinks refer to them),
//! then sources with their selectors, then sinks, then the sink runners (one per sink
//! group, one per sink outside a group).
//!
//! Nothing runs yet when `build` returns: sources and runners wait in their agent until
//! the lifecycle starts them, so a topology the agents cannot run is refused whole, by
//! the node's name, before any thread starts. The Flume rules shared with the other
//! layers (agent of a node, avro ports) come from [`crate::model::flume`].

use std::collections::BTreeMap;
use std::sync::Arc;

use petgraph::stable_graph::NodeIndex;

use super::runner::RunnerCounters;
use super::wiring::processor_for;
use super::{
    AgentOptions, BuildError, FlumeRun, NodeEntry, PendingSource, Probe, Runner, node_err,
};
use crate::flume::channel::Channel;
use crate::flume::fatal::FatalLog;
use crate::flume::file_channel::{FileChannel, FileChannelConfig, FileChannelEnv};
use crate::flume::memory_channel::{MemoryChannel, memory_config};
use crate::flume::notice::Notices;
use crate::flume::sink_processor::{
    FailoverProcessor, LoadBalanceProcessor, Selection as LbSelection, Sink, SinkProcessor,
};
use crate::flume::sinks::faulty::{FaultSwitch, FaultySink};
use crate::flume::sinks::{AvroSink, FileRollSink, LogOutput, LoggerSink, NullSink, SinkCounters};
use crate::flume::sources::{
    HopEndpoint, HopRegistry, NetcatSource, SeqSource, Source, SourceContext, SourceCounters,
    SpoolDirSource,
};
use crate::model::flume;
use crate::model::{Role, SinkProcessor as SinkProcessorSpec, Topology};

/// The run's channels by graph index, for wiring sources and sinks to them.
pub(super) type ChannelsAt = BTreeMap<NodeIndex, Arc<dyn Channel>>;

/// Built sinks not yet under a runner: node name → (agent, sink).
type PendingSinks = BTreeMap<String, (String, Box<dyn Sink>)>;

impl FlumeRun {
    pub(super) fn build(topology: &Topology, options: &AgentOptions) -> Result<Self, BuildError> {
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
        // Channels first: sources and sinks refer to them.
        let channel_at = run.add_channels(topology, options)?;
        run.add_sources(topology, options, &channel_at)?;
        let sinks = run.add_sinks(topology, options, &channel_at)?;
        run.group_sinks(topology, options, sinks)?;
        Ok(run)
    }

    /// Builds every channel node; returns them by graph index for the wiring.
    fn add_channels(
        &mut self,
        topology: &Topology,
        options: &AgentOptions,
    ) -> Result<ChannelsAt, BuildError> {
        let clock = Arc::clone(&options.clock);
        let mut channel_at: ChannelsAt = BTreeMap::new();
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
                        notices: Arc::clone(&self.notices),
                        disk: Arc::clone(&options.disk),
                    };
                    let (channel, report) = FileChannel::open_in(&node.name, config, env)?;
                    self.recovery.insert(node.name.clone(), report);
                    Arc::new(channel)
                }
                other => {
                    return Err(node_err(
                        &node.name,
                        format!("channel type '{other}' cannot run (memory and file can)"),
                    ));
                }
            };
            let agent = flume::agent_of(node).to_string();
            self.agents
                .entry(agent.clone())
                .or_default()
                .channels
                .push(Arc::clone(&channel));
            self.channels
                .insert(node.name.clone(), Arc::clone(&channel));
            self.nodes.insert(
                node.name.clone(),
                NodeEntry {
                    agent,
                    role: Role::Channel,
                    probe: Probe::Channel(Arc::clone(&channel)),
                },
            );
            channel_at.insert(index, channel);
        }

        Ok(channel_at)
    }

    /// Builds every source node with its selector and channels. Avro sources register
    /// their port with the run's hop registry instead of getting a thread.
    fn add_sources(
        &mut self,
        topology: &Topology,
        options: &AgentOptions,
        channel_at: &ChannelsAt,
    ) -> Result<(), BuildError> {
        let clock = Arc::clone(&options.clock);
        for index in topology.node_indices() {
            let Some(node) = topology.node(index) else {
                continue;
            };
            if node.role != Role::Source {
                continue;
            }
            let processor = Arc::new(processor_for(topology, index, channel_at, &clock)?);
            let counters = Arc::new(SourceCounters::default());
            let agent_name = flume::agent_of(node).to_string();
            let agent = self.agents.entry(agent_name.clone()).or_default();
            let ctx = SourceContext {
                processor: Arc::clone(&processor),
                stop: Arc::clone(&agent.input_stop),
                counters: Arc::clone(&counters),
                retry_pause: options.source_retry_pause,
                paused: Arc::clone(&options.paused),
                notices: Arc::clone(&self.notices),
                fatal: Arc::clone(&self.fatal),
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
                    let port =
                        flume::avro_port(node).map_err(|e| node_err(&node.name, e.to_string()))?;
                    self.hops
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
                self.primary_sources.push(Arc::clone(&counters));
                agent.sources.push(PendingSource { source, ctx });
            }
            self.nodes.insert(
                node.name.clone(),
                NodeEntry {
                    agent: agent_name,
                    role: Role::Source,
                    probe: Probe::Source(counters, listening),
                },
            );
        }

        Ok(())
    }

    /// Builds every sink node, each wrapped in its fault switch; returns them by name
    /// with their agent, for [`FlumeRun::group_sinks`].
    fn add_sinks(
        &mut self,
        topology: &Topology,
        options: &AgentOptions,
        channel_at: &ChannelsAt,
    ) -> Result<PendingSinks, BuildError> {
        let clock = Arc::clone(&options.clock);
        let mut sinks: PendingSinks = BTreeMap::new();
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
                    Arc::clone(&self.log),
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
                    flume::avro_port(node).map_err(|e| node_err(&node.name, e.to_string()))?,
                    channel,
                    Arc::clone(&self.hops),
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
            self.faults.insert(node.name.clone(), Arc::clone(&switch));
            let fault_seed = options.seed ^ (self.faults.len() as u64).wrapping_mul(0x2545_f491);
            let sink: Box<dyn Sink> = Box::new(FaultySink::new(
                sink,
                switch,
                Arc::clone(&counters),
                fault_seed,
            ));
            let agent = flume::agent_of(node).to_string();
            self.nodes.insert(
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

        Ok(sinks)
    }

    /// Puts the sinks of each sink group under the group's processor and every other sink
    /// under a default processor: one runner each.
    fn group_sinks(
        &mut self,
        topology: &Topology,
        options: &AgentOptions,
        mut sinks: PendingSinks,
    ) -> Result<(), BuildError> {
        let clock = Arc::clone(&options.clock);
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
                self.add_runner(&agent, &group.name, &group.sinks, processor);
            }
        }
        for (name, (agent, sink)) in sinks {
            self.add_runner(
                &agent,
                &name,
                std::slice::from_ref(&name),
                SinkProcessor::Default(sink),
            );
        }
        Ok(())
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
}
