//! Flume agents: transactional channels, sources, sinks, selectors, interceptors and sink
//! processors, run on threads.
//!
//! This layer follows Apache Flume's semantics (see `semantics.md` part B) closely because
//! the product teaches them: events move between a source and a channel, and between a
//! channel and a sink, only inside transactions that commit or roll back as a whole.
//! Reliability is per hop: an event leaves a channel only after the next channel or the
//! terminal store has it.
//!
//! The layer is self-contained: it reads a [`crate::model::Topology`] and runs its Flume
//! nodes ([`agent::FlumeRun`]); it does not depend on the Storm runtime or on the UI.

pub mod agent;
pub mod channel;
pub mod channel_processor;
pub mod fatal;
pub mod file_channel;
pub mod footprint;
pub mod interceptor;
pub mod memory_channel;
pub mod notice;
pub mod selector;
pub mod sink_processor;
pub mod sinks;
pub mod sources;
mod util;

pub use agent::{AgentOptions, BuildError, FlumeRun, FlumeSnapshot, NodeStats, SinkState};
pub use channel::{Channel, ChannelConfig, ChannelCounters, ChannelError, Transaction};
pub use channel_processor::ChannelProcessor;
pub use fatal::FatalError;
pub use file_channel::{
    FileChannel, FileChannelConfig, FileChannelEnv, FileChannelError, RecoveryReport,
};
pub use memory_channel::MemoryChannel;
pub use notice::{Notice, Notices, Severity};
pub use util::StopSignal;

use std::collections::BTreeMap;

/// A Flume event: string headers plus an opaque body. Headers are a sorted map so that
/// logs, files and tests print them in a stable order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Event {
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
}

impl Event {
    /// An event with no headers, as most sources create them.
    pub fn new(body: impl Into<Vec<u8>>) -> Self {
        Self {
            headers: BTreeMap::new(),
            body: body.into(),
        }
    }

    /// Adds a header; for building events in sources and tests.
    pub fn with_header(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.insert(key.into(), value.into());
        self
    }

    /// The body as text, replacing invalid UTF-8, for filters and logs.
    pub fn body_text(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.body)
    }
}
