//! The cluster's state machine: who is alive, what the store holds, and what Nimbus and
//! the supervisors do about it. Plain data and functions, no threads and no clock of
//! its own: an engine calls [`Cluster::act`] for a kill or a restore and
//! [`Cluster::tick`] every few milliseconds with the run's time, and carries out the
//! returned [`Effect`]s on its executors.
//!
//! Storm's rules, as simulated here:
//! - every running worker writes a heartbeat to the store, and so does every live
//!   supervisor;
//! - a supervisor starts (again) every worker the store assigns to its machine that is
//!   not running — a killed worker comes back in the same slot;
//! - Nimbus judges a machine lost when neither its supervisor nor any worker assigned
//!   to it has written a heartbeat for the timeout (it cannot tell a silent machine
//!   from a dead one), and moves the lost machine's workers to free slots of machines
//!   whose supervisors are heartbeating, in the even scheduler's order;
//! - while Nimbus is down nothing is reassigned, but supervisors keep restarting; while
//!   a supervisor is down its workers keep running, and one that dies stays dead.

use std::collections::VecDeque;
use std::time::Duration;

use super::placement::{Slot, free_slots, place, sort_slots, workers_on};
use super::view::{ClusterEvent, ClusterView, EventKind, MachineView, SlotView, WorkerView};
use super::{ClusterAction, ClusterSpec};

/// Events the timeline keeps (the oldest are dropped first).
pub const EVENTS_KEPT: usize = 200;

/// What the engine must do to its executors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// The worker's process is gone: its executors stop and lose their state.
    Stop(u32),
    /// A supervisor started the worker: its executors are rebuilt and run.
    Start(u32),
}

#[derive(Debug, Clone)]
struct Machine {
    up: bool,
    supervisor_up: bool,
    supervisor_beat: Duration,
    /// Nimbus has said this machine is lost (said once per loss).
    lost_said: bool,
}

#[derive(Debug, Clone)]
struct Worker {
    slot: Option<Slot>,
    running: bool,
    beat: Duration,
    restarts: u64,
    reassignments: u64,
    /// Nimbus has said no slot is free for it (said once until it finds one).
    no_slot_said: bool,
}

/// The simulated cluster of one run.
#[derive(Debug, Clone)]
pub struct Cluster {
    spec: ClusterSpec,
    machines: Vec<Machine>,
    workers: Vec<Worker>,
    nimbus_up: bool,
    version: u64,
    events: VecDeque<ClusterEvent>,
    /// Events not yet handed to [`Cluster::take_fresh`] (for the run log).
    fresh: Vec<ClusterEvent>,
    all_down_said: bool,
}

impl Cluster {
    /// The cluster with every worker placed by the even scheduler and running. Workers
    /// beyond the slots (validation refuses such a design) start with no slot, stopped.
    pub fn new(spec: ClusterSpec) -> (Cluster, Vec<Effect>) {
        let placement = place(spec.workers, spec.machines, spec.slots_per_machine);
        let workers: Vec<Worker> = placement
            .iter()
            .map(|&slot| Worker {
                slot,
                running: slot.is_some(),
                beat: Duration::ZERO,
                restarts: 0,
                reassignments: 0,
                no_slot_said: false,
            })
            .collect();
        let stopped = (0..spec.workers)
            .filter(|&w| placement[w as usize].is_none())
            .map(Effect::Stop)
            .collect();
        let cluster = Cluster {
            machines: (0..spec.machines)
                .map(|_| Machine {
                    up: true,
                    supervisor_up: true,
                    supervisor_beat: Duration::ZERO,
                    lost_said: false,
                })
                .collect(),
            workers,
            nimbus_up: true,
            version: 1,
            events: VecDeque::new(),
            fresh: Vec::new(),
            all_down_said: false,
            spec,
        };
        (cluster, stopped)
    }

    /// Where each worker is assigned (the store's assignment).
    pub fn placement(&self) -> Vec<Option<Slot>> {
        self.workers.iter().map(|w| w.slot).collect()
    }

    /// Whether worker `w` runs now.
    pub fn is_running(&self, w: u32) -> bool {
        self.workers.get(w as usize).is_some_and(|w| w.running)
    }

    /// Whether the supervisor that would restart worker `w` is alive.
    pub fn supervisor_of_is_up(&self, w: u32) -> bool {
        self.workers
            .get(w as usize)
            .and_then(|w| w.slot)
            .and_then(|s| self.machines.get(s.machine as usize))
            .is_some_and(|m| m.up && m.supervisor_up)
    }

    /// Carries out a kill or a restore at `now`. A refusal (out of range, already in
    /// that state) changes nothing, is recorded in the timeline and returned as the
    /// message the user sees.
    pub fn act(&mut self, action: ClusterAction, now: Duration) -> Result<Vec<Effect>, String> {
        let result = self.try_act(action, now);
        if let Err(why) = &result {
            self.event(now, EventKind::Refused, action.role(), why.clone());
        }
        result
    }

    fn try_act(&mut self, action: ClusterAction, now: Duration) -> Result<Vec<Effect>, String> {
        match action {
            ClusterAction::KillWorker(w) => {
                let worker = self.worker(w)?;
                if !worker.running {
                    return Err(format!("worker {w} is already down"));
                }
                worker.running = false;
                let slot = worker.slot;
                let place = slot.map_or_else(String::new, |s| {
                    format!(" (machine {}, slot {})", s.machine, s.port())
                });
                self.event(
                    now,
                    EventKind::Killed,
                    action.role(),
                    format!("worker {w} killed{place}"),
                );
                Ok(vec![Effect::Stop(w)])
            }
            ClusterAction::KillMachine(m) => {
                let machine = self.machine(m)?;
                if !machine.up {
                    return Err(format!("machine {m} is already down"));
                }
                machine.up = false;
                machine.supervisor_up = false;
                let on = workers_on(&self.placement(), m);
                let mut effects = Vec::new();
                for &w in &on {
                    if let Some(worker) = self.workers.get_mut(w as usize)
                        && worker.running
                    {
                        worker.running = false;
                        effects.push(Effect::Stop(w));
                    }
                }
                self.event(
                    now,
                    EventKind::Killed,
                    action.role(),
                    format!(
                        "machine {m} lost: its supervisor and {} are gone",
                        list("worker", &on)
                    ),
                );
                if self.machines.iter().all(|m| !m.up) && !self.all_down_said {
                    self.all_down_said = true;
                    self.event(
                        now,
                        EventKind::Killed,
                        "cluster".into(),
                        "every machine is down: nothing runs until one is restored".into(),
                    );
                }
                Ok(effects)
            }
            ClusterAction::RestoreMachine(m) => {
                let machine = self.machine(m)?;
                if machine.up {
                    return Err(format!("machine {m} is up already"));
                }
                *machine = Machine {
                    up: true,
                    supervisor_up: true,
                    supervisor_beat: now,
                    lost_said: false,
                };
                self.all_down_said = false;
                self.event(
                    now,
                    EventKind::Restored,
                    action.role(),
                    format!("machine {m} restored with its supervisor"),
                );
                Ok(self.supervise(now))
            }
            ClusterAction::KillNimbus => {
                if !self.nimbus_up {
                    return Err("Nimbus is already down".into());
                }
                self.nimbus_up = false;
                self.event(
                    now,
                    EventKind::Killed,
                    action.role(),
                    "Nimbus down: workers keep running, nothing is reassigned".into(),
                );
                Ok(Vec::new())
            }
            ClusterAction::RestoreNimbus => {
                if self.nimbus_up {
                    return Err("Nimbus is up already".into());
                }
                self.nimbus_up = true;
                self.event(
                    now,
                    EventKind::Restored,
                    action.role(),
                    format!(
                        "Nimbus back: it reads assignment version {} from the store",
                        self.version
                    ),
                );
                Ok(Vec::new())
            }
            ClusterAction::KillSupervisor(m) => {
                let machine = self.machine(m)?;
                if !machine.up {
                    return Err(format!("machine {m} is down, and its supervisor with it"));
                }
                if !machine.supervisor_up {
                    return Err(format!("the supervisor of machine {m} is already down"));
                }
                machine.supervisor_up = false;
                self.event(
                    now,
                    EventKind::Killed,
                    action.role(),
                    format!(
                        "supervisor {m} down: its workers keep running, one that dies stays down"
                    ),
                );
                Ok(Vec::new())
            }
            ClusterAction::RestoreSupervisor(m) => {
                let machine = self.machine(m)?;
                if !machine.up {
                    return Err(format!("machine {m} is down: restore the machine"));
                }
                if machine.supervisor_up {
                    return Err(format!("the supervisor of machine {m} is up already"));
                }
                machine.supervisor_up = true;
                machine.supervisor_beat = now;
                self.event(
                    now,
                    EventKind::Restored,
                    action.role(),
                    format!("supervisor {m} back"),
                );
                Ok(self.supervise(now))
            }
        }
    }

    /// One round at `now`: heartbeats reach the store, supervisors start what should
    /// run on their machine, and Nimbus (if up) reassigns the workers of lost machines.
    pub fn tick(&mut self, now: Duration) -> Vec<Effect> {
        for w in self.workers.iter_mut().filter(|w| w.running) {
            w.beat = now;
        }
        for m in self.machines.iter_mut().filter(|m| m.supervisor_up) {
            m.supervisor_beat = now;
        }
        let mut effects = self.supervise(now);
        if self.nimbus_up {
            self.reassign(now);
            // A worker moved to a live machine is started by its new supervisor at once.
            effects.extend(self.supervise(now));
        }
        effects
    }

    /// Every live supervisor starts the workers assigned to its machine that are down.
    fn supervise(&mut self, now: Duration) -> Vec<Effect> {
        let mut effects = Vec::new();
        for w in 0..self.workers.len() {
            let Some(slot) = self.workers[w].slot else {
                continue;
            };
            let live = self
                .machines
                .get(slot.machine as usize)
                .is_some_and(|m| m.up && m.supervisor_up);
            if !live || self.workers[w].running {
                continue;
            }
            let worker = &mut self.workers[w];
            worker.running = true;
            worker.beat = now;
            worker.restarts += 1;
            effects.push(Effect::Start(w as u32));
            self.event(
                now,
                EventKind::Started,
                format!("supervisor {}", slot.machine),
                format!(
                    "supervisor {} started worker {w} in slot {}",
                    slot.machine,
                    slot.port()
                ),
            );
        }
        effects
    }

    /// A machine is silent when neither its supervisor nor any worker assigned to it
    /// wrote a heartbeat within the timeout.
    fn silent(&self, m: u32, now: Duration) -> bool {
        let timeout = self.spec.heartbeat_timeout;
        let old = |beat: Duration| now.saturating_sub(beat) >= timeout;
        self.machines
            .get(m as usize)
            .is_some_and(|mach| old(mach.supervisor_beat))
            && self
                .workers
                .iter()
                .filter(|w| w.slot.is_some_and(|s| s.machine == m))
                .all(|w| old(w.beat))
    }

    /// Nimbus's round: note newly lost machines, then move their workers (and any
    /// worker without a slot) to free slots of machines it hears from.
    fn reassign(&mut self, now: Duration) {
        let timeout = self.spec.heartbeat_timeout;
        let silent: Vec<bool> = (0..self.spec.machines)
            .map(|m| self.silent(m, now))
            .collect();
        for m in 0..self.spec.machines {
            if !silent[m as usize] {
                self.machines[m as usize].lost_said = false;
            }
            if silent[m as usize] && !self.machines[m as usize].lost_said {
                self.machines[m as usize].lost_said = true;
                let lost = workers_on(&self.placement(), m);
                self.event(
                    now,
                    EventKind::HeartbeatMissed,
                    "nimbus".into(),
                    format!(
                        "no heartbeat from machine {m} for {:?}: {} lost",
                        timeout,
                        if lost.is_empty() {
                            "no worker".to_string()
                        } else {
                            list("worker", &lost)
                        }
                    ),
                );
            }
        }
        let lost: Vec<usize> = (0..self.workers.len())
            .filter(|&w| match self.workers[w].slot {
                None => true,
                Some(s) => silent[s.machine as usize],
            })
            .collect();
        if lost.is_empty() {
            return;
        }
        // Slots held by workers of silent machines are not taken: those workers move.
        let mut held = self.placement();
        for &w in &lost {
            held[w] = None;
        }
        let machines = &self.machines;
        let hears = |m: u32| {
            machines
                .get(m as usize)
                .is_some_and(|mach| now.saturating_sub(mach.supervisor_beat) < timeout)
                && !silent[m as usize]
        };
        let free = sort_slots(&free_slots(
            self.spec.machines,
            self.spec.slots_per_machine,
            hears,
            &held,
        ));
        let mut moved = false;
        for (i, &w) in lost.iter().enumerate() {
            match free.get(i) {
                Some(&to) => {
                    let from = self.workers[w].slot;
                    let worker = &mut self.workers[w];
                    worker.slot = Some(to);
                    worker.reassignments += 1;
                    worker.no_slot_said = false;
                    moved = true;
                    let from = from.map_or_else(
                        || "nowhere".to_string(),
                        |s| format!("machine {}", s.machine),
                    );
                    self.event(
                        now,
                        EventKind::Reassigned,
                        "nimbus".into(),
                        format!(
                            "reassigned worker {w} from {from} to machine {} slot {}",
                            to.machine,
                            to.port()
                        ),
                    );
                }
                None if !self.workers[w].no_slot_said => {
                    self.workers[w].no_slot_said = true;
                    self.event(
                        now,
                        EventKind::NoSlot,
                        "nimbus".into(),
                        format!(
                            "no free slot for worker {w}: it stays down until a machine returns"
                        ),
                    );
                }
                None => {}
            }
        }
        if moved {
            self.version += 1;
        }
    }

    /// Storm's rebalance, which Nimbus carries out: every worker of the new count is
    /// placed afresh on the slots of live machines, in the even scheduler's order, and
    /// the new assignment published. Refused while Nimbus is down.
    pub fn rebalance(&mut self, workers: u32, now: Duration) -> Result<Vec<Effect>, String> {
        if !self.nimbus_up {
            return Err("Nimbus is down, and a rebalance is Nimbus's work".into());
        }
        if self.spec.implicit {
            self.spec.slots_per_machine = self.spec.slots_per_machine.max(workers);
        }
        let machines = &self.machines;
        let usable = |m: u32| {
            machines
                .get(m as usize)
                .is_some_and(|mach| mach.up && mach.supervisor_up)
        };
        let order = sort_slots(&free_slots(
            self.spec.machines,
            self.spec.slots_per_machine,
            usable,
            &[],
        ));
        self.spec.workers = workers;
        self.workers = (0..workers as usize)
            .map(|w| {
                let slot = order.get(w).copied();
                Worker {
                    slot,
                    running: slot.is_some(),
                    beat: now,
                    restarts: 0,
                    reassignments: 0,
                    no_slot_said: false,
                }
            })
            .collect();
        self.version += 1;
        self.event(
            now,
            EventKind::Reassigned,
            "nimbus".into(),
            format!(
                "rebalanced: {} placed afresh (assignment version {})",
                list("worker", &(0..workers).collect::<Vec<_>>()),
                self.version
            ),
        );
        let unplaced: Vec<u32> = (0..workers)
            .filter(|&w| order.get(w as usize).is_none())
            .collect();
        for &w in &unplaced {
            self.workers[w as usize].no_slot_said = true;
            self.event(
                now,
                EventKind::NoSlot,
                "nimbus".into(),
                format!("no free slot for worker {w}: it stays down until a machine returns"),
            );
        }
        Ok(unplaced.into_iter().map(Effect::Stop).collect())
    }

    /// Whether Nimbus is up (a rebalance needs it).
    pub fn nimbus_up(&self) -> bool {
        self.nimbus_up
    }

    /// The cluster as a snapshot shows it, at `now`.
    pub fn view(&self, now: Duration) -> ClusterView {
        let age = |beat: Duration| {
            u64::try_from(now.saturating_sub(beat).as_millis()).unwrap_or(u64::MAX)
        };
        let placement = self.placement();
        ClusterView {
            machines: self
                .machines
                .iter()
                .enumerate()
                .map(|(m, mach)| MachineView {
                    machine: m as u32,
                    up: mach.up,
                    supervisor_up: mach.supervisor_up,
                    supervisor_heartbeat_age_ms: age(mach.supervisor_beat),
                    slots: (0..self.spec.slots_per_machine)
                        .map(|index| {
                            let slot = Slot {
                                machine: m as u32,
                                index,
                            };
                            SlotView {
                                port: slot.port(),
                                worker: placement
                                    .iter()
                                    .position(|s| *s == Some(slot))
                                    .map(|w| w as u32),
                            }
                        })
                        .collect(),
                })
                .collect(),
            workers: self
                .workers
                .iter()
                .enumerate()
                .map(|(w, worker)| WorkerView {
                    worker: w as u32,
                    machine: worker.slot.map(|s| s.machine),
                    port: worker.slot.map(Slot::port),
                    running: worker.running,
                    heartbeat_age_ms: age(worker.beat),
                    restarts: worker.restarts,
                    reassignments: worker.reassignments,
                })
                .collect(),
            nimbus_up: self.nimbus_up,
            assignment_version: self.version,
            heartbeat_timeout_ms: u64::try_from(self.spec.heartbeat_timeout.as_millis())
                .unwrap_or(u64::MAX),
            events: self.events.iter().cloned().collect(),
        }
    }

    /// Events recorded since the last call, for the run log.
    pub fn take_fresh(&mut self) -> Vec<ClusterEvent> {
        std::mem::take(&mut self.fresh)
    }

    fn event(&mut self, now: Duration, kind: EventKind, role: String, text: String) {
        let e = ClusterEvent {
            at_ms: u64::try_from(now.as_millis()).unwrap_or(u64::MAX),
            kind,
            role,
            text,
        };
        if self.events.len() == EVENTS_KEPT {
            self.events.pop_front();
        }
        self.events.push_back(e.clone());
        if self.fresh.len() < EVENTS_KEPT {
            self.fresh.push(e);
        }
    }

    fn machine(&mut self, m: u32) -> Result<&mut Machine, String> {
        let n = self.machines.len();
        self.machines.get_mut(m as usize).ok_or_else(|| {
            format!(
                "there is no machine {m}: this cluster has {}",
                range("machine", n)
            )
        })
    }

    fn worker(&mut self, w: u32) -> Result<&mut Worker, String> {
        let n = self.workers.len();
        self.workers.get_mut(w as usize).ok_or_else(|| {
            format!(
                "there is no worker {w}: this run has {}",
                range("worker", n)
            )
        })
    }
}

/// "machines 0 to 2", "machine 0".
fn range(what: &str, n: usize) -> String {
    match n {
        0 => format!("no {what}s"),
        1 => format!("only {what} 0"),
        n => format!("{what}s 0 to {}", n - 1),
    }
}

/// "worker 2", "workers 0, 3", "no worker".
fn list(what: &str, items: &[u32]) -> String {
    let words: Vec<String> = items.iter().map(u32::to_string).collect();
    match items.len() {
        0 => format!("no {what}"),
        1 => format!("{what} {}", words[0]),
        _ => format!("{what}s {}", words.join(", ")),
    }
}
