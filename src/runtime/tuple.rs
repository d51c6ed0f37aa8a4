//! Tuples as they travel between tasks: values, the stream they belong to, and the
//! acking ids that tie them to spout tuple trees.
//!
//! The layout avoids allocations on the hot path: up to two values live inline, and
//! the common case of one root per tuple needs no map.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// Longest text kept inline in a [`Text`] (the rest of its 24 bytes hold the length
/// and the tag).
pub const INLINE_TEXT: usize = 22;

/// The text of a value. Short text (words, keys, ids) lives inline in the tuple: making
/// one costs no allocation, dropping it no free on another thread, and reading it no
/// cache miss on memory the producing core wrote. Longer text is shared (`Arc<str>`), so
/// fan-out and replays copy a pointer, not the bytes.
#[derive(Clone)]
pub struct Text(TextRepr);

#[derive(Clone)]
enum TextRepr {
    /// Invariant: `bytes[..len]` is valid UTF-8 (copied whole from a `&str`).
    Inline {
        len: u8,
        bytes: [u8; INLINE_TEXT],
    },
    Shared(Arc<str>),
}

impl Text {
    /// Inline when short, shared otherwise.
    #[inline(always)]
    pub fn new(s: &str) -> Self {
        let b = s.as_bytes();
        let n = b.len();
        if n <= INLINE_TEXT {
            // Gathered in registers with a few fixed-size loads rather than a `memcpy`
            // of variable length: the value is moved on at once, and byte-wise stores
            // followed by wide loads would stall on store forwarding.
            let (c0, c1, c2) = match n {
                0..=8 => (load_le(b), 0, 0),
                9..=16 => (load_le(&b[..8]), load_le(&b[8..]), 0),
                _ => (load_le(&b[..8]), load_le(&b[8..16]), load_le(&b[16..])),
            };
            let mut bytes = [0u8; INLINE_TEXT];
            bytes[..8].copy_from_slice(&c0.to_le_bytes());
            bytes[8..16].copy_from_slice(&c1.to_le_bytes());
            bytes[16..].copy_from_slice(&c2.to_le_bytes()[..INLINE_TEXT - 16]);
            Text(TextRepr::Inline {
                len: n as u8,
                bytes,
            })
        } else {
            Text(TextRepr::Shared(Arc::from(s)))
        }
    }

    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            TextRepr::Inline { len, bytes } => &bytes[..usize::from(*len)],
            TextRepr::Shared(s) => s.as_bytes(),
        }
    }

    #[inline]
    pub fn as_str(&self) -> &str {
        match &self.0 {
            // SAFETY: an inline text's first `len` bytes were copied whole from a `&str`
            // (see `Text::new`) and are never changed, so they are valid UTF-8.
            TextRepr::Inline { len, bytes } => unsafe {
                std::str::from_utf8_unchecked(&bytes[..usize::from(*len)])
            },
            TextRepr::Shared(s) => s,
        }
    }
}

impl std::ops::Deref for Text {
    type Target = str;
    #[inline]
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Self {
        Text::new(s)
    }
}

impl From<String> for Text {
    fn from(s: String) -> Self {
        if s.len() <= INLINE_TEXT {
            Text::new(&s)
        } else {
            Text(TextRepr::Shared(Arc::from(s)))
        }
    }
}

/// Shares the given text as it is (no copy), whatever its length.
impl From<Arc<str>> for Text {
    fn from(s: Arc<str>) -> Self {
        Text(TextRepr::Shared(s))
    }
}

impl std::fmt::Debug for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl std::fmt::Display for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq for Text {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        short_eq(self.as_bytes(), other.as_bytes())
    }
}

impl Eq for Text {}

impl Hash for Text {
    #[inline]
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write(self.as_bytes());
    }
}

impl PartialOrd for Text {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Text {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

/// One value of a tuple.
#[derive(Debug, Clone)]
pub enum Val {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Text),
}

impl Val {
    #[inline(always)]
    pub fn str(s: &str) -> Self {
        Val::Str(Text::new(s))
    }

    /// Java's `hashCode` of the boxed value, as Storm's fields grouping sees it
    /// (`Long` for integers, `Double` for floats, `String` for text).
    pub fn java_hash(&self) -> i32 {
        match self {
            Val::Null => 0,
            Val::Bool(true) => 1231,
            Val::Bool(false) => 1237,
            Val::Int(v) => (*v ^ ((*v as u64) >> 32) as i64) as i32,
            Val::Float(f) => {
                let bits = if f.is_nan() {
                    0x7ff8_0000_0000_0000u64
                } else {
                    f.to_bits()
                };
                (bits ^ (bits >> 32)) as i32
            }
            // ASCII bytes are their own UTF-16 units; only other text needs re-encoding.
            Val::Str(s) => match ascii_hash(s.as_bytes()) {
                Some(h) => h,
                None => s
                    .encode_utf16()
                    .fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(i32::from(c))),
            },
        }
    }

    /// Java's `toString` of the boxed value: the text Storm's partial key grouping hashes
    /// when no key fields are named. It differs from `Display` for floats, which Java
    /// always writes with a decimal point and, outside `[1e-3, 1e7)`, in E notation
    /// (`1.0`, `1.0E-7`). Java throws on a null there; this gives `null`.
    pub fn java_text(&self) -> String {
        match self {
            Val::Float(x) => java_double_text(*x),
            other => other.to_string(),
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Val::Str(s) => Some(s.as_str()),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Val::Int(i) => Some(*i as f64),
            Val::Float(f) => Some(*f),
            Val::Str(s) => s.trim().parse().ok(),
            Val::Bool(_) | Val::Null => None,
        }
    }
}

/// `Double.toString(x)`: the shortest digits that read back as `x` (Rust's `{:e}`
/// gives them, as Java does from 19 on), laid out as Java lays them out.
fn java_double_text(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    let sign = if x.is_sign_negative() { "-" } else { "" };
    if x.is_infinite() {
        return format!("{sign}Infinity");
    }
    if x == 0.0 {
        return format!("{sign}0.0");
    }
    let sci = format!("{:e}", x.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    if (-3..7).contains(&exp) {
        if exp < 0 {
            let zeros = "0".repeat((-exp - 1) as usize);
            return format!("{sign}0.{zeros}{digits}");
        }
        let whole = exp as usize + 1;
        let (int, frac) = if digits.len() > whole {
            (digits[..whole].to_string(), digits[whole..].to_string())
        } else {
            (format!("{digits:0<whole$}"), "0".to_string())
        };
        return format!("{sign}{int}.{frac}");
    }
    let (first, rest) = digits.split_at(1);
    let rest = if rest.is_empty() { "0" } else { rest };
    format!("{sign}{first}.{rest}E{exp}")
}

/// Java's `String.hashCode` for ASCII bytes, four at a time: the same sum
/// `Σ b[i]·31^(n-1-i)` with a shorter multiply chain. `None` for non-ASCII text, whose
/// UTF-16 units differ from its bytes.
#[inline]
fn ascii_hash(bytes: &[u8]) -> Option<i32> {
    let mut high = 0u8;
    const P2: i32 = 31 * 31;
    const P3: i32 = 31 * 31 * 31;
    const P4: i32 = 31 * 31 * 31 * 31;
    let mut h = 0i32;
    let mut chunks = bytes.chunks_exact(4);
    for c in &mut chunks {
        high |= c[0] | c[1] | c[2] | c[3];
        let part = i32::from(c[0])
            .wrapping_mul(P3)
            .wrapping_add(i32::from(c[1]).wrapping_mul(P2))
            .wrapping_add(i32::from(c[2]).wrapping_mul(31))
            .wrapping_add(i32::from(c[3]));
        h = h.wrapping_mul(P4).wrapping_add(part);
    }
    for &c in chunks.remainder() {
        high |= c;
        h = h.wrapping_mul(31).wrapping_add(i32::from(c));
    }
    (high < 0x80).then_some(h)
}

/// Up to 8 bytes as a little-endian integer (zero above `b.len()`), by at most three
/// loads that may overlap: overlapping bytes are equal, so OR-ing them is exact.
#[inline(always)]
fn load_le(b: &[u8]) -> u64 {
    let n = b.len();
    let byte = |i: usize| u64::from(b[i]) << (8 * i);
    let half = |i: usize| {
        let mut w = [0u8; 4];
        w.copy_from_slice(&b[i..i + 4]);
        u64::from(u32::from_le_bytes(w)) << (8 * i)
    };
    match n {
        0 => 0,
        1..=3 => byte(0) | byte(n / 2) | byte(n - 1),
        4..=7 => half(0) | half(n - 4),
        _ => {
            let mut w = [0u8; 8];
            w.copy_from_slice(&b[..8]);
            u64::from_le_bytes(w)
        }
    }
}

/// Byte equality that compares short keys (words) with two overlapping loads instead
/// of a call into `memcmp`.
#[inline]
fn short_eq(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let word = |s: &[u8], i: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&s[i..i + 8]);
        u64::from_le_bytes(w)
    };
    let half = |s: &[u8], i: usize| {
        let mut w = [0u8; 4];
        w.copy_from_slice(&s[i..i + 4]);
        u32::from_le_bytes(w)
    };
    match n {
        0 => true,
        1..=3 => a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1],
        // Most words: two overlapping 4-byte loads instead of a byte loop.
        4..=7 => half(a, 0) == half(b, 0) && half(a, n - 4) == half(b, n - 4),
        8..=16 => word(a, 0) == word(b, 0) && word(a, n - 8) == word(b, n - 8),
        _ => a == b,
    }
}

impl PartialEq for Val {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Val::Null, Val::Null) => true,
            (Val::Bool(a), Val::Bool(b)) => a == b,
            (Val::Int(a), Val::Int(b)) => a == b,
            (Val::Float(a), Val::Float(b)) => a.to_bits() == b.to_bits(),
            (Val::Str(a), Val::Str(b)) => a == b,
            _ => false,
        }
    }
}

impl Eq for Val {}

/// A table keyed by tuple values: the keyed state of `count_by_key` in both engines.
///
/// Its keys come from outside input (file lines, netcat and spooldir events through a
/// channel, generated data), so the hash is seeded at random per table (foldhash, the
/// hash `hashbrown` itself defaults to): a fixed hash such as Fx would let a file list
/// keys that all collide, and every lookup would then scan up to
/// [`limits::MAX_STATE_KEYS`](super::limits::MAX_STATE_KEYS) entries. With a secret seed
/// no such list can be written in advance, at Fx's speed. foldhash does not claim to
/// stop an attacker who watches a long run's timing and adapts; the only interactive
/// input is a netcat source, which listens on loopback unless the user consents to
/// more, and [`Budget::state`](super::limits::Budget::state) bounds the table's size.
pub type KeyMap<V> = std::collections::HashMap<Val, V, foldhash::fast::RandomState>;

impl Hash for Val {
    #[inline]
    fn hash<H: Hasher>(&self, state: &mut H) {
        match self {
            Val::Null => 0u8.hash(state),
            Val::Bool(b) => b.hash(state),
            Val::Int(i) => i.hash(state),
            Val::Float(f) => f.to_bits().hash(state),
            // Bytes only (no terminator): keys of different types that collide are
            // told apart by `eq`, and short words hash in one step.
            Val::Str(s) => state.write(s.as_bytes()),
        }
    }
}

impl std::fmt::Display for Val {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Val::Null => f.write_str("null"),
            Val::Bool(b) => write!(f, "{b}"),
            Val::Int(i) => write!(f, "{i}"),
            Val::Float(x) => write!(f, "{x}"),
            Val::Str(s) => f.write_str(s.as_str()),
        }
    }
}

impl From<&str> for Val {
    fn from(s: &str) -> Self {
        Val::str(s)
    }
}
impl From<String> for Val {
    fn from(s: String) -> Self {
        Val::Str(Text::from(s))
    }
}
impl From<i64> for Val {
    fn from(v: i64) -> Self {
        Val::Int(v)
    }
}
impl From<f64> for Val {
    fn from(v: f64) -> Self {
        Val::Float(v)
    }
}

/// The ordered values of a tuple. A single value (the common case: a word, a line, a
/// number) is stored inline; more live in one boxed slice. Keeping this small keeps a
/// whole tuple within one cache line, which matters more than the rare extra box.
#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    One(Val),
    Many(Box<[Val]>),
}

impl Values {
    /// Two values (a key and a count, say).
    pub fn two(a: Val, b: Val) -> Self {
        Values::Many(Box::new([a, b]))
    }

    pub fn get(&self, i: usize) -> Option<&Val> {
        match (self, i) {
            (Values::One(a), 0) => Some(a),
            (Values::One(_), _) => None,
            (Values::Many(v), i) => v.get(i),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Values::One(_) => 1,
            Values::Many(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn to_vec(&self) -> Vec<Val> {
        match self {
            Values::One(a) => vec![a.clone()],
            Values::Many(v) => v.to_vec(),
        }
    }

    /// Replaces the value at `i` (no-op when out of range).
    pub fn set(&mut self, i: usize, value: Val) {
        match (self, i) {
            (Values::One(a), 0) => *a = value,
            (Values::Many(v), i) if i < v.len() => v[i] = value,
            _ => {}
        }
    }

    /// Values joined with a separator, for logs and files.
    pub fn join(&self, sep: &str) -> String {
        let mut out = String::new();
        for i in 0..self.len() {
            if i > 0 {
                out.push_str(sep);
            }
            if let Some(v) = self.get(i) {
                out.push_str(&v.to_string());
            }
        }
        out
    }
}

impl From<Vec<Val>> for Values {
    fn from(mut v: Vec<Val>) -> Self {
        match (v.len(), v.pop()) {
            (1, Some(only)) => Values::One(only),
            (_, Some(last)) => {
                v.push(last);
                Values::Many(v.into_boxed_slice())
            }
            (_, None) => Values::Many(Box::new([])),
        }
    }
}

/// Which tuple tree a tuple belongs to: Storm's `Map<root, edgeXor>`, reduced to the one
/// root a tuple can have here. Bolts emit with BasicBolt semantics (anchored to one
/// input, inheriting its root), so no tuple ever joins two trees; keeping the pair inline
/// keeps every tuple within one cache line. Ids are never zero, so a zero root means
/// "untracked".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AckIds {
    root: u64,
    edge: u64,
}

impl AckIds {
    /// Not part of any tree (unanchored, or acking off).
    pub const NONE: AckIds = AckIds { root: 0, edge: 0 };

    /// Part of the tree `root`, delivered along edge `edge`.
    pub fn one(root: u64, edge: u64) -> Self {
        debug_assert!(root != 0, "root ids are never zero");
        Self { root, edge }
    }

    pub fn is_empty(&self) -> bool {
        self.root == 0
    }

    /// The tree's root id (0 when untracked).
    pub fn root(&self) -> u64 {
        self.root
    }

    /// The id of the edge this tuple travelled (0 when untracked).
    pub fn edge(&self) -> u64 {
        self.edge
    }

    /// Calls `f(root, edge)` for the tree this tuple belongs to, if any.
    #[inline]
    pub fn for_each(&self, mut f: impl FnMut(u64, u64)) {
        if self.root != 0 {
            f(self.root, self.edge);
        }
    }

    /// The same root with edge id `edge` (an anchored child delivery).
    #[inline]
    pub fn with_edge(&self, edge: u64) -> AckIds {
        Self {
            root: self.root,
            edge,
        }
    }
}

/// A tuple in flight.
#[derive(Debug, Clone)]
pub struct Tuple {
    pub values: Values,
    /// Global stream index in the plan (a `(node, stream)` pair); fixes the schema.
    pub stream: u32,
    /// Storm task id of the emitter.
    pub source_task: u32,
    pub ids: AckIds,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_hashes_match_java() {
        assert_eq!(Val::str("hello").java_hash(), 99162322);
        assert_eq!(Val::str("hello world!").java_hash(), -217287203);
        for s in ["a", "ab", "abc", "abcd", "abcde", "kalomine", "Ünï"] {
            let slow = s
                .encode_utf16()
                .fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(i32::from(c)));
            assert_eq!(Val::str(s).java_hash(), slow, "{s}");
        }
        assert_eq!(Val::str("").java_hash(), 0);
        assert_eq!(Val::Int(1).java_hash(), 1);
        assert_eq!(Val::Int(-1).java_hash(), 0);
        assert_eq!(Val::Bool(true).java_hash(), 1231);
    }

    #[test]
    fn short_strings_compare_by_content() {
        for (a, b, eq) in [
            ("", "", true),
            ("abc", "abc", true),
            ("abc", "abd", false),
            ("kalominesa", "kalominesa", true),
            ("kalominesa", "kalominesb", false),
            ("abcdefghij", "abcdefghi", false),
            ("a", "b", false),
            ("ab", "ba", false),
            ("abc", "axc", false),
            ("kalo", "kalo", true),
            ("kalom", "kalon", false),
            ("kalomi", "xalomi", false),
            ("kalomin", "kaXomin", false),
        ] {
            assert_eq!(Val::str(a) == Val::str(b), eq, "{a} {b}");
        }
    }

    #[test]
    fn text_is_inline_up_to_the_limit_and_shared_beyond() {
        let short = "x".repeat(INLINE_TEXT);
        let long = "y".repeat(INLINE_TEXT + 1);
        let all: Vec<String> = (0..=INLINE_TEXT + 1)
            .map(|n| (0..n).map(|i| char::from(b'a' + i as u8)).collect())
            .collect();
        let mut cases: Vec<&str> = vec!["kalo", "Ünïcode", short.as_str(), long.as_str()];
        cases.extend(all.iter().map(String::as_str));
        for s in cases {
            let t = Text::new(s);
            assert_eq!(t.as_str(), s);
            assert_eq!(Text::from(s.to_string()), t);
            assert_eq!(Text::from(Arc::<str>::from(s)), t, "shared equals inline");
            assert_eq!(format!("{t:?}"), format!("{s:?}"));
        }
        assert!(matches!(Text::new(&short).0, TextRepr::Inline { .. }));
        assert!(matches!(Text::new(&long).0, TextRepr::Shared(_)));
        assert_eq!(std::mem::size_of::<Val>(), 24);
    }

    #[test]
    fn values_roundtrip() {
        let v: Values = vec![Val::Int(1), Val::Int(2), Val::Int(3)].into();
        assert_eq!(v.len(), 3);
        let two: Values = vec![Val::Int(1), Val::Int(2)].into();
        assert_eq!(two.get(1), Some(&Val::Int(2)));
        assert_eq!(Values::from(vec![Val::Int(7)]), Values::One(Val::Int(7)));
        assert!(
            std::mem::size_of::<Tuple>() <= 64,
            "{}",
            std::mem::size_of::<Tuple>()
        );
    }
}
