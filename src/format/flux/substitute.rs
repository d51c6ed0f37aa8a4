//! Flux's text substitution, done before the YAML is parsed: `${key}` from the `--filter`
//! properties, then `${ENV-NAME}` from the environment when asked.
//!
//! Each pass reads its input once and never rescans what it inserted, so the work is
//! linear in the text plus what is inserted, and a value that mentions another key cannot
//! make the text grow exponentially (Flux's own `String.replace` per key depends on the
//! order of a hash map there). The result is capped by the caller's byte budget.

use std::collections::HashMap;

use super::super::interop::{ImportError, ImportOptions};
use super::super::{MAX_FILE_BYTES, properties, read_text};

/// Substitutions to apply to the text of every file read.
pub struct Filter {
    properties: HashMap<String, String>,
    env: bool,
}

impl Filter {
    /// Reads the `--filter` properties file, if any; the last value of a key wins.
    pub fn from_options(options: &ImportOptions) -> Result<Self, ImportError> {
        let mut props = HashMap::new();
        if let Some(path) = &options.filter {
            let text = read_text(path, MAX_FILE_BYTES)?;
            let parsed = properties::parse(&text).map_err(|e| ImportError::Syntax {
                path: path.clone(),
                line: e.line,
                col: 1,
                message: e.message,
            })?;
            for p in parsed {
                props.insert(p.key, p.value);
            }
        }
        Ok(Self {
            properties: props,
            env: options.env,
        })
    }

    /// Replaces placeholders in raw text, as Flux does before parsing; `None` when the
    /// result would be longer than `limit` bytes.
    pub fn apply(&self, text: &str, limit: u64) -> Option<String> {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let mut out = if self.properties.is_empty() {
            (text.len() <= limit).then(|| text.to_string())?
        } else {
            substitute(text, "${", limit, |key| self.properties.get(key).cloned())?
        };
        if self.env {
            out = substitute(&out, "${ENV-", limit, |name| {
                let valid = !name.is_empty()
                    && name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
                valid.then(|| std::env::var(name).ok()).flatten()
            })?;
        }
        Some(out)
    }
}

/// Replaces `OPEN name }` where `lookup(name)` knows the name; everything else is copied
/// as it is. `None` as soon as the result passes `limit` bytes.
fn substitute(
    text: &str,
    open: &str,
    limit: usize,
    lookup: impl Fn(&str) -> Option<String>,
) -> Option<String> {
    let mut out = String::with_capacity(text.len().min(limit));
    let mut rest = text;
    while let Some(start) = rest.find(open) {
        out.push_str(&rest[..start]);
        let after = &rest[start + open.len()..];
        let value = after
            .find('}')
            .and_then(|end| lookup(&after[..end]).map(|v| (v, end)));
        match value {
            Some((value, end)) => {
                out.push_str(&value);
                rest = &after[end + 1..];
            }
            None => {
                out.push_str(open);
                rest = after;
            }
        }
        if out.len() > limit {
            return None;
        }
    }
    out.push_str(rest);
    (out.len() <= limit).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(pairs: &[(&str, &str)], env: bool) -> Filter {
        Filter {
            properties: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            env,
        }
    }

    fn apply(f: &Filter, text: &str) -> String {
        f.apply(text, MAX_FILE_BYTES).unwrap()
    }

    #[test]
    fn filter_replaces_known_keys_only() {
        let f = filter(&[("a.b", "x"), ("a", "short")], false);
        assert_eq!(apply(&f, "${a.b} ${a.c} $${a.b} ${a}"), "x ${a.c} $x short");
    }

    #[test]
    fn inserted_values_are_not_substituted_again() {
        let f = filter(&[("a", "${b}${b}"), ("b", "${a}${a}")], false);
        assert_eq!(apply(&f, "${a}|${b}"), "${b}${b}|${a}${a}");
    }

    #[test]
    fn env_substitution_needs_a_set_variable() {
        // Reads only; PATH is set in every test environment we run.
        let path = std::env::var("PATH").unwrap_or_default();
        let f = filter(&[], true);
        assert_eq!(apply(&f, "p=${ENV-PATH}"), format!("p={path}"));
        assert_eq!(
            apply(&f, "${ENV-TRIBUTARY_SURELY_UNSET_VAR} ${ENV-"),
            "${ENV-TRIBUTARY_SURELY_UNSET_VAR} ${ENV-"
        );
    }

    #[test]
    fn property_values_may_name_environment_variables() {
        let f = filter(&[("p", "${ENV-PATH}")], true);
        let path = std::env::var("PATH").unwrap_or_default();
        assert_eq!(apply(&f, "${p}"), path);
    }

    #[test]
    fn growth_past_the_limit_stops_early() {
        let f = filter(&[("k", &"x".repeat(1000))], false);
        let text = "${k}".repeat(1000);
        assert_eq!(f.apply(&text, 1_000_000).map(|t| t.len()), Some(1_000_000));
        assert_eq!(f.apply(&text, 999_999), None);
        assert_eq!(filter(&[], false).apply("abc", 2), None);
    }
}
