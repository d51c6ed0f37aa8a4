//! `tributary export --to flux|flume|spark|dot|svg FILE [-o OUT]`

use std::path::PathBuf;
use std::process::ExitCode;

use tributary::format::{self, ExportTarget};
use tributary::validate;

use super::term;

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Target {
    /// Storm Flux YAML.
    Flux,
    /// Flume agent properties.
    Flume,
    /// A PySpark Structured Streaming job (Python).
    Spark,
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
            Target::Spark => ExportTarget::Spark,
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
    if matches!(args.to, Target::Spark) && !valid_for_job(&args.file, &topology) {
        return Ok(ExitCode::FAILURE);
    }
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

/// A job is generated only from a design that would run: validation errors are printed
/// (with their positions in a `.ron` file) and nothing is written.
fn valid_for_job(path: &std::path::Path, topology: &tributary::model::Topology) -> bool {
    let errors: Vec<validate::Diagnostic> = validate::validate(topology)
        .into_iter()
        .filter(|d| d.is_error())
        .collect();
    if errors.is_empty() {
        return true;
    }
    let text = format::read_text(path, format::MAX_FILE_BYTES).unwrap_or_default();
    for d in &errors {
        term::err(format_args!(
            "{}",
            super::diagnostics::render(path, &text, d)
        ));
    }
    term::err(format_args!(
        "{}: not exported: the design has {} validation error(s)",
        term::path(path),
        errors.len()
    ));
    false
}
