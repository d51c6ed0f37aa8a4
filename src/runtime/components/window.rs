//! The window aggregate: count/sum/avg/min/max over tumbling or sliding windows measured
//! in tuples or milliseconds, per key or over everything. Inputs are acked on arrival and
//! results are emitted unanchored (a window outlives the trees of its inputs). Entries
//! come out of the run's window budget (`limits::MAX_WINDOW_ENTRIES`): an input that
//! does not fit is acked, left out and counted as refused.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::Instant;

use crate::model::WindowSize;

use super::super::error::RunError;
use super::super::plan::PlanNode;
use super::super::tuple::{Tuple, Val, Values};
use super::bolts::FieldLookup;
use super::{Behaviour, Bolt, Config, Emitter, Env, Factory, Failed, TaskInfo};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Agg {
    Count,
    Sum,
    Avg,
    Min,
    Max,
}

#[derive(Debug, Clone, Copy)]
enum Size {
    Count { length: u64, slide: u64 },
    Millis { length: u64, slide: u64 },
}

struct Entry {
    at_ms: u64,
    key: Val,
    value: f64,
}

impl Entry {
    /// What the entry costs against the run's window budget.
    fn bytes(&self) -> usize {
        std::mem::size_of::<Entry>() + self.key.as_str().map_or(0, str::len)
    }
}

struct WindowAggregate {
    key: FieldLookup,
    field: FieldLookup,
    agg: Agg,
    size: Size,
    buffer: VecDeque<Entry>,
    since_emit: u64,
    start: Instant,
    next_emit_ms: u64,
    /// Holds the run-wide window budget every entry is taken from.
    env: Arc<Env>,
}

impl WindowAggregate {
    fn pop_front(&mut self) {
        if let Some(e) = self.buffer.pop_front() {
            self.env.windows.give(1, e.bytes());
        }
    }

    fn now_ms(&self, now: Instant) -> u64 {
        now.saturating_duration_since(self.start).as_millis() as u64
    }

    fn emit_window(&self, end_ms: u64, out: &mut Emitter) {
        let mut groups: BTreeMap<String, (Val, u64, f64, f64, f64)> = BTreeMap::new();
        for e in &self.buffer {
            let g = groups.entry(e.key.to_string()).or_insert((
                e.key.clone(),
                0,
                0.0,
                f64::INFINITY,
                f64::NEG_INFINITY,
            ));
            g.1 += 1;
            g.2 += e.value;
            g.3 = g.3.min(e.value);
            g.4 = g.4.max(e.value);
        }
        for (_, (key, n, sum, min, max)) in groups {
            let value = match self.agg {
                Agg::Count => Val::Int(n as i64),
                Agg::Sum => Val::Float(sum),
                Agg::Avg => Val::Float(sum / n as f64),
                Agg::Min => Val::Float(min),
                Agg::Max => Val::Float(max),
            };
            out.emit(Values::Many(Box::new([
                key,
                value,
                Val::Int(end_ms as i64),
            ])));
        }
    }
}

impl Bolt for WindowAggregate {
    fn execute(&mut self, input: &Tuple, out: &mut Emitter) -> Result<(), Failed> {
        let key = if self.key.is_empty_name() {
            Val::str("")
        } else {
            self.key.get(input)?.clone()
        };
        let value = if self.agg == Agg::Count {
            1.0
        } else {
            self.field
                .get(input)?
                .as_f64()
                .ok_or_else(|| Failed("the aggregated field is not a number".into()))?
        };
        let at_ms = self.now_ms(self.env.clock.now());
        let entry = Entry { at_ms, key, value };
        match self.env.windows.take(1, entry.bytes()) {
            Ok(()) => self.buffer.push_back(entry),
            // Full: the input is acked but left out of the window, counted and logged.
            Err(refusal) => out.refuse(refusal),
        }
        if let Size::Count { length, slide } = self.size {
            while self.buffer.len() as u64 > length {
                self.pop_front();
            }
            self.since_emit += 1;
            if self.since_emit >= slide {
                self.since_emit = 0;
                self.emit_window(at_ms, out);
            }
        }
        Ok(())
    }

    fn tick(&mut self, now: Instant, out: &mut Emitter) {
        let Size::Millis { length, slide } = self.size else {
            return;
        };
        let now_ms = self.now_ms(now);
        while now_ms >= self.next_emit_ms {
            let end = self.next_emit_ms;
            while self
                .buffer
                .front()
                .is_some_and(|e| e.at_ms.saturating_add(length) < end)
            {
                self.pop_front();
            }
            let in_window: VecDeque<Entry> = Default::default();
            let later = std::mem::replace(&mut self.buffer, in_window);
            let (now_part, rest): (Vec<Entry>, Vec<Entry>) =
                later.into_iter().partition(|e| e.at_ms < end);
            self.buffer = now_part.into();
            if !self.buffer.is_empty() {
                self.emit_window(end, out);
            }
            self.buffer.extend(rest);
            // Saturates: a slide of years simply never comes round again.
            self.next_emit_ms = self.next_emit_ms.saturating_add(slide);
        }
    }
}

impl Drop for WindowAggregate {
    /// A restarted or stopped task gives its entries back to the run's budget.
    fn drop(&mut self) {
        let bytes = self.buffer.iter().map(Entry::bytes).sum();
        self.env.windows.give(self.buffer.len(), bytes);
    }
}

pub fn factory(cfg: &Config, node: &PlanNode) -> Result<Factory, RunError> {
    let Some(spec) = node.node.window else {
        return Err(RunError::Config {
            node: node.name().to_string(),
            message: "window_aggregate needs a window".into(),
        });
    };
    let size = match (spec.length, spec.slide) {
        (WindowSize::Count(l), WindowSize::Count(s)) if l > 0 && s > 0 => Size::Count {
            length: l,
            slide: s,
        },
        (WindowSize::Millis(l), WindowSize::Millis(s)) if l > 0 && s > 0 => Size::Millis {
            length: l,
            slide: s,
        },
        _ => {
            return Err(RunError::Config {
                node: node.name().to_string(),
                message: "window length and slide must be positive and of the same kind".into(),
            });
        }
    };
    let agg = match cfg.text("aggregate").as_str() {
        "sum" => Agg::Sum,
        "avg" => Agg::Avg,
        "min" => Agg::Min,
        "max" => Agg::Max,
        _ => Agg::Count,
    };
    let (key, field) = (cfg.text("key"), cfg.text("field"));
    Ok(Arc::new(move |info: &TaskInfo| {
        let first = match size {
            Size::Millis { slide, .. } => slide,
            Size::Count { .. } => 0,
        };
        Ok(Behaviour::Bolt(Box::new(WindowAggregate {
            key: FieldLookup::new(&key, info),
            field: FieldLookup::new(&field, info),
            agg,
            size,
            buffer: VecDeque::new(),
            since_emit: 0,
            start: info.env.clock.start(),
            next_emit_ms: first,
            env: info.env.clone(),
        })))
    }))
}
