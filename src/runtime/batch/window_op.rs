//! `window_aggregate` in micro-batch mode: Spark's `reduceByKeyAndWindow`. Window length
//! and slide are whole numbers of batches; a window closes after every slide-th batch
//! and covers the batches in `(t − L, t]` (early windows are partial). Count and sum keep
//! the window incrementally with an inverse function unless `inverse` is off; min, max
//! and avg have no inverse and are recomputed from the per-batch reductions.

use crate::dstream::{Batch, BatchClock, KeyedWindow, WindowShape};
use crate::model::WindowSize;

use super::super::components::{Config, FieldLookup, TaskInfo};
use super::super::error::RunError;
use super::super::metrics::{WINDOW_TOP, WindowResult};
use super::super::plan::PlanNode;
use super::super::tuple::{AckIds, Tuple, Val, Values};
use super::key::Key;
use super::operator::{Item, OpCounts, RecordHook, Verdict};

/// A node's window in batches. Validation already refuses what fails here; the errors
/// name the node for runs that skipped it.
pub(crate) fn window_shape(node: &PlanNode, interval_ms: u64) -> Result<WindowShape, RunError> {
    let name = node.name().to_string();
    let config_error = |message: String| RunError::Config {
        node: name.clone(),
        message,
    };
    let Some(spec) = node.node.window else {
        return Err(config_error(format!(
            "'{}' needs a window",
            node.node.component
        )));
    };
    let (WindowSize::Millis(length), WindowSize::Millis(slide)) = (spec.length, spec.slide) else {
        return Err(RunError::Unsupported {
            node: name,
            what: "count-based windows in micro-batch mode: Spark windows are measured in time (multiples of the batch interval)".into(),
        });
    };
    let clock = BatchClock::new(interval_ms)
        .ok_or_else(|| config_error("the batch interval is 0 ms".into()))?;
    WindowShape::new(clock, length, slide).map_err(|e| config_error(e.to_string()))
}

/// `(sum, count)`: enough for sum and avg, and a count that says when a key is empty.
type SumCount = (f64, i64);

enum Windows {
    Count(KeyedWindow<Key, i64>),
    Sum(KeyedWindow<Key, SumCount>),
    Avg(KeyedWindow<Key, SumCount>),
    Min(KeyedWindow<Key, f64>),
    Max(KeyedWindow<Key, f64>),
}

pub(crate) struct WindowOp {
    key: FieldLookup,
    field: FieldLookup,
    windows: Windows,
    shape: WindowShape,
    seen: u64,
    incremental: bool,
    output: Option<u32>,
    pub latest: Option<WindowResult>,
}

fn add_pair(a: &SumCount, b: &SumCount) -> SumCount {
    (a.0 + b.0, a.1.saturating_add(b.1))
}

fn sub_pair(a: &SumCount, b: &SumCount) -> SumCount {
    (a.0 - b.0, a.1.saturating_sub(b.1))
}

impl WindowOp {
    pub fn build(
        node: &PlanNode,
        info: &TaskInfo,
        interval_ms: u64,
        output: Option<u32>,
    ) -> Result<Self, RunError> {
        let shape = window_shape(node, interval_ms)?;
        let cfg = Config::new(node);
        let inverse = cfg.flag("inverse");
        let windows = match cfg.text("aggregate").as_str() {
            "sum" => {
                let w = KeyedWindow::new(shape, add_pair);
                Windows::Sum(if inverse {
                    w.with_inverse_where(sub_pair, |v: &SumCount| v.1 == 0)
                } else {
                    w
                })
            }
            "avg" => Windows::Avg(KeyedWindow::new(shape, add_pair)),
            "min" => Windows::Min(KeyedWindow::new(shape, |a: &f64, b: &f64| a.min(*b))),
            "max" => Windows::Max(KeyedWindow::new(shape, |a: &f64, b: &f64| a.max(*b))),
            _ => {
                let w = KeyedWindow::new(shape, |a: &i64, b: &i64| a.saturating_add(*b));
                Windows::Count(if inverse {
                    w.with_inverse(|a, b| a.saturating_sub(*b), 0)
                } else {
                    w
                })
            }
        };
        let incremental = inverse && matches!(windows, Windows::Count(_) | Windows::Sum(_));
        Ok(Self {
            key: FieldLookup::new(&cfg.text("key"), info),
            field: FieldLookup::new(&cfg.text("field"), info),
            windows,
            shape,
            seen: 0,
            incremental,
            output,
            latest: None,
        })
    }

    /// Key and numeric value of one record (1 for count).
    fn read(&mut self, item: &Item) -> Option<(Key, f64)> {
        let tuple = Tuple {
            values: item.values.clone(),
            stream: item.stream,
            source_task: 0,
            ids: AckIds::NONE,
        };
        let key = if self.key.is_empty_name() {
            Val::str("")
        } else {
            self.key.get(&tuple).ok()?.clone()
        };
        let value = if matches!(self.windows, Windows::Count(_)) {
            1.0
        } else {
            self.field.get(&tuple).ok()?.as_f64()?
        };
        Some((Key(key), value))
    }

    pub fn run(
        &mut self,
        time_ms: u64,
        input: &[&Item],
        hook: &mut dyn RecordHook,
        out: &mut Vec<Item>,
    ) -> OpCounts {
        let mut counts = OpCounts::default();
        let mut pairs: Vec<(Key, f64)> = Vec::with_capacity(input.len());
        for item in input {
            if hook.before() != Verdict::Run {
                counts.failed += 1;
                continue;
            }
            counts.executed += 1;
            match self.read(item) {
                Some(p) => pairs.push(p),
                None => counts.failed += 1,
            }
        }
        self.seen += 1;
        let closed: Option<Vec<(Key, Val, f64)>> = match &mut self.windows {
            Windows::Count(w) => w
                .push(&Batch::new(
                    time_ms,
                    pairs.into_iter().map(|(k, _)| (k, 1)).collect(),
                ))
                .map(|b| {
                    b.items
                        .into_iter()
                        .map(|(k, n)| (k, Val::Int(n), n as f64))
                        .collect()
                }),
            Windows::Sum(w) => w
                .push(&Batch::new(
                    time_ms,
                    pairs.into_iter().map(|(k, v)| (k, (v, 1))).collect(),
                ))
                .map(|b| {
                    b.items
                        .into_iter()
                        .map(|(k, (s, _))| (k, Val::Float(s), s))
                        .collect()
                }),
            Windows::Avg(w) => w
                .push(&Batch::new(
                    time_ms,
                    pairs.into_iter().map(|(k, v)| (k, (v, 1))).collect(),
                ))
                .map(|b| {
                    b.items
                        .into_iter()
                        .map(|(k, (s, n))| {
                            let avg = s / n.max(1) as f64;
                            (k, Val::Float(avg), avg)
                        })
                        .collect()
                }),
            Windows::Min(w) | Windows::Max(w) => w.push(&Batch::new(time_ms, pairs)).map(|b| {
                b.items
                    .into_iter()
                    .map(|(k, v)| (k, Val::Float(v), v))
                    .collect()
            }),
        };
        if let Some(entries) = closed {
            self.remember(time_ms, &entries);
            if let Some(stream) = self.output {
                for (key, value, _) in entries {
                    out.push(Item {
                        stream,
                        values: Values::Many(Box::new([key.0, value, Val::Int(time_ms as i64)])),
                    });
                }
            }
        }
        counts
    }

    fn remember(&mut self, time_ms: u64, entries: &[(Key, Val, f64)]) {
        let mut top: Vec<(String, f64)> = entries
            .iter()
            .map(|(k, _, v)| (k.0.to_string(), *v))
            .collect();
        top.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        top.truncate(WINDOW_TOP);
        self.latest = Some(WindowResult {
            window_end_ms: time_ms,
            batches: self.seen.min(self.shape.length_batches),
            keys: entries.len(),
            top,
            incremental: self.incremental,
        });
    }
}
