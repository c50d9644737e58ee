//! [`PairTable`]: a hash table of byte-string keys to byte-string values, each pair in one
//! allocation, indexed by the keyspace's own compact [`Table`] (8 bytes per slot).
//!
//! The big encoding of hashes (field → value) and sets (member → nothing). Where Redis's
//! `dict` spends a 24-byte entry, an 8-byte bucket and two sds headers per pair, a pair here
//! costs its 8-byte header, its bytes and its index slot. The table keeps its own byte count
//! so [`PairTable::heap_bytes`] is O(1), and scans with Redis's cursor guarantee (HSCAN,
//! SSCAN) because the index does.

use std::alloc::{alloc, dealloc, Layout};
use std::ptr::NonNull;

use crate::table::{Table, TableEntry};

const PAIR_HEADER: usize = 8;

fn pair_layout(key_len: usize, val_len: usize) -> Layout {
    Layout::from_size_align(PAIR_HEADER + key_len + val_len, 4)
        .expect("pair sizes are bounded by two u32 lengths")
}

/// Allocates a pair `[key_len u32][val_len u32][key][value]`.
fn new_pair(key: &[u8], value: &[u8]) -> NonNull<u8> {
    let layout = pair_layout(key.len(), value.len());
    // SAFETY: the layout is at least the header; writes stay within it.
    unsafe {
        let Some(p) = NonNull::new(alloc(layout)) else {
            std::alloc::handle_alloc_error(layout);
        };
        let b = p.as_ptr();
        (b as *mut u32).write_unaligned(key.len() as u32);
        (b.add(4) as *mut u32).write_unaligned(value.len() as u32);
        std::ptr::copy_nonoverlapping(key.as_ptr(), b.add(PAIR_HEADER), key.len());
        std::ptr::copy_nonoverlapping(value.as_ptr(), b.add(PAIR_HEADER + key.len()), value.len());
        p
    }
}

/// Reads a pair's (key, value).
///
/// # Safety
/// `p` is a live pair from [`new_pair`].
unsafe fn pair<'a>(p: NonNull<u8>) -> (&'a [u8], &'a [u8]) {
    let b = p.as_ptr();
    let kl = (b as *const u32).read_unaligned() as usize;
    let vl = (b.add(4) as *const u32).read_unaligned() as usize;
    (
        std::slice::from_raw_parts(b.add(PAIR_HEADER), kl),
        std::slice::from_raw_parts(b.add(PAIR_HEADER + kl), vl),
    )
}

/// Bytes a pair allocates.
fn pair_size(key: &[u8], value: &[u8]) -> usize {
    PAIR_HEADER + key.len() + value.len()
}

/// The index's view of pairs.
struct PairEntry;

// SAFETY: the table is only given pointers from `new_pair`.
unsafe impl TableEntry for PairEntry {
    unsafe fn key<'a>(ptr: NonNull<u8>) -> &'a [u8] {
        pair(ptr).0
    }

    unsafe fn free(ptr: NonNull<u8>) {
        let (k, v) = pair(ptr);
        let layout = pair_layout(k.len(), v.len());
        dealloc(ptr.as_ptr(), layout);
    }
}

/// A hash table of byte-string pairs; see the module doc.
#[derive(Default)]
pub struct PairTable {
    table: Table<PairEntry>,
    /// Bytes held by the pairs themselves.
    bytes: usize,
}

impl Clone for PairTable {
    fn clone(&self) -> Self {
        let mut t = PairTable::default();
        t.reserve(self.len());
        for (k, v) in self.iter() {
            t.insert(k, v);
        }
        t
    }
}

impl std::fmt::Debug for PairTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(
                self.iter()
                    .map(|(k, v)| (String::from_utf8_lossy(k), String::from_utf8_lossy(v))),
            )
            .finish()
    }
}

impl PairTable {
    /// An empty table.
    pub fn new() -> Self {
        PairTable::default()
    }

    /// Makes room for `n` more pairs without growing step by step (the conversion from a
    /// packed encoding knows its size).
    pub fn reserve(&mut self, n: usize) {
        self.table.reserve(n);
    }

    /// Number of pairs.
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// True if empty.
    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// Heap bytes: pairs and index.
    pub fn heap_bytes(&self) -> usize {
        self.bytes + self.table.index_bytes()
    }

    /// The value of `key`.
    pub fn get(&self, key: &[u8]) -> Option<&[u8]> {
        let h = self.table.hash(key);
        let i = self.table.find(h, key)?;
        // SAFETY: the slot holds a live pair owned by the table, borrowed with `&self`.
        Some(unsafe { pair(self.table.ptr_at(i)) }.1)
    }

    /// True if `key` is present.
    pub fn contains(&self, key: &[u8]) -> bool {
        let h = self.table.hash(key);
        self.table.find(h, key).is_some()
    }

    /// Sets `key` to `value`; true if the key is new.
    pub fn insert(&mut self, key: &[u8], value: &[u8]) -> bool {
        let h = self.table.hash(key);
        let new = new_pair(key, value);
        self.bytes += pair_size(key, value);
        match self.table.find(h, key) {
            Some(i) => {
                let old = self.table.replace_at(i, new, false);
                // SAFETY: the table handed the old pair back.
                unsafe {
                    let (k, v) = pair(old);
                    self.bytes -= pair_size(k, v);
                    PairEntry::free(old);
                }
                false
            }
            None => {
                self.table.insert(h, new, false);
                true
            }
        }
    }

    /// Removes `key`; true if it was there.
    pub fn remove(&mut self, key: &[u8]) -> bool {
        let h = self.table.hash(key);
        let Some(i) = self.table.find(h, key) else {
            return false;
        };
        let old = self.table.remove_at(i);
        // SAFETY: the table handed the pair back.
        unsafe {
            let (k, v) = pair(old);
            self.bytes -= pair_size(k, v);
            PairEntry::free(old);
        }
        self.table.after_remove();
        true
    }

    /// Every pair, in table order.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> + '_ {
        // SAFETY: occupied slots hold live pairs, borrowed with `&self`.
        self.table.iter().map(|(p, _)| unsafe { pair(p) })
    }

    /// One SCAN step: calls `f` with the pairs at the cursor's home slot; returns the next
    /// cursor (0 when done).
    pub fn scan<'t>(&'t self, cursor: u64, mut f: impl FnMut(&'t [u8], &'t [u8])) -> u64 {
        self.table.scan(cursor, |p, _| {
            // SAFETY: the table passes live pairs, owned by it and borrowed for 't.
            let (k, v) = unsafe { pair(p) };
            f(k, v)
        })
    }

    /// A pair chosen from `random` (not uniformly: the first occupied slot at a random
    /// position, as redis-server's `dictGetFairRandomKey` approximates).
    pub fn random(&self, random: u64) -> Option<(&[u8], &[u8])> {
        let i = self.table.random_slot(random)?;
        // SAFETY: `random_slot` returns an occupied slot.
        Some(unsafe { pair(self.table.ptr_at(i)) })
    }

    /// Periodic upkeep: moves a resize along and shrinks a mostly empty index.
    pub fn maintain(&mut self) {
        self.table.maintain();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    proptest::proptest! {
        #[test]
        fn behaves_like_a_map(ops in proptest::collection::vec((0u8..3, 0u16..200, proptest::collection::vec(proptest::num::u8::ANY, 0..20)), 0..400)) {
            let mut t = PairTable::new();
            let mut model = BTreeMap::new();
            for (op, k, v) in ops {
                let key = k.to_string().into_bytes();
                match op {
                    0 => proptest::prop_assert_eq!(t.insert(&key, &v), model.insert(key, v).is_none()),
                    1 => proptest::prop_assert_eq!(t.remove(&key), model.remove(&key).is_some()),
                    _ => proptest::prop_assert_eq!(t.get(&key), model.get(&key).map(Vec::as_slice)),
                }
            }
            let got: BTreeMap<Vec<u8>, Vec<u8>> = t.iter().map(|(k, v)| (k.to_vec(), v.to_vec())).collect();
            proptest::prop_assert_eq!(&got, &model);
            let expect: usize = model.iter().map(|(k, v)| pair_size(k, v)).sum();
            proptest::prop_assert_eq!(t.bytes, expect);
            let c = t.clone();
            let cloned: BTreeMap<Vec<u8>, Vec<u8>> = c.iter().map(|(k, v)| (k.to_vec(), v.to_vec())).collect();
            proptest::prop_assert_eq!(cloned, model);
        }
    }
}
