//! Python text that is safe whatever a design file contains: string literals with every
//! character outside printable ASCII escaped, comment lines without line breaks, and
//! identifiers made from node names.

use std::collections::HashSet;

/// A Python string literal holding exactly `s`.
pub fn literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            ' '..='~' => out.push(c),
            c if (c as u32) <= 0xFFFF => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// A list of string literals.
pub fn literal_list(items: &[String]) -> String {
    let inner: Vec<String> = items.iter().map(|s| literal(s)).collect();
    format!("[{}]", inner.join(", "))
}

/// Text for inside a `#` comment: control characters (line breaks among them) become
/// spaces, so a name or description cannot end the comment.
pub fn comment_text(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// `text` as `# ` comment lines of at most `width` characters, indented by `indent`.
pub fn comment_block(text: &str, indent: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in comment_text(text).split(' ').filter(|w| !w.is_empty()) {
        if !line.is_empty() && line.chars().count() + word.chars().count() + 1 > width {
            out.push_str(&format!("{indent}# {line}\n"));
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        out.push_str(&format!("{indent}# {line}\n"));
    }
    out
}

/// Python identifiers for node names: letters, digits and `_` kept, the rest `_`,
/// distinct from each other and from Python's keywords.
#[derive(Default)]
pub struct Names {
    taken: HashSet<String>,
}

/// Python's keywords, and every name the job itself uses where a node's variable could
/// shadow it (the prelude's helpers and imports, the queries' locals, builtins).
const KEYWORDS: &[&str] = &[
    "False",
    "None",
    "True",
    "and",
    "as",
    "assert",
    "async",
    "await",
    "break",
    "class",
    "continue",
    "def",
    "del",
    "elif",
    "else",
    "except",
    "finally",
    "for",
    "from",
    "global",
    "if",
    "import",
    "in",
    "is",
    "lambda",
    "nonlocal",
    "not",
    "or",
    "pass",
    "raise",
    "return",
    "try",
    "while",
    "with",
    "yield",
    "argparse",
    "decimal",
    "math",
    "os",
    "sys",
    "tempfile",
    "time",
    "SparkSession",
    "F",
    "T",
    "MASK64",
    "BASE",
    "START_MS",
    "JOB_NAME",
    "PARTITIONS",
    "TRIGGER",
    "QUERIES",
    "SYLLABLES",
    "splitmix64",
    "derive_seed",
    "Xoshiro256pp",
    "vocabulary_word",
    "sentence_pool",
    "pick",
    "sentence_records",
    "word_records",
    "generated",
    "file_lines",
    "union_all",
    "trimmed",
    "mapped",
    "passes",
    "show",
    "resolve",
    "append_lines",
    "log_rows",
    "with_copies",
    "window_end_ms",
    "session",
    "arguments",
    "start_queries",
    "pack",
    "unpack",
    "renamed",
    "run",
    "main",
    "spark",
    "df",
    "batch",
    "batch_id",
    "streams",
    "each_batch",
    "rows",
    "write",
    "make",
    "str",
    "int",
    "len",
    "max",
    "min",
    "print",
    "open",
    "dict",
    "list",
    "set",
    "range",
];

impl Names {
    pub fn fresh(&mut self, name: &str) -> String {
        let mut base: String = name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        if base.is_empty() || base.starts_with(|c: char| c.is_ascii_digit()) {
            base.insert(0, 'n');
        }
        if KEYWORDS.contains(&base.as_str()) {
            base.push('_');
        }
        let mut candidate = base.clone();
        let mut n = 2;
        while self.taken.contains(&candidate) {
            candidate = format!("{base}_{n}");
            n += 1;
        }
        self.taken.insert(candidate.clone());
        candidate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_escape_everything_unusual() {
        assert_eq!(literal("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(literal("x\ny"), r#""x\u000ay""#);
        assert_eq!(literal("é😀"), r#""\u00e9\U0001f600""#);
    }

    #[test]
    fn comments_cannot_be_broken_out_of() {
        assert_eq!(comment_text("a\nimport os\rb"), "a import os b");
        assert_eq!(
            comment_block("one two three", "", 8),
            "# one two\n# three\n"
        );
    }

    #[test]
    fn names_are_identifiers_and_distinct() {
        let mut names = Names::default();
        assert_eq!(names.fresh("split"), "split");
        assert_eq!(names.fresh("split"), "split_2");
        assert_eq!(names.fresh("clicks-last 2s"), "clicks_last_2s");
        assert_eq!(names.fresh("9lives"), "n9lives");
        assert_eq!(names.fresh("class"), "class_");
    }
}
