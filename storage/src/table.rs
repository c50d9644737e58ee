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
//! Resizing rehashes every entry at once (reading each key); incremental rehashing is future
//! work. Pointers must fit in 48 bits, true of user-space addresses on x86-64 and AArch64
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

/// A hash index from keys to owned entries. Single-threaded; the owner synchronises.
pub struct Table<E: TableEntry> {
    slots: Box<[u64]>,
    len: usize,
    hasher: RandomState,
    _entries: PhantomData<E>,
}

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
        Table {
            slots: Box::new([]),
            len: 0,
            hasher: RandomState::new(),
            _entries: PhantomData,
        }
    }

    /// An empty table hashing keys with `hasher`. Tables that share a hasher agree on every
    /// key's hash, so a sharded store can hash a key once to pick both its shard and its
    /// slot.
    pub fn with_hasher(hasher: RandomState) -> Self {
        Table {
            slots: Box::new([]),
            len: 0,
            hasher,
            _entries: PhantomData,
        }
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True if there are no entries.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of slots.
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// Bytes used by the slot array.
    pub fn index_bytes(&self) -> usize {
        self.slots.len() * 8
    }

    #[inline]
    fn mask(&self) -> usize {
        self.slots.len().wrapping_sub(1)
    }

    /// The hash of `key` (computed once per command and passed to the other methods).
    #[inline]
    pub fn hash(&self, key: &[u8]) -> u64 {
        self.hasher.hash_one(key)
    }

    /// The slot holding `key`, if present.
    #[inline]
    pub fn find(&self, hash: u64, key: &[u8]) -> Option<usize> {
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
            // SAFETY: occupied slots hold live entries owned by this table.
            if slot & TAG_BITS == tag && unsafe { E::key(ptr_of(slot)) } == key {
                return Some(idx);
            }
            dist += 1;
            idx = (idx + 1) & mask;
        }
    }

    /// The entry in occupied slot `idx`.
    #[inline]
    pub fn ptr_at(&self, idx: usize) -> NonNull<u8> {
        ptr_of(self.slots[idx])
    }

    /// The caller's flag bit of occupied slot `idx`.
    #[inline]
    pub fn flag_at(&self, idx: usize) -> bool {
        self.slots[idx] & FLAG_BIT != 0
    }

    /// Sets the caller's flag bit of occupied slot `idx`.
    pub fn set_flag_at(&mut self, idx: usize, flag: bool) {
        if flag {
            self.slots[idx] |= FLAG_BIT;
        } else {
            self.slots[idx] &= !FLAG_BIT;
        }
    }

    /// Puts `ptr` (an entry with the same key) in slot `idx` and returns the old entry, which
    /// the caller now owns.
    pub fn replace_at(&mut self, idx: usize, ptr: NonNull<u8>, flag: bool) -> NonNull<u8> {
        let old = self.slots[idx];
        let addr = checked_addr(ptr);
        let keep = old & !(PTR_BITS | FLAG_BIT);
        self.slots[idx] = keep | addr | if flag { FLAG_BIT } else { 0 };
        ptr_of(old)
    }

    /// Adds an entry whose key is known to be absent. The table takes ownership.
    pub fn insert(&mut self, hash: u64, ptr: NonNull<u8>, flag: bool) {
        if (self.len + 1) * 10 > self.slots.len() * 9 {
            self.resize((self.slots.len() * 2).max(MIN_CAPACITY));
        }
        let slot = checked_addr(ptr) | tag_of(hash) | if flag { FLAG_BIT } else { 0 };
        self.len += 1;
        if let Err(carried) = self.place(hash, slot) {
            self.grow_with(carried);
        }
    }

    /// Robin Hood placement. On a displacement past [`MAX_DIST`] returns the slot left
    /// without a home (which may be another entry than the one being placed).
    fn place(&mut self, hash: u64, mut slot: u64) -> Result<(), u64> {
        let mask = self.mask();
        let mut idx = hash as usize & mask;
        let mut dist = 0;
        loop {
            let cur = self.slots[idx];
            if cur == 0 {
                self.slots[idx] = with_dist(slot, dist);
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

    fn grow_with(&mut self, carried: u64) {
        let mut pending = vec![carried];
        let mut cap = self.slots.len() * 2;
        while let Some(slot) = pending.pop() {
            self.resize(cap);
            // SAFETY: the carried slot holds a live entry.
            let hash = self.hash(unsafe { E::key(ptr_of(slot)) });
            let slot = (slot & !(TAG_BITS | (0xff << DIST_SHIFT))) | tag_of(hash);
            if let Err(again) = self.place(hash, slot) {
                pending.push(again);
                cap *= 2;
            }
        }
    }

    /// Rebuilds the index with `cap` slots (a power of two, at least `len`).
    fn resize(&mut self, cap: usize) {
        let old = std::mem::replace(&mut self.slots, vec![0u64; cap].into_boxed_slice());
        let mut overflow = None;
        for &slot in old.iter().filter(|&&s| s != 0) {
            // SAFETY: occupied slots hold live entries owned by this table.
            let hash = self.hash(unsafe { E::key(ptr_of(slot)) });
            let slot = (slot & (PTR_BITS | FLAG_BIT)) | tag_of(hash);
            if let Err(carried) = self.place(hash, slot) {
                overflow = Some(carried);
                break;
            }
        }
        if let Some(carried) = overflow {
            // Pathological clustering: start over, larger. Entries already placed are in the
            // new slots, the rest still in `old`; collect both.
            let mut all: Vec<u64> = self.slots.iter().copied().filter(|&s| s != 0).collect();
            all.push(carried);
            let placed: std::collections::HashSet<u64> = all.iter().map(|s| s & PTR_BITS).collect();
            all.extend(
                old.iter()
                    .copied()
                    .filter(|&s| s != 0 && !placed.contains(&(s & PTR_BITS))),
            );
            self.slots = vec![0u64; cap * 2].into_boxed_slice();
            let mut retry = Vec::new();
            for slot in all {
                // SAFETY: as above.
                let hash = self.hash(unsafe { E::key(ptr_of(slot)) });
                let slot = (slot & (PTR_BITS | FLAG_BIT)) | tag_of(hash);
                if let Err(c) = self.place(hash, slot) {
                    retry.push(c);
                }
            }
            for c in retry {
                self.grow_with(c);
            }
        }
    }

    /// Removes the entry in occupied slot `idx` and returns it; the caller now owns it.
    pub fn remove_at(&mut self, idx: usize) -> NonNull<u8> {
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
        ptr_of(removed)
    }

    /// Shrinks the index when it is under 10 % full (never below a minimum), as redis-server
    /// does from its cron. Slot positions change, so no slot index may be held across it.
    pub fn shrink_to_fit(&mut self) {
        let cap = self.slots.len();
        if cap > MIN_CAPACITY && self.len * 10 < cap {
            let mut want = MIN_CAPACITY;
            while (self.len + 1) * 10 > want * 9 / 2 {
                want *= 2;
            }
            if want < cap {
                self.resize(want);
            }
        }
    }

    /// Visits the entries whose home slot is the one `cursor` points at, and returns the next
    /// cursor (0 when a full iteration is done). Cursors follow redis-server's reverse-binary
    /// order, so resizing between calls never skips an entry.
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(NonNull<u8>, bool)) -> u64 {
        if self.slots.is_empty() {
            return 0;
        }
        let mask = self.mask() as u64;
        let home = (cursor & mask) as usize;
        let mut idx = home;
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
            idx = (idx + 1) & mask as usize;
        }
        let mut v = cursor | !mask;
        v = v.reverse_bits();
        v = v.wrapping_add(1);
        v.reverse_bits()
    }

    /// An occupied slot chosen from `random` (the first occupied slot at or after a random
    /// position), or `None` if empty.
    pub fn random_slot(&self, random: u64) -> Option<usize> {
        if self.len == 0 {
            return None;
        }
        let mask = self.mask();
        let start = random as usize & mask;
        (0..self.slots.len())
            .map(|i| (start + i) & mask)
            .find(|&i| self.slots[i] != 0)
    }

    /// The flag of slot `idx` if it is occupied, `None` if empty (for walks by position).
    pub fn slot_flag(&self, idx: usize) -> Option<bool> {
        match self.slots.get(idx) {
            Some(&s) if s != 0 => Some(s & FLAG_BIT != 0),
            _ => None,
        }
    }

    /// Next occupied slot at or after `idx`, without wrapping; for incremental walks.
    pub fn next_occupied(&self, idx: usize) -> Option<usize> {
        (idx..self.slots.len()).find(|&i| self.slots[i] != 0)
    }

    /// Every entry, in slot order, with its flag.
    pub fn iter(&self) -> impl Iterator<Item = (NonNull<u8>, bool)> + '_ {
        self.slots
            .iter()
            .filter(|&&s| s != 0)
            .map(|&s| (ptr_of(s), s & FLAG_BIT != 0))
    }

    /// Frees every entry and the index.
    pub fn clear(&mut self) {
        for &slot in self.slots.iter().filter(|&&s| s != 0) {
            // SAFETY: occupied slots hold live entries owned by this table.
            unsafe { E::free(ptr_of(slot)) };
        }
        self.slots = Box::new([]);
        self.len = 0;
    }

    /// Takes every entry out (the table ends empty), for moving them elsewhere.
    pub fn take_all(&mut self) -> Vec<(NonNull<u8>, bool)> {
        let all = self.iter().collect();
        self.slots = Box::new([]);
        self.len = 0;
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
mod tests {
    use super::*;
    use std::collections::HashSet;

    /// Test entries: a boxed key.
    struct Boxed;
    unsafe impl TableEntry for Boxed {
        unsafe fn key<'a>(ptr: NonNull<u8>) -> &'a [u8] {
            &*(ptr.as_ptr() as *const Vec<u8>)
        }
        unsafe fn free(ptr: NonNull<u8>) {
            drop(Box::from_raw(ptr.as_ptr() as *mut Vec<u8>));
        }
    }

    fn boxed(key: &[u8]) -> NonNull<u8> {
        NonNull::from(Box::leak(Box::new(key.to_vec()))).cast()
    }

    fn insert(t: &mut Table<Boxed>, key: &[u8]) {
        let h = t.hash(key);
        assert!(t.find(h, key).is_none());
        t.insert(h, boxed(key), false);
    }

    fn remove(t: &mut Table<Boxed>, key: &[u8]) -> bool {
        let h = t.hash(key);
        match t.find(h, key) {
            Some(i) => {
                let p = t.remove_at(i);
                unsafe { Boxed::free(p) };
                true
            }
            None => false,
        }
    }

    fn key_of(p: NonNull<u8>) -> Vec<u8> {
        unsafe { Boxed::key(p) }.to_vec()
    }

    #[test]
    fn insert_find_remove() {
        let mut t = Table::<Boxed>::new();
        for i in 0..5000u32 {
            insert(&mut t, &i.to_le_bytes());
        }
        assert_eq!(t.len(), 5000);
        for i in 0..5000u32 {
            let k = i.to_le_bytes();
            assert!(t.find(t.hash(&k), &k).is_some());
        }
        for i in (0..5000u32).step_by(2) {
            assert!(remove(&mut t, &i.to_le_bytes()));
        }
        for i in 0..5000u32 {
            let k = i.to_le_bytes();
            assert_eq!(t.find(t.hash(&k), &k).is_some(), i % 2 == 1);
        }
        t.shrink_to_fit();
        for i in (1..5000u32).step_by(2) {
            let k = i.to_le_bytes();
            assert!(t.find(t.hash(&k), &k).is_some());
        }
    }

    #[test]
    fn scan_survives_resizes() {
        let mut t = Table::<Boxed>::new();
        for i in 0..1000u32 {
            insert(&mut t, &i.to_le_bytes());
        }
        let mut seen = HashSet::new();
        let mut cursor = 0;
        let mut steps = 0;
        loop {
            cursor = t.scan(cursor, |p, _| {
                seen.insert(key_of(p));
            });
            steps += 1;
            // Grow in the middle of the iteration, then shrink.
            if steps == 100 {
                for i in 1000..20000u32 {
                    insert(&mut t, &i.to_le_bytes());
                }
            }
            if steps == 3000 {
                for i in 1000..20000u32 {
                    remove(&mut t, &i.to_le_bytes());
                }
                t.shrink_to_fit();
            }
            if cursor == 0 {
                break;
            }
        }
        for i in 0..1000u32 {
            assert!(seen.contains(&i.to_le_bytes().to_vec()), "missed {i}");
        }
    }

    proptest::proptest! {
        #[test]
        fn behaves_like_a_set(ops in proptest::collection::vec((proptest::bool::ANY, 0u16..300), 0..600)) {
            let mut t = Table::<Boxed>::new();
            let mut model = HashSet::new();
            for (add, k) in ops {
                let key = k.to_le_bytes();
                if add {
                    if model.insert(k) { insert(&mut t, &key); }
                } else {
                    proptest::prop_assert_eq!(remove(&mut t, &key), model.remove(&k));
                }
            }
            proptest::prop_assert_eq!(t.len(), model.len());
            let keys: HashSet<Vec<u8>> = t.iter().map(|(p, _)| key_of(p)).collect();
            let want: HashSet<Vec<u8>> = model.iter().map(|k| k.to_le_bytes().to_vec()).collect();
            proptest::prop_assert_eq!(keys, want);
        }
    }
}
