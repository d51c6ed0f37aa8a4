//! `tributary bench --soak DURATION`: the acked word count at full speed for a long
//! time, sampling the process's resident set (`VmRSS`) and its high-water mark
//! (`VmHWM`) from `/proc/self/status`, to show that memory stays flat under load.

use std::time::{Duration, Instant};

use serde::Serialize;
use tributary::runtime::{Engine, RunOptions, StopMode};

/// One sample of a soak run.
#[derive(Debug, Clone, Serialize)]
pub struct SoakSample {
    pub elapsed_s: f64,
    pub words: u64,
    pub trees_acked: u64,
    pub trees_failed: u64,
    pub rss_kb: u64,
    pub hwm_kb: u64,
}

/// The whole series and what it says.
#[derive(Debug, Serialize)]
pub struct SoakReport {
    pub samples: Vec<SoakSample>,
    /// When the warm-up ended: one minute, or the whole run if shorter.
    pub warmup_s: f64,
    /// Peak resident set at the first sample after the warm-up.
    pub hwm_after_warmup_kb: u64,
    pub hwm_at_end_kb: u64,
}

/// `VmRSS` and `VmHWM` in kB; zeros where `/proc/self/status` is missing.
pub fn memory_kb() -> (u64, u64) {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return (0, 0);
    };
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Runs `topology` for `duration`, sampling every `every` and printing each sample as it
/// is taken unless `quiet`.
pub fn soak(
    topology: &tributary::model::Topology,
    duration: Duration,
    every: Duration,
    quiet: bool,
) -> anyhow::Result<SoakReport> {
    let engine = Engine::start(topology, RunOptions::default())?;
    let start = Instant::now();
    let warmup = Duration::from_secs(60).min(duration);
    let mut samples = Vec::new();
    let mut hwm_after_warmup = None;
    if !quiet {
        println!("elapsed     words counted   trees acked  failed   RSS MB  peak MB");
    }
    loop {
        let left = duration.saturating_sub(start.elapsed());
        std::thread::sleep(every.min(left));
        let snap = engine.snapshot();
        let (rss, hwm) = memory_kb();
        let node = |name: &str| snap.nodes.get(name);
        let sample = SoakSample {
            elapsed_s: start.elapsed().as_secs_f64(),
            words: node("count").map_or(0, |n| n.executed),
            trees_acked: node("sentences").map_or(0, |n| n.acked),
            trees_failed: node("sentences").map_or(0, |n| n.failed),
            rss_kb: rss,
            hwm_kb: hwm,
        };
        if !quiet {
            println!(
                "{:>6.0} s {:>15} {:>13} {:>7} {:>8.1} {:>8.1}",
                sample.elapsed_s,
                sample.words,
                sample.trees_acked,
                sample.trees_failed,
                rss as f64 / 1024.0,
                hwm as f64 / 1024.0
            );
        }
        if hwm_after_warmup.is_none() && start.elapsed() >= warmup {
            hwm_after_warmup = Some(hwm);
        }
        samples.push(sample);
        if start.elapsed() >= duration {
            break;
        }
    }
    engine.stop(StopMode::Immediate);
    let hwm_at_end = samples.last().map_or(0, |s| s.hwm_kb);
    Ok(SoakReport {
        warmup_s: warmup.as_secs_f64(),
        hwm_after_warmup_kb: hwm_after_warmup.unwrap_or(hwm_at_end),
        hwm_at_end_kb: hwm_at_end,
        samples,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_is_read_from_proc_where_it_exists() {
        let (rss, hwm) = memory_kb();
        if std::path::Path::new("/proc/self/status").exists() {
            assert!(rss > 0 && hwm >= rss, "rss {rss} hwm {hwm}");
        }
    }
}
