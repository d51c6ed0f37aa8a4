//! The Lessons menu: each shipped lesson with how far the learner got.

use egui::Ui;

use super::LessonEntry;
use super::progress::Progress;
use crate::ui::actions::Action;

/// The menu's label for a lesson: its title and "done", "step k of n" or "n steps".
pub fn entry_label(entry: &LessonEntry, progress: &Progress) -> String {
    if entry.problem {
        return format!("{} (has problems)", entry.title);
    }
    let done = progress.of(&entry.path);
    let status = if done >= entry.steps && entry.steps > 0 {
        "done".to_string()
    } else if done > 0 {
        format!("step {} of {}", done + 1, entry.steps)
    } else {
        format!("{} steps", entry.steps)
    };
    format!("{}  ·  {status}", entry.title)
}

/// Draws the menu (inside the toolbar).
pub fn lessons_menu_ui(
    ui: &mut Ui,
    lessons: &[LessonEntry],
    progress: &Progress,
    actions: &mut Vec<Action>,
) {
    ui.menu_button("Lessons", |ui| {
        if lessons.is_empty() {
            ui.label(egui::RichText::new("no lessons/ folder found").weak());
        }
        for entry in lessons {
            if ui.button(entry_label(entry, progress)).clicked() {
                actions.push(Action::OpenLesson(entry.path.clone()));
            }
        }
    });
}
