//! `tributary bench [--json]`: the word-count workload three ways in one process —
//! the framework without acking, with acking (max spout pending 8192), and a raw
//! hand-written pipeline — at parallelism 1/1/1 and 1/2/2, reported as words/s and
//! framework/raw ratios. The headline of each ratio is its weakest configuration, named,
//! so a good figure at one parallelism cannot hide a poor one at another; every
//! configuration's figures follow. Also complete latency at about half of the acked peak
//! (1/1/1), and (`--soak`) the resident memory of a long acked run; `--lab` and
//! `--shell` measure Lab mode and a Python bolt instead.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tributary::model::{Grouping, Guarantee, Node, Role, StreamDecl, Topology};
use tributary::runtime::components::{SENTENCE_POOL, sentence_pool};
use tributary::runtime::{Control, Engine, RunOptions, StopMode, Text};

use super::bench_raw::{Measured, measure};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print the results as JSON.
    #[arg(long)]
    pub json: bool,
    /// Seconds measured per run (after a warm-up of a third of that).
    #[arg(long, default_value_t = 3.0)]
    pub secs: f64,
    /// Measure the three ways this many times, interleaved, and report the median of
    /// each figure: on a shared machine one round can land on a busy moment.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub rounds: u32,
    /// Instead of the comparison, run the acked word count (1/1/1) at full speed for
    /// this long (e.g. `10m`) and print resident memory every `--sample-every`.
    #[arg(long, value_parser = super::run::parse_duration)]
    pub soak: Option<Duration>,
    /// Turn tracer bullets on in the framework's runs: trace one tree in N (0: off).
    #[arg(long = "trace-every", default_value_t = 0)]
    pub trace_every: u32,
    /// Instead of the comparison, measure Lab mode: microseconds per step on the word
    /// count and on a 50-node chain, and the share of a frame playing at 1000 events/s.
    #[arg(long)]
    pub lab: bool,
    /// Instead of the comparison, measure a shell bolt: the acked word count with its
    /// split as the built-in and as a Python program (needs `python3`).
    #[arg(long)]
    pub shell: bool,
    /// Interval between soak samples.
    #[arg(long, default_value = "10s", value_parser = super::run::parse_duration)]
    pub sample_every: Duration,
}

#[derive(Debug, Clone, Serialize)]
struct Config {
    parallelism: String,
    raw_words_per_s: f64,
    /// The raw pipeline with the framework's inline text instead of `String` words.
    raw_inline_words_per_s: f64,
    unacked_words_per_s: f64,
    acked_words_per_s: f64,
    /// Trident-style batches and committed state (`guarantee: ExactlyOnce`).
    exactly_once_words_per_s: f64,
    /// Exactly-once words/s ÷ acked words/s, measured in the same round.
    ratio_exactly_once_vs_acked: f64,
    exactly_once_cpu_ns_per_word: f64,
    ratio_unacked: f64,
    ratio_acked: f64,
    /// Framework against the inline-text raw pipeline: overhead with words held equal.
    ratio_unacked_vs_inline: f64,
    ratio_acked_vs_inline: f64,
    raw_cpu_ns_per_word: f64,
    raw_inline_cpu_ns_per_word: f64,
    unacked_cpu_ns_per_word: f64,
    acked_cpu_ns_per_word: f64,
}

/// The headline of one ratio: its lowest value over the configurations, and which
/// configuration that was.
#[derive(Debug, Clone, PartialEq, Serialize)]
struct Weakest {
    parallelism: String,
    ratio: f64,
}

/// The configuration with the lowest `ratio` (the first of equals); `None` without
/// configurations. A NaN ratio (no words measured) counts as the weakest of all.
fn weakest(configs: &[Config], ratio: fn(&Config) -> f64) -> Option<Weakest> {
    let key = |c: &Config| {
        let r = ratio(c);
        if r.is_nan() { f64::NEG_INFINITY } else { r }
    };
    let c = configs
        .iter()
        .reduce(|best, c| if key(c) < key(best) { c } else { best })?;
    Some(Weakest {
        parallelism: c.parallelism.clone(),
        ratio: ratio(c),
    })
}

/// What `--json` prints. The top-level ratios are each the weakest configuration's,
/// with that configuration named in the `*_parallelism` beside it; `configs` holds every
/// configuration's own figures.
#[derive(Debug, Serialize)]
struct Report {
    ratio_unacked: f64,
    ratio_unacked_parallelism: String,
    ratio_acked: f64,
    ratio_acked_parallelism: String,
    ratio_unacked_vs_inline: f64,
    ratio_unacked_vs_inline_parallelism: String,
    ratio_acked_vs_inline: f64,
    ratio_acked_vs_inline_parallelism: String,
    configs: Vec<Config>,
    /// The configuration the latency is measured at (1/1/1, acked).
    latency_parallelism: String,
    half_load_words_per_s: f64,
    complete_latency_p50_ms: f64,
    complete_latency_p99_ms: f64,
}

/// The four headline ratios: unacked, acked, and the same against the raw pipeline with
/// inline words, in the order the report and the text output give them.
const HEADLINES: [fn(&Config) -> f64; 4] = [
    |c| c.ratio_unacked,
    |c| c.ratio_acked,
    |c| c.ratio_unacked_vs_inline,
    |c| c.ratio_acked_vs_inline,
];

const VOCABULARY: i64 = 1000;
const WORDS: i64 = 10;
const SEED: i64 = 42;

pub(super) fn word_count(split: u32, count: u32, acked: bool) -> Topology {
    let mut t = Topology::new("bench");
    t.settings.ackers = u32::from(acked);
    t.settings.max_spout_pending = acked.then_some(8192);
    t.settings.message_timeout_secs = 30;
    let nodes = [
        Node::new("sentences", Role::Spout, "sentence_generator")
            .with_config("seed", SEED)
            .with_config("vocabulary", VOCABULARY)
            .with_config("words_per_sentence", WORDS)
            .with_output(StreamDecl::default_stream(&["sentence"])),
        Node::new("split", Role::Bolt, "split")
            .with_output(StreamDecl::default_stream(&["word"]))
            .with_parallelism(split),
        Node::new("count", Role::Bolt, "count_by_key")
            .with_config("key", "word")
            .with_output(StreamDecl::default_stream(&["word", "count"]))
            .with_parallelism(count),
    ];
    for n in nodes {
        // Names are fixed and distinct, so adding cannot fail.
        let _ = t.add_node(n);
    }
    let _ = t.connect_names("sentences", "split", "default", Grouping::Shuffle);
    let _ = t.connect_names(
        "split",
        "count",
        "default",
        Grouping::Fields(vec!["word".into()]),
    );
    t
}

/// Words counted per second by the framework, measured after a warm-up.
fn framework(
    split: u32,
    count: u32,
    guarantee: Guarantee,
    trace_every: u32,
    warmup: Duration,
    window: Duration,
) -> anyhow::Result<Measured> {
    let mut design = word_count(split, count, guarantee != Guarantee::AtMostOnce);
    design.settings.guarantee = guarantee;
    let engine = Engine::start(&design, RunOptions::default())?;
    if trace_every > 0 {
        engine.control(Control::TraceEvery { every: trace_every });
    }
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

/// Complete latency with the spout limited to `words_per_s` (acking on, 1/1/1).
fn latency_at(words_per_s: f64, warmup: Duration, measure: Duration) -> anyhow::Result<(f64, f64)> {
    let engine = Engine::start(&word_count(1, 1, true), RunOptions::default())?;
    engine.control(Control::SetRate {
        node: "sentences".into(),
        per_sec: Some(words_per_s / WORDS as f64),
    });
    std::thread::sleep(warmup + measure);
    let snap = engine.stop(StopMode::Immediate);
    let s = &snap.nodes["sentences"];
    Ok((
        s.complete_latency_p50.as_secs_f64() * 1e3,
        s.complete_latency_p99.as_secs_f64() * 1e3,
    ))
}

/// One round of the three ways at one parallelism.
fn measure_config(
    pool: &Arc<Vec<Arc<str>>>,
    split: u32,
    count: u32,
    trace_every: u32,
    warmup: Duration,
    measure: Duration,
) -> anyhow::Result<Config> {
    let unacked = framework(
        split,
        count,
        Guarantee::AtMostOnce,
        trace_every,
        warmup,
        measure,
    )?;
    let acked = framework(
        split,
        count,
        Guarantee::AtLeastOnce,
        trace_every,
        warmup,
        measure,
    )?;
    let exactly_once = framework(
        split,
        count,
        Guarantee::ExactlyOnce,
        trace_every,
        warmup,
        measure,
    )?;
    let raw = super::bench_raw::words_per_sec::<String>(
        pool.clone(),
        split as usize,
        count as usize,
        warmup,
        measure,
    );
    let inline = super::bench_raw::words_per_sec::<Text>(
        pool.clone(),
        split as usize,
        count as usize,
        warmup,
        measure,
    );
    Ok(Config {
        parallelism: format!("1/{split}/{count}"),
        raw_words_per_s: raw.words_per_s,
        raw_inline_words_per_s: inline.words_per_s,
        unacked_words_per_s: unacked.words_per_s,
        acked_words_per_s: acked.words_per_s,
        exactly_once_words_per_s: exactly_once.words_per_s,
        ratio_exactly_once_vs_acked: exactly_once.words_per_s / acked.words_per_s.max(1.0),
        exactly_once_cpu_ns_per_word: exactly_once.cpu_ns_per_word,
        ratio_unacked: unacked.words_per_s / raw.words_per_s.max(1.0),
        ratio_acked: acked.words_per_s / raw.words_per_s.max(1.0),
        ratio_unacked_vs_inline: unacked.words_per_s / inline.words_per_s.max(1.0),
        ratio_acked_vs_inline: acked.words_per_s / inline.words_per_s.max(1.0),
        raw_cpu_ns_per_word: raw.cpu_ns_per_word,
        raw_inline_cpu_ns_per_word: inline.cpu_ns_per_word,
        unacked_cpu_ns_per_word: unacked.cpu_ns_per_word,
        acked_cpu_ns_per_word: acked.cpu_ns_per_word,
    })
}

/// The median of each figure over rounds (ratios are medians of the per-round ratios,
/// each taken from figures measured seconds apart).
fn median_config(rounds: &[Config]) -> Option<Config> {
    let first = rounds.first()?;
    let median = |f: fn(&Config) -> f64| {
        let mut v: Vec<f64> = rounds.iter().map(f).collect();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    Some(Config {
        parallelism: first.parallelism.clone(),
        raw_words_per_s: median(|c| c.raw_words_per_s),
        raw_inline_words_per_s: median(|c| c.raw_inline_words_per_s),
        unacked_words_per_s: median(|c| c.unacked_words_per_s),
        acked_words_per_s: median(|c| c.acked_words_per_s),
        exactly_once_words_per_s: median(|c| c.exactly_once_words_per_s),
        ratio_exactly_once_vs_acked: median(|c| c.ratio_exactly_once_vs_acked),
        exactly_once_cpu_ns_per_word: median(|c| c.exactly_once_cpu_ns_per_word),
        ratio_unacked: median(|c| c.ratio_unacked),
        ratio_acked: median(|c| c.ratio_acked),
        ratio_unacked_vs_inline: median(|c| c.ratio_unacked_vs_inline),
        ratio_acked_vs_inline: median(|c| c.ratio_acked_vs_inline),
        raw_cpu_ns_per_word: median(|c| c.raw_cpu_ns_per_word),
        raw_inline_cpu_ns_per_word: median(|c| c.raw_inline_cpu_ns_per_word),
        unacked_cpu_ns_per_word: median(|c| c.unacked_cpu_ns_per_word),
        acked_cpu_ns_per_word: median(|c| c.acked_cpu_ns_per_word),
    })
}

/// One configuration's figures, two lines of text.
fn print_config(c: &Config) {
    println!(
        "{:<6} raw {:>11.0} words/s ({:>4.0} cpu-ns/word) | unacked {:>11.0} ({:.2}x, {:>4.0} ns) | acked {:>11.0} ({:.2}x, {:>4.0} ns)",
        c.parallelism,
        c.raw_words_per_s,
        c.raw_cpu_ns_per_word,
        c.unacked_words_per_s,
        c.ratio_unacked,
        c.unacked_cpu_ns_per_word,
        c.acked_words_per_s,
        c.ratio_acked,
        c.acked_cpu_ns_per_word
    );
    println!(
        "{:<6} raw with inline words {:>11.0} words/s ({:>4.0} cpu-ns/word): unacked {:.2}x, acked {:.2}x of it",
        "",
        c.raw_inline_words_per_s,
        c.raw_inline_cpu_ns_per_word,
        c.ratio_unacked_vs_inline,
        c.ratio_acked_vs_inline
    );
    println!(
        "{:<6} exactly-once {:>11.0} words/s ({:>4.0} cpu-ns/word): {:.2}x of acked",
        "",
        c.exactly_once_words_per_s,
        c.exactly_once_cpu_ns_per_word,
        c.ratio_exactly_once_vs_acked
    );
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    if args.lab {
        let figures = super::bench_lab::figures(100_000)?;
        if args.json {
            println!("{}", serde_json::to_string_pretty(&figures)?);
        } else {
            for f in &figures {
                println!(
                    "{:<16} {:>7} steps  {:>6.2} µs/step  {:>5.2} ms of a frame at 1000 events/s",
                    f.design, f.steps, f.us_per_step, f.frame_ms_at_1000_per_s
                );
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    if args.shell {
        let figures = super::bench_shell::figures(args.secs)?;
        if args.json {
            println!("{}", serde_json::to_string_pretty(&figures)?);
        } else {
            for (i, f) in figures.iter().enumerate() {
                println!(
                    "{}{:<6} built-in split {:>10.0} words/s | Python split {:>10.0} words/s | {:.3}x",
                    if i == 0 { "weakest " } else { "        " },
                    f.parallelism,
                    f.built_in_words_per_s,
                    f.python_words_per_s,
                    f.ratio
                );
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(duration) = args.soak {
        let report = super::bench_soak::soak(
            &word_count(1, 1, true),
            duration,
            args.sample_every,
            args.json,
        )?;
        if args.json {
            println!("{}", serde_json::to_string_pretty(&report)?);
        } else {
            println!(
                "peak RSS {:.1} MB after {:.0} s, {:.1} MB at the end",
                report.hwm_after_warmup_kb as f64 / 1024.0,
                report.warmup_s,
                report.hwm_at_end_kb as f64 / 1024.0
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    let measure = Duration::from_secs_f64(args.secs.max(0.2));
    let warmup = measure / 3;
    let pool = Arc::new(sentence_pool(
        SEED as u64,
        VOCABULARY as usize,
        WORDS as usize,
        SENTENCE_POOL,
    ));
    let shapes = [(1u32, 1u32), (2, 2)];
    let mut per_shape: Vec<Vec<Config>> = vec![Vec::new(); shapes.len()];
    for _ in 0..args.rounds {
        for (i, &(split, count)) in shapes.iter().enumerate() {
            per_shape[i].push(measure_config(
                &pool,
                split,
                count,
                args.trace_every,
                warmup,
                measure,
            )?);
        }
    }
    let configs: Vec<Config> = per_shape.iter().filter_map(|r| median_config(r)).collect();
    let headlines: Vec<Weakest> = HEADLINES
        .iter()
        .filter_map(|ratio| weakest(&configs, *ratio))
        .collect();
    let [unacked, acked, unacked_inline, acked_inline] = headlines.as_slice() else {
        return Ok(ExitCode::SUCCESS);
    };
    if !args.json {
        let named = |w: &Weakest| format!("{:.2}x at {}", w.ratio, w.parallelism);
        println!(
            "weakest configuration: unacked {}, acked {} (vs raw with inline words: unacked {}, acked {})",
            named(unacked),
            named(acked),
            named(unacked_inline),
            named(acked_inline)
        );
        if let Some(w) = weakest(&configs, |c| c.ratio_exactly_once_vs_acked) {
            println!("weakest exactly-once: {} of acked", named(&w));
        }
        for c in &configs {
            print_config(c);
        }
    }
    // The latency is measured at 1/1/1, the first configuration.
    let half = configs.first().map_or(0.0, |c| c.acked_words_per_s / 2.0);
    let (p50, p99) = latency_at(half, warmup, measure)?;
    if !args.json {
        println!(
            "complete latency at {half:.0} words/s (1/1/1, half the acked peak): p50 {p50:.3} ms, p99 {p99:.3} ms"
        );
    }
    let report = Report {
        ratio_unacked: unacked.ratio,
        ratio_unacked_parallelism: unacked.parallelism.clone(),
        ratio_acked: acked.ratio,
        ratio_acked_parallelism: acked.parallelism.clone(),
        ratio_unacked_vs_inline: unacked_inline.ratio,
        ratio_unacked_vs_inline_parallelism: unacked_inline.parallelism.clone(),
        ratio_acked_vs_inline: acked_inline.ratio,
        ratio_acked_vs_inline_parallelism: acked_inline.parallelism.clone(),
        latency_parallelism: "1/1/1".into(),
        half_load_words_per_s: half,
        complete_latency_p50_ms: p50,
        complete_latency_p99_ms: p99,
        configs,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(parallelism: &str, unacked: f64, acked: f64) -> Config {
        Config {
            parallelism: parallelism.into(),
            raw_words_per_s: 1e6,
            raw_inline_words_per_s: 1e6,
            unacked_words_per_s: unacked * 1e6,
            acked_words_per_s: acked * 1e6,
            exactly_once_words_per_s: 0.0,
            ratio_exactly_once_vs_acked: 0.0,
            exactly_once_cpu_ns_per_word: 0.0,
            ratio_unacked: unacked,
            ratio_acked: acked,
            ratio_unacked_vs_inline: unacked,
            ratio_acked_vs_inline: acked,
            raw_cpu_ns_per_word: 0.0,
            raw_inline_cpu_ns_per_word: 0.0,
            unacked_cpu_ns_per_word: 0.0,
            acked_cpu_ns_per_word: 0.0,
        }
    }

    #[test]
    fn the_headline_is_the_weakest_configuration_of_each_ratio() {
        // The run: 1/1/1 looked fine (1.04 / 0.58) while 1/2/2 was weaker.
        let configs = [config("1/1/1", 1.04, 0.58), config("1/2/2", 0.64, 0.48)];
        let want = |p: &str, r: f64| {
            Some(Weakest {
                parallelism: p.into(),
                ratio: r,
            })
        };
        assert_eq!(weakest(&configs, |c| c.ratio_unacked), want("1/2/2", 0.64));
        assert_eq!(weakest(&configs, |c| c.ratio_acked), want("1/2/2", 0.48));
        // Each ratio picks its own weakest configuration.
        let mixed = [config("1/1/1", 0.9, 0.4), config("1/2/2", 0.7, 0.5)];
        assert_eq!(weakest(&mixed, |c| c.ratio_unacked), want("1/2/2", 0.7));
        assert_eq!(weakest(&mixed, |c| c.ratio_acked), want("1/1/1", 0.4));
    }

    #[test]
    fn no_configuration_no_headline_and_nan_is_weakest() {
        assert_eq!(weakest(&[], |c| c.ratio_acked), None);
        let configs = [config("1/1/1", 0.9, 0.6), config("1/2/2", f64::NAN, 0.7)];
        let w = weakest(&configs, |c| c.ratio_unacked);
        assert_eq!(w.map(|w| w.parallelism), Some("1/2/2".to_string()));
    }
}
