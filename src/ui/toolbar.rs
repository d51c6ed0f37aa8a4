//! The toolbar: file menu, examples, undo/redo, view, and run controls.

use std::path::PathBuf;

use egui::Ui;

use super::actions::Action;
use super::shortcuts;
use super::side_panels::SidePanel;
use crate::design::document::file_label;
use crate::design::examples::ExampleInfo;

/// What the toolbar needs to know to enable its buttons.
pub struct ToolbarState<'a> {
    pub can_undo: bool,
    pub can_redo: bool,
    pub recent: &'a [PathBuf],
    pub examples: &'a [PathBuf],
    pub lessons: &'a [super::lesson::LessonEntry],
    pub lesson_progress: &'a super::lesson::progress::Progress,
    /// `None` = not running; `Some(paused)`.
    pub run: Option<bool>,
    /// There is something to run (an empty design is not).
    pub can_run: bool,
    /// A comparison of the two execution modes is running.
    pub comparing: bool,
    /// Why the design cannot be compared in both modes; `None` when it can.
    pub compare_refusal: Option<&'a str>,
    /// Why the three guarantees cannot be run side by side; `None` when they can.
    pub guarantees_refusal: Option<&'a str>,
    pub zoom: f32,
    /// The run's speed cap (shown while running).
    pub speed: super::speed::Speed,
    pub palette_shown: bool,
    pub inspector_shown: bool,
    /// Why the design cannot be stepped in Lab mode; `None` when it can.
    pub lab_refusal: Option<&'a str>,
    /// The lab, while Lab mode is on (its toolbar replaces the run controls).
    pub lab: Option<super::lab::toolbar::LabBar>,
}

pub fn toolbar_ui(ui: &mut Ui, s: &ToolbarState<'_>) -> Vec<Action> {
    let mut actions = Vec::new();
    ui.horizontal_wrapped(|ui| {
        ui.menu_button("File", |ui| {
            if menu_entry(ui, "New", &shortcuts::NEW).clicked() {
                actions.push(Action::New);
            }
            if menu_entry(ui, "Open…", &shortcuts::OPEN).clicked() {
                actions.push(Action::Open(None));
            }
            ui.menu_button("Open recent", |ui| {
                if s.recent.is_empty() {
                    ui.label(egui::RichText::new("nothing yet").weak());
                }
                for path in s.recent {
                    if ui
                        .button(file_label(path))
                        .on_hover_text(path.display().to_string())
                        .clicked()
                    {
                        actions.push(Action::Open(Some(path.clone())));
                    }
                }
            });
            ui.separator();
            if menu_entry(ui, "Save", &shortcuts::SAVE).clicked() {
                actions.push(Action::Save);
            }
            if menu_entry(ui, "Save as…", &shortcuts::SAVE_AS).clicked() {
                actions.push(Action::SaveAs(None));
            }
            ui.separator();
            if ui.button("Import Flux / Flume…").clicked() {
                actions.push(Action::Import(None));
            }
            ui.menu_button("Export", |ui| {
                for target in crate::format::ExportTarget::ALL {
                    if ui.button(format!("{}…", target.label())).clicked() {
                        actions.push(Action::Export(target, None));
                    }
                }
            });
            ui.menu_button("Export image", |ui| {
                if ui
                    .button("PNG…")
                    .on_hover_text("The canvas as shown, for slides")
                    .clicked()
                {
                    actions.push(Action::ExportPng(None));
                }
                if ui
                    .button("SVG…")
                    .on_hover_text("The layout as a vector drawing, for docs")
                    .clicked()
                {
                    actions.push(Action::Export(crate::format::ExportTarget::Svg, None));
                }
            });
            ui.separator();
            if ui.button("Quit").clicked() {
                actions.push(Action::Quit);
            }
        });
        ui.menu_button("Examples", |ui| {
            if s.examples.is_empty() {
                ui.label(egui::RichText::new("no topologies/ folder found").weak());
            }
            for path in s.examples {
                if example_entry_ui(ui, path).clicked() {
                    actions.push(Action::OpenExample(path.clone()));
                }
            }
        });
        super::lesson::menu::lessons_menu_ui(ui, s.lessons, s.lesson_progress, &mut actions);
        ui.menu_button("View", |ui| view_menu_ui(ui, s, &mut actions));
        ui.separator();
        if ui.button("New").clicked() {
            actions.push(Action::New);
        }
        if ui.button("Open").clicked() {
            actions.push(Action::Open(None));
        }
        if ui.button("Save").clicked() {
            actions.push(Action::Save);
        }
        ui.separator();
        if ui
            .add_enabled(s.can_undo, egui::Button::new("⟲ Undo"))
            .on_hover_text(shortcuts::text(ui.ctx(), &shortcuts::UNDO))
            .clicked()
        {
            actions.push(Action::Undo);
        }
        if ui
            .add_enabled(s.can_redo, egui::Button::new("⟳ Redo"))
            .on_hover_text(shortcuts::text(ui.ctx(), &shortcuts::REDO))
            .clicked()
        {
            actions.push(Action::Redo);
        }
        ui.separator();
        if ui
            .button("−")
            .on_hover_text("Zoom out (Ctrl+scroll)")
            .clicked()
        {
            actions.push(Action::Zoom(1.0 / 1.25));
        }
        ui.label(format!("{:.0}%", s.zoom * 100.0));
        if ui
            .button("+")
            .on_hover_text("Zoom in (Ctrl+scroll)")
            .clicked()
        {
            actions.push(Action::Zoom(1.25));
        }
        if ui
            .button("Fit")
            .on_hover_text("Fit the topology in view (F)")
            .clicked()
        {
            actions.push(Action::Fit);
        }
        if ui
            .add_enabled(
                s.run.is_none() && !s.comparing,
                egui::Button::new("Auto-layout"),
            )
            .on_hover_text("Arrange in layers, left to right (L)")
            .on_disabled_hover_text("Stop the run to edit the topology")
            .clicked()
        {
            actions.push(Action::AutoLayout);
        }
        ui.separator();
        if let Some(bar) = &s.lab {
            super::lab::toolbar::lab_toolbar_ui(ui, bar, &mut actions);
            return;
        }
        match s.run {
            None if s.comparing => {
                if ui
                    .button("⏹ Stop")
                    .on_hover_text("Stop both runs of the comparison (Shift+F5)")
                    .clicked()
                {
                    actions.push(Action::Stop);
                }
            }
            None => {
                if ui
                    .add_enabled(s.can_run, egui::Button::new("▶ Run"))
                    .on_hover_text("Validate and run this topology (F5)")
                    .on_disabled_hover_text(
                        "Nothing to run yet: drag a spout or source from the palette",
                    )
                    .clicked()
                {
                    actions.push(Action::Run);
                }
                lab_button_ui(ui, s.lab_refusal, &mut actions);
                if ui
                    .add_enabled(
                        s.compare_refusal.is_none(),
                        egui::Button::new("Compare modes"),
                    )
                    .on_hover_text(
                        "Run this design record-at-a-time and in micro-batches at once, \
                         and compare their throughput and latency",
                    )
                    .on_disabled_hover_text(s.compare_refusal.unwrap_or_default())
                    .clicked()
                {
                    actions.push(Action::CompareModes);
                }
                if ui
                    .add_enabled(
                        s.guarantees_refusal.is_none(),
                        egui::Button::new("Guarantees"),
                    )
                    .on_hover_text(
                        "Run this design at most, at least and exactly once at the same time, \
                         with the same faults, and see what each loses or repeats",
                    )
                    .on_disabled_hover_text(s.guarantees_refusal.unwrap_or_default())
                    .clicked()
                {
                    actions.push(Action::OpenGuarantees);
                }
            }
            Some(paused) => {
                if paused {
                    if ui.button("▶ Resume").clicked() {
                        actions.push(Action::Resume);
                    }
                } else if ui.button("⏸ Pause").clicked() {
                    actions.push(Action::Pause);
                }
                if ui
                    .button("⏹ Stop")
                    .on_hover_text("Stop the run (Shift+F5)")
                    .clicked()
                {
                    actions.push(Action::Stop);
                }
                lab_button_ui(
                    ui,
                    Some("Stop the run to step it in Lab mode"),
                    &mut actions,
                );
                ui.separator();
                super::speed::speed_ui(ui, s.speed, &mut actions);
            }
        }
    });
    actions
}

/// The Lab button: step the design one event at a time; disabled with the reason when
/// the lab cannot step it (or a run is on).
fn lab_button_ui(ui: &mut Ui, refusal: Option<&str>, actions: &mut Vec<Action>) {
    if ui
        .add_enabled(refusal.is_none(), egui::Button::new("Lab"))
        .on_hover_text(
            "Step this design one event at a time: watch tuples move, trees get acked \
             and the acker's ledger fall to zero",
        )
        .on_disabled_hover_text(refusal.unwrap_or_default())
        .clicked()
    {
        actions.push(Action::Lab(super::lab::LabAction::Start));
    }
}

/// Which side panels are shown, and the theme: settings of the window, not of the
/// design, kept in a menu so the toolbar stays one row at common widths.
fn view_menu_ui(ui: &mut Ui, s: &ToolbarState<'_>, actions: &mut Vec<Action>) {
    for (panel, label, shown) in [
        (SidePanel::Palette, "Palette", s.palette_shown),
        (SidePanel::Inspector, "Inspector", s.inspector_shown),
    ] {
        let mut checked = shown;
        if ui.checkbox(&mut checked, label).clicked() {
            actions.push(Action::TogglePanel(panel));
        }
    }
    ui.separator();
    use egui::ThemePreference as Pref;
    let mut preference = ui.options(|o| o.theme_preference);
    for (choice, label) in [
        (Pref::System, "System theme"),
        (Pref::Dark, "Dark theme"),
        (Pref::Light, "Light theme"),
    ] {
        ui.radio_value(&mut preference, choice, label);
    }
    ui.ctx().set_theme(preference);
}

/// A menu entry with its keyboard shortcut shown at the right.
fn menu_entry(ui: &mut Ui, label: &str, shortcut: &egui::KeyboardShortcut) -> egui::Response {
    let keys = shortcuts::text(ui.ctx(), shortcut);
    ui.add(egui::Button::new(label).shortcut_text(keys))
}

/// An example as a two-line entry: its title, and under it a one-line summary; the
/// whole description on hover. What the menu says is read from the file once and kept
/// in egui's memory, not re-read every frame the menu is open.
fn example_entry_ui(ui: &mut Ui, path: &std::path::Path) -> egui::Response {
    let id = ui.scope_id().with(("example info", path));
    let info = ui
        .ctx()
        .data(|d| d.get_temp::<ExampleInfo>(id))
        .unwrap_or_else(|| {
            let info = ExampleInfo::read(path);
            ui.ctx().data_mut(|d| d.insert_temp(id, info.clone()));
            info
        });
    let mut job = egui::text::LayoutJob::default();
    let style = ui.style().clone();
    egui::RichText::new(&info.title).strong().append_to(
        &mut job,
        &style,
        egui::FontSelection::Default,
        egui::Align::LEFT,
    );
    egui::RichText::new(format!("\n{}", info.summary))
        .small()
        .weak()
        .append_to(
            &mut job,
            &style,
            egui::FontSelection::Default,
            egui::Align::LEFT,
        );
    ui.set_min_width(340.0);
    ui.add(egui::Button::new(job).wrap_mode(egui::TextWrapMode::Extend))
        .on_hover_text(format!("{}\n\n{}", info.description, file_label(path)))
}
