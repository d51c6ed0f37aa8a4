//! `updateStateByKey`: state carried from batch to batch.

use std::collections::BTreeMap;

/// Per-key state updated once per batch. As in newer Spark versions, the update runs
/// for every key that has state *or* new values, and returning `None` deletes the key,
/// so idle keys can expire.
#[derive(Debug, Clone, Default)]
pub struct StateByKey<K, S> {
    state: BTreeMap<K, S>,
}

impl<K: Ord + Clone, S> StateByKey<K, S> {
    pub fn new() -> Self {
        Self {
            state: BTreeMap::new(),
        }
    }

    /// Applies one batch of `(key, value)` pairs and returns the state after it.
    pub fn update<V>(
        &mut self,
        batch: impl IntoIterator<Item = (K, V)>,
        mut f: impl FnMut(&[V], Option<S>) -> Option<S>,
    ) -> &BTreeMap<K, S> {
        let mut new_values: BTreeMap<K, Vec<V>> = BTreeMap::new();
        for (k, v) in batch {
            new_values.entry(k).or_default().push(v);
        }
        let mut keys: Vec<K> = self.state.keys().cloned().collect();
        keys.extend(
            new_values
                .keys()
                .filter(|k| !self.state.contains_key(*k))
                .cloned(),
        );
        for key in keys {
            let values = new_values.remove(&key).unwrap_or_default();
            let old = self.state.remove(&key);
            if let Some(next) = f(&values, old) {
                self.state.insert(key, next);
            }
        }
        &self.state
    }

    pub fn get(&self, key: &K) -> Option<&S> {
        self.state.get(key)
    }

    pub fn len(&self) -> usize {
        self.state.len()
    }

    pub fn is_empty(&self) -> bool {
        self.state.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn running_counts_and_expiry() {
        let mut s: StateByKey<&str, u64> = StateByKey::new();
        s.update([("a", 1), ("b", 1), ("a", 1)], |vs, old| {
            Some(old.unwrap_or(0) + vs.len() as u64)
        });
        assert_eq!(s.get(&"a"), Some(&2));
        // A key with no new values still gets called: here it expires.
        s.update([("a", 1)], |vs, old| {
            if vs.is_empty() {
                None
            } else {
                Some(old.unwrap_or(0) + vs.len() as u64)
            }
        });
        assert_eq!((s.get(&"a"), s.get(&"b")), (Some(&3), None));
    }
}
