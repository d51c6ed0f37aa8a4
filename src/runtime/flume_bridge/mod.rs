//! The Flume half of a run. The engine starts one [`FlumeSide`] next to its Storm
//! executors when a topology has Flume nodes: the agents run as real Flume agents
//! (`crate::flume::FlumeRun`: transactional channels, selectors, sink processors, hops),
//! and channels drained by bolts are fed to the Storm plan through [`drain`] spouts.
//! One lifecycle covers both halves: pause, faults, log, metrics, finish and stop.
//! Channels that spouts or bolts write into get a [`put`] bolt; [`view`] splits the
//! topology into its Storm and Flume halves; [`metrics`] folds the agents' statistics
//! into the snapshot's plain `super::metrics` types.
//!
//! Both threaded engines use this module: record-at-a-time (`super::storm`), and
//! micro-batch (`super::batch`), where a drained channel becomes a receiver that acks
//! each record once it is stored in its block, so a take commits only then (Spark's
//! reliable Flume receiver). It imports the shared runtime modules and `crate::flume`,
//! never an engine. The agents' threads
//! (one per source, one per sink runner) belong to `crate::flume::FlumeRun`: started
//! before the executors, stopped agent by agent, upstream first, after the executors
//! have been joined.

pub mod drain;
pub mod metrics;
pub mod put;
pub mod view;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::flume::{AgentOptions, BuildError, FlumeRun, FlumeSnapshot, Severity};
use crate::model::{Role, Topology};

use super::components::Factory;
use super::control::FaultSpec;
use super::error::RunError;
use super::log::{LogKind, RunLog};
use super::metrics::MetricsSnapshot;
use metrics::{LinkInfo, NodeInfo, Rates};
use view::Split;

impl From<BuildError> for RunError {
    fn from(e: BuildError) -> Self {
        match e {
            BuildError::Node { node, message } => RunError::Config { node, message },
            BuildError::FileChannel(e) => RunError::Config {
                node: "file channel".into(),
                message: e.to_string(),
            },
        }
    }
}

/// The running Flume agents of one engine.
pub struct FlumeSide {
    run: Option<FlumeRun>,
    /// The numbers at stop, so the engine's final snapshot still shows the Flume part.
    last: Option<FlumeSnapshot>,
    info: BTreeMap<String, NodeInfo>,
    links: Vec<LinkInfo>,
    rates: Mutex<Rates>,
    paused: Arc<AtomicBool>,
    /// Agents upstream first, so no agent stops while another still forwards to it.
    stop_order: Vec<String>,
}

/// Agent names ordered so that every agent comes before the agents its avro sinks
/// forward to (a cycle, which validation reports, keeps the remaining names sorted).
fn upstream_first(topology: &Topology) -> Vec<String> {
    use crate::model::flume;
    let mut left: std::collections::BTreeSet<String> = topology
        .nodes()
        .filter(|n| matches!(n.role, Role::Source | Role::Channel | Role::Sink))
        .map(|n| flume::agent_of(n).to_string())
        .collect();
    // (from agent, to agent) for every hop.
    let hops = flume::agent_links(topology);
    let mut order = Vec::new();
    while !left.is_empty() {
        let ready = left
            .iter()
            .find(|a| {
                !hops
                    .iter()
                    .any(|(from, to)| to == *a && left.contains(from))
            })
            .or_else(|| left.iter().next())
            .cloned();
        let Some(next) = ready else { break };
        left.remove(&next);
        order.push(next);
    }
    order
}

impl FlumeSide {
    /// Starts the Flume agents of `topology` (none → `None`) and adds to `overrides` a
    /// drain spout for every channel that bolts read and a put bolt for every channel
    /// that spouts or bolts write into.
    pub fn start(
        topology: &Topology,
        split: &Split,
        options: AgentOptions,
        overrides: &mut BTreeMap<String, Factory>,
        log: &RunLog,
        rate_window: std::time::Duration,
        start: Instant,
    ) -> Result<Option<FlumeSide>, RunError> {
        if !split.has_flume {
            return Ok(None);
        }
        let paused = Arc::clone(&options.paused);
        let run = FlumeRun::start(topology, options)?;
        Ok(Some(Self::around(
            run,
            topology,
            split,
            paused,
            overrides,
            log,
            (rate_window, start),
        )))
    }

    /// The Flume half around agents already started.
    fn around(
        run: FlumeRun,
        topology: &Topology,
        split: &Split,
        paused: Arc<AtomicBool>,
        overrides: &mut BTreeMap<String, Factory>,
        log: &RunLog,
        (rate_window, start): (std::time::Duration, Instant),
    ) -> FlumeSide {
        let finished = run.inputs_finished();
        for (name, fields) in &split.drained {
            let Some(channel) = run.channel(name) else {
                continue;
            };
            overrides.insert(
                name.clone(),
                drain::factory(channel, fields.clone(), Arc::clone(&finished)),
            );
        }
        for (name, optional) in &split.written {
            if let Some(channel) = run.channel(name) {
                overrides.insert(name.clone(), put::factory(channel, *optional));
            }
        }
        let mut info = BTreeMap::new();
        for node in topology.nodes() {
            if matches!(node.role, Role::Source | Role::Channel | Role::Sink) {
                info.insert(
                    node.name.clone(),
                    NodeInfo {
                        role: node.role,
                        component: node.component.clone(),
                    },
                );
            }
        }
        let links = topology
            .edge_list()
            .into_iter()
            .filter(|e| {
                let role = |n: &str| info.get(n).map(|i| i.role);
                matches!(
                    (role(&e.from), role(&e.to)),
                    (Some(Role::Source), Some(Role::Channel))
                        | (Some(Role::Channel), Some(Role::Sink))
                )
            })
            .map(|e| LinkInfo {
                grouping: e.grouping.label(),
                from: e.from,
                to: e.to,
                stream: e.stream,
            })
            .collect();
        let snapshot = run.snapshot();
        for (name, stats) in &snapshot.nodes {
            if let Some(addr) = stats.listening {
                log.push(name, 0, LogKind::Event, format!("listening on {addr}"));
            }
        }
        for (channel, report) in &snapshot.recovery {
            if report.events_recovered > 0 || report.uncommitted_dropped > 0 {
                log.push(
                    channel,
                    0,
                    LogKind::Event,
                    format!(
                        "recovered {} events ({} from the checkpoint, {} commits replayed, {} uncommitted transactions dropped)",
                        report.events_recovered,
                        report.from_checkpoint,
                        report.commits_replayed,
                        report.uncommitted_dropped
                    ),
                );
            }
            for warning in &report.warnings {
                log.push(channel, 0, LogKind::Error, warning.clone());
            }
        }
        FlumeSide {
            run: Some(run),
            last: None,
            info,
            links,
            rates: Mutex::new(Rates::new(rate_window, start)),
            paused,
            stop_order: upstream_first(topology),
        }
    }

    /// Adds Flume nodes and links to a snapshot the Storm sampler made.
    pub fn fold_into(&self, snap: &mut MetricsSnapshot) {
        let flume = match (&self.run, &self.last) {
            (Some(run), _) => run.snapshot(),
            (None, Some(last)) => last.clone(),
            (None, None) => return,
        };
        let mut rates = self.rates.lock().unwrap_or_else(|p| p.into_inner());
        metrics::fold(snap, &flume, &self.info, &self.links, &mut rates);
    }

    /// Holds or releases every source's next batch.
    pub fn set_paused(&self, paused: bool) {
        self.paused.store(paused, Ordering::Relaxed);
    }

    /// Faults on a Flume sink: `fail_probability` is the chance a `process` call fails.
    /// Returns false when `node` is not a Flume sink.
    pub fn set_faults(&self, node: &str, faults: &FaultSpec) -> bool {
        match self.run.as_ref().and_then(|r| r.fault_switch(node)) {
            Some(switch) => {
                switch.set_fail_probability(faults.fail_probability);
                true
            }
            None => false,
        }
    }

    /// Moves new logger sink lines into the run log (as lines of the sink that wrote
    /// them: they start with `[sink]`), and the agents' notices (failures, refusals,
    /// dead threads) as events or errors of their nodes.
    pub fn forward_log(&self, log: &RunLog) {
        let Some(run) = &self.run else {
            return;
        };
        for notice in run.drain_notices() {
            let kind = match notice.severity {
                Severity::Info => LogKind::Event,
                Severity::Error => LogKind::Error,
            };
            log.push(&notice.node, 0, kind, notice.text);
        }
        for line in run.drain_log() {
            let node = line
                .strip_prefix('[')
                .and_then(|rest| rest.split_once("] "))
                .map_or("flume", |(name, _)| name);
            log.push(node, 0, LogKind::Tuple, line.clone());
        }
    }

    /// `Some(activity)` when nothing more can flow: every outside source finished and
    /// every channel empty with no open take; `activity` changes whenever events move,
    /// so the caller can require two equal readings.
    pub fn quiet(&self) -> Option<u64> {
        let run = self.run.as_ref()?;
        // A dead thread fails the run; nothing the rest does can change that, and a dead
        // sink would keep its channel from ever emptying. The run may end.
        if !run.fatal().is_empty() {
            return Some(0);
        }
        if !(run.inputs_finished())() {
            return None;
        }
        let snap = run.snapshot();
        let mut activity = 0u64;
        for stats in snap.nodes.values() {
            if let Some(c) = stats.channel {
                if c.size > 0 || c.in_flight > 0 {
                    return None;
                }
                activity = activity.wrapping_add(c.commits).wrapping_add(c.rollbacks);
            }
            activity = activity.wrapping_add(stats.events_in);
        }
        Some(activity)
    }

    /// The Flume half of a draining stop: stops the outside-input sources, then waits
    /// until every channel is empty with no open take (two equal quiet readings in a
    /// row), `deadline` passes or `interrupt` is set. Sinks, hops and drain spouts keep
    /// running meanwhile. Returns what was left when it gave up (`None`: drained).
    pub fn drain(&self, deadline: Instant, interrupt: &AtomicBool) -> Option<String> {
        let run = self.run.as_ref()?;
        run.stop_inputs();
        let mut last = None;
        while Instant::now() < deadline && !interrupt.load(Ordering::Relaxed) {
            match self.quiet() {
                Some(activity) if last == Some(activity) => return None,
                reading => last = reading,
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let snap = run.snapshot();
        let held: Vec<String> = snap
            .nodes
            .iter()
            .filter_map(|(name, stats)| {
                let c = stats.channel?;
                (c.size > 0 || c.in_flight > 0)
                    .then(|| format!("channel '{name}' holds {}", c.size))
            })
            .collect();
        Some(if held.is_empty() {
            "Flume sources still running".to_string()
        } else {
            held.join(", ")
        })
    }

    /// Stops every agent and joins its threads; returns problems met while stopping.
    pub fn stop(&mut self) -> Vec<String> {
        let Some(mut run) = self.run.take() else {
            return Vec::new();
        };
        for agent in &self.stop_order {
            run.stop_agent(agent);
        }
        self.last = Some(run.snapshot());
        // Notices not yet forwarded go out with the problems met while stopping (a
        // checkpoint at close that failed, say), which the engine logs.
        let mut problems: Vec<String> = run
            .drain_notices()
            .into_iter()
            .map(|n| format!("{}: {}", n.node, n.text))
            .collect();
        problems.extend(run.stop());
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Grouping, Node};

    #[test]
    fn a_dead_flume_thread_reaches_the_log_and_the_snapshot_and_ends_the_run() {
        let base = tempfile::tempdir().unwrap();
        let mut t = Topology::new("t");
        for node in [
            Node::new("gen", Role::Source, "sequence"),
            Node::new("c", Role::Channel, "memory"),
            Node::new("out", Role::Sink, "null"),
        ] {
            t.add_node(node).unwrap();
        }
        t.connect_names("gen", "c", "default", Grouping::Required)
            .unwrap();
        t.connect_names("c", "out", "default", Grouping::Drain)
            .unwrap();
        let options = AgentOptions {
            grant: crate::policy::Grant::new(base.path()),
            ..AgentOptions::default()
        };
        let paused = Arc::clone(&options.paused);
        let run = FlumeRun::start_with_panicking_source(&t, options, "gen").unwrap();
        let split = view::split(&t).unwrap();
        let start = Instant::now();
        let log = RunLog::new(crate::clock::RunClock::wall(start));
        let mut side = FlumeSide::around(
            run,
            &t,
            &split,
            paused,
            &mut BTreeMap::new(),
            &log,
            (Duration::from_secs(1), start),
        );
        // The run can end: the dead source counts as finished, and a fatal error makes
        // the Flume half quiet even though nothing drained.
        let deadline = Instant::now() + Duration::from_secs(60);
        while side.quiet().is_none() {
            assert!(Instant::now() < deadline, "the run never became quiet");
            std::thread::sleep(Duration::from_millis(5));
        }
        // (a) In the run log, as an error of the node, without waiting for the stop.
        side.forward_log(&log);
        let lines = log.drain();
        assert!(
            lines.iter().any(|l| l.node == "gen"
                && l.kind == LogKind::Error
                && l.text.contains("panicked")),
            "{lines:?}"
        );
        // (b) In the snapshot, where the CLI looks to fail the run.
        let mut snap = MetricsSnapshot::default();
        side.fold_into(&mut snap);
        let fatal = super::super::metrics::fatal_errors(&snap);
        assert_eq!(fatal.len(), 1, "{fatal:?}");
        assert_eq!(fatal[0].0, "gen");
        assert!(fatal[0].1.contains("injected"), "{fatal:?}");
        assert!(snap.nodes["gen"].flume.as_ref().unwrap().finished);
        // Still there after the stop, in the final numbers.
        side.stop();
        let mut last = MetricsSnapshot::default();
        side.fold_into(&mut last);
        assert_eq!(super::super::metrics::fatal_errors(&last), fatal);
    }
}
