//! The life of a run's agents: starting their threads, stopping one agent (as a crash of
//! that agent would look to its neighbours), a draining stop of the inputs, and the full
//! stop that joins every thread.
//!
//! Threads: one per source (`flume-src-NAME`) and one per sink runner
//! (`flume-sink-NAME`); the [`FlumeRun`] owns their handles and joins them on stop, and
//! dropping a run stops it, so no thread outlives its run. Stop order inside an agent:
//! avro ports are unregistered (upstream deliveries fail and roll back), sources stop,
//! sink runners finish their batch, channels shut down and are then closed (file channels
//! checkpoint). A thread that panics is caught in its thread ([`run_guarded`]), recorded
//! as fatal for its nodes and reported once.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::runner::run_sinks;
use super::{AgentOptions, BuildError, FlumeRun, PendingSource, Runner, node_err};
use crate::flume::fatal::run_guarded;
#[cfg(test)]
use crate::flume::sources::{Source, SourceContext};
#[cfg(test)]
use crate::model::Topology;

impl FlumeRun {
    pub(super) fn start_agent(
        &mut self,
        name: &str,
        options: &AgentOptions,
    ) -> Result<(), BuildError> {
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

    pub(super) fn stop_all(&mut self) {
        let names: Vec<String> = self.agents.keys().cloned().collect();
        for name in names {
            self.stop_agent(&name);
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

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;
    use crate::flume::sink_processor::{Sink, SinkProcessor, Status};
    use crate::model::{Grouping, Node, Role, Value};
    use crate::policy::Grant;

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

    /// Waits for a condition the run is sure to reach; the deadline only turns a hang into
    /// a failure, it does not decide the outcome.
    fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !done() {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(2));
        }
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
}
