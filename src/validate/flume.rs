//! Rules of Flume's own structures: a source's channel selector (one style for all its
//! links, and the header a multiplexing selector routes on) and sink groups (sinks that
//! exist, one group per sink, unique failover priorities for members only).
//!
//! What the running agents would refuse beyond these (shared avro ports, folders, rates,
//! memory totals) is in `flume_run`.

use std::collections::{BTreeSet, HashMap};

use super::diagnostic::{Diagnostic, Location};
use super::node_loc;
use crate::model::{Grouping, Role, SinkProcessor, Topology};

/// A source's links into channels must all be replicating-style or all multiplexing-style.
pub(super) fn check_selectors(t: &Topology, out: &mut Vec<Diagnostic>) {
    for index in t.node_indices() {
        let Some(node) = t.node(index) else { continue };
        let links: Vec<&Grouping> = t
            .outputs(index)
            .map(|(_, _, e)| &e.grouping)
            .filter(|g| g.is_channel_selector())
            .collect();
        let replicating = links
            .iter()
            .any(|g| matches!(g, Grouping::Required | Grouping::Optional));
        let multiplexing = links.iter().any(|g| {
            matches!(
                g,
                Grouping::Mapped(_) | Grouping::MappedOptional(_) | Grouping::Default
            )
        });
        if replicating && multiplexing {
            out.push(Diagnostic::error(
                node_loc(node),
                "mixes replicating links (Required/Optional) with multiplexing links (Mapped/Default)",
                "a Flume source has one channel selector: use one style for all its channels",
            ));
        }
        if multiplexing && !node.config.contains_key("selector.header") && node.role == Role::Source
        {
            // The Flume agent refuses to start without it: an error, not a warning.
            out.push(Diagnostic::error(
                node_loc(node),
                "multiplexing links, but no 'selector.header' setting says which header to route on",
                "set selector.header in the node's config",
            ));
        }
    }
}

pub(super) fn check_sink_groups(t: &Topology, out: &mut Vec<Diagnostic>) {
    let mut owner: HashMap<&str, &str> = HashMap::new();
    let names = t.name_index();
    for group in &t.sink_groups {
        let members: BTreeSet<&str> = group.sinks.iter().map(String::as_str).collect();
        let loc = || Location::SinkGroup(group.name.clone());
        if group.sinks.is_empty() {
            out.push(Diagnostic::error(
                loc(),
                "sink group has no sinks",
                "list at least one sink",
            ));
        }
        for sink in &group.sinks {
            match names.get(sink.as_str()).and_then(|&i| t.node(i)) {
                None => out.push(Diagnostic::error(
                    loc(),
                    format!("sink group lists missing node '{sink}'"),
                    "add the sink or remove it from the group",
                )),
                Some(n) if n.role != Role::Sink => out.push(Diagnostic::error(
                    loc(),
                    format!("'{sink}' is a {}, not a sink", n.role),
                    "sink groups hold sinks only",
                )),
                Some(_) => {}
            }
            if let Some(other) = owner.insert(sink, &group.name) {
                out.push(Diagnostic::error(
                    loc(),
                    format!("sink '{sink}' is also in group '{other}'"),
                    "a sink belongs to at most one group",
                ));
            }
        }
        if let SinkProcessor::Failover { priorities, .. } = &group.processor {
            let mut seen: HashMap<i32, &str> = HashMap::new();
            for (sink, p) in priorities {
                if let Some(other) = seen.insert(*p, sink) {
                    out.push(Diagnostic::error(
                        loc(),
                        format!("sinks '{other}' and '{sink}' share priority {p}"),
                        "failover priorities must be unique",
                    ));
                }
                if !members.contains(sink.as_str()) {
                    out.push(Diagnostic::error(
                        loc(),
                        format!("priority given for '{sink}', which is not in the group"),
                        "add it to the group or remove its priority",
                    ));
                }
            }
        }
    }
}
