//! Flume numbers in the engine's snapshot. The designer and the CLI read only
//! [`MetricsSnapshot`], so every Flume node gets ordinary [`NodeMetrics`] (events in as
//! `executed`, events out as `emitted`, channel fill as `queue_depth`/`queue_capacity`,
//! rates over the engine's sliding window) plus a [`FlumeNodeMetrics`] part with what only
//! Flume has: transactions, back-pressure, back-off and fail-over.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use crate::flume::{FlumeSnapshot, NodeStats};
use crate::model::Role;

use super::super::metrics::{
    EdgeMetrics, FlumeChannelMetrics, FlumeNodeMetrics, FlumeSinkMetrics, MetricsSnapshot,
    NodeMetrics,
};

/// How a Flume node looks to the snapshot: its role and component in the topology.
#[derive(Debug, Clone)]
pub struct NodeInfo {
    pub role: Role,
    pub component: String,
}

/// A Flume link as the snapshot lists it.
#[derive(Debug, Clone)]
pub struct LinkInfo {
    pub from: String,
    pub to: String,
    pub stream: String,
    pub grouping: String,
}

/// One reading of the counters: when, per node [emitted, executed, acked, failed,
/// commits, rollbacks], and per link the events that crossed it.
type Sample = (Instant, BTreeMap<String, [u64; 6]>, Vec<u64>);

/// Counter history for Flume rates, so they use the same window as Storm's.
#[derive(Debug)]
pub struct Rates {
    window: Duration,
    history: VecDeque<Sample>,
}

impl Rates {
    pub fn new(window: Duration, start: Instant) -> Self {
        Self {
            window: window.max(Duration::from_millis(100)),
            history: VecDeque::from([(start, BTreeMap::new(), Vec::new())]),
        }
    }
}

fn flume_part(stats: &NodeStats, rates: Option<(f64, f64)>) -> FlumeNodeMetrics {
    FlumeNodeMetrics {
        agent: stats.agent.clone(),
        events_in: stats.events_in,
        events_out: stats.events_out,
        blocked: stats.blocked,
        finished: stats.finished,
        paused: stats.holding,
        channel: stats.channel.map(|c| FlumeChannelMetrics {
            size: c.size,
            in_flight: c.in_flight,
            capacity: c.capacity,
            commits: c.commits,
            rollbacks: c.rollbacks,
            full_failures: c.full_failures,
            bytes: c.bytes,
            byte_capacity: c.byte_capacity,
            io_failures: c.io_failures,
            commit_rate: rates.map_or(0.0, |r| r.0),
            rollback_rate: rates.map_or(0.0, |r| r.1),
        }),
        sink: stats.sink.as_ref().map(|s| FlumeSinkMetrics {
            active: s.active,
            penalized: s.penalty_until_ms.is_some(),
            penalty_until_ms: s.penalty_until_ms,
            sequential_failures: s.sequential_failures,
            in_backoff: s.in_backoff,
            backoffs: s.backoffs,
            failures: s.failures,
        }),
        last_error: stats.last_error.clone(),
        listening: stats.listening.map(|a| a.to_string()),
        too_long: stats.too_long,
        refused_connections: stats.refused_connections,
        fatal: stats.fatal.clone(),
    }
}

/// Totals of one Flume node in Storm's terms: emitted, executed, acked, failed.
fn totals(role: Role, s: &NodeStats) -> [u64; 4] {
    match role {
        Role::Source => [s.events_out, s.events_in, s.events_out, 0],
        Role::Channel => {
            let c = s.channel.unwrap_or_default();
            [
                c.takes_committed,
                c.puts_committed,
                c.takes_committed,
                c.rollbacks,
            ]
        }
        _ => {
            let failures = s.sink.as_ref().map_or(0, |k| k.failures);
            [0, s.events_in, s.events_out, failures]
        }
    }
}

/// Events that crossed a link: what the channel committed when it has one writer or the
/// link is a drain to a sink; otherwise what the source committed to all its channels.
fn link_total(link: &LinkInfo, flume: &FlumeSnapshot, writers: &BTreeMap<&str, usize>) -> u64 {
    let stats = |n: &str| flume.nodes.get(n);
    match stats(&link.to).and_then(|s| s.role) {
        Some(Role::Channel) if writers.get(link.to.as_str()) == Some(&1) => {
            stats(&link.to).map_or(0, |s| s.events_in)
        }
        Some(Role::Channel) => stats(&link.from).map_or(0, |s| s.events_out),
        _ => stats(&link.to).map_or(0, |s| s.events_in),
    }
}

/// Adds the Flume nodes and links to `snap`. Channels that Storm bolts drain already
/// have Storm metrics (their spout's emits, acks and latencies); they get the channel's
/// fill, its puts as `executed`, their own role back and the Flume part.
pub fn fold(
    snap: &mut MetricsSnapshot,
    flume: &FlumeSnapshot,
    info: &BTreeMap<String, NodeInfo>,
    links: &[LinkInfo],
    rates: &mut Rates,
) {
    let now = Instant::now();
    while rates.history.len() > 1 && now.duration_since(rates.history[1].0) >= rates.window {
        rates.history.pop_front();
    }
    let (base_at, base_nodes, base_links) = match rates.history.front() {
        Some((at, n, l)) => (*at, n.clone(), l.clone()),
        None => (now, BTreeMap::new(), Vec::new()),
    };
    let dt = now.duration_since(base_at).as_secs_f64().max(1e-6);
    let rate = |cur: u64, old: u64| cur.saturating_sub(old) as f64 / dt;

    let mut current = BTreeMap::new();
    for (name, stats) in &flume.nodes {
        let Some(node) = info.get(name) else {
            continue;
        };
        let raw = totals(node.role, stats);
        let c = stats.channel.unwrap_or_default();
        let now_raw = [raw[0], raw[1], raw[2], raw[3], c.commits, c.rollbacks];
        let old = base_nodes.get(name).copied().unwrap_or([0; 6]);
        current.insert(name.clone(), now_raw);
        let part = flume_part(
            stats,
            Some((rate(c.commits, old[4]), rate(c.rollbacks, old[5]))),
        );
        let m = snap
            .nodes
            .entry(name.clone())
            .or_insert_with(|| NodeMetrics {
                emitted: raw[0],
                executed: raw[1],
                acked: raw[2],
                failed: raw[3],
                emit_rate: rate(raw[0], old[0]),
                execute_rate: rate(raw[1], old[1]),
                ack_rate: rate(raw[2], old[2]),
                fail_rate: rate(raw[3], old[3]),
                done: node.role == Role::Source && stats.finished,
                ..NodeMetrics::default()
            });
        m.role = node.role.label().to_string();
        m.component = node.component.clone();
        if let Some(ch) = stats.channel {
            // Slots in use, as the capacity check counts them: queued plus taken but
            // not yet committed. Equal to capacity means the channel pushes back.
            m.queue_depth = (ch.size + ch.in_flight) as usize;
            m.queue_capacity = ch.capacity as usize;
            m.executed = raw[1];
            m.execute_rate = rate(raw[1], old[1]);
        }
        m.flume = Some(part);
    }

    let mut writers: BTreeMap<&str, usize> = BTreeMap::new();
    for link in links {
        *writers.entry(link.to.as_str()).or_default() += 1;
    }
    let mut link_now = Vec::with_capacity(links.len());
    for (i, link) in links.iter().enumerate() {
        let total = link_total(link, flume, &writers);
        link_now.push(total);
        snap.edges.push(EdgeMetrics {
            from: link.from.clone(),
            to: link.to.clone(),
            stream: link.stream.clone(),
            grouping: link.grouping.clone(),
            tuples: total,
            rate: rate(total, base_links.get(i).copied().unwrap_or(0)),
            ..Default::default()
        });
    }
    rates.history.push_back((now, current, link_now));
}
