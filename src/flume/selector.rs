//! Channel selectors: which of a source's channels get an event, and which of those are
//! merely best-effort.
//!
//! Channels are named by their index in the source's channel list (the order the
//! [`super::ChannelProcessor`] was given them).

use std::collections::{BTreeMap, BTreeSet};

use super::Event;

/// Flume's channel selectors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChannelSelector {
    /// Every channel gets every event; `optional` ones are best-effort
    /// (`selector.optional`). A channel listed in both counts as required.
    Replicating {
        channels: Vec<usize>,
        optional: BTreeSet<usize>,
    },
    /// Routes on the value of one header (`selector.header`).
    Multiplexing {
        header: String,
        /// `mapping.<value>`: required channels per header value (sets may overlap).
        mapping: BTreeMap<String, BTreeSet<usize>>,
        /// `optional.<value>`: best-effort channels per header value.
        optional: BTreeMap<String, BTreeSet<usize>>,
        /// `default`: channels for a missing header, an unmapped value, or a value with
        /// only optional channels.
        default: BTreeSet<usize>,
    },
}

/// The channels one event goes to.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Selection {
    /// Written first, each in its own transaction; any failure fails the whole put.
    pub required: Vec<usize>,
    /// Written last; failures are ignored.
    pub optional: Vec<usize>,
}

impl ChannelSelector {
    /// Replicating over `channels` with no optional ones.
    pub fn replicating(channels: impl IntoIterator<Item = usize>) -> Self {
        ChannelSelector::Replicating {
            channels: channels.into_iter().collect(),
            optional: BTreeSet::new(),
        }
    }

    pub fn select(&self, event: &Event) -> Selection {
        match self {
            ChannelSelector::Replicating { channels, optional } => {
                let required: Vec<usize> = channels
                    .iter()
                    .copied()
                    .filter(|c| !optional.contains(c))
                    .collect();
                // An optional channel that is not also required (it never is here, since
                // required = all minus optional) is best-effort.
                Selection {
                    required,
                    optional: channels
                        .iter()
                        .copied()
                        .filter(|c| optional.contains(c))
                        .collect(),
                }
            }
            ChannelSelector::Multiplexing {
                header,
                mapping,
                optional,
                default,
            } => {
                let value = event.headers.get(header);
                let required = value
                    .and_then(|v| mapping.get(v))
                    .filter(|set| !set.is_empty())
                    .unwrap_or(default);
                let optional = value
                    .and_then(|v| optional.get(v))
                    .map(|set| {
                        set.iter()
                            .copied()
                            .filter(|c| !required.contains(c))
                            .collect()
                    })
                    .unwrap_or_default();
                Selection {
                    required: required.iter().copied().collect(),
                    optional,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(items: &[usize]) -> BTreeSet<usize> {
        items.iter().copied().collect()
    }

    fn mux() -> ChannelSelector {
        let mut mapping = BTreeMap::new();
        mapping.insert("error".to_string(), set(&[0, 1]));
        mapping.insert("warn".to_string(), set(&[1]));
        let mut optional = BTreeMap::new();
        optional.insert("error".to_string(), set(&[1, 2]));
        optional.insert("debug".to_string(), set(&[3]));
        ChannelSelector::Multiplexing {
            header: "level".into(),
            mapping,
            optional,
            default: set(&[4]),
        }
    }

    fn level(v: &str) -> Event {
        Event::new("x").with_header("level", v)
    }

    #[test]
    fn replicating_sends_everywhere_with_optional_best_effort() {
        let s = ChannelSelector::Replicating {
            channels: vec![0, 1, 2],
            optional: set(&[2]),
        };
        let sel = s.select(&Event::new("x"));
        assert_eq!(sel.required, [0, 1]);
        assert_eq!(sel.optional, [2]);
    }

    #[test]
    fn multiplexing_maps_header_values_to_required_channels() {
        assert_eq!(mux().select(&level("warn")).required, [1]);
        assert_eq!(mux().select(&level("warn")).optional, Vec::<usize>::new());
    }

    #[test]
    fn unmatched_or_missing_header_goes_to_default() {
        assert_eq!(mux().select(&level("info")).required, [4]);
        assert_eq!(mux().select(&Event::new("x")).required, [4]);
    }

    #[test]
    fn a_channel_both_required_and_optional_counts_as_required() {
        let sel = mux().select(&level("error"));
        assert_eq!(sel.required, [0, 1]);
        assert_eq!(sel.optional, [2]);
    }

    #[test]
    fn a_value_with_only_optional_channels_goes_to_default_plus_optional() {
        let sel = mux().select(&level("debug"));
        assert_eq!(sel.required, [4]);
        assert_eq!(sel.optional, [3]);
    }
}
