//! Hostile topology and import files: generated here, in temporary folders, never
//! downloaded. Each case is something a file from someone else could try: read outside
//! its folder through Flux `includes`, multiply the work with include fan-out, nest
//! brackets so deep the parser crawls, or be no file at all (`/dev/zero`, a FIFO) or a
//! huge one. Every case must end promptly with an error that names the file (and the line
//! and column, or the include) and says what to do.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test crate: a failure here is the test failing

mod common;

use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use tributary::format::{
    self, FormatError, ImportError, ImportOptions, MAX_FILE_BYTES,
    flux::{MAX_FLOW_NESTING, MAX_INCLUDE_BYTES, MAX_INCLUDE_FILES},
};
use tributary::model::Grouping;

/// Longer than any case needs by far; only there so a regression fails instead of hanging.
const GUARD: Duration = Duration::from_secs(60);

/// Runs `work` on its own thread and fails the test if it has not finished after `GUARD`
/// (the work would otherwise hang the suite).
fn guarded<T: Send + 'static>(what: &str, work: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(work());
    });
    rx.recv_timeout(GUARD)
        .unwrap_or_else(|_| panic!("{what}: still running after {GUARD:?}; it would hang"))
}

fn write(path: &Path, text: &str) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(path, text).unwrap();
}

/// A valid Flux topology (one spout, one bolt, one stream) that includes `includes`.
fn flux_with_includes(includes: &[&str]) -> String {
    let mut text = String::from(
        "name: host\n\
         spouts:\n  - id: words\n    className: org.apache.storm.testing.TestWordSpout\n\
         bolts:\n  - id: print\n    className: org.apache.storm.flux.wrappers.bolts.LogInfoBolt\n\
         streams:\n  - from: words\n    to: print\n    grouping:\n      type: SHUFFLE\n",
    );
    if !includes.is_empty() {
        text.push_str("includes:\n");
        for file in includes {
            text.push_str(&format!("  - file: \"{file}\"\n"));
        }
    }
    text
}

/// A Flux file someone would want to steal: its config would be copied into the import.
const SECRET: &str = "config:\n  stolen.key: \"SECRET-MARKER-7f3a\"\n";
const MARKER: &str = "SECRET-MARKER-7f3a";

fn import(path: &Path, options: &ImportOptions) -> Result<tributary::model::Topology, ImportError> {
    let path = path.to_path_buf();
    let options = options.clone();
    guarded("import", move || format::import_file(&path, &options))
}

fn refusal(result: Result<tributary::model::Topology, ImportError>) -> String {
    match result {
        Ok(t) => panic!(
            "imported although it should be refused:\n{}",
            format::to_ron_string(&t)
        ),
        Err(e) => e.to_string(),
    }
}

/// `tributary import FILE -o OUT ARGS…`: (success, stdout + stderr, whether OUT exists and
/// its text).
fn cli_import(file: &Path, out: &Path, args: &[&str]) -> (bool, String, Option<String>) {
    let output = common::cli()
        .arg("import")
        .arg(file)
        .arg("-o")
        .arg(out)
        .args(args)
        .timeout(GUARD)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (
        output.status.success(),
        text,
        std::fs::read_to_string(out).ok(),
    )
}

#[test]
fn include_of_a_parent_folder_file_is_refused_unread() {
    let root = tempfile::tempdir().unwrap();
    write(&root.path().join("secret.yml"), SECRET);
    let top = root.path().join("project/top.yaml");
    write(&top, &flux_with_includes(&["../secret.yml"]));
    let message = refusal(import(&top, &ImportOptions::default()));
    assert!(
        message.contains("top.yaml"),
        "names the including file: {message}"
    );
    assert!(
        message.contains("../secret.yml"),
        "names the include: {message}"
    );
    assert!(message.contains("outside"), "{message}");
    assert!(
        message.contains("--allow"),
        "says how to allow it: {message}"
    );
    assert!(!message.contains(MARKER), "leaks the content: {message}");
}

#[test]
fn include_of_an_absolute_path_is_refused_and_nothing_of_it_reaches_any_output() {
    let root = tempfile::tempdir().unwrap();
    let elsewhere = root.path().join("etc/passwd.yaml");
    write(&elsewhere, SECRET);
    let top = root.path().join("project/top.yaml");
    write(&top, &flux_with_includes(&[elsewhere.to_str().unwrap()]));
    let out = root.path().join("project/out.ron");
    let (ok, text, written) = cli_import(&top, &out, &[]);
    assert!(!ok, "import succeeded: {text}");
    assert!(text.contains("outside"), "{text}");
    assert!(!text.contains(MARKER), "leaks the content: {text}");
    assert_eq!(written, None, "an output file was written");
    // The library refuses it too, so the designer (which imports through it) does.
    let message = refusal(import(&top, &ImportOptions::default()));
    assert!(message.contains(elsewhere.to_str().unwrap()), "{message}");
}

#[cfg(unix)]
#[test]
fn a_symlink_include_pointing_out_is_refused_and_one_pointing_in_is_followed() {
    let root = tempfile::tempdir().unwrap();
    write(&root.path().join("outside/secret.yaml"), SECRET);
    let project = root.path().join("project");
    write(
        &project.join("inside.yaml"),
        "config:\n  own.key: \"mine\"\n",
    );
    std::os::unix::fs::symlink(
        root.path().join("outside/secret.yaml"),
        project.join("looks-local.yaml"),
    )
    .unwrap();
    std::os::unix::fs::symlink(project.join("inside.yaml"), project.join("alias.yaml")).unwrap();

    let top = project.join("top.yaml");
    write(&top, &flux_with_includes(&["looks-local.yaml"]));
    let message = refusal(import(&top, &ImportOptions::default()));
    assert!(message.contains("looks-local.yaml"), "{message}");
    assert!(message.contains("outside"), "{message}");
    assert!(!message.contains(MARKER), "{message}");

    write(&top, &flux_with_includes(&["alias.yaml"]));
    let t = import(&top, &ImportOptions::default()).unwrap();
    assert!(format::to_ron_string(&t).contains("mine"));
}

#[test]
fn an_allowed_folder_is_accepted_by_the_library_and_the_cli() {
    let root = tempfile::tempdir().unwrap();
    let shared = root.path().join("shared");
    write(&shared.join("common.yaml"), SECRET);
    let top = root.path().join("project/top.yaml");
    write(&top, &flux_with_includes(&["../shared/common.yaml"]));

    let options = ImportOptions {
        allowed_dirs: vec![shared.clone()],
        ..ImportOptions::default()
    };
    let t = import(&top, &options).unwrap();
    assert!(format::to_ron_string(&t).contains(MARKER));

    let out = root.path().join("project/out.ron");
    let (_, text, written) = cli_import(&top, &out, &["--allow", shared.to_str().unwrap()]);
    let written = written.unwrap_or_else(|| panic!("no output written: {text}"));
    assert!(written.contains(MARKER), "{written}");
    // Allowing one folder does not allow its neighbours.
    write(&root.path().join("other/x.yaml"), SECRET);
    write(&top, &flux_with_includes(&["../other/x.yaml"]));
    let message = refusal(import(&top, &options));
    assert!(message.contains("outside"), "{message}");
}

#[test]
fn include_fan_out_ends_with_a_budget_error() {
    // 16 levels, each file including the 10 files of the next level: 10^16 paths through
    // the includes, 161 distinct files. The budget stops the import early.
    let dir = tempfile::tempdir().unwrap();
    const LEVELS: usize = 16;
    const FAN_OUT: usize = 10;
    for level in 1..LEVELS {
        for j in 0..FAN_OUT {
            let next: Vec<String> = (0..FAN_OUT)
                .filter(|_| level + 1 < LEVELS)
                .map(|k| format!("l{}_{k}.yaml", level + 1))
                .collect();
            let mut text = format!("config:\n  key.{level}.{j}: 1\n");
            if !next.is_empty() {
                text.push_str("includes:\n");
                for n in &next {
                    text.push_str(&format!("  - file: {n}\n"));
                }
            }
            write(&dir.path().join(format!("l{level}_{j}.yaml")), &text);
        }
    }
    let first: Vec<String> = (0..FAN_OUT).map(|k| format!("l1_{k}.yaml")).collect();
    let first: Vec<&str> = first.iter().map(String::as_str).collect();
    let top = dir.path().join("top.yaml");
    write(&top, &flux_with_includes(&first));
    let message = refusal(import(&top, &ImportOptions::default()));
    assert!(
        message.contains(&format!("more than {MAX_INCLUDE_FILES} files")),
        "{message}"
    );
}

#[test]
fn a_file_included_many_times_is_read_and_merged_once() {
    // 16 levels, each including the next level's single file 10 times: exponential
    // without a visited set, and within the budget with one.
    let dir = tempfile::tempdir().unwrap();
    const LEVELS: usize = 15;
    for level in 1..=LEVELS {
        let mut text = format!(
            "config:\n  key.{level}: {level}\nstreams: [{{from: words, to: print, grouping: {{type: SHUFFLE}}}}]\n"
        );
        if level < LEVELS {
            text.push_str("includes:\n");
            for _ in 0..10 {
                text.push_str(&format!("  - file: l{}.yaml\n", level + 1));
            }
        }
        write(&dir.path().join(format!("l{level}.yaml")), &text);
    }
    let top = dir.path().join("top.yaml");
    write(&top, &flux_with_includes(&["l1.yaml"; 10]));
    let t = import(&top, &ImportOptions::default()).unwrap();
    for level in 1..=LEVELS {
        let key = format!("key.{level}");
        assert!(t.settings.extra.contains_key(&key), "{key} missing");
    }
    assert_eq!(t.edge_count(), 1, "the same stream merged once");
}

#[test]
fn includes_share_one_byte_budget() {
    let dir = tempfile::tempdir().unwrap();
    // Each file is under the single-file limit; together they are over it.
    let parts = 3;
    let size = usize::try_from(MAX_INCLUDE_BYTES).unwrap() / parts + 1024;
    let filler = format!("#{}\n", "x".repeat(1022)).repeat(size / 1024);
    let names: Vec<String> = (0..parts).map(|i| format!("part{i}.yaml")).collect();
    for name in &names {
        write(
            &dir.path().join(name),
            &format!("{filler}config:\n  k: 1\n"),
        );
    }
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let top = dir.path().join("top.yaml");
    write(&top, &flux_with_includes(&names));
    let message = refusal(import(&top, &ImportOptions::default()));
    assert!(
        message.contains("the imported file and its includes together"),
        "{message}"
    );
    assert!(
        message.contains("part2.yaml"),
        "names the file over budget: {message}"
    );
}

#[test]
fn deep_flux_nesting_is_refused_with_a_location() {
    let dir = tempfile::tempdir().unwrap();
    let top = dir.path().join("deep.yaml");
    write(
        &top,
        &format!("name: deep\nargs: {}\n", "[".repeat(200_000)),
    );
    let result = import(&top, &ImportOptions::default());
    let Err(ImportError::Syntax {
        line, col, message, ..
    }) = result
    else {
        panic!("not a syntax error: {result:?}");
    };
    assert_eq!((line, col), (2, 7 + MAX_FLOW_NESTING));
    assert!(message.contains("nest deeper"), "{message}");
    // The same text without a file (the designer's paste path) is checked too.
    let text = std::fs::read_to_string(&top).unwrap();
    let err = guarded("import_str", move || {
        format::flux::import_str(&text, Path::new("pasted.yaml")).unwrap_err()
    });
    assert!(err.to_string().starts_with("pasted.yaml:2:"), "{err}");
}

#[test]
fn deep_ron_nesting_is_refused_with_a_location() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("deep.ron");
    let text = format!(
        "(version: 1, name: \"x\", nodes: [(name: \"a\", role: Bolt, component: \"map\", config: {{\"k\": {}}})])",
        "[".repeat(200_000)
    );
    write(&path, &text);
    let err = guarded("load_ron", move || format::load_ron(&path).unwrap_err());
    assert!(
        matches!(err, FormatError::Syntax { .. }),
        "not a syntax error: {err}"
    );
    assert!(err.to_string().contains("nest too deeply"), "{err}");
    // It points at the `[` where the parser's 64 levels ran out: the 29th, as each list
    // in a config value costs two levels and the records around it the rest.
    assert_eq!(
        err.position().map(|at| (at.line, at.col)),
        Some((1, 88 + 29))
    );
}

#[cfg(unix)]
#[test]
fn dev_zero_is_refused_by_every_reader_and_the_cli() {
    let zero = Path::new("/dev/zero");
    let err = guarded("load_ron", || format::load_ron(zero).unwrap_err());
    assert!(err.to_string().contains("not a regular file"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    // Imports pick the reader by extension, so give /dev/zero each one through a link.
    for name in ["zero.yaml", "zero.properties"] {
        let link = dir.path().join(name);
        std::os::unix::fs::symlink(zero, &link).unwrap();
        let message = refusal(import(&link, &ImportOptions::default()));
        assert!(message.contains("not a regular file"), "{name}: {message}");
    }
    let output = common::cli()
        .args(["validate", "/dev/zero"])
        .timeout(GUARD)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("/dev/zero"), "{stderr}");
    assert!(stderr.contains("not a regular file"), "{stderr}");
}

#[cfg(unix)]
#[test]
fn a_fifo_is_refused_without_waiting_for_a_writer() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe.ron");
    let c_path = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path; mkfifo only creates the file.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
    let err = guarded("load_ron", move || format::load_ron(&fifo).unwrap_err());
    assert!(err.to_string().contains("FIFO"), "{err}");
}

#[test]
fn a_file_over_the_size_limit_is_refused_for_every_format() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["big.ron", "big.yaml", "big.properties"] {
        let path = dir.path().join(name);
        // Sparse: one byte over the limit costs no disk space and is never read.
        let file = std::fs::File::create(&path).unwrap();
        file.set_len(MAX_FILE_BYTES + 1).unwrap();
        drop(file);
        let message = if name.ends_with(".ron") {
            let path = path.clone();
            guarded("load_ron", move || format::load_ron(&path).unwrap_err()).to_string()
        } else {
            refusal(import(&path, &ImportOptions::default()))
        };
        assert!(message.contains(name), "{message}");
        let expected = if name.ends_with(".yaml") {
            // Flux YAML has its own, lower budget (file and includes together).
            "more than 8 MiB"
        } else {
            "larger than 32 MiB"
        };
        assert!(message.contains(expected), "{message}");
    }
}

#[test]
fn a_large_generated_flume_file_imports_completely() {
    // Linear import: thousands of components, each wired to its own channel. The guard
    // only keeps a quadratic regression from hanging the suite.
    const N: usize = 3000;
    let mut text = String::new();
    let names = |prefix: &str| {
        (0..N)
            .map(|i| format!("{prefix}{i}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    text.push_str(&format!("a.sources = {}\n", names("s")));
    text.push_str(&format!("a.channels = {}\n", names("c")));
    text.push_str(&format!("a.sinks = {}\n", names("k")));
    for i in 0..N {
        text.push_str(&format!(
            "a.sources.s{i}.type = seq\na.sources.s{i}.channels = c{i}\n\
             a.channels.c{i}.type = memory\na.channels.c{i}.capacity = {}\n\
             a.sinks.k{i}.type = logger\na.sinks.k{i}.channel = c{i}\n",
            100 + i
        ));
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.properties");
    write(&path, &text);
    let t = import(&path, &ImportOptions::default()).unwrap();
    assert_eq!(t.node_count(), 3 * N);
    assert_eq!(t.edge_count(), 2 * N);
    for i in (0..N).step_by(97) {
        let channel = t.node_by_name(&format!("c{i}")).unwrap();
        assert_eq!(
            channel.config.get("capacity"),
            Some(&tributary::model::Value::Int(100 + i as i64))
        );
        let c = t.index_of(&format!("c{i}")).unwrap();
        let from: Vec<String> = t
            .inputs(c)
            .map(|(_, n, _)| t.node(n).unwrap().name.clone())
            .collect();
        assert_eq!(from, [format!("s{i}")]);
        let to: Vec<(String, Grouping)> = t
            .outputs(c)
            .map(|(_, n, e)| (t.node(n).unwrap().name.clone(), e.grouping.clone()))
            .collect();
        assert_eq!(to, [(format!("k{i}"), Grouping::Drain)]);
    }
}

#[test]
fn a_large_flux_chain_listed_backwards_imports_in_flow_order() {
    // Bolts listed last first: the layout must still place each one column further.
    const N: usize = 2000;
    let mut text = String::from(
        "name: chain\nspouts:\n  - id: b0\n    className: org.apache.storm.testing.TestWordSpout\nbolts:\n",
    );
    for i in (1..N).rev() {
        text.push_str(&format!("  - id: b{i}\n    className: org.example.Bolt\n"));
    }
    text.push_str("streams:\n");
    for i in 1..N {
        text.push_str(&format!(
            "  - from: b{}\n    to: b{i}\n    grouping:\n      type: SHUFFLE\n",
            i - 1
        ));
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chain.yaml");
    write(&path, &text);
    let t = import(&path, &ImportOptions::default()).unwrap();
    assert_eq!((t.node_count(), t.edge_count()), (N, N - 1));
    let x = |i: usize| t.node_by_name(&format!("b{i}")).unwrap().pos.0;
    for i in (1..N).step_by(101) {
        assert!(x(i) > x(i - 1), "b{i} is not right of b{}", i - 1);
    }
}

#[test]
fn flume_component_names_with_dots_are_refused_clearly() {
    let text = "a.sources = s\na.channels = c.1\na.sinks = k\n\
                a.sources.s.type = seq\na.sources.s.channels = c.1\n\
                a.channels.c.1.type = memory\n\
                a.sinks.k.type = logger\na.sinks.k.channel = c.1\n";
    let err = format::flume::import_str(
        text,
        Path::new("dots.properties"),
        &ImportOptions::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("cannot contain '.'"), "{err}");
    assert!(err.contains("c.1"), "{err}");
}

/// Bytes of generated placeholder openings: quadratic work would take minutes here,
/// linear work takes a moment.
const PLACEHOLDER_BYTES: usize = 2 * 1024 * 1024;

#[test]
fn millions_of_unclosed_placeholders_are_substituted_in_one_pass() {
    // Every `${` (Flume `--env-filter`, Flux `--filter`) or `${ENV-` (Flux
    // `--env-filter`) without its `}` used to search the whole rest of the text for one.
    // Each value ends with one real placeholder, so the pass must still find it.
    let path_var = std::env::var("PATH").unwrap_or_default();
    let dir = tempfile::tempdir().unwrap();
    let env = ImportOptions {
        env: true,
        ..ImportOptions::default()
    };

    let opens = "${".repeat(PLACEHOLDER_BYTES / 2);
    let flume = dir.path().join("opens.properties");
    write(
        &flume,
        &format!(
            "a.sources = r\na.channels = c\na.sources.r.type = netcat\na.sources.r.channels = c\n\
             a.sources.r.bind = {opens}${{PATH}}\na.channels.c.type = memory\n"
        ),
    );
    let t = import(&flume, &env).unwrap();
    let bind = t.node_by_name("r").unwrap().config["bind"]
        .as_str()
        .unwrap();
    assert_eq!(bind, format!("{opens}{path_var}"));

    let flux = |name: &str, value: &str| {
        let path = dir.path().join(name);
        write(
            &path,
            &format!(
                "name: opens\nconfig:\n  big: \"{value}\"\nspouts:\n  - id: words\n    className: org.apache.storm.testing.TestWordSpout\n"
            ),
        );
        path
    };
    let big =
        |t: &tributary::model::Topology| t.settings.extra["big"].as_str().unwrap().to_string();

    let env_opens = "${ENV-".repeat(PLACEHOLDER_BYTES / 6);
    let path = flux("env.yaml", &format!("{env_opens}${{ENV-PATH}}"));
    assert_eq!(
        big(&import(&path, &env).unwrap()),
        format!("{env_opens}{path_var}")
    );

    let filter = dir.path().join("filter.properties");
    write(&filter, "key = value\n");
    let with_filter = ImportOptions {
        filter: Some(filter),
        ..ImportOptions::default()
    };
    let path = flux("filter.yaml", &format!("{opens}${{key}}"));
    assert_eq!(
        big(&import(&path, &with_filter).unwrap()),
        format!("{opens}value")
    );
}
