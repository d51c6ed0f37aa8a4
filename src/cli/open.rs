//! `tributary [FILE]`: the designer.

use std::path::PathBuf;
use std::process::ExitCode;

#[cfg(feature = "gui")]
pub fn run(file: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    tributary::ui::run_app(file)?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(not(feature = "gui"))]
pub fn run(_file: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    anyhow::bail!(
        "this build has no designer (built without the `gui` feature); use a subcommand, see --help"
    )
}
