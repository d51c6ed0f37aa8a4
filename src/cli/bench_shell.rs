//! `tributary bench --shell`: what running a bolt as a program costs. The acked word
//! count (max spout pending 8192) with its split once as the built-in and once as the
//! shipped plain-Python split (`topologies/bolts/split_words.py`, one process per task,
//! Storm's multi-lang protocol), at split parallelism 1 and 2, measured back to back in
//! one process; reported as words/s and the shell/built-in ratio, headlined by the
//! weakest parallelism. Processor time is not compared: the children's is not ours.

use std::time::Duration;

use serde::Serialize;
use tributary::model::Value;
use tributary::runtime::{Engine, RunOptions, StopMode};

use super::bench_raw::{Measured, measure};

/// The example's script, so the benchmark runs wherever the binary is.
const SPLIT_SCRIPT: &str = include_str!("../../topologies/bolts/split_words.py");

#[derive(Debug, Clone, Serialize)]
pub struct ShellFigure {
    pub parallelism: String,
    pub built_in_words_per_s: f64,
    pub python_words_per_s: f64,
    pub ratio: f64,
}

fn words_per_s(
    split: u32,
    shell: Option<&std::path::Path>,
    warmup: Duration,
    window: Duration,
) -> anyhow::Result<Measured> {
    let mut t = super::bench::word_count(split, split, true);
    let mut options = RunOptions::default();
    if let (Some(dir), Some(node)) = (shell, t.node_by_name_mut("split")) {
        node.component = "shell_bolt".into();
        node.config.clear();
        node.config.insert(
            "command".into(),
            Value::List(vec![
                Value::Str("python3".into()),
                Value::Str("split_words.py".into()),
            ]),
        );
        options.base_dir = dir.to_path_buf();
        options.allow_exec = true;
    }
    let engine = Engine::start(&t, options)?;
    let words = || {
        engine
            .snapshot()
            .nodes
            .get("count")
            .map_or(0, |n| n.executed)
    };
    let m = measure(words, warmup, window);
    engine.stop(StopMode::Immediate);
    Ok(m)
}

/// Both splits at parallelism 1 and 2, the weakest ratio first.
pub fn figures(secs: f64) -> anyhow::Result<Vec<ShellFigure>> {
    let dir = tempfile::tempdir()?;
    std::fs::write(dir.path().join("split_words.py"), SPLIT_SCRIPT)?;
    let window = Duration::from_secs_f64(secs.max(0.5));
    // A Python child starts in tens of milliseconds; a second of warm-up covers it.
    let warmup = (window / 3).max(Duration::from_secs(1));
    let mut out = Vec::new();
    for split in [1u32, 2] {
        let built_in = words_per_s(split, None, warmup, window)?;
        let python = words_per_s(split, Some(dir.path()), warmup, window)?;
        out.push(ShellFigure {
            parallelism: format!("1/{split}/{split}"),
            built_in_words_per_s: built_in.words_per_s,
            python_words_per_s: python.words_per_s,
            ratio: python.words_per_s / built_in.words_per_s.max(1.0),
        });
    }
    out.sort_by(|a, b| a.ratio.total_cmp(&b.ratio));
    Ok(out)
}
