//! Opening, playing and closing a lesson in the designer: the one place the lesson
//! session and the document meet. Opening goes through `ask_then` like New, so the
//! user's unsaved design is never lost.

use std::path::Path;

use super::{LessonAction, LessonSession};
use crate::design::document::Document;
use crate::ui::app::DesignerApp;

impl DesignerApp {
    /// Opens the lesson in `path` (the unsaved-changes question already answered):
    /// refused with every problem shown, or its design becomes the document.
    pub(in crate::ui) fn open_lesson(&mut self, path: &Path) {
        let Some(data) = self.places.data_dir.clone() else {
            self.open_error = Some("No data folder to play the lesson in".into());
            return;
        };
        let allowed = super::allowed_topologies(&self.places);
        match LessonSession::open(path, &data.join("lessons"), &allowed) {
            Ok(session) => {
                self.stop_run();
                let name = format!("{} (lesson)", session.lesson.title);
                self.replace_document(Document::new(session.design.clone(), None, name));
                self.lesson = Some(session);
                self.show_lesson_highlights();
            }
            Err(e) => self.open_error = Some(format!("The lesson cannot be opened:\n{e}")),
        }
    }

    /// Carries out what the lesson panel asked.
    pub(in crate::ui) fn perform_lesson(&mut self, action: LessonAction) {
        let Some(session) = &mut self.lesson else {
            return;
        };
        match action {
            LessonAction::DoStep => session.start_play(),
            LessonAction::Next => {
                if session.shown_played() && session.shown + 1 < session.step_count() {
                    session.shown += 1;
                }
            }
            LessonAction::Previous => session.shown = session.shown.saturating_sub(1),
            LessonAction::Close => {
                self.lesson = None;
                self.selection = Default::default();
                return;
            }
        }
        self.show_lesson_highlights();
    }

    /// Takes in a step that finished playing: its design on the canvas, the progress
    /// saved. Asks for frames while a step plays.
    pub(in crate::ui) fn poll_lesson(&mut self, ctx: &egui::Context) {
        let Some(session) = &mut self.lesson else {
            return;
        };
        if session.is_playing() {
            ctx.request_repaint_after(std::time::Duration::from_millis(50));
        }
        match session.poll() {
            None => {}
            Some(Ok(changed)) => {
                let (played, path) = (session.played(), session.path.clone());
                if changed {
                    let name = self.doc.display_name.clone();
                    self.doc = Document::new(session.design.clone(), None, name);
                }
                if let Err(e) = self.lesson_progress.record(&path, played) {
                    self.notify_error(e);
                }
                self.show_lesson_highlights();
            }
            Some(Err(e)) => self.notify_error(e),
        }
    }

    /// Draws the lesson panel on the right, if a lesson is on; returns whether it is.
    pub(in crate::ui) fn lesson_panel_ui(
        &mut self,
        ui: &mut egui::Ui,
        actions: &mut Vec<crate::ui::actions::Action>,
    ) -> bool {
        let Some(session) = &mut self.lesson else {
            return false;
        };
        egui::Panel::right("lesson")
            .resizable(true)
            .default_size(340.0)
            .show(ui, |ui| {
                ui.add_space(4.0);
                egui::ScrollArea::vertical().show(ui, |ui| {
                    actions.extend(
                        super::panel::lesson_panel_ui(ui, session)
                            .into_iter()
                            .map(crate::ui::actions::Action::Lesson),
                    );
                });
            });
        true
    }

    /// Why Run, Lab and Compare are off: the lesson's own run drives the canvas.
    pub(in crate::ui) fn lesson_refusal(&self) -> Option<&'static str> {
        self.lesson
            .as_ref()
            .map(|_| "Close the lesson to run the design")
    }

    /// Selects what the shown step talks about and shows the tasks it names.
    fn show_lesson_highlights(&mut self) {
        if let Some(session) = &self.lesson {
            let (selection, lens) = session.highlights();
            self.selection = selection;
            for node in lens {
                self.canvas.lens.set(&node, true);
            }
        }
    }
}
