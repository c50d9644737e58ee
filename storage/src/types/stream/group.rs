//! Consumer groups (redis-server's `streamCG`, `streamConsumer`, `streamNACK`): each group's
//! last delivered ID and read counter, its pending entries list (PEL) ordered by ID, and its
//! consumers, each with its own PEL and the time it was last seen (Redis 7.0 has
//! `seen-time` only; `active-time` came in 7.2).
//!
//! A pending entry names its consumer by a slot in the group's consumer table rather than
//! by pointer, so the group is plain data (`Clone` copies it whole, as COPY needs). Groups
//! and consumers are kept in byte order of their names, the order Redis's radix trees list
//! them in.
//!
//! Heap accounting is O(1) per change: each group knows its own size from its counts, and
//! [`GroupMut`] folds the change of one group's size into the total when it is dropped.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::{Deref, DerefMut};

use super::id::StreamId;

/// Heap bytes charged per group, beyond its name.
const GROUP_COST: usize = 160;
/// Heap bytes charged per consumer, beyond twice its name (table and index).
const CONSUMER_COST: usize = 96;
/// Heap bytes charged per pending entry (the group's PEL and the consumer's).
const NACK_COST: usize = 96;

/// "No consumer": a pending entry created by `XCLAIM … FORCE` before it is assigned.
const NO_CONSUMER: u32 = u32::MAX;

/// A pending entry: delivered, not yet acknowledged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Nack {
    /// When it was last delivered, Unix ms.
    pub delivery_time: i64,
    /// How many times it was delivered.
    pub delivery_count: u64,
    /// Its consumer's slot.
    consumer: u32,
}

/// A consumer of a group.
#[derive(Clone, Debug)]
pub struct Consumer {
    /// Its name.
    pub name: Box<[u8]>,
    /// When it was last seen (read, claimed), Unix ms.
    pub seen_time: i64,
    /// The IDs pending for it.
    pub pel: BTreeSet<StreamId>,
}

/// Identifies a consumer within its group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConsumerId(u32);

/// A consumer group; see the module doc.
#[derive(Clone, Debug)]
pub struct Group {
    /// The last ID delivered to the group.
    pub last_id: StreamId,
    /// Entries read by the group (`entries-read`), or -1 when unknown.
    pub entries_read: i64,
    pel: BTreeMap<StreamId, Nack>,
    slots: Vec<Option<Consumer>>,
    by_name: BTreeMap<Box<[u8]>, u32>,
    free: Vec<u32>,
    name_bytes: usize,
}

impl Group {
    /// A group that has delivered up to `last_id`.
    pub fn new(last_id: StreamId, entries_read: i64) -> Group {
        Group {
            last_id,
            entries_read,
            pel: BTreeMap::new(),
            slots: Vec::new(),
            by_name: BTreeMap::new(),
            free: Vec::new(),
            name_bytes: 0,
        }
    }

    /// Heap bytes, from its counts. O(1).
    fn heap_bytes(&self) -> usize {
        GROUP_COST
            + self.by_name.len() * CONSUMER_COST
            + 2 * self.name_bytes
            + self.pel.len() * NACK_COST
    }

    /// The pending entries, by ID.
    pub fn pel(&self) -> &BTreeMap<StreamId, Nack> {
        &self.pel
    }

    /// Number of consumers.
    pub fn consumer_count(&self) -> usize {
        self.by_name.len()
    }

    /// The consumers in name order.
    pub fn consumers(&self) -> impl Iterator<Item = &Consumer> + '_ {
        self.by_name
            .values()
            .filter_map(|&slot| self.slots[slot as usize].as_ref())
    }

    /// The consumer `name`.
    pub fn consumer_id(&self, name: &[u8]) -> Option<ConsumerId> {
        self.by_name.get(name).map(|&s| ConsumerId(s))
    }

    /// The consumer in slot `id`.
    pub fn consumer(&self, id: ConsumerId) -> &Consumer {
        match self.slots.get(id.0 as usize) {
            Some(Some(c)) => c,
            _ => unreachable!("consumer ids name live consumers"),
        }
    }

    fn consumer_mut(&mut self, id: ConsumerId) -> &mut Consumer {
        match self.slots.get_mut(id.0 as usize) {
            Some(Some(c)) => c,
            _ => unreachable!("consumer ids name live consumers"),
        }
    }

    /// The name of the consumer a pending entry belongs to.
    pub fn owner(&self, nack: &Nack) -> &[u8] {
        &self.consumer(ConsumerId(nack.consumer)).name
    }

    /// The consumer a pending entry belongs to.
    pub fn owner_id(&self, nack: &Nack) -> ConsumerId {
        ConsumerId(nack.consumer)
    }

    /// Looks up consumer `name`, marking it seen at `now` unless `now` is `None`
    /// (`streamLookupConsumer`).
    pub fn lookup_consumer(&mut self, name: &[u8], now: Option<i64>) -> Option<ConsumerId> {
        let id = self.consumer_id(name)?;
        if let Some(now) = now {
            self.consumer_mut(id).seen_time = now;
        }
        Some(id)
    }

    /// Creates consumer `name`, seen at `now`; `None` if it exists (`streamCreateConsumer`).
    pub fn create_consumer(&mut self, name: &[u8], now: i64) -> Option<ConsumerId> {
        if self.by_name.contains_key(name) {
            return None;
        }
        let consumer = Consumer {
            name: name.into(),
            seen_time: now,
            pel: BTreeSet::new(),
        };
        let slot = match self.free.pop() {
            Some(s) => {
                self.slots[s as usize] = Some(consumer);
                s
            }
            None => {
                self.slots.push(Some(consumer));
                (self.slots.len() - 1) as u32
            }
        };
        self.by_name.insert(name.into(), slot);
        self.name_bytes += name.len();
        Some(ConsumerId(slot))
    }

    /// Looks up consumer `name` (seen at `now`), creating it if missing; true in the second
    /// element if it was created.
    pub fn lookup_or_create(&mut self, name: &[u8], now: i64) -> (ConsumerId, bool) {
        match self.lookup_consumer(name, Some(now)) {
            Some(id) => (id, false),
            None => match self.create_consumer(name, now) {
                Some(id) => (id, true),
                None => unreachable!("the consumer was just found missing"),
            },
        }
    }

    /// Deletes a consumer and its pending entries; returns how many it had.
    pub fn delete_consumer(&mut self, id: ConsumerId) -> usize {
        let Some(c) = self.slots.get_mut(id.0 as usize).and_then(Option::take) else {
            return 0;
        };
        for pid in &c.pel {
            self.pel.remove(pid);
        }
        self.by_name.remove(&c.name);
        self.name_bytes -= c.name.len();
        self.free.push(id.0);
        c.pel.len()
    }

    /// Acknowledges `id`: true if it was pending.
    pub fn ack(&mut self, id: StreamId) -> bool {
        match self.pel.remove(&id) {
            Some(nack) => {
                if nack.consumer != NO_CONSUMER {
                    self.consumer_mut(ConsumerId(nack.consumer)).pel.remove(&id);
                }
                true
            }
            None => false,
        }
    }

    /// XREADGROUP delivering `id` to `consumer` at `now`: a new pending entry, or one taken
    /// over from whoever had it, with its delivery count reset to 1.
    pub fn deliver(&mut self, id: StreamId, consumer: ConsumerId, now: i64) -> &Nack {
        if let Some(old) = self.pel.get(&id).map(|n| n.consumer) {
            if old != NO_CONSUMER {
                self.consumer_mut(ConsumerId(old)).pel.remove(&id);
            }
        }
        self.consumer_mut(consumer).pel.insert(id);
        self.pel.insert(
            id,
            Nack {
                delivery_time: now,
                delivery_count: 1,
                consumer: consumer.0,
            },
        );
        &self.pel[&id]
    }

    /// XREADGROUP re-reading a consumer's history: counts another delivery of `id`.
    pub fn redeliver(&mut self, id: StreamId, now: i64) -> Option<&Nack> {
        let nack = self.pel.get_mut(&id)?;
        nack.delivery_time = now;
        nack.delivery_count += 1;
        Some(nack)
    }

    /// Creates an unassigned pending entry for `id` (`XCLAIM … FORCE`), delivered now.
    pub fn force_pending(&mut self, id: StreamId, now: i64) {
        self.pel.entry(id).or_insert(Nack {
            delivery_time: now,
            delivery_count: 1,
            consumer: NO_CONSUMER,
        });
    }

    /// True if the pending entry `id` was created by [`Group::force_pending`] and not yet
    /// assigned.
    pub fn is_unassigned(&self, id: StreamId) -> bool {
        self.pel.get(&id).is_some_and(|n| n.consumer == NO_CONSUMER)
    }

    /// XCLAIM and XAUTOCLAIM: gives the pending entry `id` to `consumer`, delivered at
    /// `time`; its count is set to `retry` if given, else incremented unless `justid`.
    pub fn claim(
        &mut self,
        id: StreamId,
        consumer: ConsumerId,
        time: i64,
        retry: Option<u64>,
        justid: bool,
    ) -> Option<&Nack> {
        let old = self.pel.get(&id)?.consumer;
        if old != consumer.0 {
            if old != NO_CONSUMER {
                self.consumer_mut(ConsumerId(old)).pel.remove(&id);
            }
            self.consumer_mut(consumer).pel.insert(id);
        }
        let nack = self.pel.get_mut(&id)?;
        nack.delivery_time = time;
        match retry {
            Some(n) => nack.delivery_count = n,
            None if !justid => nack.delivery_count += 1,
            None => {}
        }
        nack.consumer = consumer.0;
        Some(nack)
    }
}

/// The consumer groups of a stream, by name.
#[derive(Clone, Debug, Default)]
pub struct Groups {
    map: BTreeMap<Box<[u8]>, Group>,
    heap: usize,
}

impl Groups {
    /// Number of groups.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// True if there are none.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Heap bytes of the groups. O(1).
    pub fn heap_bytes(&self) -> usize {
        self.heap
    }

    /// Group `name`.
    pub fn get(&self, name: &[u8]) -> Option<&Group> {
        self.map.get(name)
    }

    /// Group `name`, for editing.
    pub fn get_mut(&mut self, name: &[u8]) -> Option<GroupMut<'_>> {
        let group = self.map.get_mut(name)?;
        let before = group.heap_bytes();
        Some(GroupMut {
            group,
            heap: &mut self.heap,
            before,
        })
    }

    /// The groups in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &Group)> + '_ {
        self.map.iter().map(|(k, g)| (&**k, g))
    }

    /// Creates group `name`; false if it exists.
    pub fn create(&mut self, name: &[u8], last_id: StreamId, entries_read: i64) -> bool {
        if self.map.contains_key(name) {
            return false;
        }
        let g = Group::new(last_id, entries_read);
        self.heap += g.heap_bytes() + name.len();
        self.map.insert(name.into(), g);
        true
    }

    /// Removes group `name`; false if there was none.
    pub fn destroy(&mut self, name: &[u8]) -> bool {
        match self.map.remove(name) {
            Some(g) => {
                self.heap -= g.heap_bytes() + name.len();
                true
            }
            None => false,
        }
    }
}

/// A group being edited; folds its size change into its stream's total when dropped.
pub struct GroupMut<'a> {
    group: &'a mut Group,
    heap: &'a mut usize,
    before: usize,
}

impl Deref for GroupMut<'_> {
    type Target = Group;
    fn deref(&self) -> &Group {
        self.group
    }
}

impl DerefMut for GroupMut<'_> {
    fn deref_mut(&mut self) -> &mut Group {
        self.group
    }
}

impl Drop for GroupMut<'_> {
    fn drop(&mut self) {
        *self.heap = *self.heap - self.before + self.group.heap_bytes();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Every pending entry is in its owner's PEL and nowhere else; every consumer's PEL is
    /// part of the group's; the byte count is what the counts say.
    fn check(groups: &Groups) -> Result<(), TestCaseError> {
        let mut heap = 0;
        for (name, g) in groups.iter() {
            heap += g.heap_bytes() + name.len();
            let mut owned = 0;
            for c in g.consumers() {
                owned += c.pel.len();
                for id in &c.pel {
                    let n = g.pel().get(id);
                    prop_assert!(n.is_some_and(|n| g.owner(n) == &*c.name));
                }
            }
            prop_assert_eq!(owned, g.pel().len());
            prop_assert_eq!(g.consumers().count(), g.consumer_count());
        }
        prop_assert_eq!(heap, groups.heap_bytes());
        Ok(())
    }

    proptest! {
        #[test]
        fn pending_entries_and_consumers_stay_consistent(ops in proptest::collection::vec((0u8..7, 0u8..6, 0u8..4), 1..200)) {
            let mut groups = Groups::default();
            prop_assert!(groups.create(b"g", StreamId::MIN, -1));
            prop_assert!(!groups.create(b"g", StreamId::MIN, -1));
            for (op, id, c) in ops {
                let id = StreamId::new(u64::from(id), 0);
                let name = [b'c', b'0' + c];
                if let Some(mut g) = groups.get_mut(b"g") {
                    match op {
                        0 => {
                            let (cid, _) = g.lookup_or_create(&name, 1);
                            g.deliver(id, cid, 2);
                        }
                        1 => {
                            let was = g.pel().contains_key(&id);
                            prop_assert_eq!(g.ack(id), was);
                        }
                        2 => {
                            let (cid, _) = g.lookup_or_create(&name, 1);
                            let was = g.pel().get(&id).map(|n| n.delivery_count);
                            let got = g.claim(id, cid, 5, None, false).map(|n| n.delivery_count);
                            prop_assert_eq!(got, was.map(|n| n + 1));
                        }
                        3 => {
                            if let Some(cid) = g.consumer_id(&name) {
                                let had = g.consumer(cid).pel.len();
                                prop_assert_eq!(g.delete_consumer(cid), had);
                            }
                        }
                        4 => {
                            g.force_pending(id, 3);
                            let (cid, _) = g.lookup_or_create(&name, 1);
                            g.claim(id, cid, 3, Some(7), true);
                            prop_assert_eq!(g.pel().get(&id).map(|n| n.delivery_count), Some(7));
                        }
                        5 => {
                            let before = g.pel().get(&id).map(|n| n.delivery_count);
                            let after = g.redeliver(id, 9).map(|n| n.delivery_count);
                            prop_assert_eq!(after, before.map(|n| n + 1));
                        }
                        _ => {
                            g.create_consumer(&name, 4);
                        }
                    }
                }
                check(&groups)?;
            }
            prop_assert!(groups.destroy(b"g"));
            prop_assert_eq!(groups.heap_bytes(), 0);
        }
    }
}
