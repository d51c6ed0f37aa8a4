//! The tuple tree panel: the selected spout tuple's tree, every tuple with its values,
//! edge id and executing task and whether it is pending, acked or failed; the acker's
//! ledger for the root, message by message; the verdict, and the replay links. It
//! makes the acker's invariant visible: the ledger is 0 exactly when every tuple of the
//! tree is acked.

use egui::{Color32, Grid, RichText, Ui};

use super::{LabAction, LabSession};
use crate::runtime::lab::{Id, Tree, TreeTuple, TupleState};
use crate::ui::actions::Action;

/// Tuples drawn per tree; a bigger tree says how many more it has.
const MAX_ROWS: usize = 400;

pub fn tree_panel_ui(ui: &mut Ui, lab: &mut LabSession) -> Vec<Action> {
    let mut actions = Vec::new();
    ui.horizontal(|ui| {
        ui.heading("Tuple tree");
        if ui
            .button("Trace the next tree")
            .on_hover_text("Step until a spout emits a new tree, and show it here")
            .clicked()
        {
            actions.push(Action::Lab(LabAction::TraceNext));
        }
    });
    let now_us = u64::try_from(lab.engine.elapsed().as_micros()).unwrap_or(u64::MAX);
    let timeout = lab.message_timeout;
    let Some(tree) = lab.selected_tree().cloned() else {
        let text = match lab.selected {
            Some(root) => format!("Tree {} is no longer in the kept trace.", Id(root)),
            None => "No tree selected: press Trace the next tree, or click an event in the list."
                .to_string(),
        };
        ui.label(RichText::new(text).weak());
        return actions;
    };
    // Both ways: a long tree or long values scroll rather than widen the panel.
    egui::ScrollArea::both()
        .id_salt("lab-tree")
        .auto_shrink([false, false])
        .show(ui, |ui| {
            header_ui(ui, lab, &tree, now_us, timeout, &mut actions);
            ui.separator();
            tuples_ui(ui, lab, &tree);
            ui.separator();
            ledger_ui(ui, &tree);
        });
    actions
}

/// Root, spout, verdict (or the timeout countdown) and replay links.
fn header_ui(
    ui: &mut Ui,
    lab: &LabSession,
    tree: &Tree,
    now_us: u64,
    timeout: std::time::Duration,
    actions: &mut Vec<Action>,
) {
    ui.label(RichText::new(format!("root {}", tree.root)).monospace());
    ui.label(format!(
        "from {}{} · emitted at step {}",
        lab.task_name(tree.spout.task),
        tree.msg_id
            .map(|m| format!(", message id {m}"))
            .unwrap_or_default(),
        tree.emitted
    ));
    let verdict = match tree.verdict {
        Some(v) if v.ok => (
            format!("acked at step {}", v.step),
            state_color(TupleState::Acked),
        ),
        Some(v) if v.timed_out => (
            format!("timed out at step {}: the spout's fail ran", v.step),
            state_color(TupleState::Failed),
        ),
        Some(v) => (
            format!("failed at step {}: the spout's fail ran", v.step),
            state_color(TupleState::Failed),
        ),
        None => {
            let age = std::time::Duration::from_micros(now_us.saturating_sub(tree.emitted_us));
            let left = timeout.saturating_sub(age);
            (
                format!(
                    "pending: times out in {:.3} s of virtual time (message timeout {} s)",
                    left.as_secs_f64(),
                    timeout.as_secs()
                ),
                ui.visuals().warn_fg_color,
            )
        }
    };
    ui.label(RichText::new(verdict.0).color(verdict.1).strong());
    if let Some(old) = tree.replay_of
        && ui
            .link(format!("replay of {old}"))
            .on_hover_text("The failed tree this one replays")
            .clicked()
    {
        actions.push(Action::Lab(LabAction::Select(old.0)));
    }
    if let Some(new) = tree.replayed_as
        && ui
            .link(format!("replayed as {new}"))
            .on_hover_text("The tree the spout emitted again after this one failed")
            .clicked()
    {
        actions.push(Action::Lab(LabAction::Select(new.0)));
    }
}

/// The tree as an indented list: the spout on top, each tuple under the one it is
/// anchored to.
fn tuples_ui(ui: &mut Ui, lab: &LabSession, tree: &Tree) {
    let acked = tree
        .tuples
        .iter()
        .filter(|t| t.state == TupleState::Acked)
        .count();
    ui.label(RichText::new(format!("Tuples: {acked} of {} acked", tree.tuples.len())).strong());
    ui.label(RichText::new(format!("{} (spout)", lab.task_name(tree.spout.task))).monospace());
    let mut rows = 0;
    // Depth-first, iteratively: (tuple, depth), children pushed in reverse to keep order.
    let mut stack: Vec<(&TreeTuple, usize)> = tree.children(None).map(|t| (t, 1)).collect();
    stack.reverse();
    while let Some((t, depth)) = stack.pop() {
        if rows == MAX_ROWS {
            ui.label(RichText::new(format!("… {} more tuples", tree.tuples.len() - rows)).weak());
            break;
        }
        rows += 1;
        tuple_row_ui(ui, lab, t, depth);
        let mut children: Vec<_> = tree
            .children(Some(t.edge))
            .map(|c| (c, depth + 1))
            .collect();
        children.reverse();
        stack.extend(children);
    }
}

fn tuple_row_ui(ui: &mut Ui, lab: &LabSession, t: &TreeTuple, depth: usize) {
    ui.horizontal(|ui| {
        ui.add_space(14.0 * depth as f32);
        state_chip_ui(ui, t.state);
        ui.label(RichText::new(format!("edge {}", t.edge)).monospace())
            .on_hover_text(format!(
                "Emitted at step {}{}; stream {}",
                t.emitted,
                t.executed
                    .map(|s| format!(", executed at step {s}"))
                    .unwrap_or_default(),
                t.stream
            ));
        // Monospace: the bundled proportional font has no arrows.
        ui.label(RichText::new(format!("\u{2192} {}", lab.task_name(t.to.task))).monospace());
        // Cut to the panel's width; hovering shows all of it.
        ui.add(egui::Label::new(RichText::new(t.values.describe()).weak()).truncate());
    });
}

/// A tuple's state as a coloured word.
fn state_chip_ui(ui: &mut Ui, state: TupleState) {
    let word = match state {
        TupleState::Pending => "pending",
        TupleState::Acked => "acked",
        TupleState::Failed => "failed",
    };
    ui.label(
        RichText::new(format!(" {word} "))
            .monospace()
            .color(Color32::BLACK)
            .background_color(state_color(state)),
    );
}

fn state_color(state: TupleState) -> Color32 {
    match state {
        TupleState::Pending => Color32::from_rgb(0xe0, 0xb0, 0x40),
        TupleState::Acked => Color32::from_rgb(0x50, 0xc0, 0x70),
        TupleState::Failed => Color32::from_rgb(0xe0, 0x60, 0x60),
    }
}

/// The acker's ledger for the root: each message applied, and the invariant.
fn ledger_ui(ui: &mut Ui, tree: &Tree) {
    ui.label(RichText::new("Acker ledger").strong())
        .on_hover_text(
            "The acker keeps one 64-bit value per tree: every tuple's edge id is XORed in \
         when it is emitted and again when it is acked, so the value is 0 exactly when \
         every tuple of the tree is acked.",
        );
    if tree.ledger.is_empty() {
        ui.label(RichText::new("The acker has not seen this tree yet.").weak());
    } else {
        Grid::new("lab-ledger")
            .striped(true)
            .num_columns(4)
            .show(ui, |ui| {
                for h in ["step", "message", "XOR applied", "ledger after"] {
                    ui.label(RichText::new(h).weak());
                }
                ui.end_row();
                for l in &tree.ledger {
                    ui.label(format!("#{}", l.step));
                    ui.label(l.msg);
                    ui.label(
                        RichText::new(l.xor.map(|x| x.to_string()).unwrap_or_else(|| "-".into()))
                            .monospace(),
                    );
                    ui.label(RichText::new(l.ledger.to_string()).monospace());
                    ui.end_row();
                }
            });
    }
    let ledger = tree.ledger_now();
    let zero = ledger == Id(0) && !tree.ledger.is_empty();
    let all = tree.all_acked() && !tree.tuples.is_empty();
    let text = format!(
        "ledger = 0 exactly when every tuple is acked: ledger {}, {}",
        if zero { "is 0" } else { "is not 0" },
        if all {
            "every tuple acked"
        } else {
            "some tuples not acked yet"
        }
    );
    let color = if zero == all {
        state_color(TupleState::Acked)
    } else {
        state_color(TupleState::Failed)
    };
    ui.label(RichText::new(text).color(color));
}
