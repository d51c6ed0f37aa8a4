//! The bottom panel: validation problems (click one to select what it is about) and
//! the run log (drawn by [`super::run_log`]).

use egui::{RichText, Ui};

use super::actions::Action;
use super::canvas::style;
use super::run_log::{self, LogBook};
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
    log: &mut LogBook,
) -> Vec<Action> {
    let mut actions = Vec::new();
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = diagnostics.len() - errors;
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
        run_log::log_ui(ui, log);
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
