//! The Redis keyspace: numbered databases of keys, each a [`Table`] of single-allocation
//! [`Entry`]s, with Redis's expiry rules.
//!
//! Owns: finding keys (with lazy expiry: a key whose TTL has passed is deleted when touched
//! and reported missing), adding, replacing and removing entries, TTLs, and the walk that
//! reclaims expired keys nobody touches ([`expire`]). Not: command syntax or replies (see
//! `command`), statistics beyond what a lookup implies.
//!
//! A key with expiry time `t` is live while `now <= t`, as in redis-server.
//!
//! **Slots cannot dangle.** A [`Slot`] names a key's position *and* the database's shape
//! generation when it was found; every insert, removal, resize step or clear starts a new
//! generation, and using a slot from an older one panics instead of reading whatever now
//! sits there (a lookup that lazily deletes an expired key shifts its neighbours, so a slot
//! found before it may point at another key or at nothing). Commands that look up two keys
//! look the first one up again, or copy what they need, after the second lookup.
//!
//! **Memory.** Each database counts the bytes its entries and their values hold
//! ([`Db::used_bytes`]), updated as entries are added, replaced, removed and edited, so
//! `INFO used_memory` describes the keyspace and not the process (which also holds the
//! memcached store).

pub mod entry;
pub mod expire;
pub mod guard;

use std::ptr::NonNull;

use crate::stats::Stats;
use crate::table::Table;
use entry::{Encoding, Entry, KeyspaceEntry, Kind, Mut, NewString, View};
pub use guard::ValueGuard;

/// Mask of Redis's 24-bit LRU clock.
pub const LRU_CLOCK_MAX: u32 = (1 << 24) - 1;

/// The LRU clock (seconds, 24 bits) for a time in milliseconds.
pub fn lru_clock(now_ms: i64) -> u32 {
    ((now_ms / 1000) as u64 & u64::from(LRU_CLOCK_MAX)) as u32
}

/// Seconds between two readings of the LRU clock, allowing for its 24-bit wrap (OBJECT
/// IDLETIME, DEBUG OBJECT).
pub fn idle_seconds(now: u32, then: u32) -> u32 {
    if now >= then {
        now - then
    } else {
        now + (LRU_CLOCK_MAX - then)
    }
}

/// Where a live key sits in its database; valid until the database next changes shape
/// (an insert, a removal, a resize step). Replacing an entry keeps its slot. Using a slot
/// after the shape changed panics (see the module doc) rather than reading another entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    idx: usize,
    gen: u64,
}

/// The result of looking a key up for writing: where it is, or its hash for inserting it.
#[derive(Debug, Clone, Copy)]
pub enum Lookup {
    /// The key is live at this slot.
    Found(Slot),
    /// The key is absent; this is its hash.
    Missing(u64),
}

impl Lookup {
    /// The slot if found.
    pub fn slot(self) -> Option<Slot> {
        match self {
            Lookup::Found(s) => Some(s),
            Lookup::Missing(_) => None,
        }
    }
}

/// How a write treats the key's existing TTL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ttl {
    /// Remove any TTL (plain SET).
    Clear,
    /// Keep the current TTL (KEEPTTL, APPEND, INCR…).
    Keep,
    /// Expire at this Unix time in milliseconds.
    At(i64),
}

/// One database (`SELECT n`).
#[derive(Default)]
pub struct Db {
    table: Table<KeyspaceEntry>,
    /// Shape generation: bumped whenever slot positions may move.
    gen: u64,
    /// Bytes held by entries and their values (not the index).
    bytes: usize,
    expires: usize,
    /// Estimated average TTL of keys with one, in ms (`INFO keyspace avg_ttl`).
    pub avg_ttl: i64,
    /// Where the active expiry walk resumes.
    pub(crate) expire_cursor: usize,
}

impl Db {
    /// Number of keys (including expired keys not yet reclaimed, as `DBSIZE` counts them).
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// True if the database holds no keys.
    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// Number of keys with a TTL.
    pub fn expires(&self) -> usize {
        self.expires
    }

    /// Bytes used by this database's index.
    pub fn index_bytes(&self) -> usize {
        self.table.index_bytes()
    }

    /// Bytes held by this database: entries, their values and the index.
    pub fn used_bytes(&self) -> usize {
        self.bytes + self.table.index_bytes()
    }

    fn view_ptr(&self, ptr: NonNull<u8>) -> View<'_> {
        // SAFETY: the pointer is a live entry owned by this table, borrowed with `&self`.
        unsafe { View::from_ptr(ptr) }
    }

    fn slot(&self, idx: usize) -> Slot {
        Slot { idx, gen: self.gen }
    }

    /// The slot index, checked against the current shape (see the module doc).
    #[track_caller]
    fn idx(&self, slot: Slot) -> usize {
        assert_eq!(
            slot.gen, self.gen,
            "a keyspace slot was used after the database changed shape"
        );
        slot.idx
    }

    fn reshaped(&mut self) {
        self.gen = self.gen.wrapping_add(1);
    }

    fn ptr(&self, slot: Slot) -> NonNull<u8> {
        self.table.ptr_at(self.idx(slot))
    }

    /// The entry at a slot.
    pub fn get(&self, slot: Slot) -> View<'_> {
        self.view_ptr(self.ptr(slot))
    }

    fn get_mut(&mut self, slot: Slot) -> Mut {
        // SAFETY: `&mut self` gives exclusive access to the table's entries.
        unsafe { Mut::from_ptr(self.ptr(slot)) }
    }

    /// Finds `key` without looking at its TTL.
    pub fn find(&self, key: &[u8]) -> Lookup {
        let hash = self.table.hash(key);
        match self.table.find(hash, key) {
            Some(i) => Lookup::Found(self.slot(i)),
            None => Lookup::Missing(hash),
        }
    }

    /// Finds a live key, deleting it first if its TTL has passed (counted in
    /// `stats.expired_keys`).
    pub fn lookup(&mut self, key: &[u8], now: i64, stats: &mut Stats) -> Lookup {
        self.lookup_expiring(key, now, stats).0
    }

    /// [`Db::lookup`], also saying whether the key was just deleted as expired (the caller
    /// then owes the write stream a `DEL`).
    pub fn lookup_expiring(&mut self, key: &[u8], now: i64, stats: &mut Stats) -> (Lookup, bool) {
        let hash = self.table.hash(key);
        let Some(i) = self.table.find(hash, key) else {
            return (Lookup::Missing(hash), false);
        };
        let slot = self.slot(i);
        if self.table.flag_at(i) {
            if let Some(at) = self.get(slot).expire() {
                if now > at {
                    self.remove(slot);
                    stats.expired_keys += 1;
                    return (Lookup::Missing(hash), true);
                }
            }
        }
        (Lookup::Found(slot), false)
    }

    /// Records an access for LRU.
    pub fn touch(&mut self, slot: Slot, lru: u32) {
        self.get_mut(slot).set_lru(lru);
    }

    /// Adds an entry for a key known to be absent (`hash` from its [`Lookup::Missing`]).
    pub fn add(&mut self, hash: u64, entry: Entry) {
        let has_ttl = entry.view().expire().is_some();
        if has_ttl {
            self.expires += 1;
        }
        self.bytes += entry.view().alloc_size();
        self.table.insert(hash, entry.into_raw(), has_ttl);
        self.reshaped();
    }

    /// [`Db::add`], returning the new entry's slot.
    pub fn add_and_locate(&mut self, hash: u64, entry: Entry) -> Slot {
        let ptr = entry.into_raw();
        // SAFETY: `ptr` is owned here until the table takes it back below.
        self.add(hash, unsafe { Entry::from_raw(ptr) });
        // The insert may have moved other entries (and started or advanced a resize).
        // SAFETY: the table now owns the entry just inserted.
        let key = unsafe { View::from_ptr(ptr) }.key();
        match self.table.find(hash, key) {
            Some(i) => self.slot(i),
            None => unreachable!("an entry just inserted is in the table"),
        }
    }

    /// Puts `entry` (same key) in place of the one at `slot`, which is dropped.
    pub fn replace(&mut self, slot: Slot, entry: Entry) {
        let idx = self.idx(slot);
        let old_bytes = self.get(slot).alloc_size();
        let had = self.table.flag_at(idx);
        let has = entry.view().expire().is_some();
        self.bytes = self.bytes - old_bytes + entry.view().alloc_size();
        let old = self.table.replace_at(idx, entry.into_raw(), has);
        // SAFETY: the table handed back ownership of the old entry.
        drop(unsafe { Entry::from_raw(old) });
        self.expires = self.expires + usize::from(has) - usize::from(had);
    }

    /// Removes the entry at `slot` and returns it.
    pub fn remove(&mut self, slot: Slot) -> Entry {
        let idx = self.idx(slot);
        if self.table.flag_at(idx) {
            self.expires -= 1;
        }
        self.bytes -= self.get(slot).alloc_size();
        let ptr = self.table.remove_at(idx);
        self.reshaped();
        // SAFETY: the table handed back ownership.
        unsafe { Entry::from_raw(ptr) }
    }

    /// Edits the collection of type `T` at `slot`, or `None` if the value is another type.
    /// The guard puts the value back when dropped, deleting the key if it became empty.
    pub fn edit<T: Kind>(&mut self, slot: Slot) -> Option<ValueGuard<'_, T>> {
        ValueGuard::new(self, slot)
    }

    /// Deletes `key` if present (regardless of TTL); true if it was there.
    pub fn delete(&mut self, key: &[u8]) -> bool {
        match self.find(key) {
            Lookup::Found(slot) => {
                self.remove(slot);
                true
            }
            Lookup::Missing(_) => false,
        }
    }

    /// Stores a string at `key` (found or missing per `at`), replacing any value.
    pub fn set_string(
        &mut self,
        key: &[u8],
        at: Lookup,
        value: &[u8],
        encoding: Encoding,
        ttl: Ttl,
        lru: u32,
    ) {
        self.set_string_with_spare(key, at, value, encoding, ttl, lru, 0);
    }

    /// [`Db::set_string`] reserving `spare` bytes after the value for growth.
    #[allow(clippy::too_many_arguments)]
    pub fn set_string_with_spare(
        &mut self,
        key: &[u8],
        at: Lookup,
        value: &[u8],
        encoding: Encoding,
        ttl: Ttl,
        lru: u32,
        spare: usize,
    ) {
        let old_expire = at.slot().and_then(|slot| self.get(slot).expire());
        let expire = match ttl {
            Ttl::Clear => None,
            Ttl::Keep => old_expire,
            Ttl::At(t) => Some(t),
        };
        if let Lookup::Found(slot) = at {
            if spare == 0 && expire.is_some() == old_expire.is_some() {
                let mut m = self.get_mut(slot);
                if m.set_value_in_place(value, encoding) {
                    if let Some(t) = expire {
                        m.set_expire_in_place(t);
                    }
                    m.set_lru(lru);
                    return;
                }
            }
        }
        let entry = Entry::new_string(NewString {
            key,
            value,
            encoding,
            expire,
            spare,
            lru,
        });
        match at {
            Lookup::Found(slot) => self.replace(slot, entry),
            Lookup::Missing(hash) => self.add(hash, entry),
        }
    }

    /// Writes `data` at `offset` of the string at `slot` without reallocating (APPEND,
    /// SETRANGE), if it fits the entry's spare room. Returns false if it does not.
    pub fn write_in_place(&mut self, slot: Slot, offset: usize, data: &[u8]) -> bool {
        let before = self.get(slot).alloc_size();
        let done = self.get_mut(slot).write_at(offset, data);
        // A boxed string may have grown its buffer.
        self.bytes = self.bytes - before + self.get(slot).alloc_size();
        done
    }

    /// Sets or removes the TTL of the key at `slot`.
    pub fn set_expire(&mut self, slot: Slot, expire: Option<i64>) {
        let view = self.get(slot);
        let old = view.expire();
        if let (Some(_), Some(t)) = (old, expire) {
            self.get_mut(slot).set_expire_in_place(t);
            return;
        }
        if old.is_none() && expire.is_none() {
            return;
        }
        self.rebuild_at(slot, |e| e.with_expire(expire));
    }

    /// Replaces the entry at `slot` by what `f` makes of it (moving, not copying, a boxed
    /// value).
    fn rebuild_at(&mut self, slot: Slot, f: impl FnOnce(Entry) -> Entry) {
        let idx = self.idx(slot);
        let had = self.table.flag_at(idx);
        self.bytes -= self.get(slot).alloc_size();
        let ptr = self.table.ptr_at(idx);
        // SAFETY: the entry is owned by the table; it is handed to `f` and the table's slot
        // is overwritten with the result before anything else can read it.
        let new = f(unsafe { Entry::from_raw(ptr) });
        let has = new.view().expire().is_some();
        self.bytes += new.view().alloc_size();
        let _moved = self.table.replace_at(idx, new.into_raw(), has);
        self.expires = self.expires + usize::from(has) - usize::from(had);
    }

    /// A copy of the entry at `slot` under another key, value cloned by type, TTL kept.
    pub fn copy_entry(&self, slot: Slot, new_key: &[u8], lru: u32) -> Entry {
        self.get(slot).clone_entry(new_key, lru)
    }

    /// A random key's slot (live or not), using `random` as the random source.
    pub fn random_slot(&self, random: u64) -> Option<Slot> {
        self.table.random_slot(random).map(|i| self.slot(i))
    }

    /// One step of a SCAN iteration: calls `f` with each entry at the cursor's home slot and
    /// returns the next cursor.
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(View<'_>)) -> u64 {
        self.table.scan(cursor, |ptr, _| f(self.view_ptr(ptr)))
    }

    /// Every entry.
    pub fn iter(&self) -> impl Iterator<Item = View<'_>> + '_ {
        self.table.iter().map(|(p, _)| self.view_ptr(p))
    }

    /// Deletes every key.
    pub fn clear(&mut self) {
        self.table.clear();
        self.reshaped();
        self.bytes = 0;
        self.expires = 0;
        self.avg_ttl = 0;
        self.expire_cursor = 0;
    }

    /// Takes every entry out, leaving the database empty (FLUSHALL ASYNC frees them
    /// elsewhere).
    pub fn take_all(&mut self) -> Vec<Entry> {
        let all = self.table.take_all();
        self.reshaped();
        self.bytes = 0;
        self.expires = 0;
        self.avg_ttl = 0;
        self.expire_cursor = 0;
        // SAFETY: the table handed back ownership of every entry.
        all.into_iter()
            .map(|(p, _)| unsafe { Entry::from_raw(p) })
            .collect()
    }

    /// Index upkeep from the periodic maintenance: moves a resize along, and starts
    /// shrinking an index left mostly empty by deletions.
    pub fn shrink(&mut self) {
        self.table.maintain();
        self.reshaped();
    }
}

/// All databases.
pub struct Keyspace {
    dbs: Vec<Db>,
}

impl Keyspace {
    /// `n` empty databases (at least one).
    pub fn new(n: usize) -> Self {
        Keyspace {
            dbs: (0..n.max(1)).map(|_| Db::default()).collect(),
        }
    }

    /// Number of databases.
    pub fn len(&self) -> usize {
        self.dbs.len()
    }

    /// Always false: there is at least one database.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Database `i` (callers validate `i` against [`Keyspace::len`]).
    pub fn db(&self, i: usize) -> &Db {
        &self.dbs[i]
    }

    /// Database `i`, mutable.
    pub fn db_mut(&mut self, i: usize) -> &mut Db {
        &mut self.dbs[i]
    }

    /// Two different databases at once.
    pub fn two_mut(&mut self, a: usize, b: usize) -> (&mut Db, &mut Db) {
        assert_ne!(a, b);
        if a < b {
            let (x, y) = self.dbs.split_at_mut(b);
            (&mut x[a], &mut y[0])
        } else {
            let (x, y) = self.dbs.split_at_mut(a);
            (&mut y[0], &mut x[b])
        }
    }

    /// Exchanges two databases (SWAPDB).
    pub fn swap(&mut self, a: usize, b: usize) {
        self.dbs.swap(a, b);
    }

    /// All databases in order.
    pub fn iter(&self) -> impl Iterator<Item = &Db> {
        self.dbs.iter()
    }

    /// All databases, mutable.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut Db> {
        self.dbs.iter_mut()
    }

    /// Total keys in all databases.
    pub fn total_keys(&self) -> usize {
        self.dbs.iter().map(Db::len).sum()
    }
}
