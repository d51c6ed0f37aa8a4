//! Stream groupings: which consumer task(s) get each tuple, exactly as Storm routes.
//!
//! One `Grouper` exists per (producer task, subscription), because shuffle order and
//! partial-key load counts are per sender in Storm too.

use crate::model::Grouping;

use super::rng::{JavaRandom, Rng};
use super::tuple::{Val, Values};

/// Why a tuple could not be routed; the emitting component used a stream wrongly.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    #[error("direct emit to task {0}, which does not consume this stream")]
    NotATarget(u32),
    #[error("plain emit on a direct stream; use a direct emit")]
    NeedsDirect,
    #[error("direct emit on a stream that is not direct")]
    NotDirect,
}

/// The routing state for one producer task on one subscription.
#[derive(Debug, Clone)]
pub enum Grouper {
    /// Round-robin over a once-shuffled copy of the targets (Storm's plain shuffle).
    Shuffle {
        order: Vec<u32>,
        next: usize,
    },
    Fields {
        fields: Vec<usize>,
        targets: Vec<u32>,
    },
    All {
        targets: Vec<u32>,
    },
    Global {
        target: u32,
    },
    /// A random target per tuple.
    Random {
        targets: Vec<u32>,
        rng: Rng,
    },
    Direct {
        targets: Vec<u32>,
    },
    PartialKey {
        fields: Vec<usize>,
        targets: Vec<u32>,
        sent: Vec<u64>,
    },
}

/// Storm's `Arrays.deepHashCode` over values (i32, wrapping). Kept by hand: fields
/// grouping must pick the very task Storm picks, which depends on Java's exact hash of
/// each value (`String.hashCode`, `Long.hashCode`, `Double.hashCode`, `31 * h + e`); no
/// Rust crate reproduces Java's hashes, and a general-purpose hash would route elsewhere.
pub fn deep_hash<'a>(values: impl IntoIterator<Item = &'a Val>) -> i32 {
    values
        .into_iter()
        .fold(1i32, |h, v| h.wrapping_mul(31).wrapping_add(v.java_hash()))
}

/// Java's `Math.floorMod(h, n)` for a task count `n > 0`, in 32-bit arithmetic (a
/// 32-bit division is much cheaper than a 64-bit one on the hot path).
#[inline]
pub fn floor_mod(h: i32, n: usize) -> usize {
    // For a power of two, floorMod is the low bits of the two's-complement value (also
    // for negative h), and a mask avoids a division on every tuple.
    if n.is_power_of_two() && n <= 1 << 31 {
        return (h as u32 & (n - 1) as u32) as usize;
    }
    match i32::try_from(n) {
        Ok(n) if n > 0 => h.rem_euclid(n) as usize,
        _ => (i64::from(h).rem_euclid(n.max(1) as i64)) as usize,
    }
}

/// Fields grouping's choice among `n` targets for a key (the grouping fields' values,
/// in order): `floorMod(Arrays.deepHashCode(key), n)`. The lens explains the same call.
#[inline]
pub fn fields_index<'a>(key: impl IntoIterator<Item = &'a Val>, n: usize) -> usize {
    floor_mod(deep_hash(key), n)
}

/// Which of `n` ackers tracks a root: fields grouping on the root id, as Storm does.
#[inline]
pub fn acker_for(root: u64, n: usize) -> usize {
    let h = deep_hash([&Val::Int(root as i64)]);
    floor_mod(h, n)
}

impl Grouper {
    /// `targets` must be sorted ascending; `fields` are positions in the producer's
    /// stream schema. `rng` seeds shuffles and random choices.
    pub fn new(grouping: &Grouping, fields: Vec<usize>, targets: Vec<u32>, rng: &mut Rng) -> Self {
        debug_assert!(targets.windows(2).all(|w| w[0] < w[1]));
        match grouping {
            Grouping::Fields(_) => Grouper::Fields { fields, targets },
            Grouping::All => Grouper::All { targets },
            Grouping::Global => Grouper::Global {
                target: targets.first().copied().unwrap_or(0),
            },
            Grouping::None => Grouper::Random {
                targets,
                rng: Rng::new(rng.next_u64()),
            },
            Grouping::Direct => Grouper::Direct { targets },
            Grouping::PartialKey(_) => Grouper::PartialKey {
                fields,
                sent: vec![0; targets.len()],
                targets,
            },
            // LocalOrShuffle: one process, so every target is local. Custom classes and
            // Flume channel links have no finer rule here: they spread like shuffle.
            _ => {
                let mut order = targets;
                rng.shuffle(&mut order);
                Grouper::Shuffle { order, next: 0 }
            }
        }
    }

    /// Appends the chosen task ids to `out`.
    #[inline]
    pub fn choose(
        &mut self,
        values: &Values,
        direct: Option<u32>,
        out: &mut Vec<u32>,
    ) -> Result<(), RouteError> {
        if let Grouper::All { targets } = self {
            if direct.is_some() {
                return Err(RouteError::NotDirect);
            }
            out.extend_from_slice(targets);
            return Ok(());
        }
        if let Some(Some(task)) = self.choose_one(values, direct) {
            out.push(task?);
        }
        Ok(())
    }

    /// The single target of every grouping but `All` (`Some(None)` when there is no
    /// target at all); `None` for `All`, which may pick several. The common one-route
    /// emit uses this and skips collecting targets in a list.
    #[inline]
    pub fn choose_one(
        &mut self,
        values: &Values,
        direct: Option<u32>,
    ) -> Option<Option<Result<u32, RouteError>>> {
        if let Grouper::Direct { targets } = self {
            let Some(task) = direct else {
                return Some(Some(Err(RouteError::NeedsDirect)));
            };
            if targets.binary_search(&task).is_err() {
                return Some(Some(Err(RouteError::NotATarget(task))));
            }
            return Some(Some(Ok(task)));
        }
        if direct.is_some() {
            return Some(Some(Err(RouteError::NotDirect)));
        }
        let task = match self {
            Grouper::Shuffle { order, next } => {
                let task = order.get(*next).copied();
                *next += 1;
                if *next >= order.len() {
                    *next = 0;
                }
                task
            }
            Grouper::Fields { fields, targets } => match targets.len() {
                0 => None,
                // One target: every hash maps to it, so skip hashing the values.
                1 => Some(targets[0]),
                n => Some(targets[fields_index(fields.iter().filter_map(|&i| values.get(i)), n)]),
            },
            Grouper::All { .. } => return None,
            Grouper::Global { target } => Some(*target),
            Grouper::Random { targets, rng } => {
                (!targets.is_empty()).then(|| targets[rng.below(targets.len())])
            }
            Grouper::PartialKey {
                fields,
                targets,
                sent,
            } => (!targets.is_empty()).then(|| {
                let i = partial_key_choice(values, fields, sent);
                sent[i] += 1;
                targets[i]
            }),
            Grouper::Direct { .. } => None,
        };
        Some(task.map(Ok))
    }
}

/// Storm's `PartialKeyGrouping`: two candidates from a `java.util.Random` seeded with the
/// key bytes' hash; the one this sender used less wins, the first on a tie.
fn partial_key_choice(values: &Values, fields: &[usize], sent: &[u64]) -> usize {
    let draw = partial_key_draw(&partial_key_bytes(values, fields), sent.len());
    if sent[draw.second] < sent[draw.first] {
        draw.second
    } else {
        draw.first
    }
}

/// The bytes Storm's partial key grouping hashes for a tuple: each grouping field's
/// `hashCode` as four big-endian bytes, or with no fields named, the first value's Java
/// text (`toString().getBytes()`, UTF-8).
pub fn partial_key_bytes(values: &Values, fields: &[usize]) -> Vec<u8> {
    if fields.is_empty() {
        return values
            .get(0)
            .map(|v| v.java_text().into_bytes())
            .unwrap_or_default();
    }
    fields
        .iter()
        .filter_map(|&i| values.get(i))
        .flat_map(|v| v.java_hash().to_be_bytes())
        .collect()
}

/// How partial key grouping drew its two candidates for one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartialKeyDraw {
    /// `Arrays.hashCode(bytes)`: the seed of the `java.util.Random`.
    pub seed: i32,
    /// The first `nextInt(n)`: the first candidate's index.
    pub first: usize,
    /// The second `nextInt(n)`, before it is moved off the first.
    pub drawn: usize,
    /// The second candidate's index (`drawn`, or the next index when it equals `first`).
    pub second: usize,
}

/// The two candidates among `n > 0` targets for the key `bytes`, as Storm's
/// `RandomTwoTaskAssignmentCreator` draws them. Routing and the lens both call it.
#[inline]
pub fn partial_key_draw(bytes: &[u8], n: usize) -> PartialKeyDraw {
    let seed = bytes.iter().fold(1i32, |h, &b| {
        h.wrapping_mul(31).wrapping_add(b as i8 as i32)
    });
    let bound = i32::try_from(n).unwrap_or(i32::MAX).max(1);
    let mut random = JavaRandom::new(seed as i64);
    let first = random.next_int(bound) as usize;
    let drawn = random.next_int(bound) as usize;
    let second = if first == drawn {
        (drawn + 1) % bound as usize
    } else {
        drawn
    };
    PartialKeyDraw {
        seed,
        first,
        drawn,
        second,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floor_mod_matches_java_for_every_task_count() {
        for n in 1..=17usize {
            for h in [
                i32::MIN,
                i32::MIN + 1,
                -1000,
                -7,
                -1,
                0,
                1,
                6,
                999,
                i32::MAX,
            ] {
                let java = i64::from(h).rem_euclid(n as i64) as usize;
                assert_eq!(floor_mod(h, n), java, "h={h} n={n}");
            }
        }
        assert_eq!(floor_mod(-1, 1 << 31), (1 << 31) - 1);
    }

    fn word(w: &str) -> Values {
        Values::One(Val::str(w))
    }

    #[test]
    fn shuffle_is_round_robin_over_a_permutation() {
        let mut rng = Rng::new(1);
        let mut g = Grouper::new(&Grouping::Shuffle, vec![], vec![1, 2, 3], &mut rng);
        let mut out = Vec::new();
        for _ in 0..6 {
            g.choose(&word("x"), None, &mut out).unwrap();
        }
        assert_eq!(out[..3], out[3..]);
        let mut first: Vec<u32> = out[..3].to_vec();
        first.sort();
        assert_eq!(first, [1, 2, 3]);
    }

    #[test]
    fn fields_uses_java_deep_hash() {
        let mut rng = Rng::new(1);
        let mut g = Grouper::new(
            &Grouping::Fields(vec!["w".into()]),
            vec![0],
            vec![5, 6, 7],
            &mut rng,
        );
        let mut out = Vec::new();
        g.choose(&word("hello"), None, &mut out).unwrap();
        // deepHashCode(["hello"]) = 31 + 99162322 = 99162353; mod 3 = 2.
        assert_eq!(out, [7]);
    }

    #[test]
    fn direct_checks_targets() {
        let mut rng = Rng::new(1);
        let mut g = Grouper::new(&Grouping::Direct, vec![], vec![3, 4], &mut rng);
        let mut out = Vec::new();
        assert_eq!(
            g.choose(&word("a"), None, &mut out),
            Err(RouteError::NeedsDirect)
        );
        assert_eq!(
            g.choose(&word("a"), Some(9), &mut out),
            Err(RouteError::NotATarget(9))
        );
        g.choose(&word("a"), Some(4), &mut out).unwrap();
        assert_eq!(out, [4]);
    }
}
