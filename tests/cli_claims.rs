//! Claims the README and `docs/cli.md` make about the command line, each run as a user
//! would run it (the binary under a deadline, in temporary folders).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test crate: a failure here is the test failing

mod common;

use serde_json::Value;

/// `bench --json` (docs/benchmarks.md): the top-level ratios are each the lowest over the
/// configurations, each with the parallelism it was measured at; `configs` holds every
/// configuration's own figures; the latency is measured at 1/1/1.
#[test]
fn a_short_bench_reports_every_documented_figure() {
    let out = common::output_within(&["bench", "--json", "--secs", "1"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let configs = report["configs"].as_array().unwrap();
    let parallelisms: Vec<&str> = configs
        .iter()
        .map(|c| c["parallelism"].as_str().unwrap())
        .collect();
    assert_eq!(parallelisms, ["1/1/1", "1/2/2"]);
    for c in configs {
        for key in [
            "raw_words_per_s",
            "raw_inline_words_per_s",
            "unacked_words_per_s",
            "acked_words_per_s",
            "ratio_unacked",
            "ratio_acked",
            "ratio_unacked_vs_inline",
            "ratio_acked_vs_inline",
            "raw_cpu_ns_per_word",
            "raw_inline_cpu_ns_per_word",
            "unacked_cpu_ns_per_word",
            "acked_cpu_ns_per_word",
        ] {
            let v = c[key].as_f64();
            assert!(
                v.is_some_and(|v| v > 0.0),
                "{key} of {}: {c}",
                c["parallelism"]
            );
        }
    }
    for ratio in [
        "ratio_unacked",
        "ratio_acked",
        "ratio_unacked_vs_inline",
        "ratio_acked_vs_inline",
    ] {
        let weakest = configs
            .iter()
            .min_by(|a, b| {
                a[ratio]
                    .as_f64()
                    .unwrap()
                    .total_cmp(&b[ratio].as_f64().unwrap())
            })
            .unwrap();
        assert_eq!(
            report[ratio], weakest[ratio],
            "{ratio} is the lowest: {report}"
        );
        assert_eq!(
            report[format!("{ratio}_parallelism")],
            weakest["parallelism"],
            "{ratio} names where it was measured"
        );
    }
    assert_eq!(report["latency_parallelism"], "1/1/1");
}

/// docs/cli.md: "1 if a component's config is bad (the error names the node)".
#[test]
fn a_bad_component_config_exits_1_naming_the_node() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("t.ron");
    // Valid as a file (validation cannot know the file is missing); refused at start.
    std::fs::write(
        &file,
        r#"(version: 1, name: "x", nodes: [
            (name: "lines", role: Spout, component: "file_lines", config: {"path": "missing.txt"},
             outputs: [(stream: "default", fields: ["line"])]),
            (name: "sink", role: Bolt, component: "null"),
        ], edges: [(from: "lines", to: "sink", grouping: Shuffle)])"#,
    )
    .unwrap();
    let validate = common::output_within(&["validate", file.to_str().unwrap()]);
    assert!(validate.status.success(), "the file itself is valid");
    let out = common::output_within(&["run", file.to_str().unwrap(), "--for", "30s"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("node 'lines'"), "{stderr}");
    assert!(stderr.contains("missing.txt"), "{stderr}");
}

/// docs/cli.md: Ctrl+C "stops at once … and still prints the summary".
#[test]
fn ctrl_c_still_prints_the_summary_and_writes_the_json() {
    let dir = tempfile::tempdir().unwrap();
    let t = tributary::format::load_ron(&common::examples_dir().join("word_count.ron")).unwrap();
    let file = common::save_in(dir.path(), "word_count.ron", &t);
    let json = dir.path().join("m.json");
    let (child, rx) = common::spawn_lines(&[
        "run",
        file.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ]);
    // Logger lines show the run is under way (no --for: it runs until interrupted).
    common::wait_line(&rx, "a logged tuple", |l| l.starts_with("[log#"));
    common::interrupt_and_wait(child);
    let rest: Vec<String> = rx.iter().filter(|l| !l.starts_with("[log#")).collect();
    let header = rest
        .iter()
        .position(|l| l.starts_with("node ") && l.contains("emitted") && l.contains("acked"))
        .unwrap_or_else(|| panic!("no summary table: {rest:#?}"));
    // The table is on stdout; stderr's lines may arrive between its rows.
    let rows: Vec<&String> = rest[header + 1..]
        .iter()
        .filter(|l| {
            let mut words = l.split_whitespace();
            words
                .next()
                .is_some_and(|w| ["count", "log", "sentences", "split"].contains(&w))
                && words.next().is_some_and(|n| n.parse::<u64>().is_ok())
        })
        .collect();
    let names: Vec<&str> = rows
        .iter()
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(names, ["count", "log", "sentences", "split"], "{rest:#?}");
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let emitted = metrics["nodes"]["sentences"]["emitted"].as_u64().unwrap();
    assert!(emitted > 0, "{metrics}");
    let row = rows[2];
    assert_eq!(
        row.split_whitespace().nth(1),
        Some(emitted.to_string().as_str()),
        "the table and the JSON give the same figure: {row}"
    );
}
