//! Storm-exact routing, checked value by value against a real JVM.
//!
//! The expected numbers come from `tests/oracles/StormRouting.java`, run by the `java`
//! that `.ci/setup` installs: `Arrays.deepHashCode` over every value kind a tuple holds,
//! `java.util.Random.nextInt` on both of its branches (power-of-two bounds and the
//! rejection loop), and Storm's fields and partial-key grouping formulas over a table of
//! keys and task counts, including where a partial key's first and second sends go and a
//! whole stream of sends through one grouping. Nothing here computes an expected value
//! with the crate's own functions.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test crate: a failure here is the test failing

mod common;

use std::fmt::Write as _;

use tributary::model::Grouping;
use tributary::runtime::rng::{JavaRandom, Rng};
use tributary::runtime::routing::{
    Grouper, acker_for, deep_hash, fields_index, partial_key_bytes, partial_key_draw,
};
use tributary::runtime::{Val, Values};

const ORACLE: &str = "StormRouting.java";

/// A value as the oracle reads it: kind and exact content (a double by its raw bits,
/// text by its UTF-8 bytes in hex).
fn token(v: &Val) -> String {
    match v {
        Val::Null => "N".into(),
        Val::Bool(b) => format!("B:{b}"),
        Val::Int(i) => format!("L:{i}"),
        Val::Float(x) => format!("D:{:x}", x.to_bits()),
        Val::Str(s) => {
            let mut hex = String::from("S:");
            for b in s.as_str().bytes() {
                write!(hex, "{b:02x}").unwrap();
            }
            hex
        }
    }
}

fn tokens(values: &[Val]) -> String {
    values.iter().map(token).collect::<Vec<_>>().join(" ")
}

/// One value of every kind a tuple carries, with the edges of each kind's hash: longs at
/// and beyond 2^32 (their high half folds into the hash), both zeros, NaNs with different
/// payloads (Java folds them into one), text outside ASCII and beyond the basic plane.
fn scalars() -> Vec<Val> {
    vec![
        Val::Null,
        Val::Bool(true),
        Val::Bool(false),
        Val::Int(0),
        Val::Int(1),
        Val::Int(-1),
        Val::Int(42),
        Val::Int(4_294_967_295),
        Val::Int(1 << 32),
        Val::Int((1 << 32) + 1),
        Val::Int(-(1 << 32)),
        Val::Int((1 << 40) + 7),
        Val::Int(-123_456_789_012),
        Val::Int(i64::MAX),
        Val::Int(i64::MIN),
        Val::Float(0.0),
        Val::Float(-0.0),
        Val::Float(1.0),
        Val::Float(1.5),
        Val::Float(-2.25),
        Val::Float(0.1),
        Val::Float(std::f64::consts::PI),
        Val::Float(1e300),
        Val::Float(1e-7),
        Val::Float(f64::MIN_POSITIVE),
        Val::Float(1e7),
        Val::Float(9_999_999.5),
        Val::Float(0.001),
        Val::Float(-0.000_99),
        Val::Float(123_456.789),
        Val::Float(-1.25e21),
        Val::Float(6.02e-23),
        Val::Float(100.0),
        Val::Float(f64::NAN),
        Val::Float(f64::from_bits(0x7ff8_0000_0000_0001)),
        Val::Float(f64::INFINITY),
        Val::Float(f64::NEG_INFINITY),
        Val::str(""),
        Val::str("hello"),
        Val::str("word42"),
        Val::str("Ünïcödé"),
        Val::str("日本語のテキスト"),
        Val::str("emoji 😀 pair"),
        Val::str("a\u{0}b"),
        Val::str("a longer text that does not fit inline in a tuple value"),
    ]
}

/// Tuples of one, two and three fields mixing the kinds, and the empty tuple.
fn tuples() -> Vec<Vec<Val>> {
    let s = scalars();
    let n = s.len();
    let mut out: Vec<Vec<Val>> = s.iter().map(|v| vec![v.clone()]).collect();
    for i in 0..n {
        out.push(vec![s[i].clone(), s[(i * 7 + 3) % n].clone()]);
        out.push(vec![
            s[(i * 5 + 1) % n].clone(),
            s[i].clone(),
            s[(i * 11 + 2) % n].clone(),
        ]);
    }
    out.push(Vec::new());
    out
}

/// Runs the oracle on `commands` (one per line) and returns one answer per command.
fn ask(commands: &[String]) -> Vec<String> {
    let answers = common::java::run_oracle(ORACLE, &(commands.join("\n") + "\n"));
    assert_eq!(
        answers.len(),
        commands.len(),
        "the oracle answered {} of {} questions",
        answers.len(),
        commands.len()
    );
    answers
}

const TASK_COUNTS: [usize; 13] = [1, 2, 3, 4, 5, 6, 7, 8, 10, 13, 16, 31, 32];

/// Sorted, non-contiguous task ids, as a plan numbers a consumer that is not first.
fn task_ids(n: usize) -> Vec<u32> {
    (0..n as u32).map(|i| 7 + 3 * i).collect()
}

#[test]
fn deep_hash_code_matches_the_jvm_for_every_value_kind() {
    let tuples = tuples();
    let commands: Vec<String> = tuples
        .iter()
        .map(|t| format!("hash {}", tokens(t)).trim_end().to_owned())
        .collect();
    let answers = ask(&commands);
    for (t, java) in tuples.iter().zip(&answers) {
        assert_eq!(
            deep_hash(t.iter()).to_string(),
            *java,
            "Arrays.deepHashCode({t:?})"
        );
    }
}

#[test]
fn java_random_next_int_matches_the_jvm_on_both_branches() {
    let seeds: [i64; 9] = [
        0,
        1,
        -1,
        42,
        i32::MIN as i64,
        i32::MAX as i64,
        1 << 40,
        -987_654_321_987,
        i64::MAX,
    ];
    // Powers of two take `(bound * r) >> 31`; the others the rejection loop, which large
    // bounds hit often.
    let bounds: [i32; 14] = [
        1,
        2,
        4,
        8,
        16,
        1 << 30,
        3,
        5,
        7,
        10,
        100,
        (1 << 30) + 1,
        1_500_000_000,
        i32::MAX,
    ];
    const DRAWS: usize = 12;
    let mut cases = Vec::new();
    for seed in seeds {
        for bound in bounds {
            cases.push((seed, bound));
        }
    }
    let commands: Vec<String> = cases
        .iter()
        .map(|(seed, bound)| format!("random {seed} {bound} {DRAWS}"))
        .collect();
    let answers = ask(&commands);
    for ((seed, bound), java) in cases.iter().zip(&answers) {
        let mut random = JavaRandom::new(*seed);
        let ours: Vec<String> = (0..DRAWS)
            .map(|_| random.next_int(*bound).to_string())
            .collect();
        assert_eq!(
            ours.join(" "),
            *java,
            "new Random({seed}).nextInt({bound}) x{DRAWS}"
        );
    }
}

#[test]
fn fields_grouping_picks_the_task_storm_picks_for_every_key_and_task_count() {
    let keys: Vec<Vec<Val>> = tuples().into_iter().filter(|t| !t.is_empty()).collect();
    let mut cases = Vec::new();
    for key in &keys {
        for n in TASK_COUNTS {
            cases.push((key, n));
        }
    }
    let commands: Vec<String> = cases
        .iter()
        .map(|(key, n)| format!("fields {n} {}", tokens(key)))
        .collect();
    let answers = ask(&commands);
    let mut rng = Rng::new(1);
    for ((key, n), java) in cases.iter().zip(&answers) {
        let index: usize = java.parse().unwrap();
        assert_eq!(
            fields_index(key.iter(), *n),
            index,
            "{key:?} over {n} tasks"
        );
        // The grouper an engine runs, with the key's fields picked from a wider tuple.
        let names: Vec<String> = (0..key.len()).map(|i| format!("k{i}")).collect();
        let mut tuple = vec![Val::str("not part of the key")];
        tuple.extend(key.iter().cloned());
        let positions: Vec<usize> = (1..=key.len()).collect();
        let targets = task_ids(*n);
        let mut grouper = Grouper::new(
            &Grouping::Fields(names),
            positions,
            targets.clone(),
            &mut rng,
        );
        let mut out = Vec::new();
        grouper
            .choose(&Values::from(tuple), None, &mut out)
            .unwrap();
        assert_eq!(out, [targets[index]], "{key:?} over tasks {targets:?}");
    }
}

#[test]
fn acker_choice_is_fields_grouping_on_the_root_id_as_a_long() {
    // Root ids are 64-bit and travel as a Java `long`; beyond 2^63 they are negative there.
    let roots: Vec<u64> = (0..40u64)
        .map(|i| {
            i.wrapping_mul(0x9E37_79B9_7F4A_7C15)
                .rotate_left(i as u32)
                .wrapping_add(i)
        })
        .chain([1, u32::MAX as u64, 1 << 32, u64::MAX, 1 << 63])
        .collect();
    let ackers = [1usize, 2, 3, 4, 7, 8];
    let mut cases = Vec::new();
    for &root in &roots {
        for n in ackers {
            cases.push((root, n));
        }
    }
    let commands: Vec<String> = cases
        .iter()
        .map(|(root, n)| format!("fields {n} L:{}", *root as i64))
        .collect();
    let answers = ask(&commands);
    for ((root, n), java) in cases.iter().zip(&answers) {
        assert_eq!(
            acker_for(*root, *n).to_string(),
            *java,
            "root {root:#x}, {n} ackers"
        );
    }
}

/// A fresh partial key grouping over `targets` (fields mode: every value of the tuple is
/// a key field; text mode: no fields named).
fn partial_key_grouper(targets: &[u32], width: usize, text: bool) -> (Grouper, Vec<usize>) {
    let (names, positions) = if text {
        (Vec::new(), Vec::new())
    } else {
        (
            (0..width).map(|i| format!("k{i}")).collect(),
            (0..width).collect(),
        )
    };
    let grouper = Grouper::new(
        &Grouping::PartialKey(names),
        positions.clone(),
        targets.to_vec(),
        &mut Rng::new(1),
    );
    (grouper, positions)
}

fn send(grouper: &mut Grouper, key: &[Val]) -> u32 {
    let mut out = Vec::new();
    grouper
        .choose(&Values::from(key.to_vec()), None, &mut out)
        .unwrap();
    assert_eq!(out.len(), 1, "partial key grouping sends each tuple once");
    out[0]
}

#[test]
fn partial_key_candidates_and_first_two_sends_match_storm() {
    let keys: Vec<Vec<Val>> = tuples().into_iter().filter(|t| !t.is_empty()).collect();
    let counts = [1usize, 2, 3, 4, 5, 7, 8, 10, 16];
    let mut commands = Vec::new();
    let mut cases = Vec::new();
    for key in &keys {
        for n in counts {
            let targets = task_ids(n);
            let ids: Vec<String> = targets.iter().map(u32::to_string).collect();
            commands.push(format!("draw {n} {}", tokens(key)));
            commands.push(format!("pk_start fields {}", ids.join(" ")));
            commands.push(format!("pk_send {}", tokens(key)));
            commands.push(format!("pk_send {}", tokens(key)));
            cases.push((key, n, targets));
        }
    }
    let answers = ask(&commands);
    for ((key, n, targets), java) in cases.iter().zip(answers.chunks(4)) {
        let what = format!("{key:?} over tasks {targets:?}");
        let (mut grouper, positions) = partial_key_grouper(targets, key.len(), false);
        let draw = partial_key_draw(
            &partial_key_bytes(&Values::from(key.to_vec()), &positions),
            *n,
        );
        assert_eq!(
            format!("{} {} {}", draw.seed, draw.first, draw.second),
            java[0],
            "seed, first and second candidate of {what}"
        );
        assert_eq!(java[1], "ok");
        let first = send(&mut grouper, key);
        let second = send(&mut grouper, key);
        assert_eq!(first.to_string(), java[2], "first send of {what}");
        assert_eq!(second.to_string(), java[3], "second send of {what}");
    }
}

/// A stream of keys through one grouping: repeats, so the balancing by each candidate's
/// load decides, and keys of every kind.
fn key_stream(width: usize) -> Vec<Vec<Val>> {
    let s = scalars();
    let vocabulary: Vec<Vec<Val>> = (0..12)
        .map(|i| {
            (0..width)
                .map(|j| s[(i * 3 + j * 5) % s.len()].clone())
                .collect()
        })
        .collect();
    (0..240usize)
        .map(|i| vocabulary[(i * i + 3 * i) % vocabulary.len()].clone())
        .collect()
}

fn stream_matches_storm(text: bool, width: usize) {
    // Storm's text key is `toString().getBytes()` of the first value; Java throws on a
    // null there, so the text stream leaves nulls out.
    let keys: Vec<Vec<Val>> = key_stream(width)
        .into_iter()
        .filter(|k| !text || !matches!(k[0], Val::Null))
        .collect();
    let mode = if text { "text" } else { "fields" };
    let counts = [2usize, 3, 4, 5, 8];
    // One oracle run for every task count: `pk_start` begins a fresh grouping.
    let mut commands = Vec::new();
    for n in counts {
        let ids: Vec<String> = task_ids(n).iter().map(u32::to_string).collect();
        commands.push(format!("pk_start {mode} {}", ids.join(" ")));
        commands.extend(keys.iter().map(|k| format!("pk_send {}", tokens(k))));
    }
    let answers = ask(&commands);
    for (n, answers) in counts.iter().zip(answers.chunks(keys.len() + 1)) {
        let targets = task_ids(*n);
        assert_eq!(answers[0], "ok");
        let (mut grouper, _) = partial_key_grouper(&targets, width, text);
        for (i, (key, java)) in keys.iter().zip(&answers[1..]).enumerate() {
            assert_eq!(
                send(&mut grouper, key).to_string(),
                *java,
                "send {i} of {key:?} over tasks {targets:?} ({mode} key)"
            );
        }
    }
}

#[test]
fn a_stream_of_partial_keys_goes_where_storm_sends_it() {
    stream_matches_storm(false, 1);
    stream_matches_storm(false, 2);
}

#[test]
fn partial_keys_without_fields_use_the_first_values_java_text() {
    // Doubles are where Java's text differs most from a plain rendering ("1.0", "1.0E-7").
    let values: Vec<Val> = scalars()
        .into_iter()
        .filter(|v| !matches!(v, Val::Null))
        .collect();
    let commands: Vec<String> = values
        .iter()
        .map(|v| format!("draw_text 5 {}", token(v)))
        .collect();
    let answers = ask(&commands);
    for (v, java) in values.iter().zip(&answers) {
        let bytes = partial_key_bytes(&Values::One(v.clone()), &[]);
        let draw = partial_key_draw(&bytes, 5);
        assert_eq!(
            format!("{} {} {}", draw.seed, draw.first, draw.second),
            *java,
            "text key {v:?} ({:?})",
            String::from_utf8_lossy(&bytes)
        );
    }
    stream_matches_storm(true, 1);
}
