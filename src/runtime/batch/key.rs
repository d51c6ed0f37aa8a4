//! An ordered wrapper for tuple values, so the dstream library (which keeps keys in
//! `BTreeMap`s for deterministic output) can key by any field.

use std::cmp::Ordering;

use super::super::tuple::Val;

/// A [`Val`] with a total order: by kind (null < bool < int < float < text), then by
/// value; floats by `total_cmp`, so every key has a place and output order is stable.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Key(pub Val);

fn rank(v: &Val) -> u8 {
    match v {
        Val::Null => 0,
        Val::Bool(_) => 1,
        Val::Int(_) => 2,
        Val::Float(_) => 3,
        Val::Str(_) => 4,
    }
}

impl Ord for Key {
    fn cmp(&self, other: &Self) -> Ordering {
        match (&self.0, &other.0) {
            (Val::Bool(a), Val::Bool(b)) => a.cmp(b),
            (Val::Int(a), Val::Int(b)) => a.cmp(b),
            (Val::Float(a), Val::Float(b)) => a.total_cmp(b),
            (Val::Str(a), Val::Str(b)) => a.cmp(b),
            (a, b) => rank(a).cmp(&rank(b)),
        }
    }
}

impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_then_values() {
        let mut keys = [
            Key(Val::str("b")),
            Key(Val::Int(2)),
            Key(Val::str("a")),
            Key(Val::Null),
            Key(Val::Int(-1)),
        ];
        keys.sort();
        let shown: Vec<String> = keys.iter().map(|k| k.0.to_string()).collect();
        assert_eq!(shown, ["null", "-1", "2", "a", "b"]);
    }
}
