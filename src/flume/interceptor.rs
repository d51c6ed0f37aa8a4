//! Interceptors: per-source hooks that add headers to events or drop them, run in order
//! before the channel selector sees the events.
//!
//! Configured on a source node with Flume's property names:
//! `interceptors = "ts lvl"`, `interceptors.ts.type = "timestamp"`,
//! `interceptors.lvl.type = "static"`, `interceptors.lvl.key = "level"`, …

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use regex::Regex;
use thiserror::Error;

use super::Event;
use super::util::Conf;
use crate::clock::Clock;
use crate::model::Value;

/// A configuration mistake in an interceptor; reported when the agent is built.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum InterceptorError {
    #[error(
        "interceptor '{name}': unknown type '{kind}' (known: timestamp, host, static, regex_filter)"
    )]
    UnknownType { name: String, kind: String },
    #[error("interceptor '{name}': no type given (set interceptors.{name}.type)")]
    MissingType { name: String },
    #[error("interceptor '{name}': bad regex: {message}")]
    BadRegex { name: String, message: String },
}

/// One interceptor with its options (Flume's defaults in the docs).
#[derive(Debug, Clone)]
pub enum Interceptor {
    /// Header `headerName` (default `timestamp`) = processing time in ms;
    /// `preserveExisting` default false.
    Timestamp {
        header: String,
        preserve_existing: bool,
    },
    /// Header `hostHeader` (default `host`) = this machine's IP (`useIP`, default true) or
    /// host name; `preserveExisting` default false. The value is looked up when the first
    /// event passes, not when the agent is built (see [`HostValue`]).
    Host {
        header: String,
        value: HostValue,
        preserve_existing: bool,
    },
    /// A fixed `key`/`value` header (defaults `key`/`value`); `preserveExisting` default true.
    Static {
        key: String,
        value: String,
        preserve_existing: bool,
    },
    /// Keeps events whose body matches `regex` (default `.*`), or drops them when
    /// `excludeEvents` is true.
    RegexFilter { regex: Regex, exclude: bool },
}

impl Interceptor {
    /// Applies this interceptor to a batch; events it drops are omitted from the result.
    pub fn intercept(&self, events: Vec<Event>, clock: &dyn Clock) -> Vec<Event> {
        match self {
            Interceptor::Timestamp {
                header,
                preserve_existing,
            } => {
                let now = clock.now_ms().to_string();
                set_all(events, header, &now, *preserve_existing)
            }
            Interceptor::Host {
                header,
                value,
                preserve_existing,
            } => set_all(events, header, value.get(), *preserve_existing),
            Interceptor::Static {
                key,
                value,
                preserve_existing,
            } => set_all(events, key, value, *preserve_existing),
            Interceptor::RegexFilter { regex, exclude } => events
                .into_iter()
                .filter(|e| regex.is_match(&e.body_text()) != *exclude)
                .collect(),
        }
    }
}

fn set_all(mut events: Vec<Event>, key: &str, value: &str, preserve: bool) -> Vec<Event> {
    for e in &mut events {
        if !(preserve && e.headers.contains_key(key)) {
            e.headers.insert(key.to_string(), value.to_string());
        }
    }
    events
}

/// The interceptors of one source, in order, with the clock they read.
#[derive(Clone)]
pub struct InterceptorChain {
    pub interceptors: Vec<(String, Interceptor)>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for InterceptorChain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.interceptors.iter().map(|(n, _)| n))
            .finish()
    }
}

impl InterceptorChain {
    pub fn new(interceptors: Vec<(String, Interceptor)>, clock: Arc<dyn Clock>) -> Self {
        Self {
            interceptors,
            clock,
        }
    }

    pub fn empty(clock: Arc<dyn Clock>) -> Self {
        Self::new(Vec::new(), clock)
    }

    pub fn apply(&self, mut events: Vec<Event>) -> Vec<Event> {
        for (_, i) in &self.interceptors {
            if events.is_empty() {
                break;
            }
            events = i.intercept(events, &*self.clock);
        }
        events
    }

    /// Builds the chain from a source node's config (`interceptors` and
    /// `interceptors.<name>.<option>` keys).
    pub fn from_config(
        config: &BTreeMap<String, Value>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, InterceptorError> {
        let c = Conf(config);
        let mut out = Vec::new();
        for name in c.names("interceptors") {
            let key = |opt: &str| format!("interceptors.{name}.{opt}");
            let kind = c
                .str(&key("type"))
                .ok_or_else(|| InterceptorError::MissingType { name: name.clone() })?;
            let preserve = |default| c.bool(&key("preserveExisting"), default);
            let interceptor = match kind.as_str() {
                "timestamp" => Interceptor::Timestamp {
                    header: c
                        .str(&key("headerName"))
                        .unwrap_or_else(|| "timestamp".into()),
                    preserve_existing: preserve(false),
                },
                "host" => Interceptor::Host {
                    header: c.str(&key("hostHeader")).unwrap_or_else(|| "host".into()),
                    value: HostValue::new(c.bool(&key("useIP"), true)),
                    preserve_existing: preserve(false),
                },
                "static" => Interceptor::Static {
                    key: c.str(&key("key")).unwrap_or_else(|| "key".into()),
                    value: c.str(&key("value")).unwrap_or_else(|| "value".into()),
                    preserve_existing: preserve(true),
                },
                "regex_filter" => {
                    let pattern = c.str(&key("regex")).unwrap_or_else(|| ".*".into());
                    Interceptor::RegexFilter {
                        regex: Regex::new(&pattern).map_err(|e| InterceptorError::BadRegex {
                            name: name.clone(),
                            message: e.to_string(),
                        })?,
                        exclude: c.bool(&key("excludeEvents"), false),
                    }
                }
                other => {
                    return Err(InterceptorError::UnknownType {
                        name: name.clone(),
                        kind: other.to_string(),
                    });
                }
            };
            out.push((name, interceptor));
        }
        Ok(Self::new(out, clock))
    }
}

/// The `host` interceptor's value, looked up once, when the first event needs it.
///
/// Finding this machine's IP means resolving its host name, which can send a DNS query.
/// Doing that lazily means nothing is asked of the network when a topology is opened,
/// validated or started, and nothing at all unless a `host` interceptor with `useIP`
/// actually stamps an event.
#[derive(Debug, Clone)]
pub struct HostValue {
    use_ip: bool,
    resolved: Arc<OnceLock<String>>,
    lookup: fn(bool) -> String,
}

impl HostValue {
    /// The IP (`use_ip`) or the host name of this machine.
    pub fn new(use_ip: bool) -> Self {
        Self::with_lookup(
            use_ip,
            |use_ip| {
                if use_ip { local_ip() } else { local_hostname() }
            },
        )
    }

    /// With another lookup, so tests can count lookups without touching the network.
    pub fn with_lookup(use_ip: bool, lookup: fn(bool) -> String) -> Self {
        Self {
            use_ip,
            resolved: Arc::new(OnceLock::new()),
            lookup,
        }
    }

    /// The value, looked up on the first call.
    pub fn get(&self) -> &str {
        self.resolved.get_or_init(|| (self.lookup)(self.use_ip))
    }

    /// Whether the lookup has happened.
    pub fn is_resolved(&self) -> bool {
        self.resolved.get().is_some()
    }
}

/// This machine's host name, or `localhost` if the OS will not say.
pub fn local_hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its whole length; gethostname writes at most that.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return "localhost".into();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    let name = String::from_utf8_lossy(&buf[..end]).into_owned();
    if name.is_empty() {
        "localhost".into()
    } else {
        name
    }
}

/// The first IPv4 address the host name resolves to, or 127.0.0.1 (a local app often has
/// no resolvable name; loopback is then the honest answer).
pub fn local_ip() -> String {
    use std::net::ToSocketAddrs;
    (local_hostname().as_str(), 0)
        .to_socket_addrs()
        .ok()
        .and_then(|mut addrs| addrs.find(|a| a.is_ipv4()))
        .map(|a| a.ip().to_string())
        .unwrap_or_else(|| "127.0.0.1".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    fn chain(pairs: &[(&str, Value)]) -> InterceptorChain {
        let config: BTreeMap<String, Value> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        InterceptorChain::from_config(&config, Arc::new(ManualClock::new(1234))).unwrap()
    }

    fn s(v: &str) -> Value {
        Value::Str(v.into())
    }

    #[test]
    fn timestamp_sets_processing_time_and_overwrites_by_default() {
        let c = chain(&[
            ("interceptors", s("ts")),
            ("interceptors.ts.type", s("timestamp")),
        ]);
        let out = c.apply(vec![Event::new("a").with_header("timestamp", "1")]);
        assert_eq!(out[0].headers["timestamp"], "1234");
        let c = chain(&[
            ("interceptors", s("ts")),
            ("interceptors.ts.type", s("timestamp")),
            ("interceptors.ts.headerName", s("t")),
            ("interceptors.ts.preserveExisting", Value::Bool(true)),
        ]);
        let out = c.apply(vec![Event::new("a").with_header("t", "1"), Event::new("b")]);
        assert_eq!(out[0].headers["t"], "1");
        assert_eq!(out[1].headers["t"], "1234");
    }

    static LOOKUPS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

    fn counted_lookup(use_ip: bool) -> String {
        LOOKUPS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        if use_ip { "192.0.2.7" } else { "box" }.to_string()
    }

    #[test]
    fn host_is_looked_up_once_and_only_when_an_event_needs_it() {
        let value = HostValue::with_lookup(true, counted_lookup);
        let c = InterceptorChain::new(
            vec![(
                "h".into(),
                Interceptor::Host {
                    header: "host".into(),
                    value: value.clone(),
                    preserve_existing: false,
                },
            )],
            Arc::new(ManualClock::new(0)),
        );
        assert_eq!(LOOKUPS.load(std::sync::atomic::Ordering::SeqCst), 0);
        assert!(
            !value.is_resolved(),
            "building the chain must not look anything up"
        );
        for _ in 0..3 {
            assert_eq!(
                c.apply(vec![Event::new("a")])[0].headers["host"],
                "192.0.2.7"
            );
        }
        assert_eq!(LOOKUPS.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert!(value.is_resolved());
    }

    #[test]
    fn a_configured_host_interceptor_waits_for_its_first_event() {
        let c = chain(&[("interceptors", s("h")), ("interceptors.h.type", s("host"))]);
        let Interceptor::Host { value, .. } = &c.interceptors[0].1 else {
            panic!("not a host interceptor");
        };
        assert!(!value.is_resolved());
        // By name (no DNS): gethostname only.
        let c = chain(&[
            ("interceptors", s("h")),
            ("interceptors.h.type", s("host")),
            ("interceptors.h.useIP", Value::Bool(false)),
            ("interceptors.h.hostHeader", s("machine")),
        ]);
        assert_eq!(
            c.apply(vec![Event::new("a")])[0].headers["machine"],
            local_hostname()
        );
    }

    #[test]
    fn static_preserves_existing_by_default() {
        let c = chain(&[
            ("interceptors", s("st")),
            ("interceptors.st.type", s("static")),
            ("interceptors.st.key", s("level")),
            ("interceptors.st.value", s("info")),
        ]);
        let out = c.apply(vec![
            Event::new("a"),
            Event::new("b").with_header("level", "error"),
        ]);
        assert_eq!(out[0].headers["level"], "info");
        assert_eq!(out[1].headers["level"], "error");
    }

    #[test]
    fn regex_filter_keeps_or_excludes_matches() {
        let keep = chain(&[
            ("interceptors", s("f")),
            ("interceptors.f.type", s("regex_filter")),
            ("interceptors.f.regex", s("^ERROR")),
        ]);
        let events = || vec![Event::new("ERROR x"), Event::new("INFO y")];
        assert_eq!(keep.apply(events()), [Event::new("ERROR x")]);
        let drop = chain(&[
            ("interceptors", s("f")),
            ("interceptors.f.type", s("regex_filter")),
            ("interceptors.f.regex", s("^ERROR")),
            ("interceptors.f.excludeEvents", Value::Bool(true)),
        ]);
        assert_eq!(drop.apply(events()), [Event::new("INFO y")]);
        let all = chain(&[
            ("interceptors", s("f")),
            ("interceptors.f.type", s("regex_filter")),
        ]);
        assert_eq!(all.apply(events()).len(), 2);
    }

    #[test]
    fn interceptors_run_in_order() {
        // The filter sees the static header's effect only through the body, so order is
        // visible via preserveExisting: the first static wins.
        let c = chain(&[
            ("interceptors", s("a b")),
            ("interceptors.a.type", s("static")),
            ("interceptors.a.value", s("first")),
            ("interceptors.b.type", s("static")),
            ("interceptors.b.value", s("second")),
        ]);
        assert_eq!(c.apply(vec![Event::new("x")])[0].headers["key"], "first");
    }

    #[test]
    fn config_errors_are_reported() {
        let bad = |pairs: &[(&str, Value)]| {
            let config: BTreeMap<String, Value> = pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect();
            InterceptorChain::from_config(&config, Arc::new(ManualClock::new(0))).unwrap_err()
        };
        assert!(matches!(
            bad(&[("interceptors", s("x"))]),
            InterceptorError::MissingType { .. }
        ));
        assert!(matches!(
            bad(&[("interceptors", s("x")), ("interceptors.x.type", s("exec"))]),
            InterceptorError::UnknownType { .. }
        ));
        assert!(matches!(
            bad(&[
                ("interceptors", s("x")),
                ("interceptors.x.type", s("regex_filter")),
                ("interceptors.x.regex", s("("))
            ]),
            InterceptorError::BadRegex { .. }
        ));
    }
}
