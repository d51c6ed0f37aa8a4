//! The Spark export proven on a real Spark: each example Spark can express and designs
//! built here run in Tributary (`tributary run`) and as the exported PySpark job on the
//! same finite input, and their sinks' files must agree exactly: per-key final counts,
//! record multisets, per-key totals of windowed aggregates, and the generators' records
//! in order. The jobs run in one Spark session (`local[2]`, loopback, no UI) so the test
//! pays Spark's start-up once; one job also runs as `python job.py` on its own.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test crate: a failure here is the test failing

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use tributary::model::{
    ExecutionMode, Grouping, Node, Role, StreamDecl, Topology, Value, WindowSize, WindowSpec,
};
use tributary::runtime::{Engine, RunOptions, StopMode};

/// The Python with pinned PySpark that `.ci/setup` installs.
fn python() -> PathBuf {
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python3");
    assert!(
        python.exists(),
        "{} is missing: run .ci/setup --for-tests (it installs the pinned pyspark in .venv)",
        python.display()
    );
    python
}

/// How a sink's two files must agree.
#[derive(Debug, Clone, Copy)]
enum Compare {
    /// The same lines, in any order.
    Records,
    /// The same lines in the same order.
    Ordered,
    /// `key… count` running totals: the largest count per key.
    FinalCounts,
    /// `key… value window_end`: the sum over windows of each window's last value, per key.
    WindowTotals,
    /// `key… value` per micro-batch: the sum over batches, per key (where batches are cut
    /// differs between the engines; the sums do not).
    KeySums,
}

struct Case {
    name: String,
    topology: Topology,
    /// Files the design reads, written beside it.
    inputs: Vec<(&'static str, String)>,
    /// Sink files and how to compare them.
    checks: Vec<(&'static str, Compare)>,
    /// Windowed designs keep running this long after their input ended, so every window
    /// that holds a record closes (`tributary run` stops when the input ends).
    windows_close_in: Option<Duration>,
}

fn example(name: &str) -> Topology {
    tributary::format::load_ron(&common::examples_dir().join(format!("{name}.ron"))).unwrap()
}

/// Gives every generator a limit and no rate, so the input is finite and the same.
fn finite(t: &mut Topology, limit: i64) {
    let names: Vec<String> = t.nodes().map(|n| n.name.clone()).collect();
    for name in names {
        let node = t.node_by_name_mut(&name).unwrap();
        if node.config.contains_key("limit") {
            node.config.insert("limit".into(), Value::Int(limit));
            node.config.insert("rate_per_sec".into(), Value::Float(0.0));
        }
    }
}

/// Turns a logger or null sink into a file sink writing `file`.
fn to_file(t: &mut Topology, node: &str, file: &str) {
    let n = t.node_by_name_mut(node).unwrap();
    n.component = "file_sink".into();
    n.config.clear();
    n.config.insert("path".into(), Value::Str(file.into()));
}

fn node(name: &str, role: Role, component: &str, fields: &[&str]) -> Node {
    let mut n = Node::new(name, role, component);
    if !fields.is_empty() {
        n = n.with_output(StreamDecl::default_stream(fields));
    }
    n
}

fn sink(name: &str, file: &str) -> Node {
    node(name, Role::Bolt, "file_sink", &[]).with_config("path", file)
}

fn window(length: u64, slide: u64) -> Option<WindowSpec> {
    Some(WindowSpec {
        length: WindowSize::Millis(length),
        slide: WindowSize::Millis(slide),
    })
}

fn add(t: &mut Topology, nodes: Vec<Node>, edges: &[(&str, &str, Grouping)]) {
    for n in nodes {
        t.add_node(n).unwrap();
    }
    for (from, to, g) in edges {
        t.connect_names(from, to, "default", g.clone()).unwrap();
    }
}

fn examples() -> Vec<Case> {
    let mut word_count = example("word_count");
    finite(&mut word_count, 300);
    to_file(&mut word_count, "log", "counts.txt");

    let mut diamond = example("diamond");
    finite(&mut diamond, 300);
    to_file(&mut diamond, "merge", "merged.txt");

    let mut windowed = example("windowed_count");
    finite(&mut windowed, 200);
    to_file(&mut windowed, "log", "windows.txt");

    // Its `log` sink keeps windows whose count passes a threshold, which depends on where
    // batches fall in time; the running totals do not.
    let mut top_words = example("spark_windowed_top_words");
    finite(&mut top_words, 300);
    to_file(&mut top_words, "discard", "totals.txt");
    to_file(&mut top_words, "log", "frequent.txt");

    // Its `log` sink gets the per-batch join, whose pairs depend on which records share a
    // batch; the per-batch counts feeding the join, summed over batches, do not.
    let mut join = example("spark_join_clicks");
    finite(&mut join, 300);
    to_file(&mut join, "log", "joined.txt");
    add(
        &mut join,
        vec![
            sink("views_out", "views.txt"),
            sink("clicks_out", "clicks.txt"),
        ],
        &[
            ("views_per_page", "views_out", Grouping::Shuffle),
            ("clicks_per_page", "clicks_out", Grouping::Shuffle),
        ],
    );

    vec![
        Case {
            name: "spark_join_clicks".into(),
            topology: join,
            inputs: vec![],
            checks: vec![
                ("views.txt", Compare::KeySums),
                ("clicks.txt", Compare::KeySums),
            ],
            windows_close_in: None,
        },
        Case {
            name: "word_count".into(),
            topology: word_count,
            inputs: vec![],
            checks: vec![("counts.txt", Compare::FinalCounts)],
            windows_close_in: None,
        },
        Case {
            name: "diamond".into(),
            topology: diamond,
            inputs: vec![],
            checks: vec![("merged.txt", Compare::Records)],
            windows_close_in: None,
        },
        Case {
            name: "windowed_count".into(),
            topology: windowed,
            inputs: vec![],
            checks: vec![("windows.txt", Compare::WindowTotals)],
            windows_close_in: Some(Duration::from_millis(10_000 + 2_000 + 500)),
        },
        Case {
            name: "spark_windowed_top_words".into(),
            topology: top_words,
            inputs: vec![],
            checks: vec![("totals.txt", Compare::FinalCounts)],
            windows_close_in: None,
        },
    ]
}

/// Lines of text with repeated and mixed-case words, a tab-free file of a few hundred.
fn text_input() -> String {
    let words = [
        "the",
        "river",
        "The",
        "delta",
        "  spring ",
        "rain",
        "tributary",
        "é",
    ];
    (0..300)
        .map(|i| {
            (0..(i % 7 + 1))
                .map(|j| words[(i * 3 + j * 5) % words.len()])
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

fn generated() -> Vec<Case> {
    // Lines in 200 ms batches: split, filter, map, and a running count by a fields grouping.
    let mut lines = Topology::new("generated-lines");
    lines.settings.mode = ExecutionMode::MicroBatch { interval_ms: 200 };
    add(
        &mut lines,
        vec![
            node("lines", Role::Spout, "file_lines", &["line"])
                .with_config("path", "input.txt")
                .with_parallelism(2),
            node("words", Role::Bolt, "split", &["word"])
                .with_config("field", "line")
                .with_parallelism(2),
            node("not_the", Role::Bolt, "filter", &["word"])
                .with_config("field", "word")
                .with_config("op", "ne")
                .with_config("value", "the"),
            node("loud", Role::Bolt, "map", &["word"])
                .with_config("field", "word")
                .with_config("op", "uppercase"),
            node("counts", Role::Bolt, "count_by_key", &["word", "count"])
                .with_config("key", "word")
                .with_parallelism(2),
            sink("upper_out", "upper.txt"),
            sink("counts_out", "counts.txt"),
        ],
        &[
            ("lines", "words", Grouping::Shuffle),
            ("words", "not_the", Grouping::Shuffle),
            ("not_the", "loud", Grouping::Shuffle),
            ("loud", "upper_out", Grouping::Shuffle),
            ("words", "counts", Grouping::Fields(vec!["word".into()])),
            ("counts", "counts_out", Grouping::Shuffle),
        ],
    );

    // Numbers from two tasks: a numeric filter, a suffix, and a windowed sum (floats, as
    // Tributary sums) with no key.
    let mut numbers = Topology::new("generated-numbers");
    let mut sum = node(
        "sums",
        Role::Bolt,
        "window_aggregate",
        &["key", "value", "window_end_ms"],
    )
    .with_config("aggregate", "sum")
    .with_config("key", "")
    .with_config("field", "n");
    sum.window = window(2000, 1000);
    add(
        &mut numbers,
        vec![
            node("numbers", Role::Spout, "sequence", &["n"])
                .with_config("start", 10)
                .with_config("limit", 150)
                .with_parallelism(2),
            node("big", Role::Bolt, "filter", &["n"])
                .with_config("field", "n")
                .with_config("op", "ge")
                .with_config("value", "100"),
            node("marked", Role::Bolt, "map", &["n"])
                .with_config("field", "n")
                .with_config("op", "suffix")
                .with_config("arg", "!"),
            sum,
            sink("marked_out", "marked.txt"),
            sink("sums_out", "sums.txt"),
        ],
        &[
            ("numbers", "big", Grouping::Shuffle),
            ("big", "marked", Grouping::Shuffle),
            ("marked", "marked_out", Grouping::Shuffle),
            ("numbers", "sums", Grouping::Global),
            ("sums", "sums_out", Grouping::Shuffle),
        ],
    );

    // The seeded generators: sentences from one task in order, words from three tasks,
    // words per window by count_by_window.
    let mut generators = Topology::new("generated-generators");
    let mut per_window = node(
        "per_window",
        Role::Bolt,
        "count_by_window",
        &["count", "window_end_ms"],
    );
    per_window.window = window(1000, 1000);
    generators.settings.mode = ExecutionMode::MicroBatch { interval_ms: 250 };
    add(
        &mut generators,
        vec![
            node(
                "sentences",
                Role::Spout,
                "sentence_generator",
                &["sentence"],
            )
            .with_config("seed", 99)
            .with_config("vocabulary", 40)
            .with_config("words_per_sentence", 6)
            .with_config("limit", 300),
            node("words", Role::Spout, "word_generator", &["word"])
                .with_config("seed", 5)
                .with_config("vocabulary", 70000)
                .with_config("limit", 120)
                .with_parallelism(3),
            per_window,
            sink("sentences_out", "sentences.txt"),
            sink("words_out", "words.txt"),
            sink("per_window_out", "per_window.txt"),
        ],
        &[
            ("sentences", "sentences_out", Grouping::Shuffle),
            ("words", "words_out", Grouping::Shuffle),
            ("words", "per_window", Grouping::Shuffle),
            ("per_window", "per_window_out", Grouping::Shuffle),
        ],
    );

    vec![
        Case {
            name: "generated_lines".into(),
            topology: lines,
            inputs: vec![("input.txt", text_input())],
            checks: vec![
                ("upper.txt", Compare::Records),
                ("counts.txt", Compare::FinalCounts),
            ],
            windows_close_in: None,
        },
        Case {
            name: "generated_numbers".into(),
            topology: numbers,
            inputs: vec![],
            checks: vec![
                ("marked.txt", Compare::Records),
                ("sums.txt", Compare::WindowTotals),
            ],
            windows_close_in: Some(Duration::from_millis(2_000 + 1_000 + 500)),
        },
        Case {
            name: "generated_generators".into(),
            topology: generators,
            inputs: vec![],
            checks: vec![
                ("sentences.txt", Compare::Ordered),
                ("words.txt", Compare::Records),
                ("per_window.txt", Compare::WindowTotals),
            ],
            windows_close_in: Some(Duration::from_millis(1_000 + 1_000 + 500)),
        },
    ]
}

/// Writes the case twice (a folder for each engine) and exports the job. Returns the
/// design's path and the job's.
fn prepare(root: &Path, case: &Case) -> (PathBuf, PathBuf) {
    let ours = root.join(&case.name).join("tributary");
    let theirs = root.join(&case.name).join("spark");
    for dir in [&ours, &theirs] {
        std::fs::create_dir_all(dir).unwrap();
        for (file, text) in &case.inputs {
            std::fs::write(dir.join(file), text).unwrap();
        }
    }
    let design = common::save_in(&ours, "design.ron", &case.topology);
    let job = theirs.join("job.py");
    let export = common::cli()
        .args(["export", "--to", "spark"])
        .arg(&design)
        .arg("-o")
        .arg(&job)
        .output()
        .unwrap();
    assert!(
        export.status.success(),
        "{}: export failed: {}",
        case.name,
        String::from_utf8_lossy(&export.stderr)
    );
    (design, job)
}

/// Runs the design in Tributary: `tributary run` until the input ends, or, for windowed
/// designs, the engine until the input ended and every window closed.
fn run_tributary(case: &Case, design: &Path) {
    let Some(close) = case.windows_close_in else {
        let out = common::cli()
            .args(["run", "--quiet"])
            .arg(design)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}: tributary run failed: {}",
            case.name,
            String::from_utf8_lossy(&out.stderr)
        );
        return;
    };
    let options = RunOptions {
        base_dir: design.parent().unwrap().to_path_buf(),
        topology_file: Some(design.to_path_buf()),
        ..RunOptions::default()
    };
    let engine = Engine::start(&case.topology, options).unwrap();
    common::wait_for(&format!("{}: the input to end", case.name), || {
        engine.is_finished()
    });
    std::thread::sleep(close);
    engine.stop(StopMode::Drain);
}

/// A Python process with Spark confined to loopback and the test's folder.
fn spark_command(cwd: &Path, python: &Path) -> Command {
    let mut c = Command::new(python);
    c.current_dir(cwd)
        .env("SPARK_LOCAL_IP", "127.0.0.1")
        .env("PYSPARK_PYTHON", python)
        .env("TMPDIR", cwd);
    c
}

fn check_ok(what: &str, out: &Output) {
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}",
        out.status,
        tail(&String::from_utf8_lossy(&out.stderr), 60)
    );
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Runs every job's `run(spark)` in one session, one after the other.
const RUNNER: &str = r#"
import importlib.util, os, sys
from pyspark import cloudpickle
from pyspark.sql import SparkSession
spark = (SparkSession.builder.master("local[2]").appName("tributary-interop")
         .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
         .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
         .config("spark.local.dir", os.getcwd()).getOrCreate())
for i, path in enumerate(sys.argv[1:]):
    name = "exported_job_%d" % i
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    cloudpickle.register_pickle_by_value(module)
    module.run(spark, checkpoint=os.path.join(os.getcwd(), "checkpoints-%d" % i))
    print("finished", path, flush=True)
spark.stop()
"#;

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(str::to_string)
        .collect()
}

/// The file reduced to what must agree, as `key → value` text.
fn reduce(lines: &[String], how: Compare) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    match how {
        Compare::Ordered => {
            for (i, l) in lines.iter().enumerate() {
                out.insert(format!("{i:06}"), l.clone());
            }
        }
        Compare::Records => {
            let mut counts: BTreeMap<String, u64> = BTreeMap::new();
            for l in lines {
                *counts.entry(l.clone()).or_default() += 1;
            }
            out = counts
                .into_iter()
                .map(|(k, v)| (k, v.to_string()))
                .collect();
        }
        Compare::FinalCounts => {
            let mut last: BTreeMap<String, i64> = BTreeMap::new();
            for l in lines {
                let (key, count) = l.rsplit_once('\t').unwrap();
                let c = last.entry(key.to_string()).or_insert(0);
                *c = (*c).max(count.parse().unwrap());
            }
            out = last.into_iter().map(|(k, v)| (k, v.to_string())).collect();
        }
        Compare::KeySums => {
            let mut sums: BTreeMap<String, i64> = BTreeMap::new();
            for l in lines {
                let (key, value) = l.rsplit_once('\t').unwrap();
                *sums.entry(key.to_string()).or_default() += value.parse::<i64>().unwrap();
            }
            out = sums.into_iter().map(|(k, v)| (k, v.to_string())).collect();
        }
        Compare::WindowTotals => {
            let mut windows: BTreeMap<(String, String), i64> = BTreeMap::new();
            for l in lines {
                let (rest, end) = l.rsplit_once('\t').unwrap();
                let (key, value) = rest.rsplit_once('\t').unwrap_or(("", rest));
                let v = windows
                    .entry((key.to_string(), end.to_string()))
                    .or_insert(0);
                *v = (*v).max(value.parse().unwrap());
            }
            let mut totals: BTreeMap<String, i64> = BTreeMap::new();
            for ((key, _), v) in windows {
                *totals.entry(key).or_default() += v;
            }
            out = totals
                .into_iter()
                .map(|(k, v)| (k, v.to_string()))
                .collect();
        }
    }
    out
}

/// Fails with the first keys on which the two engines disagree.
fn assert_same(case: &str, file: &str, how: Compare, ours: &Path, theirs: &Path) {
    let (a, b) = (reduce(&lines(ours), how), reduce(&lines(theirs), how));
    assert!(!a.is_empty(), "{case}/{file}: Tributary wrote nothing");
    if a == b {
        return;
    }
    let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    let differing: Vec<String> = keys
        .into_iter()
        .filter(|k| a.get(*k) != b.get(*k))
        .take(8)
        .map(|k| format!("  {k:?}: tributary {:?}, spark {:?}", a.get(k), b.get(k)))
        .collect();
    panic!(
        "{case}/{file} ({how:?}): {} keys in Tributary, {} in Spark; first differing keys:\n{}",
        a.len(),
        b.len(),
        differing.join("\n")
    );
}

#[test]
fn exported_jobs_compute_what_tributary_computes() {
    let python = python();
    let root = tempfile::tempdir().unwrap();
    let cases: Vec<Case> = examples().into_iter().chain(generated()).collect();
    let prepared: Vec<(PathBuf, PathBuf)> = cases.iter().map(|c| prepare(root.path(), c)).collect();
    let jobs: Vec<&PathBuf> = prepared.iter().map(|(_, job)| job).collect();

    // The jobs run in one Spark session while Tributary runs the designs.
    let runner = root.path().join("runner.py");
    std::fs::write(&runner, RUNNER).unwrap();
    let (first, rest) = jobs.split_first().unwrap();
    let spark = spark_command(root.path(), &python)
        .arg(&runner)
        .args(rest)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    for (case, (design, _)) in cases.iter().zip(&prepared) {
        run_tributary(case, design);
    }
    check_ok("the exported jobs", &spark.wait_with_output().unwrap());

    // One job as a user runs it: `python job.py` ends by itself on finite input.
    let out = spark_command(root.path(), &python)
        .arg(first)
        .args(["--master", "local[2]", "--conf", "spark.ui.enabled=false"])
        .args(["--conf", "spark.driver.host=127.0.0.1"])
        .output()
        .unwrap();
    check_ok("python job.py", &out);

    for case in &cases {
        let dir = root.path().join(&case.name);
        for (file, how) in &case.checks {
            assert_same(
                &case.name,
                file,
                *how,
                &dir.join("tributary").join(file),
                &dir.join("spark").join(file),
            );
        }
    }
}

#[test]
fn designs_spark_cannot_express_are_refused_naming_the_node() {
    let dir = tempfile::tempdir().unwrap();
    for (example, node) in [
        ("mixed_pipeline", "buffer"),
        ("flume_log_pipeline", "durable"),
        ("flume_fanout_failover", "alerting"),
    ] {
        let out = dir.path().join(format!("{example}.py"));
        let result = common::cli()
            .args(["export", "--to", "spark"])
            .arg(common::examples_dir().join(format!("{example}.ron")))
            .arg("-o")
            .arg(&out)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&result.stderr);
        assert!(!result.status.success(), "{example} was exported");
        assert!(
            stderr.contains(&format!("'{node}'")),
            "{example}: the refusal does not name '{node}': {stderr}"
        );
        assert!(!out.exists(), "{example}: a refused export left a file");
    }
    // Running state fed by a per-batch operator: foreachBatch keeps nothing across batches.
    let mut t = Topology::new("state-after-batch");
    t.settings.mode = ExecutionMode::MicroBatch { interval_ms: 100 };
    add(
        &mut t,
        vec![
            node("words", Role::Spout, "word_generator", &["word"]).with_config("limit", 5),
            node(
                "per_batch",
                Role::Bolt,
                "count_by_value",
                &["word", "count"],
            )
            .with_config("field", "word"),
            node("running", Role::Bolt, "count_by_key", &["word", "count"])
                .with_config("key", "word"),
            sink("out", "out.txt"),
        ],
        &[
            ("words", "per_batch", Grouping::Shuffle),
            ("per_batch", "running", Grouping::Shuffle),
            ("running", "out", Grouping::Shuffle),
        ],
    );
    let problems = tributary::format::spark::export(&t).unwrap_err();
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("'running'") && p.contains("'per_batch'")),
        "{problems:?}"
    );
}

#[test]
fn a_design_with_validation_errors_is_refused_with_its_diagnostics() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = Topology::new("broken");
    add(
        &mut t,
        vec![
            node("numbers", Role::Spout, "sequence", &["n"]).with_config("limit", 5),
            node("count", Role::Bolt, "count_by_key", &["n", "count"]).with_config("key", "n"),
        ],
        &[("numbers", "count", Grouping::Fields(vec!["nope".into()]))],
    );
    let design = common::save_in(dir.path(), "broken.ron", &t);
    let out = dir.path().join("job.py");
    let result = common::cli()
        .args(["export", "--to", "spark"])
        .arg(&design)
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(!result.status.success());
    assert!(stderr.contains("broken.ron:"), "{stderr}");
    assert!(stderr.contains("nope"), "{stderr}");
    assert!(!out.exists());
}

#[test]
fn names_and_settings_from_the_file_stay_inside_literals_and_comments() {
    let python = python();
    let dir = tempfile::tempdir().unwrap();
    let payload = "x\"\"\")\nimport subprocess\nsubprocess.call(['true'])  # \u{2028}\r'''";
    let mut t = Topology::new(payload);
    t.description = format!("{payload}\n\"\"\"");
    add(
        &mut t,
        vec![
            node(
                &format!("lines{payload}"),
                Role::Spout,
                "file_lines",
                &["line"],
            )
            .with_config("path", format!("in{payload}.txt")),
            node("F", Role::Bolt, "filter", &["line"])
                .with_config("field", "line")
                .with_config("op", "eq")
                .with_config("value", payload),
            node("unpack", Role::Bolt, "split", &["word"])
                .with_config("field", "line")
                .with_config("separator", "\\E.*[")
                .with_config("into", "word"),
            sink(&format!("out{payload}"), &format!("out{payload}.txt")),
        ],
        &[],
    );
    let names: Vec<String> = t.nodes().map(|n| n.name.clone()).collect();
    let (lines, out) = (&names[0], &names[3]);
    t.connect_names(lines, "F", "default", Grouping::Shuffle)
        .unwrap();
    t.connect_names("F", "unpack", "default", Grouping::Shuffle)
        .unwrap();
    t.connect_names("unpack", out, "default", Grouping::Shuffle)
        .unwrap();
    let text = tributary::format::spark::export(&t).unwrap();
    let job = dir.path().join("job.py");
    std::fs::write(&job, &text).unwrap();
    // The script parses, and the only imports are the job's own.
    let check = Command::new(python)
        .arg("-c")
        .arg(
            "import ast, sys\n\
             tree = ast.parse(open(sys.argv[1], encoding='utf-8').read())\n\
             imported = sorted({a.name for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom)) for a in n.names})\n\
             print(' '.join(imported))",
        )
        .arg(&job)
        .output()
        .unwrap();
    check_ok("parsing the job", &check);
    assert_eq!(
        String::from_utf8_lossy(&check.stdout).trim(),
        "SparkSession argparse decimal functions math os sys tempfile time types"
    );
}

#[test]
fn an_output_that_cannot_be_written_is_an_error_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let design = common::examples_dir().join("word_count.ron");
    let target = dir.path().join("missing-folder").join("job.py");
    let result = common::cli()
        .args(["export", "--to", "spark"])
        .arg(&design)
        .arg("-o")
        .arg(&target)
        .output()
        .unwrap();
    assert!(!result.status.success());
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(stderr.contains("cannot write"), "{stderr}");
    assert!(!dir.path().join("missing-folder").exists());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
#[should_panic(
    expected = "first differing keys:\n  \"river\": tributary Some(\"3\"), spark Some(\"2\")"
)]
fn a_mismatch_names_the_first_differing_keys() {
    let dir = tempfile::tempdir().unwrap();
    let (ours, theirs) = (dir.path().join("ours.txt"), dir.path().join("theirs.txt"));
    std::fs::write(&ours, "river\t1\ndelta\t1\nriver\t2\nriver\t3\n").unwrap();
    std::fs::write(&theirs, "delta\t1\nriver\t2\n").unwrap();
    assert_same("case", "counts.txt", Compare::FinalCounts, &ours, &theirs);
}
