//! The lab toolbar, shown in the main toolbar's run controls while a lab is on: Step,
//! Step 10, Back, Play/Pause with a speed, Run until, where the lab is, and Stop lab.

use std::time::Duration;

use egui::{Slider, Ui};

use super::{LabAction, SPEEDS, until_label};
use crate::runtime::lab::Until;
use crate::ui::actions::Action;

/// What the lab toolbar shows, read from the lab each frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LabBar {
    pub steps: u64,
    /// Virtual time since the lab started.
    pub elapsed: Duration,
    pub can_back: bool,
    pub playing: bool,
    pub speed: f64,
    /// The tree the tree panel shows (for "this tree done").
    pub selected: Option<u64>,
}

impl LabBar {
    pub fn of(lab: &super::LabSession) -> LabBar {
        LabBar {
            steps: lab.engine.steps(),
            elapsed: lab.engine.elapsed(),
            can_back: lab.engine.can_step_back(),
            playing: lab.playing,
            speed: lab.speed,
            selected: lab.selected,
        }
    }
}

pub fn lab_toolbar_ui(ui: &mut Ui, bar: &LabBar, actions: &mut Vec<Action>) {
    let mut lab = |a| actions.push(Action::Lab(a));
    if ui
        .button("Step")
        .on_hover_text("Take one event (Space)")
        .clicked()
    {
        lab(LabAction::Step(1));
    }
    if ui
        .button("Step 10")
        .on_hover_text("Take ten events (Shift+Space)")
        .clicked()
    {
        lab(LabAction::Step(10));
    }
    if ui
        .add_enabled(bar.can_back, egui::Button::new("Back"))
        .on_hover_text("Go back one event (Backspace): the lab re-runs to the step before")
        .on_disabled_hover_text("At step 0: nothing to go back to")
        .clicked()
    {
        lab(LabAction::Back);
    }
    if bar.playing {
        if ui.button("⏸ Pause").clicked() {
            lab(LabAction::Play(false));
        }
    } else if ui
        .button("▶ Play")
        .on_hover_text("Take events one after another at the speed on the right")
        .clicked()
    {
        lab(LabAction::Play(true));
    }
    let mut speed = bar.speed;
    let slider = ui
        .add(
            Slider::new(&mut speed, SPEEDS)
                .logarithmic(true)
                .integer()
                .suffix(" events/s"),
        )
        .on_hover_text("Play speed");
    if slider.changed() {
        lab(LabAction::Speed(speed));
    }
    ui.menu_button("Run until", |ui| {
        for until in [
            Until::Emitted,
            Until::Acked,
            Until::Failed,
            Until::Timeout,
            Until::Window,
        ] {
            if ui.button(until_label(until)).clicked() {
                lab(LabAction::RunUntil(until));
            }
        }
        let this_tree = bar.selected.map(Until::TreeDone);
        if ui
            .add_enabled(
                this_tree.is_some(),
                egui::Button::new(until_label(Until::TreeDone(0))),
            )
            .on_hover_text("Until the tree in the tree panel is acked or fails")
            .on_disabled_hover_text("Select a tree first (Trace the next tree)")
            .clicked()
            && let Some(until) = this_tree
        {
            lab(LabAction::RunUntil(until));
        }
    });
    ui.label(format!(
        "step {} · {:.3} s",
        bar.steps,
        bar.elapsed.as_secs_f64()
    ))
    .on_hover_text("Events taken, and the lab's virtual time (each event takes 1 ms)");
    if ui
        .button("⏹ Stop lab")
        .on_hover_text("Leave Lab mode (Shift+F5)")
        .clicked()
    {
        actions.push(Action::Stop);
    }
}
