//! Built-in terminal components: logger, file sink, null, collector. Where the file
//! sink may write is decided by `crate::policy`, through [`Env::path`].

use std::fs::File;
use std::io::{BufWriter, Write};
use std::sync::Arc;

use crate::policy::{self, PathUse};

use super::super::error::RunError;
use super::super::log::LogKind;
use super::super::tuple::Tuple;
use super::{Behaviour, Bolt, Config, Emitter, Env, Factory, Failed, TaskInfo};

struct Logger {
    max_bytes: usize,
    info: TaskInfo,
}

impl Bolt for Logger {
    fn execute(&mut self, input: &Tuple, _out: &mut Emitter) -> Result<(), Failed> {
        let text = logged_text(&input.values, self.max_bytes);
        self.info
            .env
            .log
            .push(&self.info.node, self.info.task, LogKind::Tuple, text);
        Ok(())
    }
}

/// How a logger writes a tuple in the run log: its values joined, cut at `max_bytes`
/// (on a character boundary) with `…`. The exactly-once logger writes the same.
pub fn logged_text(values: &crate::runtime::tuple::Values, max_bytes: usize) -> String {
    let mut text = values.join(", ");
    if text.len() > max_bytes {
        let mut cut = max_bytes;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push('…');
    }
    text
}

pub fn logger_factory(cfg: &Config) -> Factory {
    let max_bytes = cfg.int("max_bytes").max(1) as usize;
    Arc::new(move |info: &TaskInfo| {
        Ok(Behaviour::Bolt(Box::new(Logger {
            max_bytes,
            info: info.clone(),
        })))
    })
}

struct FileSink {
    out: BufWriter<File>,
}

impl Bolt for FileSink {
    fn execute(&mut self, input: &Tuple, _out: &mut Emitter) -> Result<(), Failed> {
        writeln!(self.out, "{}", input.values.join("\t")).map_err(|e| Failed(e.to_string()))
    }

    fn flush(&mut self) -> Result<(), Failed> {
        self.out
            .flush()
            .map_err(|e| Failed(format!("writing the file failed: {e}")))
    }

    /// A line is only safe once it left the buffer: a tuple acked before that could be
    /// lost to a crash or a full disk without anyone knowing.
    fn acks_after_flush(&self) -> bool {
        true
    }
}

impl Drop for FileSink {
    fn drop(&mut self) {
        let _ = self.out.flush();
    }
}

pub fn file_sink_factory(cfg: &Config, env: &Env, node: &str) -> Result<Factory, RunError> {
    let path = env.path(node, "path", PathUse::WriteFile, &cfg.text("path"))?;
    let open = {
        let path = path.clone();
        move || {
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            policy::paths::open_for_append(&path)
        }
    };
    // Open once now so a bad path is reported at start, naming the node.
    open().map_err(|source| RunError::Io {
        node: node.to_string(),
        path: path.clone(),
        source,
    })?;
    // An exactly-once run's record of the file's committed length no longer describes
    // it once this run appends: left there, the next exactly-once run would cut these
    // lines off as a torn batch.
    let sidecar = crate::runtime::txn::sidecar_of(&path);
    if sidecar.exists() {
        let sidecar = env.path(node, "path", PathUse::WriteFile, &sidecar.to_string_lossy())?;
        if let Err(source) = std::fs::remove_file(&sidecar)
            && source.kind() != std::io::ErrorKind::NotFound
        {
            return Err(RunError::Io {
                node: node.to_string(),
                path: sidecar,
                source,
            });
        }
    }
    Ok(Arc::new(move |_info: &TaskInfo| {
        let file = open().map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(Behaviour::Bolt(Box::new(FileSink {
            out: BufWriter::new(file),
        })))
    }))
}

struct Null;

impl Bolt for Null {
    #[inline]
    fn execute(&mut self, _input: &Tuple, _out: &mut Emitter) -> Result<(), Failed> {
        Ok(())
    }
}

pub fn null_factory() -> Factory {
    Arc::new(|_info: &TaskInfo| Ok(Behaviour::Bolt(Box::new(Null))))
}

struct Collector {
    info: TaskInfo,
}

impl Bolt for Collector {
    /// A full collector acks the input (it was processed) but does not keep it; the
    /// refusal is counted and logged.
    fn execute(&mut self, input: &Tuple, out: &mut Emitter) -> Result<(), Failed> {
        let kept =
            self.info
                .env
                .collected
                .push(&self.info.node, self.info.task, input.values.clone());
        if let Err(refusal) = kept {
            out.refuse(refusal);
        }
        Ok(())
    }
}

pub fn collector_factory() -> Factory {
    Arc::new(|info: &TaskInfo| Ok(Behaviour::Bolt(Box::new(Collector { info: info.clone() }))))
}
