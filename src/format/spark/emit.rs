//! The job's Python: one function per node (its name and caveats in comments), one
//! streaming query per sink, and `main`. Everything a design file controls reaches the
//! script through [`python::literal`] or [`python::comment_text`].

use std::collections::HashMap;
use std::fmt::Write as _;

use super::plan::{Input, Op, Plan, Route, Source, Step, UNTHROTTLED_ROWS_PER_SEC};
use super::python::{Names, comment_block, comment_text, literal, literal_list};
use crate::model::Topology;

/// The helpers every job carries (the generators' port among them).
const PRELUDE: &str = include_str!("prelude.py");

/// The PySpark version the jobs are written for and tested with.
pub const PYSPARK_VERSION: &str = "4.0.1";

pub fn script(topology: &Topology, plan: &Plan) -> String {
    let mut names = Names::default();
    let ids: HashMap<&str, String> = plan
        .steps
        .iter()
        .map(|s| (s.name.as_str(), names.fresh(&s.name)))
        .collect();
    let id = |name: &str| ids.get(name).cloned().unwrap_or_else(|| "missing".into());
    let mut out = String::new();
    header(&mut out, topology, plan);
    out.push_str(PRELUDE);
    constants(&mut out, topology, plan);
    out.push_str("\n\n# ---------------------------------------------------------------------------\n# One function per node, upstream first.\n# ---------------------------------------------------------------------------\n");
    for step in &plan.steps {
        node_function(&mut out, step, &id);
    }
    super::queries::queries(&mut out, plan, &id);
    out
}

fn header(out: &mut String, topology: &Topology, plan: &Plan) {
    out.push_str("#!/usr/bin/env python3\n");
    let _ = writeln!(
        out,
        "# {}: a PySpark Structured Streaming job exported by Tributary.",
        comment_text(&topology.name)
    );
    out.push_str("#\n");
    out.push_str(&comment_block(&topology.description, "", 88));
    out.push_str("#\n");
    let _ = writeln!(out, "# Written for pyspark {PYSPARK_VERSION} (Java 17).");
    out.push_str("# Run here:       python THIS-FILE.py\n");
    out.push_str(
        "# On a cluster:   spark-submit --master spark://HOST:7077 THIS-FILE.py --checkpoint DIR\n",
    );
    if plan.is_finite() {
        out.push_str(
            "# Every source ends, so the job reads everything there is (availableNow) and exits.\n",
        );
    } else {
        out.push_str("# A source never ends, so the job runs until it is stopped.\n");
    }
    match plan.interval_ms {
        Some(ms) => {
            let _ = writeln!(
                out,
                "# The design's {ms} ms micro-batch interval is the trigger interval."
            );
        }
        None => out.push_str(
            "# The design runs record-at-a-time; Spark runs micro-batches back to back.\n",
        ),
    }
    out.push_str("# Storm's acking (ackers, message timeout, max spout pending) and workers are not\n# exported: Spark replays from its checkpointed offsets instead, and spreads\n# partitions over the cluster's executors.\n");
    let caveats: Vec<String> = plan.caveats().map(|n| n.message()).collect();
    if !caveats.is_empty() {
        out.push_str("#\n# Where this job differs from the design:\n");
        for c in caveats {
            let block = comment_block(&c, "", 84).replace("\n# ", "\n#   ");
            out.push_str(&block.replacen("# ", "# - ", 1));
        }
    }
    out.push('\n');
}

/// The job's settings, read by the helpers and `run`.
fn constants(out: &mut String, topology: &Topology, plan: &Plan) {
    out.push_str("\n\n# The design's name, its most tasks of a node, and how often batches run.\n");
    let _ = writeln!(out, "JOB_NAME = {}", literal(&topology.name));
    let partitions = plan.steps.iter().map(|s| s.partitions).max().unwrap_or(1);
    let _ = writeln!(out, "PARTITIONS = {partitions}");
    let trigger = match (plan.is_finite(), plan.interval_ms) {
        (true, _) => "{\"availableNow\": True}".to_string(),
        (false, Some(ms)) => format!("{{\"processingTime\": \"{ms} milliseconds\"}}"),
        (false, None) => "{\"processingTime\": \"0 seconds\"}".to_string(),
    };
    let _ = writeln!(out, "TRIGGER = {trigger}");
}

fn node_function(out: &mut String, step: &Step, id: &dyn Fn(&str) -> String) {
    let me = id(&step.name);
    let params: Vec<String> = if step.op.is_sink() {
        vec!["df".into()]
    } else if step.inputs.is_empty() {
        vec!["spark".into()]
    } else {
        step.inputs.iter().map(|i| id(&i.from)).collect()
    };
    let _ = writeln!(out, "\n\ndef node_{me}({}):", params.join(", "));
    let _ = writeln!(
        out,
        "    # Node '{}' ({}, {} task{}).",
        comment_text(&step.name),
        comment_text(&step.component),
        step.partitions,
        if step.partitions == 1 { "" } else { "s" }
    );
    for c in &step.caveats {
        out.push_str(&comment_block(&format!("Differs: {c}"), "    ", 84));
    }
    for i in &step.inputs {
        let _ = writeln!(
            out,
            "    # From '{}' by {}.",
            comment_text(&i.from),
            comment_text(&i.grouping)
        );
    }
    if step.op.is_sink() {
        out.push_str("    # Each input reaches the sink through a query of its own.\n");
    } else if !step.inputs.is_empty() && !matches!(step.op, Op::Join { .. }) {
        let routed: Vec<String> = step
            .inputs
            .iter()
            .map(|i| routed(i, &id(&i.from), step.partitions))
            .collect();
        let _ = writeln!(out, "    df = union_all([{}])", routed.join(", "));
    }
    body(out, step, id);
}

/// An input as the node's grouping partitions it.
fn routed(input: &Input, frame: &str, partitions: u32) -> String {
    match &input.route {
        Route::Spread if partitions > 1 => format!("{frame}.repartition({partitions})"),
        Route::Spread => frame.to_string(),
        Route::ByFields(fields) => {
            let cols: Vec<String> = fields
                .iter()
                .map(|f| format!("F.col({})", literal(f)))
                .collect();
            format!("{frame}.repartition({partitions}, {})", cols.join(", "))
        }
        Route::Copies(tasks) => format!("with_copies({frame}, {tasks})"),
        Route::One => format!("{frame}.coalesce(1)"),
    }
}

fn first_field(step: &Step, fallback: &str) -> String {
    step.fields
        .first()
        .cloned()
        .unwrap_or_else(|| fallback.to_string())
}

fn body(out: &mut String, step: &Step, id: &dyn Fn(&str) -> String) {
    let col = |f: &str| format!("F.col({})", literal(f));
    match &step.op {
        Op::Source {
            source,
            limit,
            rate_per_sec,
        } => {
            let tasks = step.partitions;
            let total = match limit {
                Some(l) => l.saturating_mul(u64::from(tasks)).to_string(),
                None => "None".into(),
            };
            let rows = if *rate_per_sec > 0.0 {
                ((rate_per_sec * f64::from(tasks)).ceil() as u64).max(1)
            } else {
                UNTHROTTLED_ROWS_PER_SEC
            };
            let generated = |make: &str, out: &mut String| {
                let _ = writeln!(
                    out,
                    "    df = generated(spark, {total}, {rows}, {tasks})\n    return df.select({make})"
                );
            };
            match source {
                Source::FileLines { path } => {
                    let _ = writeln!(
                        out,
                        "    return file_lines(spark, {}).select(F.col(\"value\").alias({}))",
                        literal(path),
                        literal(&first_field(step, "line"))
                    );
                }
                Source::Sentences {
                    seed,
                    vocabulary,
                    words,
                } => {
                    let _ = writeln!(
                        out,
                        "    make = F.udf(sentence_records({seed}, {vocabulary}, {words}, {tasks}), T.StringType())"
                    );
                    generated(
                        &format!(
                            "make(\"_v\").alias({})",
                            literal(&first_field(step, "sentence"))
                        ),
                        out,
                    );
                }
                Source::Words { seed, vocabulary } => {
                    let _ = writeln!(
                        out,
                        "    make = F.udf(word_records({seed}, {vocabulary}, {tasks}), T.StringType())"
                    );
                    generated(
                        &format!(
                            "make(\"_v\").alias({})",
                            literal(&first_field(step, "word"))
                        ),
                        out,
                    );
                }
                Source::Sequence { start } => generated(
                    &format!(
                        "(F.col(\"_v\") + F.lit({start})).alias({})",
                        literal(&first_field(step, "n"))
                    ),
                    out,
                ),
                Source::Netcat { host, port } => {
                    let _ = writeln!(
                        out,
                        "    df = spark.readStream.format(\"socket\").option(\"host\", {}).option(\"port\", {port}).load()\n    return df.select(F.col(\"value\").alias({}))",
                        literal(host),
                        literal(&first_field(step, "body"))
                    );
                }
            }
        }
        Op::Split { field, separator } => {
            let into = first_field(step, "word");
            let _ = writeln!(
                out,
                "    df = df.select(F.explode(F.split({}.cast(\"string\"), {}, -1)).alias(\"_w\"))\n    df = df.select(trimmed(F.col(\"_w\")).alias({}))\n    return df.filter({} != \"\")",
                col(field),
                literal(&split_pattern(separator)),
                literal(&into),
                col(&into)
            );
        }
        Op::Map { field, op, arg } => {
            let _ = writeln!(
                out,
                "    return df.withColumn({}, mapped({}, {}, {}))",
                literal(field),
                col(field),
                literal(op),
                literal(arg)
            );
        }
        Op::Filter { field, op, value } => {
            let numeric = value
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .map(|v| format!("{v:?}"))
                .unwrap_or_else(|| "None".into());
            let _ = writeln!(
                out,
                "    return df.filter(passes({}, {}, {}, {numeric}))",
                col(field),
                literal(op),
                literal(value)
            );
        }
        Op::CountByKey { key } => {
            let _ = writeln!(
                out,
                "    df = df.groupBy({}).count()\n    return df.toDF(*{})",
                col(key),
                literal_list(&names_or(step, &[key.as_str(), "count"]))
            );
        }
        Op::Window {
            key,
            field,
            aggregate,
            length_ms,
            slide_ms,
        } => {
            let key_expr = if key.is_empty() {
                "F.lit(\"\")".to_string()
            } else {
                col(key)
            };
            let agg = match aggregate.as_str() {
                "sum" => format!("F.sum({}.cast(\"double\"))", col(field)),
                "avg" => format!("F.avg({}.cast(\"double\"))", col(field)),
                "min" => format!("F.min({}.cast(\"double\"))", col(field)),
                "max" => format!("F.max({}.cast(\"double\"))", col(field)),
                _ => "F.count(F.lit(1))".to_string(),
            };
            let counting = step.component == "count_by_window";
            let select = if counting {
                "F.col(\"_value\"), window_end_ms(F.col(\"window\"))"
            } else {
                "F.col(\"_key\"), F.col(\"_value\"), window_end_ms(F.col(\"window\"))"
            };
            let default: &[&str] = if counting {
                &["count", "window_end_ms"]
            } else {
                &["key", "value", "window_end_ms"]
            };
            let _ = writeln!(
                out,
                "    df = df.withColumn(\"_ts\", F.current_timestamp())\n    df = df.groupBy(F.window(\"_ts\", \"{length_ms} milliseconds\", \"{slide_ms} milliseconds\"), {key_expr}.alias(\"_key\"))\n    df = df.agg({agg}.alias(\"_value\")).select({select})\n    return df.toDF(*{})",
                literal_list(&names_or(step, default))
            );
        }
        Op::CountByValue { field } => {
            let _ = writeln!(
                out,
                "    df = df.groupBy({}).count()\n    return df.toDF(*{})",
                col(field),
                literal_list(&names_or(step, &[field.as_str(), "count"]))
            );
        }
        Op::ReduceByKey { key, field, reduce } => {
            let agg = match reduce.as_str() {
                "sum" | "min" | "max" => format!("F.{reduce}({}.try_cast(\"double\"))", col(field)),
                _ => "F.count(F.lit(1))".to_string(),
            };
            let _ = writeln!(
                out,
                "    df = df.groupBy({}).agg({agg}.alias(\"_value\"))\n    return df.toDF(*{})",
                col(key),
                literal_list(&names_or(step, &[key.as_str(), "value"]))
            );
        }
        Op::Join { key, left, right } => {
            let _ = writeln!(
                out,
                "    # The batch's records of '{}' (left) and '{}' (right), paired on the key.\n    df = {}.join({}, on={}, how=\"inner\")\n    return renamed(df, {})",
                comment_text(left),
                comment_text(right),
                id(left),
                id(right),
                literal(key),
                literal_list(&step.fields)
            );
        }
        Op::FileSink { path } => {
            let _ = writeln!(
                out,
                "    return df, lambda batch, _id: append_lines({}, batch)",
                literal(path)
            );
        }
        Op::Logger { max_bytes } => {
            let _ = writeln!(
                out,
                "    return df, lambda batch, _id: log_rows({}, {max_bytes}, batch)",
                literal(&step.name)
            );
        }
        Op::Discard => out.push_str("    return df, lambda batch, _id: None\n"),
    }
}

/// The node's declared output fields when they have the expected arity, else `default`.
fn names_or(step: &Step, default: &[&str]) -> Vec<String> {
    if step.fields.len() == default.len() {
        step.fields.clone()
    } else {
        default.iter().map(|s| s.to_string()).collect()
    }
}

/// A Java regular expression matching `separator` literally (a space when empty, as
/// Tributary's split does).
fn split_pattern(separator: &str) -> String {
    let separator = if separator.is_empty() { " " } else { separator };
    let mut out = String::new();
    for c in separator.chars() {
        if c.is_ascii_alphanumeric() || c == ' ' || !c.is_ascii() {
            out.push(c);
        } else {
            out.push('\\');
            out.push(c);
        }
    }
    out
}
