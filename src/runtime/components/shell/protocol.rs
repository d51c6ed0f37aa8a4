//! Storm's multi-lang protocol as data: what Tributary writes to a child (the
//! handshake, tuples, `next`/`ack`/`fail`, task ids) and what a child may answer. Every
//! message is one JSON value followed by a line `end`. Nothing here touches a process,
//! so the rules of the protocol are tested on their own.

use serde_json::{Map, Value as Json, json};

use crate::runtime::tuple::{Val, Values};

/// The line that ends every message, both ways.
pub const END: &str = "end";

/// Frames one JSON value as a message.
pub fn frame(message: &Json) -> Vec<u8> {
    let mut bytes = message.to_string().into_bytes();
    bytes.extend_from_slice(b"\nend\n");
    bytes
}

/// What a child learns in the handshake about where it runs.
#[derive(Debug, Clone)]
pub struct Context {
    pub topology: String,
    pub component: String,
    pub task: u32,
    /// Every task id of the topology and the component running it.
    pub task_component: Vec<(u32, String)>,
    /// The fields of each stream this component reads: (source component, stream, fields).
    pub inputs: Vec<(String, String, Vec<String>)>,
    /// This component's output streams and their fields.
    pub outputs: Vec<(String, Vec<String>)>,
}

/// The first message: configuration, context and the folder for the pid file.
pub fn handshake(context: &Context, pid_dir: &str) -> Json {
    let task_component: Map<String, Json> = context
        .task_component
        .iter()
        .map(|(task, name)| (task.to_string(), Json::from(name.as_str())))
        .collect();
    let mut sources: Map<String, Json> = Map::new();
    for (source, stream, fields) in &context.inputs {
        let entry = sources
            .entry(source.clone())
            .or_insert_with(|| Json::Object(Map::new()));
        if let Json::Object(streams) = entry {
            streams.insert(stream.clone(), json!(fields));
        }
    }
    let outputs: Map<String, Json> = context
        .outputs
        .iter()
        .map(|(stream, fields)| (stream.clone(), json!(fields)))
        .collect();
    json!({
        "conf": {
            "topology.name": context.topology,
            "topology.debug": false,
        },
        "context": {
            "taskid": context.task,
            "componentid": context.component,
            "task->component": task_component,
            "source->stream->fields": sources,
            "stream->outputfields": outputs,
        },
        "pidDir": pid_dir,
    })
}

/// A tuple for a bolt: its id (for anchors, acks and fails), where it came from, and
/// its values.
pub fn tuple(id: &str, component: &str, stream: &str, source_task: u32, values: &Values) -> Json {
    json!({
        "id": id,
        "comp": component,
        "stream": stream,
        "task": source_task,
        "tuple": values_to_json(values),
    })
}

/// The tuple a bolt must answer with `sync`, to show it is alive.
pub fn heartbeat() -> Json {
    json!({"id": "-1", "comp": "__system", "stream": "__heartbeat", "task": -1, "tuple": []})
}

/// Spouts: emit what is ready.
pub fn next() -> Json {
    json!({"command": "next"})
}

/// Spouts: the tuple tree of `id` completed (`ok`) or failed.
pub fn outcome(id: &Json, ok: bool) -> Json {
    json!({"command": if ok { "ack" } else { "fail" }, "id": id})
}

/// The tasks an emit went to, for a child that asked.
pub fn task_ids(tasks: &[u32]) -> Json {
    json!(tasks)
}

pub fn values_to_json(values: &Values) -> Json {
    Json::Array(
        (0..values.len())
            .filter_map(|i| values.get(i))
            .map(val_to_json)
            .collect(),
    )
}

fn val_to_json(v: &Val) -> Json {
    match v {
        Val::Null => Json::Null,
        Val::Bool(b) => Json::Bool(*b),
        Val::Int(i) => Json::from(*i),
        // JSON has no NaN or infinity: they travel as null.
        Val::Float(f) => serde_json::Number::from_f64(*f).map_or(Json::Null, Json::Number),
        Val::Str(s) => Json::from(s.as_str()),
    }
}

/// A value from a child. Tributary's values are scalars, so a list or an object travels
/// on as its JSON text (a bolt downstream that speaks JSON reads it back).
fn json_to_val(v: &Json) -> Val {
    match v {
        Json::Null => Val::Null,
        Json::Bool(b) => Val::Bool(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Val::Int(i),
            None => Val::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Json::String(s) => Val::str(s),
        other => Val::str(&other.to_string()),
    }
}

/// One message from a child, checked against the protocol.
#[derive(Debug, Clone, PartialEq)]
pub enum FromChild {
    /// The handshake's answer.
    Pid(u32),
    Emit(Emit),
    /// Bolts: settle the input with this id.
    Ack(String),
    Fail(String),
    Log {
        level: u8,
        text: String,
    },
    Error(String),
    Metrics {
        name: String,
        value: Json,
    },
    /// Spouts: done with the last command; bolts: the heartbeat's answer.
    Sync,
}

/// An `emit` command.
#[derive(Debug, Clone, PartialEq)]
pub struct Emit {
    /// `None`: the default stream.
    pub stream: Option<String>,
    /// Bolts: ids of inputs the tuple is anchored to.
    pub anchors: Vec<String>,
    /// Spouts: the message id that makes the emit tracked (any JSON value).
    pub id: Option<Json>,
    /// A direct emit's task.
    pub task: Option<u32>,
    pub values: Vec<Val>,
    /// Storm's default is true: the child then waits for the list of receiving tasks
    /// (never for a direct emit).
    pub need_task_ids: bool,
}

/// An id as a child may write it: Storm's ids are strings, but clients echo numbers too.
fn id_text(v: &Json) -> Option<String> {
    match v {
        Json::String(s) => Some(s.clone()),
        Json::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Reads one message (the text between two `end` lines) as the protocol says.
pub fn parse(text: &str) -> Result<FromChild, String> {
    let value: Json =
        serde_json::from_str(text).map_err(|e| format!("not a JSON message ({e})"))?;
    let Json::Object(fields) = value else {
        return Err("a message must be a JSON object".into());
    };
    if let Some(pid) = fields.get("pid") {
        return pid
            .as_u64()
            .and_then(|p| u32::try_from(p).ok())
            .map(FromChild::Pid)
            .ok_or_else(|| "the pid is not a process id".into());
    }
    let command = fields
        .get("command")
        .and_then(Json::as_str)
        .ok_or("a message without a \"command\"")?;
    let text_of = |key: &str| fields.get(key).and_then(Json::as_str).map(str::to_string);
    let id = || {
        fields
            .get("id")
            .and_then(id_text)
            .ok_or_else(|| format!("{command} without an id"))
    };
    match command {
        "emit" => parse_emit(&fields).map(FromChild::Emit),
        "ack" => id().map(FromChild::Ack),
        "fail" => id().map(FromChild::Fail),
        "sync" => Ok(FromChild::Sync),
        "log" => Ok(FromChild::Log {
            level: fields
                .get("level")
                .and_then(Json::as_u64)
                .map_or(2, |l| l.min(4) as u8),
            text: text_of("msg").unwrap_or_default(),
        }),
        "error" => Ok(FromChild::Error(text_of("msg").unwrap_or_default())),
        "metrics" => Ok(FromChild::Metrics {
            name: text_of("name").ok_or("metrics without a name")?,
            value: fields.get("params").cloned().unwrap_or(Json::Null),
        }),
        other => Err(format!("unknown command \"{other}\"")),
    }
}

fn parse_emit(fields: &Map<String, Json>) -> Result<Emit, String> {
    let values = match fields.get("tuple") {
        Some(Json::Array(items)) => items.iter().map(json_to_val).collect(),
        _ => return Err("emit without a \"tuple\" list".into()),
    };
    let anchors = match fields.get("anchors") {
        None | Some(Json::Null) => Vec::new(),
        Some(Json::Array(ids)) => ids
            .iter()
            .map(|a| id_text(a).ok_or_else(|| format!("the anchor {a} is not an id")))
            .collect::<Result<_, _>>()?,
        Some(other) => return Err(format!("anchors must be a list, not {other}")),
    };
    let stream = match fields.get("stream") {
        None | Some(Json::Null) => None,
        Some(Json::String(s)) => Some(s.clone()),
        Some(other) => return Err(format!("the stream {other} is not a name")),
    };
    let task = match fields.get("task") {
        // Storm reads task 0 as "not direct" (task ids start at 1).
        None | Some(Json::Null) => None,
        Some(t) if t.as_u64() == Some(0) => None,
        Some(t) => Some(
            t.as_u64()
                .and_then(|t| u32::try_from(t).ok())
                .ok_or_else(|| format!("the direct task {t} is not a task id"))?,
        ),
    };
    let need_task_ids = fields
        .get("need_task_ids")
        .and_then(Json::as_bool)
        .unwrap_or(true);
    Ok(Emit {
        stream,
        anchors,
        id: fields.get("id").filter(|v| !v.is_null()).cloned(),
        task,
        values,
        need_task_ids: need_task_ids && task.is_none(),
    })
}

/// At most the first `max` bytes of `text`, cut at a character boundary.
pub fn prefix(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// The first `max` bytes of what a child sent, quoted, for an error message.
pub fn sample(text: &str, max: usize) -> String {
    let start = prefix(text, max);
    let cut = if start.len() < text.len() { "…" } else { "" };
    format!("{start:?}{cut}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pystorm_style_emit_reads_with_its_defaults() {
        let e = parse(r#"{"command":"emit","tuple":["a",1,2.5,true,null],"anchors":["7"],"need_task_ids":false}"#).unwrap();
        let FromChild::Emit(e) = e else { panic!() };
        assert_eq!(e.anchors, ["7"]);
        assert_eq!(
            e.values,
            [
                Val::str("a"),
                Val::Int(1),
                Val::Float(2.5),
                Val::Bool(true),
                Val::Null
            ]
        );
        assert!(!e.need_task_ids);
        assert_eq!(e.stream, None);
        // Storm's default: the child waits for task ids unless it says otherwise.
        let FromChild::Emit(e) = parse(r#"{"command":"emit","tuple":["x"],"stream":"s"}"#).unwrap()
        else {
            panic!()
        };
        assert!(e.need_task_ids);
        assert_eq!(e.stream.as_deref(), Some("s"));
        // ... but never for a direct emit.
        let FromChild::Emit(e) = parse(r#"{"command":"emit","tuple":["x"],"task":4}"#).unwrap()
        else {
            panic!()
        };
        assert!(!e.need_task_ids);
        assert_eq!(e.task, Some(4));
        // Task 0 is no task: a plain emit, as Storm reads it.
        let FromChild::Emit(e) =
            parse(r#"{"command":"emit","tuple":["x"],"task":0,"need_task_ids":true}"#).unwrap()
        else {
            panic!()
        };
        assert_eq!(e.task, None);
        assert!(e.need_task_ids);
    }

    #[test]
    fn lists_travel_as_their_json_text_and_numeric_ids_as_text() {
        let FromChild::Emit(e) =
            parse(r#"{"command":"emit","tuple":[[1,2],{"k":"v"}],"id":12}"#).unwrap()
        else {
            panic!()
        };
        assert_eq!(e.values, [Val::str("[1,2]"), Val::str(r#"{"k":"v"}"#)]);
        assert_eq!(e.id, Some(json!(12)));
        assert_eq!(
            parse(r#"{"command":"ack","id":5}"#),
            Ok(FromChild::Ack("5".into()))
        );
    }

    #[test]
    fn what_is_not_the_protocol_is_named() {
        for (text, expected) in [
            ("hello world", "not a JSON message"),
            ("[1,2]", "JSON object"),
            (r#"{"x":1}"#, "without a \"command\""),
            (r#"{"command":"dance"}"#, "unknown command"),
            (r#"{"command":"ack"}"#, "without an id"),
            (r#"{"command":"emit"}"#, "without a \"tuple\""),
            (
                r#"{"command":"emit","tuple":[],"anchors":"x"}"#,
                "must be a list",
            ),
            (
                r#"{"command":"emit","tuple":[],"task":-3}"#,
                "not a task id",
            ),
        ] {
            let err = parse(text).unwrap_err();
            assert!(err.contains(expected), "{text}: {err}");
        }
    }

    #[test]
    fn messages_are_framed_with_end_and_values_round_trip() {
        let values = Values::from(vec![Val::str("w"), Val::Int(3), Val::Float(f64::NAN)]);
        let bytes = frame(&tuple("9", "split", "default", 4, &values));
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.ends_with("\nend\n"), "{text}");
        assert!(text.contains(r#""tuple":["w",3,null]"#), "{text}");
        assert_eq!(sample("ééé", 3), "\"é\"…");
    }
}
