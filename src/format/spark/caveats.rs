//! What differs between a node in Tributary and its Spark form, and the partitioning each
//! Storm grouping becomes: the words of the caveats the job and the export dialog show.

use super::plan::{Op, Route, Source, UNTHROTTLED_ROWS_PER_SEC, flag};
use crate::model::{Grouping, Node};

/// What differs between the node in Tributary and its Spark form.
pub fn of_node(node: &Node, op: &Op) -> Vec<String> {
    let mut out = Vec::new();
    match op {
        Op::Source {
            source,
            limit,
            rate_per_sec,
        } => match source {
            Source::FileLines { .. } => {
                if flag(node, "repeat") {
                    out.push(
                        "repeat is not exported: Spark's file source reads each line once".into(),
                    );
                }
                if *rate_per_sec > 0.0 {
                    out.push("rate_per_sec is not exported: Spark reads the file as fast as it can".into());
                }
                out.push("Spark's file source reads the file's folder and keeps only this file; a file written later in that folder with the same name is read too".into());
            }
            Source::Sentences { .. } | Source::Words { .. } | Source::Sequence { .. }
                if limit.is_some() && *rate_per_sec > 0.0 =>
            {
                out.push("the limit's records come in one batch: rate_per_sec applies to endless generators only".into());
            }
            Source::Sentences { .. } | Source::Words { .. } | Source::Sequence { .. }
                if limit.is_none() && *rate_per_sec <= 0.0 =>
            {
                out.push(format!("as fast as possible becomes Spark's rate source at {UNTHROTTLED_ROWS_PER_SEC} records a second"));
            }
            Source::Netcat { .. } => out.push(
                "Tributary's netcat listens on the port; Spark's socket source connects to a server there (start one with `nc -lk PORT`) and keeps no copy for replay".into(),
            ),
            _ => {}
        },
        Op::Window { .. } => out.push(
            "windows are in processing time aligned to the epoch, and Spark emits a window each time a batch updates it (update mode), not once when it closes".into(),
        ),
        Op::CountByKey { .. } => out.push(
            "Spark emits each changed key once per batch with its new total (update mode), as Tributary's micro-batch mode does".into(),
        ),
        Op::CountByValue { .. } | Op::ReduceByKey { .. } | Op::Join { .. } => out.push(
            "computed per micro-batch inside foreachBatch, on the records each trigger brings (with availableNow, everything there is), so batch boundaries follow Spark's triggers".into(),
        ),
        Op::Logger { .. } => out.push(
            "the log lines go to the driver's standard output".into(),
        ),
        Op::FileSink { .. } => out.push(
            "the driver appends the lines to the file, so on a cluster the path is on the driver's machine".into(),
        ),
        _ => {}
    }
    if node.component == "collector" {
        out.push("a collector keeps tuples for Tributary's tests; the job discards them".into());
    }
    if node.component == "count_by_window" {
        out.push("countByWindow becomes a windowed count with no key".into());
    }
    if node.tasks.is_some_and(|t| t != node.parallelism) {
        out.push("Storm tasks are not exported: partitions follow parallelism (an all grouping still gives each task its copy)".into());
    }
    out
}

/// The partitioning a Storm grouping implies, with a caveat where Spark's differs.
pub fn route(grouping: &Grouping, tasks: u32) -> Result<(Route, Option<String>), String> {
    Ok(match grouping {
        Grouping::Shuffle | Grouping::None | Grouping::LocalOrShuffle => (Route::Spread, None),
        Grouping::Fields(f) => (Route::ByFields(f.clone()), None),
        Grouping::PartialKey(f) => (
            Route::ByFields(f.clone()),
            Some("partial-key grouping splits a hot key over two tasks; Spark keeps each key in one partition".into()),
        ),
        Grouping::All => (Route::Copies(tasks.max(1)), None),
        Grouping::Global => (Route::One, None),
        Grouping::Direct => (
            Route::Spread,
            Some("a direct grouping lets the producer pick the task; Spark spreads the records instead".into()),
        ),
        Grouping::Custom(class) => (
            Route::Spread,
            Some(format!("the custom grouping {class} is not exported; records are spread")),
        ),
        other => {
            return Err(format!(
                "the Flume link '{}' has no Spark form",
                other.label()
            ));
        }
    })
}
