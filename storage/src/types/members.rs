//! [`MemberTable`]: a hash table of distinct byte strings, each in one allocation, indexed
//! by the keyspace's own compact [`Table`] (8 bytes per slot). The big encoding of sets.
//!
//! A member is allocated as its LEB128 length (one byte up to 127 bytes) followed by its
//! bytes: a set member has no value, so where [`super::pairs::PairTable`] spends an 8-byte
//! header per pair, a member spends one byte. Against redis-server's set dict — a 24-byte
//! entry, an 8-byte bucket and an sds header per member — a member here costs its bytes,
//! one byte of length, allocator rounding and its index slot. The table keeps its own byte
//! count so [`MemberTable::heap_bytes`] is O(1), and scans with Redis's cursor guarantee
//! (SSCAN) because the index does.

use std::alloc::{alloc, dealloc, Layout};
use std::ptr::NonNull;

use super::listpack::varint_len;
use crate::table::{Table, TableEntry};

fn member_layout(total: usize) -> Layout {
    Layout::from_size_align(total, 1).expect("a member's size is bounded by its length")
}

/// Bytes a member of `len` bytes allocates.
fn member_size(len: usize) -> usize {
    varint_len(len) + len
}

/// Allocates a member `[len varint][bytes]`.
fn new_member(m: &[u8]) -> NonNull<u8> {
    let head = varint_len(m.len());
    let layout = member_layout(head + m.len());
    // SAFETY: the layout is at least one byte; writes stay within it.
    unsafe {
        let Some(p) = NonNull::new(alloc(layout)) else {
            std::alloc::handle_alloc_error(layout);
        };
        let b = p.as_ptr();
        let mut n = m.len();
        let mut i = 0;
        while n >= 0x80 {
            b.add(i).write((n as u8) | 0x80);
            n >>= 7;
            i += 1;
        }
        b.add(i).write(n as u8);
        std::ptr::copy_nonoverlapping(m.as_ptr(), b.add(head), m.len());
        p
    }
}

/// Reads a member's bytes.
///
/// # Safety
/// `p` is a live member from [`new_member`].
unsafe fn member<'a>(p: NonNull<u8>) -> &'a [u8] {
    let b = p.as_ptr();
    let mut len = 0usize;
    let mut shift = 0;
    let mut i = 0;
    loop {
        let byte = b.add(i).read();
        len |= usize::from(byte & 0x7f) << shift;
        i += 1;
        if byte & 0x80 == 0 {
            break;
        }
        shift += 7;
    }
    std::slice::from_raw_parts(b.add(i), len)
}

/// Draws of a random slot before settling for the next occupied one.
const RANDOM_DRAWS: usize = 64;

/// One step of splitmix64: spreads every bit of `x` over the result, so each draw of a
/// slot uses fresh bits whatever generator seeded it.
fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The index's view of members.
struct MemberEntry;

// SAFETY: the table is only given pointers from `new_member`.
unsafe impl TableEntry for MemberEntry {
    unsafe fn key<'a>(ptr: NonNull<u8>) -> &'a [u8] {
        member(ptr)
    }

    unsafe fn free(ptr: NonNull<u8>) {
        let len = member(ptr).len();
        dealloc(ptr.as_ptr(), member_layout(member_size(len)));
    }
}

/// A hash table of distinct byte strings; see the module doc.
#[derive(Default)]
pub struct MemberTable {
    table: Table<MemberEntry>,
    /// Bytes held by the members themselves.
    bytes: usize,
}

impl Clone for MemberTable {
    fn clone(&self) -> Self {
        let mut t = MemberTable::default();
        t.reserve(self.len());
        for m in self.iter() {
            t.insert(m);
        }
        t
    }
}

impl std::fmt::Debug for MemberTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set()
            .entries(self.iter().map(String::from_utf8_lossy))
            .finish()
    }
}

impl MemberTable {
    /// An empty table.
    pub fn new() -> Self {
        MemberTable::default()
    }

    /// Sizes an empty table for `n` members at once (a conversion knows its size).
    pub fn reserve(&mut self, n: usize) {
        self.table.reserve(n);
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// True if empty.
    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// Heap bytes: members and index.
    pub fn heap_bytes(&self) -> usize {
        self.bytes + self.table.index_bytes()
    }

    /// True if `m` is a member.
    pub fn contains(&self, m: &[u8]) -> bool {
        let h = self.table.hash(m);
        self.table.find(h, m).is_some()
    }

    /// Adds `m`; true if it was not there (only then is anything allocated).
    pub fn insert(&mut self, m: &[u8]) -> bool {
        let h = self.table.hash(m);
        if self.table.find(h, m).is_some() {
            return false;
        }
        self.bytes += member_size(m.len());
        self.table.insert(h, new_member(m), false);
        true
    }

    /// Removes `m`; true if it was there.
    pub fn remove(&mut self, m: &[u8]) -> bool {
        let h = self.table.hash(m);
        match self.table.find(h, m) {
            Some(i) => {
                self.remove_slot(i);
                true
            }
            None => false,
        }
    }

    fn remove_slot(&mut self, i: usize) {
        let old = self.table.remove_at(i);
        // SAFETY: the table handed the member back; nothing else refers to it.
        unsafe {
            self.bytes -= member_size(member(old).len());
            MemberEntry::free(old);
        }
        // redis-server shrinks a set's dict as members go (`htNeedsResize`); the index
        // shrinks (incrementally) once under 10 % full.
        self.table.after_remove();
    }

    /// Every member, in table order.
    pub fn iter(&self) -> Members<'_> {
        Members { t: self, next: 0 }
    }

    /// One SCAN step: calls `f` with the members at the cursor's home slot; returns the
    /// next cursor (0 when done).
    pub fn scan<'t>(&'t self, cursor: u64, mut f: impl FnMut(&'t [u8])) -> u64 {
        self.table.scan(cursor, |p, _| {
            // SAFETY: the table passes live members, owned by it and borrowed for 't.
            f(unsafe { member(p) })
        })
    }

    /// An occupied slot chosen from `random`, every member equally likely: random slots
    /// are drawn until one is occupied (the index is at least 10 % full, so about ten draws
    /// at worst; redis-server's `dictGetFairRandomKey` aims at the same fairness by
    /// sampling). After [`RANDOM_DRAWS`] misses it takes the next occupied slot.
    fn random_slot(&self, random: u64) -> Option<usize> {
        if self.is_empty() {
            return None;
        }
        let cap = self.table.capacity() as u64;
        let mut r = random;
        for _ in 0..RANDOM_DRAWS {
            r = splitmix(r);
            let i = (r % cap) as usize;
            if self.table.slot_flag(i).is_some() {
                return Some(i);
            }
        }
        self.table.random_slot(splitmix(r))
    }

    /// A member chosen from `random` (uniformly) with its slot index, which names it until
    /// the table next changes.
    pub fn random(&self, random: u64) -> Option<(usize, &[u8])> {
        let i = self.random_slot(random)?;
        // SAFETY: `random_slot` returns an occupied slot; the member is borrowed with &self.
        Some((i, unsafe { member(self.table.ptr_at(i)) }))
    }

    /// Removes a member chosen from `random` and passes it to `f` before freeing it.
    pub fn pop_random(&mut self, random: u64, f: impl FnOnce(&[u8])) -> bool {
        let Some(i) = self.random_slot(random) else {
            return false;
        };
        // SAFETY: the slot is occupied; the member lives until `remove_slot` frees it.
        f(unsafe { member(self.table.ptr_at(i)) });
        self.remove_slot(i);
        true
    }
}

/// Iterator over a table's members.
pub struct Members<'a> {
    t: &'a MemberTable,
    next: usize,
}

impl<'a> Iterator for Members<'a> {
    type Item = &'a [u8];
    fn next(&mut self) -> Option<&'a [u8]> {
        let i = self.t.table.next_occupied(self.next)?;
        self.next = i + 1;
        // SAFETY: the slot is occupied and the table is borrowed for 'a.
        Some(unsafe { member(self.t.table.ptr_at(i)) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn long_members_and_empty_ones() {
        let mut t = MemberTable::new();
        let long = vec![b'x'; 70_000];
        assert!(t.insert(&long));
        assert!(t.insert(b""));
        assert!(!t.insert(b""));
        assert!(t.contains(&long));
        assert_eq!(t.bytes, member_size(70_000) + 1);
        let all: BTreeSet<Vec<u8>> = t.iter().map(<[u8]>::to_vec).collect();
        assert_eq!(all, BTreeSet::from([long.clone(), Vec::new()]));
        let mut popped = Vec::new();
        while t.pop_random(12345, |m| popped.push(m.to_vec())) {}
        assert_eq!(popped.len(), 2);
        assert_eq!(t.bytes, 0);
    }

    #[test]
    fn random_picks_are_fair() {
        let mut t = MemberTable::new();
        for i in 0..40 {
            t.insert(format!("m{i}").as_bytes());
        }
        let mut counts = std::collections::HashMap::new();
        let mut r = 1u64;
        for _ in 0..40_000 {
            r = splitmix(r);
            let (_, m) = t.random(r).expect("not empty");
            *counts.entry(m.to_vec()).or_insert(0usize) += 1;
        }
        // 1000 expected each; a pick by "next occupied slot" skews some members 2-5x.
        assert_eq!(counts.len(), 40);
        assert!(
            counts.values().all(|&n| (800..1200).contains(&n)),
            "{counts:?}"
        );
    }

    proptest::proptest! {
        #[test]
        fn behaves_like_a_set(ops in proptest::collection::vec((0u8..3, 0u16..300), 0..600)) {
            let mut t = MemberTable::new();
            let mut model = BTreeSet::new();
            for (op, k) in ops {
                let m = k.to_string().into_bytes();
                match op {
                    0 => proptest::prop_assert_eq!(t.insert(&m), model.insert(m)),
                    1 => proptest::prop_assert_eq!(t.remove(&m), model.remove(&m)),
                    _ => proptest::prop_assert_eq!(t.contains(&m), model.contains(&m)),
                }
            }
            let got: BTreeSet<Vec<u8>> = t.iter().map(<[u8]>::to_vec).collect();
            proptest::prop_assert_eq!(&got, &model);
            let expect: usize = model.iter().map(|m| member_size(m.len())).sum();
            proptest::prop_assert_eq!(t.bytes, expect);
            let mut seen = BTreeSet::new();
            let mut cursor = 0;
            loop {
                cursor = t.scan(cursor, |m| { seen.insert(m.to_vec()); });
                if cursor == 0 { break; }
            }
            proptest::prop_assert_eq!(&seen, &model);
            let c = t.clone();
            let cloned: BTreeSet<Vec<u8>> = c.iter().map(<[u8]>::to_vec).collect();
            proptest::prop_assert_eq!(cloned, model);
        }
    }
}
