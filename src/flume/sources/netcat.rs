//! Flume's `netcat` source: a real TCP listener; every line a client sends becomes one
//! event, answered with `OK` (or `FAILED: …`) as Flume does with `ack-every-event`.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, ErrorKind, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::Ordering;
use std::thread::JoinHandle;
use std::time::Duration;

use super::{Source, SourceContext};
use crate::flume::Event;
use crate::flume::util::Conf;
use crate::model::Value;
use crate::policy::Grant;

/// How often blocked accept/read calls look at the stop signal.
const POLL: Duration = Duration::from_millis(50);

/// A bound netcat listener, ready to run.
pub struct NetcatSource {
    name: String,
    listener: TcpListener,
    max_line_length: usize,
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
        let c = Conf(config);
        let host = c.str("bind").unwrap_or_else(|| "127.0.0.1".into());
        let port = c.uint("port", 44444);
        let port = u16::try_from(port).map_err(|_| format!("port {port} is out of range"))?;
        let addresses = grant.listen(name, &host, port).map_err(|r| r.to_string())?;
        let listener = TcpListener::bind(&addresses[..])
            .map_err(|e| format!("cannot listen on {host}:{port}: {e}"))?;
        listener
            .set_nonblocking(true)
            .map_err(|e| format!("cannot configure listener: {e}"))?;
        Ok(Self {
            name: name.to_string(),
            listener,
            max_line_length: c.uint("max-line-length", 512).max(1) as usize,
            ack_every_event: c.bool("ack-every-event", true),
        })
    }

    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.listener.local_addr().ok()
    }
}

impl Source for NetcatSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn run(self: Box<Self>, ctx: SourceContext) {
        let mut connections: Vec<JoinHandle<()>> = Vec::new();
        while !ctx.stop.is_stopped() {
            match self.listener.accept() {
                Ok((stream, _)) => {
                    let conn_ctx = ctx.clone();
                    let max = self.max_line_length;
                    let ack = self.ack_every_event;
                    let name = self.name.clone();
                    let spawned = std::thread::Builder::new()
                        .name(format!("netcat-{name}"))
                        .spawn(move || serve(stream, &conn_ctx, max, ack));
                    match spawned {
                        Ok(handle) => connections.push(handle),
                        Err(e) => ctx.counters.set_error(format!("cannot serve client: {e}")),
                    }
                    connections.retain(|h| !h.is_finished());
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
            let _ = handle.join();
        }
    }
}

/// Serves one client until it disconnects or the source stops.
fn serve(stream: TcpStream, ctx: &SourceContext, max_line_length: usize, ack: bool) {
    if stream.set_nonblocking(false).is_err() || stream.set_read_timeout(Some(POLL)).is_err() {
        return;
    }
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    let mut line = Vec::new();
    // After an over-long line, skip the rest of it up to the newline.
    let mut skipping = false;
    while !ctx.stop.is_stopped() {
        match reader.read_until(b'\n', &mut line) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return,
        }
        let complete = line.last() == Some(&b'\n');
        if line.len() > max_line_length && !skipping {
            skipping = true;
            ctx.counters.failed_batches.fetch_add(1, Ordering::Relaxed);
            let msg = format!(
                "FAILED: Event exceeds the maximum length ({max_line_length} chars, including newline)\n"
            );
            if writer.write_all(msg.as_bytes()).is_err() {
                return;
            }
        }
        if !complete {
            if skipping {
                line.clear();
            }
            continue;
        }
        if skipping {
            skipping = false;
            line.clear();
            continue;
        }
        line.pop();
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        let event = Event::new(std::mem::take(&mut line));
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
}
