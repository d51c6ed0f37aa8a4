//! Built-in processing bolts: split, map, filter, count by key, pass-through.

use std::sync::Arc;

use super::super::limits::{self, Refusal, TooLarge};
use super::super::tuple::{KeyMap, Tuple, Val, Values};
use super::{Behaviour, Bolt, Config, Emitter, Factory, Failed, TaskInfo};

/// Finds a named field in whatever stream a tuple arrives on, caching per stream.
pub struct FieldLookup {
    name: String,
    schemas: Arc<Vec<Vec<String>>>,
    cache: Vec<Option<Option<usize>>>,
}

impl FieldLookup {
    pub fn new(name: &str, info: &TaskInfo) -> Self {
        Self {
            name: name.to_string(),
            schemas: info.schemas.clone(),
            cache: vec![None; info.schemas.len()],
        }
    }

    /// Position of the field in `stream`'s schema, if it has one.
    #[inline]
    pub fn position(&mut self, stream: u32) -> Option<usize> {
        let s = stream as usize;
        match self.cache.get(s) {
            Some(Some(p)) => *p,
            _ => {
                let p = self
                    .schemas
                    .get(s)
                    .and_then(|f| f.iter().position(|x| *x == self.name));
                if let Some(slot) = self.cache.get_mut(s) {
                    *slot = Some(p);
                }
                p
            }
        }
    }

    /// The field's value in `t`, or a failure naming the field.
    #[inline]
    pub fn get<'t>(&mut self, t: &'t Tuple) -> Result<&'t Val, Failed> {
        self.position(t.stream)
            .and_then(|p| t.values.get(p))
            .ok_or_else(|| Failed(format!("no field '{}' in the input", self.name)))
    }

    pub fn is_empty_name(&self) -> bool {
        self.name.is_empty()
    }
}

struct Split {
    field: FieldLookup,
    separator: String,
}

impl Bolt for Split {
    fn execute(&mut self, input: &Tuple, out: &mut Emitter) -> Result<(), Failed> {
        // Borrow the text: cloning the shared string would bounce its reference count
        // between the spout's core and this one for every sentence.
        let text: std::borrow::Cow<'_, str> = match self.field.get(input)? {
            Val::Str(s) => std::borrow::Cow::Borrowed(s.as_str()),
            other => std::borrow::Cow::Owned(other.to_string()),
        };
        let mut emit = |word: &str| {
            let word = word.trim_ascii();
            let word = if word.is_ascii() { word } else { word.trim() };
            if !word.is_empty() {
                out.emit(Values::One(Val::str(word)));
            }
        };
        match self.separator.as_bytes() {
            // One ASCII byte (the usual space): a plain byte scan, which beats the
            // general pattern search for short words.
            [b] if b.is_ascii() => split_on_byte(&text, *b, &mut emit),
            [] => split_on_byte(&text, b' ', &mut emit),
            _ => text.split(self.separator.as_str()).for_each(&mut emit),
        }
        Ok(())
    }
}

/// Calls `f` on each piece of `text` between occurrences of the ASCII byte `sep`.
/// Cutting at an ASCII byte always lands on a character boundary.
fn split_on_byte(text: &str, sep: u8, mut f: impl FnMut(&str)) {
    let mut start = 0;
    for (i, &b) in text.as_bytes().iter().enumerate() {
        if b == sep {
            f(text.get(start..i).unwrap_or(""));
            start = i + 1;
        }
    }
    f(text.get(start..).unwrap_or(""));
}

pub fn split_factory(cfg: &Config) -> Factory {
    let (field, separator) = (cfg.text("field"), cfg.text("separator"));
    Arc::new(move |info: &TaskInfo| {
        Ok(Behaviour::Bolt(Box::new(Split {
            field: FieldLookup::new(&field, info),
            separator: separator.clone(),
        })))
    })
}

struct Map {
    field: FieldLookup,
    op: String,
    arg: String,
}

/// Applies a map operation. Operations that can grow a value (prefix, suffix,
/// replace) compute the length of the result first and refuse it above
/// [`limits::MAX_VALUE_BYTES`] before allocating: chained replaces would otherwise grow
/// a sentence exponentially. The others at most triple a value that is itself capped.
fn map_value(op: &str, arg: &str, v: &Val) -> Result<Val, TooLarge> {
    let s = v.to_string();
    Ok(match op {
        "uppercase" => Val::from(s.to_uppercase()),
        "lowercase" => Val::from(s.to_lowercase()),
        "trim" => Val::str(s.trim()),
        "length" => Val::Int(i64::try_from(s.chars().count()).unwrap_or(i64::MAX)),
        "reverse" => Val::from(s.chars().rev().collect::<String>()),
        "prefix" => {
            limits::check_len(arg.len().saturating_add(s.len()))?;
            Val::from(format!("{arg}{s}"))
        }
        "suffix" => {
            limits::check_len(s.len().saturating_add(arg.len()))?;
            Val::from(format!("{s}{arg}"))
        }
        "replace" => match arg.split_once("=>") {
            Some((from, to)) if !from.is_empty() => {
                limits::check_len(replaced_len(&s, from, to))?;
                Val::from(s.replace(from, to))
            }
            _ => v.clone(),
        },
        _ => v.clone(),
    })
}

/// The length `s.replace(from, to)` would have, without building it (the same
/// non-overlapping matches, left to right).
fn replaced_len(s: &str, from: &str, to: &str) -> usize {
    let n = s.matches(from).count();
    (s.len() - n * from.len()).saturating_add(n.saturating_mul(to.len()))
}

impl Bolt for Map {
    fn execute(&mut self, input: &Tuple, out: &mut Emitter) -> Result<(), Failed> {
        let pos = self
            .field
            .position(input.stream)
            .ok_or_else(|| Failed("the mapped field is not in the input".into()))?;
        let mut values = input.values.clone();
        if let Some(v) = input.values.get(pos) {
            match map_value(&self.op, &self.arg, v) {
                Ok(mapped) => values.set(pos, mapped),
                Err(too_large) => {
                    out.refuse(Refusal::TooLarge(too_large));
                    return Err(Failed(too_large.to_string()));
                }
            }
        }
        out.emit(values);
        Ok(())
    }
}

pub fn map_factory(cfg: &Config) -> Factory {
    let (field, op, arg) = (cfg.text("field"), cfg.text("op"), cfg.text("arg"));
    Arc::new(move |info: &TaskInfo| {
        Ok(Behaviour::Bolt(Box::new(Map {
            field: FieldLookup::new(&field, info),
            op: op.clone(),
            arg: arg.clone(),
        })))
    })
}

struct Filter {
    field: FieldLookup,
    op: String,
    value: String,
}

/// Does `v` pass `op value`? Numbers compare numerically when both sides parse.
pub fn passes(op: &str, v: &Val, value: &str) -> bool {
    let s = v.to_string();
    let numeric = v.as_f64().zip(value.trim().parse::<f64>().ok());
    let cmp = match numeric {
        Some((a, b)) => a.partial_cmp(&b),
        None => Some(s.as_str().cmp(value)),
    };
    use std::cmp::Ordering::*;
    match op {
        "eq" => cmp == Some(Equal),
        "ne" => cmp != Some(Equal),
        "contains" => s.contains(value),
        "starts_with" => s.starts_with(value),
        "ends_with" => s.ends_with(value),
        "gt" => cmp == Some(Greater),
        "ge" => matches!(cmp, Some(Greater | Equal)),
        "lt" => cmp == Some(Less),
        "le" => matches!(cmp, Some(Less | Equal)),
        _ => !s.is_empty() && !matches!(v, Val::Null),
    }
}

impl Bolt for Filter {
    fn execute(&mut self, input: &Tuple, out: &mut Emitter) -> Result<(), Failed> {
        if passes(&self.op, self.field.get(input)?, &self.value) {
            out.emit(input.values.clone());
        }
        Ok(())
    }
}

pub fn filter_factory(cfg: &Config) -> Factory {
    let (field, op, value) = (cfg.text("field"), cfg.text("op"), cfg.text("value"));
    Arc::new(move |info: &TaskInfo| {
        Ok(Behaviour::Bolt(Box::new(Filter {
            field: FieldLookup::new(&field, info),
            op: op.clone(),
            value: value.clone(),
        })))
    })
}

struct CountByKey {
    key: FieldLookup,
    counts: KeyMap<i64>,
    /// Key bytes this task took from the run's state budget, given back when the task
    /// ends (a restart starts from nothing).
    held_bytes: usize,
    info: TaskInfo,
}

impl Drop for CountByKey {
    fn drop(&mut self) {
        self.info.env.state.give(self.counts.len(), self.held_bytes);
        let env = &self.info.env;
        if env.stopping.load(std::sync::atomic::Ordering::Relaxed) {
            let counts = self.counts.iter().map(|(k, v)| (k.to_string(), *v));
            env.collected.add_final_counts(&self.info.node, counts);
        }
    }
}

impl Bolt for CountByKey {
    #[inline]
    fn execute(&mut self, input: &Tuple, out: &mut Emitter) -> Result<(), Failed> {
        let key = self.key.get(input)?;
        let count = match self.counts.get_mut(key) {
            Some(c) => {
                *c = c.saturating_add(1);
                *c
            }
            None => {
                // A new key takes room from the run's state budget; when it is full the
                // key is not counted (the input is acked, refused and logged once).
                let bytes = limits::state_entry_bytes(key);
                if let Err(refusal) = self.info.env.state.take(1, bytes) {
                    out.refuse(refusal);
                    return Ok(());
                }
                self.held_bytes += bytes;
                // Copy text keys into memory this thread owns. Short keys are inline
                // anyway; a long input string was allocated by the upstream thread, in
                // pages it keeps allocating from, and a key kept there would share cache
                // lines with those writes, so every later lookup would miss on it.
                let owned = match key {
                    Val::Str(s) => Val::str(s),
                    other => other.clone(),
                };
                self.counts.insert(owned, 1);
                1
            }
        };
        if out.is_live(0) {
            out.emit(Values::two(key.clone(), Val::Int(count)));
        } else {
            out.discard();
        }
        Ok(())
    }
}

pub fn count_factory(cfg: &Config) -> Factory {
    let key = cfg.text("key");
    Arc::new(move |info: &TaskInfo| {
        Ok(Behaviour::Bolt(Box::new(CountByKey {
            key: FieldLookup::new(&key, info),
            counts: KeyMap::default(),
            held_bytes: 0,
            info: info.clone(),
        })))
    })
}

/// Emits its input unchanged (stand-ins, Flume channels).
struct PassThrough {
    has_output: bool,
}

impl Bolt for PassThrough {
    fn execute(&mut self, input: &Tuple, out: &mut Emitter) -> Result<(), Failed> {
        if self.has_output {
            out.emit(input.values.clone());
        }
        Ok(())
    }
}

pub fn pass_through_factory() -> Factory {
    Arc::new(|info: &TaskInfo| {
        Ok(Behaviour::Bolt(Box::new(PassThrough {
            has_output: !info.consumers.is_empty(),
        })))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_compares_numbers_numerically() {
        assert!(passes("gt", &Val::Int(10), "9"));
        assert!(!passes("gt", &Val::str("10"), "9x"));
        assert!(passes("contains", &Val::str("hello"), "ell"));
        assert!(!passes("not_empty", &Val::str(""), ""));
    }

    #[test]
    fn map_ops() {
        assert_eq!(
            map_value("uppercase", "", &Val::str("ab")),
            Ok(Val::str("AB"))
        );
        assert_eq!(map_value("length", "", &Val::str("abc")), Ok(Val::Int(3)));
        assert_eq!(
            map_value("replace", "a=>o", &Val::str("cat")),
            Ok(Val::str("cot"))
        );
    }

    #[test]
    fn replace_knows_its_length_before_building_it() {
        for (s, from, to) in [("a b a", "a", "xyz"), ("aaaa", "aa", ""), ("abc", "z", "q")] {
            assert_eq!(replaced_len(s, from, to), s.replace(from, to).len());
        }
    }

    #[test]
    fn growth_past_the_value_cap_is_refused_before_allocating() {
        // 1000 spaces, each replaced by 2000 bytes: 2 MB, over the 1 MiB cap.
        let spaces = Val::from(" ".repeat(1000));
        let arg = format!(" =>{}", "x".repeat(2000));
        let refused = map_value("replace", &arg, &spaces);
        assert_eq!(refused, Err(TooLarge { bytes: 2_000_000 }));
        let near = Val::from("y".repeat(limits::MAX_VALUE_BYTES));
        assert!(map_value("suffix", "!", &near).is_err());
        assert!(map_value("suffix", "", &near).is_ok());
    }
}
