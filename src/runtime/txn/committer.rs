//! Committers: the components whose effects must happen once per record under
//! exactly-once — `count_by_key` (its counts), `file_sink` (its lines) and `collector`
//! (what it keeps). While a batch is processed they only keep what each attempt
//! brought; the coordinator applies a batch's inputs when it commits that batch.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use rustc_hash::FxHashMap;

use super::batch_of;
use super::coordinator::lock;
use crate::policy::{self, PathUse};
use crate::runtime::components::{
    Behaviour, Bolt, Config, Emitter, Env, Factory, Failed, FieldLookup, TaskInfo,
};
use crate::runtime::error::RunError;
use crate::runtime::limits;
use crate::runtime::tuple::{KeyMap, Tuple, Val, Values};

/// What a committer keeps once a batch commits.
pub(super) enum StoreKind {
    /// Transactional state: per key, the count and the txid that last changed it.
    Count {
        state: KeyMap<(i64, u64)>,
        /// Keys changed by commits and not yet emitted downstream, when anyone reads.
        updates: Vec<(Val, i64)>,
        emits: bool,
    },
    /// Lines appended to a file, with the last committed txid and length beside it.
    File { path: PathBuf, sidecar: PathBuf },
    /// Tuples kept for tests and lessons.
    Collect,
}

/// One committer task's store: uncommitted inputs by attempt, and committed state.
pub struct CommitStore {
    pub(super) node: String,
    pub(super) task: u32,
    /// Attempts before this one began while an earlier life of the task was alive:
    /// their inputs here may be incomplete.
    pub(super) valid_from: u32,
    pending: FxHashMap<u32, Vec<Values>>,
    kind: StoreKind,
    env: Option<Arc<Env>>,
}

impl CommitStore {
    pub(super) fn new(node: &str, task: u32, kind: StoreKind) -> Self {
        Self {
            node: node.to_string(),
            task,
            valid_from: 0,
            pending: FxHashMap::default(),
            kind,
            env: None,
        }
    }

    pub(super) fn rebuilt(&mut self, next_attempt: u32) {
        self.pending.clear();
        self.valid_from = next_attempt;
    }

    /// Committed counts, for a count store.
    pub(super) fn counts(&self) -> Option<&KeyMap<(i64, u64)>> {
        match &self.kind {
            StoreKind::Count { state, .. } => Some(state),
            _ => None,
        }
    }

    /// Applies what `attempt` brought, as batch `txid`, and drops what every attempt
    /// of that batch left. A file store's lines go to `files`, written once per file.
    pub(super) fn commit(
        &mut self,
        txid: u64,
        attempt: u32,
        attempts: &[u32],
        files: &mut FileBatch,
    ) {
        let inputs = self.pending.remove(&attempt).unwrap_or_default();
        for a in attempts {
            self.pending.remove(a);
        }
        self.apply(txid, inputs, files);
    }

    fn apply(&mut self, txid: u64, inputs: Vec<Values>, files: &mut FileBatch) {
        let env = self.env.clone();
        match &mut self.kind {
            StoreKind::Count {
                state,
                updates,
                emits,
            } => {
                let mut deltas: KeyMap<i64> = KeyMap::default();
                for v in inputs {
                    if let Some(key) = v.get(0) {
                        *deltas.entry(key.clone()).or_default() += 1;
                    }
                }
                for (key, delta) in deltas {
                    let value = match state.get_mut(&key) {
                        // Trident's transactional state: a txid already applied is skipped.
                        Some((_, last)) if txid != 0 && *last == txid => continue,
                        Some((count, last)) => {
                            *count = count.saturating_add(delta);
                            *last = txid;
                            *count
                        }
                        None => {
                            let bytes = limits::state_entry_bytes(&key);
                            if let Some(env) = &env
                                && env.state.take(1, bytes).is_err()
                            {
                                continue;
                            }
                            state.insert(key.clone(), (delta, txid));
                            delta
                        }
                    };
                    if *emits {
                        updates.push((key, value));
                    }
                }
            }
            StoreKind::File { path, sidecar } => {
                let lines = files.entry(path, sidecar, &self.node, self.task);
                for v in inputs {
                    lines.extend_from_slice(v.join("\t").as_bytes());
                    lines.push(b'\n');
                }
            }
            StoreKind::Collect => {
                if let Some(env) = env {
                    for v in inputs {
                        // A full collector keeps nothing more (the budget says so once).
                        let _ = env.collected.push(&self.node, self.task, v);
                    }
                }
            }
        }
    }
}

/// The lines one commit appends, per file.
#[derive(Default)]
pub(super) struct FileBatch {
    files: BTreeMap<PathBuf, (PathBuf, String, u32, Vec<u8>)>,
}

/// A file a commit could not write.
pub(super) struct FileProblem {
    pub node: String,
    pub task: u32,
    pub text: String,
}

impl FileBatch {
    fn entry(&mut self, path: &Path, sidecar: &Path, node: &str, task: u32) -> &mut Vec<u8> {
        &mut self
            .files
            .entry(path.to_path_buf())
            .or_insert_with(|| (sidecar.to_path_buf(), node.to_string(), task, Vec::new()))
            .3
    }

    /// Appends each file's lines in one write, then records the txid and the file's
    /// length beside it (atomically), so a run that dies mid-write leaves a tail the
    /// next start cuts off ([`trim_partial_batch`]).
    pub(super) fn write(self, txid: u64) -> Vec<FileProblem> {
        let mut problems = Vec::new();
        for (path, (sidecar, node, task, bytes)) in self.files {
            let written = (|| -> std::io::Result<()> {
                let mut file = policy::paths::open_for_append(&path)?;
                file.write_all(&bytes)?;
                file.flush()?;
                let len = file.metadata()?.len();
                crate::format::write_atomically(&sidecar, format!("{txid} {len}\n").as_bytes())
            })();
            if let Err(e) = written {
                problems.push(FileProblem {
                    node,
                    task,
                    text: format!("batch {txid} not written to {}: {e}", path.display()),
                });
            }
        }
        problems
    }
}

/// The file beside a sink's output that records its last committed batch.
fn sidecar_of(path: &std::path::Path) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".txid");
    path.with_file_name(name)
}

/// Cuts a sink file back to the length its sidecar recorded: bytes after it are a
/// batch a run did not finish writing. Returns how many bytes were cut.
fn trim_partial_batch(path: &std::path::Path, sidecar: &std::path::Path) -> std::io::Result<u64> {
    let Ok(text) = std::fs::read_to_string(sidecar) else {
        return Ok(0);
    };
    let Some(len) = text
        .split_whitespace()
        .nth(1)
        .and_then(|l| l.parse::<u64>().ok())
    else {
        return Ok(0);
    };
    let file = std::fs::OpenOptions::new().write(true).open(path)?;
    let actual = file.metadata()?.len();
    if actual > len {
        file.set_len(len)?;
        return Ok(actual - len);
    }
    Ok(0)
}

/// A committer task: keeps each input under its attempt until the batch commits.
struct Committer {
    store: Arc<Mutex<CommitStore>>,
    key: Option<FieldLookup>,
}

impl Bolt for Committer {
    fn execute(&mut self, input: &Tuple, _out: &mut Emitter) -> Result<(), Failed> {
        let values = match &mut self.key {
            Some(k) => Values::One(k.get(input)?.clone()),
            None => input.values.clone(),
        };
        let attempt = batch_of(input.ids.root());
        let mut store = lock(&self.store);
        if attempt == 0 {
            // Not from a batch (an untracked emit upstream): applied at once, as
            // at-most-once; validation warned about the edge that brings it.
            let mut files = FileBatch::default();
            let txid = 0;
            store.apply(txid, vec![values], &mut files);
            drop(store);
            if let Some(p) = files.write(txid).into_iter().next() {
                return Err(Failed(p.text));
            }
            return Ok(());
        }
        store.pending.entry(attempt).or_default().push(values);
        Ok(())
    }

    /// A count emits the new value of every key a commit changed (unanchored: the
    /// batch is already committed), so loggers downstream see each update once.
    fn tick(&mut self, _now: Instant, out: &mut Emitter) {
        let updates = {
            let mut store = lock(&self.store);
            match &mut store.kind {
                StoreKind::Count { updates, .. } => std::mem::take(updates),
                _ => return,
            }
        };
        for (key, value) in updates {
            out.emit(Values::two(key, Val::Int(value)));
        }
    }
}

/// The factory of a committer node under exactly-once.
pub fn committer_factory(
    cfg: &Config,
    env: &Env,
    node: &str,
    component: &str,
) -> Result<Factory, RunError> {
    let Some(coord) = env.txn.clone() else {
        return Err(RunError::Unsupported {
            node: node.to_string(),
            what: "a committer outside an exactly-once run".into(),
        });
    };
    let file = if component == "file_sink" {
        let path = env.path(node, "path", PathUse::WriteFile, &cfg.text("path"))?;
        let sidecar = sidecar_of(&path);
        let io = |source| RunError::Io {
            node: node.to_string(),
            path: path.clone(),
            source,
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        drop(policy::paths::open_for_append(&path).map_err(io)?);
        // The sidecar is written where the output is: ask the grant for it too.
        let sidecar = env.path(node, "path", PathUse::WriteFile, &sidecar.to_string_lossy())?;
        let cut = trim_partial_batch(&path, &sidecar).map_err(io)?;
        if cut > 0 {
            env.log.push(
                node,
                0,
                crate::runtime::log::LogKind::Event,
                format!(
                    "{} bytes cut from the end of {}: a batch an earlier run did not finish writing",
                    cut,
                    path.display()
                ),
            );
        }
        Some((path, sidecar))
    } else {
        None
    };
    let key = cfg.text("key");
    let component = component.to_string();
    Ok(Arc::new(move |info: &TaskInfo| {
        let kind = || match (&file, component.as_str()) {
            (Some((path, sidecar)), _) => StoreKind::File {
                path: path.clone(),
                sidecar: sidecar.clone(),
            },
            (None, "count_by_key") => StoreKind::Count {
                state: KeyMap::default(),
                updates: Vec::new(),
                emits: info.consumers.iter().any(|c| !c.is_empty()),
            },
            _ => StoreKind::Collect,
        };
        let store = coord.store(&info.node, info.task, kind);
        lock(&store).env = Some(info.env.clone());
        let key = (component == "count_by_key").then(|| FieldLookup::new(&key, info));
        Ok(Behaviour::Bolt(Box::new(Committer { store, key })))
    }))
}
