//! Flux streams to edges: ends, stream ids and groupings.

use std::collections::HashSet;

use serde_norway::Value as Yaml;

use super::encode::{self, show};
use crate::model::{DEFAULT_STREAM, Grouping};

/// One Flux stream: an edge with its stream id and grouping.
pub(super) struct StreamSpec {
    pub(super) from: String,
    pub(super) to: String,
    pub(super) stream: String,
    pub(super) grouping: Grouping,
}

/// Reads the `streams` list; every end must name a spout or bolt in `ids`.
pub(super) fn read_streams(
    list: Option<&Yaml>,
    ids: &HashSet<&str>,
    problems: &mut Vec<String>,
) -> Vec<StreamSpec> {
    let Some(list) = list.filter(|l| !l.is_null()) else {
        return Vec::new();
    };
    let Some(items) = list.as_sequence() else {
        problems.push("'streams' must be a list".into());
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let from = item.get("from").and_then(Yaml::as_str);
        let to = item.get("to").and_then(Yaml::as_str);
        let (Some(from), Some(to)) = (from, to) else {
            problems.push(format!("stream #{} needs 'from' and 'to'", i + 1));
            continue;
        };
        let owner = format!("stream '{from} --> {to}'");
        for end in [from, to] {
            if !ids.contains(end) {
                problems.push(format!(
                    "{owner}: there is no spout or bolt with id '{end}'"
                ));
            }
        }
        let Some(grouping) = item.get("grouping") else {
            problems.push(format!("{owner}: has no grouping"));
            continue;
        };
        let stream = match grouping.get("streamId") {
            None | Some(Yaml::Null) => DEFAULT_STREAM.to_string(),
            Some(Yaml::String(s)) => s.clone(),
            Some(other) => {
                problems.push(format!(
                    "{owner}: streamId must be text, not {}",
                    show(other)
                ));
                continue;
            }
        };
        if let Some(grouping) = read_grouping(&owner, grouping, problems) {
            out.push(StreamSpec {
                from: from.to_string(),
                to: to.to_string(),
                stream,
                grouping,
            });
        }
    }
    out
}

fn read_grouping(owner: &str, grouping: &Yaml, problems: &mut Vec<String>) -> Option<Grouping> {
    let kind = grouping.get("type").and_then(Yaml::as_str);
    let grouping = match kind {
        Some("SHUFFLE") => Grouping::Shuffle,
        Some("ALL") => Grouping::All,
        Some("GLOBAL") => Grouping::Global,
        Some("NONE") => Grouping::None,
        Some("DIRECT") => Grouping::Direct,
        Some("LOCAL_OR_SHUFFLE") => Grouping::LocalOrShuffle,
        Some("FIELDS") => {
            let fields: Option<Vec<String>> = grouping
                .get("args")
                .and_then(Yaml::as_sequence)
                .and_then(|a| a.iter().map(|f| f.as_str().map(str::to_string)).collect());
            match fields {
                Some(f) if !f.is_empty() => Grouping::Fields(f),
                _ => {
                    problems.push(format!(
                        "{owner}: a FIELDS grouping needs args listing field names, e.g. args: [\"word\"]"
                    ));
                    return None;
                }
            }
        }
        Some("CUSTOM") => {
            let custom = grouping.get("customClass").and_then(Yaml::as_mapping);
            let Some((class, custom)) = custom.and_then(|c| {
                c.get("className")
                    .and_then(Yaml::as_str)
                    .map(|class| (class, c))
            }) else {
                problems.push(format!(
                    "{owner}: a CUSTOM grouping needs customClass with a className"
                ));
                return None;
            };
            let mut args = custom.clone();
            args.remove("className");
            if args.is_empty() {
                Grouping::Custom(class.to_string())
            } else {
                match encode::to_json(&args) {
                    Ok(json) => Grouping::Custom(format!("{class} {json}")),
                    Err(e) => {
                        problems.push(format!("{owner}: customClass cannot be kept: {e}"));
                        return None;
                    }
                }
            }
        }
        other => {
            problems.push(format!(
                "{owner}: grouping type {} is not one of SHUFFLE, FIELDS, ALL, GLOBAL, NONE, DIRECT, LOCAL_OR_SHUFFLE, CUSTOM",
                other.map_or("(missing)".to_string(), |t| format!("'{t}'"))
            ));
            return None;
        }
    };
    Some(grouping)
}
