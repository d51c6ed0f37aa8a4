//! Window operators over batches: `window`, `countByWindow`, `reduceByKeyAndWindow`
//! (with and without an inverse function) and `countByValueAndWindow`.
//!
//! A window of length `L` sliding by `S` (both whole multiples of the batch interval)
//! is emitted after every `S`-th batch and holds the batches in `(t − L, t]`. Early
//! windows are partial, as in Spark.

use std::collections::{BTreeMap, VecDeque};

use thiserror::Error;

use super::{Batch, BatchClock};

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum WindowError {
    #[error(
        "window length {length_ms} ms is not a positive multiple of the {interval_ms} ms batch interval"
    )]
    LengthNotMultiple { length_ms: u64, interval_ms: u64 },
    #[error(
        "window slide {slide_ms} ms is not a positive multiple of the {interval_ms} ms batch interval"
    )]
    SlideNotMultiple { slide_ms: u64, interval_ms: u64 },
}

/// A window's length and slide in batches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowShape {
    pub length_batches: u64,
    pub slide_batches: u64,
}

impl WindowShape {
    pub fn new(clock: BatchClock, length_ms: u64, slide_ms: u64) -> Result<Self, WindowError> {
        let interval_ms = clock.interval_ms();
        let length_batches = clock
            .batches_in(length_ms)
            .ok_or(WindowError::LengthNotMultiple {
                length_ms,
                interval_ms,
            })?;
        let slide_batches = clock
            .batches_in(slide_ms)
            .ok_or(WindowError::SlideNotMultiple {
                slide_ms,
                interval_ms,
            })?;
        Ok(Self {
            length_batches,
            slide_batches,
        })
    }

    /// Does a window close at the batch with this (1-based) index?
    pub fn fires_at(&self, batch_index: u64) -> bool {
        batch_index > 0 && batch_index.is_multiple_of(self.slide_batches)
    }
}

/// `window(L, S)`: the union of the batches in each window.
#[derive(Debug)]
pub struct UnionWindow<T> {
    shape: WindowShape,
    batches: VecDeque<Vec<T>>,
    seen: u64,
}

impl<T: Clone> UnionWindow<T> {
    pub fn new(shape: WindowShape) -> Self {
        Self {
            shape,
            batches: VecDeque::new(),
            seen: 0,
        }
    }

    /// Feeds the next batch; returns the window's contents when one closes.
    pub fn push(&mut self, batch: &Batch<T>) -> Option<Batch<T>> {
        self.seen += 1;
        self.batches.push_back(batch.items.clone());
        while self.batches.len() as u64 > self.shape.length_batches {
            self.batches.pop_front();
        }
        self.shape.fires_at(self.seen).then(|| {
            Batch::new(
                batch.time_ms,
                self.batches.iter().flatten().cloned().collect(),
            )
        })
    }
}

/// `reduceByKeyAndWindow`: a per-key reduction over each window.
///
/// Without an inverse, each emission folds every batch in the window (cost ∝ L).
/// With an inverse `finv` (so that `finv(f(a, b), b) = a`), the window is kept up to date
/// incrementally: the newest batch is added with `f` and the batch leaving the window is
/// taken out with `finv`, so the cost per batch is independent of `L` — Spark's
/// `W(t) = finv(f(W(t−S), new), old)`, applied one batch at a time. Keys whose value falls
/// back to `zero` are dropped when `zero` is given (Spark's filter function).
/// A binary combining function on window values (`f`, or its inverse `finv`).
type Combine<V> = Box<dyn Fn(&V, &V) -> V + Send>;

/// A predicate on window values ("nothing of this key is left").
type Emptiness<V> = Box<dyn Fn(&V) -> bool + Send>;

pub struct KeyedWindow<K, V> {
    shape: WindowShape,
    reduce: Combine<V>,
    inverse: Option<Combine<V>>,
    /// Spark's filter function: keys whose value this calls empty leave the window.
    is_empty: Option<Emptiness<V>>,
    per_batch: VecDeque<BTreeMap<K, V>>,
    running: BTreeMap<K, V>,
    seen: u64,
}

impl<K: Ord + Clone, V: Clone + PartialEq> KeyedWindow<K, V> {
    pub fn new(shape: WindowShape, reduce: impl Fn(&V, &V) -> V + Send + 'static) -> Self {
        Self {
            shape,
            reduce: Box::new(reduce),
            inverse: None,
            is_empty: None,
            per_batch: VecDeque::new(),
            running: BTreeMap::new(),
            seen: 0,
        }
    }

    /// Switches to incremental maintenance with an inverse function; keys equal to
    /// `zero` afterwards are removed.
    pub fn with_inverse(self, inverse: impl Fn(&V, &V) -> V + Send + 'static, zero: V) -> Self
    where
        V: Send + 'static,
    {
        self.with_inverse_where(inverse, move |v| *v == zero)
    }

    /// Like [`KeyedWindow::with_inverse`], with a predicate for "nothing left of this
    /// key": needed when the value carries a count beside a float sum, whose inverse
    /// rarely lands on exactly zero.
    pub fn with_inverse_where(
        mut self,
        inverse: impl Fn(&V, &V) -> V + Send + 'static,
        is_empty: impl Fn(&V) -> bool + Send + 'static,
    ) -> Self {
        self.inverse = Some(Box::new(inverse));
        self.is_empty = Some(Box::new(is_empty));
        self
    }

    /// Feeds one batch of `(key, value)`; returns the window result (sorted by key) when
    /// a window closes at this batch.
    pub fn push(&mut self, batch: &Batch<(K, V)>) -> Option<Batch<(K, V)>> {
        self.seen += 1;
        let mut reduced: BTreeMap<K, V> = BTreeMap::new();
        for (k, v) in &batch.items {
            match reduced.get_mut(k) {
                Some(acc) => *acc = (self.reduce)(acc, v),
                None => {
                    reduced.insert(k.clone(), v.clone());
                }
            }
        }
        if let Some(inverse) = &self.inverse {
            for (k, v) in &reduced {
                match self.running.get_mut(k) {
                    Some(acc) => *acc = (self.reduce)(acc, v),
                    None => {
                        self.running.insert(k.clone(), v.clone());
                    }
                }
            }
            self.per_batch.push_back(reduced);
            if self.per_batch.len() as u64 > self.shape.length_batches
                && let Some(leaving) = self.per_batch.pop_front()
            {
                for (k, v) in leaving {
                    if let Some(acc) = self.running.get_mut(&k) {
                        *acc = inverse(acc, &v);
                        if self.is_empty.as_ref().is_some_and(|empty| empty(acc)) {
                            self.running.remove(&k);
                        }
                    }
                }
            }
        } else {
            self.per_batch.push_back(reduced);
            while self.per_batch.len() as u64 > self.shape.length_batches {
                self.per_batch.pop_front();
            }
        }
        if !self.shape.fires_at(self.seen) {
            return None;
        }
        let items = if self.inverse.is_some() {
            self.running.clone().into_iter().collect()
        } else {
            let mut acc: BTreeMap<K, V> = BTreeMap::new();
            for batch in &self.per_batch {
                for (k, v) in batch {
                    match acc.get_mut(k) {
                        Some(a) => *a = (self.reduce)(a, v),
                        None => {
                            acc.insert(k.clone(), v.clone());
                        }
                    }
                }
            }
            acc.into_iter().collect()
        };
        Some(Batch::new(batch.time_ms, items))
    }
}

/// `countByValueAndWindow(L, S)`: per-value counts over each window (kept incrementally).
pub fn count_by_value_and_window<T: Ord + Clone>(shape: WindowShape) -> KeyedWindow<T, u64> {
    KeyedWindow::new(shape, |a, b| a + b).with_inverse(|a, b| a - b, 0)
}

/// `countByWindow(L, S)`: the number of elements in each window.
#[derive(Debug)]
pub struct CountWindow {
    shape: WindowShape,
    counts: VecDeque<u64>,
    seen: u64,
}

impl CountWindow {
    pub fn new(shape: WindowShape) -> Self {
        Self {
            shape,
            counts: VecDeque::new(),
            seen: 0,
        }
    }

    pub fn push<T>(&mut self, batch: &Batch<T>) -> Option<(u64, u64)> {
        self.seen += 1;
        self.counts.push_back(batch.items.len() as u64);
        while self.counts.len() as u64 > self.shape.length_batches {
            self.counts.pop_front();
        }
        self.shape
            .fires_at(self.seen)
            .then(|| (batch.time_ms, self.counts.iter().sum()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(len: u64, slide: u64) -> WindowShape {
        WindowShape::new(BatchClock::new(1000).unwrap(), len * 1000, slide * 1000).unwrap()
    }

    fn batch(i: u64, words: &str) -> Batch<(String, u64)> {
        Batch::new(
            i * 1000,
            words
                .split_whitespace()
                .map(|w| (w.to_string(), 1))
                .collect(),
        )
    }

    #[test]
    fn windows_fire_every_slide_and_hold_length() {
        let mut w = KeyedWindow::new(shape(3, 2), |a: &u64, b: &u64| a + b);
        assert_eq!(w.push(&batch(1, "a")), None);
        let first = w.push(&batch(2, "a b")).unwrap(); // partial early window
        assert_eq!(first.items, [("a".into(), 2), ("b".into(), 1)]);
        assert_eq!(w.push(&batch(3, "c")), None);
        let second = w.push(&batch(4, "c c")).unwrap(); // batches 2..=4
        assert_eq!(second.time_ms, 4000);
        assert_eq!(
            second.items,
            [("a".into(), 1), ("b".into(), 1), ("c".into(), 3)]
        );
    }

    #[test]
    fn shape_rejects_non_multiples() {
        let clock = BatchClock::new(1000).unwrap();
        assert!(matches!(
            WindowShape::new(clock, 2500, 1000),
            Err(WindowError::LengthNotMultiple { .. })
        ));
        assert!(matches!(
            WindowShape::new(clock, 2000, 0),
            Err(WindowError::SlideNotMultiple { .. })
        ));
    }

    #[test]
    fn union_and_count_windows() {
        let mut u = UnionWindow::new(shape(2, 1));
        let mut c = CountWindow::new(shape(2, 1));
        let b1 = Batch::new(1000, vec![1, 2]);
        let b2 = Batch::new(2000, vec![3]);
        let b3 = Batch::new(3000, vec![4, 5, 6]);
        u.push(&b1);
        c.push(&b1);
        u.push(&b2);
        assert_eq!(c.push(&b2), Some((2000, 3)));
        assert_eq!(u.push(&b3).unwrap().items, [3, 4, 5, 6]);
        assert_eq!(c.push(&b3), Some((3000, 4)));
    }
}
