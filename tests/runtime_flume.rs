//! Flume nodes inside the main engine: real agents next to the Storm executors, bolts
//! draining channels in take transactions, and the Flume state in the engine's metrics.
//! Every wait is for a condition; deadlines only turn a hang into a failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test crate: a failure here is the test failing

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use tributary::model::{Grouping, Node, Role, SinkGroup, SinkProcessor, StreamDecl, Topology};
use tributary::runtime::{
    Behaviour, Bolt, Control, Emitter, Engine, Failed, FaultSpec, RunOptions, StopMode, Tuple,
};

mod common;
use common::DEADLINE;
use common::wait_for_snapshot as wait_for;

fn source(name: &str, limit: i64, rate: i64) -> Node {
    Node::new(name, Role::Source, "sequence")
        .with_config("limit", limit)
        .with_config("rate_per_sec", rate)
        .with_output(StreamDecl::default_stream(&["n"]))
}

fn memory(name: &str, capacity: i64) -> Node {
    Node::new(name, Role::Channel, "memory")
        .with_config("capacity", capacity)
        .with_config("keep-alive", 0)
}

/// Makes `sink` fail every delivery (`on`) or deliver normally again.
fn fail_every_delivery(engine: &Engine, sink: &str, on: bool) {
    let fail_probability = if on { 1.0 } else { 0.0 };
    engine.control(Control::SetFaults {
        node: sink.into(),
        faults: FaultSpec {
            fail_probability,
            ..FaultSpec::default()
        },
    });
}

fn options(base: &std::path::Path) -> RunOptions {
    RunOptions {
        base_dir: base.to_path_buf(),
        ..RunOptions::default()
    }
}

/// A bolt that fails the first delivery of every value and records the second.
fn fail_once_then_record(seen: Arc<Mutex<Vec<String>>>) -> tributary::runtime::Factory {
    struct FailOnce {
        tried: BTreeSet<String>,
        seen: Arc<Mutex<Vec<String>>>,
    }
    impl Bolt for FailOnce {
        fn execute(&mut self, input: &Tuple, _out: &mut Emitter) -> Result<(), Failed> {
            let v = input
                .values
                .get(0)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string();
            if self.tried.insert(v.clone()) {
                return Err(Failed("first try".into()));
            }
            self.seen.lock().unwrap().push(v);
            Ok(())
        }
    }
    Arc::new(move |_| {
        Ok(Behaviour::Bolt(Box::new(FailOnce {
            tried: BTreeSet::new(),
            seen: Arc::clone(&seen),
        })))
    })
}

/// The numbers a logger sink `node` logged, in order: the body text after the hex dump
/// of each line (`Event: { headers:{} body: 31 32 12 }`).
fn logged_bodies(engine: &Engine, node: &str) -> Vec<u64> {
    engine
        .drain_log()
        .into_iter()
        .filter(|l| l.node == node)
        .map(|l| {
            let body = l
                .text
                .trim_end()
                .strip_suffix(" }")
                .and_then(|t| t.rsplit(' ').next());
            body.and_then(|b| b.parse().ok())
                .unwrap_or_else(|| panic!("no number in the logged event: {}", l.text))
        })
        .collect()
}

#[test]
fn bolts_drain_a_channel_at_least_once_and_the_run_finishes() {
    let base = tempfile::tempdir().unwrap();
    let mut t = Topology::new("mixed");
    t.add_node(source("gen", 200, 0).with_config("start", 0))
        .unwrap();
    t.add_node(memory("buf", 1000)).unwrap();
    t.add_node(Node::new("take", Role::Bolt, "null")).unwrap();
    t.connect_names("gen", "buf", "default", Grouping::Required)
        .unwrap();
    t.connect_names("buf", "take", "default", Grouping::Drain)
        .unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut opts = options(base.path());
    opts.overrides = BTreeMap::from([("take".to_string(), fail_once_then_record(seen.clone()))]);
    let engine = Engine::start(&t, opts).unwrap();
    assert!(engine.wait_finished(DEADLINE), "{:#?}", engine.snapshot());
    let snap = engine.stop(StopMode::Drain);
    let got: BTreeSet<u64> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|s| s.parse().unwrap())
        .collect();
    assert_eq!(got, (0..200).collect::<BTreeSet<u64>>());
    let buf = &snap.nodes["buf"];
    assert_eq!(buf.role, "channel");
    assert_eq!(buf.executed, 200, "puts committed");
    assert_eq!(buf.queue_depth, 0);
    let ch = buf.flume.as_ref().unwrap().channel.clone().unwrap();
    assert!(ch.rollbacks >= 1, "every first delivery failed: {ch:?}");
    assert_eq!((ch.size, ch.in_flight), (0, 0));
    assert!(buf.failed >= 1 && buf.acked >= 200, "{buf:?}");
    let generator = &snap.nodes["gen"];
    assert_eq!(
        (generator.role.as_str(), generator.emitted, generator.done),
        ("source", 200, true)
    );
    assert!(generator.flume.as_ref().unwrap().finished);
    // The channel drained by a bolt is a spout here, so its trees have an acker.
    let executors: Vec<&String> = snap.workers.iter().flat_map(|w| &w.executors).collect();
    assert!(executors.iter().any(|e| *e == "acker"), "{executors:?}");
}

#[test]
fn a_full_channel_blocks_its_source_in_the_metrics() {
    let base = tempfile::tempdir().unwrap();
    let mut t = Topology::new("full");
    t.add_node(source("gen", 0, 0)).unwrap();
    t.add_node(memory("small", 5)).unwrap();
    t.add_node(Node::new("out", Role::Sink, "null")).unwrap();
    t.connect_names("gen", "small", "default", Grouping::Required)
        .unwrap();
    t.connect_names("small", "out", "default", Grouping::Drain)
        .unwrap();
    let engine = Engine::start(&t, options(base.path())).unwrap();
    // The sink fails every delivery: nothing leaves the channel any more.
    fail_every_delivery(&engine, "out", true);
    let snap = wait_for(&engine, "a full channel and a blocked source", |s| {
        let ch = &s.nodes["small"];
        let generator = s.nodes["gen"].flume.as_ref().is_some_and(|f| f.blocked);
        ch.queue_depth == 5 && ch.queue_capacity == 5 && generator
    });
    let small = snap.nodes["small"].flume.clone().unwrap();
    assert!(small.channel.unwrap().full_failures >= 1);
    // The sink's next poll fails and shows as a failure.
    wait_for(&engine, "a failed sink poll", |s| {
        s.nodes["out"].failed >= 1
            && s.nodes["out"]
                .flume
                .as_ref()
                .and_then(|f| f.sink.as_ref())
                .is_some_and(|k| k.failures >= 1)
    });
    // Faults off: the sink delivers again, so the source's batches get in again.
    let before = engine.snapshot().nodes["gen"].emitted;
    fail_every_delivery(&engine, "out", false);
    wait_for(&engine, "deliveries again", |s| {
        s.nodes["out"].executed > 0 && s.nodes["gen"].emitted > before
    });
    engine.stop(StopMode::Immediate);
}

#[test]
fn a_failover_shows_in_the_metrics() {
    let base = tempfile::tempdir().unwrap();
    let mut t = Topology::new("failover");
    t.add_node(source("gen", 0, 2000)).unwrap();
    t.add_node(memory("ch", 1000)).unwrap();
    for name in ["primary", "backup"] {
        t.add_node(Node::new(name, Role::Sink, "null")).unwrap();
        t.connect_names("ch", name, "default", Grouping::Drain)
            .unwrap();
    }
    t.connect_names("gen", "ch", "default", Grouping::Required)
        .unwrap();
    t.sink_groups.push(SinkGroup {
        name: "out".into(),
        sinks: vec!["primary".into(), "backup".into()],
        processor: SinkProcessor::Failover {
            priorities: BTreeMap::from([("primary".to_string(), 10), ("backup".to_string(), 5)]),
            max_penalty_ms: 30_000,
        },
    });
    let engine = Engine::start(&t, options(base.path())).unwrap();
    let snap = wait_for(&engine, "the primary delivering", |s| {
        s.nodes["primary"].executed > 0
    });
    assert!(
        snap.nodes["primary"]
            .flume
            .as_ref()
            .unwrap()
            .sink
            .as_ref()
            .unwrap()
            .active
    );
    assert_eq!(snap.nodes["backup"].executed, 0);
    fail_every_delivery(&engine, "primary", true);
    let snap = wait_for(&engine, "the backup taking over", |s| {
        let sink = |n: &str| {
            s.nodes[n]
                .flume
                .clone()
                .and_then(|f| f.sink)
                .unwrap_or_default()
        };
        s.nodes["backup"].executed > 0
            && sink("backup").active
            && !sink("primary").active
            && sink("primary").penalized
    });
    assert!(snap.nodes["primary"].failed >= 1);
    assert!(
        snap.edges
            .iter()
            .any(|e| e.from == "ch" && e.to == "backup" && e.tuples > 0)
    );
    engine.stop(StopMode::Immediate);
}

#[test]
fn pause_holds_flume_sources_and_resume_releases_them() {
    let base = tempfile::tempdir().unwrap();
    let mut t = Topology::new("pause");
    t.add_node(source("gen", 0, 1000)).unwrap();
    t.add_node(memory("ch", 100_000)).unwrap();
    t.add_node(Node::new("out", Role::Sink, "null")).unwrap();
    t.connect_names("gen", "ch", "default", Grouping::Required)
        .unwrap();
    t.connect_names("ch", "out", "default", Grouping::Drain)
        .unwrap();
    let engine = Engine::start(&t, options(base.path())).unwrap();
    wait_for(&engine, "events flowing", |s| s.nodes["gen"].emitted > 0);
    engine.control(Control::Pause);
    // The source acknowledges the pause: it holds its next batch, and what it received
    // before is all counted. From then on its count cannot move until Resume.
    let received = |s: &tributary::runtime::MetricsSnapshot| {
        let f = s.nodes["gen"].flume.as_ref().unwrap();
        (f.paused, f.events_in)
    };
    let held = wait_for(&engine, "the source holding its batch", |s| received(s).0);
    let last = received(&held).1;
    let again = engine.snapshot();
    assert_eq!(
        received(&again),
        (true, last),
        "a holding source received more"
    );
    engine.control(Control::Resume);
    wait_for(&engine, "events flowing again", |s| {
        let (paused, n) = received(s);
        !paused && n > last
    });
    engine.stop(StopMode::Immediate);
}

#[test]
fn a_pure_flume_run_with_finite_sources_finishes() {
    let base = tempfile::tempdir().unwrap();
    let mut t = Topology::new("finite");
    t.add_node(source("gen", 30, 0)).unwrap();
    t.add_node(memory("ch", 100)).unwrap();
    t.add_node(Node::new("log", Role::Sink, "logger")).unwrap();
    t.connect_names("gen", "ch", "default", Grouping::Required)
        .unwrap();
    t.connect_names("ch", "log", "default", Grouping::Drain)
        .unwrap();
    let engine = Engine::start(&t, options(base.path())).unwrap();
    assert!(engine.wait_finished(DEADLINE));
    let mut logged = logged_bodies(&engine, "log");
    logged.sort_unstable();
    assert_eq!(logged, (0..30).collect::<Vec<u64>>(), "each event once");
    let snap = engine.stop(StopMode::Drain);
    assert_eq!(snap.nodes["log"].executed, 30);
    assert_eq!(snap.nodes["ch"].flume.as_ref().unwrap().agent, "agent");
    // No spout runs in the engine, so no acker is planned (it would only sit idle).
    assert!(t.settings.ackers > 0);
    let executors: Vec<&String> = snap.workers.iter().flat_map(|w| &w.executors).collect();
    assert!(!executors.iter().any(|e| *e == "acker"), "{executors:?}");
}

#[test]
fn a_bolt_writes_into_a_channel_that_a_flume_sink_drains() {
    let base = tempfile::tempdir().unwrap();
    let mut t = Topology::new("storm-to-flume");
    t.add_node(
        Node::new("numbers", Role::Spout, "sequence")
            .with_config("limit", 40)
            .with_output(StreamDecl::default_stream(&["n"])),
    )
    .unwrap();
    t.add_node(
        Node::new("pass", Role::Bolt, "filter")
            .with_config("field", "n")
            .with_config("op", "not_empty")
            .with_output(StreamDecl::default_stream(&["n"])),
    )
    .unwrap();
    t.add_node(memory("ch", 10)).unwrap();
    t.add_node(Node::new("log", Role::Sink, "logger")).unwrap();
    t.connect_names("numbers", "pass", "default", Grouping::Shuffle)
        .unwrap();
    t.connect_names("pass", "ch", "default", Grouping::Required)
        .unwrap();
    t.connect_names("ch", "log", "default", Grouping::Drain)
        .unwrap();
    let engine = Engine::start(&t, options(base.path())).unwrap();
    assert!(engine.wait_finished(DEADLINE), "{:#?}", engine.snapshot());
    let logged = logged_bodies(&engine, "log");
    // At least once: a put refused by the small channel fails the tuple, which the
    // spout replays; nothing is lost, and only what was sent arrives.
    assert_eq!(
        logged.iter().copied().collect::<BTreeSet<u64>>(),
        (0..40).collect::<BTreeSet<u64>>(),
        "{logged:?}"
    );
    let snap = engine.stop(StopMode::Drain);
    assert_eq!(snap.nodes["numbers"].acked, 40);
    assert_eq!(snap.nodes["ch"].role, "channel");
    assert_eq!(
        snap.nodes["ch"].executed,
        logged.len() as u64,
        "every committed put was logged once"
    );
}

#[test]
fn a_draining_stop_lets_the_sinks_empty_the_channels() {
    let base = tempfile::tempdir().unwrap();
    let mut t = Topology::new("drain");
    t.add_node(source("gen", 0, 0)).unwrap();
    t.add_node(memory("ch", 500)).unwrap();
    t.add_node(Node::new("out", Role::Sink, "null")).unwrap();
    t.connect_names("gen", "ch", "default", Grouping::Required)
        .unwrap();
    t.connect_names("ch", "out", "default", Grouping::Drain)
        .unwrap();
    let engine = Engine::start(&t, options(base.path())).unwrap();
    // The sink refuses everything until the channel is full, so a stop has work left.
    fail_every_delivery(&engine, "out", true);
    wait_for(&engine, "a full channel", |s| {
        s.nodes["ch"].queue_depth == 500
    });
    fail_every_delivery(&engine, "out", false);
    let snap = engine.stop(StopMode::Drain);
    let committed = snap.nodes["gen"].flume.as_ref().unwrap().events_out;
    let channel = snap.nodes["ch"].flume.clone().unwrap().channel.unwrap();
    assert!(committed >= 500, "{snap:#?}");
    assert_eq!(channel.size, 0, "{snap:#?}");
    assert_eq!(channel.in_flight, 0, "{snap:#?}");
    assert_eq!(snap.nodes["out"].executed, committed, "{snap:#?}");
}
