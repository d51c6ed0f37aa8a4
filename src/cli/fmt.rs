//! `tributary fmt [--check] FILE...`

use std::path::PathBuf;
use std::process::ExitCode;

use tributary::format;

use super::term;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Don't write; exit 1 if any file is not in canonical form.
    #[arg(long)]
    pub check: bool,
    /// Topology files (.ron).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let mut ok = true;
    for path in &args.files {
        let (topology, current) = match format::load_ron_with_text(path) {
            Ok(loaded) => loaded,
            Err(e) => {
                term::err(format_args!("{}", term::escape_lines(&e.to_string())));
                ok = false;
                continue;
            }
        };
        let canonical = format::to_ron_string(&topology);
        if current == canonical {
            continue;
        }
        if args.check {
            term::err(format_args!(
                "{}: not in canonical form (run `tributary fmt` on it)",
                term::path(path)
            ));
            ok = false;
        } else {
            match format::save_ron(&topology, path) {
                Ok(()) => {
                    term::out(format_args!("{}: formatted", term::path(path)));
                }
                Err(e) => {
                    term::err(format_args!("{}", term::escape_lines(&e.to_string())));
                    ok = false;
                }
            }
        }
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
