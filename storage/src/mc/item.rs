//! [`Item`]: one memcached item (header, key and value) in a single allocation.
//!
//! ```text
//!  0        8            14      15     16       20        24
//! ┌────────┬────────────┬───────┬──────┬────────┬─────────┬─────┬───────┐
//! │ cas    │ expire     │key_len│ bits │ flags  │ val_len │ key │ value │
//! │ u64    │ u48 Unix ms│  u8   │  u8  │  u32   │   u32   │     │       │
//! └────────┴────────────┴───────┴──────┴────────┴─────────┴─────┴───────┘
//! ```
//!
//! A 24-byte header against memcached's 48-byte `item` plus 8 bytes of CAS (DESIGN
//! decision 2): the LRU links and slab bookkeeping memcached keeps per item are replaced by
//! one bit in the index slot (the CLOCK reference bit, see `shard.rs`) and by the allocator;
//! the expiry keeps milliseconds in 48 bits (good until the year 10889); `0` means "never".
//! Keys are at most 250 bytes, so their length fits a byte.
//!
//! All unsafe code of the memcached store's memory layout lives in this file.

use std::alloc::{alloc, dealloc, Layout};
use std::marker::PhantomData;
use std::ptr::NonNull;

use crate::table::TableEntry;

/// Bytes before the key.
pub const HEADER: usize = 24;
/// Largest expiry the header holds, in Unix ms.
pub const MAX_EXPIRE_MS: i64 = (1 << 48) - 1;
/// Largest key the header holds.
pub const MAX_KEY_LEN: usize = u8::MAX as usize;

const ALIGN: usize = 8;
const OFF_EXPIRE: usize = 8;
const OFF_KEY_LEN: usize = 14;
const OFF_BITS: usize = 15;
const OFF_FLAGS: usize = 16;
const OFF_VAL_LEN: usize = 20;

/// `bits`: the item has been read since it was stored (memcached's `ITEM_FETCHED`), which
/// the `*_unfetched` statistics count.
const FETCHED: u8 = 1;

/// Bytes an item with these lengths occupies.
pub fn alloc_size(key_len: usize, value_len: usize) -> usize {
    HEADER + key_len + value_len
}

/// The header's expiry field for an absolute time (`None` = never). Times at or before the
/// epoch become 1 ms, which is still in the past but distinct from "never".
pub fn encode_expire(at_ms: Option<i64>) -> u64 {
    match at_ms {
        None => 0,
        Some(ms) => ms.clamp(1, MAX_EXPIRE_MS) as u64,
    }
}

/// What a new item holds. The value is the concatenation of `value` (so `append` and
/// `prepend` build their result without an intermediate copy).
pub struct NewItem<'a> {
    /// The key, at most [`MAX_KEY_LEN`] bytes.
    pub key: &'a [u8],
    /// The value, in pieces.
    pub value: [&'a [u8]; 2],
    /// Client flags.
    pub flags: u32,
    /// Encoded expiry (see [`encode_expire`]).
    pub expire: u64,
    /// CAS value.
    pub cas: u64,
}

/// An owned item. The index stores it as a raw pointer ([`Item::into_raw`]).
pub struct Item {
    ptr: NonNull<u8>,
}

// SAFETY: an Item exclusively owns its allocation.
unsafe impl Send for Item {}

fn layout(size: usize) -> Option<Layout> {
    Layout::from_size_align(size, ALIGN).ok()
}

impl Item {
    /// Allocates an item, or returns `None` if the key is too long, the value longer than
    /// `u32::MAX`, or the allocator is out of memory.
    pub fn try_new(n: NewItem<'_>) -> Option<Item> {
        let value_len = n.value[0].len().checked_add(n.value[1].len())?;
        if n.key.len() > MAX_KEY_LEN || u32::try_from(value_len).is_err() {
            return None;
        }
        let layout = layout(alloc_size(n.key.len(), value_len))?;
        // SAFETY: the layout has a non-zero size (at least the header).
        let ptr = NonNull::new(unsafe { alloc(layout) })?;
        // SAFETY: the allocation holds HEADER + key + value bytes and is 8-aligned; every
        // write below stays within it.
        unsafe {
            let p = ptr.as_ptr();
            (p as *mut u64).write(n.cas);
            let exp = n.expire.to_le_bytes();
            std::ptr::copy_nonoverlapping(exp.as_ptr(), p.add(OFF_EXPIRE), 6);
            p.add(OFF_KEY_LEN).write(n.key.len() as u8);
            p.add(OFF_BITS).write(0);
            (p.add(OFF_FLAGS) as *mut u32).write(n.flags);
            (p.add(OFF_VAL_LEN) as *mut u32).write(value_len as u32);
            let key = p.add(HEADER);
            std::ptr::copy_nonoverlapping(n.key.as_ptr(), key, n.key.len());
            let val = key.add(n.key.len());
            std::ptr::copy_nonoverlapping(n.value[0].as_ptr(), val, n.value[0].len());
            std::ptr::copy_nonoverlapping(
                n.value[1].as_ptr(),
                val.add(n.value[0].len()),
                n.value[1].len(),
            );
        }
        Some(Item { ptr })
    }

    /// Gives up ownership to the index.
    pub fn into_raw(self) -> NonNull<u8> {
        let p = self.ptr;
        std::mem::forget(self);
        p
    }

    /// Takes back ownership of a pointer from [`Item::into_raw`].
    ///
    /// # Safety
    /// `ptr` came from `into_raw` and nothing else owns it.
    pub unsafe fn from_raw(ptr: NonNull<u8>) -> Item {
        Item { ptr }
    }

    /// A view of this item.
    pub fn view(&self) -> ItemView<'_> {
        ItemView {
            ptr: self.ptr,
            _life: PhantomData,
        }
    }
}

impl Drop for Item {
    fn drop(&mut self) {
        let size = self.view().alloc_size();
        if let Some(l) = layout(size) {
            // SAFETY: the item owns this allocation, made with the same layout.
            unsafe { dealloc(self.ptr.as_ptr(), l) };
        }
    }
}

/// A read-only view of an item: what `get` hands its caller.
#[derive(Clone, Copy)]
pub struct ItemView<'a> {
    ptr: NonNull<u8>,
    _life: PhantomData<&'a Item>,
}

impl<'a> ItemView<'a> {
    /// A view of the item at `ptr`.
    ///
    /// # Safety
    /// `ptr` is a live item that outlives `'a` and is not mutated meanwhile.
    pub(crate) unsafe fn from_ptr(ptr: NonNull<u8>) -> ItemView<'a> {
        ItemView {
            ptr,
            _life: PhantomData,
        }
    }

    fn key_len(&self) -> usize {
        // SAFETY: the header is complete in a live item.
        unsafe { usize::from(self.ptr.as_ptr().add(OFF_KEY_LEN).read()) }
    }

    fn value_len(&self) -> usize {
        // SAFETY: as above; the field is 4-aligned in an 8-aligned allocation.
        unsafe { (self.ptr.as_ptr().add(OFF_VAL_LEN) as *const u32).read() as usize }
    }

    /// The key.
    pub fn key(&self) -> &'a [u8] {
        // SAFETY: the key follows the header.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr().add(HEADER), self.key_len()) }
    }

    /// The value.
    pub fn value(&self) -> &'a [u8] {
        // SAFETY: the value follows the key.
        unsafe {
            std::slice::from_raw_parts(
                self.ptr.as_ptr().add(HEADER + self.key_len()),
                self.value_len(),
            )
        }
    }

    /// The client flags.
    pub fn flags(&self) -> u32 {
        // SAFETY: header field, 4-aligned.
        unsafe { (self.ptr.as_ptr().add(OFF_FLAGS) as *const u32).read() }
    }

    /// The CAS value.
    pub fn cas(&self) -> u64 {
        // SAFETY: header field at offset 0, 8-aligned.
        unsafe { (self.ptr.as_ptr() as *const u64).read() }
    }

    /// The encoded expiry: 0 for never, else Unix ms.
    pub(crate) fn expire_raw(&self) -> u64 {
        let mut b = [0u8; 8];
        // SAFETY: six bytes of header at OFF_EXPIRE.
        unsafe {
            std::ptr::copy_nonoverlapping(self.ptr.as_ptr().add(OFF_EXPIRE), b.as_mut_ptr(), 6)
        };
        u64::from_le_bytes(b)
    }

    /// When the item expires (Unix ms), or `None` if never.
    pub fn expire_ms(&self) -> Option<i64> {
        match self.expire_raw() {
            0 => None,
            e => Some(e as i64),
        }
    }

    /// True if the item has expired at `now_ms` (memcached: `exptime <= current_time`).
    pub fn is_expired(&self, now_ms: i64) -> bool {
        let e = self.expire_raw();
        e != 0 && e as i64 <= now_ms
    }

    /// True if the item was read since it was stored.
    pub(crate) fn fetched(&self) -> bool {
        // SAFETY: header byte.
        unsafe { self.ptr.as_ptr().add(OFF_BITS).read() & FETCHED != 0 }
    }

    /// Bytes the item occupies.
    pub fn alloc_size(&self) -> usize {
        alloc_size(self.key_len(), self.value_len())
    }
}

/// In-place changes to an item owned by the index; the caller holds the shard's lock.
pub(crate) struct ItemMut {
    ptr: NonNull<u8>,
}

impl ItemMut {
    /// Mutable access to the item at `ptr`.
    ///
    /// # Safety
    /// `ptr` is a live item and the caller has exclusive access to it.
    pub(crate) unsafe fn from_ptr(ptr: NonNull<u8>) -> ItemMut {
        ItemMut { ptr }
    }

    fn view(&self) -> ItemView<'_> {
        ItemView {
            ptr: self.ptr,
            _life: PhantomData,
        }
    }

    pub(crate) fn set_cas(&mut self, cas: u64) {
        // SAFETY: header field at offset 0, 8-aligned; exclusive access.
        unsafe { (self.ptr.as_ptr() as *mut u64).write(cas) }
    }

    pub(crate) fn set_expire(&mut self, expire: u64) {
        let b = expire.to_le_bytes();
        // SAFETY: six bytes of header at OFF_EXPIRE; exclusive access.
        unsafe { std::ptr::copy_nonoverlapping(b.as_ptr(), self.ptr.as_ptr().add(OFF_EXPIRE), 6) }
    }

    pub(crate) fn set_fetched(&mut self) {
        // SAFETY: header byte; exclusive access.
        unsafe {
            let p = self.ptr.as_ptr().add(OFF_BITS);
            p.write(p.read() | FETCHED);
        }
    }

    /// Overwrites the start of the value with `digits` and pads the rest with spaces: how
    /// memcached's `incr`/`decr` store a number no longer than the old value.
    pub(crate) fn overwrite_value_padded(&mut self, digits: &[u8]) {
        let v = self.view();
        let (start, len) = (HEADER + v.key_len(), v.value_len());
        let n = digits.len().min(len);
        // SAFETY: writes stay within the value; exclusive access.
        unsafe {
            let p = self.ptr.as_ptr().add(start);
            std::ptr::copy_nonoverlapping(digits.as_ptr(), p, n);
            std::ptr::write_bytes(p.add(n), b' ', len - n);
        }
    }
}

/// The memcached store's items, as the [`Table`](crate::table::Table) sees them.
pub struct McItem;

// SAFETY: the table only passes pointers obtained from `Item::into_raw`.
unsafe impl TableEntry for McItem {
    unsafe fn key<'a>(ptr: NonNull<u8>) -> &'a [u8] {
        ItemView::from_ptr(ptr).key()
    }

    unsafe fn free(ptr: NonNull<u8>) {
        drop(Item::from_raw(ptr));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn make(key: &[u8], a: &[u8], b: &[u8], expire: Option<i64>) -> Item {
        Item::try_new(NewItem {
            key,
            value: [a, b],
            flags: 0xdead_beef,
            expire: encode_expire(expire),
            cas: u64::MAX - 1,
        })
        .expect("small item")
    }

    #[test]
    fn layout_round_trips() {
        let it = make(b"key", b"val", b"ue", Some(1_700_000_000_123));
        let v = it.view();
        assert_eq!(v.key(), b"key");
        assert_eq!(v.value(), b"value");
        assert_eq!(v.flags(), 0xdead_beef);
        assert_eq!(v.cas(), u64::MAX - 1);
        assert_eq!(v.expire_ms(), Some(1_700_000_000_123));
        assert!(!v.fetched());
        assert_eq!(v.alloc_size(), 24 + 3 + 5);
        assert!(v.is_expired(1_700_000_000_123));
        assert!(!v.is_expired(1_700_000_000_122));
        let never = make(b"", b"", b"", None);
        assert_eq!(never.view().expire_ms(), None);
        assert!(!never.view().is_expired(i64::MAX));
        // Times in the past stay in the past; absurd futures are clamped.
        assert_eq!(make(b"k", b"", b"", Some(-5)).view().expire_ms(), Some(1));
        assert_eq!(
            make(b"k", b"", b"", Some(i64::MAX)).view().expire_ms(),
            Some(MAX_EXPIRE_MS)
        );
        assert!(Item::try_new(NewItem {
            key: &[b'k'; 256],
            value: [b"", b""],
            flags: 0,
            expire: 0,
            cas: 1
        })
        .is_none());
    }

    #[test]
    fn in_place_changes() {
        let p = make(b"n", b"1000", b"", None).into_raw();
        let mut m = unsafe { ItemMut::from_ptr(p) };
        m.set_cas(7);
        m.set_expire(encode_expire(Some(99)));
        m.set_fetched();
        m.overwrite_value_padded(b"9");
        let it = unsafe { Item::from_raw(p) };
        let v = it.view();
        assert_eq!((v.cas(), v.expire_ms(), v.fetched()), (7, Some(99), true));
        assert_eq!(v.value(), b"9   ");
        assert_eq!(v.flags(), 0xdead_beef);
    }
}
