//! One multi-lang child process and the threads that talk to it. Writes go through a
//! bounded queue to a writer thread, so a child that stops reading slows its task down
//! instead of blocking it forever; reads come from a reader thread that frames messages,
//! refuses oversized ones and stops at the first broken one; stderr lines go to the run
//! log under the node's name. Dropping a `Child` kills its whole process group and reaps
//! it, so no process or zombie outlives its task.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::CommandExt;
use std::process::{ChildStdin, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, SendTimeoutError, Sender, bounded};

use super::protocol::{self, FromChild};
use crate::policy::Program;
use crate::runtime::log::{LogKind, RunLog};

/// Largest message a child may send: a tuple at the value cap plus room for the rest.
pub const MAX_MESSAGE_BYTES: usize = crate::runtime::limits::MAX_VALUE_BYTES + (64 << 10);
/// Messages read ahead of the task; with the size cap, this bounds a child's memory.
const READ_AHEAD: usize = 32;
/// Messages queued for the writer before a send waits.
const WRITE_AHEAD: usize = 1024;
/// Longest stderr line kept in the run log.
const MAX_STDERR_LINE: usize = 2000;
/// How many bytes of a bad message an error quotes.
pub const SAMPLE_BYTES: usize = 200;

/// What the reader thread hands the task.
#[derive(Debug)]
pub enum Incoming {
    Message(FromChild),
    /// Not the protocol: why, and the start of what was sent. Nothing more is read.
    Broken(String),
    /// The child closed its output (it exited, most likely).
    Closed,
}

/// Why talking to the child failed; the task crashes with this as its reason.
pub type ChildError = String;

pub struct Child {
    process: std::process::Child,
    to_child: Option<Sender<Vec<u8>>>,
    from_child: Receiver<Incoming>,
    /// Holds the pid file the child writes; removed with the child.
    _pid_dir: tempfile::TempDir,
    pub pid: u32,
}

/// How to start one child.
pub struct Launch<'a> {
    pub program: &'a Program,
    pub args: &'a [String],
    pub cwd: &'a std::path::Path,
    pub node: &'a str,
    pub task: u32,
    pub log: Arc<RunLog>,
    /// True once the run is stopping: no wait on the child outlasts it.
    pub stop: &'a dyn Fn() -> bool,
}

/// The program a bare name means: the first executable file of that name in an
/// absolute `PATH` entry. Relative entries (`.`, `bin`) are skipped: the child runs in
/// the topology's folder, where they would find a program the topology ships.
fn on_path(name: &str) -> Result<std::path::PathBuf, ChildError> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .filter(|dir| dir.is_absolute())
        .map(|dir| dir.join(name))
        .find(|candidate| {
            std::fs::metadata(candidate)
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
        .ok_or_else(|| format!("cannot start {name}: no program of that name on PATH"))
}

/// Makes a write to a pipe whose reader is gone an error instead of the end of the
/// process: a child that exits while its writer thread writes must only crash its task.
/// (Commands that only print restore the default `SIGPIPE` to stop quietly under
/// `| head`; once they start a child, its pipes matter more, and their own output still
/// stops quietly through `cli::term`, which treats a failed write as a closed reader.)
fn ignore_broken_pipes() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: `signal` with SIG_IGN changes the process-wide disposition and touches
        // no memory of ours; it is safe to call while other threads run.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_IGN);
        }
    });
}

impl Child {
    /// Starts the program and completes the handshake, waiting at most `timeout` for its
    /// pid.
    pub fn start(
        launch: Launch<'_>,
        context: &protocol::Context,
        timeout: Duration,
    ) -> Result<Child, ChildError> {
        ignore_broken_pipes();
        let program = match launch.program {
            Program::OnPath(name) => on_path(name)?,
            Program::At(path) => path.clone(),
        };
        let pid_dir = tempfile::Builder::new()
            .prefix("tributary-pids-")
            .tempdir()
            .map_err(|e| format!("cannot make the pid folder: {e}"))?;
        let shown = crate::policy::display_command(
            &std::iter::once(program.display().to_string())
                .chain(launch.args.iter().cloned())
                .collect::<Vec<_>>(),
        );
        let parent = std::process::id();
        let mut command = Command::new(&program);
        // SAFETY: the closure runs in the forked child before exec and calls only
        // async-signal-safe functions (`prctl`, `getppid`); it allocates nothing.
        unsafe {
            command.pre_exec(move || {
                // Killed with us, however we end (a second Ctrl+C, SIGKILL, a crash):
                // no child outlives Tributary.
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                if u32::try_from(libc::getppid()).ok() != Some(parent) {
                    return Err(std::io::Error::other("Tributary exited while starting it"));
                }
                Ok(())
            });
        }
        let mut process = command
            .args(launch.args)
            .current_dir(launch.cwd)
            .env("PYTHONUNBUFFERED", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Its own process group, so a kill reaches whatever it starts too.
            .process_group(0)
            .spawn()
            .map_err(|e| format!("cannot start {shown}: {e}"))?;
        let pid = process.id();
        let (stdin, stdout, stderr) = match (
            process.stdin.take(),
            process.stdout.take(),
            process.stderr.take(),
        ) {
            (Some(i), Some(o), Some(e)) => (i, o, e),
            _ => {
                kill_group(&mut process);
                return Err("the child's pipes could not be opened".into());
            }
        };
        let (to_child, writer_rx) = bounded::<Vec<u8>>(WRITE_AHEAD);
        let (reader_tx, from_child) = bounded::<Incoming>(READ_AHEAD);
        let spawned = spawn_io(
            launch.node,
            launch.task,
            &launch.log,
            stdin,
            writer_rx,
            stdout,
            reader_tx,
            stderr,
        );
        let mut child = Child {
            process,
            to_child: Some(to_child),
            from_child,
            _pid_dir: pid_dir,
            pid,
        };
        spawned?;
        let dir = child._pid_dir.path().display().to_string();
        child.send(&protocol::handshake(context, &dir), timeout, launch.stop)?;
        let deadline = Instant::now() + timeout;
        loop {
            match child.recv(Duration::from_millis(20))? {
                Some(Incoming::Message(FromChild::Pid(_))) => return Ok(child),
                Some(Incoming::Message(other)) => {
                    return Err(format!(
                        "the handshake's answer must be the pid, not {other:?}"
                    ));
                }
                Some(Incoming::Broken(why)) => return Err(why),
                Some(Incoming::Closed) => return Err(child.exit_reason("before the handshake")),
                None if (launch.stop)() => return Err("the run is stopping".into()),
                None if Instant::now() >= deadline => {
                    return Err(format!(
                        "no answer to the handshake within {} s",
                        timeout.as_secs()
                    ));
                }
                None => {}
            }
        }
    }

    /// Queues one message for the child, waiting while its queue is full: at most
    /// `timeout`, and not at all once `stop` says the run is stopping.
    pub fn send(
        &self,
        message: &serde_json::Value,
        timeout: Duration,
        stop: &dyn Fn() -> bool,
    ) -> Result<(), ChildError> {
        let Some(tx) = &self.to_child else {
            return Err("the child's input is closed".into());
        };
        let mut bytes = protocol::frame(message);
        let deadline = Instant::now() + timeout;
        loop {
            match tx.send_timeout(bytes, Duration::from_millis(20)) {
                Ok(()) => return Ok(()),
                Err(SendTimeoutError::Timeout(b)) => {
                    if stop() {
                        return Err("the run is stopping".into());
                    }
                    if Instant::now() >= deadline {
                        return Err(format!(
                            "the child read nothing for {} s (its input is full)",
                            timeout.as_secs()
                        ));
                    }
                    bytes = b;
                }
                Err(SendTimeoutError::Disconnected(_)) => {
                    return Err("the child stopped reading its input".into());
                }
            }
        }
    }

    /// Queues a framed message if the queue has room; gives it back when full, so the
    /// caller can read what the child says meanwhile (a child blocked writing to us
    /// reads nothing until we do).
    pub fn offer(&self, bytes: Vec<u8>) -> Result<Option<Vec<u8>>, ChildError> {
        let Some(tx) = &self.to_child else {
            return Err("the child's input is closed".into());
        };
        match tx.try_send(bytes) {
            Ok(()) => Ok(None),
            Err(crossbeam_channel::TrySendError::Full(b)) => Ok(Some(b)),
            Err(crossbeam_channel::TrySendError::Disconnected(_)) => {
                Err("the child stopped reading its input".into())
            }
        }
    }

    /// The next message if one comes within `wait` (`None`: none yet).
    pub fn recv(&self, wait: Duration) -> Result<Option<Incoming>, ChildError> {
        match self.from_child.recv_timeout(wait) {
            Ok(m) => Ok(Some(m)),
            Err(RecvTimeoutError::Timeout) => Ok(None),
            Err(RecvTimeoutError::Disconnected) => Ok(Some(Incoming::Closed)),
        }
    }

    /// The next message already read, without waiting.
    pub fn try_recv(&self) -> Option<Incoming> {
        self.from_child.try_recv().ok()
    }

    /// Why the child is gone, with its exit status when it has one.
    pub fn exit_reason(&mut self, when: &str) -> String {
        // Give an exiting process a moment to be reaped, so the status is known.
        let deadline = Instant::now() + Duration::from_millis(200);
        loop {
            match self.process.try_wait() {
                Ok(Some(status)) => return format!("the program exited {when} ({status})"),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(5))
                }
                _ => return format!("the program closed its output {when}"),
            }
        }
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        self.to_child = None;
        kill_group(&mut self.process);
    }
}

/// Kills the child's process group and reaps the child.
fn kill_group(process: &mut std::process::Child) {
    if let Ok(pid) = i32::try_from(process.id()) {
        // SAFETY: `kill` takes plain integers and has no memory effects; a negative pid
        // names the process group the child leads (it was spawned with its own group).
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
    let _ = process.kill();
    let _ = process.wait();
}

/// Starts the writer, reader and stderr threads. They end by themselves when the child's
/// pipes close, or when the task drops its ends.
#[allow(clippy::too_many_arguments)]
fn spawn_io(
    node: &str,
    task: u32,
    log: &Arc<RunLog>,
    stdin: ChildStdin,
    writer_rx: Receiver<Vec<u8>>,
    stdout: std::process::ChildStdout,
    reader_tx: Sender<Incoming>,
    stderr: std::process::ChildStderr,
) -> Result<(), ChildError> {
    let spawn = |name: String, f: Box<dyn FnOnce() + Send>| {
        std::thread::Builder::new()
            .name(name)
            .spawn(f)
            .map(drop)
            .map_err(|e| format!("cannot start a thread for the child: {e}"))
    };
    spawn(
        format!("{node}-{task}-stdin"),
        Box::new(move || write_loop(stdin, &writer_rx)),
    )?;
    spawn(
        format!("{node}-{task}-stdout"),
        Box::new(move || read_loop(stdout, &reader_tx)),
    )?;
    let (log, node) = (log.clone(), node.to_string());
    spawn(
        format!("{node}-{task}-stderr"),
        Box::new(move || stderr_loop(stderr, &log, &node, task)),
    )
}

fn write_loop(stdin: ChildStdin, rx: &Receiver<Vec<u8>>) {
    let mut out = std::io::BufWriter::new(stdin);
    while let Ok(bytes) = rx.recv() {
        if out.write_all(&bytes).is_err() {
            return;
        }
        // Flush when nothing else is waiting: one write for a burst of messages.
        if rx.is_empty() && out.flush().is_err() {
            return;
        }
    }
}

/// Frames messages: lines up to a line `end`. Stops at the first message that is not the
/// protocol, since nothing after it can be trusted to line up.
fn read_loop(stdout: std::process::ChildStdout, tx: &Sender<Incoming>) {
    let mut reader = BufReader::new(stdout);
    let mut message = String::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        let limit = (MAX_MESSAGE_BYTES.saturating_sub(message.len()) + 1) as u64;
        match (&mut reader).take(limit).read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => {
                let _ = tx.send(Incoming::Closed);
                return;
            }
            Ok(_) => {}
        }
        if message.len() + line.len() > MAX_MESSAGE_BYTES {
            let sample = protocol::sample(&String::from_utf8_lossy(&line), SAMPLE_BYTES);
            let _ = tx.send(Incoming::Broken(format!(
                "a message over {} bytes, starting {sample}",
                MAX_MESSAGE_BYTES
            )));
            return;
        }
        let Ok(text) = std::str::from_utf8(&line) else {
            let sample = protocol::sample(&String::from_utf8_lossy(&line), SAMPLE_BYTES);
            let _ = tx.send(Incoming::Broken(format!(
                "a line that is not UTF-8: {sample}"
            )));
            return;
        };
        let text = text.trim_end_matches(['\n', '\r']);
        if text == protocol::END {
            let parsed = protocol::parse(&message);
            let incoming = match parsed {
                Ok(m) => Incoming::Message(m),
                Err(why) => Incoming::Broken(format!(
                    "{why}: {}",
                    protocol::sample(&message, SAMPLE_BYTES)
                )),
            };
            let broken = matches!(incoming, Incoming::Broken(_));
            if tx.send(incoming).is_err() || broken {
                return;
            }
            message.clear();
        } else {
            if !message.is_empty() {
                message.push('\n');
            }
            message.push_str(text);
        }
    }
}

fn stderr_loop(stderr: std::process::ChildStderr, log: &RunLog, node: &str, task: u32) {
    let mut reader = BufReader::new(stderr);
    let mut line = Vec::new();
    let mut lines = 0u32;
    loop {
        line.clear();
        match (&mut reader)
            .take(MAX_STDERR_LINE as u64)
            .read_until(b'\n', &mut line)
        {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end();
        if !text.is_empty() {
            // The first lines (a traceback, say) among the events; then with the output,
            // so a chatty program cannot push the run's events out of the log.
            lines = lines.saturating_add(1);
            let kind = if lines <= super::EVENTS_PER_TASK {
                LogKind::Error
            } else {
                LogKind::Tuple
            };
            log.push(node, task, kind, format!("stderr: {text}"));
        }
    }
}
