//! The RON parser's complaints in the user's words.
//!
//! `ron` and `serde` describe a problem in terms of the Rust types being filled in
//! (`Expected struct FileRecord but found topology`, `… in NodeRecord`, `expected u32`).
//! Those names mean nothing to someone editing a topology file, and they change whenever
//! the code does. This module is the one place that turns a parser error into a message
//! about the file: records are named for what they are in the file (a node, an edge,
//! the settings), numbers for what they may hold. No message it returns names a Rust
//! type.

/// What each type the file format is read into is called in a message: the type's
/// name as serde reports it, then the user's words for it.
const RECORDS: &[(&str, &str)] = &[
    ("FileRecord", "the topology"),
    ("VersionProbe", "the topology"),
    ("NodeRecord", "a node"),
    ("EdgeRecord", "an edge"),
    ("StreamDecl", "an output stream"),
    ("WindowSpec", "a window"),
    ("WindowSize", "a window size"),
    ("Pos", "a position `(x, y)`"),
    ("SinkGroup", "a sink group"),
    ("SinkProcessor", "a sink processor"),
    ("ExecutionMode", "an execution mode"),
    ("Settings", "the settings"),
    ("Grouping", "a grouping"),
    ("Role", "a role"),
    ("System", "a system"),
    (
        "Value",
        "a config value (a number, text, true or false, or a list)",
    ),
    // Lesson files (`crate::lesson::file`).
    ("LessonRecord", "the lesson"),
    ("Step", "a step"),
    ("Action", "an action"),
    ("Highlight", "a highlight"),
    ("Check", "a check (`Question(…)` or `Expect([…])`)"),
    ("Answer", "an answer (`TaskOf`, `Count` or `Holds`)"),
    ("Expect", "an expectation `(metric, op, number)`"),
    ("Metric", "a metric"),
    ("Op", "a comparison (`Eq`, `Ne`, `Gt`, `Ge`, `Lt` or `Le`)"),
    (
        "TopologySource",
        "a topology (`File(\"…\")` or `Inline(\"…\")`)",
    ),
    ("Engine", "an engine (`Lab` or `Live`)"),
    (
        "UntilEvent",
        "an event (`Emitted`, `Acked`, `Failed`, `Timeout` or `Window`)",
    ),
];

/// Rust's number and text types as serde names them in "expected …".
const PRIMITIVES: &[(&str, &str)] = &[
    ("u8", "a whole number from 0 to 255"),
    ("u16", "a whole number from 0 to 65535"),
    ("u32", "a whole number from 0 to 4294967295"),
    ("u64", "a whole number of 0 or more"),
    ("usize", "a whole number of 0 or more"),
    ("i32", "a whole number"),
    ("i64", "a whole number"),
    ("f32", "a number"),
    ("f64", "a number"),
    ("bool", "true or false"),
    ("char", "a character"),
];

/// The user's words for a type serde named, with or without its `struct `/`enum `
/// prefix; anything unknown is called "a value" rather than shown.
fn describe(name: &str) -> &'static str {
    let bare = name
        .trim()
        .trim_start_matches("tuple struct ")
        .trim_start_matches("struct ")
        .trim_start_matches("enum ");
    RECORDS
        .iter()
        .chain(PRIMITIVES)
        .find(|(rust, _)| *rust == bare)
        .map_or("a value", |(_, words)| *words)
}

/// `in the topology`, `in a node`, or nothing when the parser did not say where.
fn inside(outer: Option<&String>) -> String {
    outer.map_or(String::new(), |o| format!(" in {}", describe(o)))
}

fn one_of(names: &[&str]) -> String {
    if names.is_empty() {
        return "none is allowed here".into();
    }
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    format!("expected one of {}", quoted.join(", "))
}

/// Replaces every type name serde may have put into a free-text message (`invalid
/// type: …, expected struct NodeRecord`, `expected u32`) with the user's words. Only
/// whole words are replaced, so text quoted from the file keeps its spelling unless it
/// is itself a type name.
fn scrub(message: &str) -> String {
    let mut out = message.replace(
        "data did not match any variant of untagged enum ",
        "expected ",
    );
    for prefix in ["untagged enum ", "tuple struct ", "struct ", "enum "] {
        for (rust, words) in RECORDS {
            out = out.replace(&format!("{prefix}{rust}"), words);
        }
    }
    let mut result = String::with_capacity(out.len());
    let mut word = String::new();
    let flush = |word: &mut String, result: &mut String| {
        let known = RECORDS.iter().chain(PRIMITIVES).find(|(r, _)| *r == word);
        match known {
            Some((_, words)) => result.push_str(words),
            None => result.push_str(word),
        }
        word.clear();
    };
    for c in out.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            word.push(c);
        } else {
            flush(&mut word, &mut result);
            result.push(c);
        }
    }
    flush(&mut word, &mut result);
    result
}

/// The message for one parser error, about the file and never about the code.
pub fn user_message(code: &ron::Error) -> String {
    use ron::Error as E;
    match code {
        // The parser's limit counts its own levels (a list inside a config value costs
        // two), not brackets, so the message gives no number the user could count.
        E::ExceededRecursionLimit => {
            "brackets nest too deeply here; topology files need only a few levels".to_string()
        }
        E::ExpectedDifferentStructName { expected, found } => format!(
            "expected {} written as `( … )`, but found the name `{found}` before it; remove the name",
            describe(expected)
        ),
        E::ExpectedNamedStructLike(name) => {
            format!("expected `(` to open {}", describe(name))
        }
        E::ExpectedStructName(name) => format!("expected {}", describe(name)),
        E::NoSuchStructField {
            expected,
            found,
            outer,
        } => format!(
            "unknown field `{found}`{}; {}",
            inside(outer.as_ref()),
            one_of(expected)
        ),
        E::MissingStructField { field, outer } => {
            format!("missing field `{field}`{}", inside(outer.as_ref()))
        }
        E::DuplicateStructField { field, outer } => {
            format!("field `{field}` is given twice{}", inside(outer.as_ref()))
        }
        E::NoSuchEnumVariant {
            expected,
            found,
            outer,
        } => match outer {
            Some(o) => format!("`{found}` is not {}; {}", describe(o), one_of(expected)),
            None => format!("unknown name `{found}`; {}", one_of(expected)),
        },
        E::InvalidValueForType { expected, found } => {
            format!("expected {} but found {}", scrub(expected), scrub(found))
        }
        E::ExpectedDifferentLength { expected, found } => format!(
            "expected {} but found {found} element{}",
            scrub(expected),
            if *found == 1 { "" } else { "s" }
        ),
        // Every other error (`Expected closing )`, `Unexpected char`, a custom
        // message from serde) is about the text, in ron's words; a type name a custom
        // message may carry is replaced all the same.
        other => scrub(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_names_become_what_the_file_calls_them() {
        let named = ron::Error::ExpectedDifferentStructName {
            expected: "FileRecord",
            found: "topology".into(),
        };
        let text = user_message(&named);
        assert!(text.contains("the topology"), "{text}");
        assert!(!text.contains("FileRecord"), "{text}");
        let missing = ron::Error::MissingStructField {
            field: "role",
            outer: Some("NodeRecord".into()),
        };
        assert_eq!(user_message(&missing), "missing field `role` in a node");
        let wrong = ron::Error::InvalidValueForType {
            expected: "u32".into(),
            found: "the signed integer `-3`".into(),
        };
        assert!(
            user_message(&wrong).starts_with("expected a whole number from 0"),
            "{}",
            user_message(&wrong)
        );
    }

    #[test]
    fn free_text_keeps_quoted_file_text_but_not_type_names() {
        assert_eq!(
            scrub("invalid type: string \"x\", expected struct NodeRecord"),
            "invalid type: string \"x\", expected a node"
        );
        assert_eq!(
            scrub("expected u32"),
            "expected a whole number from 0 to 4294967295"
        );
        assert_eq!(scrub("`sentences` is fine"), "`sentences` is fine");
        assert_eq!(
            scrub("data did not match any variant of untagged enum Value"),
            "expected a config value (a number, text, true or false, or a list)"
        );
    }
}
