//! The Spark-style palette group: DStream operators. `window_aggregate` runs in both
//! modes; the rest are Spark Streaming operators whose meaning is per batch, so they run
//! only in micro-batch mode (validation says so in record-at-a-time mode).

use crate::model::{System, WindowSize, WindowSpec};

use super::builtins::{AGGREGATES, STORM_BOLT, choice, component, field, flag, keeps, upstream};
use super::descriptor::{ComponentDescriptor, OutputShape};

/// Reductions of `reduce_by_key`, per key within one batch.
pub const REDUCTIONS: &[&str] = &["count", "sum", "min", "max"];

/// The window a windowed operator gets when dropped from the palette.
const DEFAULT_WINDOW: WindowSpec = WindowSpec {
    length: WindowSize::Millis(10_000),
    slide: WindowSize::Millis(5_000),
};

/// A Spark Streaming operator with no record-at-a-time meaning here.
fn batch_only(d: ComponentDescriptor) -> ComponentDescriptor {
    ComponentDescriptor {
        micro_batch_only: true,
        ..d
    }
}

fn windowed(d: ComponentDescriptor) -> ComponentDescriptor {
    ComponentDescriptor {
        default_window: Some(DEFAULT_WINDOW),
        ..d
    }
}

pub fn all() -> Vec<ComponentDescriptor> {
    use System::Spark;
    vec![
        keeps(
            "window",
            windowed(component(
                "window_aggregate",
                "Window aggregate",
                Spark,
                STORM_BOLT,
                "Aggregates a field over a tumbling or sliding window (by count or time), per key if one is given. In micro-batch mode it is Spark's reduceByKeyAndWindow (countByValueAndWindow for count).",
                vec![
                    field("key", "", "Group by this field; empty = one group."),
                    field("field", "", "Field to aggregate; unused by count."),
                    choice("aggregate", AGGREGATES, "count", "Aggregation."),
                    flag(
                        "inverse",
                        true,
                        "Micro-batch mode: keep count and sum windows up to date with an inverse function (Spark's reduceByKeyAndWindow with finv) instead of re-adding every batch in the window.",
                    ),
                ],
                OutputShape::Fields(&["key", "value", "window_end_ms"]),
            )),
        ),
        batch_only(component(
            "reduce_by_key",
            "Reduce by key",
            Spark,
            STORM_BOLT,
            "Spark's reduceByKey: reduces a field per key within each batch (not across batches) and emits (key, value) once per key, in key order. Micro-batch mode only.",
            vec![
                field("key", "word", "Group by this field."),
                field("field", "", "Field to reduce; unused by count."),
                choice("reduce", REDUCTIONS, "count", "Reduction."),
            ],
            OutputShape::Fields(&["$key", "value"]),
        )),
        batch_only(component(
            "count_by_value",
            "Count by value",
            Spark,
            STORM_BOLT,
            "Spark's countByValue: how often each distinct value of a field occurs in each batch; emits (value, count) once per value, in value order. Micro-batch mode only.",
            vec![field("field", "word", "Field whose values are counted.")],
            OutputShape::Fields(&["$field", "count"]),
        )),
        batch_only(windowed(component(
            "window",
            "Window",
            Spark,
            STORM_BOLT,
            "Spark's window: after every slide, re-emits every record of the batches in the window, oldest batch first. Length and slide are multiples of the batch interval. Micro-batch mode only.",
            vec![],
            OutputShape::SameAsInput,
        ))),
        batch_only(windowed(component(
            "count_by_window",
            "Count by window",
            Spark,
            STORM_BOLT,
            "Spark's countByWindow: after every slide, emits (count, window_end_ms), the number of records in the window. Micro-batch mode only.",
            vec![],
            OutputShape::Fields(&["count", "window_end_ms"]),
        ))),
        batch_only(component(
            "join",
            "Join",
            Spark,
            STORM_BOLT,
            "Spark's join: inner join of the same-time batches of two inputs on a key field. Emits the key, then the left record's other fields, then the right record's, for every matching pair. Micro-batch mode only.",
            vec![
                upstream("left", "Name of the upstream node that is the left input."),
                upstream(
                    "right",
                    "Name of the upstream node that is the right input.",
                ),
                field(
                    "key",
                    "key",
                    "Join on this field; both inputs must have it.",
                ),
            ],
            OutputShape::Joined,
        )),
    ]
}
