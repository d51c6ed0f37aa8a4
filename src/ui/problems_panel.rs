//! The bottom panel: validation problems (click one to select what it is about) and
//! the run log.

use egui::{RichText, Ui};

use super::actions::Action;
use super::canvas::style;
use crate::design::selection::Selection;
use crate::model::Topology;
use crate::validate::{Diagnostic, Location, Severity};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BottomTab {
    #[default]
    Problems,
    Log,
}

pub fn bottom_panel_ui(
    ui: &mut Ui,
    tab: &mut BottomTab,
    t: &Topology,
    diagnostics: &[Diagnostic],
    log: &[String],
) -> Vec<Action> {
    let mut actions = Vec::new();
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = diagnostics.len() - errors;
    let tab_before = *tab;
    ui.horizontal(|ui| {
        let title = if diagnostics.is_empty() {
            "Problems (none)".to_string()
        } else {
            format!(
                "Problems ({}, {})",
                super::words::plural(errors, "error"),
                super::words::plural(warnings, "warning")
            )
        };
        ui.selectable_value(tab, BottomTab::Problems, title);
        ui.selectable_value(tab, BottomTab::Log, format!("Run log ({})", log.len()));
    });
    ui.separator();
    if *tab == BottomTab::Log {
        log_ui(ui, log, tab_before != BottomTab::Log);
        return actions;
    }
    egui::ScrollArea::vertical()
        .auto_shrink([false, false])
        .show(ui, |ui| match tab {
            BottomTab::Problems => {
                if diagnostics.is_empty() {
                    ui.label(RichText::new("No problems: this topology can run.").weak());
                }
                for d in diagnostics {
                    let color = match d.severity {
                        Severity::Error => style::problem_color(ui.visuals()),
                        Severity::Warning => ui.visuals().warn_fg_color,
                    };
                    let text = format!("{}: {}: {}", d.severity.label(), d.location, d.message);
                    let response = ui.add(
                        egui::Label::new(RichText::new(text).color(color))
                            .sense(egui::Sense::click()),
                    );
                    let response = if d.hint.is_empty() {
                        response
                    } else {
                        response.on_hover_text(format!("hint: {}", d.hint))
                    };
                    if response.clicked()
                        && let Some(selection) = selection_for(t, &d.location)
                    {
                        actions.push(Action::Select(selection));
                    }
                }
            }
            BottomTab::Log => {}
        });
    actions
}

/// The run log. It follows the newest line until the user scrolls up, and follows again
/// once they scroll back to the end (or reopen the tab). Only the rows in view are laid
/// out: a busy logger keeps thousands of lines, and laying them all out every frame
/// would cost more than the whole canvas.
fn log_ui(ui: &mut Ui, log: &[String], just_opened: bool) {
    if log.is_empty() {
        ui.label(RichText::new("Press ▶ Run to run the topology; its log appears here.").weak());
        return;
    }
    let follow_id = ui.scope_id().with("run log follows its end");
    let follow = just_opened || ui.data(|d| d.get_temp(follow_id)).unwrap_or(true);
    let row_height = ui.text_style_height(&egui::TextStyle::Monospace);
    let row_pitch = row_height + ui.spacing().item_spacing.y;
    let mut area = egui::ScrollArea::vertical().auto_shrink([false, false]);
    if follow {
        // Exactly the end: rows are picked from the offset before any clamping, so an
        // offset past the end would show nothing.
        let end = log.len() as f32 * row_pitch - ui.available_height();
        area = area.vertical_scroll_offset(end.max(0.0));
    }
    let output = area.show_rows(ui, row_height, log.len(), |ui, rows| {
        for line in &log[rows] {
            // One row per line (long lines are cut, full text on hover), so every row
            // has the height `show_rows` counts on.
            ui.add(egui::Label::new(RichText::new(line).monospace()).truncate());
        }
    });
    let end = output.content_size.y - output.inner_rect.height();
    let at_end = output.state.clamped_offset().y >= end - row_pitch;
    ui.data_mut(|d| d.insert_temp(follow_id, at_end));
}

fn selection_for(t: &Topology, location: &Location) -> Option<Selection> {
    match location {
        Location::Node(n) => t.index_of(n).map(|_| Selection::node(n)),
        Location::Edge { from, to, stream } => t
            .edge_list()
            .into_iter()
            .find(|e| &e.from == from && &e.to == to && &e.stream == stream)
            .map(Selection::edge),
        _ => Some(Selection::default()),
    }
}
