//! `tributary validate FILE...`

use std::path::PathBuf;
use std::process::ExitCode;

use tributary::{format, validate};

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
                eprintln!("{e}");
                all_valid = false;
                continue;
            }
        };
        let diagnostics = validate::validate(&topology);
        for d in &diagnostics {
            eprintln!("{}", super::diagnostics::render(path, &text, d));
        }
        let errors = diagnostics.iter().filter(|d| d.is_error()).count();
        let warnings = diagnostics.len() - errors;
        if errors > 0 {
            all_valid = false;
            eprintln!(
                "{}: invalid ({errors} error(s), {warnings} warning(s))",
                path.display()
            );
        } else {
            println!("{}: ok ({warnings} warning(s))", path.display());
        }
    }
    Ok(if all_valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
