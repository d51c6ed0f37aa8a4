//! The lesson panel, in the inspector's place while a lesson is on: the title and
//! concepts, the shown step's text and actions, the learner's prediction, then what the
//! run revealed (the answer with its explanation, expectations with the value the run
//! gave), and the buttons that move through the lesson.

use egui::{RichText, Ui};

use super::markdown::markdown_ui;
use super::{LessonAction, LessonSession, Prediction, action_words};
use crate::lesson::{Answer, Check, Outcome, StepReport};
use egui::Color32;

const RIGHT: Color32 = Color32::from_rgb(0x40, 0xb0, 0x60);

/// Draws the panel; the app carries out what it returns.
pub fn lesson_panel_ui(ui: &mut Ui, s: &mut LessonSession) -> Vec<LessonAction> {
    let mut actions = Vec::new();
    let lesson = s.lesson.clone();
    ui.heading(&lesson.title);
    ui.label(RichText::new(lesson.concepts.join(" · ")).small().weak());
    ui.separator();
    let n = lesson.steps.len();
    let Some(step) = lesson.steps.get(s.shown) else {
        return actions;
    };
    ui.label(RichText::new(format!("Step {} of {n}", s.shown + 1)).strong());
    markdown_ui(ui, &step.text);
    if !step.actions.is_empty() {
        ui.label(RichText::new("This step will:").small().weak());
        for a in &step.actions {
            ui.label(format!("  · {}", action_words(a)));
        }
    }
    ui.add_space(4.0);
    let question = match &step.check {
        Some(Check::Question(a)) => Some(a),
        _ => None,
    };
    if let Some(report) = s.reports.get(s.shown) {
        let prediction = s.predictions.get(s.shown).cloned().unwrap_or_default();
        report_ui(ui, report, &prediction);
    } else {
        let ready = match question {
            Some(q) => prediction_ui(ui, q, s),
            None => true,
        };
        let button = ui.add_enabled(ready && !s.is_playing(), egui::Button::new("Do this step"));
        if s.is_playing() {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("Playing the step…");
            });
        }
        if button.clicked() {
            actions.push(LessonAction::DoStep);
        }
        if !ready {
            ui.label(
                RichText::new("Predict first, then do the step.")
                    .small()
                    .weak(),
            );
        }
    }
    ui.add_space(8.0);
    ui.horizontal(|ui| {
        if ui
            .add_enabled(s.shown > 0, egui::Button::new("Previous step"))
            .clicked()
        {
            actions.push(LessonAction::Previous);
        }
        if ui
            .add_enabled(
                s.shown_played() && s.shown + 1 < n,
                egui::Button::new("Next step"),
            )
            .clicked()
        {
            actions.push(LessonAction::Next);
        }
        if ui.button("Close lesson").clicked() {
            actions.push(LessonAction::Close);
        }
    });
    if s.is_done() && s.shown + 1 >= n {
        ui.label(RichText::new("Lesson done.").strong().color(RIGHT));
    }
    actions
}

/// Asks for the prediction; returns whether one has been made.
fn prediction_ui(ui: &mut Ui, question: &Answer, s: &mut LessonSession) -> bool {
    ui.label(RichText::new("Your prediction:").strong());
    match question {
        Answer::TaskOf { node, .. } => {
            let tasks = crate::runtime::plan::compile(&s.design)
                .map(|p| p.tasks_of(node))
                .unwrap_or_default();
            ui.horizontal_wrapped(|ui| {
                for t in tasks {
                    let on = s.prediction == Prediction::Task(t);
                    if ui.selectable_label(on, format!("task {t}")).clicked() {
                        s.prediction = Prediction::Task(t);
                    }
                }
            });
            matches!(s.prediction, Prediction::Task(_))
        }
        Answer::Count(_) => {
            let mut text = match &s.prediction {
                Prediction::Number(t) => t.clone(),
                _ => String::new(),
            };
            ui.add(egui::TextEdit::singleline(&mut text).hint_text("a number"));
            s.prediction = Prediction::Number(text.clone());
            text.trim().parse::<f64>().is_ok()
        }
        Answer::Holds(_) => {
            ui.horizontal(|ui| {
                for (label, v) in [("Yes", true), ("No", false)] {
                    let on = s.prediction == Prediction::YesNo(v);
                    if ui.selectable_label(on, label).clicked() {
                        s.prediction = Prediction::YesNo(v);
                    }
                }
            });
            matches!(s.prediction, Prediction::YesNo(_))
        }
    }
}

/// Whether the prediction matches the answer.
pub fn prediction_right(prediction: &Prediction, answer: &Outcome) -> Option<bool> {
    match (prediction, answer) {
        (Prediction::Task(t), Outcome::Task { task, .. }) => Some(t == task),
        (Prediction::Number(text), Outcome::Number(v)) => {
            text.trim().parse::<f64>().ok().map(|p| p == *v)
        }
        (Prediction::YesNo(p), Outcome::YesNo { holds, .. }) => Some(p == holds),
        _ => None,
    }
}

fn report_ui(ui: &mut Ui, report: &StepReport, prediction: &Prediction) {
    if let Some(answer) = &report.answer {
        let text = match answer {
            Outcome::Task {
                task, explanation, ..
            } => format!("**Answer: task {task}.** {explanation}"),
            Outcome::Number(v) => format!("**Answer: {}**", number(*v)),
            Outcome::YesNo { holds, value } => format!(
                "**Answer: {}** (the run gave {})",
                if *holds { "yes" } else { "no" },
                number(*value)
            ),
        };
        markdown_ui(ui, &text);
        match prediction_right(prediction, answer) {
            Some(true) => {
                ui.label(RichText::new("✔ Your prediction was right").color(RIGHT));
            }
            Some(false) => {
                ui.label(
                    RichText::new("✖ Your prediction was wrong").color(ui.visuals().error_fg_color),
                );
            }
            None => {}
        }
    }
    for (e, value, ok) in &report.expectations {
        let (mark, colour) = if *ok {
            ("✔", RIGHT)
        } else {
            ("✖", ui.visuals().error_fg_color)
        };
        ui.label(
            RichText::new(format!(
                "{mark} {} {} {} (the run gave {})",
                format!("{:?}", e.0).replace('"', ""),
                e.1.symbol(),
                number(e.2),
                number(*value)
            ))
            .color(colour),
        );
    }
    if report.answer.is_none() && report.expectations.is_empty() {
        ui.label(RichText::new("Done.").weak());
    }
}

fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}
