//! Flume sink groups and their processors.

use std::collections::{BTreeMap, HashSet};

use super::entries::take;
use crate::model::{SinkGroup, SinkProcessor};

/// Flume's default failover penalty and load-balancing timeout.
const DEFAULT_PENALTY_MS: u64 = 30_000;

/// A sink group and the properties it had no place for.
pub(super) fn sink_group(
    here: &str,
    group: &str,
    mut props: Vec<(String, String)>,
    declared_sinks: &HashSet<String>,
    node_name: &dyn Fn(&str) -> String,
    problems: &mut Vec<String>,
) -> (SinkGroup, Vec<(String, String)>) {
    let owner = format!("{here}: sink group '{group}'");
    let sinks: Vec<String> = take(&mut props, "sinks")
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_string)
        .collect();
    if sinks.is_empty() {
        problems.push(format!("{owner} lists no sinks"));
    }
    for s in sinks.iter().filter(|s| !declared_sinks.contains(*s)) {
        problems.push(format!(
            "{owner} lists sink '{s}', which the agent does not declare"
        ));
    }
    let kind = take(&mut props, "processor.type").unwrap_or_else(|| "default".into());
    let parsed = |key: &str, props: &mut Vec<(String, String)>| -> Option<String> {
        props.iter().find(|(p, _)| p == key).map(|(_, v)| v.clone())
    };
    let processor = match kind.to_ascii_lowercase().as_str() {
        "failover" => {
            let mut priorities = BTreeMap::new();
            props.retain(|(p, v)| match p.strip_prefix("processor.priority.") {
                Some(sink) => match v.trim().parse::<i32>() {
                    Ok(n) => {
                        priorities.insert(node_name(sink), n);
                        false
                    }
                    Err(_) => true,
                },
                None => true,
            });
            let max_penalty_ms = match parsed("processor.maxpenalty", &mut props)
                .and_then(|v| v.trim().parse::<u64>().ok())
            {
                Some(ms) => {
                    take(&mut props, "processor.maxpenalty");
                    ms
                }
                None => DEFAULT_PENALTY_MS,
            };
            SinkProcessor::Failover {
                priorities,
                max_penalty_ms,
            }
        }
        "load_balance" => {
            let backoff = match parsed("processor.backoff", &mut props)
                .as_deref()
                .map(str::trim)
            {
                Some("true") => {
                    take(&mut props, "processor.backoff");
                    true
                }
                Some("false") => {
                    take(&mut props, "processor.backoff");
                    false
                }
                _ => false,
            };
            let random = match parsed("processor.selector", &mut props).as_deref() {
                Some("random") => {
                    take(&mut props, "processor.selector");
                    true
                }
                Some("round_robin") => {
                    take(&mut props, "processor.selector");
                    false
                }
                _ => false,
            };
            let max_timeout_ms = match parsed("processor.selector.maxTimeOut", &mut props)
                .and_then(|v| v.trim().parse::<u64>().ok())
            {
                Some(ms) => {
                    take(&mut props, "processor.selector.maxTimeOut");
                    ms
                }
                None => DEFAULT_PENALTY_MS,
            };
            SinkProcessor::LoadBalance {
                random,
                backoff,
                max_timeout_ms,
            }
        }
        "default" => SinkProcessor::Default,
        _ => {
            props.push(("processor.type".into(), kind.clone()));
            SinkProcessor::Default
        }
    };
    (
        SinkGroup {
            name: node_name(group),
            sinks: sinks.iter().map(|s| node_name(s)).collect(),
            processor,
        },
        props,
    )
}
