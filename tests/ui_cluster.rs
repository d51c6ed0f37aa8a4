//! The cluster panel: shown while a design with `settings.cluster` runs, its buttons
//! reach the running engine's Nimbus, supervisors and machines, its timeline tells what
//! happened, and the canvas says which machines each node runs on.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test crate: a failure here is the test failing
#![cfg(feature = "gui")]

use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use tributary::model::ClusterSettings;
use tributary::runtime::cluster::ClusterView;
use tributary::ui::DesignerApp;

mod common;
use common::ui;

fn cluster(h: &Harness<'_, DesignerApp>) -> ClusterView {
    h.state()
        .run
        .as_ref()
        .and_then(|r| r.snapshot().cluster.clone())
        .expect("the run reports its cluster")
}

/// Steps the designer until `done` holds of the cluster, failing after a deadline.
fn step_until(h: &mut Harness<'_, DesignerApp>, what: &str, done: impl Fn(&ClusterView) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        std::thread::sleep(Duration::from_millis(20));
        h.step();
        if h.state()
            .run
            .as_ref()
            .and_then(|r| r.snapshot().cluster.as_ref())
            .is_some_and(&done)
        {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
    }
}

#[test]
fn killing_a_machine_from_the_panel_shows_its_worker_reassigned() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = ui::with_example(dir.path(), "word_count.ron");
    {
        let t = &mut h.state_mut().doc.topology;
        t.settings.workers = 3;
        t.settings.message_timeout_secs = 2;
        t.settings.cluster = Some(ClusterSettings {
            machines: 3,
            slots_per_machine: 2,
            heartbeat_timeout_secs: 1,
        });
        t.node_by_name_mut("sentences")
            .unwrap()
            .config
            .insert("rate_per_sec".into(), tributary::model::Value::Float(50.0));
    }
    h.step();
    assert!(
        h.query_by_label("Kill machine 1").is_none(),
        "no panel before the run"
    );
    h.get_by_label("▶ Run").click();
    h.step();
    assert!(h.state().run.is_some(), "{:?}", h.state().notice);
    step_until(&mut h, "the first snapshot", |c| c.machines.len() == 3);
    h.step();
    // Every node's note says where it runs, and the canvas draws the notes.
    let overlay = h
        .state()
        .run
        .as_ref()
        .unwrap()
        .overlay_on(&h.state().doc.topology);
    for (node, stats) in &overlay.nodes {
        let text = stats.placement.as_deref().unwrap_or_default();
        assert!(text.starts_with("machine"), "{node}: {text:?}");
    }
    let notes = h
        .query_all_by_label_contains("machine")
        .filter(|n| {
            n.accesskit_node()
                .label()
                .is_some_and(|l| l.starts_with("machine"))
        })
        .count();
    assert_eq!(notes, overlay.nodes.len());
    h.get_by_label("Kill machine 1").click();
    step_until(&mut h, "worker 1 reassigned", |c| {
        c.workers[1].reassignments == 1 && c.workers[1].running
    });
    // Free slots 6701 of machines 0 and 2 tie; the even scheduler takes machine 0's.
    let c = cluster(&h);
    assert_eq!(
        (c.workers[1].machine, c.workers[1].port),
        (Some(0), Some(6701))
    );
    h.step();
    h.get_by_label("no heartbeat from machine 1 for 1s: worker 1 lost");
    h.get_by_label("reassigned worker 1 from machine 1 to machine 0 slot 6701");
    h.get_by_label("Restore machine 1").click();
    step_until(&mut h, "machine 1 back", |c| c.machines[1].up);
    h.get_by_label("Kill Nimbus").click();
    step_until(&mut h, "Nimbus down", |c| !c.nimbus_up);
    h.step();
    h.get_by_label("Restore Nimbus");
    h.get_by_label("⏹ Stop").click();
    h.step();
}

#[test]
fn rebalancing_a_node_from_the_inspector_changes_its_executors_and_the_canvas_says_so() {
    use tributary::design::selection::Selection;
    use tributary::ui::actions::Action;
    let dir = tempfile::tempdir().unwrap();
    let mut h = ui::with_example(dir.path(), "word_count.ron");
    h.state_mut()
        .doc
        .topology
        .node_by_name_mut("sentences")
        .unwrap()
        .config
        .insert("rate_per_sec".into(), tributary::model::Value::Float(50.0));
    h.step();
    h.get_by_label("▶ Run").click();
    h.step();
    step_until(&mut h, "the first snapshot", |c| !c.workers.is_empty());
    let ctx = h.ctx.clone();
    h.state_mut()
        .perform(&ctx, Action::Select(Selection::node("count")));
    h.step();
    h.step();
    // count has 4 tasks on 2 executors in the example.
    let executors = |h: &Harness<'_, DesignerApp>| {
        h.state().run.as_ref().unwrap().snapshot().nodes["count"]
            .workers
            .len()
    };
    assert_eq!(executors(&h), 2);
    let tasks = h.state().run.as_ref().unwrap().snapshot().nodes["count"]
        .tasks
        .len();
    assert_eq!(tasks, 4);
    let field = h.get_by_label("Executors");
    field.click();
    h.step();
    // Typing a value into the drag value: select its text and replace it.
    h.get_by_label("Executors").type_text("4");
    h.key_press(egui::Key::Enter);
    h.step();
    h.get_by_label("Rebalance").click();
    let deadline = Instant::now() + Duration::from_secs(60);
    while executors(&h) != 4 {
        assert!(
            Instant::now() < deadline,
            "count not rebalanced: {}",
            executors(&h)
        );
        std::thread::sleep(Duration::from_millis(20));
        h.step();
    }
    h.step();
    let overlay = h
        .state()
        .run
        .as_ref()
        .unwrap()
        .overlay_on(&h.state().doc.topology);
    assert_eq!(
        overlay.nodes["count"].placement.as_deref(),
        Some("4 executors now")
    );
    h.get_by_label("4 executors now");
    assert!(
        h.state()
            .log
            .iter()
            .any(|l| l.contains("rebalanced: count 2 -> 4 executors")),
        "no rebalance line in the run log"
    );
    h.get_by_label("⏹ Stop").click();
    h.step();
}
