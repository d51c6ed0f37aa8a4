//! Flume's `spooldir` source: reads immutable files dropped into a folder, one event per
//! line, and renames each file to `<name>.COMPLETED` only after **all** its events are
//! committed. A crash mid-file leaves the file unrenamed, so it is read again from the top
//! on restart: at-least-once, never lost.
//!
//! Files are taken oldest first (`consumeOrder = oldest`, by modification time, then name).
//! Hidden files (`.` prefix), files already ending in the completed suffix and files
//! matching `ignorePattern` are skipped. A file that changes while being read, or whose
//! completed name is already taken, is reported and left alone, as Flume refuses both.
//!
//! Files are streamed, never read whole: memory is one batch (at most `batchSize` events
//! and [`MAX_BATCH_BYTES`]) whatever the file's size. A line longer than
//! `deserializer.maxLineLength` (Flume's name, default 2048 bytes) becomes an event of its
//! first `maxLineLength` bytes; the rest of it is skipped and the truncation counted and
//! logged once per file. (Flume truncates too, but then reads the rest of the line as
//! further events; skipping it keeps one line one event.)

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};

use regex::Regex;

use super::lines::{LineReader, Piece};
use super::{Source, SourceContext};
use crate::flume::Event;
use crate::flume::util::Settings;
use crate::model::Value;
use crate::policy::{self, Grant, PathUse};

/// Default `deserializer.maxLineLength`, Flume's: bytes of a line kept in its event.
pub const DEFAULT_MAX_LINE_LENGTH: u64 = 2048;
/// Largest `deserializer.maxLineLength` validation accepts (1 MiB).
pub const MAX_LINE_LENGTH_LIMIT: u64 = 1 << 20;
/// Most bytes of event bodies in one put transaction: a batch ends at `batchSize` events
/// or at this, whichever comes first, so a batch of long lines stays small.
pub const MAX_BATCH_BYTES: usize = 4 << 20;

/// A spooling-directory source.
pub struct SpoolDirSource {
    name: String,
    dir: PathBuf,
    batch: usize,
    max_line_length: usize,
    suffix: String,
    ignore: Option<Regex>,
    poll: Duration,
    /// Files that failed (changed while read, name clash); not retried in this run.
    refused: BTreeSet<PathBuf>,
}

impl SpoolDirSource {
    /// Reads `spoolDir` (through `grant`, relative to the topology's folder),
    /// `batchSize` (100), `deserializer.maxLineLength` (2048), `fileSuffix`
    /// (`.COMPLETED`), `ignorePattern` and `pollDelay` (ms, 500).
    pub fn new(
        name: &str,
        config: &BTreeMap<String, Value>,
        grant: &Grant,
    ) -> Result<Self, String> {
        let s = Settings::new("spooldir", config);
        let c = s.flume();
        let raw = s.str("spoolDir");
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
            batch: s.size("batchSize").max(1),
            max_line_length: usize::try_from(
                s.uint("deserializer.maxLineLength")
                    .clamp(1, MAX_LINE_LENGTH_LIMIT),
            )
            .unwrap_or(usize::MAX),
            suffix: c.str("fileSuffix").unwrap_or_else(|| ".COMPLETED".into()),
            ignore,
            poll: Duration::from_millis(c.uint("pollDelay", 500)),
            refused: BTreeSet::new(),
        })
    }

    /// The next file to read, oldest first. Keeps only the oldest seen so far, so a
    /// folder of any size costs no more memory than one entry.
    fn next_file(&self) -> Result<Option<PathBuf>, String> {
        let mut oldest: Option<(SystemTime, String, PathBuf)> = None;
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
            // `DirEntry::metadata` does not follow links: a link planted in the spool
            // folder is skipped, so it can neither be read nor have its target renamed.
            let Ok(meta) = entry.metadata() else { continue };
            if !meta.is_file() {
                continue;
            }
            let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
            let candidate = (modified, name, path);
            if oldest.as_ref().is_none_or(|o| candidate < *o) {
                oldest = Some(candidate);
            }
        }
        Ok(oldest.map(|(_, _, p)| p))
    }

    /// Streams, delivers and renames one file. `Ok(false)` when stopped part-way.
    fn consume(&mut self, path: &Path, ctx: &SourceContext) -> Result<bool, String> {
        let show = path.display();
        // A link swapped in after the listing is refused, not followed.
        let file = policy::paths::open_for_read(path).map_err(|e| format!("{show}: {e}"))?;
        let before = file.metadata().map_err(|e| format!("{show}: {e}"))?;
        let mut reader = BufReader::new(file);
        // The limit counts the newline; a line keeps up to max_line_length bytes.
        let mut lines = LineReader::new(self.max_line_length.saturating_add(1));
        let mut batch = Vec::new();
        let mut batch_bytes = 0usize;
        let mut truncated = 0u64;
        loop {
            let piece = lines
                .next(&mut reader)
                .map_err(|e| format!("{show}: {e}"))?;
            let (body, end) = match piece {
                Piece::Line(line) => (Some(line), false),
                Piece::TooLong(start) => {
                    truncated += 1;
                    ctx.counters.too_long.fetch_add(1, Ordering::Relaxed);
                    (Some(start), false)
                }
                Piece::End(tail) => ((!tail.is_empty()).then_some(tail), true),
            };
            if let Some(body) = body {
                batch_bytes += body.len();
                batch.push(Event::new(body));
            }
            let full = batch.len() >= self.batch || batch_bytes >= MAX_BATCH_BYTES;
            if (full || end) && !batch.is_empty() {
                if !ctx.deliver(std::mem::take(&mut batch)) {
                    return Ok(false);
                }
                batch_bytes = 0;
            }
            if end {
                break;
            }
        }
        if truncated > 0 {
            ctx.notices.error(
                &self.name,
                format!(
                    "{show}: {truncated} lines were longer than deserializer.maxLineLength ({} bytes) and were cut to that length",
                    self.max_line_length
                ),
            );
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
                        ctx.notices
                            .error(&self.name, format!("{e}; the file is left as it is"));
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

    #[test]
    fn long_lines_are_cut_counted_and_logged_once_per_file() {
        let base = tempfile::tempdir().unwrap();
        let spool = base.path().join("spool");
        fs::create_dir_all(&spool).unwrap();
        let long = "y".repeat(10_000);
        fs::write(spool.join("d.txt"), format!("short\n{long}\n{long}\nend")).unwrap();
        let config = BTreeMap::from([("deserializer.maxLineLength".to_string(), Value::Int(4))]);
        let (ctx, ch) = context(100);
        let mut source = SpoolDirSource::new("sp", &config, &Grant::new(base.path())).unwrap();
        let path = source.next_file().unwrap().unwrap();
        assert!(source.consume(&path, &ctx).unwrap());
        assert_eq!(bodies(&*ch), ["shor", "yyyy", "yyyy", "end"]);
        assert_eq!(ctx.counters.too_long.load(Ordering::Relaxed), 3);
        let notices = ctx.notices.drain();
        assert_eq!(notices.len(), 1, "{notices:?}");
        assert!(notices[0].text.contains("3 lines"), "{notices:?}");
        assert!(spool.join("d.txt.COMPLETED").exists());
    }

    #[test]
    fn a_file_much_larger_than_a_batch_is_streamed_in_batches() {
        let base = tempfile::tempdir().unwrap();
        let spool = base.path().join("spool");
        fs::create_dir_all(&spool).unwrap();
        let text: String = (0..10_000).map(|i| format!("{i}\n")).collect();
        fs::write(spool.join("big.log"), text).unwrap();
        let config = BTreeMap::from([("batchSize".to_string(), Value::Int(7))]);
        let (ctx, ch) = context(20_000);
        let mut source = SpoolDirSource::new("sp", &config, &Grant::new(base.path())).unwrap();
        let path = source.next_file().unwrap().unwrap();
        assert!(source.consume(&path, &ctx).unwrap());
        // One put transaction per batch of 7.
        assert_eq!(
            ch.counters().snapshot().commits,
            10_000usize.div_ceil(7) as u64
        );
        let mut got = Vec::new();
        while got.len() < 10_000 {
            let more = bodies(&*ch);
            assert!(!more.is_empty());
            got.extend(more);
        }
        assert!(got.iter().enumerate().all(|(i, b)| *b == i.to_string()));
    }
}
