//! YAML text for Storm, written by hand. Storm reads Flux files with SnakeYAML, a YAML 1.1
//! parser, where an unquoted `yes`, `off` or `2024-01-01` is not a string; a general
//! YAML 1.2 writer leaves those bare. Here every string value is double-quoted (the style of
//! Flux's own examples), lists of plain values are written inline, and keys are bare only
//! when no YAML version could read them as anything but text.

use std::fmt::Write as _;

use serde_norway::{Mapping, Value as Yaml};

/// The document text of a top-level mapping.
pub fn document(doc: &Mapping) -> String {
    let mut out = String::new();
    block_mapping(&mut out, doc, 0, None);
    out
}

fn block_mapping(out: &mut String, map: &Mapping, indent: usize, first_prefix: Option<&str>) {
    if map.is_empty() {
        let _ = writeln!(out, "{}{{}}", first_prefix.unwrap_or(""));
        return;
    }
    for (i, (key, value)) in map.iter().enumerate() {
        match (i, first_prefix) {
            (0, Some(prefix)) => out.push_str(prefix),
            _ => out.push_str(&" ".repeat(indent)),
        }
        out.push_str(&key_text(key));
        out.push(':');
        value_after_key(out, value, indent);
    }
}

fn value_after_key(out: &mut String, value: &Yaml, indent: usize) {
    match value {
        Yaml::Mapping(m) if !m.is_empty() => {
            out.push('\n');
            block_mapping(out, m, indent + 2, None);
        }
        Yaml::Sequence(items) if items.iter().any(|i| i.is_mapping()) => {
            out.push('\n');
            block_sequence(out, items, indent);
        }
        other => {
            out.push(' ');
            out.push_str(&flow(other));
            out.push('\n');
        }
    }
}

/// A list of mappings (spouts, bolts, streams), one `- key: value` block per item.
fn block_sequence(out: &mut String, items: &[Yaml], indent: usize) {
    let pad = " ".repeat(indent);
    for item in items {
        match item {
            Yaml::Mapping(m) if !m.is_empty() => {
                block_mapping(out, m, indent + 2, Some(&format!("{pad}- ")));
            }
            other => {
                let _ = writeln!(out, "{pad}- {}", flow(other));
            }
        }
    }
}

/// Inline (flow) form, JSON-like, which YAML 1.1 and 1.2 read the same way.
fn flow(value: &Yaml) -> String {
    match value {
        Yaml::Null => "null".into(),
        Yaml::Bool(b) => b.to_string(),
        Yaml::Number(n) => n.to_string(),
        Yaml::String(s) => quote(s),
        Yaml::Sequence(items) => {
            let inner: Vec<String> = items.iter().map(flow).collect();
            format!("[{}]", inner.join(", "))
        }
        Yaml::Mapping(m) => {
            let inner: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{}: {}", flow_key(k), flow(v)))
                .collect();
            format!("{{{}}}", inner.join(", "))
        }
        Yaml::Tagged(tagged) => format!("{} {}", tagged.tag, flow(&tagged.value)),
    }
}

fn flow_key(key: &Yaml) -> String {
    match key {
        Yaml::String(s) if is_plain_key(s) => s.clone(),
        Yaml::String(s) => quote(s),
        other => flow(other),
    }
}

fn key_text(key: &Yaml) -> String {
    flow_key(key)
}

/// Keys like `topology.workers` or `className` stay bare; anything a YAML 1.1 reader
/// might take for a number, boolean, null or date is quoted.
fn is_plain_key(key: &str) -> bool {
    const SPECIAL: &[&str] = &[
        "y", "n", "yes", "no", "on", "off", "true", "false", "null", "~",
    ];
    let mut chars = key.chars();
    let starts_alpha = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    starts_alpha
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
        && !SPECIAL.contains(&key.to_ascii_lowercase().as_str())
}

/// A double-quoted scalar; JSON's escapes are valid YAML escapes.
fn quote(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| format!("\"{}\"", text.escape_default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_1_1_lookalikes_stay_strings() {
        let doc: Mapping = serde_norway::from_str(
            "a: 'yes'\nb: '2024-01-01'\n'on': 1\nlist: [x, [1, 2.5]]\nitems:\n  - id: z\n    args: {k: v}\n",
        )
        .unwrap();
        let text = document(&doc);
        assert!(text.contains("a: \"yes\""), "{text}");
        assert!(text.contains("b: \"2024-01-01\""), "{text}");
        assert!(text.contains("\"on\": 1"), "{text}");
        assert!(text.contains("list: [\"x\", [1, 2.5]]"), "{text}");
        let again: Mapping = serde_norway::from_str(&text).unwrap();
        assert_eq!(again, doc);
    }
}
