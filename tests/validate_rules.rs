//! Each validation rule, triggered on purpose: the diagnostic must name the node or edge
//! at fault and say how to fix it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test crate: a failure here is the test failing

use std::path::Path;

use tributary::format::from_ron_str;
use tributary::validate::{Diagnostic, Location, Severity, is_runnable, validate};

fn problems(body: &str) -> Vec<Diagnostic> {
    let text = format!("(version: 1, name: \"t\", {body})");
    let t = from_ron_str(&text, Path::new("t.ron")).unwrap_or_else(|e| panic!("{e}"));
    validate(&t)
}

fn has(ds: &[Diagnostic], severity: Severity, location: &Location, words: &str) -> bool {
    ds.iter().any(|d| {
        d.severity == severity
            && &d.location == location
            && d.message.contains(words)
            && !d.hint.is_empty()
    })
}

fn node(n: &str) -> Location {
    Location::Node(n.into())
}

fn edge(from: &str, to: &str) -> Location {
    Location::Edge {
        from: from.into(),
        to: to.into(),
        stream: "default".into(),
    }
}

const SPOUT: &str =
    r#"(name: "s", role: Spout, component: "word_generator", outputs: [(fields: ["word"])])"#;

#[test]
fn cycles_name_every_node_on_the_cycle() {
    let ds = problems(&format!(
        r#"nodes: [{SPOUT},
          (name: "a", role: Bolt, component: "map", outputs: [(fields: ["word"])]),
          (name: "b", role: Bolt, component: "map", outputs: [(fields: ["word"])]),
          (name: "c", role: Bolt, component: "map", outputs: [(fields: ["word"])])],
        edges: [(from: "s", to: "a", grouping: Shuffle), (from: "a", to: "b", grouping: Shuffle),
                (from: "b", to: "c", grouping: Shuffle), (from: "c", to: "a", grouping: Shuffle)]"#
    ));
    assert!(
        has(&ds, Severity::Error, &node("a"), "cycle: a → b → c → a"),
        "{ds:#?}"
    );
    assert!(!is_runnable(&ds));
}

#[test]
fn edges_to_missing_nodes_and_duplicate_names() {
    let ds = problems(&format!(
        r#"nodes: [{SPOUT}, {SPOUT}], edges: [(from: "s", to: "ghost", grouping: Shuffle)]"#
    ));
    assert!(
        has(&ds, Severity::Error, &edge("s", "ghost"), "'ghost'"),
        "{ds:#?}"
    );
    assert!(
        has(&ds, Severity::Error, &node("s"), "2 nodes are named 's'"),
        "{ds:#?}"
    );
}

#[test]
fn role_rules() {
    let ds = problems(&format!(
        r#"nodes: [{SPOUT},
          (name: "b", role: Bolt, component: "map", outputs: [(fields: ["word"])]),
          (name: "src", role: Source, component: "netcat", outputs: [(fields: ["body"])]),
          (name: "ch1", role: Channel, component: "memory"),
          (name: "ch2", role: Channel, component: "memory"),
          (name: "k", role: Sink, component: "logger"),
          (name: "lonely", role: Sink, component: "null")],
        edges: [(from: "b", to: "s", grouping: Shuffle),
                (from: "s", to: "b", grouping: Shuffle),
                (from: "src", to: "ch1", grouping: Required),
                (from: "src", to: "ch2", grouping: Required),
                (from: "ch1", to: "k", grouping: Drain),
                (from: "ch2", to: "k", grouping: Drain),
                (from: "k", to: "b", grouping: Shuffle)]"#
    ));
    assert!(
        has(
            &ds,
            Severity::Error,
            &edge("b", "s"),
            "nothing can flow into a spout"
        ),
        "{ds:#?}"
    );
    assert!(
        has(
            &ds,
            Severity::Error,
            &edge("k", "b"),
            "nothing flows out of a sink"
        ),
        "{ds:#?}"
    );
    assert!(
        has(
            &ds,
            Severity::Error,
            &node("k"),
            "drains exactly one channel"
        ),
        "{ds:#?}"
    );
    assert!(
        has(&ds, Severity::Error, &node("lonely"), "drains no channel"),
        "{ds:#?}"
    );
}

#[test]
fn grouping_fields_must_be_declared_upstream() {
    let ds = problems(&format!(
        r#"nodes: [{SPOUT}, (name: "c", role: Bolt, component: "count_by_key", outputs: [(fields: ["word", "count"])])],
        edges: [(from: "s", to: "c", grouping: Fields(["wrod"]))]"#
    ));
    assert!(
        has(&ds, Severity::Error, &edge("s", "c"), "'wrod'"),
        "{ds:#?}"
    );
    let d = ds.iter().find(|d| d.message.contains("'wrod'")).unwrap();
    assert!(
        d.hint.contains("word"),
        "hint should list declared fields: {d}"
    );
}

#[test]
fn partial_key_fields_are_checked_too() {
    let ds = problems(&format!(
        r#"nodes: [{SPOUT}, (name: "c", role: Bolt, component: "null")],
        edges: [(from: "s", to: "c", grouping: PartialKey(["nope"]))]"#
    ));
    assert!(
        has(&ds, Severity::Error, &edge("s", "c"), "'nope'"),
        "{ds:#?}"
    );
}

#[test]
fn direct_grouping_needs_a_direct_stream() {
    let ds = problems(&format!(
        r#"nodes: [{SPOUT}, (name: "c", role: Bolt, component: "null")],
        edges: [(from: "s", to: "c", grouping: Direct)]"#
    ));
    assert!(
        has(&ds, Severity::Error, &edge("s", "c"), "not declared direct"),
        "{ds:#?}"
    );
    let ok = problems(
        r#"nodes: [(name: "s", role: Spout, component: "word_generator", outputs: [(fields: ["word"], direct: true)]),
                   (name: "c", role: Bolt, component: "null")],
           edges: [(from: "s", to: "c", grouping: Direct)]"#,
    );
    assert!(is_runnable(&ok), "{ok:#?}");
}

#[test]
fn parallelism_zero_and_absurd() {
    let ds = problems(
        r#"nodes: [(name: "s", role: Spout, component: "word_generator", parallelism: 0, outputs: [(fields: ["word"])]),
                   (name: "b", role: Bolt, component: "null", parallelism: 100000)],
           edges: [(from: "s", to: "b", grouping: Shuffle)]"#,
    );
    assert!(
        has(&ds, Severity::Error, &node("s"), "parallelism is 0"),
        "{ds:#?}"
    );
    assert!(
        has(&ds, Severity::Error, &node("b"), "above the limit"),
        "{ds:#?}"
    );
}

#[test]
fn unknown_components_get_suggestions() {
    let ds = problems(r#"nodes: [(name: "s", role: Spout, component: "word_generater")]"#);
    let d = ds
        .iter()
        .find(|d| d.message.contains("unknown component"))
        .unwrap();
    assert_eq!(d.location, node("s"));
    assert!(d.hint.contains("word_generator"), "{d}");
}

#[test]
fn config_types_ranges_and_unknown_keys() {
    let ds = problems(
        r#"nodes: [(name: "s", role: Spout, component: "word_generator",
                    config: {"seed": "forty-two", "rate_per_sec": -5.0, "speed": 3}, outputs: [(fields: ["word"])]),
                   (name: "b", role: Bolt, component: "map", config: {"op": "explode"}, outputs: [(fields: ["word"])])],
           edges: [(from: "s", to: "b", grouping: Shuffle)]"#,
    );
    assert!(
        has(
            &ds,
            Severity::Error,
            &node("s"),
            "config 'seed': expected an integer"
        ),
        "{ds:#?}"
    );
    assert!(
        has(&ds, Severity::Error, &node("s"), "config 'rate_per_sec'"),
        "{ds:#?}"
    );
    assert!(
        has(&ds, Severity::Error, &node("s"), "no setting 'speed'"),
        "{ds:#?}"
    );
    assert!(
        has(
            &ds,
            Severity::Error,
            &node("b"),
            "\"explode\" is not one of"
        ),
        "{ds:#?}"
    );
}

#[test]
fn windows_must_make_sense() {
    let ds = problems(&format!(
        r#"nodes: [{SPOUT},
          (name: "w", role: Bolt, component: "window_aggregate", outputs: [(fields: ["key", "value", "window_end_ms"])],
           window: (length: Millis(1000), slide: Millis(5000))),
          (name: "x", role: Bolt, component: "window_aggregate", outputs: [(fields: ["key", "value", "window_end_ms"])],
           window: (length: Count(10), slide: Millis(5000)))],
        edges: [(from: "s", to: "w", grouping: Shuffle), (from: "s", to: "x", grouping: Shuffle)]"#
    ));
    assert!(
        has(
            &ds,
            Severity::Error,
            &node("w"),
            "slide (5s) is longer than the window (1s)"
        ),
        "{ds:#?}"
    );
    assert!(
        has(&ds, Severity::Error, &node("x"), "mix counts and times"),
        "{ds:#?}"
    );
}

#[test]
fn micro_batch_windows_must_be_multiples_of_the_interval() {
    let ds = problems(&format!(
        r#"settings: (mode: MicroBatch(interval_ms: 1000)),
        nodes: [{SPOUT},
          (name: "w", role: Bolt, component: "window_aggregate", outputs: [(fields: ["key", "value", "window_end_ms"])],
           window: (length: Millis(2500), slide: Millis(1000)))],
        edges: [(from: "s", to: "w", grouping: Shuffle)]"#
    ));
    assert!(
        has(&ds, Severity::Error, &node("w"), "not a multiple"),
        "{ds:#?}"
    );
}

#[test]
fn warnings_for_likely_mistakes_do_not_block_running() {
    let ds = problems(&format!(
        r#"nodes: [{SPOUT},
          (name: "orphan", role: Bolt, component: "null"),
          (name: "c", role: Bolt, component: "count_by_key", parallelism: 4, outputs: [(fields: ["word", "count"])])],
        edges: [(from: "s", to: "c", grouping: Shuffle)]"#
    ));
    assert!(
        has(
            &ds,
            Severity::Warning,
            &node("orphan"),
            "never receive data"
        ),
        "{ds:#?}"
    );
    assert!(
        has(&ds, Severity::Warning, &edge("s", "c"), "counts are split"),
        "{ds:#?}"
    );
    assert!(is_runnable(&ds));
    let lonely = problems(&format!("nodes: [{SPOUT}]"));
    assert!(
        has(&lonely, Severity::Warning, &node("s"), "no consumers"),
        "{lonely:#?}"
    );
}

#[test]
fn flume_links_use_flume_groupings() {
    let ds = problems(
        r#"nodes: [(name: "src", role: Source, component: "netcat", outputs: [(fields: ["body"])]),
                   (name: "ch", role: Channel, component: "memory"),
                   (name: "k", role: Sink, component: "logger")],
           edges: [(from: "src", to: "ch", grouping: Shuffle), (from: "ch", to: "k", grouping: Fields(["body"]))]"#,
    );
    assert!(
        has(&ds, Severity::Error, &edge("src", "ch"), "does not apply"),
        "{ds:#?}"
    );
    assert!(
        has(&ds, Severity::Error, &edge("ch", "k"), "does not apply"),
        "{ds:#?}"
    );
}

#[test]
fn sink_groups_are_checked() {
    let ds = problems(
        r#"nodes: [(name: "src", role: Source, component: "netcat", outputs: [(fields: ["body"])]),
                   (name: "ch", role: Channel, component: "memory"),
                   (name: "k1", role: Sink, component: "logger"), (name: "k2", role: Sink, component: "logger")],
           edges: [(from: "src", to: "ch", grouping: Required), (from: "ch", to: "k1", grouping: Drain), (from: "ch", to: "k2", grouping: Drain)],
           sink_groups: [(name: "g", sinks: ["k1", "k2", "k9"], processor: Failover(priorities: {"k1": 5, "k2": 5}))]"#,
    );
    let g = Location::SinkGroup("g".into());
    assert!(
        has(&ds, Severity::Error, &g, "missing node 'k9'"),
        "{ds:#?}"
    );
    assert!(has(&ds, Severity::Error, &g, "share priority 5"), "{ds:#?}");
}

#[test]
fn every_problem_is_reported_at_once() {
    let ds = problems(
        r#"settings: (message_timeout_secs: 0),
           nodes: [(name: "a", role: Spout, component: "nope", parallelism: 0),
                   (name: "b", role: Bolt, component: "map", config: {"op": 7})],
           edges: [(from: "b", to: "a", grouping: Shuffle)]"#,
    );
    let errors = ds.iter().filter(|d| d.is_error()).count();
    assert!(errors >= 5, "{ds:#?}");
}

#[test]
fn flume_feeds_a_micro_batch_job_but_cannot_take_its_output() {
    // A source, a channel bolts drain (Spark's Flume receiver) and a Flume sink: runnable.
    let ds = problems(
        r#"settings: (mode: MicroBatch(interval_ms: 500)),
           nodes: [(name: "src", role: Source, component: "sequence", outputs: [(fields: ["n"])]),
                   (name: "ch", role: Channel, component: "memory"),
                   (name: "k", role: Sink, component: "logger"),
                   (name: "b", role: Bolt, component: "collector")],
           edges: [(from: "src", to: "ch", grouping: Required), (from: "ch", to: "k", grouping: Drain),
                   (from: "ch", to: "b", grouping: Drain)]"#,
    );
    assert!(ds.iter().all(|d| !d.is_error()), "{ds:#?}");
    // A bolt writing into a channel is still refused, at the channel, naming the bolt.
    let ds = problems(
        r#"settings: (mode: MicroBatch(interval_ms: 500)),
           nodes: [(name: "s", role: Spout, component: "sequence", outputs: [(fields: ["n"])]),
                   (name: "b", role: Bolt, component: "filter", config: {"field": "n"}, outputs: [(fields: ["n"])]),
                   (name: "ch", role: Channel, component: "memory"),
                   (name: "k", role: Sink, component: "logger")],
           edges: [(from: "s", to: "b", grouping: Shuffle), (from: "b", to: "ch", grouping: Required),
                   (from: "ch", to: "k", grouping: Drain)]"#,
    );
    assert!(
        has(
            &ds,
            Severity::Error,
            &node("ch"),
            "'b' writes into this Flume channel, which a micro-batch job cannot do"
        ),
        "{ds:#?}"
    );
    assert_eq!(ds.iter().filter(|d| d.is_error()).count(), 1, "{ds:#?}");
}

#[test]
fn workers_have_limits_and_empty_workers_are_warned_about() {
    let nodes = format!(
        r#"nodes: [{SPOUT}, (name: "n", role: Bolt, component: "null")],
        edges: [(from: "s", to: "n", grouping: Shuffle)]"#
    );
    let settings = |workers: u32| {
        format!("settings: (ackers: 1, workers: {workers}, message_timeout_secs: 30), {nodes}")
    };
    let too_many = problems(&settings(65));
    assert!(
        has(
            &too_many,
            Severity::Error,
            &Location::Topology,
            "65 workers"
        ),
        "{too_many:#?}"
    );
    // Two nodes and one acker are three executors: a fourth worker stays empty.
    let empty = problems(&settings(4));
    assert!(
        has(&empty, Severity::Warning, &Location::Topology, "stay empty"),
        "{empty:#?}"
    );
    assert!(is_runnable(&empty));
    let fits = problems(&settings(3));
    assert!(
        !fits.iter().any(|d| d.message.contains("workers")),
        "{fits:#?}"
    );
}
