//! The baseline: word count as a hand-written crossbeam pipeline with no framework —
//! generator → split → count, `Vec` batches of 256, fields-style partitioning by word.
//!
//! The word type is a parameter. `String` is the baseline the targets are defined
//! against (one owned, allocated word per tuple). The framework keeps short text inline
//! in its tuples, so the bench also runs this pipeline with that same inline type: the
//! ratio against it shows the framework's own overhead with the string representation
//! held equal, and keeps the headline ratio from hiding behind a cheaper word.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crossbeam_channel::bounded;
use rustc_hash::FxBuildHasher;
use tributary::runtime::rng::Rng;

const BATCH: usize = 256;

/// CPU time this process has used so far (user + system), from `/proc/self/stat`;
/// zero where that file does not exist. On a shared machine, CPU per word is a steadier
/// measure of efficiency than wall-clock throughput.
pub fn process_cpu() -> Duration {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return Duration::ZERO;
    };
    // Fields after the command name (which may contain spaces) start after the last ')'.
    let rest = stat.rsplit(')').next().unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are fields 14 and 15 of the full line: 11 and 12 here.
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

/// Words per second and CPU nanoseconds per word over a measurement window.
#[derive(Debug, Clone, Copy)]
pub struct Measured {
    pub words_per_s: f64,
    pub cpu_ns_per_word: f64,
}

/// Samples `counted` after a warm-up and over `measure`.
pub fn measure(counted: impl Fn() -> u64, warmup: Duration, measure: Duration) -> Measured {
    std::thread::sleep(warmup);
    let (t0, c0, cpu0) = (Instant::now(), counted(), process_cpu());
    std::thread::sleep(measure);
    let (t1, c1, cpu1) = (Instant::now(), counted(), process_cpu());
    let words = c1.saturating_sub(c0).max(1) as f64;
    Measured {
        words_per_s: words / (t1 - t0).as_secs_f64(),
        cpu_ns_per_word: (cpu1 - cpu0).as_nanos() as f64 / words,
    }
}

/// What the split stage makes of each word.
pub trait Word: for<'a> From<&'a str> + Hash + Eq + Send + 'static {}
impl<W: for<'a> From<&'a str> + Hash + Eq + Send + 'static> Word for W {}

/// Runs for `warmup + measure` and returns words counted per second while measuring.
pub fn words_per_sec<W: Word>(
    pool: Arc<Vec<Arc<str>>>,
    splitters: usize,
    counters: usize,
    warmup: Duration,
    window: Duration,
) -> Measured {
    let stop = Arc::new(AtomicBool::new(false));
    let counted = Arc::new(AtomicU64::new(0));
    let (to_split, split_rx): (Vec<_>, Vec<_>) =
        (0..splitters).map(|_| bounded::<Vec<Arc<str>>>(64)).unzip();
    let (to_count, count_rx): (Vec<_>, Vec<_>) =
        (0..counters).map(|_| bounded::<Vec<W>>(64)).unzip();
    let mut threads = Vec::new();
    {
        let stop = stop.clone();
        let pool = pool.clone();
        threads.push(std::thread::spawn(move || {
            let mut rng = Rng::new(7);
            let mut next = 0;
            while !stop.load(Ordering::Relaxed) {
                let batch: Vec<Arc<str>> = (0..BATCH)
                    .map(|_| pool[rng.below(pool.len())].clone())
                    .collect();
                if to_split[next].send(batch).is_err() {
                    break;
                }
                next = (next + 1) % to_split.len();
            }
        }));
    }
    for rx in split_rx {
        let to_count = to_count.clone();
        threads.push(std::thread::spawn(move || {
            let hasher = FxBuildHasher;
            let mut out: Vec<Vec<W>> = (0..to_count.len())
                .map(|_| Vec::with_capacity(BATCH))
                .collect();
            while let Ok(batch) = rx.recv() {
                for sentence in batch {
                    for word in sentence.split(' ') {
                        let i = (hasher.hash_one(word) % to_count.len() as u64) as usize;
                        out[i].push(W::from(word));
                        if out[i].len() == BATCH {
                            let full = std::mem::replace(&mut out[i], Vec::with_capacity(BATCH));
                            if to_count[i].send(full).is_err() {
                                return;
                            }
                        }
                    }
                }
            }
        }));
    }
    drop(to_count);
    for rx in count_rx {
        let counted = counted.clone();
        threads.push(std::thread::spawn(move || {
            // A hand-written pipeline over trusted data takes the fastest hash (Fx); the
            // framework's `count_by_key` pays for a seeded one (`KeyMap`), and the ratio
            // shows that cost.
            let mut counts: HashMap<W, u64, FxBuildHasher> = HashMap::default();
            while let Ok(batch) = rx.recv() {
                let n = batch.len() as u64;
                for word in batch {
                    *counts.entry(word).or_insert(0) += 1;
                }
                counted.fetch_add(n, Ordering::Relaxed);
            }
        }));
    }
    let result = measure(|| counted.load(Ordering::Relaxed), warmup, window);
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        let _ = t.join();
    }
    result
}
