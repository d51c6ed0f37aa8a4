//! The state machine against Storm's rules for each role's failure, stepped by hand.

use std::time::Duration;

use super::*;

const TIMEOUT: Duration = Duration::from_secs(3);

fn cluster(machines: u32, slots: u32, workers: u32) -> Cluster {
    let (c, effects) = Cluster::new(ClusterSpec {
        machines,
        slots_per_machine: slots,
        workers,
        heartbeat_timeout: TIMEOUT,
        implicit: false,
    });
    assert!(effects.is_empty(), "every worker had a slot");
    c
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Ticks every 50 ms from `from` to `to`, collecting the effects.
fn run(c: &mut Cluster, from: u64, to: u64) -> Vec<Effect> {
    (from / 50..=to / 50)
        .flat_map(|i| c.tick(ms(i * 50)))
        .collect()
}

fn machine_of(c: &Cluster, w: u32) -> Option<u32> {
    c.placement()[w as usize].map(|s| s.machine)
}

fn kinds(c: &Cluster) -> Vec<EventKind> {
    c.view(Duration::ZERO)
        .events
        .iter()
        .map(|e| e.kind)
        .collect()
}

#[test]
fn a_killed_worker_is_restarted_by_its_supervisor_in_the_same_slot() {
    let mut c = cluster(2, 2, 3);
    let before = c.placement();
    assert_eq!(
        c.act(ClusterAction::KillWorker(1), ms(100)),
        Ok(vec![Effect::Stop(1)])
    );
    assert_eq!(c.tick(ms(120)), vec![Effect::Start(1)]);
    assert_eq!(c.placement(), before, "same slot");
    assert_eq!(c.view(ms(120)).workers[1].restarts, 1);
    assert_eq!(kinds(&c), [EventKind::Killed, EventKind::Started]);
}

#[test]
fn a_lost_machines_workers_move_to_free_slots_only_after_the_heartbeat_timeout() {
    // 3 machines × 2 slots, 4 workers: 0→m0, 1→m1, 2→m2, 3→m0.
    let mut c = cluster(3, 2, 4);
    run(&mut c, 0, 1000);
    let effects = c.act(ClusterAction::KillMachine(0), ms(1000)).unwrap();
    assert_eq!(effects, [Effect::Stop(0), Effect::Stop(3)]);
    // Last heartbeats at 1000 ms: nothing moves before 4000 ms.
    assert!(run(&mut c, 1050, 3950).is_empty());
    assert_eq!(machine_of(&c, 0), Some(0));
    let effects = run(&mut c, 4000, 4000);
    assert_eq!(effects, [Effect::Start(0), Effect::Start(3)]);
    // Free slots in the even scheduler's order: m1 slot 6701, then m2 slot 6701.
    assert_eq!(machine_of(&c, 0), Some(1));
    assert_eq!(machine_of(&c, 3), Some(2));
    let v = c.view(ms(4000));
    assert_eq!(v.assignment_version, 2);
    assert_eq!(v.workers[0].reassignments, 1);
    assert!(v.workers.iter().all(|w| w.running));
    assert_eq!(
        kinds(&c),
        [
            EventKind::Killed,
            EventKind::HeartbeatMissed,
            EventKind::Reassigned,
            EventKind::Reassigned,
            EventKind::Started,
            EventKind::Started
        ]
    );
    // The machine comes back empty: its old workers stay where Nimbus put them.
    assert!(
        c.act(ClusterAction::RestoreMachine(0), ms(5000))
            .unwrap()
            .is_empty()
    );
    assert!(run(&mut c, 5000, 9000).is_empty());
    assert_eq!(
        c.view(ms(9000)).machines[0]
            .slots
            .iter()
            .filter(|s| s.worker.is_some())
            .count(),
        0
    );
}

#[test]
fn while_nimbus_is_down_nothing_is_reassigned_but_supervisors_still_restart() {
    let mut c = cluster(2, 2, 2);
    c.act(ClusterAction::KillNimbus, ms(0)).unwrap();
    c.act(ClusterAction::KillMachine(1), ms(100)).unwrap();
    c.act(ClusterAction::KillWorker(0), ms(100)).unwrap();
    let effects = run(&mut c, 150, 20_000);
    assert_eq!(
        effects,
        [Effect::Start(0)],
        "worker 0 restarted, worker 1 left down"
    );
    assert_eq!(machine_of(&c, 1), Some(1));
    assert!(!c.is_running(1));
    c.act(ClusterAction::RestoreNimbus, ms(20_000)).unwrap();
    let effects = c.tick(ms(20_050));
    assert_eq!(effects, [Effect::Start(1)]);
    assert_eq!(machine_of(&c, 1), Some(0), "moved to machine 0's free slot");
}

#[test]
fn with_its_supervisor_down_a_machines_workers_run_and_a_dead_one_stays_dead() {
    // 2 machines × 2 slots: workers 0 and 2 on machine 0, worker 1 on machine 1.
    let mut c = cluster(2, 2, 3);
    assert_eq!(c.placement()[2].map(|s| s.machine), Some(0));
    c.act(ClusterAction::KillSupervisor(0), ms(0)).unwrap();
    assert!(
        run(&mut c, 0, 10_000).is_empty(),
        "its workers keep running"
    );
    c.act(ClusterAction::KillWorker(0), ms(10_000)).unwrap();
    assert!(
        run(&mut c, 10_050, 30_000).is_empty(),
        "worker 0 stays dead"
    );
    assert_eq!(
        machine_of(&c, 0),
        Some(0),
        "not reassigned: worker 2 still heartbeats"
    );
    c.act(ClusterAction::RestoreSupervisor(0), ms(30_000))
        .map(|e| assert_eq!(e, [Effect::Start(0)]))
        .unwrap();
    assert_eq!(machine_of(&c, 0), Some(0), "restarted in its own slot");
}

#[test]
fn with_no_free_slot_a_lost_worker_waits_for_its_machine() {
    let mut c = cluster(2, 1, 2);
    c.act(ClusterAction::KillMachine(1), ms(0)).unwrap();
    assert!(run(&mut c, 0, 10_000).is_empty());
    let said: Vec<String> = c
        .view(ms(0))
        .events
        .iter()
        .map(|e| e.text.clone())
        .collect();
    assert_eq!(
        said.last().map(String::as_str),
        Some("no free slot for worker 1: it stays down until a machine returns"),
        "{said:?}"
    );
    assert_eq!(
        c.act(ClusterAction::RestoreMachine(1), ms(10_000)),
        Ok(vec![Effect::Start(1)])
    );
    assert_eq!(machine_of(&c, 1), Some(1));
}

#[test]
fn every_machine_down_is_said_once() {
    let mut c = cluster(2, 1, 2);
    c.act(ClusterAction::KillMachine(0), ms(0)).unwrap();
    c.act(ClusterAction::KillMachine(1), ms(0)).unwrap();
    run(&mut c, 0, 10_000);
    let said: Vec<String> = c
        .view(ms(0))
        .events
        .iter()
        .map(|e| e.text.clone())
        .collect();
    let all = said
        .iter()
        .filter(|t| t.starts_with("every machine is down"))
        .count();
    assert_eq!(all, 1, "{said:?}");
}

#[test]
fn refusals_change_nothing_and_say_why() {
    let mut c = cluster(3, 2, 2);
    let refused = |c: &mut Cluster, a| c.act(a, ms(0)).unwrap_err();
    assert_eq!(
        refused(&mut c, ClusterAction::KillMachine(3)),
        "there is no machine 3: this cluster has machines 0 to 2"
    );
    assert_eq!(
        refused(&mut c, ClusterAction::KillWorker(7)),
        "there is no worker 7: this run has workers 0 to 1"
    );
    assert_eq!(
        refused(&mut c, ClusterAction::RestoreMachine(0)),
        "machine 0 is up already"
    );
    assert_eq!(
        refused(&mut c, ClusterAction::RestoreNimbus),
        "Nimbus is up already"
    );
    assert_eq!(
        refused(&mut c, ClusterAction::RestoreSupervisor(1)),
        "the supervisor of machine 1 is up already"
    );
    c.act(ClusterAction::KillMachine(2), ms(0)).unwrap();
    assert_eq!(
        refused(&mut c, ClusterAction::KillMachine(2)),
        "machine 2 is already down"
    );
    assert_eq!(
        refused(&mut c, ClusterAction::KillSupervisor(2)),
        "machine 2 is down, and its supervisor with it"
    );
    assert_eq!(
        refused(&mut c, ClusterAction::RestoreSupervisor(2)),
        "machine 2 is down: restore the machine"
    );
    c.act(ClusterAction::KillNimbus, ms(0)).unwrap();
    assert_eq!(
        refused(&mut c, ClusterAction::KillNimbus),
        "Nimbus is already down"
    );
    c.act(ClusterAction::KillWorker(0), ms(0)).unwrap();
    assert_eq!(
        refused(&mut c, ClusterAction::KillWorker(0)),
        "worker 0 is already down"
    );
    assert_eq!(
        kinds(&c)
            .iter()
            .filter(|k| **k == EventKind::Refused)
            .count(),
        10
    );
}

#[test]
fn a_rebalance_places_every_worker_afresh_on_live_machines_and_needs_nimbus() {
    let mut c = cluster(3, 2, 2);
    c.act(ClusterAction::KillMachine(0), ms(0)).unwrap();
    // 4 workers over machines 1 and 2: 1, 2, 1, 2.
    assert_eq!(c.rebalance(4, ms(100)), Ok(vec![]));
    let machines: Vec<Option<u32>> = (0..4).map(|w| machine_of(&c, w)).collect();
    assert_eq!(machines, [Some(1), Some(2), Some(1), Some(2)]);
    assert_eq!(c.view(ms(100)).assignment_version, 2);
    // A fifth has no slot: it stays down, and Nimbus says so.
    assert_eq!(c.rebalance(5, ms(200)), Ok(vec![Effect::Stop(4)]));
    assert_eq!(kinds(&c).last(), Some(&EventKind::NoSlot));
    c.act(ClusterAction::KillNimbus, ms(300)).unwrap();
    assert_eq!(
        c.rebalance(2, ms(300)),
        Err("Nimbus is down, and a rebalance is Nimbus's work".to_string())
    );
}

#[test]
fn without_a_cluster_setting_the_one_machine_grows_with_a_rebalance() {
    let (mut c, _) = Cluster::new(ClusterSpec {
        machines: 1,
        slots_per_machine: 2,
        workers: 2,
        heartbeat_timeout: TIMEOUT,
        implicit: true,
    });
    assert_eq!(c.rebalance(5, ms(0)), Ok(vec![]));
    assert!((0..5).all(|w| c.is_running(w)));
}
