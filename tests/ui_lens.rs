//! The grouping lens in the designer: "Show tasks" draws a node as lanes labelled with
//! its Storm task ids, typing a key on a fields edge names the task it goes to, and
//! during a run the edge between two expanded nodes is drawn task to task with counts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test crate: a failure here is the test failing
#![cfg(feature = "gui")]

use std::time::{Duration, Instant};

use egui::accesskit::Role;
use egui_kittest::kittest::{NodeT, Queryable};
use tributary::design::commands::Command;
use tributary::model::{Edge, Grouping};
use tributary::runtime::routing::{deep_hash, partial_key_bytes, partial_key_draw};
use tributary::runtime::{Val, Values};
use tributary::ui::actions::Action;

mod common;
use common::ui;

// word_count.ron numbers its tasks by node name: count 1-4, log 5, sentences 6, split 7-8.
const COUNT_TASKS: [u32; 4] = [1, 2, 3, 4];

#[test]
fn show_tasks_draws_lanes_labelled_with_the_task_ids() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = ui::with_example(dir.path(), "word_count.ron");
    assert!(h.query_by_label("count: task 1").is_none());
    h.get_by_label("count").click();
    h.run_steps(2);
    h.get_by_role_and_label(Role::CheckBox, "Show tasks of count")
        .click();
    h.step();
    h.step();
    for task in COUNT_TASKS {
        assert!(
            h.query_by_label(&format!("count: task {task}")).is_some(),
            "no lane for task {task}"
        );
    }
    assert!(h.query_by_label("count: task 5").is_none());
    assert!(
        h.query_by_label("split: task 7").is_none(),
        "only count is expanded"
    );
    assert!(h.query_by_label_contains("runs tasks 1 to 4").is_some());

    // The lanes follow the design: two tasks after an edit, four again after undo.
    let mut node = h
        .state()
        .doc
        .topology
        .node_by_name("count")
        .unwrap()
        .clone();
    node.tasks = Some(2);
    let name = node.name.clone();
    h.state_mut()
        .doc
        .apply(Command::ReplaceNode { name, node })
        .unwrap();
    h.run_steps(2);
    assert!(h.query_by_label("count: task 2").is_some());
    assert!(
        h.query_by_label("count: task 3").is_none(),
        "lanes kept the old tasks"
    );
    let ctx = h.ctx.clone();
    h.state_mut().perform(&ctx, Action::Undo);
    h.run_steps(2);
    assert!(
        h.query_by_label("count: task 4").is_some(),
        "undo brings the lanes back"
    );

    h.get_by_role_and_label(Role::CheckBox, "Show tasks of count")
        .click();
    h.step();
    h.step();
    assert!(
        h.query_by_label("count: task 1").is_none(),
        "lanes stay after unticking"
    );
}

#[test]
fn typing_a_key_on_a_fields_edge_names_its_task_and_why() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = ui::with_example(dir.path(), "word_count.ron");
    h.get_by_label_contains("edge split → count").click();
    h.run_steps(2);
    assert!(h.query_by_label_contains("goes to task").is_none());
    h.get_by_role(Role::TextInput).focus();
    h.step();
    h.get_by_role(Role::TextInput).type_text("storm");
    h.step();
    h.step();
    // Storm's rule written out: floorMod(deepHashCode(["storm"]), 4) among tasks 1-4.
    let index = (deep_hash([&Val::str("storm")]) as i64).rem_euclid(4) as usize;
    let task = COUNT_TASKS[index];
    assert!(
        h.query_by_label(&format!("goes to task {task}")).is_some(),
        "the lens does not say task {task}"
    );
    assert!(h.query_by_label_contains("Arrays.deepHashCode").is_some());
    assert!(h.query_by_label_contains("Math.floorMod").is_some());
}

#[test]
fn typing_a_key_on_a_partial_key_edge_names_its_two_candidates() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = ui::with_example(dir.path(), "word_count.ron");
    let t = &h.state().doc.topology;
    let key = t
        .edge_list()
        .into_iter()
        .find(|e| e.from == "split")
        .unwrap();
    let edge = Edge {
        stream: key.stream.clone(),
        grouping: Grouping::PartialKey(vec!["word".into()]),
    };
    h.state_mut()
        .doc
        .apply(Command::SetEdge { key, edge })
        .unwrap();
    h.run_steps(2);
    h.get_by_label_contains("edge split → count").click();
    h.run_steps(2);
    h.get_by_role(Role::TextInput).focus();
    h.step();
    h.get_by_role(Role::TextInput).type_text("storm");
    h.run_steps(2);
    let bytes = partial_key_bytes(&Values::One(Val::str("storm")), &[0]);
    let draw = partial_key_draw(&bytes, 4);
    let (a, b) = (COUNT_TASKS[draw.first], COUNT_TASKS[draw.second]);
    assert_ne!(a, b);
    assert!(
        h.query_by_label(&format!("goes to task {a} or task {b}"))
            .is_some(),
        "the lens does not name tasks {a} and {b}"
    );
    assert!(
        h.query_by_label_contains("seeds java.util.Random")
            .is_some()
    );
    assert!(h.query_by_label_contains("sent fewer tuples").is_some());
}

#[test]
fn during_a_run_expanded_nodes_are_linked_task_to_task_with_counts() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = ui::with_example(dir.path(), "word_count.ron");
    h.get_by_label_contains("edge split → count").click();
    h.run_steps(2);
    for name in ["split", "count"] {
        h.get_by_role_and_label(Role::CheckBox, &format!("Show tasks of {name}"))
            .click();
        h.step();
    }
    assert!(h.query_by_label("split: task 7").is_some());
    assert!(
        h.query_by_label_contains("link: task 7 → ").is_none(),
        "no counts before a run"
    );
    h.get_by_label("▶ Run").click();
    h.step();
    assert!(h.state().run.is_some(), "{:?}", h.state().notice);
    let deadline = Instant::now() + Duration::from_secs(30);
    // Both split tasks reach some count task, and only count tasks are linked to.
    let links = loop {
        std::thread::sleep(Duration::from_millis(150));
        h.step();
        let links: Vec<String> = h
            .query_all_by_label_contains("link: task ")
            .filter_map(|n| {
                let node = n.accesskit_node();
                node.label().or_else(|| node.value())
            })
            .filter(|l| l.starts_with("link: task 7 → ") || l.starts_with("link: task 8 → "))
            .collect();
        let from = |t: &str| links.iter().any(|l| l.starts_with(t));
        if from("link: task 7 → ") && from("link: task 8 → ") {
            break links;
        }
        assert!(Instant::now() < deadline, "no task-to-task links appeared");
    };
    for link in &links {
        // "link: task 7 → task 3: 1,204"
        let (ends, count) = link.rsplit_once(": ").unwrap();
        let to: u32 = ends.rsplit_once("task ").unwrap().1.parse().unwrap();
        assert!(COUNT_TASKS.contains(&to), "{link}");
        assert!(count.replace(',', "").parse::<u64>().unwrap() > 0, "{link}");
    }
    h.get_by_label("⏹ Stop").click();
    h.step();
    assert!(h.state().run.is_none());
}
