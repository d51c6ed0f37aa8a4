//! "Try it" for a shell spout or bolt: an editable sample tuple, a button that runs the
//! node's program once on it (in a fresh child, on a background thread), and what came
//! back — emits, the ack or fail, what it logged. The button names the command it will
//! run: pressing it is the consent.

use std::sync::mpsc::Receiver;

use egui::{RichText, TextEdit, Ui};

use crate::model::Node;
use crate::runtime::components::Tried;
use crate::ui::actions::Action;

/// The try of one node: its sample, and the run in progress or its result.
pub struct ShellTry {
    pub node: String,
    pub sample: String,
    pub running: Option<Receiver<Tried>>,
    pub result: Option<Tried>,
}

/// A first sample for a bolt: one text per input field.
fn default_sample(input_fields: &[String]) -> String {
    let values: Vec<String> = input_fields.iter().map(|f| format!("\"a {f}\"")).collect();
    if values.is_empty() {
        "[\"the cow jumped over the moon\"]".into()
    } else {
        format!("[{}]", values.join(", "))
    }
}

pub fn shell_try_ui(
    ui: &mut Ui,
    node: &Node,
    input_fields: &[String],
    state: &mut Option<ShellTry>,
) -> Option<Action> {
    let spout = !node.role.accepts_input();
    let current = state.get_or_insert_with(|| ShellTry {
        node: node.name.clone(),
        sample: default_sample(input_fields),
        running: None,
        result: None,
    });
    if current.node != node.name {
        *current = ShellTry {
            node: node.name.clone(),
            sample: default_sample(input_fields),
            running: None,
            result: None,
        };
    }
    if let Some(rx) = &current.running {
        match rx.try_recv() {
            Ok(tried) => {
                current.result = Some(tried);
                current.running = None;
            }
            Err(std::sync::mpsc::TryRecvError::Empty) => ui.ctx().request_repaint(),
            Err(std::sync::mpsc::TryRecvError::Disconnected) => current.running = None,
        }
    }
    ui.separator();
    ui.label(RichText::new("Try it").strong()).on_hover_text(
        "Runs the program once, outside any run, and shows what it does with one tuple",
    );
    if !spout {
        ui.horizontal(|ui| {
            let l = ui.label("Sample").id;
            ui.add(
                TextEdit::singleline(&mut current.sample)
                    .desired_width(180.0)
                    .font(egui::TextStyle::Monospace),
            )
            .labelled_by(l)
            .on_hover_text("The tuple's values as a JSON list");
        });
    }
    let command = crate::components::command_of(node);
    let shown = crate::policy::display_command(&command);
    // The command is shown in full before the button: pressing it is the consent to run
    // it, so the user sees what runs rather than finding it in a tooltip.
    ui.label(RichText::new(format!("runs: {shown}")).monospace().weak());
    let mut action = None;
    ui.add_enabled_ui(current.running.is_none() && !command.is_empty(), |ui| {
        let label = if spout {
            "Ask for one tuple"
        } else {
            "Send it"
        };
        if ui
            .button(label)
            .on_hover_text("Starts the program above once, outside any run, in the design's folder")
            .clicked()
        {
            action = Some(Action::TryShell {
                node: node.name.clone(),
                command: command.clone(),
                spout,
                sample: current.sample.clone(),
            });
        }
    });
    if current.running.is_some() {
        ui.label(RichText::new(format!("running {shown}…")).weak());
    }
    if let Some(tried) = &current.result {
        tried_ui(ui, tried, spout);
    }
    action
}

fn tried_ui(ui: &mut Ui, tried: &Tried, spout: bool) {
    if tried.emitted.is_empty() {
        ui.label("emitted nothing");
    }
    for (stream, values) in &tried.emitted {
        ui.monospace(format!("emit {stream}: {values}"));
    }
    match (spout, tried.outcome) {
        (false, Some(true)) => {
            ui.label("acked the tuple");
        }
        (false, Some(false)) => {
            ui.label("failed the tuple");
        }
        _ => {}
    }
    for line in &tried.said {
        ui.label(RichText::new(line).weak());
    }
    if let Some(problem) = &tried.problem {
        ui.label(
            RichText::new(problem).color(crate::ui::canvas::style::problem_color(ui.visuals())),
        );
    }
}
