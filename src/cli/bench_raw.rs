//! The baseline: word count as a hand-written crossbeam pipeline with no framework —
//! generator → split → count, `Vec` batches of 256, fields-style partitioning by word.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crossbeam_channel::bounded;
use tributary::runtime::fxhash::FxBuild;
use tributary::runtime::rng::Rng;

const BATCH: usize = 256;

/// Runs for `warmup + measure` and returns words counted per second while measuring.
pub fn words_per_sec(
    pool: Arc<Vec<Arc<str>>>,
    splitters: usize,
    counters: usize,
    warmup: Duration,
    measure: Duration,
) -> f64 {
    let stop = Arc::new(AtomicBool::new(false));
    let counted = Arc::new(AtomicU64::new(0));
    let (to_split, split_rx): (Vec<_>, Vec<_>) =
        (0..splitters).map(|_| bounded::<Vec<Arc<str>>>(64)).unzip();
    let (to_count, count_rx): (Vec<_>, Vec<_>) =
        (0..counters).map(|_| bounded::<Vec<String>>(64)).unzip();
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
            let hasher = FxBuild::default();
            let mut out: Vec<Vec<String>> = (0..to_count.len())
                .map(|_| Vec::with_capacity(BATCH))
                .collect();
            while let Ok(batch) = rx.recv() {
                for sentence in batch {
                    for word in sentence.split(' ') {
                        let i = (hasher.hash_one(word) % to_count.len() as u64) as usize;
                        out[i].push(word.to_string());
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
            let mut counts: HashMap<String, u64, FxBuild> = HashMap::default();
            while let Ok(batch) = rx.recv() {
                let n = batch.len() as u64;
                for word in batch {
                    *counts.entry(word).or_insert(0) += 1;
                }
                counted.fetch_add(n, Ordering::Relaxed);
            }
        }));
    }
    std::thread::sleep(warmup);
    let (t0, c0) = (Instant::now(), counted.load(Ordering::Relaxed));
    std::thread::sleep(measure);
    let (t1, c1) = (Instant::now(), counted.load(Ordering::Relaxed));
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        let _ = t.join();
    }
    (c1 - c0) as f64 / (t1 - t0).as_secs_f64()
}
