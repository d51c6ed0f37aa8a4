//! Merging an included Flux file into the including one, as Flux does: components,
//! spouts and bolts by id, streams appended, config keys and other sections added; with
//! `override` the included file wins where both define something.
//!
//! Lookups go through hash sets and maps, so a merge costs time linear in the two
//! documents, however many ids or streams they hold.

use std::collections::{HashMap, HashSet};

use serde_norway::{Mapping, Value as Yaml};

/// Merges `included` into `doc`.
pub(super) fn merge(doc: &mut Mapping, included: Mapping, override_: bool) {
    for (key, value) in included {
        let name = key.as_str().unwrap_or_default().to_string();
        match name.as_str() {
            "components" | "spouts" | "bolts" => merge_by_id(doc, key, value, override_),
            "streams" => {
                let entry = doc.entry(key).or_insert_with(|| Yaml::Sequence(Vec::new()));
                if let (Some(mine), Yaml::Sequence(theirs)) = (entry.as_sequence_mut(), value) {
                    let mut known: HashSet<Yaml> = mine.iter().cloned().collect();
                    for stream in theirs {
                        if known.insert(stream.clone()) {
                            mine.push(stream);
                        }
                    }
                }
            }
            "config" => {
                let entry = doc
                    .entry(key)
                    .or_insert_with(|| Yaml::Mapping(Mapping::new()));
                if let (Some(mine), Yaml::Mapping(theirs)) = (entry.as_mapping_mut(), value) {
                    for (k, v) in theirs {
                        if override_ || !mine.contains_key(&k) {
                            mine.insert(k, v);
                        }
                    }
                }
            }
            _ => {
                if override_ || !doc.contains_key(&key) {
                    doc.insert(key, value);
                }
            }
        }
    }
}

fn merge_by_id(doc: &mut Mapping, key: Yaml, value: Yaml, override_: bool) {
    let entry = doc.entry(key).or_insert_with(|| Yaml::Sequence(Vec::new()));
    let (Some(mine), Yaml::Sequence(theirs)) = (entry.as_sequence_mut(), value) else {
        return;
    };
    // The first item with a given id is the one a later include replaces or keeps.
    let mut position: HashMap<Yaml, usize> = HashMap::new();
    for (i, item) in mine.iter().enumerate() {
        if let Some(id) = item.get("id") {
            position.entry(id.clone()).or_insert(i);
        }
    }
    for item in theirs {
        let id = item.get("id").cloned();
        match id.as_ref().and_then(|id| position.get(id).copied()) {
            Some(i) if override_ => mine[i] = item,
            Some(_) => {}
            None => {
                if let Some(id) = id {
                    position.insert(id, mine.len());
                }
                mine.push(item);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(text: &str) -> Mapping {
        serde_norway::from_str(text).unwrap()
    }

    #[test]
    fn ids_merge_once_and_override_replaces() {
        let mut doc = yaml("bolts: [{id: a, n: 1}]\nstreams: [{from: a, to: b}]\n");
        merge(
            &mut doc,
            yaml(
                "bolts: [{id: a, n: 2}, {id: b, n: 3}, {id: b, n: 4}]\nstreams: [{from: a, to: b}, {from: b, to: a}]\n",
            ),
            false,
        );
        assert_eq!(
            doc,
            yaml(
                "bolts: [{id: a, n: 1}, {id: b, n: 3}]\nstreams: [{from: a, to: b}, {from: b, to: a}]\n"
            )
        );
        merge(&mut doc, yaml("bolts: [{id: b, n: 5}]\nname: x\n"), true);
        assert_eq!(
            doc,
            yaml(
                "bolts: [{id: a, n: 1}, {id: b, n: 5}]\nstreams: [{from: a, to: b}, {from: b, to: a}]\nname: x\n"
            )
        );
    }

    #[test]
    fn config_keys_are_added_and_overridden_only_when_asked() {
        let mut doc = yaml("config: {a: 1}\n");
        merge(&mut doc, yaml("config: {a: 2, b: 3}\n"), false);
        assert_eq!(doc, yaml("config: {a: 1, b: 3}\n"));
        merge(&mut doc, yaml("config: {a: 4}\n"), true);
        assert_eq!(doc, yaml("config: {a: 4, b: 3}\n"));
    }
}
