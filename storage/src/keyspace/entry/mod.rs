//! [`Entry`]: one key and its value in a single allocation.
//!
//! ```text
//! ┌───────┬────────┬─────────┬─────────┬────────────┬─────────────┬───────────┬─────┬───────┐
//! │ flags │ lru 24 │ key_len │ val_len │ [cap u32]  │ [expire i64]│ [ext]     │ key │ value │
//! │  u8   │  bits  │   u32   │   u32   │ HAS_SPARE  │ HAS_EXPIRE  │ HAS_EXT   │     │       │
//! └───────┴────────┴─────────┴─────────┴────────────┴─────────────┴───────────┴─────┴───────┘
//! ```
//!
//! Twelve bytes of header for a key without TTL (twenty with one), against redis-server's
//! 16-byte object header, two sds headers and a 24-byte dict entry (DESIGN decision 12).
//!
//! **Flags.** The low four bits are the entry's [`kind`]: what the value region holds. Strings
//! carry their `OBJECT ENCODING` in the kind (raw, embstr, int, and int "shared" — redis-server
//! keeps 0..9999 as shared objects, which `OBJECT REFCOUNT` reports as 2147483647). A small
//! collection is held **inline**: its packed bytes are the value region, so a hash of ten
//! short fields is one allocation with its key, as a string is. A big collection, a stream and
//! a string over [`BIG_STRING`] bytes are **boxed**: the value region is an 8-byte pointer to
//! the owned value, so RENAME and MOVE move it without copying it. The other bits say which
//! optional header fields follow.
//!
//! **LRU.** 24 bits of Redis's one-second LRU clock; under an LFU policy Redis reads the same
//! 24 bits as 16 bits of decay time (minutes) and an 8-bit logarithmic counter, and so will
//! cachegate: the field is the policy's, no room needs adding.
//!
//! **Extension** (`HAS_EXT`): one flag byte and the fields it announces — memcached flags and
//! CAS for the shared keyspace, a snapshot version for the forkless snapshot — so later
//! features get room without growing a plain string entry.
//!
//! Strings that grow by `APPEND` or `SETRANGE` get spare room (`cap`), doubling like an sds
//! string so repeated appends stay amortised O(1).
//!
//! All unsafe code of the keyspace's memory layout lives in this module: the layout here,
//! taking a collection out of its entry and putting it back in [`taken`].

use std::alloc::{alloc, dealloc, Layout};
use std::ptr::NonNull;

use crate::table::TableEntry;
use crate::types::{self, Collection};

/// Entry kinds: what an entry's value region holds (the low four flag bits).
pub mod kind {
    /// A string, `raw` encoding, inline.
    pub const RAW: u8 = 0;
    /// A string, `embstr`, inline.
    pub const EMBSTR: u8 = 1;
    /// A string, `int`, inline.
    pub const INT: u8 = 2;
    /// A string, `int`, one redis-server would share (0..9999).
    pub const INT_SHARED: u8 = 3;
    /// A string over [`super::BIG_STRING`] bytes, `raw`, boxed `Vec<u8>`.
    pub const BIG_STRING: u8 = 4;
    /// A list in one packed node, inline.
    pub const LIST_PACKED: u8 = 5;
    /// A list of packed nodes, boxed.
    pub const LIST: u8 = 6;
    /// A set of integers, inline.
    pub const SET_INTSET: u8 = 7;
    /// A small set of strings, inline.
    pub const SET_PACKED: u8 = 8;
    /// A set, boxed.
    pub const SET: u8 = 9;
    /// A small sorted set, inline.
    pub const ZSET_PACKED: u8 = 10;
    /// A sorted set, boxed.
    pub const ZSET: u8 = 11;
    /// A small hash, inline.
    pub const HASH_PACKED: u8 = 12;
    /// A hash, boxed.
    pub const HASH: u8 = 13;
    /// A stream, boxed.
    pub const STREAM: u8 = 14;
}

const KIND_MASK: u8 = 0b0000_1111;
const HAS_EXPIRE: u8 = 1 << 4;
const HAS_SPARE: u8 = 1 << 5;
const HAS_EXT: u8 = 1 << 6;
const HEADER: usize = 12;
const ALIGN: usize = 8;

/// Strings longer than this are boxed (RENAME moves them instead of copying them).
pub const BIG_STRING: usize = 4096;

/// Extension flag: memcached flags (u32) and CAS (u64) follow.
const EXT_MC: u8 = 1 << 0;
/// Extension flag: a snapshot version (u64) follows.
const EXT_VERSION: u8 = 1 << 1;

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
    /// The entry kind of an inline string of this encoding.
    fn kind(self, value: &[u8]) -> u8 {
        match self {
            Encoding::Raw => kind::RAW,
            Encoding::Embstr => kind::EMBSTR,
            Encoding::Int if is_shared_int(value) => kind::INT_SHARED,
            Encoding::Int => kind::INT,
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

/// True if redis-server would hold this integer value as one of its shared objects.
fn is_shared_int(value: &[u8]) -> bool {
    matches!(
        cachegate_protocols::number::parse_i64(value),
        Some(0..=9999)
    )
}

/// The type of a stored value (`TYPE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValueType {
    /// A string.
    String,
    /// A list.
    List,
    /// A set.
    Set,
    /// A sorted set.
    ZSet,
    /// A hash.
    Hash,
    /// A stream.
    Stream,
}

impl ValueType {
    /// The name `TYPE` prints.
    pub fn name(self) -> &'static str {
        match self {
            ValueType::String => "string",
            ValueType::List => "list",
            ValueType::Set => "set",
            ValueType::ZSet => "zset",
            ValueType::Hash => "hash",
            ValueType::Stream => "stream",
        }
    }

    fn of_kind(k: u8) -> ValueType {
        match k {
            kind::LIST_PACKED | kind::LIST => ValueType::List,
            kind::SET_INTSET | kind::SET_PACKED | kind::SET => ValueType::Set,
            kind::ZSET_PACKED | kind::ZSET => ValueType::ZSet,
            kind::HASH_PACKED | kind::HASH => ValueType::Hash,
            kind::STREAM => ValueType::Stream,
            _ => ValueType::String,
        }
    }
}

/// A collection type as the keyspace stores it: which entry kinds hold it, how to read it
/// where it lies, and how to take it out and put it back. Implemented by each type in
/// [`crate::types`].
pub trait Kind: Collection + Sized + 'static {
    /// What `TYPE` says.
    const TYPE: ValueType;
    /// The entry kind of the boxed (big) form.
    const BOXED: u8;
    /// A read-only view, of either form.
    type Ref<'a>: Copy;
    /// True if `k` is one of this type's inline kinds.
    fn is_inline_kind(k: u8) -> bool;
    /// A view of an inline value's bytes.
    fn inline_ref(k: u8, bytes: &[u8]) -> Self::Ref<'_>;
    /// A view of an owned value (either form).
    fn as_ref(&self) -> Self::Ref<'_>;
    /// An owned copy of an inline value, to edit.
    fn from_inline(k: u8, bytes: &[u8]) -> Self;
    /// The inline form, if the value is small enough to be held inline: its kind and bytes.
    fn as_inline(&self) -> Option<(u8, &[u8])>;
}

/// Runs `$body` with `$T` bound to the boxed type of boxed kind `$k` (strings excluded).
macro_rules! with_boxed_type {
    ($k:expr, $T:ident => $body:expr, else $other:expr) => {
        match $k {
            kind::LIST => {
                type $T = types::List;
                $body
            }
            kind::SET => {
                type $T = types::Set;
                $body
            }
            kind::ZSET => {
                type $T = types::ZSet;
                $body
            }
            kind::HASH => {
                type $T = types::Hash;
                $body
            }
            kind::STREAM => {
                type $T = types::Stream;
                $body
            }
            _ => $other,
        }
    };
}

fn is_boxed(k: u8) -> bool {
    matches!(
        k,
        kind::BIG_STRING | kind::LIST | kind::SET | kind::ZSET | kind::HASH | kind::STREAM
    )
}

/// Optional extension fields (see the module doc).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ext {
    /// memcached client flags and CAS unique, for keys written through the shared keyspace.
    pub mc: Option<(u32, u64)>,
    /// The snapshot version the entry was last written in.
    pub version: Option<u64>,
}

impl Ext {
    fn is_empty(&self) -> bool {
        self.mc.is_none() && self.version.is_none()
    }

    fn bits(&self) -> u8 {
        (if self.mc.is_some() { EXT_MC } else { 0 })
            | (if self.version.is_some() {
                EXT_VERSION
            } else {
                0
            })
    }

    fn size_for(bits: u8) -> usize {
        1 + if bits & EXT_MC != 0 { 12 } else { 0 } + if bits & EXT_VERSION != 0 { 8 } else { 0 }
    }
}

/// Sizes of the variable parts, read from a header.
#[derive(Clone, Copy)]
struct Shape {
    flags: u8,
    key_len: usize,
    val_len: usize,
    cap: usize,
    ext_len: usize,
}

impl Shape {
    fn expire_off(&self) -> usize {
        HEADER + if self.flags & HAS_SPARE != 0 { 4 } else { 0 }
    }
    fn ext_off(&self) -> usize {
        self.expire_off() + if self.flags & HAS_EXPIRE != 0 { 8 } else { 0 }
    }
    fn key_off(&self) -> usize {
        self.ext_off() + self.ext_len
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
    fn kind(&self) -> u8 {
        self.flags & KIND_MASK
    }
}

/// An owned keyspace entry. The table stores it as a raw pointer ([`Entry::into_raw`]).
pub struct Entry {
    ptr: NonNull<u8>,
}

// SAFETY: an Entry exclusively owns its allocation and the value it points to, all of
// which are plain data.
unsafe impl Send for Entry {}

/// Options for building a string entry.
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

/// What the value region of a new entry holds.
enum Body<'a> {
    /// Bytes copied in, with `spare` more bytes of room.
    Inline(&'a [u8], usize),
    /// A pointer to a boxed value (ownership moves to the entry).
    Boxed(NonNull<u8>),
}

/// The parts of a new entry.
struct Parts<'a> {
    kind: u8,
    key: &'a [u8],
    body: Body<'a>,
    expire: Option<i64>,
    lru: u32,
    ext: Ext,
}

impl Entry {
    fn build(p: Parts<'_>) -> Entry {
        let (val_len, cap) = match p.body {
            Body::Inline(v, spare) => {
                let cap = v.len().saturating_add(spare).min(MAX_LEN);
                (v.len().min(cap), cap)
            }
            Body::Boxed(_) => (8, 8),
        };
        let mut flags = p.kind & KIND_MASK;
        if p.expire.is_some() {
            flags |= HAS_EXPIRE;
        }
        if cap > val_len {
            flags |= HAS_SPARE;
        }
        let ext_bits = p.ext.bits();
        if !p.ext.is_empty() {
            flags |= HAS_EXT;
        }
        let shape = Shape {
            flags,
            key_len: p.key.len().min(MAX_LEN),
            val_len,
            cap,
            ext_len: if ext_bits != 0 {
                Ext::size_for(ext_bits)
            } else {
                0
            },
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
            let b = ptr.as_ptr();
            b.write(flags);
            write_lru(b, p.lru);
            (b.add(4) as *mut u32).write_unaligned(shape.key_len as u32);
            (b.add(8) as *mut u32).write_unaligned(shape.val_len as u32);
            if flags & HAS_SPARE != 0 {
                (b.add(HEADER) as *mut u32).write_unaligned(cap as u32);
            }
            if let Some(at) = p.expire {
                (b.add(shape.expire_off()) as *mut i64).write_unaligned(at);
            }
            if ext_bits != 0 {
                let mut e = b.add(shape.ext_off());
                e.write(ext_bits);
                e = e.add(1);
                if let Some((flags, cas)) = p.ext.mc {
                    (e as *mut u32).write_unaligned(flags);
                    (e.add(4) as *mut u64).write_unaligned(cas);
                    e = e.add(12);
                }
                if let Some(v) = p.ext.version {
                    (e as *mut u64).write_unaligned(v);
                }
            }
            std::ptr::copy_nonoverlapping(p.key.as_ptr(), b.add(shape.key_off()), shape.key_len);
            match p.body {
                Body::Inline(v, _) => {
                    std::ptr::copy_nonoverlapping(v.as_ptr(), b.add(shape.val_off()), val_len)
                }
                Body::Boxed(q) => {
                    (b.add(shape.val_off()) as *mut usize).write_unaligned(q.as_ptr() as usize)
                }
            }
        }
        Entry { ptr }
    }

    /// Allocates an entry holding a string. Lengths must not exceed [`MAX_LEN`]. A value
    /// (with its spare room) over [`BIG_STRING`] bytes is boxed.
    pub fn new_string(n: NewString<'_>) -> Entry {
        Entry::new_string_ext(n, Ext::default())
    }

    /// [`Entry::new_string`] with extension fields.
    pub fn new_string_ext(n: NewString<'_>, ext: Ext) -> Entry {
        let total = n.value.len().saturating_add(n.spare);
        let (k, body) = if total > BIG_STRING {
            let mut v = Vec::with_capacity(total.min(MAX_LEN));
            v.extend_from_slice(n.value);
            let boxed = NonNull::from(Box::leak(Box::new(v))).cast();
            (kind::BIG_STRING, Body::Boxed(boxed))
        } else {
            (n.encoding.kind(n.value), Body::Inline(n.value, n.spare))
        };
        Entry::build(Parts {
            kind: k,
            key: n.key,
            body,
            expire: n.expire,
            lru: n.lru,
            ext,
        })
    }

    /// An entry holding collection `value`, inline if it is small enough.
    pub fn new_value<T: Kind>(key: &[u8], value: T, expire: Option<i64>, lru: u32) -> Entry {
        match value.as_inline() {
            Some((k, bytes)) => Entry::build(Parts {
                kind: k,
                key,
                body: Body::Inline(bytes, 0),
                expire,
                lru,
                ext: Ext::default(),
            }),
            None => Entry::new_boxed(key, Box::new(value), expire, lru, Ext::default()),
        }
    }

    fn new_boxed<T: Kind>(
        key: &[u8],
        value: Box<T>,
        expire: Option<i64>,
        lru: u32,
        ext: Ext,
    ) -> Entry {
        Entry::build(Parts {
            kind: T::BOXED,
            key,
            body: Body::Boxed(NonNull::from(Box::leak(value)).cast()),
            expire,
            lru,
            ext,
        })
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

    /// Frees the entry's allocation but not a boxed value it points to, whose ownership the
    /// caller has already taken ([`TakenValue`]).
    fn free_shell(self) {
        let layout = self.view().shape().layout();
        let p = self.into_raw();
        // SAFETY: the entry owned this allocation, made with the same layout.
        unsafe { dealloc(p.as_ptr(), layout) };
    }

    /// A copy of this entry under `key` (COPY): see [`View::clone_entry`].
    pub fn clone_as(&self, key: &[u8], lru: u32) -> Entry {
        self.view().clone_entry(key, lru)
    }

    /// This entry's value under another key (RENAME): a boxed value moves without being
    /// copied; an inline one (at most a few KiB) is copied with the new key.
    pub fn rekey(self, key: &[u8]) -> Entry {
        let v = self.view();
        let s = v.shape();
        let body = if is_boxed(s.kind()) {
            Body::Boxed(v.boxed_ptr())
        } else {
            Body::Inline(v.value_region(), 0)
        };
        let e = Entry::build(Parts {
            kind: s.kind(),
            key,
            body,
            expire: v.expire(),
            lru: v.lru(),
            ext: v.ext(),
        });
        // The boxed value now belongs to the new entry.
        self.free_shell();
        e
    }

    /// The same entry with another expiry (the value moves, as in [`Entry::rekey`]).
    pub fn with_expire(self, expire: Option<i64>) -> Entry {
        let v = self.view();
        let s = v.shape();
        let body = if is_boxed(s.kind()) {
            Body::Boxed(v.boxed_ptr())
        } else {
            Body::Inline(v.value_region(), s.cap - s.val_len)
        };
        let e = Entry::build(Parts {
            kind: s.kind(),
            key: v.key(),
            body,
            expire,
            lru: v.lru(),
            ext: v.ext(),
        });
        self.free_shell();
        e
    }
}

impl Drop for Entry {
    fn drop(&mut self) {
        let v = self.view();
        let s = v.shape();
        let k = s.kind();
        if k == kind::BIG_STRING {
            // SAFETY: the value region holds the pointer of a leaked Box<Vec<u8>>.
            drop(unsafe { Box::from_raw(v.boxed_ptr().cast::<Vec<u8>>().as_ptr()) });
        } else if is_boxed(k) {
            let ptr = v.boxed_ptr();
            // SAFETY: a boxed kind's value region holds the pointer of a leaked Box of its type.
            with_boxed_type!(k, T => drop(unsafe { Box::from_raw(ptr.cast::<T>().as_ptr()) }), else ());
        }
        // SAFETY: the entry owns this allocation, made with the same layout.
        unsafe { dealloc(self.ptr.as_ptr(), s.layout()) };
    }
}

unsafe fn write_lru(p: *mut u8, lru: u32) {
    let b = lru.to_le_bytes();
    p.add(1).write(b[0]);
    p.add(2).write(b[1]);
    p.add(3).write(b[2]);
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

mod mutate;
mod taken;
mod view;
pub use mutate::Mut;
pub use taken::{Restored, TakenValue};
pub use view::View;

#[cfg(test)]
mod tests;
