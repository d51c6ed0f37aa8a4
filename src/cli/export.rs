//! `tributary export --to flux|flume|dot|svg FILE [-o OUT]`

use std::path::PathBuf;
use std::process::ExitCode;

use tributary::format::{self, ExportTarget};

use super::term;

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Target {
    /// Storm Flux YAML.
    Flux,
    /// Flume agent properties.
    Flume,
    /// Graphviz DOT.
    Dot,
    /// SVG picture of the canvas layout.
    Svg,
}

impl From<Target> for ExportTarget {
    fn from(t: Target) -> Self {
        match t {
            Target::Flux => ExportTarget::Flux,
            Target::Flume => ExportTarget::Flume,
            Target::Dot => ExportTarget::Dot,
            Target::Svg => ExportTarget::Svg,
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The format to write.
    #[arg(long = "to", value_enum)]
    pub to: Target,
    /// The topology (.ron, or a Flux/Flume file to convert).
    pub file: PathBuf,
    /// Where to write; without it, the result goes to standard output.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let topology = super::import::load_any(&args.file)?;
    let text = format::export(&topology, args.to.into())?;
    match &args.output {
        Some(path) => {
            format::write_atomically(path, text.as_bytes())
                .map_err(|e| anyhow::anyhow!("{}: cannot write: {e}", path.display()))?;
            term::err(format_args!("{}: written", term::path(path)));
        }
        None => {
            term::out_document(&text);
        }
    }
    Ok(ExitCode::SUCCESS)
}
