//! Runs write only where the user chose: an example from the Examples menu opens as a
//! copy with its data in a folder of its own under the user's data folder (here the
//! test's temporary folder), a run of it writes there and never into the shipped
//! `topologies/`, the status bar says where outputs go, and a copy that cannot be made is
//! reported. Saved, exported and recovered files get the ordinary mode for new files.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test crate: a failure here is the test failing
#![cfg(feature = "gui")]

use std::path::{Path, PathBuf};

use egui_kittest::kittest::Queryable;
use tributary::ui::actions::Action;

mod common;
use common::ui::{designer as harness, perform};
use common::{examples_dir, wait_for};

/// Every path under `dir`, relative, sorted.
fn listing(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            out.push(path.strip_prefix(dir).unwrap().to_path_buf());
            if path.is_dir() {
                stack.push(path);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn an_example_runs_in_a_copy_with_its_data_and_never_writes_into_the_examples() {
    let dir = tempfile::tempdir().unwrap();
    let shipped = listing(&examples_dir());
    let mut h = harness(dir.path());
    perform(
        &mut h,
        Action::OpenExample(examples_dir().join("mixed_pipeline.ron")),
    );
    let copy = dir.path().join("data/examples/mixed_pipeline-1");
    assert_eq!(h.state().doc.base_dir(), copy, "{:?}", h.state().open_error);
    assert!(copy.join("mixed_pipeline.ron").is_file());
    assert!(
        copy.join("spool").is_dir(),
        "the folder it reads comes with it"
    );
    assert!(h.state().doc.path.is_none(), "saving still asks where");
    h.get_by_label("outputs in mixed_pipeline-1");

    std::fs::write(
        copy.join("spool/app.log"),
        "ERROR disk\nINFO up\nERROR net\nERROR disk\n",
    )
    .unwrap();
    h.get_by_label("▶ Run").click();
    h.run();
    assert!(h.state().run.is_some(), "{:?}", h.state().notice);
    let report = copy.join("error-counts.txt");
    wait_for("the run's report in the copy's folder", || {
        std::fs::read_to_string(&report).is_ok_and(|t| t.lines().any(|l| l == "ERROR\t3"))
    });
    h.get_by_label("⏹ Stop").click();
    h.run();
    assert!(h.state().run.is_none());
    assert!(!copy.join("spool/app.log").exists(), "consumed in the copy");
    assert_eq!(listing(&examples_dir()), shipped, "topologies/ untouched");

    // Opening it again makes a second copy rather than reusing the first.
    perform(
        &mut h,
        Action::OpenExample(examples_dir().join("mixed_pipeline.ron")),
    );
    assert_eq!(
        h.state().doc.base_dir(),
        dir.path().join("data/examples/mixed_pipeline-2")
    );
}

#[test]
fn a_copy_that_cannot_be_made_is_reported_and_the_work_stays() {
    let dir = tempfile::tempdir().unwrap();
    // A file where the data folder should be: no folder can be made under it.
    std::fs::write(dir.path().join("data"), "in the way").unwrap();
    let mut h = harness(dir.path());
    perform(
        &mut h,
        Action::OpenExample(examples_dir().join("word_count.ron")),
    );
    let error = h.state().open_error.clone().expect("the failure is shown");
    assert!(error.contains("Could not copy the example"), "{error}");
    assert!(error.contains("data"), "names the folder: {error}");
    assert_eq!(h.state().doc.topology.node_count(), 0, "nothing replaced");
    h.get_by_label("OK").click();
    h.run();
    assert!(h.state().open_error.is_none());
}

#[cfg(unix)]
#[test]
fn saved_exported_and_recovered_files_get_the_ordinary_mode() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    // What any new file of this process gets: 0666 less the umask (0644 under 022).
    let plain = dir.path().join("plain");
    std::fs::File::create(&plain).unwrap();
    let ordinary = mode(&plain);

    let mut h = harness(dir.path());
    perform(
        &mut h,
        Action::OpenExample(examples_dir().join("word_count.ron")),
    );
    let saved = dir.path().join("saved.ron");
    perform(&mut h, Action::SaveAs(Some(saved.clone())));
    let dot = dir.path().join("t.dot");
    perform(
        &mut h,
        Action::Export(tributary::format::ExportTarget::Dot, Some(dot.clone())),
    );
    let places = h.state().places.clone();
    places
        .write_recovery(&h.state().doc.topology, None)
        .unwrap();
    let recovery = places.recovery_file().unwrap();
    for file in [&saved, &dot, &recovery] {
        assert_eq!(mode(file), ordinary, "{}", file.display());
    }
    // The example's copy, too.
    let copy = dir.path().join("data/examples/word_count-1/word_count.ron");
    assert_eq!(mode(&copy), ordinary);
}
