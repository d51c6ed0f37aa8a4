//! Bad input never panics: every broken file gives an error that names the file, and
//! syntax errors name the line and column. Random byte mutations of the examples prove
//! the loader and validator hold up against input nobody thought of.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test crate: a failure here is the test failing

use std::path::{Path, PathBuf};

use assert_cmd::Command;
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

fn broken_corpus() -> Vec<(&'static str, Vec<u8>)> {
    let word_count =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("topologies/word_count.ron"))
            .unwrap();
    let half = word_count[..word_count.len() / 2].to_vec();
    let deep = format!(
        "(version: 1, name: \"x\", nodes: [(name: \"a\", role: Bolt, component: \"map\", config: {{\"k\": {}1{}}})])",
        "[".repeat(20_000),
        "]".repeat(20_000)
    );
    let deep_parens = "(".repeat(20_000);
    let huge = format!(
        "(version: 1, name: \"{}\", nodes: [], edges: [])",
        "x".repeat(5 * 1024 * 1024)
    );
    let huge_unterminated = format!("(version: 1, name: \"{}", "y".repeat(5 * 1024 * 1024));
    vec![
        ("empty", Vec::new()),
        ("whitespace", b"  \n\t\n".to_vec()),
        ("truncated", half),
        ("binary", (0..=255u8).cycle().take(4096).collect()),
        ("nul bytes", vec![0; 100]),
        ("deep nesting", deep.into_bytes()),
        ("deep parens", deep_parens.into_bytes()),
        ("huge unterminated string", huge_unterminated.into_bytes()),
        ("wrong type", b"(version: \"one\", name: 5)".to_vec()),
        (
            "wrong nested type",
            b"(version: 1, name: \"x\", nodes: [(name: \"a\", role: Spout, component: \"sequence\", parallelism: -3)])".to_vec(),
        ),
        ("unknown role", b"(version: 1, name: \"x\", nodes: [(name: \"a\", role: Teapot, component: \"x\")])".to_vec()),
        ("unknown field", b"(version: 1, name: \"x\", colour: 3)".to_vec()),
        ("missing version", b"(name: \"x\")".to_vec()),
        ("json", br#"{"version": 1, "name": "x"}"#.to_vec()),
        ("yaml", b"version: 1\nname: x\n".to_vec()),
        ("bad utf8", b"(version: 1, name: \"\xff\xfe\")".to_vec()),
        ("named top level", b"topology(version: 1, name: \"x\")".to_vec()),
        ("named node", b"(version: 1, name: \"x\", nodes: [node(name: \"a\", role: Spout, component: \"x\")])".to_vec()),
        ("missing node field", b"(version: 1, name: \"x\", nodes: [(name: \"a\", component: \"x\")])".to_vec()),
        ("unknown node field", b"(version: 1, name: \"x\", nodes: [(name: \"a\", role: Spout, component: \"x\", colour: 1)])".to_vec()),
        ("duplicate field", b"(version: 1, version: 1, name: \"x\")".to_vec()),
        ("unknown grouping", b"(version: 1, name: \"x\", edges: [(from: \"a\", to: \"b\", grouping: Teapot)])".to_vec()),
        ("position of three", b"(version: 1, name: \"x\", nodes: [(name: \"a\", role: Spout, component: \"x\", pos: (1, 2, 3))])".to_vec()),
        ("settings not a record", b"(version: 1, name: \"x\", settings: 5)".to_vec()),
        ("config not a map", b"(version: 1, name: \"x\", nodes: [(name: \"a\", role: Spout, component: \"x\", config: [1])])".to_vec()),
        ("config value of no kind", b"(version: 1, name: \"x\", nodes: [(name: \"a\", role: Spout, component: \"x\", config: {\"k\": {1: 2}})])".to_vec()),
        ("window of wrong shape", b"(version: 1, name: \"x\", nodes: [(name: \"a\", role: Bolt, component: \"x\", window: Some(5))])".to_vec()),
        ("newer version", b"(\n    version: 99,\n    name: \"x\",\n)".to_vec()),
        ("huge but valid", huge.into_bytes()),
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
fn broken_files_give_errors_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    for (label, bytes) in broken_corpus() {
        let result = load_bytes(dir.path(), label, &bytes);
        if label == "huge but valid" {
            let t = result.unwrap();
            assert_eq!(t.name.len(), 5 * 1024 * 1024);
            continue;
        }
        let err = result
            .err()
            .unwrap_or_else(|| panic!("{label}: loaded without error"));
        let text = err.to_string();
        assert!(
            text.contains(".ron"),
            "{label}: error does not name the file: {text}"
        );
        assert!(text.contains("error"), "{label}: {text}");
        if let FormatError::Syntax { at, .. } = &err {
            assert!(at.line >= 1 && at.col >= 1, "{label}: {text}");
            assert!(
                text.contains(&format!(":{}:{}:", at.line, at.col)),
                "{label}: not FILE:LINE:COL: {text}"
            );
        }
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
    for (label, bytes) in broken_corpus() {
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
    assert!(at.line >= 4, "{err}");
}

/// A small deterministic generator, so the mutation test is the same on every run.
struct SplitMix(u64);
impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

#[test]
fn random_mutations_never_panic() {
    let mut rng = SplitMix(0x7121_BAB5);
    let tokens: &[&[u8]] = &[
        b"(", b")", b"[", b"]", b"{", b"}", b",", b":", b"\"", b"//", b"/*", b"Some(", b"-",
        b"1e999", b"\\u{", b"r#\"",
    ];
    let mut loaded_ok = 0;
    let mut errors = 0;
    for (path, original) in examples() {
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
            let text = String::from_utf8_lossy(&bytes);
            match from_ron_str(&text, &path) {
                Ok(t) => {
                    loaded_ok += 1;
                    let _ = tributary::validate::validate(&t);
                    let _ = tributary::format::to_ron_string(&t);
                }
                Err(e) => {
                    errors += 1;
                    assert!(e.to_string().contains(&*path.to_string_lossy()), "{e}");
                    assert_user_words("mutation", &e.to_string());
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
    let out = Command::cargo_bin("tributary")
        .unwrap()
        .arg("validate")
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("bad.ron:4:"), "{stderr}");
    assert!(stderr.contains("error:"), "{stderr}");
}
