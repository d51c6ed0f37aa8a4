//! The designer's editing logic, headless: commands with exact undo and redo, and the
//! wiring rules the canvas applies while the user drags a connection. Built without the
//! `gui` feature (`cargo test --no-default-features --test design_editing`), which is the
//! point of `tributary::design`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test crate: a failure here is the test failing

use tributary::components;
use tributary::design::commands::Command;
use tributary::design::document::Document;
use tributary::design::wiring;
use tributary::format::to_ron_string;
use tributary::model::{Grouping, NamedEdge, Pos, Role, Topology, may_connect};

fn node(id: &str, name: &str, role: Role, x: f32) -> tributary::model::Node {
    let mut n = components::new_node_as(components::descriptor(id).unwrap(), name, role);
    n.pos = Pos(x, 100.0);
    n
}

/// sentences → split, plus an unconnected logger.
fn doc_with_three_nodes() -> Document {
    let mut doc = Document::untitled();
    doc.apply(Command::Add {
        nodes: vec![
            node("sentence_generator", "sentences", Role::Spout, 0.0),
            node("split", "split", Role::Bolt, 240.0),
            node("logger", "log", Role::Bolt, 480.0),
        ],
        edges: Vec::new(),
    })
    .unwrap();
    let edge = wiring::new_edge(&doc.topology, "sentences", "split").unwrap();
    doc.apply(Command::Add {
        nodes: Vec::new(),
        edges: vec![edge],
    })
    .unwrap();
    doc
}

#[test]
fn undo_and_redo_walk_the_history_exactly() {
    let mut doc = doc_with_three_nodes();
    let before = to_ron_string(&doc.topology);
    let edge = wiring::new_edge(&doc.topology, "split", "log").unwrap();
    assert_eq!(
        edge.grouping,
        Grouping::Shuffle,
        "Storm edges start as shuffle"
    );
    doc.apply(Command::Add {
        nodes: Vec::new(),
        edges: vec![edge],
    })
    .unwrap();
    doc.apply(Command::Move {
        moves: vec![("log".into(), Pos(720.0, 200.0))],
    })
    .unwrap();
    let after = to_ron_string(&doc.topology);
    assert_eq!(doc.topology.edge_count(), 2);

    doc.undo().unwrap();
    assert_eq!(
        doc.topology.node_by_name("log").unwrap().pos,
        Pos(480.0, 100.0)
    );
    doc.undo().unwrap();
    assert_eq!(to_ron_string(&doc.topology), before);
    assert!(doc.can_redo());

    doc.redo().unwrap();
    doc.redo().unwrap();
    assert_eq!(to_ron_string(&doc.topology), after);
    assert!(!doc.can_redo());
}

#[test]
fn removing_a_node_takes_its_edges_and_undo_brings_both_back() {
    let mut doc = doc_with_three_nodes();
    let before = to_ron_string(&doc.topology);
    doc.apply(Command::Remove {
        nodes: vec!["split".into()],
        edges: Vec::new(),
    })
    .unwrap();
    assert_eq!(
        (doc.topology.node_count(), doc.topology.edge_count()),
        (2, 0)
    );
    doc.undo().unwrap();
    assert_eq!(to_ron_string(&doc.topology), before);
}

#[test]
fn a_refused_command_changes_nothing_and_records_nothing() {
    let mut doc = doc_with_three_nodes();
    let before = to_ron_string(&doc.topology);
    let generation = doc.generation();
    let err = doc
        .apply(Command::Add {
            nodes: Vec::new(),
            edges: vec![NamedEdge {
                from: "split".into(),
                to: "nowhere".into(),
                stream: "default".into(),
                grouping: Grouping::Shuffle,
            }],
        })
        .unwrap_err();
    assert!(err.contains("nowhere"), "{err}");
    assert_eq!(to_ron_string(&doc.topology), before);
    assert_eq!(doc.generation(), generation);
    doc.undo().unwrap();
    assert_eq!(
        doc.topology.edge_count(),
        0,
        "undo skipped the refused edit"
    );
}

#[test]
fn wiring_refuses_what_can_never_be_right_with_the_reason() {
    let doc = doc_with_three_nodes();
    let t = &doc.topology;
    let refusal = |from: &str, to: &str| wiring::refusal(t, from, to);
    assert_eq!(
        refusal("split", "sentences").as_deref(),
        Some("nothing can flow into a spout: it only emits")
    );
    assert!(refusal("split", "split").unwrap().contains("cycle"));
    assert!(
        refusal("sentences", "split")
            .unwrap()
            .contains("already connected")
    );
    assert!(
        refusal("split", "ghost").is_some(),
        "unknown nodes are refused"
    );
    assert_eq!(refusal("split", "log"), None);
}

#[test]
fn wiring_refuses_cycles() {
    let mut t = Topology::new("t");
    for (name, x) in [("a", 0.0), ("b", 240.0), ("c", 480.0)] {
        t.add_node(node("map", name, Role::Bolt, x)).unwrap();
    }
    for (from, to) in [("a", "b"), ("b", "c")] {
        t.connect_names(from, to, "default", Grouping::Shuffle)
            .unwrap();
    }
    let reason = wiring::refusal(&t, "c", "a").unwrap();
    assert!(reason.contains("would make a cycle"), "{reason}");
}

#[test]
fn wiring_and_the_model_rule_agree_on_roles() {
    let mut t = Topology::new("t");
    for (id, name, role) in [
        ("memory", "ch1", Role::Channel),
        ("memory", "ch2", Role::Channel),
        ("logger", "sink", Role::Sink),
        ("split", "bolt", Role::Bolt),
    ] {
        t.add_node(node(id, name, role, 0.0)).unwrap();
    }
    for (from, to) in [("ch1", "ch2"), ("sink", "bolt"), ("bolt", "sink")] {
        let (a, b) = (
            t.node_by_name(from).unwrap().role,
            t.node_by_name(to).unwrap().role,
        );
        let why = may_connect(a, b).unwrap_err().to_string();
        assert_eq!(wiring::refusal(&t, from, to), Some(why), "{from} → {to}");
    }
    assert_eq!(wiring::refusal(&t, "bolt", "ch1"), None);
    assert_eq!(
        wiring::default_grouping(Role::Bolt, Role::Channel),
        Grouping::Required
    );
    assert_eq!(
        wiring::default_grouping(Role::Channel, Role::Sink),
        Grouping::Drain
    );
    let refused = wiring::grouping_refusal(Role::Bolt, Role::Channel, &Grouping::Shuffle);
    assert!(refused.unwrap().contains("does not apply"));
}
