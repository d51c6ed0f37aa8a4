//! A problem found in a topology, addressed by the names the user sees.

use crate::model::Grouping;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The topology cannot run.
    Error,
    /// It runs, but probably not as intended.
    Warning,
}

impl Severity {
    pub fn label(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// What a diagnostic is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Location {
    Topology,
    Node(String),
    Edge {
        from: String,
        to: String,
        stream: String,
    },
    SinkGroup(String),
}

impl Location {
    pub(crate) fn sort_key(&self) -> (u8, String) {
        match self {
            Location::Topology => (0, String::new()),
            Location::Node(n) => (1, n.clone()),
            Location::Edge { from, to, stream } => (2, format!("{from}\u{0}{to}\u{0}{stream}")),
            Location::SinkGroup(g) => (3, g.clone()),
        }
    }

    /// The node names this location touches (the designer outlines them).
    pub fn nodes(&self) -> Vec<&str> {
        match self {
            Location::Node(n) => vec![n],
            Location::Edge { from, to, .. } => vec![from, to],
            _ => Vec::new(),
        }
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Topology => f.write_str("topology"),
            Location::Node(n) => write!(f, "node '{n}'"),
            Location::Edge { from, to, stream } if stream == crate::model::DEFAULT_STREAM => {
                write!(f, "edge '{from}' → '{to}'")
            }
            Location::Edge { from, to, stream } => {
                write!(f, "edge '{from}' → '{to}' (stream '{stream}')")
            }
            Location::SinkGroup(g) => write!(f, "sink group '{g}'"),
        }
    }
}

/// One problem: where, what, and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub location: Location,
    pub message: String,
    pub hint: String,
}

impl Diagnostic {
    pub fn error(location: Location, message: impl Into<String>, hint: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            location,
            message: message.into(),
            hint: hint.into(),
        }
    }

    pub fn warning(
        location: Location,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> Self {
        Self {
            severity: Severity::Warning,
            ..Self::error(location, message, hint)
        }
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {}: {}",
            self.severity.label(),
            self.location,
            self.message
        )?;
        if !self.hint.is_empty() {
            write!(f, " (hint: {})", self.hint)?;
        }
        Ok(())
    }
}

/// Short grouping text for messages.
pub(crate) fn grouping_text(g: &Grouping) -> String {
    g.label()
}
