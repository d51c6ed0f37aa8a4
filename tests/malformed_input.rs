//! Bad input never panics: every broken file gives an error that names the file, and
//! syntax errors name the line and column. Random byte mutations of the examples prove
//! the loader and validator hold up against input nobody thought of.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test crate: a failure here is the test failing

mod common;

use std::path::{Path, PathBuf};

use tributary::format::{FormatError, from_ron_str, load_ron};

fn examples() -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("topologies");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "ron"))
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect();
    files.sort();
    files
}

/// Where a case's error must point, or that it loads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    At(usize, usize),
    Loads,
}
use Expect::{At, Loads};

/// The line and column just after the last character: where a cut-off file ends.
fn end_of(bytes: &[u8]) -> Expect {
    let text = std::str::from_utf8(bytes).unwrap();
    let last = text.rsplit('\n').next().unwrap();
    At(text.matches('\n').count() + 1, last.chars().count() + 1)
}

/// Every broken file with the place its error must name, worked out from the file by
/// hand (columns count characters from 1).
fn broken_corpus() -> Vec<(&'static str, Vec<u8>, Expect)> {
    let word_count =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("topologies/word_count.ron"))
            .unwrap();
    let half = word_count[..word_count.len() / 2].to_vec();
    let deep_prefix = "(version: 1, name: \"x\", nodes: [(name: \"a\", role: Bolt, component: \"map\", config: {\"k\": ";
    assert_eq!(deep_prefix.len(), 88);
    let deep = format!(
        "{deep_prefix}{}1{}}})])",
        "[".repeat(20_000),
        "]".repeat(20_000)
    );
    let deep_parens = "(".repeat(20_000);
    let huge = format!(
        "(version: 1, name: \"{}\", nodes: [], edges: [])",
        "x".repeat(5 * 1024 * 1024)
    );
    let huge_unterminated = format!("(version: 1, name: \"{}", "y".repeat(5 * 1024 * 1024));
    let half_end = end_of(&half);
    vec![
        ("empty", Vec::new(), At(1, 1)),
        ("whitespace", b"  \n\t\n".to_vec(), At(1, 1)),
        ("truncated", half, half_end),
        // The first byte that is not UTF-8 is 0x80 at offset 128; the one newline before
        // it is at offset 10, so it is character 118 of line 2.
        ("binary", (0..=255u8).cycle().take(4096).collect(), At(2, 118)),
        ("nul bytes", vec![0; 100], At(1, 1)),
        // The 29th `[`: a list in a config value costs two of the parser's 64 levels.
        ("deep nesting", deep.into_bytes(), At(1, 88 + 29)),
        // The second `(`, where a field name should be.
        ("deep parens", deep_parens.into_bytes(), At(1, 2)),
        // The string's opening quote.
        ("huge unterminated string", huge_unterminated.into_bytes(), At(1, 20)),
        // The text "one" where the version number should be.
        ("wrong type", b"(version: \"one\", name: 5)".to_vec(), At(1, 11)),
        // The 3 of -3: the parser reads the sign before it finds the number out of range.
        (
            "wrong nested type",
            b"(version: 1, name: \"x\", nodes: [(name: \"a\", role: Spout, component: \"sequence\", parallelism: -3)])".to_vec(),
            At(1, 95),
        ),
        ("unknown role", b"(version: 1, name: \"x\", nodes: [(name: \"a\", role: Teapot, component: \"x\")])".to_vec(), At(1, 51)),
        ("unknown field", b"(version: 1, name: \"x\", colour: 3)".to_vec(), At(1, 25)),
        // The record's closing `)`, where the missing field was due.
        ("missing version", b"(name: \"x\")".to_vec(), At(1, 11)),
        ("json", br#"{"version": 1, "name": "x"}"#.to_vec(), At(1, 1)),
        ("yaml", b"version: 1\nname: x\n".to_vec(), At(1, 1)),
        ("bad utf8", b"(version: 1, name: \"\xff\xfe\")".to_vec(), At(1, 21)),
        ("named top level", b"topology(version: 1, name: \"x\")".to_vec(), At(1, 1)),
        ("named node", b"(version: 1, name: \"x\", nodes: [node(name: \"a\", role: Spout, component: \"x\")])".to_vec(), At(1, 33)),
        // The node's closing `)`.
        ("missing node field", b"(version: 1, name: \"x\", nodes: [(name: \"a\", component: \"x\")])".to_vec(), At(1, 59)),
        ("unknown node field", b"(version: 1, name: \"x\", nodes: [(name: \"a\", role: Spout, component: \"x\", colour: 1)])".to_vec(), At(1, 74)),
        // The second `version`.
        ("duplicate field", b"(version: 1, version: 1, name: \"x\")".to_vec(), At(1, 14)),
        ("unknown grouping", b"(version: 1, name: \"x\", edges: [(from: \"a\", to: \"b\", grouping: Teapot)])".to_vec(), At(1, 64)),
        // The third number, where `)` should close the pair.
        ("position of three", b"(version: 1, name: \"x\", nodes: [(name: \"a\", role: Spout, component: \"x\", pos: (1, 2, 3))])".to_vec(), At(1, 86)),
        ("settings not a record", b"(version: 1, name: \"x\", settings: 5)".to_vec(), At(1, 35)),
        ("config not a map", b"(version: 1, name: \"x\", nodes: [(name: \"a\", role: Spout, component: \"x\", config: [1])])".to_vec(), At(1, 82)),
        // The `}` closing the value: it is judged once read.
        ("config value of no kind", b"(version: 1, name: \"x\", nodes: [(name: \"a\", role: Spout, component: \"x\", config: {\"k\": {1: 2}})])".to_vec(), At(1, 93)),
        ("window of wrong shape", b"(version: 1, name: \"x\", nodes: [(name: \"a\", role: Bolt, component: \"x\", window: Some(5))])".to_vec(), At(1, 81)),
        // The cluster record's closing `)`, where slots_per_machine was due.
        ("cluster missing slots", b"(version: 1, name: \"x\", settings: (cluster: (machines: 2)))".to_vec(), At(1, 57)),
        // The text where the number of machines should be.
        ("cluster machines as text", b"(version: 1, name: \"x\", settings: (cluster: (machines: \"two\", slots_per_machine: 1)))".to_vec(), At(1, 56)),
        // The 99.
        ("newer version", b"(\n    version: 99,\n    name: \"x\",\n)".to_vec(), At(2, 14)),
        ("huge but valid", huge.into_bytes(), Loads),
    ]
}

fn load_bytes(
    dir: &Path,
    label: &str,
    bytes: &[u8],
) -> Result<tributary::model::Topology, FormatError> {
    let path = dir.join(format!("{}.ron", label.replace(' ', "_")));
    std::fs::write(&path, bytes).unwrap();
    load_ron(&path)
}

#[test]
fn broken_files_give_errors_naming_the_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    for (label, bytes, expect) in broken_corpus() {
        let result = load_bytes(dir.path(), label, &bytes);
        let At(line, col) = expect else {
            let t = result.unwrap();
            assert_eq!(t.name.len(), 5 * 1024 * 1024);
            continue;
        };
        let err = result
            .err()
            .unwrap_or_else(|| panic!("{label}: loaded without error"));
        let text = err.to_string();
        let at = err
            .position()
            .unwrap_or_else(|| panic!("{label}: the error names no place: {text}"));
        assert_eq!((at.line, at.col), (line, col), "{label}: {text}");
        let file = format!("{}.ron", label.replace(' ', "_"));
        assert!(
            text.contains(&format!("{file}:{line}:{col}: error: ")),
            "{label}: not FILE:LINE:COL: error: {text}"
        );
    }
}

/// Names of the Rust types a file is read into: no message may show one, since they
/// mean nothing to someone editing a topology file.
const INTERNAL_NAMES: &[&str] = &[
    "FileRecord",
    "NodeRecord",
    "EdgeRecord",
    "VersionProbe",
    "StreamDecl",
    "WindowSpec",
    "WindowSize",
    "SinkGroup",
    "SinkProcessor",
    "ExecutionMode",
    "Settings",
    "Grouping",
    "struct ",
    "enum ",
    "u32",
    "u64",
    "i64",
    "f64",
];

fn assert_user_words(label: &str, message: &str) {
    for name in INTERNAL_NAMES {
        assert!(
            !message.contains(name),
            "{label}: message names an internal type ({name}): {message}"
        );
    }
}

#[test]
fn broken_files_are_described_in_user_words() {
    let dir = tempfile::tempdir().unwrap();
    for (label, bytes, _) in broken_corpus() {
        if let Err(err) = load_bytes(dir.path(), label, &bytes) {
            assert_user_words(label, &err.to_string());
        }
    }
}

#[test]
fn a_newer_version_points_at_its_line_and_column() {
    let err = from_ron_str(
        "(\n    version: 99,\n    name: \"x\",\n)",
        Path::new("new.ron"),
    )
    .unwrap_err();
    assert!(
        matches!(err, FormatError::NewerVersion { found: 99, .. }),
        "{err}"
    );
    let at = err.position().unwrap();
    assert_eq!((at.line, at.col), (2, 14), "{err}");
    assert!(err.to_string().starts_with("new.ron:2:14: error:"), "{err}");
}

#[test]
fn truncated_file_points_at_the_end() {
    let text = "(\n    version: 1,\n    name: \"x\",\n    nodes: [\n";
    let err = from_ron_str(text, Path::new("cut.ron")).unwrap_err();
    let at = err.position().unwrap();
    // Just after the final newline: line 5, column 1.
    assert_eq!((at.line, at.col), (5, 1), "{err}");
}

/// True when `at` is a place in the file: a line it has (or the one after a final
/// newline) and a column up to just after that line's last character. Characters after
/// a byte that is not UTF-8 do not matter: the error points at that byte.
fn is_in(bytes: &[u8], at: tributary::format::TextPos) -> bool {
    let text = String::from_utf8_lossy(bytes);
    let lines: Vec<&str> = text.split('\n').collect();
    at.line >= 1
        && at.col >= 1
        && lines
            .get(at.line - 1)
            .is_some_and(|l| at.col <= l.chars().count() + 1)
}

#[test]
fn random_mutations_never_panic_and_every_error_is_located() {
    let mut rng = common::SeededRng(0x7121_BAB5);
    let tokens: &[&[u8]] = &[
        b"(", b")", b"[", b"]", b"{", b"}", b",", b":", b"\"", b"//", b"/*", b"Some(", b"-",
        b"1e999", b"\\u{", b"r#\"",
    ];
    let mut loaded_ok = 0;
    let mut errors = 0;
    let dir = tempfile::tempdir().unwrap();
    for (path, original) in examples() {
        let file = dir.path().join(path.file_name().unwrap());
        for _ in 0..300 {
            let mut bytes = original.clone();
            for _ in 0..=rng.below(4) {
                let at = rng.below(bytes.len());
                match rng.below(5) {
                    0 => bytes[at] = rng.next() as u8,
                    1 => {
                        bytes.remove(at);
                    }
                    2 => bytes.truncate(at),
                    3 => {
                        let token = tokens[rng.below(tokens.len())];
                        bytes.splice(at..at, token.iter().copied());
                    }
                    _ => {
                        let len = rng.below(40).min(bytes.len() - at);
                        let chunk = bytes[at..at + len].to_vec();
                        let to = rng.below(bytes.len());
                        bytes.splice(to..to, chunk);
                    }
                }
                if bytes.is_empty() {
                    break;
                }
            }
            // The loader gets the raw bytes, broken UTF-8 included, as from a disk.
            std::fs::write(&file, &bytes).unwrap();
            match load_ron(&file) {
                Ok(t) => {
                    loaded_ok += 1;
                    let _ = tributary::validate::validate(&t);
                    let _ = tributary::format::to_ron_string(&t);
                }
                Err(e) => {
                    errors += 1;
                    let text = e.to_string();
                    let at = e
                        .position()
                        .unwrap_or_else(|| panic!("the error names no place: {text}"));
                    assert!(
                        text.starts_with(&format!(
                            "{}:{}:{}: error: ",
                            file.display(),
                            at.line,
                            at.col
                        )),
                        "{text}"
                    );
                    assert!(is_in(&bytes, at), "{text} is outside the file");
                    assert_user_words("mutation", &text);
                }
            }
        }
    }
    assert!(
        errors > 0 && loaded_ok > 0,
        "mutations should produce both outcomes: ok={loaded_ok} err={errors}"
    );
}

#[test]
fn cli_reports_file_line_col_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.ron");
    std::fs::write(
        &bad,
        "(\n  version: 1,\n  name: \"x\",\n  nodes: [ (name: ) ],\n)",
    )
    .unwrap();
    let out = common::cli().arg("validate").arg(&bad).output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("bad.ron:4:"), "{stderr}");
    assert!(stderr.contains("error:"), "{stderr}");
}
