//! `tributary import FILE [-o OUT.ron] [--agent NAME] [--filter PROPS] [--env-filter]
//! [--allow DIR]...`

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use tributary::format::{self, ImportOptions};
use tributary::validate;

use super::term;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Storm Flux YAML (.yaml, .yml) or Flume agent properties (.properties, .conf).
    pub file: PathBuf,
    /// Where to write the topology (.ron); without it, the RON goes to standard output.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Flume: import only this agent (as `flume-ng agent --name`).
    #[arg(long)]
    pub agent: Option<String>,
    /// Flux: properties file whose entries replace `${key}` (as Flux's `--filter`).
    #[arg(long)]
    pub filter: Option<PathBuf>,
    /// Replace `${ENV-NAME}` (Flux, as its `--env-filter`) or `${NAME}` (Flume values)
    /// with environment variables that are set.
    #[arg(long)]
    pub env_filter: bool,
    /// Flux: also read `includes` from this folder (repeatable). Without it, includes are
    /// read only from the imported file's own folder.
    #[arg(long = "allow", value_name = "DIR")]
    pub allow: Vec<PathBuf>,
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let options = ImportOptions {
        agent: args.agent.clone(),
        filter: args.filter.clone(),
        env: args.env_filter,
        allowed_dirs: args.allow.clone(),
    };
    let topology = format::import_file(&args.file, &options)?;
    let file = term::path(&args.file);
    match &args.output {
        Some(path) => {
            format::save_ron(&topology, path)?;
            term::err(format_args!(
                "{file}: imported {} node(s), {} edge(s) into {}",
                topology.node_count(),
                topology.edge_count(),
                term::path(path)
            ));
            let written = std::fs::metadata(path).map_or(0, |m| m.len());
            if written > format::MAX_FILE_BYTES {
                term::err(format_args!(
                    "{}: warning: the topology is {written} bytes, more than the {} Tributary reads, so it cannot be opened again; import one agent at a time (--agent NAME)",
                    term::path(path),
                    format::limited::show_size(format::MAX_FILE_BYTES)
                ));
            }
        }
        None => {
            term::out_document(&format::to_ron_string(&topology));
        }
    }
    let diagnostics = validate::validate(&topology);
    for d in &diagnostics {
        // Names in a diagnostic come from the imported file.
        term::err(format_args!(
            "{file}: {}",
            term::escape_lines(&d.to_string())
        ));
    }
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    if errors > 0 {
        term::err(format_args!(
            "{file}: imported, but the topology has {errors} error(s) to fix before it runs"
        ));
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// Reads a topology for export: RON natively, engine formats through import.
pub fn load_any(path: &std::path::Path) -> anyhow::Result<tributary::model::Topology> {
    let is_ron = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("ron"));
    if is_ron {
        Ok(format::load_ron(path)?)
    } else {
        format::import_file(path, &ImportOptions::default())
            .with_context(|| format!("reading {}", path.display()))
    }
}
