//! Flume's `netcat` source: a real TCP listener; every line a client sends becomes one
//! event, answered with `OK` (or `FAILED: …`) as Flume does with `ack-every-event`.

use std::collections::BTreeMap;
use std::io::{BufReader, ErrorKind, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::Ordering;
use std::thread::JoinHandle;
use std::time::Duration;

use super::lines::{LineReader, Piece};
use super::{Source, SourceContext};
use crate::flume::Event;
use crate::flume::fatal::run_guarded;
use crate::flume::notice::Episode;
use crate::flume::util::Settings;
use crate::model::Value;
use crate::policy::Grant;

/// How often blocked accept/read calls look at the stop signal.
const POLL: Duration = Duration::from_millis(50);
/// How long a reply may wait for a client that does not read: past this the client is
/// dropped, so a stuck client can neither pin a thread nor hold up a stop.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(5);
/// Stack of a connection thread (256 KiB): serving a client needs little stack, and a
/// small one keeps `max-connections` threads cheap (the default is 2 MiB).
pub const CONNECTION_STACK_BYTES: usize = 256 << 10;
/// Default `max-line-length`, Flume's: bytes per line including the newline.
pub const DEFAULT_MAX_LINE_LENGTH: u64 = 512;
/// Largest `max-line-length` validation accepts (1 MiB).
pub const MAX_LINE_LENGTH_LIMIT: u64 = 1 << 20;
/// Default `max-connections`: clients served at once (one thread each). Flume has no
/// such limit; without one, every connection would cost a thread and a line buffer.
pub const DEFAULT_MAX_CONNECTIONS: u64 = 16;
/// Largest `max-connections` validation accepts.
pub const MAX_CONNECTIONS_LIMIT: u64 = 256;

/// `max-line-length` as the source runs it: the setting (or its default) within
/// 1..=[`MAX_LINE_LENGTH_LIMIT`].
pub fn max_line_length(config: &BTreeMap<String, Value>) -> u64 {
    Settings::new("netcat", config)
        .uint("max-line-length")
        .clamp(1, MAX_LINE_LENGTH_LIMIT)
}

/// `max-connections` as the source runs it: the setting (or its default) within
/// 1..=[`MAX_CONNECTIONS_LIMIT`].
pub fn max_connections(config: &BTreeMap<String, Value>) -> u64 {
    Settings::new("netcat", config)
        .uint("max-connections")
        .clamp(1, MAX_CONNECTIONS_LIMIT)
}

/// A bound netcat listener, ready to run.
pub struct NetcatSource {
    name: String,
    listener: TcpListener,
    max_line_length: usize,
    max_connections: usize,
    ack_every_event: bool,
}

impl NetcatSource {
    /// Binds `bind`:`port` now, so a taken port is reported when the agent starts and the
    /// actual port (for `port = 0`) is known before any client connects.
    /// The address goes through `grant`: loopback always, anything else (and any host
    /// name, which would need a lookup) only with the user's network consent.
    pub fn bind(
        name: &str,
        config: &BTreeMap<String, Value>,
        grant: &Grant,
    ) -> Result<Self, String> {
        let s = Settings::new("netcat", config);
        let host = s.str("bind");
        let port = s.uint("port");
        let port = u16::try_from(port).map_err(|_| format!("port {port} is out of range"))?;
        let addresses = grant.listen(name, &host, port).map_err(|r| r.to_string())?;
        let listener = TcpListener::bind(&addresses[..])
            .map_err(|e| format!("cannot listen on {host}:{port}: {e}"))?;
        listener
            .set_nonblocking(true)
            .map_err(|e| format!("cannot configure listener: {e}"))?;
        let max_line_length = max_line_length(config);
        let max_connections = max_connections(config);
        Ok(Self {
            name: name.to_string(),
            listener,
            max_line_length: usize::try_from(max_line_length).unwrap_or(usize::MAX),
            max_connections: usize::try_from(max_connections).unwrap_or(1),
            ack_every_event: s.flume().bool("ack-every-event", true),
        })
    }

    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.listener.local_addr().ok()
    }

    /// Closes a connection over the limit, telling the client why when it can.
    fn refuse(
        &self,
        mut stream: TcpStream,
        peer: SocketAddr,
        ctx: &SourceContext,
        episode: &mut Episode,
    ) {
        ctx.counters
            .refused_connections
            .fetch_add(1, Ordering::Relaxed);
        let reason = format!(
            "{} connections are open, the most this source serves (max-connections)",
            self.max_connections
        );
        // Best effort: a fresh socket's send buffer is empty, so this does not block.
        let _ = stream.set_nonblocking(true);
        let _ = stream.write_all(format!("FAILED: {reason}\n").as_bytes());
        if episode.fail() {
            ctx.notices.error(
                &self.name,
                format!(
                    "refused a connection from {peer}: {reason}; further refusals are counted, not logged, until a connection is accepted again"
                ),
            );
        }
    }
}

impl Source for NetcatSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn run(self: Box<Self>, ctx: SourceContext) {
        let mut connections: Vec<JoinHandle<()>> = Vec::new();
        let mut refusals = Episode::default();
        while !ctx.stop.is_stopped() {
            reap(&mut connections);
            match self.listener.accept() {
                Ok((stream, peer)) => {
                    if connections.len() >= self.max_connections {
                        self.refuse(stream, peer, &ctx, &mut refusals);
                        continue;
                    }
                    if let Some(refused) = refusals.recover() {
                        ctx.notices.info(
                            &self.name,
                            format!("accepting connections again ({refused} refused meanwhile)"),
                        );
                    }
                    let conn_ctx = ctx.clone();
                    let max = self.max_line_length;
                    let ack = self.ack_every_event;
                    let nodes = vec![self.name.clone()];
                    let spawned = std::thread::Builder::new()
                        .name(format!("netcat-{}", self.name))
                        .stack_size(CONNECTION_STACK_BYTES)
                        .spawn(move || {
                            // A panic serving one client is fatal for the source, as
                            // one in the source's own thread would be.
                            run_guarded(&nodes, &conn_ctx.fatal, &conn_ctx.notices, || {
                                serve(stream, &conn_ctx, max, ack);
                            });
                        });
                    match spawned {
                        Ok(handle) => connections.push(handle),
                        Err(e) => ctx.counters.set_error(format!("cannot serve client: {e}")),
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    ctx.stop.sleep(POLL);
                }
                Err(e) => {
                    ctx.counters.set_error(format!("accept failed: {e}"));
                    ctx.stop.sleep(POLL);
                }
            }
        }
        for handle in connections {
            // A connection thread catches its own panic (see `run_guarded` above).
            let _ = handle.join();
        }
    }
}

/// Joins the connection threads that have ended, so their slots free up.
fn reap(connections: &mut Vec<JoinHandle<()>>) {
    let (done, running): (Vec<_>, Vec<_>) = connections.drain(..).partition(|h| h.is_finished());
    *connections = running;
    for handle in done {
        let _ = handle.join();
    }
}

/// Serves one client until it disconnects or the source stops. A line is read into at
/// most `max_line_length` bytes (see [`LineReader`]); a longer one is answered `FAILED`,
/// counted, and skipped up to its newline, as Flume does.
fn serve(stream: TcpStream, ctx: &SourceContext, max_line_length: usize, ack: bool) {
    let configured = stream.set_nonblocking(false).is_ok()
        && stream.set_read_timeout(Some(POLL)).is_ok()
        && stream.set_write_timeout(Some(WRITE_TIMEOUT)).is_ok();
    if !configured {
        return;
    }
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    let mut lines = LineReader::new(max_line_length);
    while !ctx.stop.is_stopped() {
        let piece = match lines.next(&mut reader) {
            Ok(piece) => piece,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                continue;
            }
            Err(_) => return,
        };
        let line = match piece {
            Piece::Line(line) => line,
            // An unfinished last line is not an event: the client never ended it.
            Piece::End(_) => return,
            Piece::TooLong(_) => {
                ctx.counters.too_long.fetch_add(1, Ordering::Relaxed);
                ctx.counters.failed_batches.fetch_add(1, Ordering::Relaxed);
                let msg = format!(
                    "FAILED: Event exceeds the maximum length ({max_line_length} chars, including newline)\n"
                );
                if writer.write_all(msg.as_bytes()).is_err() {
                    return;
                }
                continue;
            }
        };
        let event = Event::new(line);
        ctx.counters.received.fetch_add(1, Ordering::Relaxed);
        let reply = match ctx.processor.process_event(event) {
            Ok(n) => {
                ctx.counters.accepted.fetch_add(n as u64, Ordering::Relaxed);
                ctx.counters.blocked.store(false, Ordering::Relaxed);
                "OK\n".to_string()
            }
            Err(e) => {
                ctx.counters.failed_batches.fetch_add(1, Ordering::Relaxed);
                ctx.counters.blocked.store(true, Ordering::Relaxed);
                ctx.counters.set_error(e.to_string());
                format!("FAILED: {e}\n")
            }
        };
        if ack && writer.write_all(reply.as_bytes()).is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, Read};

    use super::*;
    use crate::flume::sources::tests::{bodies, context};
    use std::path::Path;

    #[test]
    fn lines_over_loopback_become_events_acked_ok() {
        let (ctx, ch) = context(2);
        let config = BTreeMap::from([
            ("port".to_string(), Value::Int(0)),
            ("max-line-length".to_string(), Value::Int(8)),
        ]);
        let source = NetcatSource::bind("nc", &config, &Grant::new(Path::new("."))).unwrap();
        let addr = source.local_addr().unwrap();
        let runner = {
            let ctx = ctx.clone();
            std::thread::spawn(move || Box::new(source).run(ctx))
        };
        let mut client = TcpStream::connect(addr).unwrap();
        client
            .write_all(b"hello\r\nthis line is too long\nworld\nfull\n")
            .unwrap();
        let mut replies = BufReader::new(client.try_clone().unwrap());
        let mut read = || {
            let mut s = String::new();
            replies.read_line(&mut s).unwrap();
            s
        };
        assert_eq!(read(), "OK\n");
        assert!(read().starts_with("FAILED: Event exceeds the maximum length (8 chars"));
        assert_eq!(read(), "OK\n");
        // Capacity 2: the third event is refused, and the client is told.
        assert!(read().starts_with("FAILED: "));
        assert!(ctx.counters.blocked.load(Ordering::Relaxed));
        drop(client);
        ctx.stop.stop();
        runner.join().unwrap();
        assert_eq!(bodies(&*ch), ["hello", "world"]);
        assert_eq!(ctx.counters.accepted.load(Ordering::Relaxed), 2);
    }

    #[test]
    fn a_taken_port_is_reported_at_bind() {
        let first = NetcatSource::bind(
            "a",
            &BTreeMap::from([("port".to_string(), Value::Int(0))]),
            &Grant::new(Path::new(".")),
        )
        .unwrap();
        let port = first.local_addr().unwrap().port();
        let err = NetcatSource::bind(
            "b",
            &BTreeMap::from([("port".to_string(), Value::Int(port.into()))]),
            &Grant::new(Path::new(".")),
        )
        .err()
        .unwrap();
        assert!(err.contains("cannot listen"), "{err}");
    }

    fn start(
        config: &[(&str, i64)],
    ) -> (
        SourceContext,
        std::sync::Arc<dyn crate::flume::Channel>,
        SocketAddr,
        std::thread::JoinHandle<()>,
    ) {
        let (ctx, ch) = context(100);
        let mut map = BTreeMap::from([("port".to_string(), Value::Int(0))]);
        for (k, v) in config {
            map.insert(k.to_string(), Value::Int(*v));
        }
        let source = NetcatSource::bind("nc", &map, &Grant::new(Path::new("."))).unwrap();
        let addr = source.local_addr().unwrap();
        let runner = {
            let ctx = ctx.clone();
            std::thread::spawn(move || Box::new(source).run(ctx))
        };
        (ctx, ch, addr, runner)
    }

    /// Reads one reply line; `None` when the connection failed or closed.
    fn reply(replies: &mut BufReader<TcpStream>) -> Option<String> {
        let mut s = String::new();
        match replies.read_line(&mut s) {
            Ok(n) if n > 0 => Some(s),
            _ => None,
        }
    }

    #[test]
    fn a_huge_line_is_refused_while_streaming_and_the_connection_goes_on() {
        let (ctx, ch, addr, runner) = start(&[("max-line-length", 64)]);
        let client = TcpStream::connect(addr).unwrap();
        // 32 MiB without a newline, written while the source reads: it must answer
        // FAILED long before the line ends, and never hold more than 64 bytes of it.
        let writer = {
            let mut client = client.try_clone().unwrap();
            std::thread::spawn(move || {
                let chunk = vec![b'a'; 1 << 20];
                for _ in 0..32 {
                    client.write_all(&chunk).unwrap();
                }
                client.write_all(b"\nafter\n").unwrap();
            })
        };
        let mut replies = BufReader::new(client.try_clone().unwrap());
        let first = reply(&mut replies).unwrap();
        assert!(
            first.starts_with("FAILED: Event exceeds the maximum length (64 chars"),
            "{first}"
        );
        writer.join().unwrap();
        assert_eq!(reply(&mut replies).as_deref(), Some("OK\n"));
        drop((client, replies));
        ctx.stop.stop();
        runner.join().unwrap();
        assert_eq!(bodies(&*ch), ["after"]);
        assert_eq!(ctx.counters.too_long.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn connections_beyond_the_cap_are_refused_counted_and_logged_once() {
        let (ctx, ch, addr, runner) = start(&[("max-connections", 2)]);
        // Two clients hold their connections (each proven served by an OK).
        let mut held = Vec::new();
        for i in 0..2 {
            let mut c = TcpStream::connect(addr).unwrap();
            c.write_all(format!("held {i}\n").as_bytes()).unwrap();
            let mut replies = BufReader::new(c.try_clone().unwrap());
            assert_eq!(reply(&mut replies).as_deref(), Some("OK\n"));
            held.push(c);
        }
        // Three more are told why and closed.
        for _ in 0..3 {
            let mut c = TcpStream::connect(addr).unwrap();
            let mut answer = String::new();
            c.read_to_string(&mut answer).unwrap();
            assert!(answer.contains("max-connections"), "{answer}");
        }
        assert_eq!(ctx.counters.refused_connections.load(Ordering::Relaxed), 3);
        let notices = ctx.notices.drain();
        assert_eq!(notices.len(), 1, "one line per episode: {notices:?}");
        assert!(
            notices[0].text.contains("refused a connection"),
            "{notices:?}"
        );
        // Once a held client leaves, a new one is served again, and the log says so.
        drop(held.pop());
        // The freed slot shows once its thread has seen the close; until then a new
        // client may still be refused, so try until one is served.
        let late = loop {
            let mut c = TcpStream::connect(addr).unwrap();
            if c.write_all(b"late\n").is_err() {
                continue;
            }
            let mut replies = BufReader::new(c.try_clone().unwrap());
            if reply(&mut replies).as_deref() == Some("OK\n") {
                break c;
            }
        };
        let notices = ctx.notices.drain();
        assert!(
            notices
                .iter()
                .any(|n| n.text.contains("accepting connections again")),
            "{notices:?}"
        );
        drop((held, late));
        ctx.stop.stop();
        runner.join().unwrap();
        assert_eq!(bodies(&*ch), ["held 0", "held 1", "late"]);
    }
}
