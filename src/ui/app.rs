//! The designer window: panels around the canvas, and the loop that turns what the
//! user did into commands on the document.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use egui::{Key, Modifiers, Ui};

use super::actions::Action;
use super::batch_panel;
use super::canvas::{Canvas, CanvasAction, CanvasInput};
use super::compare_panel;
use super::inspector::{self, InspectorState};
use super::palette::{self, PaletteAction};
use super::problems_panel::{self, BottomTab};
use super::run::RunSession;
use super::side_panels::SidePanel;
use super::toolbar::{self, ToolbarState};
use crate::design::document::Document;
use crate::design::files::FilePlaces;
use crate::design::selection::Selection;
use crate::validate::{self, Diagnostic};

/// How often unsaved work is copied to the recovery file.
pub const RECOVERY_INTERVAL: Duration = Duration::from_secs(5);

/// What to do once the user has answered "save changes?".
#[derive(Debug, Clone, PartialEq)]
pub enum Pending {
    New,
    Open(Option<PathBuf>),
    OpenExample(PathBuf),
    OpenLesson(PathBuf),
    Import(Option<PathBuf>),
    Quit,
}

/// A message in the status bar; errors stay until dismissed or replaced.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    pub text: String,
    pub is_error: bool,
    pub at: Instant,
}

/// The whole designer. `ui` draws one frame; tests drive it through egui_kittest.
pub struct DesignerApp {
    pub doc: Document,
    pub selection: Selection,
    pub canvas: Canvas,
    pub places: FilePlaces,
    pub notice: Option<Notice>,
    /// A file that could not be opened: shown in a window until dismissed.
    pub open_error: Option<String>,
    /// An action waiting for the answer to "save changes?".
    pub pending: Option<Pending>,
    /// A question before replacing the design (stop the run? which Flume agent?).
    pub ask: Option<super::asks::Ask>,
    /// A recovery file found at start-up, offered to the user.
    pub recovery_offer: Option<PathBuf>,
    pub run: Option<RunSession>,
    /// Compare mode: the design running in both execution modes at once.
    pub compare: Option<super::compare::CompareSession>,
    /// The compare set-up dialog, while open.
    pub compare_setup: Option<super::compare::CompareSetup>,
    /// A run waiting for the user to allow paths or sockets outside its folder.
    pub run_permission: Option<super::run::RunPermission>,
    /// Programs the user allowed, by design file: asked before a command's first run
    /// only (`design::reach::all_remembered`).
    pub exec_consent: Vec<crate::design::reach::ExecConsent>,
    pub log: super::run_log::LogBook,
    /// A PNG export waiting for its screenshot.
    pub image_export: Option<super::image_export::PendingImage>,
    /// File → Export → Spark job, waiting for the user to read what it maps and refuses.
    pub spark_review: Option<super::spark_export::SparkReview>,
    pub(super) bottom_tab: BottomTab,
    pub(super) inspector: InspectorState,
    pub(super) clipboard: Option<String>,
    diagnostics: Vec<Diagnostic>,
    /// Why the design cannot be compared in both modes (`None`: it can), kept with the
    /// diagnostics so the toolbar does not validate two copies every frame.
    compare_refusal: Option<String>,
    /// Why the guarantees cannot be compared (`None`: they can), kept like the above.
    guarantees_refusal: Option<String>,
    /// The guarantees panel, while open.
    pub guarantees: Option<super::guarantees_panel::GuaranteesSession>,
    /// Why the design cannot be stepped in Lab mode, kept with the diagnostics.
    lab_refused: Option<String>,
    problems_by_node: BTreeMap<String, String>,
    checked_generation: Option<u64>,
    recovery_generation: u64,
    last_recovery: Instant,
    shown_title: String,
    pub(super) allow_close: bool,
    pub(super) quit_requested: bool,
    recent: Vec<PathBuf>,
    examples: Vec<PathBuf>,
    pub(super) side_panels: super::side_panels::SidePanels,
    /// The lesson being played, if any: its panel replaces the inspector.
    pub lesson: Option<super::lesson::LessonSession>,
    /// How far the learner got in each lesson (saved in the config folder).
    pub lesson_progress: super::lesson::progress::Progress,
    lessons: Vec<super::lesson::LessonEntry>,
}

impl DesignerApp {
    /// A designer with an empty document. `places` says where recent files and the
    /// recovery file live (tests pass a temp folder).
    pub fn new(places: FilePlaces) -> Self {
        let recent = places.recent();
        let examples = places.examples();
        let recovery_offer = places.pending_recovery();
        let lessons = super::lesson::list(
            super::lesson::lessons_dir(&places).as_deref(),
            &super::lesson::allowed_topologies(&places),
        );
        let lesson_progress = super::lesson::progress::Progress::load(&places);
        Self {
            doc: Document::untitled(),
            selection: Selection::default(),
            canvas: Canvas::default(),
            places,
            notice: None,
            open_error: None,
            pending: None,
            ask: None,
            recovery_offer,
            run: None,
            compare: None,
            compare_setup: None,
            run_permission: None,
            exec_consent: Vec::new(),
            log: Default::default(),
            image_export: None,
            spark_review: None,
            bottom_tab: BottomTab::default(),
            inspector: InspectorState::default(),
            clipboard: None,
            diagnostics: Vec::new(),
            compare_refusal: None,
            guarantees_refusal: None,
            guarantees: None,
            lab_refused: None,
            problems_by_node: BTreeMap::new(),
            checked_generation: None,
            recovery_generation: 0,
            last_recovery: Instant::now(),
            shown_title: String::new(),
            allow_close: false,
            quit_requested: false,
            recent,
            examples,
            side_panels: Default::default(),
            lesson: None,
            lesson_progress,
            lessons,
        }
    }

    /// What Copy put on the internal clipboard (RON text), if anything.
    pub fn clipboard_text(&self) -> Option<&str> {
        self.clipboard.as_deref()
    }

    /// Current validation results (recomputed when the design changes).
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }

    pub(super) fn refresh_places(&mut self) {
        self.recent = self.places.recent();
    }

    pub fn notify(&mut self, text: impl Into<String>) {
        self.notice = Some(Notice {
            text: text.into(),
            is_error: false,
            at: Instant::now(),
        });
    }

    pub fn notify_error(&mut self, text: impl Into<String>) {
        self.notice = Some(Notice {
            text: text.into(),
            is_error: true,
            at: Instant::now(),
        });
    }

    fn revalidate(&mut self) {
        if self.checked_generation == Some(self.doc.generation()) {
            return;
        }
        self.checked_generation = Some(self.doc.generation());
        self.diagnostics = validate::validate(&self.doc.topology);
        self.compare_refusal = if self.doc.topology.node_count() == 0 {
            Some("Nothing to compare yet: drag a spout or source from the palette".into())
        } else if !validate::is_runnable(&self.diagnostics) {
            Some("Fix the problems first".into())
        } else {
            let interval_ms =
                super::compare::CompareSetup::for_topology(&self.doc.topology).interval_ms;
            crate::runtime::compare::refusal(&self.doc.topology, interval_ms)
        };
        self.guarantees_refusal = match &self.compare_refusal {
            Some(why) if self.doc.topology.node_count() == 0 => Some(why.clone()),
            _ if !validate::is_runnable(&self.diagnostics) => Some("Fix the problems first".into()),
            _ => crate::runtime::guarantees::refusal(&self.doc.topology),
        };
        self.lab_refused = self.lab_refusal();
        self.problems_by_node.clear();
        for d in self.diagnostics.iter().filter(|d| d.is_error()) {
            for name in d.location.nodes() {
                self.problems_by_node
                    .entry(name.to_string())
                    .or_insert_with(|| {
                        let hint = if d.hint.is_empty() {
                            String::new()
                        } else {
                            format!("\nhint: {}", d.hint)
                        };
                        format!("{}{hint}", d.message)
                    });
            }
        }
        self.selection.prune(&self.doc.topology);
    }

    /// Draws one frame of the designer into `ui` (the whole window).
    pub fn ui(&mut self, ui: &mut Ui) {
        self.revalidate();
        self.canvas.lens.note_generation(self.doc.generation());
        let mut actions = self.shortcuts(ui);
        if let Some(lab) = self.run.as_mut().and_then(RunSession::lab_mut) {
            let dt = ui.ctx().input(|i| i.stable_dt);
            if lab.tick(dt) {
                ui.ctx().request_repaint();
            }
            lab.refresh_dots();
        }
        if let Some(run) = &mut self.run {
            run.poll(&mut self.log);
            ui.ctx().request_repaint_after(Duration::from_millis(100));
        }
        self.poll_lesson(ui.ctx());
        if let Some(compare) = self.compare.as_mut().filter(|c| c.is_running()) {
            compare.poll();
            ui.ctx().request_repaint_after(Duration::from_millis(100));
        }
        if let Some(g) = self.guarantees.as_mut().filter(|g| g.is_running()) {
            g.poll();
            ui.ctx().request_repaint_after(Duration::from_millis(100));
        }
        let busy = self.run.is_some() || self.comparing();
        let width = ui.ctx().content_rect().width();
        let palette_shown = self.side_panels.shown(SidePanel::Palette, width);
        let inspector_shown = self.side_panels.shown(SidePanel::Inspector, width);
        // egui folds a panel dragged past its minimum width (and unfolds it from its
        // edge handle); that is a choice too.
        let (mut palette_open, mut inspector_open) = (palette_shown, inspector_shown);

        egui::Panel::top("toolbar").show(ui, |ui| {
            ui.add_space(2.0);
            let state = ToolbarState {
                can_undo: self.doc.can_undo() && !busy,
                can_redo: self.doc.can_redo() && !busy,
                recent: &self.recent,
                examples: &self.examples,
                lessons: &self.lessons,
                lesson_progress: &self.lesson_progress,
                run: self.run.as_ref().map(RunSession::is_paused),
                can_run: self.doc.topology.node_count() > 0 && self.lesson.is_none(),
                comparing: self.comparing(),
                compare_refusal: self.lesson_refusal().or(self.compare_refusal.as_deref()),
                guarantees_refusal: self.lesson_refusal().or(self.guarantees_refusal.as_deref()),
                zoom: self.canvas.view.zoom,
                speed: self
                    .run
                    .as_ref()
                    .map_or_else(Default::default, RunSession::speed),
                palette_shown,
                inspector_shown,
                lab_refusal: self.lesson_refusal().or(self.lab_refused.as_deref()),
                lab: self
                    .run
                    .as_ref()
                    .and_then(RunSession::lab)
                    .map(super::lab::toolbar::LabBar::of),
            };
            actions.extend(toolbar::toolbar_ui(ui, &state));
        });
        egui::Panel::bottom("status").show(ui, |ui| self.status_bar_ui(ui));
        egui::Panel::bottom("problems")
            .resizable(true)
            .default_size(130.0)
            .min_size(60.0)
            .show(ui, |ui| {
                actions.extend(problems_panel::bottom_panel_ui(
                    ui,
                    &mut self.bottom_tab,
                    &self.doc.topology,
                    &self.diagnostics,
                    &mut self.log,
                ));
            });
        if let Some(g) = &mut self.guarantees {
            let topology = &self.doc.topology;
            egui::Panel::bottom("guarantees")
                .resizable(true)
                .default_size(220.0)
                .min_size(140.0)
                .show(ui, |ui| {
                    actions.extend(super::guarantees_panel::guarantees_panel_ui(
                        ui, g, topology,
                    ));
                });
        }
        if let Some(compare) = &self.compare {
            egui::Panel::bottom("compare")
                .resizable(true)
                .default_size(300.0)
                .min_size(160.0)
                .show(ui, |ui| {
                    actions.extend(compare_panel::compare_panel_ui(ui, compare));
                });
        }
        let cluster_controls = super::cluster_panel::cluster_panel_ui(
            ui,
            &self.doc.topology,
            self.run.as_ref().map(RunSession::snapshot),
        );
        if let Some(run) = &mut self.run {
            for control in cluster_controls {
                run.send(control);
            }
        }
        actions.extend(batch_panel::strip_panel_ui(
            ui,
            &self.doc.topology,
            self.run.as_ref().and_then(|r| r.last.batch.as_ref()),
            self.run.is_some(),
        ));
        egui::Panel::left("palette")
            .resizable(true)
            .default_size(190.0)
            .show_collapsible(ui, &mut palette_open, |ui| {
                ui.add_space(4.0);
                ui.heading("Palette");
                ui.label(egui::RichText::new("Drag onto the canvas").small().weak());
                if let Some(PaletteAction::AddAtCenter { id, role }) = palette::palette_ui(ui) {
                    let center = super::canvas::grid::snap(
                        self.canvas.center_in_canvas() - super::canvas::style::NODE_SIZE / 2.0,
                    );
                    let pos = crate::model::Pos(center.x, center.y);
                    actions.extend(
                        super::canvas::edits::new_node_action(&self.doc.topology, id, role, pos)
                            .into_iter()
                            .map(canvas_to_app),
                    );
                }
            });
        // A lesson's panel takes the inspector's place; the inspector folds meanwhile.
        let lesson_on = self.lesson_panel_ui(ui, &mut actions);
        let mut inspector_here = inspector_open && !lesson_on;
        egui::Panel::right("inspector")
            .resizable(true)
            .default_size(290.0)
            .show_collapsible(ui, &mut inspector_here, |ui| {
                ui.add_space(4.0);
                ui.heading("Inspector");
                egui::ScrollArea::vertical().show(ui, |ui| {
                    // While running, the live numbers come first; the form below stays
                    // readable but locked, because the run uses the topology.
                    if let Some(run) = &mut self.run {
                        actions.extend(run.inspector_ui(ui, &self.doc.topology, &self.selection));
                        ui.separator();
                    }
                    actions.extend(inspector::lens_section::lens_section_ui(
                        ui,
                        &self.doc.topology,
                        &self.selection,
                        &mut self.canvas.lens,
                    ));
                    let form = ui.add_enabled_ui(!busy, |ui| {
                        inspector::inspector_ui(
                            ui,
                            &self.doc.topology,
                            &self.selection,
                            &mut self.inspector,
                        )
                    });
                    actions.extend(form.inner);
                });
            });
        if !lesson_on {
            inspector_open = inspector_here;
        }
        if palette_open != palette_shown {
            self.side_panels.set(SidePanel::Palette, palette_open);
        }
        if inspector_open != inspector_shown {
            self.side_panels.set(SidePanel::Inspector, inspector_open);
        }
        if let Some(lab) = self.run.as_mut().and_then(RunSession::lab_mut) {
            actions.extend(super::lab::lab_panels_ui(ui, lab));
        }
        egui::CentralPanel::no_frame().show(ui, |ui| {
            let overlay = self
                .run
                .as_ref()
                .map(|r| r.overlay_on(&self.doc.topology))
                .or_else(|| self.lesson.as_ref().and_then(|l| l.overlay.clone()));
            let lab = self.run.as_ref().and_then(RunSession::lab);
            let input = CanvasInput {
                topology: &self.doc.topology,
                selection: &self.selection,
                problems: &self.problems_by_node,
                overlay: overlay.as_ref(),
                tuples: lab.and_then(super::lab::LabSession::tuple_dots),
            };
            actions.extend(
                self.canvas
                    .canvas_ui(ui, &input)
                    .into_iter()
                    .map(canvas_to_app),
            );
        });

        self.poll_image_export(ui.ctx());
        actions.extend(self.dialogs_ui(ui));
        if let Some(setup) = &mut self.compare_setup
            && let Some(answer) = compare_panel::compare_setup_ui(ui.ctx(), setup)
        {
            self.compare_setup = None;
            actions.extend(answer.map(Action::StartCompare));
        }
        for action in actions {
            self.perform(ui.ctx(), action);
        }
        self.revalidate();
        self.keep_recovery_file();
        self.update_title(ui.ctx());
        self.handle_close_request(ui.ctx());
        if std::mem::take(&mut self.quit_requested) {
            ui.ctx().send_viewport_cmd(egui::ViewportCommand::Close);
        }
    }

    fn poll_image_export(&mut self, ctx: &egui::Context) {
        let Some(pending) = &mut self.image_export else {
            return;
        };
        match pending.poll(ctx, self.canvas.last_rect) {
            None => {}
            Some(Ok(path)) => {
                self.image_export = None;
                self.notify(format!("Exported PNG image to {}", path.display()));
            }
            Some(Err(e)) => {
                self.image_export = None;
                self.notify_error(format!("Image not exported: {e}"));
            }
        }
    }

    fn status_bar_ui(&mut self, ui: &mut Ui) {
        ui.horizontal(|ui| {
            let t = &self.doc.topology;
            ui.label(format!(
                "{}, {}",
                super::words::plural(t.node_count(), "node"),
                super::words::plural(t.edge_count(), "edge")
            ));
            ui.separator();
            // Where a run's relative paths land: the file's folder, an example's copy.
            let outputs = self.doc.base_dir();
            let folder = crate::design::document::file_label(&outputs);
            ui.label(egui::RichText::new(format!("outputs in {folder}")).weak())
                .on_hover_text(format!("A run reads and writes relative paths in {}", outputs.display()));
            ui.separator();
            if let Some(n) = &self.notice {
                let color = if n.is_error { super::canvas::style::problem_color(ui.visuals()) } else { ui.visuals().text_color() };
                ui.label(egui::RichText::new(&n.text).color(color));
                if n.is_error && ui.small_button("✖").on_hover_text("Dismiss").clicked() {
                    self.notice = None;
                }
            } else {
                ui.label(egui::RichText::new("Drag from the palette · drag an output port onto an input port to connect · Shift+drag to box-select · F to fit").weak());
            }
        });
    }

    /// Keyboard shortcuts, unless a text field has the keyboard.
    fn shortcuts(&mut self, ui: &Ui) -> Vec<Action> {
        let mut actions = Vec::new();
        let ctx = ui.ctx();
        let typing = ctx.egui_wants_keyboard_input();
        let lab_on = self.run.as_ref().is_some_and(|r| r.lab().is_some());
        ctx.input_mut(|i| {
            use super::shortcuts as keys;
            if i.consume_shortcut(&keys::SAVE_AS) {
                actions.push(Action::SaveAs(None));
            }
            if i.consume_shortcut(&keys::SAVE) {
                actions.push(Action::Save);
            }
            if i.consume_shortcut(&keys::OPEN) {
                actions.push(Action::Open(None));
            }
            if i.consume_shortcut(&keys::NEW) {
                actions.push(Action::New);
            }
            if typing {
                return;
            }
            if i.consume_shortcut(&keys::REDO_ALT) || i.consume_shortcut(&keys::REDO) {
                actions.push(Action::Redo);
            }
            if i.consume_shortcut(&keys::UNDO) {
                actions.push(Action::Undo);
            }
            if i.consume_shortcut(&keys::SELECT_ALL) {
                actions.push(Action::SelectAll);
            }
            if lab_on {
                super::lab::lab_keys(i, &mut actions);
            }
            if i.consume_key(Modifiers::NONE, Key::Delete)
                || i.consume_key(Modifiers::NONE, Key::Backspace)
            {
                actions.push(Action::Delete);
            }
            if i.consume_shortcut(&keys::FIT) {
                actions.push(Action::Fit);
            }
            if i.consume_shortcut(&keys::AUTO_LAYOUT) {
                actions.push(Action::AutoLayout);
            }
            if i.consume_shortcut(&keys::STOP) {
                actions.push(Action::Stop);
            } else if i.consume_shortcut(&keys::RUN) {
                actions.push(Action::Run);
            }
            for event in &i.events {
                match event {
                    egui::Event::Copy => actions.push(Action::Copy),
                    egui::Event::Cut => {
                        actions.push(Action::Copy);
                        actions.push(Action::Delete);
                    }
                    egui::Event::Paste(text) => actions.push(Action::Paste(Some(text.clone()))),
                    _ => {}
                }
            }
        });
        actions
    }

    fn keep_recovery_file(&mut self) {
        if self.last_recovery.elapsed() < RECOVERY_INTERVAL {
            return;
        }
        self.last_recovery = Instant::now();
        if !self.doc.is_dirty() || self.recovery_generation == self.doc.generation() {
            return;
        }
        self.recovery_generation = self.doc.generation();
        if let Err(e) = self
            .places
            .write_recovery(&self.doc.topology, self.doc.path.as_deref())
        {
            self.notify_error(format!("could not write the recovery file: {e}"));
        }
    }

    fn update_title(&mut self, ctx: &egui::Context) {
        let title = self.doc.title();
        if title != self.shown_title {
            ctx.send_viewport_cmd(egui::ViewportCommand::Title(title.clone()));
            self.shown_title = title;
        }
    }

    fn handle_close_request(&mut self, ctx: &egui::Context) {
        if ctx.input(|i| i.viewport().close_requested()) && self.doc.is_dirty() && !self.allow_close
        {
            ctx.send_viewport_cmd(egui::ViewportCommand::CancelClose);
            self.pending = Some(Pending::Quit);
        }
    }
}

fn canvas_to_app(action: CanvasAction) -> Action {
    match action {
        CanvasAction::Apply(command) => Action::apply(command),
        CanvasAction::Select(selection) => Action::Select(selection),
        CanvasAction::Refused(reason) => Action::Refused(reason),
    }
}

impl eframe::App for DesignerApp {
    fn ui(&mut self, ui: &mut Ui, _frame: &mut eframe::Frame) {
        DesignerApp::ui(self, ui);
    }

    fn on_exit(&mut self) {
        if let Some(run) = self.run.take() {
            run.stop();
        }
        if let Some(compare) = &mut self.compare {
            compare.stop();
        }
        if !self.doc.is_dirty() {
            self.places.clear_recovery();
        }
    }
}
