//! Shell spouts and bolts against clients written elsewhere: pystorm (a maintained Python
//! implementation of Storm's multi-lang protocol, installed by `.ci/setup` in `.venv`), a
//! Node.js bolt with no library at all, and hand-written Python scripts that misbehave
//! on purpose. Expected values come from the built-in components or from the inputs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test crate: a failure here is the test failing

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{wait_for, wait_for_snapshot};
use tributary::model::{Grouping, Node, Role, StreamDecl, Topology, Value};
use tributary::runtime::{Engine, LogLine, RunError, RunOptions, StopMode, Val};

/// The Python with pystorm in it; fails (never skips) when the set-up has not run.
fn venv_python() -> PathBuf {
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python3");
    assert!(
        python.exists(),
        "{} is missing: run .ci/setup --for-tests, which installs the test peers (pystorm)",
        python.display()
    );
    python
}

/// A folder holding the test scripts, to run topologies from.
fn scripts() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/shell");
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
    }
    dir
}

fn command(parts: &[&str]) -> Value {
    Value::List(parts.iter().map(|p| Value::Str(p.to_string())).collect())
}

fn pystorm(script: &str) -> Value {
    command(&[venv_python().to_str().unwrap(), script])
}

/// Options for a run from `dir` that may execute programs (and the venv's Python).
fn options(dir: &Path) -> RunOptions {
    RunOptions {
        base_dir: dir.to_path_buf(),
        allow_exec: true,
        allowed_dirs: vec![venv_python().parent().unwrap().to_path_buf()],
        ..RunOptions::default()
    }
}

fn add(t: &mut Topology, node: Node) {
    t.add_node(node).unwrap();
}

/// sentences → split (built-in or the given shell bolt) → count → collector.
fn word_count(split: Option<Value>) -> Topology {
    let mut t = Topology::new("wc");
    add(
        &mut t,
        Node::new("s", Role::Spout, "sentence_generator")
            .with_config("limit", 100)
            .with_config("words_per_sentence", 6)
            .with_config("vocabulary", 30)
            .with_output(StreamDecl::default_stream(&["sentence"])),
    );
    let splitter = match split {
        Some(cmd) => Node::new("split", Role::Bolt, "shell_bolt").with_config("command", cmd),
        None => Node::new("split", Role::Bolt, "split"),
    };
    add(
        &mut t,
        splitter
            .with_output(StreamDecl::default_stream(&["word"]))
            .with_parallelism(2),
    );
    add(
        &mut t,
        Node::new("count", Role::Bolt, "count_by_key")
            .with_output(StreamDecl::default_stream(&["word", "count"]))
            .with_parallelism(2),
    );
    add(&mut t, Node::new("out", Role::Bolt, "collector"));
    t.connect_names("s", "split", "default", Grouping::Shuffle)
        .unwrap();
    t.connect_names(
        "split",
        "count",
        "default",
        Grouping::Fields(vec!["word".into()]),
    )
    .unwrap();
    t.connect_names("count", "out", "default", Grouping::Shuffle)
        .unwrap();
    t
}

/// The final count of every word in what `out` collected.
fn final_counts(engine: &Engine) -> BTreeMap<String, i64> {
    let mut finals = BTreeMap::new();
    for v in engine.collected("out") {
        let (Some(w), Some(Val::Int(c))) = (v.get(0), v.get(1)) else {
            panic!("unexpected {v:?}")
        };
        let e = finals.entry(w.to_string()).or_insert(0);
        *e = (*e).max(*c);
    }
    finals
}

fn all_log(engine: &Engine, into: &mut Vec<LogLine>) {
    into.extend(engine.drain_log());
}

#[test]
fn a_pystorm_split_counts_exactly_what_the_built_in_split_counts() {
    let dir = scripts();
    let builtin = Engine::start(&word_count(None), options(dir.path())).unwrap();
    assert!(builtin.wait_finished(Duration::from_secs(60)));
    let expected = final_counts(&builtin);
    builtin.stop(StopMode::Immediate);
    assert_eq!(expected.values().sum::<i64>(), 600);

    let engine = Engine::start(
        &word_count(Some(pystorm("split_bolt.py"))),
        options(dir.path()),
    )
    .unwrap();
    wait_for("every sentence acked through the pystorm split", || {
        engine.is_finished()
    });
    assert_eq!(final_counts(&engine), expected);
    let snap = engine.stop(StopMode::Drain);
    assert_eq!(snap.nodes["split"].acked, 100, "{:#?}", snap.nodes["split"]);
    assert_eq!(snap.nodes["split"].failed, 0);
    assert_eq!(snap.nodes["s"].acked, 100);
}

#[test]
fn a_pystorm_bolt_that_fails_tuples_gets_them_replayed_and_every_number_arrives() {
    let dir = scripts();
    let mut t = Topology::new("replay");
    add(
        &mut t,
        Node::new("numbers", Role::Spout, "sequence")
            .with_config("limit", 200)
            .with_output(StreamDecl::default_stream(&["n"])),
    );
    add(
        &mut t,
        Node::new("picky", Role::Bolt, "shell_bolt")
            .with_config("command", pystorm("fail_once_bolt.py"))
            .with_output(StreamDecl::default_stream(&["n"])),
    );
    add(&mut t, Node::new("out", Role::Bolt, "collector"));
    t.connect_names("numbers", "picky", "default", Grouping::Shuffle)
        .unwrap();
    t.connect_names("picky", "out", "default", Grouping::Shuffle)
        .unwrap();
    let engine = Engine::start(&t, options(dir.path())).unwrap();
    wait_for("all 200 numbers acked after their replays", || {
        engine.is_finished()
    });
    let mut got: Vec<i64> = engine
        .collected("out")
        .iter()
        .map(|v| match v.get(0) {
            Some(Val::Int(n)) => *n,
            other => panic!("{other:?}"),
        })
        .collect();
    got.sort_unstable();
    let snap = engine.stop(StopMode::Drain);
    // Every number failed once (at the bolt), was replayed by the spout, then passed.
    assert_eq!(got, (0..200).collect::<Vec<i64>>());
    assert_eq!(
        snap.nodes["picky"].failed, 200,
        "{:#?}",
        snap.nodes["picky"]
    );
    assert_eq!(snap.nodes["picky"].acked, 200);
    assert_eq!(snap.nodes["numbers"].replayed, 200);
    assert_eq!(snap.nodes["numbers"].acked, 200);
}

#[test]
fn a_pystorm_spout_feeds_built_in_bolts_and_hears_every_ack() {
    let dir = scripts();
    let mut t = Topology::new("spout");
    add(
        &mut t,
        Node::new("sentences", Role::Spout, "shell_spout")
            .with_config("command", pystorm("sentence_spout.py"))
            .with_output(StreamDecl::default_stream(&["sentence"])),
    );
    add(
        &mut t,
        Node::new("split", Role::Bolt, "split").with_output(StreamDecl::default_stream(&["word"])),
    );
    add(
        &mut t,
        Node::new("count", Role::Bolt, "count_by_key")
            .with_output(StreamDecl::default_stream(&["word", "count"])),
    );
    add(&mut t, Node::new("out", Role::Bolt, "collector"));
    t.connect_names("sentences", "split", "default", Grouping::Shuffle)
        .unwrap();
    t.connect_names(
        "split",
        "count",
        "default",
        Grouping::Fields(vec!["word".into()]),
    )
    .unwrap();
    t.connect_names("count", "out", "default", Grouping::Shuffle)
        .unwrap();
    let engine = Engine::start(&t, options(dir.path())).unwrap();
    let mut log = Vec::new();
    wait_for("60 acks heard by the pystorm spout", || {
        all_log(&engine, &mut log);
        log.iter().filter(|l| l.text.contains("] acked ")).count() == 60
    });
    let counts = final_counts(&engine);
    let snap = engine.stop(StopMode::Immediate);
    // 20 copies each of three sentences: "the" twice per first sentence.
    assert_eq!(counts["the"], 40);
    assert_eq!(counts["apple"], 20);
    assert_eq!(counts["seven"], 20);
    assert_eq!(counts.values().sum::<i64>(), 20 * (6 + 4 + 4));
    assert_eq!(snap.nodes["sentences"].acked, 60);
    assert!(
        log.iter()
            .all(|l| l.node != "sentences" || !l.text.contains("crashed")),
        "{log:#?}"
    );
}

#[test]
fn need_task_ids_and_direct_emits_reach_the_tasks_the_child_was_told() {
    let dir = scripts();
    let mut t = Topology::new("tasks");
    add(
        &mut t,
        Node::new("words", Role::Spout, "word_generator")
            .with_config("limit", 60)
            .with_output(StreamDecl::default_stream(&["word"])),
    );
    let mut direct = StreamDecl::new("direct", &["word"]);
    direct.direct = true;
    add(
        &mut t,
        Node::new("tagger", Role::Bolt, "shell_bolt")
            .with_config("command", pystorm("task_ids_bolt.py"))
            .with_output(StreamDecl::new("keyed", &["word"]))
            .with_output(StreamDecl::new("report", &["word", "task", "receivers"]))
            .with_output(direct),
    );
    add(
        &mut t,
        Node::new("keyed_out", Role::Bolt, "collector").with_parallelism(3),
    );
    add(&mut t, Node::new("report_out", Role::Bolt, "collector"));
    add(
        &mut t,
        Node::new("direct_out", Role::Bolt, "collector").with_parallelism(3),
    );
    // A second consumer of the direct stream: a task of direct_out is not one of its
    // tasks, so it receives nothing (and the emit is no error).
    add(
        &mut t,
        Node::new("direct_other", Role::Bolt, "collector").with_parallelism(2),
    );
    t.connect_names("words", "tagger", "default", Grouping::Shuffle)
        .unwrap();
    t.connect_names(
        "tagger",
        "keyed_out",
        "keyed",
        Grouping::Fields(vec!["word".into()]),
    )
    .unwrap();
    t.connect_names("tagger", "report_out", "report", Grouping::Shuffle)
        .unwrap();
    t.connect_names("tagger", "direct_other", "direct", Grouping::Direct)
        .unwrap();
    t.connect_names("tagger", "direct_out", "direct", Grouping::Direct)
        .unwrap();
    let engine = Engine::start(&t, options(dir.path())).unwrap();
    wait_for("every word tagged", || engine.is_finished());
    let keyed = engine.collected_by_task("keyed_out");
    let reports = engine.collected("report_out");
    let directs = engine.collected_by_task("direct_out");
    let direct_target = *engine.tasks_of("direct_out").iter().max().unwrap();
    let others = engine.collected("direct_other");
    let snap = engine.stop(StopMode::Immediate);
    assert!(others.is_empty(), "{others:?}");
    assert_eq!(snap.nodes["tagger"].restarts, 0);
    assert_eq!(snap.nodes["tagger"].failed, 0);
    assert_eq!(keyed.len(), 60);
    assert_eq!(reports.len(), 60);
    // The task the child was told is the task that received the word, every time.
    let mut received: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for (task, v) in &keyed {
        received
            .entry(v.get(0).unwrap().to_string())
            .or_default()
            .push(i64::from(*task));
    }
    let mut reported: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for v in &reports {
        let (Some(w), Some(Val::Int(task)), Some(Val::Int(n))) = (v.get(0), v.get(1), v.get(2))
        else {
            panic!("{v:?}")
        };
        assert_eq!(*n, 1, "a fields grouping sends to one task");
        reported.entry(w.to_string()).or_default().push(*task);
    }
    for list in received.values_mut().chain(reported.values_mut()) {
        list.sort_unstable();
    }
    assert_eq!(received, reported);
    assert_eq!(directs.len(), 60);
    assert!(
        directs.iter().all(|(task, _)| *task == direct_target),
        "{directs:?}"
    );
}

#[test]
fn a_node_bolt_with_no_library_speaks_the_protocol_too() {
    let dir = scripts();
    let mut t = Topology::new("node");
    add(
        &mut t,
        Node::new("words", Role::Spout, "word_generator")
            .with_config("limit", 50)
            .with_output(StreamDecl::default_stream(&["word"])),
    );
    add(
        &mut t,
        Node::new("upper", Role::Bolt, "shell_bolt")
            .with_config("command", command(&["node", "upper.js"]))
            .with_output(StreamDecl::default_stream(&["word"])),
    );
    add(&mut t, Node::new("out", Role::Bolt, "collector"));
    add(&mut t, Node::new("plain", Role::Bolt, "collector"));
    t.connect_names("words", "upper", "default", Grouping::Shuffle)
        .unwrap();
    t.connect_names("words", "plain", "default", Grouping::Shuffle)
        .unwrap();
    t.connect_names("upper", "out", "default", Grouping::Shuffle)
        .unwrap();
    let engine = Engine::start(&t, options(dir.path())).unwrap();
    wait_for("50 words upper-cased", || engine.is_finished());
    let mut upper: Vec<String> = engine.collected("out").iter().map(|v| v.join("")).collect();
    let mut expected: Vec<String> = engine
        .collected("plain")
        .iter()
        .map(|v| v.join("").to_uppercase())
        .collect();
    engine.stop(StopMode::Immediate);
    upper.sort();
    expected.sort();
    assert_eq!(upper.len(), 50);
    assert_eq!(upper, expected);
}

/// numbers → a hand-written bolt in `mode` → collector.
fn plain_bolt(mode: &[&str], limit: i64, timeout: i64) -> Topology {
    let mut t = Topology::new("plain");
    t.settings.message_timeout_secs = 2;
    add(
        &mut t,
        Node::new("numbers", Role::Spout, "sequence")
            .with_config("limit", limit)
            .with_output(StreamDecl::default_stream(&["n"])),
    );
    let mut cmd = vec!["python3", "plain.py"];
    cmd.extend_from_slice(mode);
    add(
        &mut t,
        Node::new("bolt", Role::Bolt, "shell_bolt")
            .with_config("command", command(&cmd))
            .with_config("timeout_secs", timeout)
            .with_output(StreamDecl::default_stream(&["n"])),
    );
    add(&mut t, Node::new("out", Role::Bolt, "collector"));
    t.connect_names("numbers", "bolt", "default", Grouping::Shuffle)
        .unwrap();
    t.connect_names("bolt", "out", "default", Grouping::Shuffle)
        .unwrap();
    t
}

/// The pids of every child the run started, from its log.
fn pids(log: &[LogLine]) -> Vec<i32> {
    log.iter()
        .filter_map(|l| {
            l.text
                .split("(pid ")
                .nth(1)?
                .trim_end_matches(')')
                .parse()
                .ok()
        })
        .collect()
}

fn process_exists(pid: i32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

#[test]
fn a_child_that_exits_is_restarted_and_at_least_once_holds_and_stop_leaves_no_process() {
    let dir = scripts();
    let t = plain_bolt(&["exit_after", "7"], 40, 30);
    let engine = Engine::start(&t, options(dir.path())).unwrap();
    let mut log = Vec::new();
    wait_for(
        "all 40 numbers through a bolt that exits every 7 tuples",
        || {
            all_log(&engine, &mut log);
            engine.is_finished()
        },
    );
    let mut got: Vec<String> = engine.collected("out").iter().map(|v| v.join("")).collect();
    got.sort();
    got.dedup();
    let (snap, last) = engine.stop_interruptible(StopMode::Immediate, &Default::default());
    log.extend(last);
    assert_eq!(got.len(), 40, "every number arrived at least once");
    assert!(
        snap.nodes["bolt"].restarts >= 5,
        "{:#?}",
        snap.nodes["bolt"]
    );
    assert!(
        log.iter()
            .any(|l| l.node == "bolt" && l.text.contains("exited") && l.text.contains("3")),
        "the exit and its status are in the log: {log:#?}"
    );
    let started = pids(&log);
    assert!(started.len() >= 6, "{started:?}");
    for pid in started {
        assert!(
            !process_exists(pid),
            "child {pid} outlived the run (or is a zombie)"
        );
    }
}

#[test]
fn a_child_that_ignores_heartbeats_is_killed_and_its_stderr_reaches_the_log() {
    let dir = scripts();
    let engine = Engine::start(&plain_bolt(&["deaf"], 5, 1), options(dir.path())).unwrap();
    let mut log = Vec::new();
    wait_for("the deaf child restarted for its silence", || {
        all_log(&engine, &mut log);
        log.iter().any(|l| {
            l.text
                .contains("no answer to a heartbeat, and nothing else, for 1 s")
        })
    });
    engine.stop(StopMode::Immediate);

    let engine = Engine::start(&plain_bolt(&["stderr"], 5, 30), options(dir.path())).unwrap();
    let mut log = Vec::new();
    wait_for("the child's stderr in the run log", || {
        all_log(&engine, &mut log);
        log.iter()
            .any(|l| l.node == "bolt" && l.text.contains("hello from the bolt's stderr"))
    });
    wait_for("the stderr bolt still works", || engine.is_finished());
    engine.stop(StopMode::Immediate);
}

#[test]
fn a_child_that_breaks_the_protocol_is_named_and_restarted_while_the_rest_runs() {
    let dir = scripts();
    for (mode, expected) in [
        (
            "garbage",
            "not a JSON message (expected value at line 1 column 1): \"just printing, not speaking the protocol\"",
        ),
        ("undeclared", "undeclared stream \"nowhere\""),
        ("stranger", "\"no-such-id\""),
        ("flood", "a message over"),
    ] {
        let mut t = plain_bolt(&[mode], 0, 30);
        // A second pipeline beside the broken one must keep running.
        add(
            &mut t,
            Node::new("other", Role::Spout, "sequence")
                .with_config("rate_per_sec", 200.0)
                .with_output(StreamDecl::default_stream(&["n"])),
        );
        add(&mut t, Node::new("other_out", Role::Bolt, "collector"));
        t.connect_names("other", "other_out", "default", Grouping::Shuffle)
            .unwrap();
        let engine = Engine::start(&t, options(dir.path())).unwrap();
        let mut log = Vec::new();
        wait_for(&format!("{mode}: the crash named"), || {
            all_log(&engine, &mut log);
            log.iter()
                .filter(|l| l.node == "bolt" && l.text.contains(expected))
                .count()
                >= 2
        });
        let before = engine.collected("other_out").len();
        wait_for(&format!("{mode}: the other pipeline keeps running"), || {
            engine.collected("other_out").len() > before + 10
        });
        let snap = engine.stop(StopMode::Immediate);
        assert!(
            snap.nodes["bolt"].restarts >= 2,
            "{mode}: {:#?}",
            snap.nodes["bolt"]
        );
    }
}

#[test]
fn a_missing_program_is_an_error_in_the_log_and_the_task_keeps_retrying() {
    let dir = scripts();
    let mut t = plain_bolt(&[], 0, 30);
    t.node_by_name_mut("bolt").unwrap().config.insert(
        "command".into(),
        command(&["no-such-program-anywhere", "x"]),
    );
    let engine = Engine::start(&t, options(dir.path())).unwrap();
    let mut log = Vec::new();
    wait_for("the missing program named, twice", || {
        all_log(&engine, &mut log);
        log.iter()
            .filter(|l| {
                l.text.contains(
                    "cannot start no-such-program-anywhere: no program of that name on PATH",
                )
            })
            .count()
            >= 2
    });
    let snap = wait_for_snapshot(&engine, "the spout still emitting", |s| {
        s.nodes["numbers"].emitted > 0
    });
    assert!(snap.nodes["bolt"].restarts >= 2);
    engine.stop(StopMode::Immediate);
}

#[test]
fn nothing_runs_without_consent_and_the_refusal_lists_the_command() {
    let dir = scripts();
    let t = plain_bolt(&["stderr"], 5, 30);
    let refused = Engine::start(
        &t,
        RunOptions {
            base_dir: dir.path().to_path_buf(),
            ..RunOptions::default()
        },
    );
    let Err(RunError::NotAllowed(refusals)) = refused else {
        panic!("a shell bolt must not start without consent")
    };
    let text: Vec<String> = refusals.iter().map(ToString::to_string).collect();
    assert_eq!(text.len(), 1, "{text:?}");
    assert!(text[0].contains("python3 plain.py stderr"), "{text:?}");
    assert!(refusals[0].hint().unwrap().contains("--allow-exec"));
}

#[test]
fn flux_shell_wrappers_import_as_shell_components_export_back_and_run() {
    let dir = scripts();
    let python = venv_python();
    let flux = format!(
        r#"
name: "shell-word-count"
spouts:
  - id: "words"
    className: "org.apache.storm.testing.TestWordSpout"
    parallelism: 1
bolts:
  - id: "splitter"
    className: "org.apache.storm.flux.wrappers.bolts.FluxShellBolt"
    constructorArgs:
      - ["{}", "split_bolt.py"]
      - ["word"]
    configMethods:
      - name: "addComponentConfig"
        args: ["key", "value"]
    parallelism: 2
  - id: "sink"
    className: "org.apache.storm.flux.wrappers.bolts.LogInfoBolt"
    parallelism: 1
streams:
  - from: "words"
    to: "splitter"
    grouping:
      type: SHUFFLE
  - from: "splitter"
    to: "sink"
    grouping:
      type: FIELDS
      args: ["word"]
"#,
        python.display()
    );
    let path = dir.path().join("shell.yaml");
    std::fs::write(&path, &flux).unwrap();
    let t = tributary::format::import_file(&path, &Default::default()).unwrap();
    let splitter = t.node_by_name("splitter").unwrap();
    assert_eq!(splitter.component, "shell_bolt");
    assert_eq!(splitter.parallelism, 2);
    assert_eq!(
        splitter.config["command"],
        command(&[python.to_str().unwrap(), "split_bolt.py"])
    );
    assert_eq!(splitter.outputs[0].fields, ["word"]);
    // Export writes the wrapper back with its command, fields and config methods.
    let yaml = tributary::format::export(&t, tributary::format::ExportTarget::Flux).unwrap();
    assert!(
        yaml.contains("org.apache.storm.flux.wrappers.bolts.FluxShellBolt"),
        "{yaml}"
    );
    assert!(yaml.contains("split_bolt.py"), "{yaml}");
    assert!(yaml.contains("addComponentConfig"), "{yaml}");
    let exported = dir.path().join("exported.yaml");
    std::fs::write(&exported, &yaml).unwrap();
    let again = tributary::format::import_file(&exported, &Default::default()).unwrap();
    assert_eq!(again.node_by_name("splitter").unwrap(), splitter);
    // And it runs: TestWordSpout's words pass through the pystorm split unchanged.
    let engine = Engine::start(&t, options(dir.path())).unwrap();
    let snap = wait_for_snapshot(&engine, "words split by the imported shell bolt", |s| {
        s.nodes["splitter"].acked >= 50 && s.nodes["sink"].executed >= 50
    });
    assert_eq!(snap.nodes["splitter"].failed, 0);
    engine.stop(StopMode::Immediate);
}

/// The shipped example, copied with its script into a temp folder to run from there.
fn python_example() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let examples = common::examples_dir();
    std::fs::create_dir_all(dir.path().join("bolts")).unwrap();
    std::fs::copy(
        examples.join("bolts/split_words.py"),
        dir.path().join("bolts/split_words.py"),
    )
    .unwrap();
    let file = dir.path().join("python_word_count.ron");
    std::fs::copy(examples.join("python_word_count.ron"), &file).unwrap();
    (dir, file)
}

#[test]
fn the_cli_refuses_to_run_a_program_unasked_and_runs_the_example_with_allow_exec() {
    let (_dir, file) = python_example();
    let refused = common::cli()
        .args(["run", file.to_str().unwrap(), "--for", "5s"])
        .timeout(Duration::from_secs(60))
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&refused.get_output().stderr).to_string();
    assert!(stderr.contains("python3 bolts/split_words.py"), "{stderr}");
    assert!(stderr.contains("--allow-exec"), "{stderr}");
    assert!(stderr.contains("1 program(s) it would run"), "{stderr}");
    assert!(!stderr.contains("started its program"), "{stderr}");

    let ran = common::cli()
        .args([
            "run",
            file.to_str().unwrap(),
            "--for",
            "2s",
            "-q",
            "--allow-exec",
            "--json",
            "-",
        ])
        .timeout(Duration::from_secs(60))
        .assert()
        .success();
    let json: serde_json::Value = serde_json::from_slice(&ran.get_output().stdout).unwrap();
    let split = &json["nodes"]["split"];
    assert!(split["acked"].as_u64().unwrap() > 0, "{json}");
    assert_eq!(split["failed"], 0, "{json}");
    assert_eq!(split["restarts"], 0, "{json}");
    // Each word of a sentence reached count: ten words a sentence.
    assert_eq!(
        json["nodes"]["count"]["executed"].as_u64().unwrap(),
        10 * split["acked"].as_u64().unwrap(),
        "{json}"
    );
}

#[test]
fn a_shell_bolt_at_full_speed_with_thousands_pending_never_deadlocks() {
    // The spout runs unthrottled with 8192 trees in flight: the child is forever
    // writing emits while Tributary is writing tuples. A writer that waited for room
    // without reading what the child sent would wait forever.
    let dir = scripts();
    let mut t = word_count(Some(pystorm("split_bolt.py")));
    t.settings.max_spout_pending = Some(8192);
    t.node_by_name_mut("s")
        .unwrap()
        .config
        .insert("limit".into(), Value::Int(3000));
    let engine = Engine::start(&t, options(dir.path())).unwrap();
    wait_for(
        "3000 sentences through the pystorm split at full speed",
        || engine.is_finished(),
    );
    let snap = engine.stop(StopMode::Drain);
    assert_eq!(snap.nodes["count"].executed, 3000 * 6);
    assert_eq!(snap.nodes["split"].restarts, 0);
}

#[test]
fn a_busy_bolt_that_acks_slowly_is_alive_even_when_its_heartbeat_waits_behind_tuples() {
    // 50 ms a tuple and 100 tuples queued at once: the heartbeat waits behind five
    // seconds of work, longer than the 2 s timeout, but the child acks all along, which
    // shows it is alive (as Storm's ShellBolt counts any message). The trees' own
    // timeout is long, so nothing is replayed and each tuple is acked once.
    let dir = scripts();
    let mut t = plain_bolt(&["slow", "0.05"], 100, 2);
    t.settings.message_timeout_secs = 120;
    let engine = Engine::start(&t, options(dir.path())).unwrap();
    let mut log = Vec::new();
    wait_for("100 slow tuples acked", || {
        all_log(&engine, &mut log);
        engine.is_finished()
    });
    let snap = engine.stop(StopMode::Immediate);
    assert_eq!(snap.nodes["bolt"].restarts, 0, "{log:#?}");
    assert_eq!(snap.nodes["bolt"].acked, 100);
}

#[test]
fn stop_is_prompt_while_a_child_never_answers_its_handshake_and_the_child_is_gone() {
    let dir = scripts();
    let t = plain_bolt(&["silent"], 5, 3600);
    let engine = Engine::start(&t, options(dir.path())).unwrap();
    let pid_file = dir.path().join("silent.pid");
    wait_for("the silent child started", || {
        std::fs::read_to_string(&pid_file).is_ok_and(|s| !s.is_empty())
    });
    let pid: i32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        engine.stop(StopMode::Immediate);
        let _ = tx.send(());
    });
    // The deadline only turns a hang into a failure: a stop waiting for the handshake
    // would wait the node's hour.
    rx.recv_timeout(common::DEADLINE)
        .expect("Stop waited for a child that never answers its handshake");
    wait_for("the silent child killed and reaped", || {
        !process_exists(pid)
    });
}

#[test]
fn a_flux_shell_bolt_cannot_carry_a_command_of_its_own_beside_its_constructor() {
    let dir = scripts();
    let path = dir.path().join("sneaky.yaml");
    std::fs::write(
        &path,
        r#"
name: "sneaky"
spouts:
  - id: "words"
    className: "org.apache.storm.testing.TestWordSpout"
bolts:
  - id: "split"
    className: "org.apache.storm.flux.wrappers.bolts.FluxShellBolt"
    constructorArgs:
      - ["python3", "splitsentence.py"]
      - ["word"]
    command: ["sh", "-c", "echo pwned"]
streams:
  - from: "words"
    to: "split"
    grouping:
      type: SHUFFLE
"#,
    )
    .unwrap();
    let err = tributary::format::import_file(&path, &Default::default()).unwrap_err();
    let text = format!("{err:#}");
    assert!(text.contains("'command' is not a Flux key"), "{text}");
}

#[test]
fn a_task_that_keeps_crashing_ends_the_run_with_exit_code_1() {
    // The README's claim: `run` exits 1 when a task kept crashing (3 or more restarts).
    // A bolt whose program exits after every tuple is such a task.
    let dir = scripts();
    // An endless input at 50 a second keeps bringing it tuples to die on.
    let mut t = plain_bolt(&["exit_after", "1"], 0, 30);
    t.node_by_name_mut("numbers")
        .unwrap()
        .config
        .insert("rate_per_sec".into(), Value::Float(50.0));
    let file = common::save_in(dir.path(), "crashing.ron", &t);
    let out = common::cli()
        .args([
            "run",
            file.to_str().unwrap(),
            "--for",
            "3s",
            "-q",
            "--allow-exec",
        ])
        .timeout(Duration::from_secs(120))
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(stderr.contains("exited"), "{stderr}");
}

#[test]
fn lab_mode_and_micro_batch_mode_refuse_shell_components_naming_the_node() {
    let t = plain_bolt(&["stderr"], 5, 30);
    let why = tributary::runtime::lab::refusal(&t).expect("the lab cannot step a program");
    assert!(why.contains("'bolt'") || why.contains("bolt"), "{why}");
    assert!(why.contains("shell component in Lab mode"), "{why}");
    let mut batch = t.clone();
    batch.settings.mode = tributary::model::ExecutionMode::MicroBatch { interval_ms: 500 };
    let errors: Vec<String> = tributary::validate::validate(&batch)
        .iter()
        .filter(|d| d.is_error())
        .map(ToString::to_string)
        .collect();
    assert!(
        errors
            .iter()
            .any(|e| e.contains("'bolt'") && e.contains("runs record at a time only")),
        "{errors:?}"
    );
}
