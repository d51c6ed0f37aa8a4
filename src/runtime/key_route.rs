//! The grouping lens's explainer: for a key a learner types on a fields or partial-key
//! edge, which task(s) it goes to and why, step by step in Storm's own terms.
//!
//! It calls the very functions routing calls (`fields_index`, `deep_hash`,
//! `floor_mod`, `partial_key_bytes`, `partial_key_draw`), so the lens cannot explain a
//! rule the engine does not follow.

use std::collections::BTreeMap;

use crate::model::{Grouping, Topology};

use super::error::RunError;

use super::routing::{deep_hash, fields_index, floor_mod, partial_key_bytes, partial_key_draw};
use super::tuple::{Val, Values};

/// Every Storm node's task ids as a record-at-a-time run numbers them (the plan of the
/// topology's Storm half), so the lens can label tasks before anything runs.
pub fn task_ids(topology: &Topology) -> Result<BTreeMap<String, Vec<u32>>, RunError> {
    let split = super::flume_bridge::view::split(topology)?;
    let plan = super::plan::compile(&split.storm)?;
    Ok(plan
        .nodes
        .iter()
        .map(|n| (n.node.name.clone(), n.tasks.clone().collect()))
        .collect())
}

/// Reads one typed key value the way a component would emit it: a whole number as a
/// `Long`, a decimal number as a `Double`, `true`/`false` as a `Boolean`, anything else
/// (or anything in double quotes) as a `String`. The words say which was chosen, since
/// `42` and `"42"` hash differently.
pub fn parse_key(text: &str) -> Val {
    let t = text.trim();
    if let Some(inner) = t.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
        return Val::str(inner);
    }
    if let Ok(i) = t.parse::<i64>() {
        return Val::Int(i);
    }
    if t.contains('.')
        && let Ok(x) = t.parse::<f64>()
    {
        return Val::Float(x);
    }
    match t {
        "true" => Val::Bool(true),
        "false" => Val::Bool(false),
        _ => Val::str(text),
    }
}

/// A value as Java code would write its hash: `"hello".hashCode()`, `Long.hashCode(42)`.
fn hash_call(v: &Val) -> String {
    match v {
        Val::Null => "null (hash 0)".to_string(),
        Val::Bool(b) => format!("Boolean.hashCode({b})"),
        Val::Int(i) => format!("Long.hashCode({i})"),
        Val::Float(x) => format!("Double.hashCode({x:?})"),
        Val::Str(s) => format!("{:?}.hashCode()", s.as_str()),
    }
}

/// Where a key goes on one edge, and the steps that decide it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRoute {
    /// The task(s) the key can go to: one for fields grouping, the two candidates (in
    /// draw order) for partial key.
    pub tasks: Vec<u32>,
    /// One line per step, in Storm's terms.
    pub steps: Vec<String>,
    /// The line that says what the result means.
    pub verdict: String,
}

/// Explains where `key` (one value per grouping field, in order) goes among `targets`
/// (the consumer's task ids, ascending). `None` for groupings that do not route by key,
/// or with no target.
pub fn explain(grouping: &Grouping, key: &[Val], targets: &[u32]) -> Option<KeyRoute> {
    let n = targets.len();
    if n == 0 {
        return None;
    }
    let mut steps: Vec<String> = key
        .iter()
        .map(|v| format!("{} = {}", hash_call(v), v.java_hash()))
        .collect();
    match grouping {
        Grouping::Fields(_) => {
            let h = deep_hash(key);
            steps.push(format!(
                "Arrays.deepHashCode(key) = {h}  (h = 31·h + each hash, from 1)"
            ));
            let index = fields_index(key, n);
            debug_assert_eq!(index, floor_mod(h, n));
            steps.push(format!("Math.floorMod({h}, {n} tasks) = {index}"));
            let task = targets[index];
            steps.push(format!("task index {index} is task {task}"));
            Some(KeyRoute {
                tasks: vec![task],
                steps,
                verdict: format!("Every tuple with this key goes to task {task}."),
            })
        }
        Grouping::PartialKey(fields) => {
            let values = Values::Many(key.to_vec().into_boxed_slice());
            let positions: Vec<usize> = if fields.is_empty() {
                Vec::new()
            } else {
                (0..key.len()).collect()
            };
            let bytes = partial_key_bytes(&values, &positions);
            if positions.is_empty() {
                steps.clear();
                steps.push(format!(
                    "no key fields: the first value's text, {} bytes",
                    bytes.len()
                ));
            } else {
                steps.push(format!(
                    "each hash as 4 bytes, big-endian: {} bytes",
                    bytes.len()
                ));
            }
            let draw = partial_key_draw(&bytes, n);
            steps.push(format!(
                "Arrays.hashCode(bytes) = {} seeds java.util.Random",
                draw.seed
            ));
            steps.push(format!("nextInt({n}) = {}: first candidate", draw.first));
            if draw.drawn == draw.first {
                steps.push(format!(
                    "nextInt({n}) = {} again, so the next index, {}: second candidate",
                    draw.drawn, draw.second
                ));
            } else {
                steps.push(format!("nextInt({n}) = {}: second candidate", draw.second));
            }
            let (a, b) = (targets[draw.first], targets[draw.second]);
            let tasks = if a == b { vec![a] } else { vec![a, b] };
            let verdict = if tasks.len() == 1 {
                format!("Only one task: every tuple with this key goes to task {a}.")
            } else {
                format!(
                    "Candidates: task {a} and task {b}. Each sender sends the tuple to \
                     whichever of the two it has sent fewer tuples so far (task {a} on a tie)."
                )
            };
            Some(KeyRoute {
                tasks,
                steps,
                verdict,
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::rng::Rng;
    use crate::runtime::routing::Grouper;

    #[test]
    fn task_ids_number_nodes_as_the_plan_does() {
        use crate::model::{Node, Role, StreamDecl};
        let mut t = Topology::new("t");
        t.add_node(
            Node::new("b", Role::Spout, "sequence").with_output(StreamDecl::default_stream(&["n"])),
        )
        .unwrap();
        let mut sink = Node::new("a", Role::Bolt, "collector").with_parallelism(2);
        sink.tasks = Some(3);
        t.add_node(sink).unwrap();
        t.connect_names("b", "a", "default", Grouping::Shuffle)
            .unwrap();
        let ids = task_ids(&t).unwrap();
        assert_eq!(ids["a"], [1, 2, 3]);
        assert_eq!(ids["b"], [4]);
    }

    #[test]
    fn typed_keys_read_as_a_component_would_emit_them() {
        assert_eq!(parse_key("hello"), Val::str("hello"));
        assert_eq!(parse_key("42"), Val::Int(42));
        assert_eq!(parse_key("\"42\""), Val::str("42"));
        assert_eq!(parse_key("2.5"), Val::Float(2.5));
        assert_eq!(parse_key("true"), Val::Bool(true));
    }

    #[test]
    fn fields_explains_the_task_of_the_routing_test() {
        // The routing unit test: deepHashCode(["hello"]) = 99162353; mod 3 = 2 → task 7.
        let g = Grouping::Fields(vec!["w".into()]);
        let r = explain(&g, &[Val::str("hello")], &[5, 6, 7]).unwrap();
        assert_eq!(r.tasks, [7]);
        assert!(r.steps.iter().any(|s| s.contains("99162322")), "{r:?}");
        assert!(r.steps.iter().any(|s| s.contains("= 99162353")), "{r:?}");
        assert!(
            r.steps
                .iter()
                .any(|s| s.contains("floorMod(99162353, 3 tasks) = 2")),
            "{r:?}"
        );
    }

    #[test]
    fn the_explained_task_is_the_one_the_grouper_picks() {
        let targets: Vec<u32> = (3..10).collect();
        for grouping in [
            Grouping::Fields(vec!["a".into(), "b".into()]),
            Grouping::PartialKey(vec!["a".into(), "b".into()]),
        ] {
            for i in 0..200i64 {
                let key = [Val::str(&format!("k{i}")), Val::Int(i * 7919 - 500)];
                let r = explain(&grouping, &key, &targets).unwrap();
                let mut g = Grouper::new(&grouping, vec![0, 1], targets.clone(), &mut Rng::new(1));
                let values = Values::Many(key.to_vec().into_boxed_slice());
                let mut out = Vec::new();
                // A fresh sender picks the first candidate; after one send, the other.
                g.choose(&values, None, &mut out).unwrap();
                g.choose(&values, None, &mut out).unwrap();
                assert_eq!(out[0], r.tasks[0], "{grouping:?} {i}");
                let mut used: Vec<u32> = out.clone();
                used.sort_unstable();
                used.dedup();
                let mut told = r.tasks.clone();
                told.sort_unstable();
                assert_eq!(used, told, "{grouping:?} {i}");
            }
        }
    }

    #[test]
    fn partial_key_gives_two_distinct_candidates_and_other_groupings_none() {
        let g = Grouping::PartialKey(vec!["w".into()]);
        let r = explain(&g, &[Val::str("hello")], &[1, 2, 3, 4]).unwrap();
        assert_eq!(r.tasks.len(), 2);
        assert_ne!(r.tasks[0], r.tasks[1]);
        assert!(r.verdict.contains("fewer"), "{}", r.verdict);
        let one = explain(&g, &[Val::str("hello")], &[9]).unwrap();
        assert_eq!(one.tasks, [9]);
        assert!(explain(&Grouping::Shuffle, &[Val::str("x")], &[1, 2]).is_none());
        assert!(explain(&Grouping::Fields(vec![]), &[Val::str("x")], &[]).is_none());
    }
}
