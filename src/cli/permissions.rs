//! Printing what the safety policy refused, in the compiler-like form every other
//! problem uses (`FILE:LINE:COL: error: node 'x': … (hint: --allow …)`), so a user sees
//! every refusal of a run at once, where it is written, and how to allow it.

use std::path::Path;

use tributary::policy::Refusal;
use tributary::validate::Severity;

/// Prints every refusal of a run that did not start, then a one-line summary.
pub fn report(file: &Path, text: &str, refusals: &[Refusal]) {
    for r in refusals {
        eprintln!(
            "{}",
            super::diagnostics::render(file, text, &r.diagnostic(Severity::Error))
        );
    }
    eprintln!(
        "{}: not started: {} setting(s) reach beyond the topology's folder or loopback",
        file.display(),
        refusals.len()
    );
}
