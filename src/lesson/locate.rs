//! Where things are in a lesson's text, for problems found after parsing (a step that
//! names a node its topology lacks). The RON parser keeps no positions for values, so
//! this scans the text itself: strings and comments are skipped, brackets counted.
//! Every function returns `None` rather than guessing when the text is not as expected.

use crate::format::TextPos;

/// The 1-based line and column of byte `offset` in `text`.
pub fn pos_of(text: &str, offset: usize) -> TextPos {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    TextPos {
        line,
        col: before[line_start..].chars().count() + 1,
    }
}

/// Byte offsets of the code (outside strings and comments) of `text`, in order, with
/// the bracket depth before each byte.
fn code_bytes(text: &str) -> Vec<(usize, u8, usize)> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let (mut i, mut depth) = (0, 0usize);
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'"' => {
                out.push((i, b, depth));
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'(' | b'[' | b'{' => {
                out.push((i, b, depth));
                depth += 1;
            }
            b')' | b']' | b'}' => {
                depth = depth.saturating_sub(1);
                out.push((i, b, depth));
            }
            _ => out.push((i, b, depth)),
        }
        i += 1;
    }
    out
}

/// Where the top-level field `name:` of the lesson is (its first letter).
pub fn key(text: &str, name: &str) -> Option<TextPos> {
    let code = code_bytes(text);
    let needle = name.as_bytes();
    code.iter().find_map(|&(i, _, depth)| {
        let is_key = depth == 1
            && text.as_bytes()[i..].starts_with(needle)
            && text[i + needle.len()..].trim_start().starts_with(':')
            && (i == 0 || !text.as_bytes()[i - 1].is_ascii_alphanumeric());
        is_key.then(|| pos_of(text, i))
    })
}

/// Byte offsets where each element of the top-level list `name: [ … ]` starts.
pub fn list_elements(text: &str, name: &str) -> Vec<usize> {
    let code = code_bytes(text);
    let Some(start) = key(text, name).and_then(|p| offset_of(text, p)) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut iter = code.iter().skip_while(|(i, _, _)| *i < start);
    // The list's opening bracket, at depth 1.
    let Some(&(_, _, list_depth)) = iter.find(|(_, b, d)| *b == b'[' && *d == 1) else {
        return out;
    };
    let inner = list_depth + 1;
    let mut expecting = true;
    for &(i, b, depth) in iter {
        if b == b']' && depth == list_depth {
            break;
        }
        if depth == inner && b == b',' {
            expecting = true;
            continue;
        }
        if expecting && depth >= inner && !b.is_ascii_whitespace() {
            out.push(i);
            expecting = false;
        }
    }
    out
}

fn offset_of(text: &str, p: TextPos) -> Option<usize> {
    let line_start = if p.line == 1 {
        0
    } else {
        text.match_indices('\n').nth(p.line - 2)?.0 + 1
    };
    let rest = &text[line_start..];
    let col = rest
        .char_indices()
        .nth(p.col - 1)
        .map_or(rest.len(), |(i, _)| i);
    Some(line_start + col)
}

/// Where step `index` (0-based) starts.
pub fn step(text: &str, index: usize) -> Option<TextPos> {
    list_elements(text, "steps")
        .get(index)
        .map(|&i| pos_of(text, i))
}

/// Where `name` first appears inside step `index`: as a quoted string (`"count"`),
/// else as a variant written with brackets (`KillWorker(`); else the step itself.
pub fn in_step(text: &str, index: usize, name: &str) -> Option<TextPos> {
    let elements = list_elements(text, "steps");
    let start = *elements.get(index)?;
    let end = elements.get(index + 1).copied().unwrap_or(text.len());
    let region = &text[start..end];
    let found = (!name.is_empty())
        .then(|| {
            region
                .find(&format!("\"{name}\""))
                .or_else(|| region.find(&format!("{name}(")))
        })
        .flatten();
    Some(pos_of(text, start + found.unwrap_or(0)))
}

/// Where `"name"` (quoted) first appears at or after byte `from`.
pub fn quoted(text: &str, name: &str, from: usize) -> Option<TextPos> {
    let quoted = format!("\"{name}\"");
    text.get(from..)?
        .find(&quoted)
        .map(|i| pos_of(text, from + i))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"(
    version: 1,
    title: "a [tricky] ( title",
    // steps: [ a comment ]
    steps: [
        (text: "one", actions: [LabStep(2)]),
        ( text: "two \" ( [", highlight: [Node("count")] ),
    ],
)"#;

    #[test]
    fn steps_and_names_are_found_past_strings_and_comments() {
        assert_eq!(key(TEXT, "title"), Some(TextPos { line: 3, col: 5 }));
        assert_eq!(key(TEXT, "steps"), Some(TextPos { line: 5, col: 5 }));
        assert_eq!(step(TEXT, 0), Some(TextPos { line: 6, col: 9 }));
        assert_eq!(step(TEXT, 1), Some(TextPos { line: 7, col: 9 }));
        assert_eq!(step(TEXT, 2), None);
        assert_eq!(
            in_step(TEXT, 1, "count"),
            Some(TextPos { line: 7, col: 48 })
        );
        assert_eq!(
            in_step(TEXT, 0, "count"),
            step(TEXT, 0),
            "not there: the step"
        );
    }
}
