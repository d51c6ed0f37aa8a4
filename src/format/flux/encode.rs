//! Moving YAML values into Tributary's config values and back without loss.
//!
//! A config [`Value`] holds scalars and lists. YAML that fits (strings, numbers, lists of
//! them) is stored as is, so the inspector shows it plainly; anything else (maps, `ref:`
//! arguments, nulls) is stored as JSON text under the key prefixed with [`JSON_PREFIX`],
//! and turned back into the same YAML on export.

use serde_norway::Value as Yaml;

use crate::model::Value;

/// Marks a config key whose value is JSON text standing for structured YAML.
pub const JSON_PREFIX: &str = "json:";

/// Deepest list nesting stored as a plain value; deeper data is kept as JSON text, so
/// the saved RON stays well inside the RON reader's nesting limit.
const MAX_PLAIN_DEPTH: usize = 8;

/// Converts YAML to a config value when that loses nothing.
pub fn to_value(yaml: &Yaml) -> Option<Value> {
    to_value_at(yaml, 0)
}

fn to_value_at(yaml: &Yaml, depth: usize) -> Option<Value> {
    if depth > MAX_PLAIN_DEPTH {
        return None;
    }
    match yaml {
        Yaml::Bool(b) => Some(Value::Bool(*b)),
        Yaml::Number(n) => {
            if let Some(i) = n.as_i64() {
                Some(Value::Int(i))
            } else if n.is_f64() {
                n.as_f64().filter(|x| x.is_finite()).map(Value::Float)
            } else {
                None
            }
        }
        Yaml::String(s) => Some(Value::Str(s.clone())),
        Yaml::Sequence(items) => items
            .iter()
            .map(|item| to_value_at(item, depth + 1))
            .collect::<Option<_>>()
            .map(Value::List),
        _ => None,
    }
}

/// The YAML a config value stands for.
pub fn to_yaml(value: &Value) -> Yaml {
    match value {
        Value::Bool(b) => Yaml::Bool(*b),
        Value::Int(i) => Yaml::Number((*i).into()),
        Value::Float(x) => Yaml::Number((*x).into()),
        Value::Str(s) => Yaml::String(s.clone()),
        Value::List(items) => Yaml::Sequence(items.iter().map(to_yaml).collect()),
    }
}

/// Stores a YAML value under `key`: plainly if it fits a config value, else as JSON.
pub fn encode(key: &str, yaml: &Yaml) -> Result<(String, Value), String> {
    if let Some(value) = to_value(yaml) {
        return Ok((key.to_string(), value));
    }
    let json =
        to_json(yaml).map_err(|e| format!("'{key}' holds a value Tributary cannot keep: {e}"))?;
    Ok((format!("{JSON_PREFIX}{key}"), Value::Str(json)))
}

/// Canonical JSON text (keys sorted), so the same YAML always gives the same text
/// whatever order its mappings were written in.
pub fn to_json<T: serde::Serialize>(yaml: &T) -> Result<String, serde_json::Error> {
    serde_json::to_value(yaml).and_then(|v| serde_json::to_string(&v))
}

/// Reverses [`encode`]: the plain key and its YAML value.
pub fn decode(key: &str, value: &Value) -> Result<(String, Yaml), String> {
    match key.strip_prefix(JSON_PREFIX) {
        Some(plain) => Ok((plain.to_string(), parse_json(plain, value)?)),
        None => Ok((key.to_string(), to_yaml(value))),
    }
}

/// Parses JSON text kept by [`encode`] back into YAML.
pub fn parse_json(key: &str, value: &Value) -> Result<Yaml, String> {
    let text = value
        .as_str()
        .ok_or_else(|| format!("'{JSON_PREFIX}{key}' must be JSON text"))?;
    let json: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| format!("'{JSON_PREFIX}{key}' is not valid JSON: {e}"))?;
    serde_norway::to_value(json).map_err(|e| format!("'{JSON_PREFIX}{key}': {e}"))
}

/// A short rendering of a YAML value for error messages.
pub fn show(yaml: &Yaml) -> String {
    let text = serde_json::to_string(yaml).unwrap_or_else(|_| "?".into());
    if text.chars().count() > 60 {
        let cut: String = text.chars().take(57).collect();
        format!("{cut}...")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(text: &str) -> Yaml {
        serde_norway::from_str(text).unwrap()
    }

    #[test]
    fn plain_values_stay_plain_and_structure_becomes_json() {
        let (k, v) = encode("constructorArgs", &yaml("[[node, x.js], [word]]")).unwrap();
        assert_eq!(k, "constructorArgs");
        assert!(matches!(v, Value::List(_)));
        let original = yaml("[ref: mapper, 3, null]");
        let (k, v) = encode("constructorArgs", &original).unwrap();
        assert_eq!(k, "json:constructorArgs");
        assert_eq!(
            decode(&k, &v).unwrap(),
            ("constructorArgs".into(), original)
        );
    }

    #[test]
    fn deep_lists_become_json_so_saved_files_reload() {
        let deep = format!("{}{}", "[".repeat(40), "]".repeat(40));
        let (k, _) = encode("args", &yaml(&deep)).unwrap();
        assert_eq!(k, "json:args");
    }

    #[test]
    fn numbers_keep_their_kind() {
        assert_eq!(to_value(&yaml("1.0")), Some(Value::Float(1.0)));
        assert_eq!(to_value(&yaml("7")), Some(Value::Int(7)));
        assert_eq!(to_yaml(&Value::Float(1.0)), yaml("1.0"));
    }
}
