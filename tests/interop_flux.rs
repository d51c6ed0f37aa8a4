//! Flux details beyond the corpus: every grouping type, stream ids, settings and kept
//! sections survive import → export → import.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test crate: a failure here is the test failing

use std::path::Path;

use tributary::format::{self, ExportTarget, flux};
use tributary::model::{Grouping, Topology};
use tributary::validate;

const ALL_GROUPINGS: &str = r#"
name: "groupings"
config:
  topology.workers: 3
  topology.message.timeout.secs: 60
  topology.max.spout.pending: 500
  topology.acker.executors: 2
  topology.debug: true
  nested.setting: {a: 1, b: [x, y]}
components:
  - id: "fields"
    className: "org.apache.storm.tuple.Fields"
    constructorArgs: [["word"]]
workerHooks:
  - id: "hook"
    className: "org.apache.storm.hooks.BaseWorkerHook"
spouts:
  - id: "words"
    className: "org.apache.storm.testing.TestWordSpout"
    parallelism: 2
  - id: "custom"
    className: "com.example.MySpout"
    numTasks: 4
    parallelism: 2
    constructorArgs: [ref: "fields", 3, null]
    config:
      topology.max.task.parallelism: 8
bolts:
  - id: "shuffle"
    className: "com.example.Pass"
  - id: "fields"
    className: "com.example.Pass"
  - id: "all"
    className: "com.example.Pass"
  - id: "global"
    className: "com.example.Pass"
  - id: "none"
    className: "com.example.Pass"
  - id: "local"
    className: "com.example.Pass"
  - id: "direct"
    className: "com.example.Pass"
  - id: "side"
    className: "com.example.Pass"
  - id: "custom-grouped"
    className: "com.example.Pass"
streams:
  - {from: words, to: shuffle, grouping: {type: SHUFFLE}}
  - {from: words, to: fields, grouping: {type: FIELDS, args: [word]}}
  - {from: words, to: all, grouping: {type: ALL}}
  - {from: words, to: global, grouping: {type: GLOBAL}}
  - {from: words, to: none, grouping: {type: NONE}}
  - {from: words, to: local, grouping: {type: LOCAL_OR_SHUFFLE}}
  - {from: custom, to: direct, grouping: {type: DIRECT, streamId: "picked"}}
  - {from: shuffle, to: side, grouping: {type: FIELDS, args: [word, extra], streamId: "side"}}
  - from: shuffle
    to: custom-grouped
    grouping:
      type: CUSTOM
      customClass:
        className: "com.example.MyGrouping"
"#;

fn import(text: &str) -> Topology {
    flux::import_str(text, Path::new("groupings.yaml")).unwrap()
}

#[test]
fn every_grouping_type_imports_validates_and_round_trips() {
    let t = import(ALL_GROUPINGS);
    let settings = &t.settings;
    assert_eq!(
        (
            settings.workers,
            settings.message_timeout_secs,
            settings.max_spout_pending,
            settings.ackers
        ),
        (3, 60, Some(500), 2)
    );
    let groupings: Vec<Grouping> = t.edge_list().into_iter().map(|e| e.grouping).collect();
    for expected in [
        Grouping::Shuffle,
        Grouping::All,
        Grouping::Global,
        Grouping::None,
        Grouping::LocalOrShuffle,
        Grouping::Direct,
        Grouping::Custom("com.example.MyGrouping".into()),
        Grouping::Fields(vec!["word".into()]),
    ] {
        assert!(groupings.contains(&expected), "{expected:?} missing");
    }
    let custom = t.node_by_name("custom").unwrap();
    assert_eq!(custom.tasks, Some(4));
    let picked = custom.output("picked").unwrap();
    assert!(picked.direct);
    // A stand-in declares what its consumers group on.
    let side = t.node_by_name("shuffle").unwrap().output("side").unwrap();
    assert!(side.fields.contains(&"extra".to_string()));
    let errors: Vec<_> = validate::validate(&t)
        .into_iter()
        .filter(|d| d.is_error())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");

    let text = format::export(&t, ExportTarget::Flux).unwrap();
    let again = flux::import_str(&text, Path::new("again.yaml")).unwrap();
    assert_eq!(t, again, "{text}");
    for kept in [
        "workerHooks:",
        "components:",
        "nested.setting:",
        "- ref: \"fields\"",
        "streamId: \"picked\"",
    ] {
        assert!(text.contains(kept), "{kept} lost:\n{text}");
    }
}

#[test]
fn streams_to_unknown_ids_and_unknown_groupings_are_named() {
    let text = "name: x\nspouts:\n  - {id: s, className: A}\nstreams:\n  - {from: s, to: ghost, grouping: {type: SHUFFLE}}\n  - {from: s, to: s, grouping: {type: SPRAY}}\n";
    let err = flux::import_str(text, Path::new("x.yaml"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("'ghost'"), "{err}");
    assert!(err.contains("'SPRAY'"), "{err}");
}

#[test]
fn built_ins_without_storm_class_are_refused_on_export() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("topologies/word_count.ron");
    let t = format::load_ron(&path).unwrap();
    let err = format::export(&t, ExportTarget::Flux)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("'sentences'") && err.contains("sentence_generator"),
        "{err}"
    );
    // DOT draws anything.
    let dot = format::export(&t, ExportTarget::Dot).unwrap();
    assert!(dot.contains("fields(word)"), "{dot}");
}
