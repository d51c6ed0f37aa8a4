//! The three delivery guarantees under faults and worker kills: exactly-once keeps
//! every record once and counts exactly, at-least-once loses nothing, at-most-once
//! duplicates nothing — each measured against a fault-free run of the same input.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test crate: a failure here is the test failing

mod common;

use std::path::Path;
use std::time::Duration;

use common::SeededRng;
use tributary::model::{Guarantee, ScenarioAction, ScenarioStep, Topology};
use tributary::runtime::guarantees::{GuaranteeTable, run_side_by_side};
use tributary::runtime::{Engine, FaultSpec, RunOptions, StopMode};

fn design() -> Topology {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/guarantees/word_count.ron");
    tributary::format::load_ron(&path).unwrap()
}

fn options(dir: &Path, seed: u64, fail: f64) -> RunOptions {
    let mut o = RunOptions {
        seed,
        base_dir: dir.to_path_buf(),
        ..RunOptions::default()
    };
    if fail > 0.0 {
        o.faults.insert(
            "count".into(),
            FaultSpec {
                fail_probability: fail,
                ..FaultSpec::default()
            },
        );
    }
    o
}

fn row(t: &GuaranteeTable, g: Guarantee) -> &tributary::runtime::guarantees::GuaranteeFigures {
    t.rows.iter().find(|r| r.guarantee == g.label()).unwrap()
}

/// 20 seeds × fail rates 0, 5, 20 and 50 % (on the count, after the sink may already
/// have its words) × 0 to 3 worker kills at seeded moments.
#[test]
fn each_guarantee_keeps_its_promise_over_seeds_fail_rates_and_worker_kills() {
    let dir = tempfile::tempdir().unwrap();
    let mut totals = [(0u64, 0u64); 3]; // (duplicates, lost) per guarantee
    let mut uncounted = 0; // at-most-once: records the counts never saw
    let mut exactly_once_replays = 0;
    for seed in 1..=20u64 {
        let mut rng = SeededRng(seed * 7919);
        for fail in [0.0, 0.05, 0.2, 0.5] {
            let mut t = design();
            for _ in 0..(seed % 4) {
                t.settings.scenario.push(ScenarioStep {
                    at_ms: 5 + rng.below(150) as u64,
                    action: ScenarioAction::KillWorker(rng.below(2) as u32),
                });
            }
            t.settings.scenario.sort_by_key(|s| s.at_ms);
            let case = format!("seed {seed}, fail {fail}, kills {}", seed % 4);
            let table =
                run_side_by_side(&t, options(dir.path(), seed, fail), Duration::from_secs(60))
                    .unwrap_or_else(|e| panic!("{case}: {e}"));
            assert_eq!(table.reference_records_out, 480, "{case}");
            assert_eq!(table.records_in, 120, "{case}");
            for r in &table.rows {
                assert!(r.finished, "{case}: {} did not finish: {r:?}", r.guarantee);
                assert!(r.spout_emits >= 120, "{case}: {r:?}");
            }
            let exact = row(&table, Guarantee::ExactlyOnce);
            assert_eq!((exact.duplicates, exact.lost), (0, 0), "{case}: {exact:?}");
            assert_eq!(exact.keys_matching, exact.keys_total, "{case}: {exact:?}");
            assert_eq!(exact.keys_total, table.reference_keys, "{case}");
            exactly_once_replays += exact.replayed;
            let least = row(&table, Guarantee::AtLeastOnce);
            assert_eq!(
                least.lost, 0,
                "{case}: at-least-once lost records: {least:?}"
            );
            let most = row(&table, Guarantee::AtMostOnce);
            assert_eq!(
                most.duplicates, 0,
                "{case}: at-most-once duplicated: {most:?}"
            );
            assert_eq!(most.replayed, 0, "{case}: {most:?}");
            assert!(most.counted <= table.reference_counted, "{case}: {most:?}");
            uncounted += table.reference_counted - most.counted;
            assert_eq!(exact.counted, table.reference_counted, "{case}");
            if fail == 0.0 && seed % 4 == 0 {
                for r in &table.rows {
                    assert_eq!((r.duplicates, r.lost), (0, 0), "{case}: no faults: {r:?}");
                }
            }
            for (i, g) in Guarantee::ALL.iter().enumerate() {
                let r = row(&table, *g);
                totals[i].0 += r.duplicates;
                totals[i].1 += r.lost;
            }
        }
    }
    eprintln!(
        "over 80 cases: at-most-once lost {} records and {uncounted} counts, at-least-once \
         duplicated {}, exactly-once replayed {} emits",
        totals[0].1, totals[1].0, exactly_once_replays
    );
    // The faults really bit: the weaker guarantees show what they do not promise.
    assert!(uncounted > 0, "at-most-once never lost a count");
    assert!(totals[1].0 > 0, "at-least-once never duplicated a record");
    assert!(
        exactly_once_replays > 0,
        "exactly-once never replayed a batch"
    );
}

fn lines(path: &Path) -> Vec<String> {
    let mut l: Vec<String> = std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    l.sort();
    l
}

fn run_to_end(t: &Topology, o: RunOptions) -> tributary::runtime::MetricsSnapshot {
    let engine = Engine::start(t, o).unwrap();
    assert!(
        engine.wait_finished(Duration::from_secs(60)),
        "the run did not finish"
    );
    engine.stop(StopMode::Drain)
}

#[test]
fn an_exactly_once_file_sink_holds_every_line_once_with_its_txid_beside_it() {
    let clean = tempfile::tempdir().unwrap();
    run_to_end(&design(), options(clean.path(), 1, 0.0));
    let want = lines(&clean.path().join("out/words.txt"));
    assert_eq!(want.len(), 480);

    let faulty = tempfile::tempdir().unwrap();
    let mut t = design();
    t.settings.scenario.push(ScenarioStep {
        at_ms: 20,
        action: ScenarioAction::KillWorker(1),
    });
    let engine = Engine::start(&t, options(faulty.path(), 9, 0.3)).unwrap();
    let mut player = tributary::runtime::ScenarioPlayer::new(&t, []);
    let started = std::time::Instant::now();
    while !(player.is_done() && engine.is_finished()) {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the run did not finish"
        );
        for (_, controls) in player.due(started.elapsed()) {
            for c in controls {
                engine.control(c);
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let snap = engine.stop(StopMode::Drain);
    let txn = snap.transactions.unwrap();
    assert!(txn.attempts_replayed > 0, "{txn:?}");
    let out = faulty.path().join("out/words.txt");
    assert_eq!(lines(&out), want, "the file holds each word exactly once");
    let sidecar = std::fs::read_to_string(faulty.path().join("out/words.txt.txid")).unwrap();
    let len = std::fs::metadata(&out).unwrap().len();
    let mut parts = sidecar.split_whitespace();
    let txid: u64 = parts.next().unwrap().parse().unwrap();
    let recorded: u64 = parts.next().unwrap().parse().unwrap();
    assert!(
        txid >= 1 && txid <= txn.committed_txid,
        "{sidecar} vs {}",
        txn.committed_txid
    );
    assert_eq!(
        recorded, len,
        "the sidecar records the file's committed length"
    );
}

#[test]
fn a_batch_cut_short_by_a_crash_is_cut_off_when_the_sink_starts_again() {
    let dir = tempfile::tempdir().unwrap();
    run_to_end(&design(), options(dir.path(), 1, 0.0));
    let out = dir.path().join("out/words.txt");
    let first = std::fs::read(&out).unwrap();
    // A run that died mid-write leaves part of a batch after the recorded length.
    let mut torn = first.clone();
    torn.extend_from_slice(b"half a bat");
    std::fs::write(&out, &torn).unwrap();
    let engine = Engine::start(&design(), options(dir.path(), 2, 0.0)).unwrap();
    assert!(engine.wait_finished(Duration::from_secs(60)));
    let log = engine.drain_log();
    engine.stop(StopMode::Drain);
    assert!(
        log.iter().any(|l| l.text.contains("10 bytes cut")),
        "{:?}",
        log.iter().map(|l| &l.text).collect::<Vec<_>>()
    );
    let after = std::fs::read(&out).unwrap();
    assert_eq!(
        &after[..first.len()],
        &first[..],
        "the committed lines stay"
    );
    assert_eq!(
        after.len(),
        2 * first.len(),
        "the torn tail is gone, the new run appended"
    );
}

#[test]
fn exactly_once_counts_are_committed_state_with_the_txid_that_last_changed_them() {
    let dir = tempfile::tempdir().unwrap();
    let snap = run_to_end(&design(), options(dir.path(), 3, 0.2));
    let txn = snap.transactions.unwrap();
    let counts = &txn.state["count"];
    let total: i64 = counts.values().map(|v| v.0).sum();
    assert_eq!(total, 480);
    assert!(
        counts
            .values()
            .all(|v| v.1 >= 1 && v.1 <= txn.committed_txid)
    );
    assert!(txn.state_complete);
}

#[test]
fn at_most_once_has_no_ackers_and_replays_nothing() {
    let mut t = design();
    t.settings.guarantee = Guarantee::AtMostOnce;
    let plan = tributary::runtime::plan::compile(&t).unwrap();
    assert_eq!(plan.ackers(), 0);
    let dir = tempfile::tempdir().unwrap();
    let snap = run_to_end(&t, options(dir.path(), 4, 0.5));
    let spout = &snap.nodes["sentences"];
    assert_eq!((spout.replayed, spout.failed), (0, 0));
    assert!(snap.transactions.is_none());
    let kept = lines(&dir.path().join("out/words.txt")).len();
    assert_eq!(
        kept, 480,
        "the sink is upstream of the faults, so it lost nothing"
    );
    let counted: i64 = snap.final_counts["count"].values().sum();
    assert!(
        counted < 480 && counted > 100,
        "half of the counts were failed: {counted}"
    );
}

#[test]
fn a_record_that_fails_every_attempt_is_given_up_so_later_batches_still_commit() {
    let mut t = design();
    if let Some(s) = t.node_by_name_mut("sentences") {
        s.config
            .insert("limit".into(), tributary::model::Value::Int(6));
    }
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::start(&t, options(dir.path(), 5, 1.0)).unwrap();
    assert!(
        engine.wait_finished(Duration::from_secs(60)),
        "a record failing every time held the run back"
    );
    let log = engine.drain_log();
    let snap = engine.stop(StopMode::Drain);
    let txn = snap.transactions.unwrap();
    assert_eq!(txn.given_up, 6, "{txn:?}");
    assert!(
        txn.state.get("count").is_none_or(|c| c.is_empty()),
        "{txn:?}"
    );
    assert!(log.iter().any(|l| l.text.contains("given up")));
}

#[test]
fn a_key_counted_by_several_tasks_shows_their_sum() {
    let mut t = design();
    for e in t.edge_indices().collect::<Vec<_>>() {
        let to_count = t
            .edge_endpoints(e)
            .and_then(|(_, to)| t.node(to))
            .is_some_and(|n| n.name == "count");
        if to_count && let Some(edge) = t.edge_mut(e) {
            edge.grouping = tributary::model::Grouping::Shuffle;
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let snap = run_to_end(&t, options(dir.path(), 6, 0.0));
    let txn = snap.transactions.unwrap();
    let total: i64 = txn.state["count"].values().map(|v| v.0).sum();
    assert_eq!(
        total, 480,
        "every word counted once, whichever task counted it"
    );
}

#[test]
fn an_at_least_once_run_removes_the_record_an_exactly_once_run_left_beside_the_file() {
    let dir = tempfile::tempdir().unwrap();
    run_to_end(&design(), options(dir.path(), 1, 0.0));
    let out = dir.path().join("out/words.txt");
    assert!(dir.path().join("out/words.txt.txid").exists());
    let mut plain = design();
    plain.settings.guarantee = Guarantee::AtLeastOnce;
    run_to_end(&plain, options(dir.path(), 2, 0.0));
    assert!(!dir.path().join("out/words.txt.txid").exists());
    let both = std::fs::metadata(&out).unwrap().len();
    // A third, exactly-once run must not take the second run's lines for a torn batch.
    run_to_end(&design(), options(dir.path(), 3, 0.0));
    assert_eq!(lines(&out).len(), 3 * 480);
    assert!(std::fs::metadata(&out).unwrap().len() > both);
}

#[test]
fn exactly_once_and_at_least_once_hold_across_a_rebalance() {
    let mut t = design();
    if let Some(s) = t.node_by_name_mut("sentences") {
        s.config
            .insert("rate_per_sec".into(), tributary::model::Value::Float(300.0));
    }
    t.settings.scenario = vec![
        ScenarioStep {
            at_ms: 100,
            action: ScenarioAction::Rebalance {
                node: "count".into(),
                executors: 1,
            },
        },
        ScenarioStep {
            at_ms: 200,
            action: ScenarioAction::RebalanceWorkers(1),
        },
    ];
    let dir = tempfile::tempdir().unwrap();
    let table =
        run_side_by_side(&t, options(dir.path(), 11, 0.1), Duration::from_secs(60)).unwrap();
    let exact = row(&table, Guarantee::ExactlyOnce);
    assert!(exact.finished, "{exact:?}");
    assert_eq!((exact.duplicates, exact.lost), (0, 0), "{exact:?}");
    assert_eq!(exact.keys_matching, exact.keys_total, "{exact:?}");
    assert_eq!(exact.counted, table.reference_counted);
    let least = row(&table, Guarantee::AtLeastOnce);
    assert_eq!(least.lost, 0, "{least:?}");
}

#[test]
fn a_batch_whose_file_cannot_be_written_is_applied_nowhere_and_written_once_the_file_can_be() {
    let mut t = design();
    if let Some(s) = t.node_by_name_mut("sentences") {
        s.config
            .insert("rate_per_sec".into(), tributary::model::Value::Float(200.0));
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out/words.txt");
    let moved = dir.path().join("out/first-part.txt");
    let engine = Engine::start(&t, options(dir.path(), 8, 0.0)).unwrap();
    let committed = |e: &Engine| e.snapshot().transactions.map_or(0, |t| t.committed_txid);
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while committed(&engine) < 2 {
        assert!(std::time::Instant::now() < deadline, "no batch committed");
        std::thread::sleep(Duration::from_millis(5));
    }
    // The file becomes a folder: no batch can be appended until it is a file again.
    std::fs::rename(&out, &moved).unwrap();
    std::fs::create_dir(&out).unwrap();
    let mut log = Vec::new();
    while !log
        .iter()
        .any(|l: &tributary::runtime::LogLine| l.text.contains("could not be written"))
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the failed write was not reported"
        );
        log.extend(engine.drain_log());
        std::thread::sleep(Duration::from_millis(5));
    }
    let stuck = committed(&engine);
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(
        committed(&engine),
        stuck,
        "a batch committed without its file"
    );
    std::fs::remove_dir(&out).unwrap();
    assert!(
        engine.wait_finished(Duration::from_secs(60)),
        "commits did not resume"
    );
    let snap = engine.stop(StopMode::Drain);
    assert!(snap.transactions.unwrap().committed_txid > stuck);
    let mut all = lines(&moved);
    all.extend(lines(&out));
    all.sort();
    let clean = tempfile::tempdir().unwrap();
    run_to_end(&design(), options(clean.path(), 1, 0.0));
    assert_eq!(
        all,
        lines(&clean.path().join("out/words.txt")),
        "every line once"
    );
}

#[test]
fn stepping_back_in_the_lab_restores_an_exactly_once_file_and_its_record() {
    use tributary::runtime::{LabEngine, LabOptions};
    let dir = tempfile::tempdir().unwrap();
    // An earlier run's committed lines, its record, and a torn tail the lab cuts off.
    run_to_end(&design(), options(dir.path(), 1, 0.0));
    let out = dir.path().join("out/words.txt");
    let sidecar = dir.path().join("out/words.txt.txid");
    let committed = std::fs::read(&out).unwrap();
    let record = std::fs::read(&sidecar).unwrap();
    let mut torn = committed.clone();
    torn.extend_from_slice(b"torn");
    std::fs::write(&out, &torn).unwrap();

    let mut lab = LabEngine::start(
        &design(),
        options(dir.path(), 2, 0.0),
        LabOptions::default(),
    )
    .unwrap();
    assert_eq!(
        std::fs::read(&out).unwrap(),
        committed,
        "the torn tail is cut at start"
    );
    let taken = lab.step_n(3000);
    assert!(std::fs::metadata(&out).unwrap().len() > committed.len() as u64);
    assert_ne!(
        std::fs::read(&sidecar).unwrap(),
        record,
        "the lab committed batches"
    );
    lab.back(taken).unwrap();
    assert_eq!(
        std::fs::read(&out).unwrap(),
        committed,
        "back at the start: the file as it was"
    );
    assert_eq!(
        std::fs::read(&sidecar).unwrap(),
        record,
        "and its record as it was"
    );
}

#[test]
fn an_exactly_once_logger_writes_each_record_once_whatever_is_replayed() {
    let mut t = design();
    t.add_node(tributary::model::Node::new(
        "log",
        tributary::model::Role::Bolt,
        "logger",
    ))
    .unwrap();
    t.connect_names(
        "split",
        "log",
        "default",
        tributary::model::Grouping::Shuffle,
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::start(&t, options(dir.path(), 12, 0.3)).unwrap();
    let mut logged = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !engine.is_finished() {
        assert!(
            std::time::Instant::now() < deadline,
            "the run did not finish"
        );
        logged.extend(engine.drain_log());
        std::thread::sleep(Duration::from_millis(5));
    }
    // Every batch is committed once the run is finished, so every line is written.
    logged.extend(engine.drain_log());
    let snap = engine.stop(StopMode::Drain);
    assert!(
        snap.nodes["sentences"].replayed > 0,
        "the faults caused replays"
    );
    let words = logged
        .iter()
        .filter(|l| l.node == "log" && l.kind == tributary::runtime::LogKind::Tuple)
        .count();
    assert_eq!(words, 480, "each of the 480 words logged once");
}

#[test]
fn run_guarantees_prints_a_row_per_guarantee_and_refuses_an_endless_input() {
    let dir = tempfile::tempdir().unwrap();
    let file = common::save_in(dir.path(), "wc.ron", &design());
    let file = file.to_str().unwrap();
    let out = common::output_within(&[
        "run",
        file,
        "--guarantees",
        "--fault",
        "count:fail=0.2",
        "--kill-worker",
        "50ms:1",
        "--json",
        "-",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    for g in ["at-most-once", "at-least-once", "exactly-once"] {
        assert!(stderr.contains(g), "no row for {g}: {stderr}");
    }
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["records_in"], 120);
    let rows = json["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    let exact = rows
        .iter()
        .find(|r| r["guarantee"] == "exactly-once")
        .unwrap();
    assert_eq!(
        (exact["duplicates"].as_u64(), exact["lost"].as_u64()),
        (Some(0), Some(0))
    );
    assert!(
        !dir.path().join("out").exists(),
        "the comparison wrote no file"
    );

    let mut endless = design();
    endless
        .node_by_name_mut("sentences")
        .unwrap()
        .config
        .remove("limit");
    let file = common::save_in(dir.path(), "endless.ron", &endless);
    let out = common::output_within(&["run", file.to_str().unwrap(), "--guarantees"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("sentences"), "{stderr}");
}
