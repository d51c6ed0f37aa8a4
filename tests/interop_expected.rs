//! Imports checked against structures written by hand from the corpus files: for each
//! file, the nodes (role, component or stand-in class, parallelism, tasks, fields, the
//! configuration the file gave), the edges with their groupings and the settings, as
//! a reader of the file would list them. Round trips (`interop_corpus.rs`) only show an
//! import agrees with itself; these show it agrees with the file.
//!
//! The rules the lists follow are those `docs/interop.md` states: a well-known class
//! (`TestWordSpout`, `TestWordCounter`, `LogInfoBolt`) becomes its built-in only when
//! nothing would be lost (no keys beyond `id`, `className`, `parallelism`, `numTasks`, and
//! consumers the built-in can feed: a `LogInfoBolt` with consumers cannot be `logger`);
//! the shell wrappers become `shell_spout`/`shell_bolt` with the first constructor
//! argument as their command; any other class is a `stand_in` keeping its class, arguments (structured ones as
//! `json:NAME`) and `config:` entries (as `config.KEY`); top-level sections Tributary has
//! no place for are kept in `flux:` settings extras.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test crate: a failure here is the test failing

use std::path::Path;

use tributary::format::{self, ImportOptions};
use tributary::model::{Role, Topology};

/// The structure as lines: the name, the settings, then nodes and edges, each sorted.
/// A built-in Storm component's configuration is its registry defaults, not the file's,
/// so only stand-ins and Flume nodes show theirs.
fn structure(t: &Topology) -> String {
    let s = &t.settings;
    let extra: Vec<&String> = s.extra.keys().collect();
    let mut out = vec![
        format!("name {}", t.name),
        format!(
            "settings workers={} ackers={} timeout={} pending={:?} extra={extra:?}",
            s.workers, s.ackers, s.message_timeout_secs, s.max_spout_pending
        ),
    ];
    let mut nodes: Vec<String> = t
        .nodes()
        .map(|n| {
            let fields: Vec<String> = n
                .outputs
                .iter()
                .map(|o| format!("{}{:?}", o.stream, o.fields))
                .collect();
            let flume = matches!(n.role, Role::Source | Role::Channel | Role::Sink);
            let shell = n.component.starts_with("shell_");
            let config: Vec<String> = if n.component == "stand_in" || flume || shell {
                n.config.iter().map(|(k, v)| format!("{k}={v}")).collect()
            } else {
                Vec::new()
            };
            format!(
                "node {} {:?} {} p={} tasks={:?} agent={:?} out={fields:?} config={config:?}",
                n.name, n.role, n.component, n.parallelism, n.tasks, n.agent
            )
        })
        .collect();
    nodes.sort();
    let mut edges: Vec<String> = t
        .edge_list()
        .iter()
        .map(|e| format!("edge {} -> {} {} {:?}", e.from, e.to, e.stream, e.grouping))
        .collect();
    edges.sort();
    out.extend(nodes);
    out.extend(edges);
    out.join("\n")
}

fn check(file: &str, expected: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/conformance")
        .join(file);
    let t = format::import_file(&path, &ImportOptions::default())
        .unwrap_or_else(|e| panic!("{file}: {e}"));
    let expected: Vec<&str> = expected
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let got = structure(&t);
    let got: Vec<&str> = got.lines().collect();
    assert_eq!(got, expected, "{file}");
}

const DEFAULT_SETTINGS: &str = "settings workers=1 ackers=1 timeout=30 pending=None extra=[]";

#[test]
fn simple_wordcount() {
    check(
        "flux/examples__simple_wordcount.yaml",
        &format!(
            r#"
            name yaml-topology
            {DEFAULT_SETTINGS}
            node bolt-1 Bolt count_by_key p=1 tasks=None agent=None out=["default[\"word\", \"count\"]"] config=[]
            node bolt-2 Bolt logger p=1 tasks=None agent=None out=[] config=[]
            node spout-1 Spout word_generator p=1 tasks=None agent=None out=["default[\"word\"]"] config=[]
            edge bolt-1 -> bolt-2 default Shuffle
            edge spout-1 -> bolt-1 default Fields(["word"])
            "#
        ),
    );
}

#[test]
fn diamond() {
    let pass = r#"p=1 tasks=None agent=None out=["default[\"word\"]"] config=["class=\"org.apache.storm.flux.wrappers.bolts.LogInfoBolt\""]"#;
    check(
        "flux/core-tests__diamond-topology.yaml",
        &format!(
            r#"
            name diamond-topology
            {DEFAULT_SETTINGS}
            node A Bolt stand_in {pass}
            node B Bolt stand_in {pass}
            node C Bolt stand_in {pass}
            node D Bolt logger p=1 tasks=None agent=None out=[] config=[]
            node spout-1 Spout word_generator p=1 tasks=None agent=None out=["default[\"word\"]"] config=[]
            edge A -> B default Shuffle
            edge A -> C default Shuffle
            edge B -> D default Shuffle
            edge C -> D default Shuffle
            edge spout-1 -> A default Fields(["word"])
            "#
        ),
    );
}

#[test]
fn tck_keeps_tasks_loads_and_the_custom_grouping() {
    check(
        "flux/core-tests__tck.yaml",
        &format!(
            r#"
            name yaml-topology
            {DEFAULT_SETTINGS}
            node bolt-1 Bolt stand_in p=1 tasks=Some(100) agent=None out=["default[\"word\", \"count\"]"] config=["class=\"org.apache.storm.testing.TestWordCounter\"", "cpuLoad=100", "offHeapMemoryLoad=100", "onHeapMemoryLoad=100"]
            node bolt-2 Bolt logger p=1 tasks=None agent=None out=[] config=[]
            node spout-1 Spout stand_in p=1 tasks=Some(5) agent=None out=["default[\"word\"]"] config=["class=\"org.apache.storm.testing.TestWordSpout\"", "cpuLoad=100", "offHeapMemoryLoad=100", "onHeapMemoryLoad=100"]
            edge bolt-1 -> bolt-2 default Custom("org.apache.storm.testing.NGrouping {{\"constructorArgs\":[1]}}")
            edge spout-1 -> bolt-1 default Fields(["word"])
            "#
        ),
    );
}

const SHELL_METHODS: &str = r#"json:configMethods=\"[{\\\"args\\\":[\\\"rabbitmq.configfile\\\",\\\"etc/rabbit.yml\\\"],\\\"name\\\":\\\"addComponentConfig\\\"},{\\\"args\\\":[\\\"publisher.data_paths\\\",[\\\"actions\\\"]],\\\"name\\\":\\\"addComponentConfig\\\"}]\""#;

/// The shell example without its `configMethods` (`multilang.yaml`), or with them. Flux's
/// shell wrappers become shell components running the constructor's command, with the
/// rest of the definition kept.
fn shell_topology(methods: Option<&str>) -> String {
    let methods = methods.map(|m| format!(", \"{m}\"")).unwrap_or_default();
    format!(
        r#"
        name shell-topology
        {DEFAULT_SETTINGS}
        node count Bolt count_by_key p=1 tasks=None agent=None out=["default[\"word\", \"count\"]"] config=[]
        node log Bolt logger p=1 tasks=None agent=None out=[] config=[]
        node sentence-spout Spout shell_spout p=1 tasks=None agent=None out=["default[\"word\"]"] config=["command=[\"node\", \"randomsentence.js\"]"{methods}]
        node splitsentence Bolt shell_bolt p=1 tasks=None agent=None out=["default[\"word\"]"] config=["command=[\"python3\", \"splitsentence.py\"]"{methods}]
        edge count -> log default Shuffle
        edge sentence-spout -> splitsentence default Shuffle
        edge splitsentence -> count default Fields(["word"])
        "#
    )
}

#[test]
fn shell_components_keep_their_commands_and_config_methods() {
    check(
        "flux/core-tests__shell_test.yaml",
        &shell_topology(Some(SHELL_METHODS)),
    );
}

#[test]
fn multilang() {
    check("flux/examples__multilang.yaml", &shell_topology(None));
}

#[test]
fn windowing_keeps_its_components_and_window_method() {
    check(
        "flux/examples__simple_windowing.yaml",
        r#"
        name sliding-window-topology
        settings workers=1 ackers=1 timeout=30 pending=None extra=["flux:components"]
        node bolt-1 Bolt stand_in p=1 tasks=None agent=None out=["default[\"word\"]"] config=["class=\"org.apache.storm.flux.examples.TestWindowBolt\"", "json:configMethods=\"[{\\\"args\\\":[{\\\"ref\\\":\\\"windowLength\\\"},{\\\"ref\\\":\\\"slidingInterval\\\"}],\\\"name\\\":\\\"withWindow\\\"}]\""]
        node bolt-2 Bolt stand_in p=1 tasks=None agent=None out=["default[\"word\"]"] config=["class=\"org.apache.storm.flux.examples.TestPrintBolt\""]
        node spout-1 Spout word_generator p=1 tasks=None agent=None out=["default[\"word\"]"] config=[]
        edge bolt-1 -> bolt-2 default Shuffle
        edge spout-1 -> bolt-1 default Fields(["word"])
        "#,
    );
}

#[test]
fn stateful_wordcount() {
    check(
        "flux/examples__simple_stateful_wordcount.yaml",
        &format!(
            r#"
            name stateful-wordcount-topology
            {DEFAULT_SETTINGS}
            node bolt-1 Bolt stand_in p=1 tasks=None agent=None out=["default[\"word\"]"] config=["class=\"org.apache.storm.flux.examples.StatefulWordCounter\""]
            node bolt-2 Bolt logger p=1 tasks=None agent=None out=[] config=[]
            node spout-1 Spout word_generator p=1 tasks=None agent=None out=["default[\"word\"]"] config=[]
            edge bolt-1 -> bolt-2 default Shuffle
            edge spout-1 -> bolt-1 default Fields(["word"])
            "#
        ),
    );
}

#[test]
fn worker_hooks_are_kept_in_the_settings() {
    check(
        "flux/core-tests__worker_hook.yaml",
        r#"
        name worker-hook-topology
        settings workers=1 ackers=1 timeout=30 pending=None extra=["flux:workerHooks"]
        node bolt-1 Bolt count_by_key p=1 tasks=None agent=None out=["default[\"word\", \"count\"]"] config=[]
        node spout-1 Spout word_generator p=1 tasks=None agent=None out=["default[\"word\"]"] config=[]
        edge spout-1 -> bolt-1 default Shuffle
        "#,
    );
}

#[test]
fn component_config_is_kept_per_component() {
    check(
        "flux/core-tests__component-config-test.yaml",
        &format!(
            r#"
            name component-config-topology
            {DEFAULT_SETTINGS}
            node bolt-1 Bolt stand_in p=1 tasks=None agent=None out=["default[\"word\"]"] config=["class=\"org.apache.storm.flux.wrappers.bolts.LogInfoBolt\"", "config.topology.tuple.compression.enable=false"]
            node spout-1 Spout stand_in p=1 tasks=None agent=None out=["default[\"word\"]"] config=["class=\"org.apache.storm.testing.TestWordSpout\"", "config.topology.tuple.compression.enable=true"]
            edge spout-1 -> bolt-1 default Shuffle
            "#
        ),
    );
}

#[test]
fn flume_template_agent() {
    check(
        "flume/flume-conf.properties.template",
        &format!(
            r#"
            name agent
            {DEFAULT_SETTINGS}
            node loggerSink Sink logger p=1 tasks=None agent=Some("agent") out=[] config=[]
            node memoryChannel Channel memory p=1 tasks=None agent=Some("agent") out=["default[]"] config=["capacity=100"]
            node seqGenSrc Source sequence p=1 tasks=None agent=Some("agent") out=["default[\"n\"]"] config=[]
            edge memoryChannel -> loggerSink default Drain
            edge seqGenSrc -> memoryChannel default Required
            "#
        ),
    );
}
