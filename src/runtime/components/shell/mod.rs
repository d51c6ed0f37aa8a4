//! Shell spouts and bolts: the user's own code, in any language, run as one child
//! process per task that speaks Storm's multi-lang protocol (JSON messages over its
//! standard input and output, each ended by a line `end`).
//!
//! - [`protocol`] is the protocol as data; [`child`] runs one process and its pipes.
//! - [`bolt`] and [`spout`] map the protocol onto Tributary's executors: a shell bolt
//!   acks its inputs itself ([`super::Bolt::acks_itself`]), a shell spout is asked for
//!   tuples with `next` and answers with `sync`.
//! - A child that exits, breaks the protocol or stays silent past `timeout_secs`
//!   crashes its task: the supervisor restarts it (a fresh process) after its backoff,
//!   and the tuples it held time out and are replayed.
//! - Nothing starts without the user's consent: the program comes from the run's grant
//!   ([`crate::policy::Grant::program`]), which refuses without `--allow-exec`.

mod bolt;
mod child;
mod link;
mod protocol;
mod spout;
mod try_once;

pub use try_once::{Tried, TryRequest, try_once};

use std::sync::Arc;
use std::time::Duration;

use super::config::Config;
use super::{Behaviour, Env, Factory, TaskInfo};
use crate::policy::Program;
use crate::runtime::error::RunError;
use crate::runtime::plan::{Plan, PlanNode};

/// What every task of one shell node shares.
pub(crate) struct Spec {
    pub node: String,
    pub program: Program,
    pub args: Vec<String>,
    pub cwd: std::path::PathBuf,
    pub timeout: Duration,
    /// Local output streams: name, fields, direct.
    pub outputs: Vec<(String, Vec<String>, bool)>,
    /// By global stream id: the emitting component and the stream's name, to tell a
    /// bolt where each tuple came from.
    pub stream_names: Vec<(String, String)>,
    /// Every task of the topology with its component, for the handshake.
    pub task_component: Vec<(u32, String)>,
    /// The streams this node reads: source component, stream, fields.
    pub inputs: Vec<(String, String, Vec<String>)>,
}

impl Spec {
    fn context(&self, task: u32) -> protocol::Context {
        protocol::Context {
            topology: "tributary".into(),
            component: self.node.clone(),
            task,
            task_component: self.task_component.clone(),
            inputs: self.inputs.clone(),
            outputs: self
                .outputs
                .iter()
                .map(|(name, fields, _)| (name.clone(), fields.clone()))
                .collect(),
        }
    }

    /// The local index of an output stream (`None` = the first declared, `default`).
    fn stream_index(&self, name: Option<&str>) -> Result<usize, String> {
        let name = name.unwrap_or(crate::model::DEFAULT_STREAM);
        self.outputs
            .iter()
            .position(|(n, _, _)| n == name)
            .ok_or_else(|| {
                let declared: Vec<&str> = self.outputs.iter().map(|(n, _, _)| n.as_str()).collect();
                format!(
                    "an emit to the undeclared stream \"{name}\" (declared: {})",
                    if declared.is_empty() {
                        "none".to_string()
                    } else {
                        declared.join(", ")
                    }
                )
            })
    }

    /// Starts this task's child.
    fn start(&self, info: &TaskInfo) -> Result<child::Child, String> {
        let started = child::Child::start(
            child::Launch {
                program: &self.program,
                args: &self.args,
                cwd: &self.cwd,
                node: &self.node,
                task: info.task,
                log: info.env.log.clone(),
                stop: &|| info.env.stopping.load(std::sync::atomic::Ordering::Relaxed),
            },
            &self.context(info.task),
            self.timeout,
        )?;
        info.env.log.push(
            &self.node,
            info.task,
            crate::runtime::log::LogKind::Event,
            format!(
                "task {} started its program (pid {})",
                info.task, started.pid
            ),
        );
        Ok(started)
    }
}

fn spec(plan: &Plan, node: &PlanNode, env: &Env) -> Result<Spec, RunError> {
    let name = node.name().to_string();
    let argv = crate::components::command_of(&node.node);
    let program = env
        .grant
        .program(&name, &argv)
        .map_err(|r| RunError::NotAllowed(vec![r]))?;
    let cfg = Config::new(node);
    let node_name = |i: usize| plan.nodes[i].node.name.clone();
    let task_component = plan
        .task_node
        .iter()
        .enumerate()
        .filter_map(|(task, n)| Some((task as u32, node_name((*n)?))))
        .collect();
    let inputs = node
        .inputs
        .iter()
        .map(|&e| {
            let s = &plan.streams[plan.edges[e].stream];
            (node_name(s.node), s.name.clone(), s.fields.clone())
        })
        .collect();
    Ok(Spec {
        node: name,
        program,
        args: argv.into_iter().skip(1).collect(),
        cwd: env.grant.base_dir().to_path_buf(),
        timeout: Duration::from_secs(cfg.int("timeout_secs").clamp(1, 3600) as u64),
        outputs: node
            .outputs
            .iter()
            .map(|&s| {
                let s = &plan.streams[s];
                (s.name.clone(), s.fields.clone(), s.direct)
            })
            .collect(),
        stream_names: plan
            .streams
            .iter()
            .map(|s| (node_name(s.node), s.name.clone()))
            .collect(),
        task_component,
        inputs,
    })
}

/// A factory of shell spouts or bolts for `node`; the grant is asked once here, so a
/// refused command names the node before any thread starts.
pub(super) fn factory(
    plan: &Plan,
    node: &PlanNode,
    env: &Env,
    spout_like: bool,
) -> Result<Factory, RunError> {
    let spec = Arc::new(spec(plan, node, env)?);
    Ok(Arc::new(move |info: &TaskInfo| {
        Ok(if spout_like {
            Behaviour::Spout(Box::new(spout::ShellSpout::new(spec.clone(), info.clone())))
        } else {
            Behaviour::Bolt(Box::new(bolt::ShellBolt::new(spec.clone(), info.clone())))
        })
    }))
}

/// Ends the task with `why`: the executor catches it and its supervisor restarts the
/// task with a fresh child. Raised without the panic hook, like an injected crash, so a
/// misbehaving program fills the run log, not the terminal.
fn crash(why: String) -> ! {
    std::panic::resume_unwind(Box::new(why))
}

/// Longest text a child's log line, error or stderr line keeps in the run log.
pub(crate) const MAX_SAID_BYTES: usize = 2000;
/// Errors (and stderr lines) of one task shown among the run's events; the rest go with
/// the output, so a chatty program cannot push restarts and crashes out of the log.
pub(crate) const EVENTS_PER_TASK: u32 = 20;

/// `text` cut to [`MAX_SAID_BYTES`] at a character boundary.
pub(crate) fn capped(text: &str) -> String {
    if text.len() <= MAX_SAID_BYTES {
        return text.to_string();
    }
    format!(
        "{}… ({} bytes)",
        protocol::prefix(text, MAX_SAID_BYTES),
        text.len()
    )
}

/// What a child says beside the protocol (`log`, `error`, `metrics`), into the run log:
/// capped in length, logs as output, the first errors as events and the rest as output,
/// each metric's name once. One home for spouts and bolts.
#[derive(Default)]
pub(crate) struct Voice {
    metrics_seen: Vec<String>,
    errors: u32,
}

impl Voice {
    fn hear(&mut self, info: &TaskInfo, message: &protocol::FromChild) {
        use crate::runtime::log::LogKind;
        use protocol::FromChild;
        let push = |kind, text: String| info.env.log.push(&info.node, info.task, kind, text);
        match message {
            FromChild::Log { level, text } => push(
                LogKind::Tuple,
                format!("[{}] {}", level_name(*level), capped(text)),
            ),
            FromChild::Error(text) => {
                self.errors = self.errors.saturating_add(1);
                let kind = if self.errors <= EVENTS_PER_TASK {
                    LogKind::Error
                } else {
                    LogKind::Tuple
                };
                push(kind, format!("the program reports: {}", capped(text)));
            }
            FromChild::Metrics { name, value }
                if !self.metrics_seen.contains(name) && self.metrics_seen.len() < 64 =>
            {
                push(
                    LogKind::Event,
                    format!(
                        "metric {} = {} (further values of it are not logged)",
                        capped(name),
                        capped(&value.to_string())
                    ),
                );
                self.metrics_seen.push(name.clone());
            }
            _ => {}
        }
    }
}

/// Storm's log levels, as the run log shows them.
fn level_name(level: u8) -> &'static str {
    match level {
        0 => "trace",
        1 => "debug",
        2 => "info",
        3 => "warn",
        _ => "error",
    }
}
