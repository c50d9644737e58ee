//! [`Entry`]: one key and its value in a single allocation.
//!
//! ```text
//! ┌───────┬────────┬─────────┬─────────┬──────────────┬─────────────────┬─────┬───────┐
//! │ flags │ lru 24 │ key_len │ val_len │ [cap u32]    │ [expire i64 ms] │ key │ value │
//! │  u8   │  bits  │   u32   │   u32   │ if HAS_SPARE │ if HAS_EXPIRE   │     │       │
//! └───────┴────────┴─────────┴─────────┴──────────────┴─────────────────┴─────┴───────┘
//! ```
//!
//! Twelve bytes of header for a key without TTL (twenty with one), against redis-server's
//! 16-byte object header, two sds headers and a 24-byte dict entry (DESIGN decision 12). The
//! LRU clock has Redis's 24-bit, one-second resolution. Values that grow by `APPEND` or
//! `SETRANGE` get spare room (`cap`), doubling like an sds string so repeated appends stay
//! amortised O(1). Only strings exist so far; the type bits leave room for the others.
//!
//! The `SHARED` flag bit mirrors redis-server's shared integer objects (values 0..9999 written
//! whole), which `OBJECT REFCOUNT` reports as 2147483647.
//!
//! All unsafe code of the keyspace's memory layout lives in this file.

use std::alloc::{alloc, dealloc, Layout};
use std::ptr::NonNull;

use crate::table::TableEntry;

const TYPE_MASK: u8 = 0b0000_0111;
const ENC_SHIFT: u8 = 3;
const ENC_MASK: u8 = 0b0001_1000;
const HAS_EXPIRE: u8 = 1 << 5;
const HAS_SPARE: u8 = 1 << 6;
const SHARED: u8 = 1 << 7;
const HEADER: usize = 12;
const ALIGN: usize = 4;

/// How a string value is held, as `OBJECT ENCODING` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// `raw`: a string modified in place (APPEND, SETRANGE) or longer than 44 bytes.
    Raw,
    /// `embstr`: a short string written whole.
    Embstr,
    /// `int`: a string that is a canonical 64-bit integer.
    Int,
}

impl Encoding {
    fn bits(self) -> u8 {
        match self {
            Encoding::Raw => 0,
            Encoding::Embstr => 1,
            Encoding::Int => 2,
        }
    }

    fn from_bits(b: u8) -> Encoding {
        match b {
            1 => Encoding::Embstr,
            2 => Encoding::Int,
            _ => Encoding::Raw,
        }
    }

    /// The name `OBJECT ENCODING` prints.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Raw => "raw",
            Encoding::Embstr => "embstr",
            Encoding::Int => "int",
        }
    }

    /// The encoding redis-server gives a string value written whole (SET, MSET, …): `int`
    /// if it reads as a canonical integer of at most 20 characters, `embstr` up to 44 bytes,
    /// otherwise `raw`.
    pub fn for_value(v: &[u8]) -> Encoding {
        if v.len() <= 20 && cachegate_protocols::number::parse_i64(v).is_some() {
            Encoding::Int
        } else if v.len() <= 44 {
            Encoding::Embstr
        } else {
            Encoding::Raw
        }
    }
}

/// True if redis-server would hold this value as one of its shared integer objects.
fn is_shared_int(value: &[u8], encoding: Encoding) -> bool {
    encoding == Encoding::Int
        && matches!(
            cachegate_protocols::number::parse_i64(value),
            Some(0..=9999)
        )
}

/// The type of a stored value (`TYPE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    /// A string.
    String,
}

impl ValueType {
    /// The name `TYPE` prints.
    pub fn name(self) -> &'static str {
        match self {
            ValueType::String => "string",
        }
    }
}

/// Sizes of the variable parts, read from a header.
#[derive(Clone, Copy)]
struct Shape {
    flags: u8,
    key_len: usize,
    val_len: usize,
    cap: usize,
}

impl Shape {
    fn expire_off(&self) -> usize {
        HEADER + if self.flags & HAS_SPARE != 0 { 4 } else { 0 }
    }
    fn key_off(&self) -> usize {
        self.expire_off() + if self.flags & HAS_EXPIRE != 0 { 8 } else { 0 }
    }
    fn val_off(&self) -> usize {
        self.key_off() + self.key_len
    }
    fn size(&self) -> usize {
        self.val_off() + self.cap
    }
    fn layout(&self) -> Layout {
        // The size is bounded by key and value lengths that each fit in u32.
        Layout::from_size_align(self.size(), ALIGN)
            .expect("entry sizes are bounded by two u32 lengths and a small header")
    }
}

/// An owned keyspace entry. The table stores it as a raw pointer ([`Entry::into_raw`]).
pub struct Entry {
    ptr: NonNull<u8>,
}

// SAFETY: an Entry exclusively owns its allocation.
unsafe impl Send for Entry {}

/// Options for building an entry.
#[derive(Debug, Clone, Copy)]
pub struct NewString<'a> {
    /// The key.
    pub key: &'a [u8],
    /// The value bytes.
    pub value: &'a [u8],
    /// Its encoding.
    pub encoding: Encoding,
    /// Absolute expiry in Unix milliseconds.
    pub expire: Option<i64>,
    /// Extra capacity to reserve after the value (for values that grow).
    pub spare: usize,
    /// Initial LRU clock.
    pub lru: u32,
}

/// Largest key or value length an entry can hold.
pub const MAX_LEN: usize = u32::MAX as usize;

impl Entry {
    /// Allocates an entry holding a string. Lengths must not exceed [`MAX_LEN`].
    pub fn new_string(n: NewString<'_>) -> Entry {
        let cap = n.value.len().saturating_add(n.spare).min(MAX_LEN);
        let mut flags = (n.encoding.bits() << ENC_SHIFT) & ENC_MASK;
        if n.expire.is_some() {
            flags |= HAS_EXPIRE;
        }
        if cap > n.value.len() {
            flags |= HAS_SPARE;
        }
        if is_shared_int(n.value, n.encoding) {
            flags |= SHARED;
        }
        let shape = Shape {
            flags,
            key_len: n.key.len().min(MAX_LEN),
            val_len: n.value.len().min(cap),
            cap,
        };
        let layout = shape.layout();
        // SAFETY: the layout has non-zero size (at least the header).
        let raw = unsafe { alloc(layout) };
        let Some(ptr) = NonNull::new(raw) else {
            std::alloc::handle_alloc_error(layout);
        };
        // SAFETY: the allocation is `shape.size()` bytes; every write below stays within the
        // offsets `shape` computes, and unaligned fields use unaligned writes.
        unsafe {
            let p = ptr.as_ptr();
            p.write(flags);
            write_lru(p, n.lru);
            (p.add(4) as *mut u32).write_unaligned(shape.key_len as u32);
            (p.add(8) as *mut u32).write_unaligned(shape.val_len as u32);
            if flags & HAS_SPARE != 0 {
                (p.add(HEADER) as *mut u32).write_unaligned(cap as u32);
            }
            if let Some(at) = n.expire {
                (p.add(shape.expire_off()) as *mut i64).write_unaligned(at);
            }
            std::ptr::copy_nonoverlapping(n.key.as_ptr(), p.add(shape.key_off()), shape.key_len);
            std::ptr::copy_nonoverlapping(n.value.as_ptr(), p.add(shape.val_off()), shape.val_len);
        }
        Entry { ptr }
    }

    /// Marks or unmarks the value as a shared integer (a copy is never shared).
    pub fn with_shared(self, shared: bool) -> Entry {
        // SAFETY: the entry owns its allocation; byte 0 is the flags.
        unsafe {
            let p = self.ptr.as_ptr();
            p.write(if shared {
                p.read() | SHARED
            } else {
                p.read() & !SHARED
            });
        }
        self
    }

    /// Gives up ownership to the table.
    pub fn into_raw(self) -> NonNull<u8> {
        let p = self.ptr;
        std::mem::forget(self);
        p
    }

    /// Takes back ownership of a pointer from [`Entry::into_raw`].
    ///
    /// # Safety
    /// `ptr` came from `into_raw` and nothing else owns it.
    pub unsafe fn from_raw(ptr: NonNull<u8>) -> Entry {
        Entry { ptr }
    }

    /// A view of this entry.
    pub fn view(&self) -> View<'_> {
        View {
            ptr: self.ptr,
            _life: std::marker::PhantomData,
        }
    }
}

impl Drop for Entry {
    fn drop(&mut self) {
        let layout = self.view().shape().layout();
        // SAFETY: the entry owns this allocation, made with the same layout.
        unsafe { dealloc(self.ptr.as_ptr(), layout) };
    }
}

unsafe fn write_lru(p: *mut u8, lru: u32) {
    let b = lru.to_le_bytes();
    p.add(1).write(b[0]);
    p.add(2).write(b[1]);
    p.add(3).write(b[2]);
}

/// A read-only view of an entry in the table.
#[derive(Clone, Copy)]
pub struct View<'a> {
    ptr: NonNull<u8>,
    _life: std::marker::PhantomData<&'a Entry>,
}

impl<'a> View<'a> {
    /// A view of the entry at `ptr`.
    ///
    /// # Safety
    /// `ptr` is a live entry that outlives `'a` and is not mutated meanwhile.
    pub unsafe fn from_ptr(ptr: NonNull<u8>) -> View<'a> {
        View {
            ptr,
            _life: std::marker::PhantomData,
        }
    }

    fn shape(&self) -> Shape {
        // SAFETY: a live entry starts with a complete header.
        unsafe {
            let p = self.ptr.as_ptr();
            let flags = p.read();
            let key_len = (p.add(4) as *const u32).read_unaligned() as usize;
            let val_len = (p.add(8) as *const u32).read_unaligned() as usize;
            let cap = if flags & HAS_SPARE != 0 {
                (p.add(HEADER) as *const u32).read_unaligned() as usize
            } else {
                val_len
            };
            Shape {
                flags,
                key_len,
                val_len,
                cap,
            }
        }
    }

    /// The key.
    pub fn key(&self) -> &'a [u8] {
        let s = self.shape();
        // SAFETY: the key lies at key_off within the allocation.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr().add(s.key_off()), s.key_len) }
    }

    /// The string value.
    pub fn value(&self) -> &'a [u8] {
        let s = self.shape();
        // SAFETY: the value lies at val_off within the allocation.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr().add(s.val_off()), s.val_len) }
    }

    /// Spare bytes after the value.
    pub fn spare(&self) -> usize {
        let s = self.shape();
        s.cap - s.val_len
    }

    /// The value's type.
    pub fn value_type(&self) -> ValueType {
        let _ = self.shape().flags & TYPE_MASK;
        ValueType::String
    }

    /// The value's encoding.
    pub fn encoding(&self) -> Encoding {
        Encoding::from_bits((self.shape().flags & ENC_MASK) >> ENC_SHIFT)
    }

    /// True for a shared integer (see the module doc).
    pub fn is_shared(&self) -> bool {
        self.shape().flags & SHARED != 0
    }

    /// Absolute expiry in Unix milliseconds, if any.
    pub fn expire(&self) -> Option<i64> {
        let s = self.shape();
        if s.flags & HAS_EXPIRE == 0 {
            return None;
        }
        // SAFETY: the expiry field exists when HAS_EXPIRE is set.
        Some(unsafe { (self.ptr.as_ptr().add(s.expire_off()) as *const i64).read_unaligned() })
    }

    /// The 24-bit LRU clock of the last access.
    pub fn lru(&self) -> u32 {
        // SAFETY: bytes 1..4 are the LRU clock.
        unsafe {
            let p = self.ptr.as_ptr();
            u32::from_le_bytes([p.add(1).read(), p.add(2).read(), p.add(3).read(), 0])
        }
    }

    /// Bytes allocated for this entry.
    pub fn alloc_size(&self) -> usize {
        self.shape().size()
    }
}

/// In-place changes to an entry owned by the table; callers hold `&mut` of the table.
pub struct Mut {
    ptr: NonNull<u8>,
}

impl Mut {
    /// Mutable access to the entry at `ptr`.
    ///
    /// # Safety
    /// `ptr` is a live entry and the caller has exclusive access to it.
    pub unsafe fn from_ptr(ptr: NonNull<u8>) -> Mut {
        Mut { ptr }
    }

    fn view(&self) -> View<'_> {
        View {
            ptr: self.ptr,
            _life: std::marker::PhantomData,
        }
    }

    /// Records an access.
    pub fn set_lru(&mut self, lru: u32) {
        // SAFETY: bytes 1..4 are the LRU clock.
        unsafe { write_lru(self.ptr.as_ptr(), lru) }
    }

    /// Changes an existing expiry (the entry must already carry one).
    pub fn set_expire_in_place(&mut self, at: i64) -> bool {
        let s = self.view().shape();
        if s.flags & HAS_EXPIRE == 0 {
            return false;
        }
        // SAFETY: the field exists when HAS_EXPIRE is set.
        unsafe { (self.ptr.as_ptr().add(s.expire_off()) as *mut i64).write_unaligned(at) };
        true
    }

    /// Writes `data` at `offset` of the value, zero-filling any gap and making the value raw,
    /// if the result fits the allocation. Returns false, changing nothing, if it does not.
    pub fn write_at(&mut self, offset: usize, data: &[u8]) -> bool {
        let s = self.view().shape();
        let Some(end) = offset.checked_add(data.len()) else {
            return false;
        };
        if end > s.cap {
            return false;
        }
        let new_len = end.max(s.val_len);
        // SAFETY: every write is below val_off + cap, inside the allocation.
        unsafe {
            let p = self.ptr.as_ptr();
            let val = p.add(s.val_off());
            if offset > s.val_len {
                std::ptr::write_bytes(val.add(s.val_len), 0, offset - s.val_len);
            }
            std::ptr::copy_nonoverlapping(data.as_ptr(), val.add(offset), data.len());
            (p.add(8) as *mut u32).write_unaligned(new_len as u32);
            p.write(
                (s.flags & !(ENC_MASK | SHARED)) | ((Encoding::Raw.bits() << ENC_SHIFT) & ENC_MASK),
            );
        }
        true
    }

    /// Overwrites the value if it fits in the allocation (same length, or within spare room),
    /// setting its encoding. Returns false, changing nothing, if it does not fit.
    pub fn set_value_in_place(&mut self, value: &[u8], encoding: Encoding) -> bool {
        let s = self.view().shape();
        if value.len() > s.cap || (s.flags & HAS_SPARE == 0 && value.len() != s.val_len) {
            return false;
        }
        // SAFETY: the value region holds `cap` bytes; the header fields are in bounds.
        unsafe {
            let p = self.ptr.as_ptr();
            std::ptr::copy(value.as_ptr(), p.add(s.val_off()), value.len());
            (p.add(8) as *mut u32).write_unaligned(value.len() as u32);
            let mut flags =
                (s.flags & !(ENC_MASK | SHARED)) | ((encoding.bits() << ENC_SHIFT) & ENC_MASK);
            if is_shared_int(value, encoding) {
                flags |= SHARED;
            }
            p.write(flags);
        }
        true
    }
}

/// The keyspace's entries, as the [`Table`](crate::table::Table) sees them.
pub struct KeyspaceEntry;

// SAFETY: the table only passes pointers obtained from `Entry::into_raw`.
unsafe impl TableEntry for KeyspaceEntry {
    unsafe fn key<'a>(ptr: NonNull<u8>) -> &'a [u8] {
        View::from_ptr(ptr).key()
    }

    unsafe fn free(ptr: NonNull<u8>) {
        drop(Entry::from_raw(ptr));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn make(key: &[u8], value: &[u8], expire: Option<i64>, spare: usize) -> Entry {
        Entry::new_string(NewString {
            key,
            value,
            encoding: Encoding::for_value(value),
            expire,
            spare,
            lru: 0x00ab_cdef,
        })
    }

    #[test]
    fn layout_round_trips() {
        for expire in [None, Some(-5), Some(i64::MAX)] {
            for spare in [0, 7] {
                let e = make(b"key", b"value", expire, spare);
                let v = e.view();
                assert_eq!(v.key(), b"key");
                assert_eq!(v.value(), b"value");
                assert_eq!(v.expire(), expire);
                assert_eq!(v.lru(), 0x00ab_cdef);
                assert_eq!(v.spare(), spare);
                assert_eq!(v.encoding(), Encoding::Embstr);
            }
        }
        let e = make(b"", b"", None, 0);
        assert_eq!((e.view().key(), e.view().value()), (&b""[..], &b""[..]));
    }

    #[test]
    fn in_place_updates() {
        let e = make(b"k", b"12", Some(10), 0);
        let p = e.into_raw();
        let mut m = unsafe { Mut::from_ptr(p) };
        assert!(m.set_value_in_place(b"34", Encoding::Int));
        assert!(!m.set_value_in_place(b"345", Encoding::Int));
        assert!(m.set_expire_in_place(20));
        m.set_lru(7);
        let e = unsafe { Entry::from_raw(p) };
        assert_eq!(
            (e.view().value(), e.view().expire(), e.view().lru()),
            (&b"34"[..], Some(20), 7)
        );
        let e = make(b"k", b"ab", None, 4);
        let p = e.into_raw();
        let mut m = unsafe { Mut::from_ptr(p) };
        assert!(m.set_value_in_place(b"abcdef", Encoding::Raw));
        assert!(!m.set_value_in_place(b"abcdefg", Encoding::Raw));
        let e = unsafe { Entry::from_raw(p) };
        assert_eq!(e.view().value(), b"abcdef");
        assert_eq!(e.view().spare(), 0);
    }

    #[test]
    fn encodings() {
        assert_eq!(Encoding::for_value(b"123"), Encoding::Int);
        assert_eq!(Encoding::for_value(b"-9223372036854775808"), Encoding::Int);
        assert_eq!(Encoding::for_value(b"0123"), Encoding::Embstr);
        assert_eq!(Encoding::for_value(&[b'a'; 44]), Encoding::Embstr);
        assert_eq!(Encoding::for_value(&[b'a'; 45]), Encoding::Raw);
    }
}
