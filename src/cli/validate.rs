//! `tributary validate FILE...`

use std::path::PathBuf;
use std::process::ExitCode;

use tributary::validate::Severity;
use tributary::{format, policy, validate};

use super::term;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Topology files (.ron).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let mut all_valid = true;
    for path in &args.files {
        let (topology, text) = match format::load_ron_with_text(path) {
            Ok(loaded) => loaded,
            Err(e) => {
                term::err(format_args!("{}", term::escape_lines(&e.to_string())));
                all_valid = false;
                continue;
            }
        };
        let mut diagnostics = validate::validate(&topology);
        // A file from someone else is often validated before it is run: say what a run
        // would need permission for, as warnings (the file itself is fine).
        let grant = policy::Grant::new(&super::run::topology_folder(path)).protecting(Some(path));
        diagnostics.extend(
            policy::check(&topology, &grant)
                .iter()
                .map(|r| r.diagnostic(Severity::Warning)),
        );
        for d in &diagnostics {
            term::err(format_args!(
                "{}",
                super::diagnostics::render(path, &text, d)
            ));
        }
        let errors = diagnostics.iter().filter(|d| d.is_error()).count();
        let warnings = diagnostics.len() - errors;
        if errors > 0 {
            all_valid = false;
            term::err(format_args!(
                "{}: invalid ({errors} error(s), {warnings} warning(s))",
                term::path(path)
            ));
        } else {
            term::out(format_args!(
                "{}: ok ({warnings} warning(s))",
                term::path(path)
            ));
        }
    }
    Ok(if all_valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
