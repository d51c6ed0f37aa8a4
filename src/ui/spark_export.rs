//! File → Export → Spark job: before anything is written, a dialog lists what the job
//! will do differently (caveats) and what stops the export (refusals, validation errors
//! among them), each naming its node. Export writes only from a design without refusals.

use std::path::PathBuf;

use egui::{Context, Id, Modal, RichText, ScrollArea};

use super::app::DesignerApp;
use crate::format::{ExportTarget, spark};
use crate::model::Topology;
use crate::validate;

/// What the dialog shows: the design judged once, when the export was asked for.
#[derive(Debug, Clone)]
pub struct SparkReview {
    /// Where to write; `None` asks with a file dialog after the user confirms.
    pub path: Option<PathBuf>,
    pub caveats: Vec<String>,
    pub refusals: Vec<String>,
}

impl SparkReview {
    /// Validation errors and the Spark plan's refusals and caveats, in that order.
    pub fn of(topology: &Topology, path: Option<PathBuf>) -> Self {
        let mut refusals: Vec<String> = validate::validate(topology)
            .iter()
            .filter(|d| d.is_error())
            .map(|d| d.to_string())
            .collect();
        let plan = spark::review(topology);
        refusals.extend(plan.refusals().map(spark::Note::message));
        SparkReview {
            path,
            caveats: plan.caveats().map(spark::Note::message).collect(),
            refusals,
        }
    }
}

enum Answer {
    Export,
    Cancel,
}

impl DesignerApp {
    /// Opens the review instead of exporting straight away.
    pub(super) fn review_spark_export(&mut self, path: Option<PathBuf>) {
        self.spark_review = Some(SparkReview::of(&self.doc.topology, path));
    }

    pub(super) fn spark_review_ui(&mut self, ctx: &Context) {
        let Some(review) = self.spark_review.clone() else {
            return;
        };
        let mut answer = None;
        Modal::new(Id::unique("spark-export-review")).show(ctx, |ui| {
            ui.set_max_width(640.0);
            ui.heading("Export as a Spark job");
            ui.label(format!(
                "A PySpark {} Structured Streaming script, one function per node.",
                spark::PYSPARK_VERSION
            ));
            ScrollArea::vertical().max_height(420.0).show(ui, |ui| {
                if !review.refusals.is_empty() {
                    ui.add_space(6.0);
                    ui.label(
                        RichText::new(format!(
                            "Refused ({}): change the design first",
                            review.refusals.len()
                        ))
                        .strong()
                        .color(super::canvas::style::problem_color(ui.visuals())),
                    );
                    for r in &review.refusals {
                        ui.label(format!("- {r}"));
                    }
                }
                ui.add_space(6.0);
                if review.caveats.is_empty() {
                    ui.label("Every node maps to Spark as it runs here.");
                } else {
                    ui.label(
                        RichText::new(format!(
                            "Mapped with a caveat ({}): the job says so beside each node",
                            review.caveats.len()
                        ))
                        .strong(),
                    );
                    for c in &review.caveats {
                        ui.label(format!("- {c}"));
                    }
                }
            });
            ui.add_space(8.0);
            ui.horizontal(|ui| {
                let can = review.refusals.is_empty();
                if ui.add_enabled(can, egui::Button::new("Export…")).clicked() {
                    answer = Some(Answer::Export);
                }
                if ui.button("Cancel").clicked() {
                    answer = Some(Answer::Cancel);
                }
            });
        });
        match answer {
            Some(Answer::Export) => {
                self.spark_review = None;
                self.write_export(ExportTarget::Spark, review.path);
            }
            Some(Answer::Cancel) => {
                self.spark_review = None;
                self.notify("Spark export cancelled");
            }
            None => {}
        }
    }
}
