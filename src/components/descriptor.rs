//! What a component is, as data: role, config schema, output shape, docs.

use std::collections::BTreeMap;

use crate::model::{DEFAULT_STREAM, Role, StreamDecl, System, Value, WindowSpec};

/// The type of one config parameter; drives the inspector widget and validation.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamKind {
    Int {
        min: i64,
        max: i64,
    },
    Float {
        min: f64,
        max: f64,
    },
    Bool,
    Text,
    /// One of a fixed list (a combo box in the inspector).
    Choice(&'static [&'static str]),
    /// The name of a field of the incoming stream.
    Field,
    /// A file or folder path, resolved relative to the topology file. What the
    /// component does there is part of the declaration, so the safety policy
    /// (`crate::policy`) can list it and the user can decide before a run starts.
    Path(PathUse),
    /// A host (name or address) the component listens on; the port is the `port`
    /// parameter of the same component. Anything but loopback needs the user's consent.
    ListenHost,
    /// The name of a node wired into this one (a join's left or right input), so the
    /// inspector can offer the actual upstreams instead of a free text box.
    Upstream,
    /// A list of texts (e.g. constructor arguments kept by a stand-in).
    List,
    /// A program to run and its arguments, as a list of texts (the program first). Running
    /// anything needs the user's consent, so the safety policy lists every such setting.
    Command,
}

impl ParamKind {
    /// Checks a value against this kind; the message says what was expected.
    pub fn check(&self, value: &Value) -> Result<(), String> {
        match (self, value) {
            (ParamKind::Int { min, max }, Value::Int(i)) => {
                if i < min || i > max {
                    Err(format!("{i} is out of range {min}..={max}"))
                } else {
                    Ok(())
                }
            }
            (ParamKind::Float { min, max }, v) if v.as_f64().is_some() => {
                let x = v.as_f64().unwrap_or_default();
                if !x.is_finite() || x < *min || x > *max {
                    Err(format!("{x} is out of range {min}..={max}"))
                } else {
                    Ok(())
                }
            }
            (ParamKind::Bool, Value::Bool(_)) => Ok(()),
            (
                ParamKind::Text
                | ParamKind::Field
                | ParamKind::Path(_)
                | ParamKind::ListenHost
                | ParamKind::Upstream,
                Value::Str(_),
            ) => Ok(()),
            (ParamKind::Choice(options), Value::Str(s)) => {
                if options.contains(&s.as_str()) {
                    Ok(())
                } else {
                    Err(format!("\"{s}\" is not one of {}", options.join(", ")))
                }
            }
            (ParamKind::List, Value::List(_)) => Ok(()),
            (ParamKind::Command, Value::List(items)) => {
                if items.is_empty() {
                    Err("the command is empty: give the program, then its arguments".into())
                } else if let Some(bad) = items.iter().find(|v| v.as_str().is_none()) {
                    Err(format!(
                        "every part of a command is text; found {} {bad}",
                        bad.type_name()
                    ))
                } else if items.first().and_then(Value::as_str) == Some("") {
                    Err("the program's name is empty".into())
                } else {
                    Ok(())
                }
            }
            (kind, v) => Err(format!(
                "expected {}, found {} {v}",
                kind.expected(),
                v.type_name()
            )),
        }
    }

    pub fn expected(&self) -> &'static str {
        match self {
            ParamKind::Int { .. } => "an integer",
            ParamKind::Float { .. } => "a number",
            ParamKind::Bool => "true or false",
            ParamKind::Text => "text",
            ParamKind::Choice(_) => "one of the listed choices",
            ParamKind::Field => "a field name",
            ParamKind::Path(_) => "a path",
            ParamKind::ListenHost => "a host name or address",
            ParamKind::Upstream => "the name of an upstream node",
            ParamKind::List => "a list",
            ParamKind::Command => "a command (a list of texts: the program, then its arguments)",
        }
    }
}

/// What a component does with a path parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathUse {
    /// Reads one file.
    ReadFile,
    /// Appends to (and creates) one file.
    WriteFile,
    /// Reads every file in a folder and renames each when done (Flume's spooling
    /// directory): the most destructive use, so it is named apart.
    ConsumeFolder,
    /// Creates the folder and writes, replaces and deletes files inside it.
    WriteFolder,
}

impl PathUse {
    /// How the permission prompt and refusals say it.
    pub fn verb(self) -> &'static str {
        match self {
            PathUse::ReadFile => "reads",
            PathUse::WriteFile => "writes",
            PathUse::ConsumeFolder => "reads and renames every file in",
            PathUse::WriteFolder => "creates and writes files in",
        }
    }
}

/// One config parameter of a component.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamSpec {
    pub key: &'static str,
    pub kind: ParamKind,
    /// `None` means the user must set it.
    pub default: Option<Value>,
    /// One line, shown as hover text in the inspector and in `--help`-style listings.
    pub doc: &'static str,
}

/// What a component emits, so nodes can declare their output fields correctly.
#[derive(Debug, Clone, PartialEq)]
pub enum OutputShape {
    /// Nothing (sinks).
    None,
    /// Fixed fields on the default stream; entries starting with `$` name a config key
    /// whose value is the field name (split's `$into` becomes `word`).
    Fields(&'static [&'static str]),
    /// Whatever arrives leaves with the same fields (filters, channels, stand-ins).
    SameAsInput,
    /// A join: the `key` field, then the left input's other fields, then the right
    /// input's. Only the key is known without the wiring; validation names the rest.
    Joined,
    /// Whatever the node declares: the component is the user's own code (a shell bolt),
    /// so only the user knows its fields. A new node starts with these on `default`.
    Declared(&'static [&'static str]),
}

/// A component as the registry knows it.
#[derive(Debug, Clone)]
pub struct ComponentDescriptor {
    pub id: &'static str,
    pub title: &'static str,
    /// Palette group.
    pub system: System,
    /// Roles this component can play; the first is used when it is dragged from the palette.
    pub roles: &'static [Role],
    pub doc: &'static str,
    pub params: Vec<ParamSpec>,
    pub outputs: OutputShape,
    /// Windowed operators get this window when created; validation requires one.
    pub default_window: Option<WindowSpec>,
    /// Stand-ins keep arbitrary properties, so unknown keys are not errors.
    pub open_config: bool,
    /// Spark Streaming operators whose meaning is per batch (`join` of same-time batches,
    /// `window` re-emitting batches): validation refuses them in record-at-a-time mode
    /// rather than run them with a different meaning.
    pub micro_batch_only: bool,
    /// What each task keeps in memory across tuples, named as the designer says it
    /// ("counts", "window"): state a record-at-a-time restart (a crash, Kill worker)
    /// loses. `None` for components whose tasks keep nothing a restart could lose.
    pub task_state: Option<&'static str>,
}

impl ComponentDescriptor {
    pub fn param(&self, key: &str) -> Option<&ParamSpec> {
        self.params.iter().find(|p| p.key == key)
    }

    pub fn requires_window(&self) -> bool {
        self.default_window.is_some()
    }

    /// The output fields this component produces with this config, given the fields of
    /// its (first) input stream.
    pub fn output_fields(
        &self,
        config: &BTreeMap<String, Value>,
        input_fields: &[String],
    ) -> Option<Vec<String>> {
        match &self.outputs {
            OutputShape::None => None,
            OutputShape::SameAsInput => Some(input_fields.to_vec()),
            OutputShape::Joined => Some(vec![self.config_text(config, "key")]),
            OutputShape::Declared(fields) => Some(fields.iter().map(|f| f.to_string()).collect()),
            OutputShape::Fields(fields) => Some(
                fields
                    .iter()
                    .map(|f| match f.strip_prefix('$') {
                        Some(key) => self.config_text(config, key),
                        None => f.to_string(),
                    })
                    .collect(),
            ),
        }
    }

    /// A text setting as configured, else its default, else the key's own name.
    pub fn config_text(&self, config: &BTreeMap<String, Value>, key: &str) -> String {
        config
            .get(key)
            .and_then(|v| v.as_str().map(str::to_string))
            .or_else(|| {
                self.param(key)
                    .and_then(|p| p.default.as_ref())
                    .and_then(|v| v.as_str().map(str::to_string))
            })
            .unwrap_or_else(|| key.to_string())
    }

    /// Declared output streams for a new node of this component.
    pub fn declared_outputs(
        &self,
        config: &BTreeMap<String, Value>,
        input_fields: &[String],
    ) -> Vec<StreamDecl> {
        match self.output_fields(config, input_fields) {
            Some(fields) => vec![StreamDecl {
                stream: DEFAULT_STREAM.to_string(),
                fields,
                direct: false,
            }],
            None => Vec::new(),
        }
    }
}
