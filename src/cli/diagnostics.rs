//! Printing diagnostics in the compiler-like form terminals and editors understand.

use std::path::Path;

use tributary::validate::{Diagnostic, Location};

/// `FILE:LINE:COL: error: node 'x': message (hint: …)`. The line is found by searching
/// the file text for where the node or edge is written, so editors can jump there.
/// Names and values in it come from the file, so control characters and escape
/// sequences are shown as text (`\u{1b}`), never sent to the terminal as such.
pub fn render(path: &Path, text: &str, diagnostic: &Diagnostic) -> String {
    let position = locate(text, &diagnostic.location)
        .map(|(line, col)| format!(":{line}:{col}"))
        .unwrap_or_default();
    super::term::escape_lines(&format!("{}{position}: {diagnostic}", path.display()))
}

fn locate(text: &str, location: &Location) -> Option<(usize, usize)> {
    let needle = match location {
        Location::Node(name) => format!("name: {name:?}"),
        Location::Edge { from, .. } => format!("from: {from:?}"),
        Location::SinkGroup(name) => format!("name: {name:?}"),
        Location::Topology => return None,
    };
    let offset = text.find(&needle)?;
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    Some((line, col))
}
