//! Printing what the safety policy refused, in the compiler-like form every other
//! problem uses (`FILE:LINE:COL: error: node 'x': … (hint: --allow …)`), so a user sees
//! every refusal of a run at once, where it is written, and how to allow it.

use std::path::Path;

use tributary::policy::Refusal;

use super::term;
use tributary::validate::Severity;

/// Prints every refusal of a run that did not start, then a one-line summary.
pub fn report(file: &Path, text: &str, refusals: &[Refusal]) {
    // Node names and paths come from the file: escaped, like everything `run` prints.
    for r in refusals {
        let line = super::diagnostics::render(file, text, &r.diagnostic(Severity::Error));
        term::err(format_args!("{line}"));
    }
    let programs = refusals
        .iter()
        .filter(|r| matches!(r, Refusal::Exec { .. } | Refusal::Program { .. }))
        .count();
    let settings = refusals.len() - programs;
    let mut why = Vec::new();
    if programs > 0 {
        why.push(format!("{programs} program(s) it would run"));
    }
    if settings > 0 {
        why.push(format!(
            "{settings} setting(s) reach beyond the topology's folder or loopback"
        ));
    }
    term::err(format_args!(
        "{}: not started: {}",
        term::escape(&file.display().to_string()),
        why.join("; ")
    ));
}
