//! The lab's event list: the latest events, one line each, newest at the bottom,
//! following the tail; clicking a line shows its tree.

use egui::{RichText, Ui};

use super::{LabAction, LabSession, root_of};
use crate::runtime::lab::{Event, Kind};
use crate::ui::actions::Action;

/// How many of the latest events the list shows.
pub const SHOWN: usize = 200;

/// One event as a line: `#41 split[3] ← sentences[1]  sentence="ka lo mi"  ok`.
pub fn event_line(lab: &LabSession, e: &Event) -> String {
    let who = lab.task_name(e.task);
    let values = |e: &Event| e.values.as_ref().map(|v| v.describe()).unwrap_or_default();
    let what = match e.kind {
        Kind::NextTuple => match e.emits.iter().find(|s| s.kind == "tuple") {
            Some(s) => format!(
                "{who} emits  {}  \u{2192} {}",
                s.values.as_ref().map(|v| v.describe()).unwrap_or_default(),
                lab.task_name(s.task)
            ),
            None => format!("{who} next_tuple: nothing"),
        },
        Kind::Deliver => {
            let from = e
                .from
                .as_ref()
                .map(|f| lab.task_name(f.task))
                .unwrap_or_default();
            let outcome = match e.ok {
                Some(true) => "ok",
                Some(false) => "failed",
                None => "",
            };
            format!("{who} \u{2190} {from}  {}  {outcome}", values(e))
        }
        Kind::Ack => format!(
            "{who} {}  root {}  xor {}  ledger {}",
            e.msg.unwrap_or("ack"),
            e.root.map(|r| r.to_string()).unwrap_or_default(),
            e.xor.map(|r| r.to_string()).unwrap_or_else(|| "-".into()),
            e.ledger.map(|r| r.to_string()).unwrap_or_default(),
        ),
        Kind::Outcome => format!(
            "{who} {}  root {}",
            if e.ok == Some(true) {
                "ack: tree done"
            } else {
                "fail: tree failed"
            },
            e.root.map(|r| r.to_string()).unwrap_or_default()
        ),
        Kind::Timeout => format!("{who} timeout: {} tree(s) expired", e.roots.len()),
        Kind::Window => format!("{who} window emits"),
        Kind::Kill => format!(
            "worker {} killed{}",
            e.task,
            e.note
                .as_ref()
                .map(|n| format!(": {n}"))
                .unwrap_or_default()
        ),
        Kind::Restart => format!("{who} restarted"),
        Kind::Control => format!("{} {}", e.node, e.note.clone().unwrap_or_default()),
        Kind::Batch => match &e.batch {
            Some(b) => format!(
                "batch ({:.1} s, {:.1} s]: {} records",
                b.from_ms as f64 / 1000.0,
                b.time_ms as f64 / 1000.0,
                b.records
            ),
            None => "batch".into(),
        },
    };
    format!("#{} {what}", e.step)
}

/// Draws the latest events; a click on one with a tree selects that tree.
pub fn event_list_ui(ui: &mut Ui, lab: &LabSession) -> Vec<Action> {
    let mut actions = Vec::new();
    let trace = lab.engine.trace();
    let latest = &trace[trace.len().saturating_sub(SHOWN)..];
    ui.horizontal(|ui| {
        ui.label(RichText::new("Events").strong());
        ui.label(RichText::new("click a line to see its tree").weak());
    });
    // The scroll area fills the panel even when empty, so the panel keeps its size.
    egui::ScrollArea::both()
        .id_salt("lab-events")
        .stick_to_bottom(true)
        .auto_shrink([false, false])
        .show(ui, |ui| {
            if latest.is_empty() {
                ui.label(RichText::new("No events yet: press Step (Space).").weak());
            }
            for e in latest {
                let root = root_of(e);
                let selected = root.is_some() && root == lab.selected;
                // Monospace: columns line up, and the bundled proportional font has no arrows.
                let text = RichText::new(event_line(lab, e)).monospace();
                let line = ui.add(
                    egui::Button::selectable(selected, text).wrap_mode(egui::TextWrapMode::Extend),
                );
                if line.clicked()
                    && let Some(root) = root
                {
                    actions.push(Action::Lab(LabAction::Select(root)));
                }
            }
        });
    actions
}
