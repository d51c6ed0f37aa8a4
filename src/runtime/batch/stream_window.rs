//! Window operators over whole records: `window` (Spark's `window(L, S)`, the union of
//! the batches in the window, re-emitted after every slide) and `count_by_window`
//! (`countByWindow`, the number of records in the window). Length and slide are whole
//! numbers of batches; the first windows are partial, as in Spark.

use crate::dstream::window::{CountWindow, UnionWindow};
use crate::dstream::{Batch, WindowShape};

use super::super::metrics::WindowResult;
use super::super::tuple::{Val, Values};
use super::operator::{BatchOp, Item, OpCounts, RecordHook, Sources, admit};

/// `window(L, S)`: every record of the batches in `(t − L, t]`, oldest batch first.
pub(crate) struct WindowAll {
    window: UnionWindow<Values>,
    output: Option<u32>,
}

impl WindowAll {
    pub fn new(shape: WindowShape, output: Option<u32>) -> Self {
        Self {
            window: UnionWindow::new(shape),
            output,
        }
    }
}

impl BatchOp for WindowAll {
    fn run(
        &mut self,
        time_ms: u64,
        input: &[&Item],
        _sources: &Sources,
        hook: &mut dyn RecordHook,
        out: &mut Vec<Item>,
    ) -> OpCounts {
        let mut counts = OpCounts::default();
        let values = input
            .iter()
            .filter(|_| admit(hook, &mut counts))
            .map(|item| item.values.clone())
            .collect();
        let closed = self.window.push(&Batch::new(time_ms, values));
        if let (Some(stream), Some(window)) = (self.output, closed) {
            out.extend(
                window
                    .items
                    .into_iter()
                    .map(|values| Item { stream, values }),
            );
        }
        counts
    }
}

/// `countByWindow(L, S)`: one `(count, window_end_ms)` after every slide.
pub(crate) struct CountByWindow {
    window: CountWindow,
    shape: WindowShape,
    seen: u64,
    output: Option<u32>,
    latest: Option<WindowResult>,
}

impl CountByWindow {
    pub fn new(shape: WindowShape, output: Option<u32>) -> Self {
        Self {
            window: CountWindow::new(shape),
            shape,
            seen: 0,
            output,
            latest: None,
        }
    }
}

impl BatchOp for CountByWindow {
    fn run(
        &mut self,
        time_ms: u64,
        input: &[&Item],
        _sources: &Sources,
        hook: &mut dyn RecordHook,
        out: &mut Vec<Item>,
    ) -> OpCounts {
        let mut counts = OpCounts::default();
        let admitted = input.iter().filter(|_| admit(hook, &mut counts)).count();
        self.seen += 1;
        if let Some((end, n)) = self.window.push(&Batch::new(time_ms, vec![(); admitted])) {
            self.latest = Some(WindowResult {
                window_end_ms: end,
                batches: self.seen.min(self.shape.length_batches),
                keys: 1,
                top: vec![("count".to_string(), n as f64)],
                incremental: false,
            });
            if let Some(stream) = self.output {
                out.push(Item {
                    stream,
                    values: Values::two(Val::Int(n as i64), Val::Int(end as i64)),
                });
            }
        }
        counts
    }

    fn latest_window(&self) -> Option<&WindowResult> {
        self.latest.as_ref()
    }
}
