//! Built-in terminal components: logger, file sink, null, collector; and the path rule
//! that keeps file access inside the folders the user allowed.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use super::super::error::RunError;
use super::super::log::LogKind;
use super::super::tuple::Tuple;
use super::{Behaviour, Bolt, Config, Emitter, Env, Factory, Failed, TaskInfo};

/// Removes `.` and `..` without touching the disk (the file may not exist yet).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// The real location of `path`: symlinks resolved for the part that exists.
fn real(path: &Path) -> PathBuf {
    let path = normalize(path);
    let mut existing = path.clone();
    let mut rest = Vec::new();
    while !existing.exists() {
        match existing.file_name() {
            Some(name) => rest.push(name.to_os_string()),
            None => break,
        }
        if !existing.pop() {
            break;
        }
    }
    let mut out = existing.canonicalize().unwrap_or(existing);
    for part in rest.iter().rev() {
        out.push(part);
    }
    out
}

/// Resolves a user path against the topology's folder and refuses it unless it lies
/// inside one of the allowed folders, so a shared topology file cannot write anywhere.
pub fn resolve_path(raw: &str, env: &Env, node: &str) -> Result<PathBuf, RunError> {
    let joined = env.base_dir.join(raw);
    let resolved = real(&joined);
    let allowed: Vec<PathBuf> = if env.allowed_dirs.is_empty() {
        vec![real(&env.base_dir)]
    } else {
        env.allowed_dirs
            .iter()
            .map(|d| real(&env.base_dir.join(d)))
            .collect()
    };
    if allowed.iter().any(|dir| resolved.starts_with(dir)) {
        Ok(resolved)
    } else {
        Err(RunError::PathNotAllowed {
            node: node.to_string(),
            path: resolved,
            allowed: allowed
                .iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        })
    }
}

struct Logger {
    max_bytes: usize,
    info: TaskInfo,
}

impl Bolt for Logger {
    fn execute(&mut self, input: &Tuple, _out: &mut Emitter) -> Result<(), Failed> {
        let mut text = input.values.join(", ");
        if text.len() > self.max_bytes {
            let mut cut = self.max_bytes;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
            text.push('…');
        }
        self.info
            .env
            .log
            .push(&self.info.node, self.info.task, LogKind::Tuple, text);
        Ok(())
    }
}

pub fn logger_factory(cfg: &Config) -> Factory {
    let max_bytes = cfg.int("max_bytes", 64).max(1) as usize;
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
    let path = resolve_path(&cfg.text("path", "out.txt"), env, node)?;
    let open = {
        let path = path.clone();
        move || {
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            OpenOptions::new().create(true).append(true).open(&path)
        }
    };
    // Open once now so a bad path is reported at start, naming the node.
    open().map_err(|source| RunError::Io {
        node: node.to_string(),
        path: path.clone(),
        source,
    })?;
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
