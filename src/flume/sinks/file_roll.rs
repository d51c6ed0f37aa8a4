//! Flume's `file_roll` sink: appends event bodies, one per line (the TEXT serializer), to a
//! file in `sink.directory`, starting a new file every `sink.rollInterval` seconds
//! (0 = never roll). Files are named `<start-ms>-<n>` like Flume's. Each batch is flushed and
//! fsynced before the take commits, so a committed take really is on disk.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{SinkCounters, drain_batch};
use crate::clock::Clock;
use crate::flume::channel::Channel;
use crate::flume::sink_processor::{Sink, SinkError, Status};
use crate::flume::util::Settings;
use crate::model::Value;
use crate::policy::{self, Grant, PathUse};

/// A rolling file sink.
pub struct FileRollSink {
    name: String,
    channel: Arc<dyn Channel>,
    dir: PathBuf,
    roll_interval_ms: u64,
    batch: usize,
    clock: Arc<dyn Clock>,
    counters: Arc<SinkCounters>,
    prefix: u64,
    index: u64,
    current: Option<(File, u64)>,
}

impl FileRollSink {
    /// `sink.directory` resolves through `grant` (against the topology's folder).
    pub fn new(
        name: &str,
        config: &BTreeMap<String, Value>,
        grant: &Grant,
        channel: Arc<dyn Channel>,
        clock: Arc<dyn Clock>,
        counters: Arc<SinkCounters>,
    ) -> Result<Self, String> {
        let s = Settings::new("file_roll", config);
        let raw = s.str("sink.directory");
        let dir = grant
            .path(name, "sink.directory", PathUse::WriteFolder, &raw)
            .map_err(|r| r.to_string())?;
        fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        Ok(Self {
            name: name.to_string(),
            channel,
            dir,
            roll_interval_ms: s.uint("sink.rollInterval").saturating_mul(1000),
            batch: s.size("batchSize").max(1),
            prefix: clock.now_ms(),
            clock,
            counters,
            index: 0,
            current: None,
        })
    }

    /// The file being written, rolling over first if the interval has passed.
    fn file<'a>(
        dir: &Path,
        current: &'a mut Option<(File, u64)>,
        prefix: u64,
        index: &mut u64,
        roll_interval_ms: u64,
        now: u64,
    ) -> Result<&'a mut File, String> {
        let expired = current.as_ref().is_some_and(|(_, opened)| {
            roll_interval_ms > 0 && now >= opened.saturating_add(roll_interval_ms)
        });
        if expired {
            *current = None;
        }
        if current.is_none() {
            *index += 1;
            let path = dir.join(format!("{prefix}-{index}"));
            // Never through a link planted in the folder after the run's check.
            let file = policy::paths::open_for_append(&path)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            *current = Some((file, now));
        }
        match current.as_mut() {
            Some((f, _)) => Ok(f),
            None => Err("no output file".into()),
        }
    }
}

impl Sink for FileRollSink {
    fn name(&self) -> &str {
        &self.name
    }

    fn process(&mut self) -> Result<Status, SinkError> {
        let now = self.clock.now_ms();
        let Self {
            name,
            channel,
            dir,
            roll_interval_ms,
            batch,
            counters,
            prefix,
            index,
            current,
            ..
        } = self;
        drain_batch(name, &**channel, *batch, counters, |events| {
            let file = Self::file(dir, current, *prefix, index, *roll_interval_ms, now)?;
            let mut buf = Vec::new();
            for e in events {
                buf.extend_from_slice(&e.body);
                buf.push(b'\n');
            }
            let written = file
                .write_all(&buf)
                .and_then(|()| file.flush())
                .and_then(|()| file.sync_data());
            if let Err(e) = written {
                // Start a fresh file next time rather than appending after a partial write.
                *current = None;
                return Err(format!("write to {} failed: {e}", dir.display()));
            }
            Ok(())
        })
    }

    fn stop(&mut self) {
        self.current = None;
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::clock::ManualClock;
    use crate::flume::Event;
    use crate::flume::channel::ChannelConfig;
    use crate::flume::channel_processor::put_batch;
    use crate::flume::memory_channel::MemoryChannel;

    fn setup(
        interval_s: i64,
    ) -> (
        tempfile::TempDir,
        Arc<dyn Channel>,
        Arc<ManualClock>,
        FileRollSink,
    ) {
        let base = tempfile::tempdir().unwrap();
        let ch: Arc<dyn Channel> = Arc::new(MemoryChannel::new(
            "c",
            ChannelConfig {
                capacity: 100,
                transaction_capacity: 100,
                keep_alive: Duration::ZERO,
                ..ChannelConfig::default()
            },
        ));
        let clock = Arc::new(ManualClock::new(1_000_000));
        let config = BTreeMap::from([
            ("sink.directory".to_string(), Value::Str("out".into())),
            ("sink.rollInterval".to_string(), Value::Int(interval_s)),
        ]);
        let sink = FileRollSink::new(
            "roll",
            &config,
            &Grant::new(base.path()),
            Arc::clone(&ch),
            clock.clone(),
            Arc::new(SinkCounters::default()),
        )
        .unwrap();
        (base, ch, clock, sink)
    }

    fn files(base: &Path) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = fs::read_dir(base.join("out"))
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.file_name().to_string_lossy().into_owned(),
                    fs::read_to_string(e.path()).unwrap(),
                )
            })
            .collect();
        out.sort();
        out
    }

    fn put(ch: &Arc<dyn Channel>, bodies: &[&str]) {
        put_batch(&**ch, bodies.iter().map(|b| Event::new(*b)).collect()).unwrap();
    }

    #[test]
    fn rolls_to_a_new_file_every_interval() {
        let (base, ch, clock, mut sink) = setup(30);
        put(&ch, &["a", "b"]);
        sink.process().unwrap();
        clock.advance(29_999);
        put(&ch, &["c"]);
        sink.process().unwrap();
        clock.advance(1);
        put(&ch, &["d"]);
        sink.process().unwrap();
        assert_eq!(
            files(base.path()),
            [
                ("1000000-1".to_string(), "a\nb\nc\n".to_string()),
                ("1000000-2".to_string(), "d\n".to_string())
            ]
        );
    }

    #[test]
    fn interval_zero_never_rolls() {
        let (base, ch, clock, mut sink) = setup(0);
        for body in ["a", "b"] {
            put(&ch, &[body]);
            sink.process().unwrap();
            clock.advance(10_000_000);
        }
        assert_eq!(files(base.path()).len(), 1);
    }
}
