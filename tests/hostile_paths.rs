//! Hostile files, part one: paths and listening addresses. Every component that touches
//! files is pointed outside its topology's folder in each way a stranger's file could
//! try — an absolute path, `../`, a symbolic link to something that exists, and a
//! dangling link (whose target an open would create) — and the run must refuse before
//! anything starts, leaving the outside folder exactly as it was. The same settings
//! inside the folder, or with the outside folder allowed, must still run.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test crate: a failure here is the test failing

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use tributary::model::{Grouping, Node, Role, StreamDecl, Topology};
use tributary::runtime::{Engine, RunError, RunOptions, StopMode};

mod common;
use common::cli as tributary;

/// A file-touching setting: which component, which key, and whether it names a folder.
#[derive(Clone, Copy, Debug)]
struct Case {
    component: &'static str,
    key: &'static str,
    folder: bool,
}

const CASES: &[Case] = &[
    Case {
        component: "file_sink",
        key: "path",
        folder: false,
    },
    Case {
        component: "file_lines",
        key: "path",
        folder: false,
    },
    Case {
        component: "spooldir",
        key: "spoolDir",
        folder: true,
    },
    Case {
        component: "file_roll",
        key: "sink.directory",
        folder: true,
    },
    Case {
        component: "file",
        key: "dataDirs",
        folder: true,
    },
    Case {
        component: "file",
        key: "checkpointDir",
        folder: true,
    },
];

/// The smallest runnable topology in which `case`'s node uses `raw` as its path.
fn topology(case: Case, raw: &str) -> Topology {
    let mut t = Topology::new("hostile");
    let seq_spout = || {
        Node::new("numbers", Role::Spout, "sequence")
            .with_config("limit", 5)
            .with_output(StreamDecl::default_stream(&["n"]))
    };
    let seq_source = || {
        Node::new("numbers", Role::Source, "sequence")
            .with_config("limit", 5)
            .with_output(StreamDecl::default_stream(&["n"]))
    };
    let memory = || Node::new("ch", Role::Channel, "memory");
    let flume_logger = || Node::new("log", Role::Sink, "logger");
    match case.component {
        "file_sink" => {
            t.add_node(seq_spout()).unwrap();
            t.add_node(Node::new("target", Role::Bolt, "file_sink").with_config(case.key, raw))
                .unwrap();
            t.connect_names("numbers", "target", "default", Grouping::Shuffle)
                .unwrap();
        }
        "file_lines" => {
            t.add_node(
                Node::new("target", Role::Spout, "file_lines")
                    .with_config(case.key, raw)
                    .with_output(StreamDecl::default_stream(&["line"])),
            )
            .unwrap();
            t.add_node(Node::new("drop", Role::Bolt, "null")).unwrap();
            t.connect_names("target", "drop", "default", Grouping::Shuffle)
                .unwrap();
        }
        "spooldir" => {
            t.add_node(
                Node::new("target", Role::Source, "spooldir")
                    .with_config(case.key, raw)
                    .with_output(StreamDecl::default_stream(&["body"])),
            )
            .unwrap();
            t.add_node(memory()).unwrap();
            t.add_node(flume_logger()).unwrap();
            t.connect_names("target", "ch", "default", Grouping::Required)
                .unwrap();
            t.connect_names("ch", "log", "default", Grouping::Drain)
                .unwrap();
        }
        "file_roll" => {
            t.add_node(seq_source()).unwrap();
            t.add_node(memory()).unwrap();
            t.add_node(Node::new("target", Role::Sink, "file_roll").with_config(case.key, raw))
                .unwrap();
            t.connect_names("numbers", "ch", "default", Grouping::Required)
                .unwrap();
            t.connect_names("ch", "target", "default", Grouping::Drain)
                .unwrap();
        }
        "file" => {
            t.add_node(seq_source()).unwrap();
            t.add_node(Node::new("target", Role::Channel, "file").with_config(case.key, raw))
                .unwrap();
            t.add_node(flume_logger()).unwrap();
            t.connect_names("numbers", "target", "default", Grouping::Required)
                .unwrap();
            t.connect_names("target", "log", "default", Grouping::Drain)
                .unwrap();
        }
        other => panic!("no topology for {other}"),
    }
    t
}

/// Every entry below `dir` with its size, so any creation, rename, deletion or write
/// shows up as a difference.
fn listing(dir: &Path) -> BTreeMap<PathBuf, u64> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let entry = entry.unwrap();
            let meta = std::fs::symlink_metadata(entry.path()).unwrap();
            if meta.is_dir() {
                stack.push(entry.path());
            }
            out.insert(entry.path(), meta.len());
        }
    }
    out
}

/// A topology folder and a sibling "outside" folder holding a secret file and a
/// non-empty folder, as a home directory would.
struct World {
    _root: tempfile::TempDir,
    base: PathBuf,
    outside: PathBuf,
}

impl World {
    fn new() -> World {
        let root = tempfile::tempdir().unwrap();
        let base = root.path().canonicalize().unwrap().join("topology");
        let outside = root.path().canonicalize().unwrap().join("outside");
        std::fs::create_dir_all(&base).unwrap();
        std::fs::create_dir_all(outside.join("folder")).unwrap();
        std::fs::write(outside.join("secret.txt"), "do not read\n").unwrap();
        std::fs::write(outside.join("folder/keep.txt"), "do not rename\n").unwrap();
        World {
            _root: root,
            base,
            outside,
        }
    }

    fn options(&self) -> RunOptions {
        RunOptions {
            base_dir: self.base.clone(),
            ..RunOptions::default()
        }
    }

    /// The ways a stranger's file points outside, for a file or folder setting. Links
    /// are planted in the topology folder, as an archive or a git checkout could.
    fn escapes(&self, folder: bool, tag: &str) -> Vec<(String, String)> {
        let (existing, missing) = if folder {
            (
                self.outside.join("folder"),
                self.outside.join(format!("new-{tag}")),
            )
        } else {
            (
                self.outside.join("secret.txt"),
                self.outside.join(format!("new-{tag}.txt")),
            )
        };
        let link = format!("link-{tag}");
        let dangling = format!("dangling-{tag}");
        std::os::unix::fs::symlink(&existing, self.base.join(&link)).unwrap();
        std::os::unix::fs::symlink(&missing, self.base.join(&dangling)).unwrap();
        vec![
            ("absolute".into(), existing.display().to_string()),
            (
                "parent".into(),
                format!(
                    "../outside/{}",
                    existing.file_name().unwrap().to_string_lossy()
                ),
            ),
            (
                "climbing out of a missing folder into a link".into(),
                format!("nope/../{link}"),
            ),
            ("link to an existing target".into(), link),
            ("dangling link".into(), dangling),
        ]
    }
}

#[test]
fn every_file_setting_pointing_outside_is_refused_and_nothing_outside_changes() {
    let world = World::new();
    let before = listing(&world.outside);
    for (i, case) in CASES.iter().enumerate() {
        for (how, raw) in world.escapes(case.folder, &i.to_string()) {
            let t = topology(*case, &raw);
            match Engine::start(&t, world.options()) {
                Err(RunError::NotAllowed(refusals)) => {
                    assert!(
                        refusals
                            .iter()
                            .any(|r| r.node() == "target" && r.message().contains(case.key)),
                        "{case:?} {how}: {refusals:?}"
                    );
                    let text = RunError::NotAllowed(refusals).to_string();
                    assert!(text.contains("outside the allowed folders"), "{text}");
                }
                Err(other) => panic!("{case:?} {how} ({raw}): refused for another reason: {other}"),
                Ok(engine) => {
                    engine.stop(StopMode::Immediate);
                    panic!("{case:?} {how} ({raw}) was allowed to run");
                }
            }
        }
    }
    assert_eq!(listing(&world.outside), before, "something outside changed");
}

#[test]
fn the_same_settings_run_inside_the_folder() {
    let world = World::new();
    std::fs::write(world.base.join("input.txt"), "a\nb\n").unwrap();
    for case in CASES {
        let raw = if case.component == "file_lines" {
            "input.txt"
        } else if case.folder {
            "inside/folder"
        } else {
            "inside/out.txt"
        };
        let engine = Engine::start(&topology(*case, raw), world.options())
            .unwrap_or_else(|e| panic!("{case:?} inside the folder: {e}"));
        engine.stop(StopMode::Immediate);
    }
}

#[test]
fn an_allowed_outside_folder_runs_and_the_topology_folder_stays_allowed() {
    let world = World::new();
    let target = world.outside.join("allowed");
    let options = RunOptions {
        allowed_dirs: vec![world.outside.clone()],
        ..world.options()
    };
    let mut t = topology(CASES[3], &target.display().to_string());
    // A second writer inside the topology's own folder must stay allowed too.
    t.add_node(Node::new("inner", Role::Bolt, "file_sink").with_config("path", "inner.txt"))
        .unwrap();
    let engine = Engine::start(&t, options).unwrap();
    engine.stop(StopMode::Drain);
    assert!(target.is_dir(), "the allowed folder was not used");
}

#[test]
fn a_link_planted_after_the_check_is_not_followed_by_the_file_sink() {
    // The check resolved `out.txt` to a plain file inside the folder; if a link takes
    // its place before the sink opens it, the open must fail rather than follow it.
    let world = World::new();
    let t = topology(CASES[0], "out.txt");
    std::os::unix::fs::symlink(world.outside.join("secret.txt"), world.base.join("out.txt"))
        .unwrap();
    // Resolution sees the link now, so the run is refused at the check…
    assert!(matches!(
        Engine::start(&t, world.options()),
        Err(RunError::NotAllowed(_))
    ));
    // …and the opener itself refuses a link as the last component.
    let opened = tributary::policy::paths::open_for_append(&world.base.join("out.txt"));
    assert!(opened.is_err());
    assert_eq!(
        std::fs::read_to_string(world.outside.join("secret.txt")).unwrap(),
        "do not read\n"
    );
}

fn netcat(bind: &str) -> Topology {
    let mut t = Topology::new("listening");
    t.add_node(
        Node::new("net", Role::Source, "netcat")
            .with_config("bind", bind)
            .with_config("port", 0)
            .with_output(StreamDecl::default_stream(&["body"])),
    )
    .unwrap();
    t.add_node(Node::new("ch", Role::Channel, "memory"))
        .unwrap();
    t.add_node(Node::new("log", Role::Sink, "logger")).unwrap();
    t.connect_names("net", "ch", "default", Grouping::Required)
        .unwrap();
    t.connect_names("ch", "log", "default", Grouping::Drain)
        .unwrap();
    t
}

#[test]
fn listening_beyond_loopback_or_on_a_name_needs_consent() {
    let world = World::new();
    for bind in ["0.0.0.0", "::", "192.0.2.1", "beacon.invalid"] {
        match Engine::start(&netcat(bind), world.options()) {
            Err(RunError::NotAllowed(refusals)) => {
                let text = refusals[0].to_string();
                assert!(text.contains(bind), "{text}");
                assert!(text.contains("network permission"), "{text}");
            }
            Err(other) => panic!("{bind}: {other}"),
            Ok(_) => panic!("{bind} was bound without consent"),
        }
    }
    for bind in ["127.0.0.1", "localhost", "::1"] {
        if bind == "::1" && std::net::TcpListener::bind("[::1]:0").is_err() {
            continue; // no IPv6 loopback on this machine
        }
        let engine =
            Engine::start(&netcat(bind), world.options()).unwrap_or_else(|e| panic!("{bind}: {e}"));
        engine.stop(StopMode::Immediate);
    }
}

#[test]
fn run_from_the_topology_folder_with_a_bare_file_name_may_use_that_folder() {
    let world = World::new();
    tributary::format::save_ron(&topology(CASES[0], "out.txt"), &world.base.join("my.ron"))
        .unwrap();
    for file in ["my.ron", "./my.ron"] {
        tributary()
            .current_dir(&world.base)
            .args(["run", file, "--for", "20s", "--quiet"])
            .assert()
            .success();
    }
    let written = std::fs::read_to_string(world.base.join("out.txt")).unwrap();
    assert_eq!(written.lines().count(), 10, "{written}");
}

#[test]
fn run_lists_every_refusal_with_its_place_and_how_to_allow_it() {
    let world = World::new();
    let mut t = topology(CASES[0], "../outside/stolen.txt");
    let listener = netcat("0.0.0.0");
    for node in listener.nodes() {
        t.add_node(node.clone()).unwrap();
    }
    t.connect_names("net", "ch", "default", Grouping::Required)
        .unwrap();
    t.connect_names("ch", "log", "default", Grouping::Drain)
        .unwrap();
    let file = world.base.join("two.ron");
    tributary::format::save_ron(&t, &file).unwrap();
    let out = tributary()
        .args(["run", &file.display().to_string(), "--for", "5s"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("two.ron:"), "{stderr}");
    assert!(
        stderr.contains("node 'target'") && stderr.contains("--allow "),
        "{stderr}"
    );
    assert!(
        stderr.contains("0.0.0.0:0") && stderr.contains("--allow-network"),
        "{stderr}"
    );
    assert!(!world.outside.join("stolen.txt").exists());

    // Allowing the folder leaves only the network refusal.
    let out = tributary()
        .args(["run", &file.display().to_string(), "--for", "5s"])
        .args(["--allow", &world.outside.display().to_string()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(!stderr.contains("node 'target'"), "{stderr}");
    assert!(stderr.contains("--allow-network"), "{stderr}");
}

#[test]
fn validate_warns_about_what_a_run_would_need_permission_for() {
    let world = World::new();
    let file = world.base.join("spool.ron");
    tributary::format::save_ron(&topology(CASES[2], "/etc"), &file).unwrap();
    let out = tributary()
        .args(["validate", &file.display().to_string()])
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("warning") && stderr.contains("reads and renames every file in /etc"),
        "{stderr}"
    );
}

#[test]
fn a_link_planted_in_the_spool_folder_is_neither_read_nor_renamed() {
    let world = World::new();
    let spool = world.base.join("spool");
    std::fs::create_dir_all(&spool).unwrap();
    std::fs::write(spool.join("real.log"), "one\ntwo\n").unwrap();
    std::os::unix::fs::symlink(world.outside.join("secret.txt"), spool.join("planted.log"))
        .unwrap();
    let before = listing(&world.outside);
    let engine = Engine::start(&topology(CASES[2], "spool"), world.options()).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !spool.join("real.log.COMPLETED").exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "the real file was never read"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // Give the source more polls in which it could have taken the link.
    std::thread::sleep(std::time::Duration::from_millis(1200));
    let logged: Vec<String> = engine.drain_log().into_iter().map(|l| l.text).collect();
    engine.stop(StopMode::Immediate);
    assert!(
        !logged.iter().any(|l| l.contains("do not read")),
        "{logged:?}"
    );
    assert!(std::fs::symlink_metadata(spool.join("planted.log")).is_ok());
    assert!(!spool.join("planted.log.COMPLETED").exists());
    assert_eq!(listing(&world.outside), before);
}

#[test]
fn hidden_places_in_the_folder_and_the_topology_itself_are_guarded() {
    let world = World::new();
    std::fs::create_dir_all(world.base.join(".git")).unwrap();
    std::fs::write(world.base.join(".git/config"), "[core]\n").unwrap();
    let git = world.base.join("git.ron");
    tributary::format::save_ron(&topology(CASES[0], ".git/config"), &git).unwrap();
    let out = tributary()
        .args(["run", &git.display().to_string(), "--for", "5s"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(".git is hidden") && stderr.contains("--allow"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(world.base.join(".git/config")).unwrap(),
        "[core]\n"
    );

    // A spool folder that is the topology's own folder would rename the topology.
    let spool = world.base.join("spool-here.ron");
    tributary::format::save_ron(&topology(CASES[2], "."), &spool).unwrap();
    let out = tributary()
        .args(["run", &spool.display().to_string(), "--for", "5s"])
        .args(["--allow", &world.base.display().to_string()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("topology file being run"), "{stderr}");
    assert!(spool.exists() && git.exists());
}
