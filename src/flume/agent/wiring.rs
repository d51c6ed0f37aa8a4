//! How a source's outgoing edges become its [`ChannelProcessor`]: the channels it writes
//! to, in name order, and the channel selector the edges' groupings ask for (replicating
//! with optional channels, or multiplexing on a header), plus its interceptors.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use petgraph::stable_graph::NodeIndex;

use super::build::ChannelsAt;
use super::{BuildError, node_err};
use crate::clock::Clock;
use crate::flume::channel::Channel;
use crate::flume::channel_processor::ChannelProcessor;
use crate::flume::interceptor::InterceptorChain;
use crate::flume::selector::ChannelSelector;
use crate::flume::util::Conf;
use crate::model::{Grouping, Topology};

/// The selector and channels of one source, from its outgoing edges.
pub(super) fn processor_for(
    topology: &Topology,
    index: NodeIndex,
    channel_at: &ChannelsAt,
    clock: &Arc<dyn Clock>,
) -> Result<ChannelProcessor, BuildError> {
    let Some(node) = topology.node(index) else {
        return Err(node_err("?", "node vanished"));
    };
    let mut links: Vec<(String, NodeIndex, Grouping)> = topology
        .outputs(index)
        .filter(|(_, to, _)| channel_at.contains_key(to))
        .filter_map(|(_, to, e)| {
            topology
                .node(to)
                .map(|n| (n.name.clone(), to, e.grouping.clone()))
        })
        .collect();
    // Channel order by name, so a run is the same whatever order edges were added in.
    links.sort_by(|a, b| a.0.cmp(&b.0));
    if links.is_empty() {
        return Err(node_err(&node.name, "a source needs at least one channel"));
    }
    let channels: Vec<Arc<dyn Channel>> = links
        .iter()
        .filter_map(|(_, to, _)| channel_at.get(to).cloned())
        .collect();
    let multiplexing = links.iter().any(|(_, _, g)| {
        matches!(
            g,
            Grouping::Mapped(_) | Grouping::MappedOptional(_) | Grouping::Default
        )
    });
    let selector = if multiplexing {
        let header = Conf(&node.config).str("selector.header").ok_or_else(|| {
            node_err(
                &node.name,
                "multiplexing links need a 'selector.header' setting naming the header to route on",
            )
        })?;
        let mut mapping: BTreeMap<String, BTreeSet<usize>> = BTreeMap::new();
        let mut optional: BTreeMap<String, BTreeSet<usize>> = BTreeMap::new();
        let mut default = BTreeSet::new();
        for (i, (_, _, g)) in links.iter().enumerate() {
            match g {
                Grouping::Mapped(values) => values.iter().for_each(|v| {
                    mapping.entry(v.clone()).or_default().insert(i);
                }),
                Grouping::MappedOptional(values) => values.iter().for_each(|v| {
                    optional.entry(v.clone()).or_default().insert(i);
                }),
                Grouping::Default => {
                    default.insert(i);
                }
                other => {
                    return Err(node_err(
                        &node.name,
                        format!(
                            "link to '{}' is {} but the source multiplexes; use Mapped, MappedOptional or Default",
                            links[i].0,
                            other.label()
                        ),
                    ));
                }
            }
        }
        ChannelSelector::Multiplexing {
            header,
            mapping,
            optional,
            default,
        }
    } else {
        ChannelSelector::Replicating {
            channels: (0..links.len()).collect(),
            optional: links
                .iter()
                .enumerate()
                .filter(|(_, (_, _, g))| *g == Grouping::Optional)
                .map(|(i, _)| i)
                .collect(),
        }
    };
    let interceptors = InterceptorChain::from_config(&node.config, Arc::clone(clock))
        .map_err(|e| node_err(&node.name, e.to_string()))?;
    Ok(ChannelProcessor::new(channels, selector, interceptors))
}
