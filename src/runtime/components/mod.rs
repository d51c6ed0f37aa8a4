//! Behaviour of the built-in components: what a spout emits and what a bolt does with a
//! tuple. The registry in `crate::components` says what each one is called and how it is
//! configured; this module makes it run.

mod bolts;
mod config;
mod shell;
mod sinks;
mod spouts;
mod window;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::model::Role;
use crate::policy::{Grant, PathUse};

use super::error::RunError;
use super::exec::BoltSink;
use super::limits::{self, Budget, Refusal};
use super::log::RunLog;
use super::plan::{Plan, PlanNode};
use super::tuple::{AckIds, Tuple, Val, Values};

pub use bolts::FieldLookup;
pub use config::Config;
pub use shell::{Tried, TryRequest, try_once};
pub use sinks::logged_text;
pub use spouts::{SENTENCE_POOL, SENTENCE_POOL_BYTES, pool_size, sentence_pool, vocabulary_word};

/// One emit requested by a component; the executor routes it after the call returns,
/// so components never touch channels.
#[derive(Debug)]
pub struct Emitted {
    /// Local output stream index (0 = the first declared stream, usually `default`).
    pub stream: usize,
    pub values: Values,
    pub direct: Option<u32>,
    /// Spouts: the message id that makes this a tracked tuple.
    pub msg_id: Option<u64>,
    pub replay: bool,
    /// A tracked emit refused by the value cap: nothing is sent, the message counts as
    /// failed and the spout hears of it through `Spout::refused`.
    pub refused: bool,
    /// The spout wants to hear which tasks received it (`Spout::routed`).
    pub report_targets: bool,
    /// Exactly-once: the batch attempt its tree belongs to (0: none).
    pub batch: u32,
}

/// Receives what a component emits during one call: buffered for spouts (which need
/// message ids handled after the call), routed at once for bolts.
#[derive(Default)]
pub struct Emitter<'a, 'x> {
    pub(crate) items: Vec<Emitted>,
    /// Per local stream: does anyone subscribe? Emits on a stream nobody reads are
    /// counted but not queued. Empty = assume yes.
    pub(crate) live: &'a [bool],
    pub(crate) discarded: u64,
    /// A bolt's router: emits go straight to it, not buffered and copied once more. It
    /// is the executor's concrete type, not a trait object, so that routing inlines into
    /// the component's emit and a tuple's values go from registers into its batch.
    pub(crate) sink: Option<&'a mut BoltSink<'x>>,
    /// Refusals during this call (values over the cap, full buffers); the executor
    /// counts them, reports the first and, when it says so, fails the input. Plain
    /// data: an emitter is built and dropped for every tuple a bolt executes. (A
    /// spout's refused tracked emits are also items, marked `refused`.)
    pub(crate) refusals: Option<Refusals>,
}

/// What an [`Emitter`] refused during one call.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Refusals {
    pub count: u64,
    pub first: Refusal,
    pub fail_input: bool,
}

impl Emitter<'_, '_> {
    /// True when some node consumes local stream `stream`; components may skip
    /// building values nobody will read (the emit still counts).
    #[inline]
    pub fn is_live(&self, stream: usize) -> bool {
        self.live.get(stream).copied().unwrap_or(true)
    }

    /// Counts an emit on a stream nobody consumes, without building its values.
    #[inline]
    pub fn discard(&mut self) {
        self.discarded += 1;
    }

    /// Emits on the first declared stream (untracked from a spout; anchored from a bolt).
    #[inline(always)]
    pub fn emit(&mut self, values: Values) {
        self.emit_on(0, values);
    }

    #[inline(always)]
    pub fn emit_on(&mut self, stream: usize, values: Values) {
        if !self.is_live(stream) {
            self.discarded += 1;
            return;
        }
        if !self.admit(&values) {
            return;
        }
        if let Some(sink) = &mut self.sink {
            sink.emit(stream, values, None);
            return;
        }
        self.items.push(Emitted {
            stream,
            values,
            direct: None,
            msg_id: None,
            replay: false,
            refused: false,
            report_targets: false,
            batch: 0,
        });
    }

    /// Sends to one chosen consumer task; only valid on a stream declared direct.
    #[inline]
    pub fn emit_direct(&mut self, task: u32, stream: usize, values: Values) {
        if !self.admit(&values) {
            return;
        }
        if let Some(sink) = &mut self.sink {
            sink.emit(stream, values, Some(task));
            return;
        }
        self.items.push(Emitted {
            stream,
            values,
            direct: Some(task),
            msg_id: None,
            replay: false,
            refused: false,
            report_targets: false,
            batch: 0,
        });
    }

    /// Spouts: a tracked emit; `ack`/`fail` will be called with `msg_id`.
    #[inline(always)]
    pub fn emit_tracked(&mut self, msg_id: u64, values: Values) {
        self.push_tracked(msg_id, values, false, 0);
    }

    /// A tracked emit on the first stream: refused (and marked so) when a value is over
    /// the cap. Every spout's tracked emit goes through here.
    #[inline(always)]
    fn push_tracked(&mut self, msg_id: u64, values: Values, replay: bool, batch: u32) {
        if !self.admit(&values) {
            self.refused_id(msg_id);
            return;
        }
        self.items.push(Emitted {
            stream: 0,
            values,
            direct: None,
            msg_id: Some(msg_id),
            replay,
            refused: false,
            report_targets: false,
            batch,
        });
    }

    /// Spouts under exactly-once: a message of a batch, whose tree's root carries the
    /// batch attempt (see `runtime::txn`).
    #[inline]
    pub fn emit_in_batch(&mut self, msg_id: u64, values: Values, attempt: u32, replay: bool) {
        self.push_tracked(msg_id, values, replay, attempt);
    }

    /// Spouts: re-emits a failed message (counted as a replay).
    #[inline]
    pub fn replay(&mut self, msg_id: u64, values: Values) {
        self.push_tracked(msg_id, values, true, 0);
    }

    /// Spouts: any emit — on any stream, direct or not, tracked when `msg_id` is given —
    /// optionally asking to hear where it went (`Spout::routed`). For spouts whose
    /// emits are described by data, such as a multi-lang child's.
    pub fn emit_spout(
        &mut self,
        stream: usize,
        values: Values,
        direct: Option<u32>,
        msg_id: Option<u64>,
        report_targets: bool,
    ) {
        if !self.admit(&values) {
            if let Some(id) = msg_id {
                self.refused_id(id);
            }
            return;
        }
        self.items.push(Emitted {
            stream,
            values,
            direct,
            msg_id,
            replay: false,
            refused: false,
            report_targets,
            batch: 0,
        });
    }

    /// Bolts that ack their inputs themselves ([`Bolt::acks_itself`]): emits anchored to
    /// an input they still hold (its ids and the ack value gathered for it), or
    /// unanchored, and returns the tasks that received it when `report` is set.
    pub fn emit_anchored(
        &mut self,
        stream: usize,
        values: Values,
        direct: Option<u32>,
        anchor: Option<(&AckIds, &mut u64)>,
        report: bool,
    ) -> Result<Vec<u32>, String> {
        if let Err(e) = limits::check_values(&values) {
            return Err(e.to_string());
        }
        match &mut self.sink {
            Some(sink) => sink
                .emit_anchored(stream, values, direct, anchor, report)
                .map_err(|e| e.to_string()),
            None => Err("an anchored emit outside a bolt".into()),
        }
    }

    /// Bolts that ack their inputs themselves: acks (`ok`) or fails an input they held,
    /// with the ack value its anchored emits gathered.
    pub fn settle(&mut self, ids: &AckIds, ack_val: u64, ok: bool) {
        if let Some(sink) = &mut self.sink {
            sink.settle(ids, ack_val, ok);
        }
    }

    /// The value-size rule ([`limits::check_values`]) for every emit: false (and the
    /// refusal recorded) when a value is over the cap.
    #[inline(always)]
    fn admit(&mut self, values: &Values) -> bool {
        match limits::check_values(values) {
            Ok(()) => true,
            Err(e) => {
                self.refuse(Refusal::TooLarge(e));
                false
            }
        }
    }

    /// Records that something was turned away during this call: an emit over the value
    /// cap (the input fails), or an input a full buffer could not keep (the input is
    /// acked). The executor counts it in the node's `refused` metric and logs the first.
    #[cold]
    pub fn refuse(&mut self, why: Refusal) {
        match &mut self.refusals {
            Some(r) => {
                r.count += 1;
                r.fail_input |= why.fails_input();
            }
            None => {
                self.refusals = Some(Refusals {
                    count: 1,
                    fail_input: why.fails_input(),
                    first: why,
                });
            }
        }
    }

    /// Marks a refused tracked emit (after `refuse`), so the spout executor can fail it.
    #[cold]
    fn refused_id(&mut self, msg_id: u64) {
        self.items.push(Emitted {
            stream: 0,
            values: Values::One(Val::Null),
            direct: None,
            msg_id: Some(msg_id),
            replay: false,
            refused: true,
            report_targets: false,
            batch: 0,
        });
    }

    /// Takes what was refused since the last call, if anything was.
    #[inline]
    pub(crate) fn take_refusals(&mut self) -> Option<Refusals> {
        self.refusals.take()
    }

    /// Emits buffered so far (bolts' emits are routed at once and not counted here).
    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// A bolt refused or could not process its input: the input is failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failed(pub String);

/// A spout: called on one thread, never blocks (Storm's contract).
pub trait Spout: Send {
    /// Emits what is ready now; returns `false` when nothing was emitted.
    fn next_tuple(&mut self, out: &mut Emitter) -> bool;
    /// The tuple tree of `msg_id` completed.
    fn ack(&mut self, _msg_id: u64) {}
    /// The tuple tree of `msg_id` failed or timed out; the spout decides on replay.
    fn fail(&mut self, _msg_id: u64) {}
    /// The emit of `msg_id` was refused before it left the spout (a value over
    /// [`limits::MAX_VALUE_BYTES`]); it counts as failed. By default the spout is told
    /// `fail`; a spout whose replay would emit the very same values overrides this to
    /// give the message up instead of replaying it forever.
    fn refused(&mut self, msg_id: u64) {
        self.fail(msg_id);
    }
    /// True when the spout will emit nothing more (finite input, all acked).
    fn is_done(&self) -> bool {
        false
    }
    /// Where an emit marked `report_targets` went (empty when it was refused).
    fn routed(&mut self, _targets: &[u32]) {}
    /// Where a restarted instance of this spout may continue: every message before it
    /// has been acked (a committed offset, in Storm's words). `None` (the default): the
    /// spout cannot resume, and a new instance starts its input over.
    fn position(&self) -> Option<u64> {
        None
    }
    /// Continues from `position`, an earlier instance's [`Spout::position`], instead of
    /// from the start: a crash or a killed worker then replays only what was in flight.
    fn resume(&mut self, _position: u64) {}
}

/// A bolt with Storm's BasicBolt contract: emits are anchored to the input, and the
/// input is acked when `execute` returns `Ok` and failed on `Err`.
pub trait Bolt: Send {
    fn execute(&mut self, input: &Tuple, out: &mut Emitter) -> Result<(), Failed>;
    /// Called every few milliseconds (time windows); emits here are unanchored.
    fn tick(&mut self, _now: Instant, _out: &mut Emitter) {}
    /// Push buffered output to its destination (files); called when idle and at stop,
    /// and — for a bolt whose [`Bolt::acks_after_flush`] is true — after every batch,
    /// before its inputs are acked. An error fails those inputs.
    fn flush(&mut self) -> Result<(), Failed> {
        Ok(())
    }
    /// True when what `execute` did is only safe once `flush` succeeded (a buffered
    /// file): the executor then holds the acks of a batch's inputs until after the
    /// flush, and fails them if it fails. False (the default) acks as each returns.
    fn acks_after_flush(&self) -> bool {
        false
    }
    /// True for a bolt that acks and fails its inputs itself, whenever it likes, with
    /// [`Emitter::settle`] (Storm's IRichBolt: a multi-lang child). The executor then
    /// settles an input only when `execute` returns an error.
    fn acks_itself(&self) -> bool {
        false
    }
}

/// A running component instance.
pub enum Behaviour {
    Spout(Box<dyn Spout>),
    Bolt(Box<dyn Bolt>),
}

/// Everything a component instance may know about where it runs.
#[derive(Clone)]
pub struct TaskInfo {
    pub node: String,
    /// Storm task id.
    pub task: u32,
    /// Index of this task within its node (0-based) and the node's task count.
    pub index: u32,
    pub count: u32,
    /// Whether tracked emits are acked by ackers (false: acked at once).
    pub tracking: bool,
    pub env: Arc<Env>,
    /// Field names of every stream in the plan, by global stream id.
    pub schemas: Arc<Vec<Vec<String>>>,
    /// Task ids of consumers per local output stream (for direct emits).
    pub consumers: Vec<Vec<u32>>,
}

/// Builds an instance of a node's component for one task; called at start and again by
/// the supervisor after a crash.
pub type Factory = Arc<dyn Fn(&TaskInfo) -> Result<Behaviour, String> + Send + Sync>;

/// What collector sinks gathered, by node name: for tests and lessons. Bounded for the
/// whole run by [`limits::MAX_COLLECTED_TUPLES`] and [`limits::MAX_COLLECTED_BYTES`].
#[derive(Debug)]
pub struct Collected {
    by_node: Mutex<BTreeMap<String, Vec<(u32, Values)>>>,
    budget: Budget,
    /// The counts `count_by_key` tasks held when the run stopped, by node and key.
    final_counts: Mutex<BTreeMap<String, BTreeMap<String, i64>>>,
}

impl Default for Collected {
    fn default() -> Self {
        Self {
            by_node: Mutex::default(),
            budget: Budget::collected(),
            final_counts: Mutex::default(),
        }
    }
}

impl Collected {
    /// Keeps `values`, or refuses them when the run's collectors are full.
    pub fn push(&self, node: &str, task: u32, values: Values) -> Result<(), Refusal> {
        self.budget.take(1, limits::values_bytes(&values))?;
        let mut map = match self.by_node.lock() {
            Ok(m) => m,
            Err(p) => p.into_inner(),
        };
        map.entry(node.to_string())
            .or_default()
            .push((task, values));
        Ok(())
    }

    /// Adds what a count task held as the run stopped (a task that crashed earlier
    /// lost its counts, as a Storm bolt's memory is lost: only the live ones report).
    pub fn add_final_counts(&self, node: &str, counts: impl Iterator<Item = (String, i64)>) {
        let mut map = match self.final_counts.lock() {
            Ok(m) => m,
            Err(p) => p.into_inner(),
        };
        let node = map.entry(node.to_string()).or_default();
        for (k, v) in counts {
            *node.entry(k).or_default() += v;
        }
    }

    /// Every count node's counts at the stop.
    pub fn final_counts(&self) -> BTreeMap<String, BTreeMap<String, i64>> {
        match self.final_counts.lock() {
            Ok(m) => m.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// Everything a node's collectors received, with the receiving task id.
    pub fn get(&self, node: &str) -> Vec<(u32, Values)> {
        let map = match self.by_node.lock() {
            Ok(m) => m,
            Err(p) => p.into_inner(),
        };
        map.get(node).cloned().unwrap_or_default()
    }
}

/// Shared services for components.
pub struct Env {
    pub log: Arc<RunLog>,
    pub collected: Arc<Collected>,
    /// The run-wide allowance of every window buffer ([`limits::MAX_WINDOW_ENTRIES`]).
    pub windows: Budget,
    /// The run-wide allowance of keyed state ([`limits::MAX_STATE_KEYS`]).
    pub state: Budget,
    /// The run-wide allowance of `file_lines` inputs ([`limits::MAX_INPUT_BYTES`]).
    pub inputs: Budget,
    /// The run's clock: the wall clock, or a manual one when a run is stepped by hand.
    pub clock: crate::clock::RunClock,
    /// What the user allowed this run to touch; every path goes through it.
    pub grant: Grant,
    /// Set when the run stops, for components that wait on something outside the
    /// process (a multi-lang child) and must not hold Stop up.
    pub stopping: std::sync::atomic::AtomicBool,
    /// The batch coordinator of an exactly-once run (`None` otherwise).
    pub txn: Option<Arc<crate::runtime::txn::Coordinator>>,
}

impl Env {
    /// Where a path setting of `node` really points, if the run's grant allows it. The
    /// engine checked every declared path before starting; asking again here means a
    /// component cannot reach further than that check, even by reading a setting the
    /// registry does not declare.
    pub fn path(
        &self,
        node: &str,
        key: &str,
        usage: PathUse,
        raw: &str,
    ) -> Result<PathBuf, RunError> {
        self.grant
            .path(node, key, usage, raw)
            .map_err(|r| RunError::NotAllowed(vec![r]))
    }
}

/// Resolves a node's component to a factory, checking its config once so that errors
/// name the node before any thread starts.
/// Whether a built-in bolt acts on time as well as on input (its `Bolt::tick` emits):
/// a stepping scheduler keeps a timer for it. Overrides are assumed not to.
pub(crate) fn ticks(component: &str) -> bool {
    component == "window_aggregate"
}

pub fn factory_for(
    plan: &Plan,
    node: &PlanNode,
    env: &Env,
    overrides: &BTreeMap<String, Factory>,
) -> Result<Factory, RunError> {
    if let Some(f) = overrides.get(node.name()) {
        return Ok(f.clone());
    }
    let cfg = Config::new(node);
    let name = node.name().to_string();
    let role = node.node.role;
    let direct_out = node.outputs.iter().any(|&s| plan.streams[s].direct);
    // Only components that choose their tasks may declare a direct stream.
    let picks_tasks = node.node.component == crate::components::STAND_IN
        || crate::components::runs_a_program(&node.node.component);
    if direct_out && !picks_tasks {
        return Err(RunError::Unsupported {
            node: name,
            what: format!(
                "a direct stream from '{}': built-ins do not pick tasks; use another grouping",
                node.node.component
            ),
        });
    }
    let spout_like = matches!(role, Role::Spout | Role::Source);
    if env.txn.is_some() && !spout_like && crate::runtime::txn::is_committer(&node.node.component) {
        return crate::runtime::txn::committer_factory(&cfg, env, &name, &node.node.component);
    }
    let factory: Factory = match (node.node.component.as_str(), spout_like) {
        ("sentence_generator", true) => spouts::sentence_factory(&cfg),
        ("word_generator", true) => spouts::word_factory(&cfg),
        ("sequence", true) => spouts::sequence_factory(&cfg),
        ("file_lines", true) => spouts::file_lines_factory(&cfg, env, &name)?,
        ("stand_in", true) => spouts::silent_factory(),
        ("shell_spout", true) => shell::factory(plan, node, env, true)?,
        ("shell_bolt", false) => shell::factory(plan, node, env, false)?,
        ("split", false) => bolts::split_factory(&cfg),
        ("map", false) => bolts::map_factory(&cfg),
        ("filter", false) => bolts::filter_factory(&cfg),
        ("count_by_key", false) => bolts::count_factory(&cfg),
        ("window_aggregate", false) => window::factory(&cfg, node)?,
        ("logger", false) => sinks::logger_factory(&cfg),
        ("file_sink", false) => sinks::file_sink_factory(&cfg, env, &name)?,
        ("null", false) => sinks::null_factory(),
        ("collector", false) => sinks::collector_factory(),
        // Spark Streaming operators run as batch operators (`runtime::batch`);
        // validation keeps them out of record-at-a-time runs.
        ("reduce_by_key" | "count_by_value" | "window" | "count_by_window" | "join", false) => {
            micro_batch_only_factory(&node.node.component)
        }
        // Flume channels never get here: they run in the Flume agents, and channels that
        // bolts drain get a drain spout (see `runtime::flume_bridge`).
        ("stand_in", false) => bolts::pass_through_factory(),
        (other, _) => {
            return Err(RunError::Unsupported {
                node: name,
                what: format!("component '{other}' as a {role} yet"),
            });
        }
    };
    Ok(factory)
}

/// A factory for an operator that has no record-at-a-time behaviour: building it fails
/// with a message naming the mode it needs.
fn micro_batch_only_factory(id: &str) -> Factory {
    let message = format!("'{id}' runs only in micro-batch mode");
    Arc::new(move |_info: &TaskInfo| Err(message.clone()))
}
