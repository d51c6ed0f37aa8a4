//! Flux's text substitution, done before the YAML is parsed: `${key}` from the `--filter`
//! properties, then `${ENV-NAME}` from the environment when asked.
//!
//! Each pass (`format::placeholder`) reads its input once and never rescans what it
//! inserted, so the work is linear in the text plus what is inserted, and a value that
//! mentions another key cannot make the text grow exponentially (Flux's own
//! `String.replace` per key depends on the order of a hash map there). The result is
//! capped by the caller's byte budget.

use std::collections::HashMap;

use super::super::interop::{ImportError, ImportOptions};
use super::super::placeholder::substitute;
use super::super::{MAX_FILE_BYTES, properties, read_text};

/// Whether `c` can be part of a `--filter` key in `${key}`. Flux matches any key text;
/// Tributary's keys hold no `$` (where the next placeholder starts), no `}` (where this
/// one ends) and no line break, so that looking for the end of a key stops early and the
/// pass stays linear. A key with such a character is never replaced.
fn is_key_char(c: char) -> bool {
    !matches!(c, '$' | '}' | '\n' | '\r')
}

/// Whether `c` can be part of NAME in `${ENV-NAME}`: letters, digits, `_` and `.`.
fn is_env_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '.'
}

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
            substitute(text, "${", limit, is_key_char, |key| {
                self.properties.get(key).cloned()
            })?
        };
        if self.env {
            out = substitute(&out, "${ENV-", limit, is_env_name_char, |name| {
                (!name.is_empty()).then(|| std::env::var(name).ok())?
            })?;
        }
        Some(out)
    }
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
