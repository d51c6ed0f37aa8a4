//! The batch strip shown while a micro-batch run is on: the batch clock, how long each
//! recent batch took against the interval (so falling behind is visible at a glance),
//! and the latest result of every window operator.
//!
//! Everything here is read from the run's latest [`BatchMetrics`]; clicking a window
//! result selects its node, the only thing the strip asks of the app. A micro-batch
//! design keeps the strip's place before and after a run too, so the canvas does not
//! change size when a run starts.

use std::time::Duration;

use egui::{Color32, Grid, ProgressBar, RichText, Ui};
use egui_plot::{Bar, BarChart, Corner, HLine, Legend, Plot};

use super::actions::Action;
use super::canvas::overlay::count_text;
use super::canvas::style;
use super::canvas::window_badge::WindowBadge;
use super::log_axis;
use crate::design::selection::Selection;
use crate::model::{ExecutionMode, Node, Topology};
use crate::runtime::{BatchMetrics, WindowResult};

/// Rows of a window's result shown in the strip and in the inspector.
pub const WINDOW_ROWS: usize = 5;

/// Bars within the interval.
const ON_TIME: Color32 = Color32::from_rgb(0x40, 0xb0, 0x60);

/// The strip's height until the user drags its edge: the clock column in body text.
const STRIP_HEIGHT: f32 = 195.0;

/// Share of the window's height the strip takes at most until dragged, so a small
/// window keeps room for the canvas (the clock column then scrolls).
const STRIP_SHARE: f32 = 0.3;

/// Width of the clock column.
const CLOCK_WIDTH: f32 = 270.0;

/// `12.3 s` for a time on the batch clock.
pub fn clock_text(ms: u64) -> String {
    format!("{:.1} s", ms as f64 / 1000.0)
}

fn ms_text(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms >= 100.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{ms:.1} ms")
    }
}

/// "3s window, slide 1s" (or "tumbling 3s") for a windowed node.
pub fn window_span_text(node: &Node) -> Option<String> {
    let w = node.window?;
    Some(if w.is_tumbling() {
        format!("tumbling {} window", w.length)
    } else {
        format!("{} window, slide {}", w.length, w.slide)
    })
}

/// Rows of a window's result drawn under its node on the canvas.
const BADGE_ROWS: usize = 3;

/// The canvas caption of every window node: its span, and its latest window's top keys.
pub fn window_badges(b: &BatchMetrics, t: &Topology) -> Vec<(String, WindowBadge)> {
    t.nodes()
        .filter_map(|node| {
            let span = window_span_text(node)?;
            let result = b.windows.get(&node.name);
            let badge = WindowBadge {
                span,
                ended: result.map(|r| format!("ended {}", clock_text(r.window_end_ms))),
                top: result
                    .map(|r| {
                        let width = r.top.iter().take(BADGE_ROWS).map(|(k, _)| k.len()).max();
                        r.top
                            .iter()
                            .take(BADGE_ROWS)
                            .map(|(k, v)| {
                                format!("{k:<w$}  {}", value_text(*v), w = width.unwrap_or(0))
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
            };
            Some((node.name.clone(), badge))
        })
        .collect()
}

/// Whether the strip has its place: every micro-batch design has it, run or not, so the
/// canvas keeps its size when a run starts (a strip that came with the run pushed the
/// canvas down and shrank it).
fn has_strip(t: &Topology) -> bool {
    matches!(t.settings.mode, ExecutionMode::MicroBatch { .. })
}

/// The strip's panel above the canvas, for a micro-batch design (see [`has_strip`]):
/// the live strip while a run has numbers, else what the strip will show.
pub fn strip_panel_ui(
    ui: &mut Ui,
    t: &Topology,
    batch: Option<&BatchMetrics>,
    running: bool,
) -> Vec<Action> {
    let mut actions = Vec::new();
    if !has_strip(t) && batch.is_none() {
        return actions;
    }
    egui::Panel::top("batch-strip")
        .resizable(true)
        .default_size(STRIP_HEIGHT.min(ui.available_height() * STRIP_SHARE))
        .min_size(110.0)
        .show(ui, |ui| {
            // The strip takes exactly the panel's size whatever it holds, so its content
            // (idle or live, long or short) never resizes the panel, and so the canvas.
            let rect = ui.available_rect_before_wrap();
            ui.allocate_rect(rect, egui::Sense::hover());
            let mut strip = ui.new_child(
                egui::UiBuilder::new()
                    .max_rect(rect)
                    .layout(egui::Layout::top_down(egui::Align::Min)),
            );
            strip.shrink_clip_rect(rect);
            actions = match batch {
                Some(b) => batch_strip_ui(&mut strip, b, t),
                None => idle_strip_ui(&mut strip, t, running),
            };
        });
    actions
}

/// The three columns, each as tall as the strip: clock | chart | window results.
fn columns_ui(
    ui: &mut Ui,
    clock: impl FnOnce(&mut Ui),
    chart: impl FnOnce(&mut Ui),
    windows: impl FnOnce(&mut Ui),
) {
    ui.add_space(4.0);
    ui.horizontal_top(|ui| {
        ui.vertical(|ui| {
            ui.set_width(CLOCK_WIDTH);
            egui::ScrollArea::vertical()
                .id_salt("batch-clock")
                .auto_shrink([false, false])
                .show(ui, clock);
        });
        ui.separator();
        let chart_width = (ui.available_width() * 0.55).max(220.0);
        ui.vertical(|ui| {
            ui.set_width(chart_width);
            chart(ui);
        });
        ui.separator();
        ui.vertical(|ui| {
            egui::ScrollArea::vertical()
                .id_salt("window-results")
                .auto_shrink([false, false])
                .show(ui, windows);
        });
    });
}

/// The strip of a live run: clock | chart | window results, side by side.
fn batch_strip_ui(ui: &mut Ui, b: &BatchMetrics, t: &Topology) -> Vec<Action> {
    let mut actions = Vec::new();
    columns_ui(
        ui,
        |ui| clock_ui(ui, b),
        |ui| processing_chart_ui(ui, b),
        |ui| actions.extend(window_results_ui(ui, b, t)),
    );
    actions
}

/// The strip before a run (or before its first numbers): what it will show, in place.
fn idle_strip_ui(ui: &mut Ui, t: &Topology, running: bool) -> Vec<Action> {
    let interval_ms = match t.settings.mode {
        ExecutionMode::MicroBatch { interval_ms } => interval_ms,
        ExecutionMode::RecordAtATime => 0,
    };
    let mut actions = Vec::new();
    columns_ui(
        ui,
        |ui| {
            let state = if running {
                "Starting…"
            } else {
                "Not running"
            };
            ui.label(RichText::new(state).heading());
            ui.label(format!("interval {interval_ms} ms"));
            if !running {
                ui.label(
                    RichText::new(format!(
                        "▶ Run cuts a batch every {interval_ms} ms; the batch clock and how \
                         each job keeps up show here."
                    ))
                    .weak(),
                );
            }
        },
        |ui| {
            ui.label("Processing time per batch");
            ui.label(
                RichText::new(
                    "Each batch's processing time, against the interval, once a run is on.",
                )
                .weak(),
            );
        },
        |ui| actions.extend(window_results_ui(ui, &BatchMetrics::default(), t)),
    );
    actions
}

/// Batch number and time, the interval with a bar ticking through it, and whether the
/// jobs keep up with the clock.
fn clock_ui(ui: &mut Ui, b: &BatchMetrics) {
    let interval_ms = b.interval.as_millis() as u64;
    ui.label(RichText::new(format!("Batch #{}", b.batches_completed)).heading())
        .on_hover_text("Batches completed so far");
    ui.horizontal(|ui| {
        ui.label(format!("clock {}", clock_text(b.clock_ms)));
        ui.label("·");
        ui.label(format!("interval {interval_ms} ms"));
    });
    let phase = if interval_ms > 0 {
        (b.clock_ms % interval_ms) as f32 / interval_ms as f32
    } else {
        0.0
    };
    ui.add(
        ProgressBar::new(phase)
            .desired_height(6.0)
            .desired_width(CLOCK_WIDTH - 30.0),
    )
    .on_hover_text("Where the clock is inside the current interval; a batch is cut when it fills");
    ui.label(format!(
        "next batch ends at {}",
        clock_text(b.next_batch_ms)
    ))
    .on_hover_text("The end of the batch the clock is filling now");
    match b.last_batch_ms {
        Some(ms) => ui
            .label(format!(
                "last batch: {} records in {}",
                count_text(b.last_batch_records),
                ms_text(b.last_processing_time)
            ))
            .on_hover_text(format!(
                "The latest batch whose job finished, ending {}",
                clock_text(ms)
            )),
        None => ui.label("no batch yet"),
    };
    ui.label(format!(
        "delay {} (max {}) · queued {}",
        ms_text(b.last_scheduling_delay),
        ms_text(b.max_scheduling_delay),
        b.waiting_batches
    ))
    .on_hover_text(
        "Scheduling delay: how late the last job started after its interval closed. \
         Queued: batches whose interval has closed but whose job has not started.",
    );
    if b.falling_behind {
        ui.label(
            RichText::new("⚠ falling behind")
                .strong()
                .color(style::problem_color(ui.visuals())),
        )
        .on_hover_text(
            "Batches take longer than the interval (or start more than an interval late): \
             the delay keeps growing. Lower the input rate, or lengthen the interval.",
        );
    } else {
        ui.label(RichText::new("✔ keeping up").strong().color(ON_TIME))
            .on_hover_text("Every batch finishes within its interval");
    }
    recovery_ui(ui, b);
}

/// Batches listed under the recovery totals, newest first.
const RECOVERY_ROWS: usize = 4;

/// After a worker kill: what was recomputed from lineage, in total and for the latest
/// batches that lost something (which operator partitions, and the records each went
/// through again).
fn recovery_ui(ui: &mut Ui, b: &BatchMetrics) {
    if b.workers_killed == 0 {
        return;
    }
    ui.separator();
    ui.label(RichText::new("Recovery from lineage").strong())
        .on_hover_text(
            "A killed worker loses its partitions of the running batch. The ones a later \
             operator still needs are recomputed from their inputs, down to the receivers' \
             stored blocks, so the batch's results equal a fault-free run's.",
        );
    ui.label(format!(
        "{} worker kills · {} partitions recomputed · {} records",
        b.workers_killed,
        b.partitions_recomputed,
        count_text(b.records_recomputed)
    ));
    let hit = b
        .recent
        .iter()
        .rev()
        .filter(|batch| !batch.killed_workers.is_empty())
        .take(RECOVERY_ROWS);
    for batch in hit {
        let workers: Vec<String> = batch.killed_workers.iter().map(u32::to_string).collect();
        let parts = if batch.recomputed.is_empty() {
            "nothing a later operator needed was lost".to_string()
        } else {
            batch
                .recomputed
                .iter()
                .map(|r| {
                    format!(
                        "{} task {} ({} records)",
                        r.node,
                        r.task,
                        count_text(r.records)
                    )
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        ui.label(
            RichText::new(format!(
                "batch ending {}: worker {} lost; recomputed: {parts}",
                clock_text(batch.time_ms),
                workers.join(", ")
            ))
            .small(),
        );
    }
}

/// Recent batches' processing time as bars, the interval as a line: a bar above the line
/// is a batch that took longer than the time it covers. The axis is logarithmic and
/// scaled to the bars and the interval, so a 1 ms bar under a 500 ms interval still
/// shows, and so does the line.
fn processing_chart_ui(ui: &mut Ui, b: &BatchMetrics) {
    let interval = b.interval.as_secs_f64() * 1000.0;
    let late = style::problem_color(ui.visuals());
    let times: Vec<f64> = b
        .recent
        .iter()
        .map(|batch| batch.processing_time.as_secs_f64() * 1000.0)
        .collect();
    let (low, high) = log_axis::range(times.iter().copied(), &[interval]);
    let bars: Vec<Bar> = b
        .recent
        .iter()
        .zip(&times)
        .map(|(batch, &ms)| {
            let fill = if ms > interval { late } else { ON_TIME };
            Bar::new(batch.time_ms as f64 / 1000.0, log_axis::to_axis(ms) - low)
                .base_offset(low)
                .width(interval / 1000.0 * 0.8)
                .fill(fill)
                .name(format!(
                    "batch ending {}: {} records in {}",
                    clock_text(batch.time_ms),
                    count_text(batch.records),
                    log_axis::ms_label(ms)
                ))
        })
        .collect();
    ui.label(format!(
        "Processing time per batch (p50 {}, p99 {}) against the {} ms interval",
        ms_text(b.processing_time_p50),
        ms_text(b.processing_time_p99),
        b.interval.as_millis()
    ));
    let line_color = ui.visuals().warn_fg_color;
    let plot = Plot::new("batch-processing")
        .height(ui.available_height().max(60.0))
        .allow_drag(false)
        .allow_zoom(false)
        .allow_scroll(false)
        .allow_boxed_zoom(false)
        .x_axis_label("batch end (s)")
        .legend(Legend::default().position(Corner::LeftTop));
    log_axis::log_ms_plot(plot, (low, high)).show(ui, |plot| {
        plot.bar_chart(BarChart::new("processing time", bars).color(ON_TIME));
        plot.hline(
            HLine::new(
                format!("interval ({} ms)", b.interval.as_millis()),
                log_axis::to_axis(interval),
            )
            .color(line_color)
            .width(1.5),
        );
    });
}

/// Per window node: its span, when the latest window closed, and its top keys.
fn window_results_ui(ui: &mut Ui, b: &BatchMetrics, t: &Topology) -> Vec<Action> {
    let mut actions = Vec::new();
    ui.label(RichText::new("Latest windows").strong());
    if b.windows.is_empty() {
        let text = if t.nodes().any(|n| n.window.is_some()) {
            "No window has closed yet."
        } else {
            "This topology has no window operators."
        };
        ui.label(RichText::new(text).weak());
    }
    for (name, result) in &b.windows {
        let span = t
            .node_by_name(name)
            .and_then(window_span_text)
            .unwrap_or_default();
        let header = ui
            .add(
                egui::Label::new(RichText::new(format!("{name} · {span}")).strong())
                    .sense(egui::Sense::click()),
            )
            .on_hover_text("Click to select the node");
        if header.clicked() {
            actions.push(Action::Select(Selection::node(name)));
        }
        window_table_ui(ui, name, result);
        ui.add_space(4.0);
    }
    actions
}

/// The inspector's window section for a selected window node in a micro-batch run.
pub fn window_inspector_ui(ui: &mut Ui, node: &Node, batch: Option<&BatchMetrics>) {
    let (Some(span), Some(b)) = (window_span_text(node), batch) else {
        return;
    };
    ui.label(RichText::new(format!("Window: {span}")).strong());
    match b.windows.get(&node.name) {
        Some(result) => window_table_ui(ui, &format!("inspector-{}", node.name), result),
        None => {
            ui.label(RichText::new("No window has closed yet.").weak());
        }
    }
    ui.separator();
}

/// One window's result: when it closed and its top keys (also used by the inspector).
pub fn window_table_ui(ui: &mut Ui, name: &str, r: &WindowResult) {
    ui.label(format!(
        "window ended at {} · {} batches · {} keys{}",
        clock_text(r.window_end_ms),
        r.batches,
        r.keys,
        if r.incremental { " · incremental" } else { "" }
    ));
    Grid::new(("window-table", name))
        .num_columns(2)
        .striped(true)
        .show(ui, |ui| {
            ui.label(RichText::new("key").weak());
            ui.label(RichText::new("value").weak());
            ui.end_row();
            for (key, value) in r.top.iter().take(WINDOW_ROWS) {
                ui.label(RichText::new(key).monospace());
                ui.label(value_text(*value));
                ui.end_row();
            }
        });
}

/// Window values are counts, sums or averages: whole numbers without decimals.
pub fn value_text(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}
