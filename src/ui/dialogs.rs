//! Modal questions and error windows: unsaved changes, files that failed to open, and
//! work recovered from a crash.

use egui::{Id, Modal, RichText, Ui};

use super::actions::Action;
use super::app::{DesignerApp, Pending};
use crate::design::document::Document;
use crate::format;

impl DesignerApp {
    pub(super) fn dialogs_ui(&mut self, ui: &mut Ui) -> Vec<Action> {
        let actions = Vec::new();
        let ctx = ui.ctx().clone();
        self.asks_ui(&ctx);
        self.spark_review_ui(&ctx);
        if let Some(next) = self.pending.clone() {
            let mut answer = None;
            Modal::new(Id::unique("unsaved-changes")).show(&ctx, |ui| {
                ui.set_max_width(380.0);
                ui.heading("Save changes?");
                ui.label(format!(
                    "{} has unsaved changes. Save them first?",
                    self.doc.display_name
                ));
                ui.add_space(8.0);
                ui.horizontal(|ui| {
                    if ui.button("Save").clicked() {
                        answer = Some(Answer::Save);
                    }
                    if ui.button("Don't save").clicked() {
                        answer = Some(Answer::Discard);
                    }
                    if ui.button("Cancel").clicked() {
                        answer = Some(Answer::Cancel);
                    }
                });
            });
            match answer {
                Some(Answer::Save) => {
                    self.pending = None;
                    if self.save() {
                        self.proceed(next);
                    }
                }
                Some(Answer::Discard) => {
                    self.pending = None;
                    self.places.clear_recovery();
                    self.proceed(next);
                }
                Some(Answer::Cancel) => {
                    self.pending = None;
                    if next == Pending::Quit {
                        self.allow_close = false;
                    }
                }
                None => {}
            }
        }

        if let Some(permission) = self.run_permission.clone() {
            let mut answer = None;
            Modal::new(Id::unique("run-permission")).show(&ctx, |ui| {
                ui.set_max_width(520.0);
                let (programs, others): (Vec<_>, Vec<_>) = permission
                    .refusals
                    .iter()
                    .partition(|r| matches!(r, crate::policy::Refusal::Exec { .. }));
                ui.heading(if programs.is_empty() {
                    "Allow this run to go beyond its folder?"
                } else {
                    "Allow this topology to run programs?"
                });
                if !programs.is_empty() {
                    ui.label(
                        "Its shell components start these programs, which run with all your \
                         permissions. Read their scripts first if the file is not yours:",
                    );
                    for r in &programs {
                        ui.monospace(r.describe());
                    }
                }
                if !others.is_empty() {
                    ui.label(format!(
                        "The topology works in {}. These settings reach outside it, into \
                         hidden places, or onto the network:",
                        self.doc.base_dir().display()
                    ));
                    for r in &others {
                        ui.monospace(r.describe());
                    }
                }
                ui.label(
                    RichText::new(if programs.is_empty() {
                        "Allowed for this run only."
                    } else {
                        "Programs stay allowed for this design until their command changes; \
                         anything else is allowed for this run only."
                    })
                    .weak(),
                );
                ui.horizontal(|ui| {
                    if ui.button("Allow once and run").clicked() {
                        answer = Some(true);
                    }
                    if ui.button("Cancel").clicked() {
                        answer = Some(false);
                    }
                });
            });
            match answer {
                Some(true) => {
                    self.run_permission = None;
                    self.remember_exec(&permission.refusals);
                    match permission.compare {
                        Some(setup) => self.launch_compare(setup, &permission.refusals),
                        None if permission.lab => self.launch_lab(&permission.refusals),
                        None => self.launch(&permission.refusals),
                    }
                }
                Some(false) => {
                    self.run_permission = None;
                    self.notify("Run cancelled");
                }
                None => {}
            }
        }

        if let Some(error) = self.open_error.clone() {
            let mut close = false;
            Modal::new(Id::unique("open-error")).show(&ctx, |ui| {
                ui.set_max_width(520.0);
                ui.heading("Could not open the file");
                ui.label(
                    RichText::new(&error)
                        .monospace()
                        .color(super::canvas::style::problem_color(ui.visuals())),
                );
                ui.label("Your current work is unchanged.");
                ui.add_space(6.0);
                if ui.button("OK").clicked() {
                    close = true;
                }
            });
            if close {
                self.open_error = None;
            }
        }

        if let Some(path) = self.recovery_offer.clone()
            && self.pending.is_none()
        {
            let mut answer = None;
            Modal::new(Id::unique("recovery")).show(&ctx, |ui| {
                ui.set_max_width(420.0);
                ui.heading("Recover unsaved work?");
                ui.label("Tributary did not close cleanly last time. A copy of the unsaved design was kept.");
                ui.horizontal(|ui| {
                    if ui.button("Recover").clicked() {
                        answer = Some(true);
                    }
                    if ui.button("Discard").clicked() {
                        answer = Some(false);
                    }
                });
            });
            match answer {
                Some(true) => {
                    self.recovery_offer = None;
                    match format::load_ron(&path) {
                        Ok(t) => {
                            let mut doc = Document::new(t, None, "Recovered".into());
                            // Recovered work is not on disk anywhere the user chose.
                            doc.force_dirty();
                            self.doc = doc;
                            self.canvas.request_fit();
                        }
                        Err(e) => self.open_error = Some(e.to_string()),
                    }
                }
                Some(false) => {
                    self.recovery_offer = None;
                    self.places.clear_recovery();
                }
                None => {}
            }
        }
        actions
    }
}

enum Answer {
    Save,
    Discard,
    Cancel,
}
