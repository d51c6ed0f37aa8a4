//! Random byte mutations of every corpus file never panic the importers, and whatever
//! they accept reloads from RON and survives export → import unchanged.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test crate: a failure here is the test failing

mod common;

use std::path::{Path, PathBuf};

use tributary::format::{self, ExportTarget, ImportOptions};
use tributary::validate;

const INTERESTING: &[&[u8]] = &[
    b"${",
    b"}",
    b":",
    b"=",
    b"\\",
    b"\n",
    b"- ",
    b"[",
    b"{",
    b"&a",
    b"*a",
    b"!!",
    b"\t",
    b"\\u00",
    b".type",
    b".channels",
    b"type: CUSTOM",
    b"ref: x",
    b"\xff",
    b"  ",
];

fn mutate(rng: &mut common::SeededRng, original: &[u8]) -> Vec<u8> {
    let mut bytes = original.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(bytes.len() + 1);
        match rng.below(5) {
            0 if !bytes.is_empty() => {
                let i = at.min(bytes.len() - 1);
                bytes[i] = rng.next() as u8;
            }
            1 => {
                let piece = INTERESTING[rng.below(INTERESTING.len())];
                bytes.splice(at..at, piece.iter().copied());
            }
            2 => {
                let end = (at + rng.below(40)).min(bytes.len());
                bytes.drain(at..end);
            }
            3 => bytes.truncate(at),
            _ => {
                let end = (at + rng.below(80)).min(bytes.len());
                let copy: Vec<u8> = bytes[at..end].to_vec();
                let to = rng.below(bytes.len() + 1);
                bytes.splice(to..to, copy);
            }
        }
    }
    bytes
}

fn corpus() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance");
    let mut files = Vec::new();
    for kind in ["flux", "flume"] {
        for entry in std::fs::read_dir(root.join(kind)).unwrap() {
            files.push(entry.unwrap().path());
        }
    }
    files.sort();
    files
}

#[test]
fn mutated_corpus_files_never_panic_and_what_imports_round_trips() {
    let mut rng = common::SeededRng(0x5eed_1234_abcd_0001);
    let dir = tempfile::tempdir().unwrap();
    let mut accepted = 0;
    for path in corpus() {
        let original = std::fs::read(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let target = dir.path().join(&name);
        for round in 0..60 {
            let bytes = mutate(&mut rng, &original);
            std::fs::write(&target, &bytes).unwrap();
            let result = std::panic::catch_unwind(|| {
                let Ok(t) = format::import_file(&target, &ImportOptions::default()) else {
                    return false;
                };
                let _ = validate::validate(&t);
                let ron = format::to_ron_string(&t);
                match format::from_ron_str(&ron, Path::new("fuzz.ron")) {
                    Ok(again) => assert!(again == t, "RON reload changed the topology\n{ron}"),
                    Err(e) => panic!("imported topology does not reload from RON: {e}\n{ron}"),
                }
                for to in [ExportTarget::Flux, ExportTarget::Flume, ExportTarget::Dot] {
                    let Ok(text) = format::export(&t, to) else {
                        continue;
                    };
                    if to == ExportTarget::Dot {
                        continue;
                    }
                    let again_path = target.with_extension(format!("again.{}", to.extension()));
                    std::fs::write(&again_path, &text).unwrap();
                    match format::import_file(&again_path, &ImportOptions::default()) {
                        Ok(again) => assert!(again == t, "round trip changed it:\n{text}"),
                        Err(e) => panic!("export does not re-import: {e}\n{text}"),
                    }
                }
                true
            });
            match result {
                Ok(ok) => accepted += usize::from(ok),
                Err(_) => panic!(
                    "{name} mutation #{round} panicked; input:\n{}",
                    String::from_utf8_lossy(&bytes)
                ),
            }
        }
    }
    eprintln!("{accepted} mutations imported");
    assert!(
        accepted > 100,
        "only {accepted} mutations imported: the mutations are too harsh"
    );
}
