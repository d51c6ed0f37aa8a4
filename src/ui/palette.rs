//! The palette: every registered component, grouped the way users know them (Flume
//! sources, channels and sinks; Storm spouts and bolts; Spark-style windows and per-batch operators) plus the
//! groupings. Entries are generated from the registry, so new components appear here
//! without UI changes. Drag an entry onto the canvas (or a grouping onto an edge).

use egui::{Button, Sense, Ui, WidgetInfo};

use crate::components::{self, ComponentDescriptor, STAND_IN};
use crate::model::{Grouping, Role, System};

/// What is being dragged out of the palette.
#[derive(Debug, Clone, PartialEq)]
pub enum PaletteItem {
    Component { id: &'static str, role: Role },
    Grouping(Grouping),
}

/// What the palette asks the app to do when an entry is clicked instead of dragged.
pub enum PaletteAction {
    /// Place a new node in the middle of the view.
    AddAtCenter { id: &'static str, role: Role },
}

struct Group {
    heading: &'static str,
    entries: Vec<(&'static ComponentDescriptor, Role)>,
}

fn groups() -> Vec<(&'static str, Vec<Group>)> {
    let by = |system: Option<System>, role: Role, heading: &'static str| Group {
        heading,
        entries: components::registry()
            .iter()
            .filter(|d| d.id != STAND_IN && d.roles.contains(&role))
            .filter(|d| match system {
                Some(s) => d.system == s,
                None => d.system != System::Spark,
            })
            .map(|d| (d, role))
            .collect(),
    };
    // Spark's operators split the way its guide does: over a window, or per batch.
    let windowed = |window: bool, heading: &'static str| Group {
        heading,
        entries: components::registry()
            .iter()
            .filter(|d| d.system == System::Spark && d.default_window.is_some() == window)
            .map(|d| (d, Role::Bolt))
            .collect(),
    };
    vec![
        (
            "Flume",
            vec![
                by(None, Role::Source, "Sources"),
                by(None, Role::Channel, "Channels"),
                by(None, Role::Sink, "Sinks"),
            ],
        ),
        (
            "Storm",
            vec![
                by(None, Role::Spout, "Spouts"),
                by(None, Role::Bolt, "Bolts"),
            ],
        ),
        (
            "Spark-style",
            vec![
                windowed(true, "Windows"),
                windowed(false, "Per-batch operators"),
            ],
        ),
    ]
}

/// The groupings offered for dropping on edges, with what each one does.
pub fn grouping_entries() -> Vec<(Grouping, &'static str)> {
    vec![
        (Grouping::Shuffle, "Round-robin over the consumer's tasks."),
        (
            Grouping::Fields(Vec::new()),
            "Same values of the chosen fields always reach the same task.",
        ),
        (Grouping::All, "Every task gets a copy."),
        (
            Grouping::Global,
            "Everything goes to the consumer's lowest task.",
        ),
        (
            Grouping::LocalOrShuffle,
            "Shuffle, preferring tasks in the same worker.",
        ),
        (Grouping::None, "Don't care: a random task per tuple."),
        (
            Grouping::PartialKey(Vec::new()),
            "Two candidate tasks per key; the less loaded wins (resists skew).",
        ),
        (
            Grouping::Direct,
            "The producer picks the task (direct streams only).",
        ),
        (Grouping::Required, "Flume: this channel gets every event."),
        (
            Grouping::Optional,
            "Flume: best effort; a failed put is ignored.",
        ),
        (
            Grouping::Drain,
            "Flume: the consumer drains the channel in transactions.",
        ),
    ]
}

/// Palette label of a grouping: its canvas label without the empty field list.
pub fn grouping_title(g: &Grouping) -> String {
    match g {
        Grouping::Fields(f) if f.is_empty() => "fields(…)".into(),
        Grouping::PartialKey(f) if f.is_empty() => "partial_key(…)".into(),
        other => other.label(),
    }
}

/// Draws the palette; returns an action when an entry was clicked.
pub fn palette_ui(ui: &mut Ui) -> Option<PaletteAction> {
    let mut action = None;
    egui::ScrollArea::vertical().show(ui, |ui| {
        for (system, groups) in groups() {
            egui::CollapsingHeader::new(egui::RichText::new(system).strong())
                .default_open(true)
                .show(ui, |ui| {
                    for group in groups.iter().filter(|g| !g.entries.is_empty()) {
                        ui.label(egui::RichText::new(group.heading).small().weak());
                        for (desc, role) in &group.entries {
                            let item = PaletteItem::Component {
                                id: desc.id,
                                role: *role,
                            };
                            let title = if desc.roles.first() == Some(role) {
                                desc.title.to_string()
                            } else {
                                format!("{} ({})", desc.title, role.label())
                            };
                            let response = entry_ui(ui, &title, desc.doc, item);
                            if response.clicked() {
                                action = Some(PaletteAction::AddAtCenter {
                                    id: desc.id,
                                    role: *role,
                                });
                            }
                        }
                    }
                });
        }
        egui::CollapsingHeader::new(egui::RichText::new("Groupings").strong())
            .default_open(true)
            .show(ui, |ui| {
                ui.label(egui::RichText::new("drop on an edge").small().weak());
                for (grouping, doc) in grouping_entries() {
                    let title = grouping_title(&grouping);
                    entry_ui(ui, &title, doc, PaletteItem::Grouping(grouping));
                }
            });
    });
    action
}

fn entry_ui(ui: &mut Ui, title: &str, doc: &str, item: PaletteItem) -> egui::Response {
    let button = Button::new(title)
        .sense(Sense::click_and_drag())
        .min_size(egui::vec2(ui.available_width(), 0.0));
    let response = ui.add(button);
    response.widget_info(|| WidgetInfo::labeled(egui::Role::Button, true, title));
    response.dnd_set_drag_payload(item);
    if response.dragged() {
        // A label that follows the pointer, so the user sees what they carry.
        if let Some(pos) = ui.ctx().pointer_interact_pos() {
            egui::Area::new(ui.scope_id().with("palette-ghost"))
                .order(egui::Order::Tooltip)
                .fixed_pos(pos + egui::vec2(12.0, 8.0))
                .interactable(false)
                .show(ui.ctx(), |ui| {
                    egui::Frame::popup(ui.style()).show(ui, |ui| ui.label(title));
                });
        }
    }
    response.on_hover_text(doc)
}
