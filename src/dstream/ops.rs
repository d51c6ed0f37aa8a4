//! Per-batch transformations (DStream `map`, `flatMap`, `filter`, `reduceByKey`,
//! `countByValue`, `join`). Each is a pure function of one batch, which is what makes a
//! lost batch recomputable from its input in Spark.

use std::collections::BTreeMap;
use std::hash::Hash;

use super::Batch;

pub fn map<T, U>(batch: &Batch<T>, f: impl Fn(&T) -> U) -> Batch<U> {
    Batch::new(batch.time_ms, batch.items.iter().map(f).collect())
}

pub fn flat_map<T, U, I: IntoIterator<Item = U>>(
    batch: &Batch<T>,
    f: impl Fn(&T) -> I,
) -> Batch<U> {
    Batch::new(batch.time_ms, batch.items.iter().flat_map(f).collect())
}

pub fn filter<T: Clone>(batch: &Batch<T>, keep: impl Fn(&T) -> bool) -> Batch<T> {
    Batch::new(
        batch.time_ms,
        batch.items.iter().filter(|x| keep(x)).cloned().collect(),
    )
}

/// Combines the values of each key within the batch with an associative function.
/// Output is ordered by key so results are deterministic.
pub fn reduce_by_key<K: Ord + Clone, V: Clone>(
    batch: &Batch<(K, V)>,
    f: impl Fn(&V, &V) -> V,
) -> Batch<(K, V)> {
    let mut acc: BTreeMap<K, V> = BTreeMap::new();
    for (k, v) in &batch.items {
        match acc.get_mut(k) {
            Some(current) => *current = f(current, v),
            None => {
                acc.insert(k.clone(), v.clone());
            }
        }
    }
    Batch::new(batch.time_ms, acc.into_iter().collect())
}

/// How often each distinct element occurs in the batch.
pub fn count_by_value<T: Ord + Clone>(batch: &Batch<T>) -> Batch<(T, u64)> {
    let mut counts: BTreeMap<T, u64> = BTreeMap::new();
    for x in &batch.items {
        *counts.entry(x.clone()).or_default() += 1;
    }
    Batch::new(batch.time_ms, counts.into_iter().collect())
}

/// Inner join of two keyed batches of the **same** batch time (Spark pairs same-time
/// RDDs); batches of different times give `None`, which is a wiring error upstream.
pub fn join<K: Ord + Clone + Hash, A: Clone, B: Clone>(
    left: &Batch<(K, A)>,
    right: &Batch<(K, B)>,
) -> Option<Batch<(K, (A, B))>> {
    if left.time_ms != right.time_ms {
        return None;
    }
    let mut by_key: BTreeMap<&K, Vec<&B>> = BTreeMap::new();
    for (k, b) in &right.items {
        by_key.entry(k).or_default().push(b);
    }
    let mut out = Vec::new();
    for (k, a) in &left.items {
        if let Some(bs) = by_key.get(k) {
            out.extend(bs.iter().map(|b| (k.clone(), (a.clone(), (*b).clone()))));
        }
    }
    Some(Batch::new(left.time_ms, out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(t: u64, s: &str) -> Batch<String> {
        Batch::new(t, s.split_whitespace().map(str::to_string).collect())
    }

    #[test]
    fn word_count_in_one_batch() {
        let lines = Batch::new(1000, vec!["a b a".to_string(), "b a".to_string()]);
        let ws = flat_map(&lines, |l| {
            l.split(' ').map(str::to_string).collect::<Vec<_>>()
        });
        let pairs = map(&ws, |w| (w.clone(), 1u64));
        let counts = reduce_by_key(&pairs, |x, y| x + y);
        assert_eq!(counts.items, [("a".to_string(), 3), ("b".to_string(), 2)]);
        assert_eq!(count_by_value(&ws).items, counts.items);
    }

    #[test]
    fn filter_keeps_time_and_matches() {
        let b = filter(&words(2000, "x yy zzz"), |w| w.len() > 1);
        assert_eq!((b.time_ms, b.items.len()), (2000, 2));
    }

    #[test]
    fn join_pairs_same_time_batches_only() {
        let l = Batch::new(1000, vec![("k", 1), ("k", 2), ("z", 9)]);
        let r = Batch::new(1000, vec![("k", "x")]);
        let j = join(&l, &r).unwrap();
        assert_eq!(j.items, [("k", (1, "x")), ("k", (2, "x"))]);
        assert!(join(&l, &Batch::new(2000, vec![("k", "x")])).is_none());
    }
}
