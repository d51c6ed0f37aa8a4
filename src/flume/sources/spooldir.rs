//! Flume's `spooldir` source: reads immutable files dropped into a folder, one event per
//! line, and renames each file to `<name>.COMPLETED` only after **all** its events are
//! committed. A crash mid-file leaves the file unrenamed, so it is read again from the top
//! on restart: at-least-once, never lost.
//!
//! Files are taken oldest first (`consumeOrder = oldest`, by modification time, then name).
//! Hidden files (`.` prefix), files already ending in the completed suffix and files
//! matching `ignorePattern` are skipped. A file that changes while being read, or whose
//! completed name is already taken, is reported and left alone, as Flume refuses both.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use regex::Regex;

use super::{Source, SourceContext};
use crate::flume::Event;
use crate::flume::util::Conf;
use crate::model::Value;
use crate::policy::{Grant, PathUse};

/// A spooling-directory source.
pub struct SpoolDirSource {
    name: String,
    dir: PathBuf,
    batch: usize,
    suffix: String,
    ignore: Option<Regex>,
    poll: Duration,
    /// Files that failed (changed while read, name clash); not retried in this run.
    refused: BTreeSet<PathBuf>,
}

impl SpoolDirSource {
    /// Reads `spoolDir` (relative to `base`), `batchSize` (100), `fileSuffix`
    /// (`.COMPLETED`), `ignorePattern` and `pollDelay` (ms, 500).
    pub fn new(
        name: &str,
        config: &BTreeMap<String, Value>,
        grant: &Grant,
    ) -> Result<Self, String> {
        let c = Conf(config);
        let raw = c.str("spoolDir").unwrap_or_else(|| "spool".into());
        let dir = grant
            .path(name, "spoolDir", PathUse::ConsumeFolder, &raw)
            .map_err(|r| r.to_string())?;
        fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let ignore = match c.str("ignorePattern") {
            Some(p) if !p.is_empty() => {
                Some(Regex::new(&p).map_err(|e| format!("bad ignorePattern: {e}"))?)
            }
            _ => None,
        };
        Ok(Self {
            name: name.to_string(),
            dir,
            batch: c.uint("batchSize", 100).max(1) as usize,
            suffix: c.str("fileSuffix").unwrap_or_else(|| ".COMPLETED".into()),
            ignore,
            poll: Duration::from_millis(c.uint("pollDelay", 500)),
            refused: BTreeSet::new(),
        })
    }

    /// The next file to read, oldest first.
    fn next_file(&self) -> Result<Option<PathBuf>, String> {
        let mut candidates: Vec<(SystemTime, String, PathBuf)> = Vec::new();
        let entries =
            fs::read_dir(&self.dir).map_err(|e| format!("{}: {e}", self.dir.display()))?;
        for entry in entries.flatten() {
            let path = entry.path();
            let Some(name) = path
                .file_name()
                .and_then(|n| n.to_str())
                .map(str::to_string)
            else {
                continue;
            };
            if name.starts_with('.')
                || name.ends_with(&self.suffix)
                || self.ignore.as_ref().is_some_and(|r| r.is_match(&name))
                || self.refused.contains(&path)
            {
                continue;
            }
            let Ok(meta) = entry.metadata() else { continue };
            if !meta.is_file() {
                continue;
            }
            let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
            candidates.push((modified, name, path));
        }
        candidates.sort();
        Ok(candidates.into_iter().next().map(|(_, _, p)| p))
    }

    /// Reads, delivers and renames one file. `Ok(false)` when stopped part-way.
    fn consume(&mut self, path: &Path, ctx: &SourceContext) -> Result<bool, String> {
        let show = path.display();
        let before = fs::metadata(path).map_err(|e| format!("{show}: {e}"))?;
        let bytes = fs::read(path).map_err(|e| format!("{show}: {e}"))?;
        let mut lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
        if lines.last().is_some_and(|l| l.is_empty()) {
            lines.pop();
        }
        for chunk in lines.chunks(self.batch) {
            let batch = chunk
                .iter()
                .map(|l| Event::new(l.strip_suffix(b"\r").unwrap_or(l).to_vec()))
                .collect();
            if !ctx.deliver(batch) {
                return Ok(false);
            }
        }
        let after = fs::metadata(path).map_err(|e| format!("{show}: {e}"))?;
        if after.len() != before.len() || after.modified().ok() != before.modified().ok() {
            return Err(format!(
                "{show} changed while it was being read; spooled files must be immutable"
            ));
        }
        let mut done = path.as_os_str().to_owned();
        done.push(&self.suffix);
        let done = PathBuf::from(done);
        if done.exists() {
            return Err(format!(
                "{} already exists; spooled file names must be unique",
                done.display()
            ));
        }
        fs::rename(path, &done).map_err(|e| format!("cannot rename {show}: {e}"))?;
        Ok(true)
    }
}

impl Source for SpoolDirSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn run(mut self: Box<Self>, ctx: SourceContext) {
        while !ctx.stop.is_stopped() {
            match self.next_file() {
                Ok(Some(path)) => match self.consume(&path, &ctx) {
                    Ok(true) => {}
                    Ok(false) => return,
                    Err(e) => {
                        ctx.counters.set_error(e);
                        self.refused.insert(path);
                    }
                },
                Ok(None) => {
                    ctx.stop.sleep(self.poll);
                }
                Err(e) => {
                    ctx.counters.set_error(e);
                    ctx.stop.sleep(self.poll);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;

    use super::*;
    use crate::flume::sources::tests::{bodies, context};

    #[test]
    fn files_become_events_and_are_renamed_after_commit() {
        let base = tempfile::tempdir().unwrap();
        let spool = base.path().join("in");
        fs::create_dir_all(&spool).unwrap();
        fs::write(spool.join("a.log"), "one\r\ntwo\nthree\n").unwrap();
        fs::write(spool.join(".hidden"), "skip me\n").unwrap();
        let config = BTreeMap::from([
            ("spoolDir".to_string(), Value::Str("in".into())),
            ("batchSize".to_string(), Value::Int(2)),
        ]);
        let (ctx, ch) = context(100);
        let mut source = SpoolDirSource::new("sp", &config, &Grant::new(base.path())).unwrap();
        let next = source.next_file().unwrap().unwrap();
        assert_eq!(next, spool.join("a.log"));
        assert!(source.consume(&next, &ctx).unwrap());
        assert!(spool.join("a.log.COMPLETED").exists());
        assert!(!spool.join("a.log").exists());
        assert_eq!(bodies(&*ch), ["one", "two", "three"]);
        assert_eq!(source.next_file().unwrap(), None);
        assert_eq!(ctx.counters.accepted.load(Ordering::Relaxed), 3);
    }

    #[test]
    fn a_file_is_not_renamed_until_all_its_events_commit() {
        let base = tempfile::tempdir().unwrap();
        fs::create_dir_all(base.path().join("spool")).unwrap();
        fs::write(base.path().join("spool/b.txt"), "1\n2\n3\n").unwrap();
        let config = BTreeMap::from([("batchSize".to_string(), Value::Int(1))]);
        // Capacity 2: the third event blocks; stopping then leaves the file in place.
        let (ctx, ch) = context(2);
        let mut source = SpoolDirSource::new("sp", &config, &Grant::new(base.path())).unwrap();
        let path = source.next_file().unwrap().unwrap();
        let stopper = {
            let ctx = ctx.clone();
            std::thread::spawn(move || {
                while !ctx.counters.blocked.load(Ordering::Relaxed) {
                    std::thread::yield_now();
                }
                ctx.stop.stop();
            })
        };
        assert!(!source.consume(&path, &ctx).unwrap());
        stopper.join().unwrap();
        assert!(path.exists());
        assert_eq!(bodies(&*ch), ["1", "2"]);
    }

    #[test]
    fn a_reused_file_name_is_refused() {
        let base = tempfile::tempdir().unwrap();
        let spool = base.path().join("spool");
        fs::create_dir_all(&spool).unwrap();
        fs::write(spool.join("c.txt"), "x\n").unwrap();
        fs::write(spool.join("c.txt.COMPLETED"), "old\n").unwrap();
        let (ctx, _) = context(10);
        let mut source =
            SpoolDirSource::new("sp", &BTreeMap::new(), &Grant::new(base.path())).unwrap();
        let path = source.next_file().unwrap().unwrap();
        let err = source.consume(&path, &ctx).unwrap_err();
        assert!(err.contains("must be unique"), "{err}");
    }
}
