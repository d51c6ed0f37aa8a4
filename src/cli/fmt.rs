//! `tributary fmt [--check] FILE...`

use std::path::PathBuf;
use std::process::ExitCode;

use tributary::format;

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
                eprintln!("{e}");
                ok = false;
                continue;
            }
        };
        let canonical = format::to_ron_string(&topology);
        if current == canonical {
            continue;
        }
        if args.check {
            eprintln!(
                "{}: not in canonical form (run `tributary fmt` on it)",
                path.display()
            );
            ok = false;
        } else {
            match format::save_ron(&topology, path) {
                Ok(()) => println!("{}: formatted", path.display()),
                Err(e) => {
                    eprintln!("{e}");
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
