//! Frame cost of the designer with a big topology running: a benchmark, not a timed
//! test (ignored by default). Run it with
//!
//! ```text
//! cargo test --release --test ui_perf -- --ignored --nocapture
//! ```
//!
//! It measures the UI thread's own CPU time (from `/proc/thread-self/schedstat`, so time
//! spent waiting for a core the runtime holds does not count) for layout plus
//! tessellation of one frame of a 200-node, 300-edge topology with live overlays, in
//! two views: the whole graph fitted into the window (everything visible, small), and the
//! view a user gets on opening the file (readable zoom, upstream end).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test crate: a failure here is the test failing
#![cfg(feature = "gui")]

/// The designer binary runs on mimalloc; measure with the same allocator, since a
/// frame's cost is much of it allocation.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::PathBuf;
use std::time::Duration;

use egui::{Pos2, RawInput, Rect, Vec2};
use tributary::components;
use tributary::design::FilePlaces;
use tributary::design::document::Document;
use tributary::model::{DEFAULT_STREAM, Grouping, Role, Topology};
use tributary::ui::DesignerApp;
use tributary::ui::actions::Action;

/// 5 spouts and 45 map bolts in 10 layers of 5, each bolt reading the bolt before it and
/// its neighbour: 50 nodes, 90 edges, acked (Lab mode's frame-budget case).
fn generated_50() -> Topology {
    let mut t = Topology::new("generated-50");
    t.settings.ackers = 1;
    t.settings.max_spout_pending = Some(64);
    let spout = components::descriptor("sentence_generator").expect("built-in");
    let map = components::descriptor("map").expect("built-in");
    for layer in 0..10 {
        for i in 0..5 {
            let node = if layer == 0 {
                components::new_node_as(spout, format!("n-0-{i}"), Role::Spout)
                    .with_config("rate_per_sec", 0.0)
            } else {
                let mut n = components::new_node_as(map, format!("n-{layer}-{i}"), Role::Bolt)
                    .with_config("field", "sentence");
                n.outputs = vec![tributary::model::StreamDecl::default_stream(&["sentence"])];
                n
            };
            t.add_node(node.at(80.0 + layer as f32 * 240.0, 80.0 + i as f32 * 100.0))
                .expect("unique");
            if layer > 0 {
                for j in [i, (i + 1) % 5] {
                    t.connect_names(
                        &format!("n-{}-{j}", layer - 1),
                        &format!("n-{layer}-{i}"),
                        DEFAULT_STREAM,
                        Grouping::Shuffle,
                    )
                    .expect("nodes exist");
                }
            }
        }
    }
    t
}

/// 20 spouts and 180 map bolts in 10 layers; every bolt reads one node of the layer
/// before it, and 120 read a second one: 300 edges.
fn generated() -> Topology {
    let mut t = Topology::new("generated");
    let spout = components::descriptor("sentence_generator").expect("built-in");
    let map = components::descriptor("map").expect("built-in");
    let mut layers: Vec<Vec<String>> = Vec::new();
    let mut first = Vec::new();
    for i in 0..20 {
        let name = format!("spout-{i}");
        let node = components::new_node_as(spout, name.clone(), Role::Spout)
            .with_config("rate_per_sec", 2000.0)
            .at(80.0, 80.0 + i as f32 * 100.0);
        t.add_node(node).expect("unique");
        first.push(name);
    }
    layers.push(first);
    let mut second_inputs = 0;
    for layer in 1..10 {
        let mut names = Vec::new();
        for i in 0..20 {
            let name = format!("map-{layer}-{i}");
            let mut node = components::new_node_as(map, name.clone(), Role::Bolt)
                .with_config("field", "sentence")
                .at(80.0 + layer as f32 * 240.0, 80.0 + i as f32 * 100.0);
            node.outputs = vec![tributary::model::StreamDecl::default_stream(&["sentence"])];
            t.add_node(node).expect("unique");
            let prev = &layers[layer - 1];
            t.connect_names(&prev[i], &name, DEFAULT_STREAM, Grouping::Shuffle)
                .expect("nodes exist");
            if second_inputs < 120 && i % 3 != 2 {
                t.connect_names(
                    &prev[(i + 1) % 20],
                    &name,
                    DEFAULT_STREAM,
                    Grouping::Shuffle,
                )
                .expect("nodes exist");
                second_inputs += 1;
            }
            names.push(name);
        }
        layers.push(names);
    }
    t
}

/// CPU time this thread has used.
fn thread_cpu() -> Duration {
    let ns = std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .next()
                .and_then(|n| n.parse::<u64>().ok())
        })
        .unwrap_or(0);
    Duration::from_nanos(ns)
}

/// Per-frame costs over a series of frames.
struct Figures {
    zoom: f32,
    total: Vec<Duration>,
    layout: Vec<Duration>,
    tessellation: Vec<Duration>,
}

impl Figures {
    fn print(&mut self, view: &str) {
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        let mean = |v: &[Duration]| ms(v.iter().sum::<Duration>() / v.len() as u32);
        let mean_layout = mean(&self.layout);
        let mean_tessellation = mean(&self.tessellation);
        let mean_total = mean(&self.total);
        self.total.sort();
        let n = self.total.len();
        println!(
            "UI frame, {view} (zoom {:.2}): mean {:.2} ms \
             (layout {:.2} ms, tessellation {:.2} ms), median {:.2} ms, p95 {:.2} ms",
            self.zoom,
            mean_total,
            mean_layout,
            mean_tessellation,
            ms(self.total[n / 2]),
            ms(self.total[n * 95 / 100]),
        );
    }
}

/// Runs `frames` frames `gap` apart (a run's snapshots arrive every 100 ms, so at 10 ms about
/// every fifth frame shows new numbers) and measures each.
fn measure(
    app: &mut DesignerApp,
    ctx: &egui::Context,
    input: &RawInput,
    frames: usize,
    gap: Duration,
) -> Figures {
    let mut figures = Figures {
        zoom: 0.0,
        total: Vec::new(),
        layout: Vec::new(),
        tessellation: Vec::new(),
    };
    for _ in 0..frames {
        let before = thread_cpu();
        let mut output = ctx.run_ui(input.clone(), |ui| app.ui(ui));
        output.textures_delta.clear();
        let laid_out = thread_cpu();
        let primitives = ctx.tessellate(output.shapes, output.pixels_per_point);
        let done = thread_cpu();
        assert!(!primitives.is_empty());
        figures.layout.push(laid_out - before);
        figures.tessellation.push(done - laid_out);
        figures.total.push(done - before);
        std::thread::sleep(gap);
    }
    figures.zoom = app.canvas.view.zoom;
    figures
}

#[test]
#[ignore = "benchmark: run with --release -- --ignored --nocapture"]
fn frame_cost_with_200_nodes_running() {
    let t = generated();
    assert_eq!((t.node_count(), t.edge_count()), (200, 300));
    let dir = tempfile::tempdir().expect("temp dir");
    let places = FilePlaces {
        config_dir: Some(dir.path().to_path_buf()),
        examples_dir: None::<PathBuf>,
        data_dir: None,
    };
    let mut app = DesignerApp::new(places);
    app.doc = Document::new(
        t,
        Some(dir.path().join("generated.ron")),
        "generated".into(),
    );
    let ctx = egui::Context::default();
    let input = RawInput {
        screen_rect: Some(Rect::from_min_size(Pos2::ZERO, Vec2::new(1400.0, 900.0))),
        ..Default::default()
    };
    let frame = |app: &mut DesignerApp| {
        let mut output = ctx.run_ui(input.clone(), |ui| app.ui(ui));
        output.textures_delta.clear();
    };
    // Warm up (fonts, layout caches), fit the whole graph in view, then run.
    for _ in 0..5 {
        frame(&mut app);
    }
    app.perform(&ctx, Action::Fit);
    app.perform(&ctx, Action::Run);
    assert!(app.run.is_some(), "{:?}", app.notice);
    std::thread::sleep(Duration::from_secs(2));
    let mut fitted = measure(&mut app, &ctx, &input, 200, Duration::from_millis(10));

    // The view on opening the file: readable zoom, the upstream end.
    app.canvas.request_readable_fit();
    for _ in 0..5 {
        frame(&mut app);
    }
    let mut opened = measure(&mut app, &ctx, &input, 200, Duration::from_millis(10));
    app.perform(&ctx, Action::Stop);
    fitted.print("200 nodes / 300 edges running, whole graph fitted");
    opened.print("200 nodes / 300 edges running, as opened");
}

#[test]
#[ignore = "benchmark: run with --release -- --ignored --nocapture"]
fn frame_cost_with_50_nodes_playing_the_lab_at_1000_events_per_second() {
    let t = generated_50();
    assert_eq!((t.node_count(), t.edge_count()), (50, 90));
    let dir = tempfile::tempdir().expect("temp dir");
    let places = FilePlaces {
        config_dir: Some(dir.path().to_path_buf()),
        examples_dir: None::<PathBuf>,
        data_dir: None,
    };
    let mut app = DesignerApp::new(places);
    app.doc = Document::new(t, Some(dir.path().join("g50.ron")), "g50".into());
    let ctx = egui::Context::default();
    let input = RawInput {
        screen_rect: Some(Rect::from_min_size(Pos2::ZERO, Vec2::new(1400.0, 900.0))),
        ..Default::default()
    };
    for _ in 0..5 {
        let mut output = ctx.run_ui(input.clone(), |ui| app.ui(ui));
        output.textures_delta.clear();
    }
    app.perform(&ctx, Action::Fit);
    use tributary::ui::lab::LabAction;
    app.perform(&ctx, Action::Lab(LabAction::Start));
    assert!(app.run.is_some(), "{:?}", app.notice);
    app.perform(&ctx, Action::Lab(LabAction::Speed(1000.0)));
    app.perform(&ctx, Action::Lab(LabAction::Play(true)));
    // 60 frames a second: about 17 events a frame.
    let mut figures = measure(&mut app, &ctx, &input, 300, Duration::from_millis(16));
    let steps = app
        .run
        .as_ref()
        .and_then(|r| r.lab())
        .map_or(0, |l| l.engine.steps());
    assert!(steps > 1000, "the lab played: {steps} steps");
    figures.print(&format!(
        "50 nodes, Lab playing at 1000 events/s ({steps} steps)"
    ));
}
