//! Property: any topology the model can hold survives save → load unchanged, and saving
//! is deterministic (the same design always gives the same bytes).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test crate: a failure here is the test failing

use std::collections::BTreeMap;
use std::path::Path;

use proptest::prelude::*;
use tributary::components;
use tributary::format::{from_ron_str, to_ron_string};
use tributary::model::{
    ExecutionMode, Grouping, Guarantee, Node, Pos, Role, Settings, SinkGroup, SinkProcessor,
    StreamDecl, Topology, Value, WindowSize, WindowSpec,
};

fn name() -> impl Strategy<Value = String> + Clone {
    "[a-z][a-z0-9_-]{0,8}"
}

fn any_text() -> impl Strategy<Value = String> {
    // Quotes, backslashes, newlines and non-ASCII must all survive.
    prop::string::string_regex("[ -~\\n\\tçé→🌊\"\\\\]{0,16}").unwrap_or_else(|_| unreachable!())
}

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::Int),
        (-1e12f64..1e12).prop_map(Value::Float),
        any_text().prop_map(Value::Str),
    ];
    leaf.prop_recursive(2, 8, 4, |inner| {
        prop::collection::vec(inner, 0..4).prop_map(Value::List)
    })
}

fn grouping() -> impl Strategy<Value = Grouping> {
    let fields = || prop::collection::vec(name(), 0..3);
    prop_oneof![
        Just(Grouping::Shuffle),
        fields().prop_map(Grouping::Fields),
        Just(Grouping::All),
        Just(Grouping::Global),
        Just(Grouping::Direct),
        Just(Grouping::LocalOrShuffle),
        Just(Grouping::None),
        fields().prop_map(Grouping::PartialKey),
        "[a-z.]{1,20}".prop_map(Grouping::Custom),
        Just(Grouping::Required),
        Just(Grouping::Optional),
        fields().prop_map(Grouping::Mapped),
        fields().prop_map(Grouping::MappedOptional),
        Just(Grouping::Default),
        Just(Grouping::Drain),
    ]
}

fn window() -> impl Strategy<Value = Option<WindowSpec>> {
    let size = prop_oneof![
        any::<u64>().prop_map(WindowSize::Count),
        any::<u64>().prop_map(WindowSize::Millis),
    ];
    prop::option::of((size.clone(), size).prop_map(|(length, slide)| WindowSpec { length, slide }))
}

fn node() -> impl Strategy<Value = Node> {
    let component = prop::sample::select(
        components::registry()
            .iter()
            .map(|d| d.id)
            .collect::<Vec<_>>(),
    );
    (
        (name(), prop::sample::select(Role::ALL.to_vec()), component),
        (1u32..64, prop::option::of(1u32..128)),
        prop::collection::btree_map(name(), value(), 0..4),
        prop::collection::vec(
            (name(), prop::collection::vec(name(), 0..4), any::<bool>()),
            0..3,
        ),
        window(),
        prop::option::of(name()),
        (-5000.0f32..5000.0, -5000.0f32..5000.0),
    )
        .prop_map(
            |(
                (name, role, component),
                (parallelism, tasks),
                config,
                outputs,
                window,
                agent,
                (x, y),
            )| {
                Node {
                    name,
                    role,
                    component: component.to_string(),
                    parallelism,
                    tasks,
                    config,
                    outputs: outputs
                        .into_iter()
                        .map(|(stream, fields, direct)| StreamDecl {
                            stream,
                            fields,
                            direct,
                        })
                        .collect(),
                    window,
                    agent,
                    pos: Pos(x, y),
                }
            },
        )
}

/// Scenario steps of every kind, with any text as a node name and any finite numbers
/// (validation judges them; the file keeps them exactly).
fn scenario() -> impl Strategy<Value = Vec<tributary::model::ScenarioStep>> {
    use tributary::model::{ScenarioAction, ScenarioStep};
    let action = prop_oneof![
        any::<u32>().prop_map(ScenarioAction::KillWorker),
        (any_text(), -1e6..1e6f64, 0.0..1e5f64, -1.0..2.0f64).prop_map(
            |(node, fail, latency_ms, crash)| ScenarioAction::SetFaults {
                node,
                fail,
                latency_ms,
                crash,
            }
        ),
        Just(ScenarioAction::ClearFaults),
        any::<u32>().prop_map(ScenarioAction::KillMachine),
        any::<u32>().prop_map(ScenarioAction::RestoreMachine),
        Just(ScenarioAction::KillNimbus),
        Just(ScenarioAction::RestoreNimbus),
        any::<u32>().prop_map(ScenarioAction::KillSupervisor),
        any::<u32>().prop_map(ScenarioAction::RestoreSupervisor),
        (any_text(), any::<u32>())
            .prop_map(|(node, executors)| ScenarioAction::Rebalance { node, executors }),
        any::<u32>().prop_map(ScenarioAction::RebalanceWorkers),
    ];
    prop::collection::vec(
        (any::<u64>(), action).prop_map(|(at_ms, action)| ScenarioStep { at_ms, action }),
        0..4,
    )
}

fn settings() -> impl Strategy<Value = Settings> {
    (
        any::<u32>(),
        prop::option::of(any::<u32>()),
        any::<u32>(),
        any::<u32>(),
        prop::option::of(any::<u64>()),
        prop::collection::btree_map("[a-z.:]{1,12}", value(), 0..3),
        scenario(),
        prop::option::of((any::<u32>(), any::<u32>(), any::<u32>())),
        prop::sample::select(Guarantee::ALL.to_vec()),
    )
        .prop_map(
            |(timeout, pending, ackers, workers, batch, extra, scenario, cluster, guarantee)| {
                Settings {
                    message_timeout_secs: timeout,
                    max_spout_pending: pending,
                    ackers,
                    workers,
                    mode: batch.map_or(ExecutionMode::RecordAtATime, |interval_ms| {
                        ExecutionMode::MicroBatch { interval_ms }
                    }),
                    guarantee,
                    extra,
                    scenario,
                    cluster: cluster.map(
                        |(machines, slots_per_machine, heartbeat_timeout_secs)| {
                            tributary::model::ClusterSettings {
                                machines,
                                slots_per_machine,
                                heartbeat_timeout_secs,
                            }
                        },
                    ),
                }
            },
        )
}

fn topology() -> impl Strategy<Value = Topology> {
    (
        name(),
        any_text(),
        settings(),
        prop::collection::vec(node(), 0..8),
        prop::collection::vec(
            (
                any::<prop::sample::Index>(),
                any::<prop::sample::Index>(),
                name(),
                grouping(),
            ),
            0..12,
        ),
        prop::collection::vec(
            (name(), prop::collection::vec(name(), 0..3), any::<bool>()),
            0..2,
        ),
    )
        .prop_map(|(tname, description, settings, nodes, edges, groups)| {
            let mut t = Topology::new(tname);
            t.description = description;
            t.settings = settings;
            for n in nodes {
                let _ = t.add_node(n); // duplicates are skipped
            }
            let indices: Vec<_> = t.reading_order();
            if !indices.is_empty() {
                for (a, b, stream, grouping) in edges {
                    // Edges only go forward in insertion order, so the graph is a DAG.
                    let (i, j) = (a.index(indices.len()), b.index(indices.len()));
                    if i < j {
                        let _ = t.connect(indices[i], indices[j], stream, grouping);
                    }
                }
            }
            for (name, sinks, failover) in groups {
                let processor = if failover {
                    SinkProcessor::Failover {
                        priorities: sinks.iter().cloned().zip(0..).collect::<BTreeMap<_, _>>(),
                        max_penalty_ms: 30_000,
                    }
                } else {
                    SinkProcessor::LoadBalance {
                        random: true,
                        backoff: false,
                        max_timeout_ms: 1000,
                    }
                };
                t.sink_groups.push(SinkGroup {
                    name,
                    sinks,
                    processor,
                });
            }
            t
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn save_load_is_lossless_and_deterministic(t in topology()) {
        let text = to_ron_string(&t);
        let loaded = from_ron_str(&text, Path::new("generated.ron"));
        prop_assert!(loaded.is_ok(), "{:?}\n{}", loaded.err(), text);
        let loaded = loaded.unwrap_or_default();
        prop_assert_eq!(&loaded, &t);
        prop_assert_eq!(to_ron_string(&loaded), text);
    }

    #[test]
    fn validator_never_panics(t in topology()) {
        let _ = tributary::validate::validate(&t);
    }
}

#[test]
fn examples_are_canonical() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("topologies");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "ron") {
            let text = std::fs::read_to_string(&path).unwrap();
            let t = from_ron_str(&text, &path).unwrap();
            assert_eq!(
                to_ron_string(&t),
                text,
                "{} is not canonical",
                path.display()
            );
            let problems = tributary::validate::validate(&t);
            assert!(problems.is_empty(), "{}: {problems:?}", path.display());
            seen += 1;
        }
    }
    assert!(seen >= 5, "expected the example topologies, found {seen}");
}
