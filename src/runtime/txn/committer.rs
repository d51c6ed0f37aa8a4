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
    /// Tuples written to the run log, as a logger writes them.
    Log { max_bytes: usize },
}

/// One committer task's store: inputs put aside by attempt, and committed state. It
/// outlives the task (a crash or a killed worker rebuilds the task, not the store).
pub struct CommitStore {
    pub(super) node: String,
    pub(super) task: u32,
    pending: FxHashMap<u32, Vec<Values>>,
    kind: StoreKind,
    env: Option<Arc<Env>>,
    /// The last batch applied here.
    last_txid: u64,
}

impl CommitStore {
    pub(super) fn new(node: &str, task: u32, kind: StoreKind) -> Self {
        Self {
            node: node.to_string(),
            task,
            pending: FxHashMap::default(),
            kind,
            env: None,
            last_txid: 0,
        }
    }

    /// Committed counts, for a count store.
    pub(super) fn counts(&self) -> Option<&KeyMap<(i64, u64)>> {
        match &self.kind {
            StoreKind::Count { state, .. } => Some(state),
            _ => None,
        }
    }

    /// A file store's lines of `attempt`, added to what the commit will write (the
    /// inputs stay until the commit succeeds).
    pub(super) fn stage_lines(&self, attempt: u32, files: &mut FileBatch) {
        let StoreKind::File { path, sidecar } = &self.kind else {
            return;
        };
        let Some(inputs) = self.pending.get(&attempt) else {
            return;
        };
        let lines = files.entry(path, sidecar, &self.node, self.task);
        for v in inputs {
            lines.extend_from_slice(v.join("\t").as_bytes());
            lines.push(b'\n');
        }
    }

    /// Applies what `attempt` brought, as batch `txid` (a file's lines were written
    /// already, by the coordinator, through [`CommitStore::stage_lines`]).
    pub(super) fn commit(&mut self, txid: u64, attempt: u32) {
        let inputs = self.pending.remove(&attempt).unwrap_or_default();
        // Trident's transactional state: a txid already applied is skipped.
        if txid != 0 && txid <= self.last_txid {
            return;
        }
        self.apply(txid, inputs);
        self.last_txid = self.last_txid.max(txid);
    }

    /// Drops inputs of attempts no open batch has: abandoned attempts, and tuples of a
    /// batch that arrived after it committed.
    pub(super) fn keep_only(&mut self, live: &std::collections::BTreeSet<u32>) {
        self.pending.retain(|a, _| live.contains(a));
    }

    fn apply(&mut self, txid: u64, inputs: Vec<Values>) {
        let env = self.env.clone();
        match &mut self.kind {
            StoreKind::Count {
                state,
                updates,
                emits,
            } => {
                // Each input adds one to its key, which records this txid.
                for v in &inputs {
                    let Some(key) = v.get(0) else { continue };
                    match state.get_mut(key) {
                        Some((count, last)) => {
                            *count = count.saturating_add(1);
                            *last = txid;
                        }
                        None => {
                            let bytes = limits::state_entry_bytes(key);
                            if let Some(env) = &env
                                && env.state.take(1, bytes).is_err()
                            {
                                continue;
                            }
                            state.insert(key.clone(), (1, txid));
                        }
                    }
                }
                if *emits {
                    let mut changed: KeyMap<()> = KeyMap::default();
                    for v in inputs {
                        if let Some(key) = v.get(0)
                            && changed.insert(key.clone(), ()).is_none()
                            && let Some((count, _)) = state.get(key)
                        {
                            updates.push((key.clone(), *count));
                        }
                    }
                }
            }
            // Written by the coordinator before anything is applied.
            StoreKind::File { .. } => {}
            StoreKind::Collect => {
                if let Some(env) = env {
                    for v in inputs {
                        // A full collector keeps nothing more (the budget says so once).
                        let _ = env.collected.push(&self.node, self.task, v);
                    }
                }
            }
            StoreKind::Log { max_bytes } => {
                if let Some(env) = env {
                    for v in inputs {
                        let text = crate::runtime::components::logged_text(&v, *max_bytes);
                        env.log.push(
                            &self.node,
                            self.task,
                            crate::runtime::log::LogKind::Tuple,
                            text,
                        );
                    }
                }
            }
        }
    }
}

/// The lines one commit appends, per file.
#[derive(Default)]
pub(super) struct FileBatch {
    files: BTreeMap<PathBuf, FileLines>,
}

struct FileLines {
    sidecar: PathBuf,
    node: String,
    task: u32,
    bytes: Vec<u8>,
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
            .or_insert_with(|| FileLines {
                sidecar: sidecar.to_path_buf(),
                node: node.to_string(),
                task,
                bytes: Vec::new(),
            })
            .bytes
    }

    /// Appends each file's lines in one write and syncs them, then records the txid and
    /// each file's length beside it. If anything fails, every file is cut back to its
    /// length before, so the batch is in no file and can be tried again; and a run that
    /// dies mid-write leaves a tail the next start cuts off ([`trim_partial_batch`]).
    pub(super) fn write(self, txid: u64) -> Result<(), FileProblem> {
        let mut written: Vec<(std::fs::File, u64)> = Vec::new();
        let mut outcome = Ok(());
        // Every file's lines first, then every sidecar: a sidecar never records a
        // length its file does not have yet.
        let mut lengths = Vec::new();
        for (path, lines) in &self.files {
            match append_synced(path, &lines.bytes) {
                Ok((file, before, after)) => {
                    written.push((file, before));
                    lengths.push(after);
                }
                Err(e) => {
                    outcome = Err((path, lines, e));
                    break;
                }
            }
        }
        if outcome.is_ok() {
            for ((path, lines), len) in self.files.iter().zip(&lengths) {
                if let Err(e) = write_sidecar(&lines.sidecar, &format!("{txid} {len}\n")) {
                    outcome = Err((path, lines, e));
                    break;
                }
            }
        }
        let Err((path, lines, e)) = outcome else {
            return Ok(());
        };
        for (file, before) in written {
            let _ = file.set_len(before);
        }
        Err(FileProblem {
            node: lines.node.clone(),
            task: lines.task,
            text: format!(
                "batch {txid} could not be written to {}: {e}; nothing of it was applied, \
                 and it is tried again",
                path.display()
            ),
        })
    }
}

/// Appends `bytes` to `path` (never through a link) and syncs them; returns the file
/// with its length before and after. A failed write is cut back before returning.
fn append_synced(path: &Path, bytes: &[u8]) -> std::io::Result<(std::fs::File, u64, u64)> {
    let mut file = policy::paths::open_for_append(path)?;
    let before = file.metadata()?.len();
    if let Err(e) = file.write_all(bytes).and_then(|()| file.sync_data()) {
        let _ = file.set_len(before);
        return Err(e);
    }
    let after = file.metadata()?.len();
    Ok((file, before, after))
}

/// Replaces the sidecar by renaming a temporary file over it: a rename replaces a link
/// planted there, never what it points to, and the path was checked when the run began.
fn write_sidecar(path: &Path, text: &str) -> std::io::Result<()> {
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut temp = tempfile::Builder::new()
        .prefix(".tributary-txid-")
        .tempfile_in(folder)?;
    temp.write_all(text.as_bytes())?;
    temp.as_file().sync_all()?;
    temp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// The file beside a sink's output that records its last committed batch.
pub fn sidecar_of(path: &Path) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".txid");
    path.with_file_name(name)
}

/// Cuts a sink file back to the length its sidecar recorded: bytes after it are a
/// batch a run did not finish writing. Returns how many bytes were cut. Neither file is
/// opened through a symbolic link.
fn trim_partial_batch(path: &Path, sidecar: &Path) -> std::io::Result<u64> {
    let Ok(mut file) = policy::paths::open_for_read(sidecar) else {
        return Ok(0);
    };
    let mut text = String::new();
    std::io::Read::read_to_string(&mut std::io::Read::take(&mut file, 64), &mut text)?;
    let Some(len) = text
        .split_whitespace()
        .nth(1)
        .and_then(|l| l.parse::<u64>().ok())
    else {
        return Ok(0);
    };
    let out = policy::paths::open_for_append(path)?;
    let actual = out.metadata()?.len();
    if actual > len {
        out.set_len(len)?;
        return Ok(actual - len);
    }
    Ok(0)
}

/// A committer task: keeps each input under its attempt until the batch commits.
struct Committer {
    store: Arc<Mutex<CommitStore>>,
    key: Option<FieldLookup>,
    /// Inputs of the executor's current batch of tuples, put into the store together
    /// (one lock per batch, not per tuple) before any of them is acked.
    buffered: Vec<(u32, Values)>,
}

impl Bolt for Committer {
    fn execute(&mut self, input: &Tuple, _out: &mut Emitter) -> Result<(), Failed> {
        let values = match &mut self.key {
            Some(k) => Values::One(k.get(input)?.clone()),
            None => input.values.clone(),
        };
        let attempt = batch_of(input.ids.root());
        if attempt != 0 {
            self.buffered.push((attempt, values));
            return Ok(());
        }
        let mut store = lock(&self.store);
        {
            // Not from a batch (an untracked emit upstream): applied at once, as
            // at-most-once; validation warned about the edge that brings it.
            store.pending.entry(0).or_default().push(values);
            let mut files = FileBatch::default();
            store.stage_lines(0, &mut files);
            if let Err(p) = files.write(0) {
                store.pending.remove(&0);
                return Err(Failed(p.text));
            }
            store.commit(0, 0);
        }
        Ok(())
    }

    /// Puts the batch's inputs into the store; the executor acks them only after this.
    fn flush(&mut self) -> Result<(), Failed> {
        if self.buffered.is_empty() {
            return Ok(());
        }
        let mut store = lock(&self.store);
        for (attempt, values) in self.buffered.drain(..) {
            store.pending.entry(attempt).or_default().push(values);
        }
        Ok(())
    }

    /// An input is safe only once it is in the store, which outlives the task.
    fn acks_after_flush(&self) -> bool {
        true
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
    let max_bytes = cfg.int("max_bytes").max(1) as usize;
    let component = component.to_string();
    Ok(Arc::new(move |info: &TaskInfo| {
        let kind = || match (&file, component.as_str()) {
            (Some((path, sidecar)), _) => StoreKind::File {
                path: path.clone(),
                sidecar: sidecar.clone(),
            },
            (None, "logger") => StoreKind::Log { max_bytes },
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
        Ok(Behaviour::Bolt(Box::new(Committer {
            store,
            key,
            buffered: Vec::new(),
        })))
    }))
}
