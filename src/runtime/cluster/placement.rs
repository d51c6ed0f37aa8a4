//! Where workers run: slots on machines, dealt as Storm's even scheduler deals them.
//! Plain functions over plain data, so every engine (and the designer) asks the same
//! question the same way — "which slot does worker 3 have", "which workers were on
//! machine 1".

use serde::Serialize;

/// Port of a machine's first slot (Storm's `supervisor.slots.ports` start at 6700).
pub const FIRST_PORT: u32 = 6700;

/// One worker slot: machine `machine`'s slot `index` (port `FIRST_PORT + index`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Slot {
    pub machine: u32,
    pub index: u32,
}

impl Slot {
    /// The port Storm would give this slot.
    pub fn port(self) -> u32 {
        FIRST_PORT + self.index
    }
}

/// Storm's even scheduler's slot order (`EvenScheduler.sortSlots`): the free slots
/// grouped by machine, each group in port order, groups with more free slots first
/// (ties in machine order), then interleaved — the first slot of every machine, then
/// the second of every machine, and so on — so consecutive workers land on different
/// machines.
pub fn sort_slots(free: &[Slot]) -> Vec<Slot> {
    let mut groups: std::collections::BTreeMap<u32, Vec<Slot>> = Default::default();
    for &slot in free {
        groups.entry(slot.machine).or_default().push(slot);
    }
    let mut groups: Vec<Vec<Slot>> = groups.into_values().collect();
    for g in &mut groups {
        g.sort_by_key(|s| s.index);
    }
    // Stable: equal sizes keep machine order, as Java's List.sort does.
    groups.sort_by_key(|g| std::cmp::Reverse(g.len()));
    let longest = groups.first().map_or(0, Vec::len);
    (0..longest)
        .flat_map(|i| groups.iter().filter_map(move |g| g.get(i).copied()))
        .collect()
}

/// Every slot of `machines` machines with `slots_per_machine` each, in machine order.
pub fn all_slots(machines: u32, slots_per_machine: u32) -> Vec<Slot> {
    (0..machines)
        .flat_map(|machine| (0..slots_per_machine).map(move |index| Slot { machine, index }))
        .collect()
}

/// The first placement of `workers` workers on an empty cluster: worker `w` takes the
/// `w`-th slot of the even scheduler's order; `None` for workers beyond the slots.
pub fn place(workers: u32, machines: u32, slots_per_machine: u32) -> Vec<Option<Slot>> {
    let order = sort_slots(&all_slots(machines, slots_per_machine));
    (0..workers as usize)
        .map(|w| order.get(w).copied())
        .collect()
}

/// The slots of the machines `usable` accepts that no worker of `placement` holds.
pub fn free_slots(
    machines: u32,
    slots_per_machine: u32,
    usable: impl Fn(u32) -> bool,
    placement: &[Option<Slot>],
) -> Vec<Slot> {
    all_slots(machines, slots_per_machine)
        .into_iter()
        .filter(|s| usable(s.machine) && !placement.contains(&Some(*s)))
        .collect()
}

/// The workers `placement` puts on `machine`, in index order: what a lost machine
/// takes down with it.
pub fn workers_on(placement: &[Option<Slot>], machine: u32) -> Vec<u32> {
    placement
        .iter()
        .enumerate()
        .filter(|(_, s)| s.is_some_and(|s| s.machine == machine))
        .map(|(w, _)| w as u32)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot(machine: u32, index: u32) -> Slot {
        Slot { machine, index }
    }

    #[test]
    fn slots_interleave_across_machines_fullest_first() {
        // Storm's own example: supervisor1 has 2 free slots, supervisor2 3, supervisor3 4.
        let free = [
            slot(1, 0),
            slot(1, 1),
            slot(2, 0),
            slot(2, 1),
            slot(2, 2),
            slot(3, 0),
            slot(3, 3),
            slot(3, 2),
            slot(3, 1),
        ];
        let order: Vec<(u32, u32)> = sort_slots(&free)
            .iter()
            .map(|s| (s.machine, s.port()))
            .collect();
        assert_eq!(
            order,
            [
                (3, 6700),
                (2, 6700),
                (1, 6700),
                (3, 6701),
                (2, 6701),
                (1, 6701),
                (3, 6702),
                (2, 6702),
                (3, 6703)
            ]
        );
    }

    #[test]
    fn workers_spread_over_machines_before_doubling_up() {
        let p = place(4, 3, 2);
        let machines: Vec<u32> = p.iter().map(|s| s.unwrap().machine).collect();
        assert_eq!(machines, [0, 1, 2, 0]);
        assert_eq!(workers_on(&p, 0), [0, 3]);
        assert_eq!(workers_on(&p, 2), [2]);
        assert_eq!(place(3, 1, 2)[2], None, "more workers than slots");
        let free = free_slots(3, 2, |m| m != 1, &p);
        assert_eq!(free, [slot(2, 1)]);
    }
}
