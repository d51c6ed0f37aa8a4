//! Sinks and sink processors: the drain side of a hop.
//!
//! A [`Sink`]'s `process` takes up to a batch from its channel in one transaction,
//! delivers it and commits (`Ready`), reports `Backoff` when there was nothing to do, and
//! returns an error after rolling back when delivery failed. A [`SinkProcessor`] decides
//! which sink of a group runs: `default` (one sink), `failover` (highest-priority live sink,
//! failed sinks cool down exponentially) or `load_balance` (round robin or random, with an
//! optional exponential blacklist). Processors read time from a [`Clock`] so the cool-down
//! rules are testable without sleeping.

use std::collections::BTreeMap;
use std::sync::Arc;

use rand_xoshiro::SplitMix64;
use rand_xoshiro::rand_core::{Rng as _, SeedableRng};
use thiserror::Error;

use crate::clock::Clock;

/// What one `process` call achieved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Delivered a batch; call again at once.
    Ready,
    /// Nothing to deliver; the runner should back off.
    Backoff,
}

/// A delivery failure (Flume's `EventDeliveryException`). The sink has already rolled its
/// transaction back, so the events are back in the channel.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("sink '{sink}': {message}")]
pub struct SinkError {
    pub sink: String,
    pub message: String,
}

/// One sink: drains exactly one channel.
pub trait Sink: Send {
    fn name(&self) -> &str;
    fn process(&mut self) -> Result<Status, SinkError>;
    /// Releases resources (closes files); called once when the runner stops.
    fn stop(&mut self) {}
}

/// How a sink looks to its processor right now, for metrics and the canvas.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SinkSlot {
    pub name: String,
    /// The sink the processor uses next (failover), or any usable sink (others).
    pub active: bool,
    /// Failed over / blacklisted until this time (ms), if it is cooling down.
    pub penalty_until_ms: Option<u64>,
    pub sequential_failures: u32,
}

/// Chooses which sink of a group processes next.
pub enum SinkProcessor {
    Default(Box<dyn Sink>),
    Failover(FailoverProcessor),
    LoadBalance(LoadBalanceProcessor),
}

impl SinkProcessor {
    pub fn process(&mut self) -> Result<Status, SinkError> {
        match self {
            SinkProcessor::Default(sink) => sink.process(),
            SinkProcessor::Failover(p) => p.process(),
            SinkProcessor::LoadBalance(p) => p.process(),
        }
    }

    pub fn slots(&self) -> Vec<SinkSlot> {
        match self {
            SinkProcessor::Default(sink) => vec![SinkSlot {
                name: sink.name().to_string(),
                active: true,
                ..SinkSlot::default()
            }],
            SinkProcessor::Failover(p) => p.slots(),
            SinkProcessor::LoadBalance(p) => p.slots(),
        }
    }

    pub fn stop(&mut self) {
        match self {
            SinkProcessor::Default(sink) => sink.stop(),
            SinkProcessor::Failover(p) => p.sinks.iter_mut().for_each(|s| s.stop()),
            SinkProcessor::LoadBalance(p) => p.sinks.iter_mut().for_each(|s| s.stop()),
        }
    }
}

/// Flume's penalty unit: a failed sink cools down for `2^fails` of these.
const FAILURE_PENALTY_MS: u64 = 1000;

#[derive(Debug, Clone)]
struct FailedSink {
    index: usize,
    fails: u32,
    refresh_ms: u64,
}

/// Flume's `failover` processor.
pub struct FailoverProcessor {
    sinks: Vec<Box<dyn Sink>>,
    priorities: Vec<i32>,
    /// Live sinks by priority; the highest is active.
    live: BTreeMap<i32, usize>,
    /// Cooling-down sinks, kept sorted by refresh time.
    failed: Vec<FailedSink>,
    max_penalty_ms: u64,
    clock: Arc<dyn Clock>,
}

impl FailoverProcessor {
    /// `priorities` by sink name; sinks without one get -1, -2, … in order, as in Flume.
    /// A sink whose priority duplicates another's is left out, as Flume does (validation
    /// reports duplicate priorities as an error before a run).
    pub fn new(
        sinks: Vec<Box<dyn Sink>>,
        priorities: &BTreeMap<String, i32>,
        max_penalty_ms: u64,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let mut next = 0;
        let mut live = BTreeMap::new();
        let mut prios = Vec::with_capacity(sinks.len());
        for (index, sink) in sinks.iter().enumerate() {
            let p = priorities.get(sink.name()).copied().unwrap_or_else(|| {
                next -= 1;
                next
            });
            prios.push(p);
            live.entry(p).or_insert(index);
        }
        Self {
            sinks,
            priorities: prios,
            live,
            failed: Vec::new(),
            max_penalty_ms,
            clock,
        }
    }

    fn penalty(&self, fails: u32) -> u64 {
        let factor = 1u64.checked_shl(fails).unwrap_or(u64::MAX);
        self.max_penalty_ms
            .min(factor.saturating_mul(FAILURE_PENALTY_MS))
    }

    fn add_failed(&mut self, index: usize, fails: u32) {
        let refresh_ms = self.clock.now_ms().saturating_add(self.penalty(fails));
        self.failed.push(FailedSink {
            index,
            fails,
            refresh_ms,
        });
        self.failed.sort_by_key(|f| f.refresh_ms);
    }

    fn active(&self) -> Option<usize> {
        self.live.last_key_value().map(|(_, &i)| i)
    }

    pub fn process(&mut self) -> Result<Status, SinkError> {
        // First retry failed sinks whose cool-down has expired.
        let now = self.clock.now_ms();
        while self.failed.first().is_some_and(|f| f.refresh_ms < now) {
            let mut cur = self.failed.remove(0);
            match self.sinks[cur.index].process() {
                Ok(Status::Ready) => {
                    self.live.insert(self.priorities[cur.index], cur.index);
                    return Ok(Status::Ready);
                }
                Ok(Status::Backoff) => {
                    // Not a failure: it stays out, without extra penalty.
                    self.failed.push(cur);
                    self.failed.sort_by_key(|f| f.refresh_ms);
                    return Ok(Status::Backoff);
                }
                Err(_) => {
                    cur.fails = cur.fails.saturating_add(1);
                    self.add_failed(cur.index, cur.fails);
                }
            }
        }
        while let Some(index) = self.active() {
            match self.sinks[index].process() {
                Ok(status) => return Ok(status),
                Err(_) => {
                    self.live.remove(&self.priorities[index]);
                    self.add_failed(index, 1);
                }
            }
        }
        Err(SinkError {
            sink: "failover group".into(),
            message: "all sinks failed to process, nothing left to fail over to".into(),
        })
    }

    pub fn slots(&self) -> Vec<SinkSlot> {
        let active = self.active();
        self.sinks
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let failed = self.failed.iter().find(|f| f.index == i);
                SinkSlot {
                    name: s.name().to_string(),
                    active: Some(i) == active,
                    penalty_until_ms: failed.map(|f| f.refresh_ms),
                    sequential_failures: failed.map_or(0, |f| f.fails),
                }
            })
            .collect()
    }
}

/// Flume's load-balancing order selectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selection {
    RoundRobin,
    Random,
}

#[derive(Debug, Clone, Default)]
struct BackoffState {
    fails: u32,
    last_fail_ms: u64,
    restore_ms: u64,
}

/// Flume's `load_balance` processor.
pub struct LoadBalanceProcessor {
    sinks: Vec<Box<dyn Sink>>,
    selection: Selection,
    backoff: bool,
    max_timeout_ms: u64,
    states: Vec<BackoffState>,
    next_head: usize,
    /// Seeded draws for `Selection::Random` (SplitMix64 from `rand_xoshiro`), so a seed
    /// gives the same order of tries.
    rng: SplitMix64,
    clock: Arc<dyn Clock>,
}

/// Failures closer together than the last back-off plus this count as sequential.
const CONSIDER_SEQUENTIAL_RANGE_MS: u64 = 2000;
const EXP_BACKOFF_COUNTER_LIMIT: u32 = 16;

impl LoadBalanceProcessor {
    pub fn new(
        sinks: Vec<Box<dyn Sink>>,
        selection: Selection,
        backoff: bool,
        max_timeout_ms: u64,
        seed: u64,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            states: vec![BackoffState::default(); sinks.len()],
            sinks,
            selection,
            backoff,
            max_timeout_ms,
            next_head: 0,
            rng: SplitMix64::seed_from_u64(seed),
            clock,
        }
    }

    /// Sinks to try, in order: the non-blacklisted ones, rotated or shuffled.
    fn order(&mut self) -> Vec<usize> {
        let now = self.clock.now_ms();
        let active: Vec<usize> = (0..self.sinks.len())
            .filter(|&i| {
                !self.backoff || self.states[i].restore_ms < now || self.states[i].fails == 0
            })
            .collect();
        if active.is_empty() {
            return active;
        }
        match self.selection {
            Selection::RoundRobin => {
                if self.next_head >= active.len() {
                    self.next_head = 0;
                }
                let begin = self.next_head;
                self.next_head += 1;
                (0..active.len())
                    .map(|i| active[(begin + i) % active.len()])
                    .collect()
            }
            Selection::Random => {
                let mut order = active;
                for i in (1..order.len()).rev() {
                    let j = (self.rng.next_u64() % (i as u64 + 1)) as usize;
                    order.swap(i, j);
                }
                order
            }
        }
    }

    fn inform_failure(&mut self, index: usize) {
        if !self.backoff {
            return;
        }
        let now = self.clock.now_ms();
        let max = self.max_timeout_ms;
        let state = &mut self.states[index];
        let delta = now.saturating_sub(state.last_fail_ms);
        let last_backoff = max.min(1000u64 << state.fails.min(EXP_BACKOFF_COUNTER_LIMIT));
        if state.fails > 0 && last_backoff.saturating_add(CONSIDER_SEQUENTIAL_RANGE_MS) > delta {
            if state.fails < EXP_BACKOFF_COUNTER_LIMIT {
                state.fails += 1;
            }
        } else {
            state.fails = 1;
        }
        state.last_fail_ms = now;
        state.restore_ms =
            now.saturating_add(max.min(1000u64 << state.fails.min(EXP_BACKOFF_COUNTER_LIMIT)));
    }

    pub fn process(&mut self) -> Result<Status, SinkError> {
        for index in self.order() {
            match self.sinks[index].process() {
                Ok(status) => return Ok(status),
                Err(_) => self.inform_failure(index),
            }
        }
        Err(SinkError {
            sink: "load_balance group".into(),
            message: "all configured sinks have failed".into(),
        })
    }

    pub fn slots(&self) -> Vec<SinkSlot> {
        let now = self.clock.now_ms();
        self.sinks
            .iter()
            .zip(&self.states)
            .map(|(s, st)| {
                let blacklisted = self.backoff && st.fails > 0 && st.restore_ms >= now;
                SinkSlot {
                    name: s.name().to_string(),
                    active: !blacklisted,
                    penalty_until_ms: blacklisted.then_some(st.restore_ms),
                    sequential_failures: st.fails,
                }
            })
            .collect()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::clock::ManualClock;

    /// A sink whose outcome the test sets, recording which sinks ran.
    pub(crate) struct FakeSink {
        name: String,
        fail: Arc<Mutex<bool>>,
        log: Arc<Mutex<Vec<String>>>,
    }

    fn fake(name: &str, log: &Arc<Mutex<Vec<String>>>) -> (Box<dyn Sink>, Arc<Mutex<bool>>) {
        let fail = Arc::new(Mutex::new(false));
        (
            Box::new(FakeSink {
                name: name.into(),
                fail: Arc::clone(&fail),
                log: Arc::clone(log),
            }),
            fail,
        )
    }

    impl Sink for FakeSink {
        fn name(&self) -> &str {
            &self.name
        }
        fn process(&mut self) -> Result<Status, SinkError> {
            self.log.lock().unwrap().push(self.name.clone());
            if *self.fail.lock().unwrap() {
                Err(SinkError {
                    sink: self.name.clone(),
                    message: "down".into(),
                })
            } else {
                Ok(Status::Ready)
            }
        }
    }

    fn take_log(log: &Arc<Mutex<Vec<String>>>) -> Vec<String> {
        std::mem::take(&mut *log.lock().unwrap())
    }

    #[test]
    fn failover_uses_highest_priority_and_cools_down_exponentially() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let clock = Arc::new(ManualClock::new(10_000));
        let (a, a_fail) = fake("a", &log);
        let (b, _) = fake("b", &log);
        let prios = BTreeMap::from([("a".to_string(), 20), ("b".to_string(), 10)]);
        let mut p = FailoverProcessor::new(vec![b, a], &prios, 30_000, clock.clone());
        assert_eq!(p.process(), Ok(Status::Ready));
        assert_eq!(take_log(&log), ["a"]);

        *a_fail.lock().unwrap() = true;
        assert_eq!(p.process(), Ok(Status::Ready));
        assert_eq!(take_log(&log), ["a", "b"], "a fails, b takes over");
        let slots = p.slots();
        assert_eq!(slots[1].penalty_until_ms, Some(12_000), "2^1 x 1000 ms");
        assert!(slots[0].active);

        // Still cooling down: b serves, a is not tried.
        clock.advance(2000);
        p.process().unwrap();
        assert_eq!(take_log(&log), ["b"]);
        // Expired: a is retried first, fails again, penalty doubles.
        clock.advance(1);
        p.process().unwrap();
        assert_eq!(take_log(&log), ["a", "b"]);
        assert_eq!(p.slots()[1].penalty_until_ms, Some(12_001 + 4000));
        assert_eq!(p.slots()[1].sequential_failures, 2);

        // Recovered: a rejoins and becomes active again.
        *a_fail.lock().unwrap() = false;
        clock.advance(4001);
        p.process().unwrap();
        assert_eq!(take_log(&log), ["a"]);
        p.process().unwrap();
        assert_eq!(take_log(&log), ["a"]);
        assert!(p.slots()[1].active);
    }

    #[test]
    fn failover_penalty_is_capped_by_max_penalty() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let clock = Arc::new(ManualClock::new(0));
        let (a, a_fail) = fake("a", &log);
        let (b, _) = fake("b", &log);
        *a_fail.lock().unwrap() = true;
        let prios = BTreeMap::from([("a".to_string(), 2), ("b".to_string(), 1)]);
        let mut p = FailoverProcessor::new(vec![a, b], &prios, 5000, clock.clone());
        for _ in 0..6 {
            p.process().unwrap();
            let until = p.slots()[0].penalty_until_ms.unwrap();
            assert!(until - clock.now_ms() <= 5000);
            clock.set(until + 1);
        }
        assert!(p.slots()[0].sequential_failures >= 3);
    }

    #[test]
    fn failover_with_every_sink_down_is_an_error() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let clock = Arc::new(ManualClock::new(0));
        let (a, a_fail) = fake("a", &log);
        *a_fail.lock().unwrap() = true;
        let mut p = FailoverProcessor::new(vec![a], &BTreeMap::new(), 30_000, clock);
        assert!(p.process().is_err());
    }

    #[test]
    fn round_robin_rotates_and_skips_to_the_next_on_failure() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let clock = Arc::new(ManualClock::new(0));
        let (a, _) = fake("a", &log);
        let (b, b_fail) = fake("b", &log);
        let (c, _) = fake("c", &log);
        let mut p = LoadBalanceProcessor::new(
            vec![a, b, c],
            Selection::RoundRobin,
            false,
            30_000,
            1,
            clock,
        );
        for _ in 0..4 {
            p.process().unwrap();
        }
        assert_eq!(take_log(&log), ["a", "b", "c", "a"]);
        *b_fail.lock().unwrap() = true;
        p.process().unwrap();
        assert_eq!(
            take_log(&log),
            ["b", "c"],
            "without backoff b is tried again"
        );
        p.process().unwrap();
        p.process().unwrap();
        assert_eq!(take_log(&log), ["c", "a"]);
        p.process().unwrap();
        assert_eq!(take_log(&log), ["b", "c"]);
    }

    #[test]
    fn backoff_blacklists_exponentially_up_to_max_timeout() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let clock = Arc::new(ManualClock::new(100_000));
        let (a, a_fail) = fake("a", &log);
        let (b, _) = fake("b", &log);
        *a_fail.lock().unwrap() = true;
        let mut p = LoadBalanceProcessor::new(
            vec![a, b],
            Selection::RoundRobin,
            true,
            4000,
            1,
            clock.clone(),
        );
        p.process().unwrap();
        assert_eq!(take_log(&log), ["a", "b"]);
        assert_eq!(p.slots()[0].penalty_until_ms, Some(102_000));
        // Blacklisted: only b is used.
        for _ in 0..3 {
            p.process().unwrap();
        }
        assert_eq!(take_log(&log), ["b", "b", "b"]);
        clock.set(102_001);
        // a comes back, fails again soon after: sequential, so the back-off doubles, capped.
        let mut tried_a = false;
        for _ in 0..2 {
            p.process().unwrap();
            tried_a |= take_log(&log).contains(&"a".to_string());
        }
        assert!(tried_a);
        assert_eq!(p.slots()[0].sequential_failures, 2);
        assert_eq!(p.slots()[0].penalty_until_ms, Some(102_001 + 4000));
        *a_fail.lock().unwrap() = false;
        clock.set(200_000);
        p.process().unwrap();
        p.process().unwrap();
        assert_eq!(take_log(&log).len(), 2);
        assert!(p.slots()[0].active);
    }

    #[test]
    fn random_selection_is_seeded_and_uses_every_sink() {
        let run = |seed| {
            let log = Arc::new(Mutex::new(Vec::new()));
            let clock = Arc::new(ManualClock::new(0));
            let sinks = ["a", "b", "c"].iter().map(|n| fake(n, &log).0).collect();
            let mut p =
                LoadBalanceProcessor::new(sinks, Selection::Random, false, 30_000, seed, clock);
            for _ in 0..30 {
                p.process().unwrap();
            }
            take_log(&log)
        };
        let first = run(7);
        assert_eq!(first, run(7));
        for name in ["a", "b", "c"] {
            assert!(first.iter().any(|n| n == name));
        }
    }

    #[test]
    fn all_load_balanced_sinks_failing_is_an_error() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let (a, a_fail) = fake("a", &log);
        *a_fail.lock().unwrap() = true;
        let mut p = LoadBalanceProcessor::new(
            vec![a],
            Selection::RoundRobin,
            true,
            30_000,
            1,
            Arc::new(ManualClock::new(0)),
        );
        assert!(p.process().is_err());
        assert!(p.process().is_err(), "blacklisted: nothing left to try");
        assert_eq!(take_log(&log), ["a"]);
    }
}
