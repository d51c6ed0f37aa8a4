//! Java `.properties` text, read and written by hand.
//!
//! Flume agent files and Flux `--filter` files are Java properties. A hand-written reader
//! keeps each entry's line number (for error messages) and the file's order (so exports
//! read like the original), and works on the text `format::limited` has already read,
//! bounded and checked. Crates that return a map lose both the order and the lines. The
//! `java-properties` crate's `PropertiesIter` does yield numbered lines in order, but it
//! decodes its own byte stream and reports its own errors; moving to it would change
//! what a user sees for a broken file, so it is left for a change that tests exactly that.

use std::fmt::Write as _;

/// One `key = value` entry, unescaped, with the line its key starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Property {
    pub key: String,
    pub value: String,
    pub line: usize,
}

/// A malformed escape, the only thing Java itself refuses in a properties file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct PropertiesError {
    pub line: usize,
    pub message: String,
}

/// Parses properties text as `java.util.Properties.load` does: `#`/`!` comments,
/// `=`, `:` or whitespace separators, `\` line continuations and escapes. Entries come
/// back in file order; a repeated key appears twice (callers decide that the last wins).
pub fn parse(text: &str) -> Result<Vec<Property>, PropertiesError> {
    let mut out = Vec::new();
    let mut lines = text.lines().enumerate().peekable();
    while let Some((index, raw)) = lines.next() {
        let first_line = index + 1;
        let trimmed = raw.trim_start_matches([' ', '\t', '\u{c}']);
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with('!') {
            continue;
        }
        let mut logical = String::new();
        let mut current = trimmed.to_string();
        loop {
            if ends_with_continuation(&current) {
                current.pop();
                logical.push_str(&current);
                match lines.next() {
                    Some((_, next)) => {
                        current = next.trim_start_matches([' ', '\t', '\u{c}']).to_string();
                    }
                    None => break,
                }
            } else {
                logical.push_str(&current);
                break;
            }
        }
        let (key, value) = split_entry(&logical);
        out.push(Property {
            key: unescape(key, first_line)?,
            value: unescape(value, first_line)?,
            line: first_line,
        });
    }
    Ok(out)
}

/// An odd number of trailing backslashes continues the line; an even number is escaped.
fn ends_with_continuation(line: &str) -> bool {
    line.chars().rev().take_while(|&c| c == '\\').count() % 2 == 1
}

/// Splits a logical line into raw (still escaped) key and value.
fn split_entry(line: &str) -> (&str, &str) {
    let mut escaped = false;
    let mut key_end = line.len();
    for (i, c) in line.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' => escaped = true,
            '=' | ':' | ' ' | '\t' | '\u{c}' => {
                key_end = i;
                break;
            }
            _ => {}
        }
    }
    let key = &line[..key_end];
    let mut rest = line[key_end..].trim_start_matches([' ', '\t', '\u{c}']);
    if let Some(stripped) = rest.strip_prefix(['=', ':']) {
        rest = stripped.trim_start_matches([' ', '\t', '\u{c}']);
    }
    (key, rest)
}

fn unescape(raw: &str, line: usize) -> Result<String, PropertiesError> {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('f') => out.push('\u{c}'),
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                let code = u32::from_str_radix(&hex, 16)
                    .ok()
                    .filter(|_| hex.len() == 4)
                    .and_then(char::from_u32)
                    .ok_or_else(|| PropertiesError {
                        line,
                        message: format!("malformed \\uXXXX escape: \\u{hex}"),
                    })?;
                out.push(code);
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    Ok(out)
}

/// Escapes a key so that `parse` reads it back unchanged.
pub fn escape_key(key: &str) -> String {
    escape(key, true)
}

/// Escapes a value so that `parse` reads it back unchanged.
pub fn escape_value(value: &str) -> String {
    escape(value, false)
}

fn escape(text: &str, is_key: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, c) in text.chars().enumerate() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{c}' => out.push_str("\\f"),
            ' ' if is_key || i == 0 => out.push_str("\\ "),
            '=' | ':' if is_key => {
                out.push('\\');
                out.push(c);
            }
            '#' | '!' if i == 0 => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(text: &str) -> Vec<(String, String)> {
        parse(text)
            .unwrap()
            .into_iter()
            .map(|p| (p.key, p.value))
            .collect()
    }

    #[test]
    fn separators_comments_and_continuations() {
        let got = pairs(
            "# comment\n! also\na = 1\nb:2\nc 3\n  d=four \\\n     five\ne\\ f = x\\:y\nempty\n",
        );
        let want = [
            ("a", "1"),
            ("b", "2"),
            ("c", "3"),
            ("d", "four five"),
            ("e f", "x:y"),
            ("empty", ""),
        ];
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn unicode_escapes_and_errors() {
        assert_eq!(pairs("k=\\u0041b")[0].1, "Ab");
        let err = parse("\n\nk=\\u00zz").unwrap_err();
        assert_eq!(err.line, 3);
    }

    #[test]
    fn escaping_round_trips() {
        for (k, v) in [("a b=c:d", " lead\\ing\nx"), ("#k", "!v"), ("k", "")] {
            let text = format!("{} = {}\n", escape_key(k), escape_value(v));
            assert_eq!(pairs(&text), [(k.to_string(), v.to_string())], "{text}");
        }
    }
}
