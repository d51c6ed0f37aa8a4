//! A source's channel selector, turned into the kinds of its links to channels.

use std::collections::{BTreeMap, HashSet};

use super::entries::take;
use crate::model::Grouping;

/// The source's channels with the selector's verdict on each. Replicating selectors give
/// Required/Optional links; multiplexing ones Mapped/MappedOptional/Default (a channel
/// in no mapping gets `Mapped([])`). Custom selectors keep their properties as config.
pub(super) fn source_links(
    owner: &str,
    rest: &mut Vec<(String, String)>,
    declared: &HashSet<String>,
    problems: &mut Vec<String>,
) -> Vec<(String, Grouping)> {
    let mut channels: Vec<String> = Vec::new();
    let mut own: HashSet<String> = HashSet::new();
    for ch in take(rest, "channels")
        .unwrap_or_default()
        .split_whitespace()
    {
        if own.insert(ch.to_string()) {
            channels.push(ch.to_string());
        }
    }
    if channels.is_empty() {
        problems.push(format!(
            "{owner} has no channels; a source puts into one or more"
        ));
    }
    for ch in &channels {
        if !declared.contains(ch) {
            problems.push(format!(
                "{owner} puts into channel '{ch}', which the agent does not declare"
            ));
        }
    }
    let kind = rest
        .iter()
        .rev()
        .find(|(p, _)| p == "selector.type")
        .map(|(_, v)| v.to_ascii_lowercase());
    let split = |v: &str| v.split_whitespace().map(str::to_string).collect::<Vec<_>>();
    let check = |names: &[String], what: &str, problems: &mut Vec<String>| {
        for ch in names.iter().filter(|c| !own.contains(*c)) {
            problems.push(format!(
                "{owner}: selector {what} names channel '{ch}', which is not in the source's channels"
            ));
        }
    };
    match kind.as_deref() {
        None | Some("replicating") => {
            take(rest, "selector.type");
            let optional = split(&take(rest, "selector.optional").unwrap_or_default());
            check(&optional, "optional", problems);
            channels
                .iter()
                .map(|ch| {
                    let g = if optional.contains(ch) {
                        Grouping::Optional
                    } else {
                        Grouping::Required
                    };
                    (ch.clone(), g)
                })
                .collect()
        }
        Some("multiplexing") => {
            take(rest, "selector.type");
            let mut mapped: BTreeMap<String, Vec<String>> = BTreeMap::new();
            let mut optional: BTreeMap<String, Vec<String>> = BTreeMap::new();
            let mut default = Vec::new();
            let mut kept = Vec::new();
            for (p, v) in rest.drain(..) {
                if let Some(value) = p.strip_prefix("selector.mapping.") {
                    let listed = split(&v);
                    check(&listed, &format!("mapping '{value}'"), problems);
                    for ch in listed {
                        mapped.entry(ch).or_default().push(value.to_string());
                    }
                } else if let Some(value) = p.strip_prefix("selector.optional.") {
                    let listed = split(&v);
                    check(&listed, &format!("optional mapping '{value}'"), problems);
                    for ch in listed {
                        optional.entry(ch).or_default().push(value.to_string());
                    }
                } else if p == "selector.default" {
                    default = split(&v);
                    check(&default, "default", problems);
                } else {
                    kept.push((p, v));
                }
            }
            *rest = kept;
            let mut links = Vec::new();
            for ch in &channels {
                let mut any = false;
                if let Some(values) = mapped.get_mut(ch) {
                    values.sort();
                    values.dedup();
                    links.push((ch.clone(), Grouping::Mapped(values.clone())));
                    any = true;
                }
                if let Some(values) = optional.get_mut(ch) {
                    values.sort();
                    values.dedup();
                    links.push((ch.clone(), Grouping::MappedOptional(values.clone())));
                    any = true;
                }
                if default.contains(ch) {
                    links.push((ch.clone(), Grouping::Default));
                    any = true;
                }
                if !any {
                    links.push((ch.clone(), Grouping::Mapped(Vec::new())));
                }
            }
            links
        }
        Some(_) => channels
            .iter()
            .map(|ch| (ch.clone(), Grouping::Required))
            .collect(),
    }
}
