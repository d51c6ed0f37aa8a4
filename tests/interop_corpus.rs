//! The conformance corpus (real Flux and Flume files from the engines' repositories):
//! every valid file imports, validates and round-trips; every invalid one is refused
//! with a message naming what is wrong.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test crate: a failure here is the test failing

use std::path::{Path, PathBuf};

use tributary::format::{self, ExportTarget, ImportError, ImportOptions};
use tributary::model::Topology;
use tributary::validate;

fn corpus(kind: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/conformance")
        .join(kind);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !p.to_string_lossy().ends_with(".properties") || kind == "flume")
        .collect();
    files.sort();
    files
}

fn file_name(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

/// Flux files the corpus marks invalid, and those built by Java code (`topologySource`).
fn flux_expected_error(name: &str) -> Option<&'static str> {
    if name.contains("existing-topology") {
        Some("topologySource")
    } else if name.contains("bad_") || name.contains("invalid") {
        Some("")
    } else {
        None
    }
}

fn assert_valid(topology: &Topology, what: &str) {
    let errors: Vec<String> = validate::validate(topology)
        .into_iter()
        .filter(|d| d.is_error())
        .map(|d| d.to_string())
        .collect();
    assert!(errors.is_empty(), "{what}: validation errors: {errors:#?}");
}

/// import → export → import gives an equal topology, and exporting again gives the same
/// text (the export is stable).
fn round_trip(topology: &Topology, target: ExportTarget, what: &str) {
    let text = format::export(topology, target).unwrap_or_else(|e| panic!("{what}: {e}"));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("exported.{}", target.extension()));
    std::fs::write(&path, &text).unwrap();
    let again = format::import_file(&path, &ImportOptions::default())
        .unwrap_or_else(|e| panic!("{what}: re-import failed: {e}\n{text}"));
    assert_eq!(
        topology, &again,
        "{what}: round trip changed the topology\n{text}"
    );
    let text_again = format::export(&again, target).unwrap();
    assert_eq!(text, text_again, "{what}: export is not stable");
    // The RON form carries everything too.
    let ron = format::to_ron_string(topology);
    let from_ron = format::from_ron_str(&ron, Path::new("x.ron")).unwrap();
    assert_eq!(topology, &from_ron, "{what}: RON round trip");
}

#[test]
fn flux_corpus_imports_validates_and_round_trips() {
    let mut imported = 0;
    let mut refused = 0;
    for path in corpus("flux") {
        let name = file_name(&path);
        if !name.ends_with(".yaml") {
            continue;
        }
        let result = format::import_file(&path, &ImportOptions::default());
        match (flux_expected_error(&name), result) {
            (None, Ok(topology)) => {
                assert!(topology.node_count() > 0, "{name}: no nodes");
                assert_valid(&topology, &name);
                round_trip(&topology, ExportTarget::Flux, &name);
                let dot = format::export(&topology, ExportTarget::Dot).unwrap();
                assert!(dot.starts_with("digraph"), "{name}");
                imported += 1;
            }
            (None, Err(e)) => panic!("{name}: valid file refused: {e}"),
            (Some(_), Ok(_)) => panic!("{name}: invalid file was accepted"),
            (Some(expected), Err(e)) => {
                let message = e.to_string();
                assert!(
                    matches!(e, ImportError::Invalid { .. }),
                    "{name}: {message}"
                );
                assert!(message.contains(expected), "{name}: {message}");
                refused += 1;
            }
        }
    }
    assert_eq!((imported, refused), (19, 11), "corpus size changed");
}

#[test]
fn invalid_flux_files_name_the_component() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance/flux");
    for (file, names) in [
        ("core-tests__bad_hbase.yaml", "counterFields"),
        ("core-tests__bad_shell_test.yaml", "sentence-spout"),
        ("core-tests__bad_static_factory_test.yaml", "bolt-1"),
        (
            "core-tests__component-config-invalid-key-test.yaml",
            "MY.INAVLID.KEY",
        ),
        ("core-tests__component-config-invalid-test.yaml", "bolt-1"),
        (
            "core-tests__invalid-existing-topology.yaml",
            "SimpleTopologySource",
        ),
    ] {
        let err = format::import_file(&dir.join(file), &ImportOptions::default()).unwrap_err();
        assert!(err.to_string().contains(names), "{file}: {err}");
    }
}

#[test]
fn flux_substitution_uses_the_filter_file() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance/flux");
    let options = ImportOptions {
        filter: Some(dir.join("core-tests__test.properties")),
        env: true,
        ..ImportOptions::default()
    };
    let t = format::import_file(&dir.join("core-tests__substitution-test.yaml"), &options).unwrap();
    assert_eq!(t.name, "substitution-topology");
    let path = std::env::var("PATH").unwrap_or_default();
    assert_eq!(
        t.settings
            .extra
            .get("test.env.value")
            .and_then(|v| v.as_str()),
        Some(path.as_str())
    );
    assert_eq!(
        t.settings.extra.get("list.property.target"),
        Some(&tributary::model::Value::List(vec!["A string list".into()]))
    );
    assert_valid(&t, "substitution with filter");
    round_trip(&t, ExportTarget::Flux, "substitution with filter");
}

#[test]
fn flux_includes_merge_the_included_topology() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance/flux");
    let t = format::import_file(
        &dir.join("core-tests__include_test.yaml"),
        &ImportOptions::default(),
    )
    .unwrap();
    // `override: false` keeps the including file's name.
    assert_eq!(t.name, "include-topology");
    assert_eq!((t.node_count(), t.edge_count()), (4, 3));
}

#[test]
fn well_known_classes_become_built_ins_and_others_stand_ins() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance/flux");
    let t = format::import_file(
        &dir.join("examples__simple_wordcount.yaml"),
        &ImportOptions::default(),
    )
    .unwrap();
    let component = |n: &str| t.node_by_name(n).unwrap().component.clone();
    assert_eq!(component("spout-1"), "word_generator");
    assert_eq!(component("bolt-1"), "count_by_key");
    assert_eq!(component("bolt-2"), "logger");
    let t = format::import_file(
        &dir.join("examples__kafka_spout.yaml"),
        &ImportOptions::default(),
    )
    .unwrap();
    let spout = t.node_by_name("kafka-spout").unwrap();
    assert_eq!(spout.component, "stand_in");
    assert_eq!(
        spout.config["class"].as_str(),
        Some("org.apache.storm.kafka.spout.KafkaSpout")
    );
    assert!(t.settings.extra.contains_key("flux:components"));
    // Shell bolts declare the output fields given in their constructor.
    assert_eq!(
        t.node_by_name("splitsentence").unwrap().outputs[0].fields,
        ["word"]
    );
}

#[test]
fn flume_corpus_imports_validates_and_round_trips() {
    let mut imported = 0;
    for path in corpus("flume") {
        let name = file_name(&path);
        if name == "node-tests__flume-conf.properties" {
            continue; // holds deliberately broken agents; see the next test
        }
        let t = format::import_file(&path, &ImportOptions::default())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            t.nodes().all(|n| n.agent.is_some()),
            "{name}: agent not set"
        );
        assert_valid(&t, &name);
        round_trip(&t, ExportTarget::Flume, &name);
        imported += 1;
    }
    assert_eq!(imported, 3);
}

#[test]
fn broken_flume_agents_are_refused_naming_the_component() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/conformance/flume/node-tests__flume-conf.properties");
    let all = format::import_file(&path, &ImportOptions::default()).unwrap_err();
    assert!(all.to_string().contains("--agent"), "{all}");
    let agent = |name: &str| {
        format::import_file(
            &path,
            &ImportOptions {
                agent: Some(name.into()),
                ..ImportOptions::default()
            },
        )
    };
    let host1 = agent("host1").unwrap();
    assert_valid(&host1, "host1");
    round_trip(&host1, ExportTarget::Flume, "host1");
    for (name, mentions) in [
        ("host2", "sink 'sink1'"),
        ("host3", "channel 'ch3'"),
        ("host4", "source 'src2'"),
        ("host5", "sink 'sink3'"),
    ] {
        let err = agent(name).unwrap_err().to_string();
        assert!(err.contains(mentions), "{name}: {err}");
    }
    assert!(agent("nobody").unwrap_err().to_string().contains("host1"));
}
