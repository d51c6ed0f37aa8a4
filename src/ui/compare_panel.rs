//! The comparison panel (both runs' throughput and end-to-end latency, now and over
//! time) and the small dialog that sets a comparison up.

use egui::{Color32, Grid, Id, Modal, RichText, Slider, Ui};
use egui_plot::{Legend, Line, LineStyle, Plot, PlotPoints};

use super::actions::Action;
use super::compare::{CompareSession, CompareSetup, LivePoint, ModeSide};
use super::log_axis;

const RECORD_COLOR: Color32 = Color32::from_rgb(0x4a, 0x8c, 0xf0);
const BATCH_COLOR: Color32 = Color32::from_rgb(0xe0, 0x8c, 0x30);

/// What the two runs show, in one line.
pub const EXPLANATION: &str = "Both runs get the same input. Record-at-a-time moves each \
tuple on as soon as it is emitted, so latency is the time through the pipeline; \
micro-batch holds records until their batch closes, trading latency (about half an \
interval plus the batch's processing) for less overhead per record.";

/// The table's columns and what each measures: the header's hover text and the "What
/// the columns mean" list under the table both read this.
const COLUMNS: &[(&str, &str)] = &[
    ("mode", ""),
    (
        "records/s",
        "Input records whose processing completed, per second: the work each mode gets done",
    ),
    (
        "last-node rows/s",
        "Rows executed per second by the nodes with no outgoing edge. A micro-batch run \
         aggregates before them (a count emits one row per key per batch), so fewer rows \
         here means less output, not less work: compare records/s for work",
    ),
    (
        "e2e p50",
        "Time from a record entering to its processing completing, median over the run",
    ),
    (
        "e2e p99",
        "Time from a record entering to its processing completing, 99th percentile: \
         micro-batch adds up to an interval of waiting for the batch to close",
    ),
    ("records", "Input records completed so far"),
    ("batches", "Batches completed (micro-batch only)"),
];

/// The panel: table of current numbers, then throughput and latency charts.
pub fn compare_panel_ui(ui: &mut Ui, s: &CompareSession) -> Vec<Action> {
    let mut actions = Vec::new();
    ui.horizontal(|ui| {
        ui.label(RichText::new("Compare modes").strong());
        ui.label(
            RichText::new(format!(
                "{:.1}s · micro-batch interval {} ms · input {}",
                s.record.now.t.max(s.batch.now.t),
                s.setup.interval_ms,
                s.setup
                    .rate_per_sec
                    .map_or("as designed".to_string(), |r| format!(
                        "{}/s per spout task",
                        super::canvas::overlay::compact(r)
                    ))
            ))
            .weak(),
        );
        if !s.is_running() {
            ui.label(RichText::new("stopped").strong());
            if ui
                .button("Clear results")
                .on_hover_text("Close these results")
                .clicked()
            {
                actions.push(Action::ClearComparison);
            }
        } else if ui.button("⏹ Stop comparison").clicked() {
            actions.push(Action::Stop);
        }
    });
    ui.label(RichText::new(EXPLANATION).small());
    ui.separator();
    ui.horizontal_top(|ui| {
        ui.vertical(|ui| {
            ui.set_width(540.0);
            table_ui(ui, s);
        });
        ui.separator();
        let half = ((ui.available_width() - 12.0) / 2.0).max(160.0);
        ui.vertical(|ui| {
            ui.set_width(half);
            ui.label(RichText::new("Throughput: input records completed per second").small());
            series_plot_ui(ui, "compare-throughput", s, |p| p.records_rate, None, false);
        });
        ui.vertical(|ui| {
            ui.set_width(half);
            ui.label(
                RichText::new("End-to-end latency, log scale (solid p50, dashed p99)").small(),
            );
            series_plot_ui(
                ui,
                "compare-latency",
                s,
                |p| p.p50_ms,
                Some(|p: &LivePoint| p.p99_ms),
                true,
            );
        });
    });
    actions
}

fn table_ui(ui: &mut Ui, s: &CompareSession) {
    Grid::new("compare-table")
        .num_columns(7)
        .striped(true)
        .spacing([14.0, 6.0])
        .show(ui, |ui| {
            for (head, meaning) in COLUMNS {
                let l = ui.label(RichText::new(*head).weak());
                if !meaning.is_empty() {
                    l.on_hover_text(*meaning);
                }
            }
            ui.end_row();
            for (side, color) in [(&s.record, RECORD_COLOR), (&s.batch, BATCH_COLOR)] {
                let row = side.row();
                ui.label(RichText::new(row.mode).color(color).strong());
                ui.label(row.records_rate);
                ui.label(row.sink_rate);
                ui.label(row.p50);
                ui.label(row.p99);
                ui.label(row.records);
                ui.label(row.batches);
                ui.end_row();
            }
        });
    let c = &s.comparison;
    let show = |r: Option<f64>| r.map_or_else(|| "n/a".to_string(), |r| format!("{r:.1}×"));
    ui.add_space(6.0);
    ui.label(format!(
        "micro-batch ÷ record-at-a-time: latency p50 {}, p99 {}; records done {}",
        show(c.latency_ratio_p50),
        show(c.latency_ratio_p99),
        show(c.throughput_ratio)
    ))
    .on_hover_text(
        "Records done is the ratio of input records completed over the run; latency is from \
         a record entering to its processing completing, percentiles over the run",
    );
    egui::CollapsingHeader::new("What the columns mean")
        .default_open(true)
        .show(ui, |ui| {
            for (head, meaning) in COLUMNS.iter().filter(|(_, m)| !m.is_empty()) {
                ui.label(RichText::new(format!("{head}: {meaning}.")).small());
            }
        });
}

/// A chart of both modes over time; `latency` draws a log ms axis, since the two modes'
/// latencies differ by orders of magnitude (record-at-a-time would sit on zero).
fn series_plot_ui(
    ui: &mut Ui,
    id: &str,
    s: &CompareSession,
    solid: fn(&LivePoint) -> f64,
    dashed: Option<fn(&LivePoint) -> f64>,
    latency: bool,
) {
    let y = |v: f64| if latency { log_axis::to_axis(v) } else { v };
    let points = |side: &ModeSide, f: fn(&LivePoint) -> f64| -> PlotPoints<'static> {
        side.history.iter().map(|p| [p.t, y(f(p))]).collect()
    };
    let plot = Plot::new(id)
        .height(ui.available_height().clamp(100.0, 220.0))
        .allow_drag(false)
        .allow_zoom(false)
        .allow_scroll(false)
        .allow_boxed_zoom(false)
        .x_axis_label("s")
        .legend(Legend::default().position(egui_plot::Corner::LeftTop));
    let plot = if latency {
        let all = [&s.record, &s.batch].into_iter().flat_map(move |side| {
            side.history
                .iter()
                .flat_map(move |p| [solid(p), dashed.map_or(solid(p), |f| f(p))])
        });
        log_axis::log_ms_plot(plot, log_axis::range(all, &[]))
    } else {
        plot.include_y(0.0)
    };
    plot.show(ui, |plot| {
        for (name, side, color) in [
            ("record-at-a-time", &s.record, RECORD_COLOR),
            ("micro-batch", &s.batch, BATCH_COLOR),
        ] {
            plot.line(Line::new(name, points(side, solid)).color(color).width(2.0));
            if let Some(f) = dashed {
                // Same name: one legend entry per mode, hiding both of its lines.
                plot.line(
                    Line::new(name, points(side, f))
                        .color(color)
                        .style(LineStyle::dashed_dense()),
                );
            }
        }
    });
}

/// The set-up dialog; returns `Some(Some(setup))` to start, `Some(None)` to cancel.
pub fn compare_setup_ui(
    ctx: &egui::Context,
    setup: &mut CompareSetup,
) -> Option<Option<CompareSetup>> {
    let mut answer = None;
    Modal::new(Id::unique("compare-setup")).show(ctx, |ui| {
        ui.set_max_width(460.0);
        ui.heading("Compare record-at-a-time and micro-batch");
        ui.label(
            "Runs this design twice at once, one run per mode, with the same seed and input, \
             and shows each run's throughput and end-to-end latency.",
        );
        ui.add_space(6.0);
        Grid::new("compare-setup-grid")
            .num_columns(2)
            .show(ui, |ui| {
                let l = ui
                    .label("Batch interval")
                    .on_hover_text("How often the micro-batch run cuts a batch")
                    .id;
                ui.add(
                    Slider::new(&mut setup.interval_ms, 50..=5000)
                        .logarithmic(true)
                        .suffix(" ms"),
                )
                .labelled_by(l);
                ui.end_row();
                let l = ui
                    .label("Limit input")
                    .on_hover_text(
                        "Tuples per second per spout task, in both runs; without a limit each \
                         run goes as fast as it can and latency measures queueing",
                    )
                    .id;
                let mut limited = setup.rate_per_sec.is_some();
                let mut rate = setup.rate_per_sec.unwrap_or(super::compare::DEFAULT_RATE);
                ui.horizontal(|ui| {
                    ui.checkbox(&mut limited, "").labelled_by(l);
                    ui.add_enabled(
                        limited,
                        Slider::new(&mut rate, 10.0..=1_000_000.0)
                            .logarithmic(true)
                            .suffix("/s"),
                    )
                    .labelled_by(l);
                });
                setup.rate_per_sec = limited.then_some(rate);
                ui.end_row();
            });
        ui.add_space(6.0);
        ui.horizontal(|ui| {
            if ui.button("Start comparison").clicked() {
                answer = Some(Some(*setup));
            }
            if ui.button("Cancel").clicked() {
                answer = Some(None);
            }
        });
    });
    answer
}
