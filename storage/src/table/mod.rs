//! [`Table`]: the compact hash index under the keyspace and the memcached store.
//!
//! Open addressing with linear probing and Robin Hood ordering, one `u64` per slot:
//!
//! ```text
//!  63      56 55    49  48  47                                  0
//! ┌──────────┬────────┬────┬─────────────────────────────────────┐
//! │ distance │  tag   │flag│ pointer to the entry (48 bits)      │   0 = empty slot
//! └──────────┴────────┴────┴─────────────────────────────────────┘
//! ```
//!
//! * **8 bytes per slot** and at most 90 % full, where a chained `dict` like redis-server's
//!   spends a 24-byte entry plus an 8-byte bucket per key (DESIGN decision 12). Entries are
//!   single allocations owned by the table; the table only needs their key ([`TableEntry`]).
//! * The 7-bit **tag** (hash bits the index does not use) rejects almost every non-matching
//!   slot without touching the entry's memory; the **distance** from the home slot makes
//!   lookups stop early and deletions shift back without tombstones.
//! * The **flag** bit is the caller's: the keyspace marks keys that carry a TTL, so the active
//!   expiry walk skips the rest without a cache miss.
//! * Robin Hood keeps the entries of one home slot contiguous, so [`Table::scan`] can visit
//!   home slots in redis-server's reverse-binary cursor order and keep SCAN's guarantee: a key
//!   present for a whole iteration is returned at least once, even if the table grows or
//!   shrinks in between.
//!
//! Resizing is incremental (see [`Table`]), so a table of millions of keys never stalls a
//! command while it doubles. Pointers must fit in 48 bits, true of user-space addresses on x86-64 and AArch64
//! Linux; [`Table::insert`] checks it.

use std::marker::PhantomData;
use std::ptr::NonNull;

use ahash::RandomState;

const PTR_BITS: u64 = (1 << 48) - 1;
const FLAG_BIT: u64 = 1 << 48;
const TAG_SHIFT: u32 = 49;
const TAG_BITS: u64 = 0x7f << TAG_SHIFT;
const DIST_SHIFT: u32 = 56;
const MAX_DIST: u64 = 255;
const MIN_CAPACITY: usize = 8;

/// What the table needs to know about the entries it owns.
///
/// # Safety
/// `key` and `free` are only called with pointers the table was given by `insert`, which
/// must stay valid until the table frees them or hands them back (`remove_at`, `replace_at`).
pub unsafe trait TableEntry {
    /// The key of the entry at `ptr`.
    ///
    /// # Safety
    /// `ptr` is a live entry; the slice must not outlive it.
    unsafe fn key<'a>(ptr: NonNull<u8>) -> &'a [u8];
    /// Frees the entry at `ptr`.
    ///
    /// # Safety
    /// `ptr` is a live entry that nothing else refers to.
    unsafe fn free(ptr: NonNull<u8>);
}

#[inline]
fn ptr_of(slot: u64) -> NonNull<u8> {
    // SAFETY: only occupied slots (non-zero pointer bits) are decoded.
    unsafe { NonNull::new_unchecked((slot & PTR_BITS) as usize as *mut u8) }
}

#[inline]
fn dist_of(slot: u64) -> u64 {
    slot >> DIST_SHIFT
}

#[inline]
fn with_dist(slot: u64, dist: u64) -> u64 {
    (slot & !(0xff << DIST_SHIFT)) | (dist << DIST_SHIFT)
}

#[inline]
fn tag_of(hash: u64) -> u64 {
    (hash >> 57) << TAG_SHIFT
}

/// One slot array: the Robin Hood operations that do not need to read entries.
struct Slots {
    slots: Box<[u64]>,
    /// Occupied slots.
    len: usize,
}

impl Slots {
    fn empty() -> Slots {
        Slots {
            slots: Box::new([]),
            len: 0,
        }
    }

    fn with_capacity(cap: usize) -> Slots {
        Slots {
            slots: vec![0u64; cap].into_boxed_slice(),
            len: 0,
        }
    }

    #[inline]
    fn cap(&self) -> usize {
        self.slots.len()
    }

    #[inline]
    fn mask(&self) -> usize {
        self.slots.len().wrapping_sub(1)
    }

    #[inline]
    fn find<E: TableEntry>(&self, hash: u64, key: &[u8]) -> Option<usize> {
        if self.len == 0 {
            return None;
        }
        let mask = self.mask();
        let tag = tag_of(hash);
        let mut idx = hash as usize & mask;
        let mut dist = 0;
        loop {
            let slot = self.slots[idx];
            if slot == 0 || dist_of(slot) < dist {
                return None;
            }
            // SAFETY: occupied slots hold live entries owned by the table.
            if slot & TAG_BITS == tag && unsafe { E::key(ptr_of(slot)) } == key {
                return Some(idx);
            }
            dist += 1;
            idx = (idx + 1) & mask;
        }
    }

    /// Robin Hood placement of `slot` (tag and flag set, distance ignored). On a
    /// displacement past [`MAX_DIST`] returns the slot left without a home (which may be
    /// another entry than the one being placed).
    fn place(&mut self, hash: u64, mut slot: u64) -> Result<(), u64> {
        let mask = self.mask();
        let mut idx = hash as usize & mask;
        let mut dist = 0;
        loop {
            let cur = self.slots[idx];
            if cur == 0 {
                self.slots[idx] = with_dist(slot, dist);
                self.len += 1;
                return Ok(());
            }
            if dist_of(cur) < dist {
                self.slots[idx] = with_dist(slot, dist);
                slot = cur;
                dist = dist_of(cur);
            }
            dist += 1;
            if dist > MAX_DIST {
                return Err(slot);
            }
            idx = (idx + 1) & mask;
        }
    }

    /// Removes the slot at `idx` with a backward shift; returns it.
    fn remove_at(&mut self, idx: usize) -> u64 {
        let mask = self.mask();
        let removed = self.slots[idx];
        let mut i = idx;
        loop {
            let next = (i + 1) & mask;
            let ns = self.slots[next];
            if ns == 0 || dist_of(ns) == 0 {
                self.slots[i] = 0;
                break;
            }
            self.slots[i] = with_dist(ns, dist_of(ns) - 1);
            i = next;
        }
        self.len -= 1;
        removed
    }

    /// Calls `f` with every entry whose home slot is `home`.
    fn each_at_home(&self, home: usize, f: &mut impl FnMut(NonNull<u8>, bool)) {
        if self.slots.is_empty() {
            return;
        }
        let mask = self.mask();
        let mut idx = home & mask;
        for k in 0..=MAX_DIST {
            let slot = self.slots[idx];
            if slot == 0 {
                break;
            }
            let d = dist_of(slot);
            if d == k {
                f(ptr_of(slot), slot & FLAG_BIT != 0);
            } else if d < k {
                break;
            }
            idx = (idx + 1) & mask;
        }
    }
}

/// A hash index from keys to owned entries. Single-threaded; the owner synchronises.
///
/// Resizing is incremental, as redis-server's rehashing is: a resize allocates the new slot
/// array and moves entries over from the old one a few slots per insert (and per
/// [`Table::maintain`] call), so no single command pays for rehashing a large table. While
/// both arrays exist, lookups look in both, inserts go to the new one, and slot indexes
/// number the new array first and the old one after it.
pub struct Table<E: TableEntry> {
    cur: Slots,
    /// The array being emptied into `cur`, and the next slot of it to move.
    old: Option<(Slots, usize)>,
    hasher: RandomState,
    _entries: PhantomData<E>,
}

/// Entries moved per insert while a resize is in progress: a resize from N slots ends
/// within about 0.9·N/32 inserts, so the old array is freed soon after it was outgrown
/// (and long before the new one fills), at a cost of a few microseconds per insert
/// meanwhile. The periodic maintenance moves more.
const MIGRATE_PER_INSERT: usize = 32;

// SAFETY: the table owns its entries exclusively; sending it sends them.
unsafe impl<E: TableEntry> Send for Table<E> {}

impl<E: TableEntry> Default for Table<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E: TableEntry> Table<E> {
    /// An empty table (no allocation until the first insert).
    pub fn new() -> Self {
        Self::with_hasher(RandomState::new())
    }

    /// An empty table hashing keys with `hasher`. Tables that share a hasher agree on every
    /// key's hash, so a sharded store can hash a key once to pick both its shard and its
    /// slot.
    pub fn with_hasher(hasher: RandomState) -> Self {
        Table {
            cur: Slots::empty(),
            old: None,
            hasher,
            _entries: PhantomData,
        }
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.cur.len + self.old.as_ref().map_or(0, |(o, _)| o.len)
    }

    /// True if there are no entries.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of slot indexes (both arrays while a resize is in progress).
    pub fn capacity(&self) -> usize {
        self.cur.cap() + self.old.as_ref().map_or(0, |(o, _)| o.cap())
    }

    /// Bytes used by the slot arrays.
    pub fn index_bytes(&self) -> usize {
        self.capacity() * 8
    }

    /// True while entries are being moved to a resized array.
    pub fn is_resizing(&self) -> bool {
        self.old.is_some()
    }

    /// The hash of `key` (computed once per command and passed to the other methods).
    #[inline]
    pub fn hash(&self, key: &[u8]) -> u64 {
        self.hasher.hash_one(key)
    }

    /// The slot holding `key`, if present.
    #[inline]
    pub fn find(&self, hash: u64, key: &[u8]) -> Option<usize> {
        if let Some(i) = self.cur.find::<E>(hash, key) {
            return Some(i);
        }
        let (old, _) = self.old.as_ref()?;
        old.find::<E>(hash, key).map(|j| self.cur.cap() + j)
    }

    /// The array and local index of slot index `idx`.
    #[inline]
    fn locate(&self, idx: usize) -> (&Slots, usize) {
        let cap = self.cur.cap();
        match &self.old {
            Some((old, _)) if idx >= cap => (old, idx - cap),
            _ => (&self.cur, idx),
        }
    }

    #[inline]
    fn locate_mut(&mut self, idx: usize) -> (&mut Slots, usize) {
        let cap = self.cur.cap();
        match &mut self.old {
            Some((old, _)) if idx >= cap => (old, idx - cap),
            _ => (&mut self.cur, idx),
        }
    }

    #[inline]
    fn slot(&self, idx: usize) -> u64 {
        let (s, i) = self.locate(idx);
        s.slots[i]
    }

    /// The entry in occupied slot `idx`. Panics if the slot is empty: a caller holding a
    /// stale index gets a panic, never a pointer made up from an empty slot.
    #[inline]
    #[track_caller]
    pub fn ptr_at(&self, idx: usize) -> NonNull<u8> {
        match NonNull::new((self.slot(idx) & PTR_BITS) as usize as *mut u8) {
            Some(p) => p,
            None => panic!("slot {idx} of the index is empty"),
        }
    }

    /// Sizes an empty table for `n` entries at once (no effect on a non-empty one).
    pub fn reserve(&mut self, n: usize) {
        if !self.is_empty() || self.old.is_some() {
            return;
        }
        let mut cap = MIN_CAPACITY;
        while n * 10 > cap * 9 {
            cap *= 2;
        }
        if cap > self.cur.cap() {
            self.cur = Slots::with_capacity(cap);
        }
    }

    /// The caller's flag bit of occupied slot `idx`.
    #[inline]
    pub fn flag_at(&self, idx: usize) -> bool {
        self.slot(idx) & FLAG_BIT != 0
    }

    /// Sets the caller's flag bit of occupied slot `idx`.
    pub fn set_flag_at(&mut self, idx: usize, flag: bool) {
        let (s, i) = self.locate_mut(idx);
        if flag {
            s.slots[i] |= FLAG_BIT;
        } else {
            s.slots[i] &= !FLAG_BIT;
        }
    }

    /// Puts `ptr` (an entry with the same key) in slot `idx` and returns the old entry, which
    /// the caller now owns.
    pub fn replace_at(&mut self, idx: usize, ptr: NonNull<u8>, flag: bool) -> NonNull<u8> {
        let addr = checked_addr(ptr);
        let (s, i) = self.locate_mut(idx);
        let old = s.slots[i];
        let keep = old & !(PTR_BITS | FLAG_BIT);
        s.slots[i] = keep | addr | if flag { FLAG_BIT } else { 0 };
        ptr_of(old)
    }

    /// Adds an entry whose key is known to be absent. The table takes ownership. Slot
    /// indexes held before the call are invalid after it.
    pub fn insert(&mut self, hash: u64, ptr: NonNull<u8>, flag: bool) {
        self.migrate(MIGRATE_PER_INSERT);
        if (self.cur.len + 1) * 10 > self.cur.cap() * 9 {
            // A resize still running (very unlikely: inserts drain it first) finishes now.
            self.migrate(usize::MAX);
            self.start_resize((self.cur.cap() * 2).max(MIN_CAPACITY));
        }
        let slot = checked_addr(ptr) | tag_of(hash) | if flag { FLAG_BIT } else { 0 };
        if let Err(carried) = self.cur.place(hash, slot) {
            self.grow_with(carried);
        }
    }

    /// Makes `cur` a fresh array of `cap` slots and the current one the array to drain.
    fn start_resize(&mut self, cap: usize) {
        let old = std::mem::replace(&mut self.cur, Slots::with_capacity(cap));
        if old.len > 0 {
            self.old = Some((old, 0));
        }
    }

    /// Moves up to `budget` entries from the old array (empty slots on the way cost only a
    /// read each and are skipped, up to 64 per entry of budget).
    fn migrate(&mut self, budget: usize) {
        let Some((mut old, mut pos)) = self.old.take() else {
            return;
        };
        let (mut moved, mut skipped) = (0, 0);
        let max_skipped = budget.saturating_mul(64);
        while pos < old.cap() && moved < budget && skipped < max_skipped {
            if old.slots[pos] == 0 {
                pos += 1;
                skipped += 1;
                continue;
            }
            // Removing shifts the next entries back into `pos`: look at it again. Every slot
            // before `pos` stays empty, so the walk ends with the old array empty.
            let slot = old.remove_at(pos);
            moved += 1;
            // SAFETY: the slot held a live entry owned by this table.
            let hash = self.hash(unsafe { E::key(ptr_of(slot)) });
            let slot = (slot & (PTR_BITS | FLAG_BIT)) | tag_of(hash);
            if let Err(carried) = self.cur.place(hash, slot) {
                self.grow_with(carried);
            }
        }
        if pos < old.cap() && old.len > 0 {
            self.old = Some((old, pos));
        }
    }

    /// Pathological clustering in `cur`: rebuild it at twice the size, synchronously.
    fn grow_with(&mut self, carried: u64) {
        let mut pending = vec![carried];
        let mut cap = self.cur.cap() * 2;
        while let Some(first) = pending.pop() {
            let mut all: Vec<u64> = self.cur.slots.iter().copied().filter(|&s| s != 0).collect();
            all.push(first);
            all.append(&mut pending);
            self.cur = Slots::with_capacity(cap);
            for slot in all {
                // SAFETY: every collected slot holds a live entry.
                let hash = self.hash(unsafe { E::key(ptr_of(slot)) });
                let slot = (slot & (PTR_BITS | FLAG_BIT)) | tag_of(hash);
                if let Err(c) = self.cur.place(hash, slot) {
                    pending.push(c);
                }
            }
            cap *= 2;
        }
    }

    /// Removes the entry in occupied slot `idx` and returns it; the caller now owns it.
    /// Entries after it may shift into `idx`; other held indexes are invalid.
    pub fn remove_at(&mut self, idx: usize) -> NonNull<u8> {
        let (s, i) = self.locate_mut(idx);
        let removed = s.remove_at(i);
        if matches!(&self.old, Some((o, _)) if o.len == 0) {
            self.old = None;
        }
        ptr_of(removed)
    }

    /// Upkeep after a removal, for tables nobody maintains periodically (the big encodings of
    /// collections, which redis-server resizes as they shrink): moves a resize in progress
    /// along by a few entries, or starts shrinking an index left under 10 % full. Slot
    /// indexes held before the call are invalid after it.
    pub fn after_remove(&mut self) {
        if self.old.is_some() {
            self.migrate(MIGRATE_PER_INSERT);
        } else if self.cur.cap() > MIN_CAPACITY && self.cur.len * 10 < self.cur.cap() {
            self.maintain();
        }
    }

    /// Periodic upkeep (redis-server does it from its cron): moves part of a resize in
    /// progress along, and starts shrinking an index left under 10 % full. Slot indexes held
    /// before the call are invalid after it.
    pub fn maintain(&mut self) {
        if self.old.is_some() {
            self.migrate(8 * 1024);
            return;
        }
        let cap = self.cur.cap();
        let len = self.cur.len;
        if len == 0 && cap > 0 {
            self.cur = Slots::empty();
            return;
        }
        if cap > MIN_CAPACITY && len * 10 < cap {
            let mut want = MIN_CAPACITY;
            while (len + 1) * 10 > want * 9 / 2 {
                want *= 2;
            }
            if want < cap {
                self.start_resize(want);
            }
        }
    }

    /// Visits the entries whose home slot is the one `cursor` points at, and returns the next
    /// cursor (0 when a full iteration is done). Cursors follow redis-server's reverse-binary
    /// order, and during a resize both arrays are visited the way redis-server visits its
    /// two rehashing tables, so resizing between calls never skips an entry.
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(NonNull<u8>, bool)) -> u64 {
        // The cursor counts in reverse-binary order: set the bits above the mask and
        // increment the reversed value, so the mask's top bit changes fastest.
        let step = |v: u64, mask: u64| (v | !mask).reverse_bits().wrapping_add(1).reverse_bits();
        let Some((old, _)) = &self.old else {
            if self.cur.cap() == 0 {
                return 0;
            }
            let m = self.cur.mask() as u64;
            self.cur.each_at_home((cursor & m) as usize, &mut f);
            return step(cursor, m);
        };
        let (small, large) = if self.cur.cap() <= old.cap() {
            (&self.cur, old)
        } else {
            (old, &self.cur)
        };
        let m0 = small.mask() as u64;
        let m1 = large.mask() as u64;
        let mut v = cursor;
        small.each_at_home((v & m0) as usize, &mut f);
        // Then every slot of the larger array that expands from it, stepping the extra bits
        // in the same reverse-binary order, as redis-server's dictScan does. When they wrap
        // to zero the carry has moved the small array's bits on to the next cursor, which is
        // what this returns.
        loop {
            large.each_at_home((v & m1) as usize, &mut f);
            v = step(v, m1);
            if v & (m0 ^ m1) == 0 {
                return v;
            }
        }
    }

    /// An occupied slot chosen from `random` (the first occupied slot at or after a random
    /// position), or `None` if empty.
    pub fn random_slot(&self, random: u64) -> Option<usize> {
        if self.is_empty() {
            return None;
        }
        let total = self.capacity();
        let start = (random % total as u64) as usize;
        (0..total)
            .map(|i| (start + i) % total)
            .find(|&i| self.slot(i) != 0)
    }

    /// The flag of slot `idx` if it is occupied, `None` if empty or out of range (for walks
    /// by position).
    pub fn slot_flag(&self, idx: usize) -> Option<bool> {
        if idx >= self.capacity() {
            return None;
        }
        match self.slot(idx) {
            0 => None,
            s => Some(s & FLAG_BIT != 0),
        }
    }

    /// Next occupied slot at or after `idx`, without wrapping; for incremental walks.
    pub fn next_occupied(&self, idx: usize) -> Option<usize> {
        (idx..self.capacity()).find(|&i| self.slot(i) != 0)
    }

    fn all_slots(&self) -> impl Iterator<Item = u64> + '_ {
        let old = self.old.as_ref().map(|(o, _)| &o.slots[..]).unwrap_or(&[]);
        self.cur
            .slots
            .iter()
            .chain(old.iter())
            .copied()
            .filter(|&s| s != 0)
    }

    /// Every entry, in slot order, with its flag.
    pub fn iter(&self) -> impl Iterator<Item = (NonNull<u8>, bool)> + '_ {
        self.all_slots().map(|s| (ptr_of(s), s & FLAG_BIT != 0))
    }

    /// Frees every entry and the index.
    pub fn clear(&mut self) {
        for slot in self.all_slots() {
            // SAFETY: occupied slots hold live entries owned by this table.
            unsafe { E::free(ptr_of(slot)) };
        }
        self.cur = Slots::empty();
        self.old = None;
    }

    /// Takes every entry out (the table ends empty), for moving them elsewhere.
    pub fn take_all(&mut self) -> Vec<(NonNull<u8>, bool)> {
        let all = self.iter().collect();
        self.cur = Slots::empty();
        self.old = None;
        all
    }
}

impl<E: TableEntry> Drop for Table<E> {
    fn drop(&mut self) {
        self.clear();
    }
}

fn checked_addr(ptr: NonNull<u8>) -> u64 {
    let addr = ptr.as_ptr() as usize as u64;
    assert!(
        addr & !PTR_BITS == 0,
        "entry address above 48 bits is not supported"
    );
    addr
}

#[cfg(test)]
mod tests;
