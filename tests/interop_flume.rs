//! Flume routing survives import and export: selectors, interceptors, sink groups and
//! several agents in one file.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test crate: a failure here is the test failing

use std::path::Path;

use tributary::format::{self, ExportTarget, ImportOptions, flume};
use tributary::model::{Grouping, SinkProcessor, Topology};
use tributary::validate;

const TWO_AGENTS: &str = r#"
edge.sources = lines
edge.channels = hot durable
edge.sinks = console fwdA fwdB
edge.sinkgroups = fwd
edge.sources.lines.type = netcat
edge.sources.lines.bind = 127.0.0.1
edge.sources.lines.port = 7070
edge.sources.lines.channels = hot durable
edge.sources.lines.interceptors = ts lvl
edge.sources.lines.interceptors.ts.type = timestamp
edge.sources.lines.interceptors.lvl.type = static
edge.sources.lines.interceptors.lvl.key = level
edge.sources.lines.interceptors.lvl.value = info
edge.sources.lines.selector.type = multiplexing
edge.sources.lines.selector.header = level
edge.sources.lines.selector.mapping.error = durable hot
edge.sources.lines.selector.default = hot
edge.channels.hot.type = memory
edge.channels.hot.capacity = 5000
edge.channels.hot.transactionCapacity = 500
edge.channels.durable.type = file
edge.channels.durable.checkpointDir = /var/lib/edge/ckpt
edge.channels.durable.dataDirs = /var/lib/edge/data
edge.sinks.console.type = logger
edge.sinks.console.channel = hot
edge.sinks.fwdA.type = avro
edge.sinks.fwdA.hostname = 10.0.0.5
edge.sinks.fwdA.port = 6060
edge.sinks.fwdA.channel = durable
edge.sinks.fwdB.type = avro
edge.sinks.fwdB.hostname = 10.0.0.6
edge.sinks.fwdB.port = 6060
edge.sinks.fwdB.channel = durable
edge.sinkgroups.fwd.sinks = fwdA fwdB
edge.sinkgroups.fwd.processor.type = failover
edge.sinkgroups.fwd.processor.priority.fwdA = 20
edge.sinkgroups.fwd.processor.priority.fwdB = 10
edge.sinkgroups.fwd.processor.custom = kept

collector.sources = in
collector.channels = buf
collector.sinks = out
collector.sources.in.type = avro
collector.sources.in.bind = 0.0.0.0
collector.sources.in.port = 6060
collector.sources.in.channels = buf
collector.sources.in.selector.optional = buf
collector.channels.buf.type = memory
collector.sinks.out.type = file_roll
collector.sinks.out.sink.directory = /tmp/out
collector.sinks.out.channel = buf
collector.sinks.ghost.type = null
"#;

fn import(text: &str, agent: Option<&str>) -> Topology {
    let options = ImportOptions {
        agent: agent.map(str::to_string),
        ..ImportOptions::default()
    };
    flume::import_str(text, Path::new("agents.properties"), &options).unwrap()
}

fn grouping(t: &Topology, from: &str, to: &str) -> Vec<Grouping> {
    let mut found: Vec<Grouping> = t
        .edge_list()
        .into_iter()
        .filter(|e| e.from == from && e.to == to)
        .map(|e| e.grouping)
        .collect();
    found.sort_by_key(|g| format!("{g:?}"));
    found
}

#[test]
fn every_agent_is_imported_with_prefixed_names() {
    let t = import(TWO_AGENTS, None);
    assert_eq!(t.name, "agents");
    assert_eq!(t.node_count(), 9);
    let lines = t.node_by_name("edge.lines").unwrap();
    assert_eq!(lines.agent.as_deref(), Some("edge"));
    assert_eq!(lines.component, "netcat");
    assert_eq!(lines.config["selector.header"].as_str(), Some("level"));
    assert_eq!(
        lines.config["interceptors.lvl.value"].as_str(),
        Some("info")
    );
    assert_eq!(
        grouping(&t, "edge.lines", "edge.hot"),
        [Grouping::Default, Grouping::Mapped(vec!["error".into()])]
    );
    assert_eq!(
        grouping(&t, "edge.lines", "edge.durable"),
        [Grouping::Mapped(vec!["error".into()])]
    );
    assert_eq!(
        grouping(&t, "collector.in", "collector.buf"),
        [Grouping::Optional]
    );
    let group = &t.sink_groups[0];
    assert_eq!(group.name, "edge.fwd");
    assert!(
        matches!(&group.processor, SinkProcessor::Failover { priorities, .. }
        if priorities["edge.fwdA"] == 20)
    );
    // Properties with no home are kept verbatim.
    assert!(
        t.settings
            .extra
            .contains_key("flume:edge.sinkgroups.fwd.processor.custom")
    );
    assert!(
        t.settings
            .extra
            .contains_key("flume:collector.sinks.ghost.type")
    );
    let errors: Vec<_> = validate::validate(&t)
        .into_iter()
        .filter(|d| d.is_error())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

#[test]
fn routing_round_trips_through_export() {
    for agent in [None, Some("edge"), Some("collector")] {
        let t = import(TWO_AGENTS, agent);
        let text = format::export(&t, ExportTarget::Flume).unwrap();
        let options = ImportOptions {
            agent: agent.map(str::to_string),
            ..ImportOptions::default()
        };
        let again = flume::import_str(&text, Path::new("agents.properties"), &options).unwrap();
        assert_eq!(t, again, "{agent:?}\n{text}");
    }
}

#[test]
fn storm_nodes_cannot_be_exported_to_flume_and_flume_nodes_not_to_flux() {
    let t = import(TWO_AGENTS, Some("edge"));
    let err = format::export(&t, ExportTarget::Flux)
        .unwrap_err()
        .to_string();
    assert!(err.contains("'lines' (source)"), "{err}");
    let flux = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/conformance/flux/examples__simple_wordcount.yaml");
    let storm = format::import_file(&flux, &ImportOptions::default()).unwrap();
    let err = format::export(&storm, ExportTarget::Flume)
        .unwrap_err()
        .to_string();
    assert!(err.contains("'spout-1' (spout)"), "{err}");
}

#[test]
fn single_agent_keeps_plain_names() {
    let t = import(TWO_AGENTS, Some("collector"));
    assert_eq!(t.name, "collector");
    assert!(t.node_by_name("in").is_some());
    let out = t.node_by_name("out").unwrap();
    assert_eq!(out.component, "file_roll");
    assert_eq!(out.config["sink.directory"].as_str(), Some("/tmp/out"));
}

#[test]
fn environment_placeholders_resolve_only_when_asked() {
    let text = "a.sources = r\na.channels = c\na.sources.r.type = netcat\na.sources.r.bind = ${TRIBUTARY_TEST_UNSET_VAR}\na.sources.r.port = ${PATH}\na.sources.r.channels = c c\na.channels.c.type = memory\n";
    let plain = import(text, None);
    let r = plain.node_by_name("r").unwrap();
    assert_eq!(r.config["port"].as_str(), Some("${PATH}"));
    assert_eq!(plain.edge_count(), 1, "a channel listed twice is one link");
    let options = ImportOptions {
        env: true,
        ..ImportOptions::default()
    };
    let resolved = flume::import_str(text, Path::new("a.properties"), &options).unwrap();
    let r = resolved.node_by_name("r").unwrap();
    let path = std::env::var("PATH").unwrap_or_default();
    assert_eq!(r.config["port"].as_str(), Some(path.as_str()));
    assert_eq!(
        r.config["bind"].as_str(),
        Some("${TRIBUTARY_TEST_UNSET_VAR}")
    );
}

#[test]
fn explicit_properties_are_written_back_and_designer_defaults_are_not() {
    let template = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/conformance/flume/flume-conf.properties.template");
    let t = format::import_file(&template, &ImportOptions::default()).unwrap();
    let text = format::export(&t, ExportTarget::Flume).unwrap();
    assert!(
        text.contains("agent.channels.memoryChannel.capacity = 100"),
        "{text}"
    );

    use tributary::components::{descriptor, new_node_as};
    use tributary::model::Role;
    let mut designed = Topology::new("demo");
    let nodes = [
        ("gen", "sequence", Role::Source),
        ("buf", "memory", Role::Channel),
        ("log", "logger", Role::Sink),
    ];
    for (name, component, role) in nodes {
        designed
            .add_node(new_node_as(descriptor(component).unwrap(), name, role))
            .unwrap();
    }
    designed
        .connect_names("gen", "buf", "default", Grouping::Required)
        .unwrap();
    designed
        .connect_names("buf", "log", "default", Grouping::Drain)
        .unwrap();
    let text = format::export(&designed, ExportTarget::Flume).unwrap();
    assert!(text.contains("demo.sources.gen.type = seq"), "{text}");
    assert!(text.contains("demo.sinks.log.maxBytesToLog = 64"), "{text}");
    assert!(
        !text.contains("totalEvents") && !text.contains("rate_per_sec"),
        "{text}"
    );
    let again = flume::import_str(
        &text,
        Path::new("demo.properties"),
        &ImportOptions::default(),
    )
    .unwrap();
    assert_eq!(again.node_by_name("gen").unwrap().component, "sequence");
}
