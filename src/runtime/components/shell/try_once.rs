//! "Try it": one sample through a fresh child, outside any run, so a user sees what
//! their program does with a tuple — what it emitted, whether it acked or failed it,
//! what it logged and wrote to stderr — before wiring it into a topology. The designer
//! calls it from the inspector (the button is the consent: it shows the command).

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value as Json;

use super::child::{Child, Incoming, Launch};
use super::protocol::{self, FromChild};
use crate::policy::Grant;
use crate::runtime::log::RunLog;
use crate::runtime::tuple::{Val, Values};

/// Emits and lines a try keeps, at most: a program that floods shows that it does.
const MAX_SHOWN: usize = 50;

/// What the program did with the sample.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tried {
    /// Each emit: its stream and values, as text.
    pub emitted: Vec<(String, String)>,
    /// Bolts: `Some(true)` acked, `Some(false)` failed, `None` neither in time.
    pub outcome: Option<bool>,
    /// Log and error commands, and stderr lines.
    pub said: Vec<String>,
    /// Why the try stopped short (a protocol break, an exit, silence).
    pub problem: Option<String>,
}

/// What to try.
pub struct TryRequest<'a> {
    pub node: &'a str,
    pub command: &'a [String],
    pub base_dir: &'a Path,
    /// True for a spout (asked `next` once); false for a bolt (sent `sample`).
    pub spout: bool,
    /// The sample tuple, as a JSON list.
    pub sample: &'a str,
    /// Longest wait for the program.
    pub timeout: Duration,
}

/// Runs the sample through a fresh child and reports what came back. The child is
/// killed when this returns.
pub fn try_once(request: &TryRequest<'_>) -> Tried {
    let mut tried = Tried::default();
    if let Err(why) = run(request, &mut tried) {
        tried.problem = Some(why);
    }
    tried
}

fn run(request: &TryRequest<'_>, tried: &mut Tried) -> Result<(), String> {
    let values = sample_values(request.sample)?;
    let program = Grant::new(request.base_dir)
        .with_exec(true)
        .program(request.node, request.command)
        .map_err(|r| r.to_string())?;
    let log = Arc::new(RunLog::new(crate::clock::RunClock::wall(Instant::now())));
    let context = protocol::Context {
        topology: "tributary-try".into(),
        component: request.node.to_string(),
        task: 1,
        task_component: vec![(1, request.node.to_string())],
        inputs: vec![("sample".into(), "default".into(), Vec::new())],
        outputs: Vec::new(),
    };
    let args: Vec<String> = request.command.iter().skip(1).cloned().collect();
    let launch = Launch {
        program: &program,
        args: &args,
        cwd: request.base_dir,
        node: request.node,
        task: 1,
        log: log.clone(),
        stop: &|| false,
    };
    let result = Child::start(launch, &context, request.timeout)
        .and_then(|mut child| converse(&mut child, request, &values, tried));
    // Give stderr a moment to arrive, then collect it with the rest.
    std::thread::sleep(Duration::from_millis(50));
    for line in log.drain() {
        tried.say(line.text);
    }
    result
}

impl Tried {
    fn say(&mut self, text: String) {
        if self.said.len() < MAX_SHOWN {
            self.said.push(super::capped(&text));
        }
    }
}

fn sample_values(sample: &str) -> Result<Values, String> {
    let json: Json =
        serde_json::from_str(sample).map_err(|e| format!("the sample is not JSON: {e}"))?;
    let Json::Array(items) = json else {
        return Err("the sample must be a JSON list of values, e.g. [\"a sentence\"]".into());
    };
    let text = serde_json::to_string(&serde_json::json!({"command": "emit", "tuple": items}))
        .map_err(|e| e.to_string())?;
    match protocol::parse(&text)? {
        FromChild::Emit(e) => Ok(Values::from(e.values)),
        _ => Ok(Values::from(Vec::<Val>::new())),
    }
}

fn converse(
    child: &mut Child,
    request: &TryRequest<'_>,
    values: &Values,
    tried: &mut Tried,
) -> Result<(), String> {
    let never = || false;
    let first = if request.spout {
        protocol::next()
    } else {
        protocol::tuple("1", "sample", "default", 0, values)
    };
    child.send(&first, request.timeout, &never)?;
    let deadline = Instant::now() + request.timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(format!(
                "no {} within {} s",
                if request.spout { "sync" } else { "ack or fail" },
                request.timeout.as_secs()
            ));
        }
        let message = match child.recv(left)? {
            None => continue,
            Some(Incoming::Message(m)) => m,
            Some(Incoming::Broken(why)) => return Err(format!("not the protocol: {why}")),
            Some(Incoming::Closed) => return Err(child.exit_reason("during the try")),
        };
        match message {
            FromChild::Emit(e) => {
                let stream = e.stream.clone().unwrap_or_else(|| "default".into());
                if tried.emitted.len() < MAX_SHOWN {
                    let values = super::capped(&Values::from(e.values).join(", "));
                    tried.emitted.push((super::capped(&stream), values));
                }
                if e.need_task_ids {
                    // Nothing is wired to a try: the emit went to no task.
                    child.send(&protocol::task_ids(&[]), request.timeout, &never)?;
                }
            }
            FromChild::Ack(id) | FromChild::Fail(id) if id != "1" => {
                return Err(format!("settled the unknown tuple id \"{id}\""));
            }
            FromChild::Ack(_) => {
                tried.outcome = Some(true);
                return Ok(());
            }
            FromChild::Fail(_) => {
                tried.outcome = Some(false);
                return Ok(());
            }
            FromChild::Sync if request.spout => return Ok(()),
            FromChild::Sync => {}
            FromChild::Log { text, .. } => tried.say(text),
            FromChild::Error(text) => tried.say(format!("error: {text}")),
            FromChild::Metrics { name, value } => tried.say(format!("metric {name} = {value}")),
            FromChild::Pid(_) => return Err("a second handshake answer".into()),
        }
    }
}
