//! Per-batch keyed DStream operators: `reduce_by_key` (Spark's `reduceByKey`),
//! `count_by_value` (`countByValue`) and `join` (inner join of the same-time batches of
//! two inputs). Nothing is carried from one batch to the next; output is in key order.

use crate::dstream::{Batch, ops};

use super::super::components::FieldLookup;
use super::super::tuple::{Val, Values};
use super::key::Key;
use super::operator::{BatchOp, Item, OpCounts, RecordHook, Sources, admit};

/// The value of `lookup`'s field in `item`, if the item's stream has that field.
fn field_of<'i>(lookup: &mut FieldLookup, item: &'i Item) -> Option<&'i Val> {
    lookup
        .position(item.stream)
        .and_then(|p| item.values.get(p))
}

/// How `reduce_by_key` combines the values of one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reduction {
    Count,
    Sum,
    Min,
    Max,
}

impl Reduction {
    pub fn parse(text: &str) -> Self {
        match text {
            "sum" => Reduction::Sum,
            "min" => Reduction::Min,
            "max" => Reduction::Max,
            _ => Reduction::Count,
        }
    }
}

/// A number that stays an integer while every input is one, as `_ + _` on Spark's
/// `Int`s stays `Int`.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Num {
    Int(i64),
    Float(f64),
}

impl Num {
    fn of(v: &Val) -> Option<Num> {
        match v {
            Val::Int(i) => Some(Num::Int(*i)),
            Val::Str(s) => match s.trim().parse::<i64>() {
                Ok(i) => Some(Num::Int(i)),
                Err(_) => v.as_f64().map(Num::Float),
            },
            other => other.as_f64().map(Num::Float),
        }
    }

    fn f64(self) -> f64 {
        match self {
            Num::Int(i) => i as f64,
            Num::Float(f) => f,
        }
    }

    fn combine(self, other: Num, how: Reduction) -> Num {
        match (self, other) {
            (Num::Int(a), Num::Int(b)) => Num::Int(match how {
                Reduction::Count | Reduction::Sum => a.saturating_add(b),
                Reduction::Min => a.min(b),
                Reduction::Max => a.max(b),
            }),
            (a, b) => {
                let (a, b) = (a.f64(), b.f64());
                Num::Float(match how {
                    Reduction::Count | Reduction::Sum => a + b,
                    Reduction::Min => a.min(b),
                    Reduction::Max => a.max(b),
                })
            }
        }
    }

    fn val(self) -> Val {
        match self {
            Num::Int(i) => Val::Int(i),
            Num::Float(f) => Val::Float(f),
        }
    }
}

/// `reduceByKey`: one `(key, value)` per key of the batch.
pub(crate) struct ReduceByKey {
    pub key: FieldLookup,
    pub field: FieldLookup,
    pub reduction: Reduction,
    pub output: Option<u32>,
}

impl BatchOp for ReduceByKey {
    fn per_batch(&self) -> bool {
        true
    }

    fn run(
        &mut self,
        time_ms: u64,
        input: &[&Item],
        _sources: &Sources,
        hook: &mut dyn RecordHook,
        out: &mut Vec<Item>,
    ) -> OpCounts {
        let mut counts = OpCounts::default();
        let mut pairs = Vec::with_capacity(input.len());
        for item in input {
            if !admit(hook, &mut counts) {
                continue;
            }
            let Some(key) = field_of(&mut self.key, item) else {
                counts.failed += 1;
                continue;
            };
            let value = if self.reduction == Reduction::Count {
                Some(Num::Int(1))
            } else {
                field_of(&mut self.field, item).and_then(Num::of)
            };
            match value {
                Some(v) => pairs.push((Key(key.clone()), v)),
                None => counts.failed += 1,
            }
        }
        let how = self.reduction;
        let reduced = ops::reduce_by_key(&Batch::new(time_ms, pairs), |a, b| a.combine(*b, how));
        if let Some(stream) = self.output {
            out.extend(reduced.items.into_iter().map(|(k, v)| Item {
                stream,
                values: Values::two(k.0, v.val()),
            }));
        }
        counts
    }
}

/// `countByValue`: how often each distinct value of a field occurs in the batch.
pub(crate) struct CountByValue {
    pub field: FieldLookup,
    pub output: Option<u32>,
}

impl BatchOp for CountByValue {
    fn per_batch(&self) -> bool {
        true
    }

    fn run(
        &mut self,
        time_ms: u64,
        input: &[&Item],
        _sources: &Sources,
        hook: &mut dyn RecordHook,
        out: &mut Vec<Item>,
    ) -> OpCounts {
        let mut counts = OpCounts::default();
        let mut values = Vec::with_capacity(input.len());
        for item in input {
            if !admit(hook, &mut counts) {
                continue;
            }
            match field_of(&mut self.field, item) {
                Some(v) => values.push(Key(v.clone())),
                None => counts.failed += 1,
            }
        }
        let counted = ops::count_by_value(&Batch::new(time_ms, values));
        if let Some(stream) = self.output {
            out.extend(counted.items.into_iter().map(|(k, n)| Item {
                stream,
                values: Values::two(k.0, Val::Int(n as i64)),
            }));
        }
        counts
    }
}

/// `join`: pairs every left record with every right record of the same key in this
/// batch. A record is the key, then the left record's other fields, then the right's.
pub(crate) struct Join {
    pub key: FieldLookup,
    /// Plan node indices of the left and right inputs.
    pub left: usize,
    pub right: usize,
    pub output: Option<u32>,
}

impl Join {
    /// `(key, other fields)` of one record, or `None` when it lacks the key.
    fn split(&mut self, item: &Item) -> Option<(Key, Vec<Val>)> {
        let at = self.key.position(item.stream)?;
        let key = item.values.get(at)?.clone();
        let rest = (0..item.values.len())
            .filter(|&i| i != at)
            .filter_map(|i| item.values.get(i).cloned())
            .collect();
        Some((Key(key), rest))
    }
}

impl BatchOp for Join {
    fn per_batch(&self) -> bool {
        true
    }

    fn run(
        &mut self,
        time_ms: u64,
        input: &[&Item],
        sources: &Sources,
        hook: &mut dyn RecordHook,
        out: &mut Vec<Item>,
    ) -> OpCounts {
        let mut counts = OpCounts::default();
        let (mut left, mut right) = (Vec::new(), Vec::new());
        for (from, range) in sources {
            let side = if *from == self.left {
                &mut left
            } else if *from == self.right {
                &mut right
            } else {
                continue;
            };
            for item in input.get(range.clone()).unwrap_or_default() {
                if !admit(hook, &mut counts) {
                    continue;
                }
                match self.split(item) {
                    Some(pair) => side.push(pair),
                    None => counts.failed += 1,
                }
            }
        }
        let joined = ops::join(&Batch::new(time_ms, left), &Batch::new(time_ms, right));
        if let (Some(stream), Some(joined)) = (self.output, joined) {
            out.extend(joined.items.into_iter().map(|(k, (l, r))| {
                let mut values = Vec::with_capacity(1 + l.len() + r.len());
                values.push(k.0);
                values.extend(l);
                values.extend(r);
                Item {
                    stream,
                    values: Values::Many(values.into_boxed_slice()),
                }
            }));
        }
        counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_stay_integers_until_a_float_arrives() {
        let (a, b) = (Num::Int(2), Num::Int(5));
        assert_eq!(a.combine(b, Reduction::Sum), Num::Int(7));
        assert_eq!(a.combine(b, Reduction::Max), Num::Int(5));
        assert_eq!(a.combine(Num::Float(0.5), Reduction::Min), Num::Float(0.5));
        assert_eq!(Num::of(&Val::str("x")), None);
        assert_eq!(Num::of(&Val::str(" 12 ")), Some(Num::Int(12)));
        assert_eq!(Reduction::parse("nonsense"), Reduction::Count);
    }
}
