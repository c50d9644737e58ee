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
//! All unsafe code of the keyspace's memory layout lives in this file.

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
        // SAFETY: a live entry starts with a complete header, and its extension block (if
        // any) starts with its flag byte.
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
            let mut s = Shape {
                flags,
                key_len,
                val_len,
                cap,
                ext_len: 0,
            };
            if flags & HAS_EXT != 0 {
                s.ext_len = Ext::size_for(p.add(s.ext_off()).read());
            }
            s
        }
    }

    fn kind(&self) -> u8 {
        // SAFETY: byte 0 of a live entry is its flags.
        unsafe { self.ptr.as_ptr().read() & KIND_MASK }
    }

    /// Where the entry lives in memory (DEBUG OBJECT prints it).
    pub fn address(&self) -> *const u8 {
        self.ptr.as_ptr()
    }

    /// The entry's kind (see [`kind`]).
    pub fn entry_kind(&self) -> u8 {
        self.kind()
    }

    /// The key.
    pub fn key(&self) -> &'a [u8] {
        let s = self.shape();
        // SAFETY: the key lies at key_off within the allocation.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr().add(s.key_off()), s.key_len) }
    }

    /// The value region's bytes (inline values; for boxed ones, the pointer's bytes).
    fn value_region(&self) -> &'a [u8] {
        let s = self.shape();
        // SAFETY: the value lies at val_off within the allocation.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr().add(s.val_off()), s.val_len) }
    }

    fn boxed_ptr(&self) -> NonNull<u8> {
        let s = self.shape();
        // SAFETY: boxed kinds hold an 8-byte non-null pointer at val_off.
        unsafe {
            let addr = (self.ptr.as_ptr().add(s.val_off()) as *const usize).read_unaligned();
            NonNull::new_unchecked(addr as *mut u8)
        }
    }

    /// The string value; empty for other types (callers check [`View::value_type`] first).
    pub fn value(&self) -> &'a [u8] {
        match self.kind() {
            kind::RAW | kind::EMBSTR | kind::INT | kind::INT_SHARED => self.value_region(),
            kind::BIG_STRING => {
                // SAFETY: the pointer is a live Box<Vec<u8>> owned by this entry.
                unsafe { &*self.boxed_ptr().cast::<Vec<u8>>().as_ptr() }
            }
            _ => &[],
        }
    }

    /// Spare bytes after an inline string value.
    pub fn spare(&self) -> usize {
        let s = self.shape();
        s.cap - s.val_len
    }

    /// The value's type.
    pub fn value_type(&self) -> ValueType {
        ValueType::of_kind(self.kind())
    }

    /// The string's encoding (collections report theirs with [`View::encoding_name`]).
    pub fn encoding(&self) -> Encoding {
        match self.kind() {
            kind::EMBSTR => Encoding::Embstr,
            kind::INT | kind::INT_SHARED => Encoding::Int,
            _ => Encoding::Raw,
        }
    }

    /// What `OBJECT ENCODING` prints for this value, of any type.
    pub fn encoding_name(&self) -> &'static str {
        let k = self.kind();
        if ValueType::of_kind(k) == ValueType::String {
            return self.encoding().name();
        }
        if is_boxed(k) {
            let ptr = self.boxed_ptr();
            // SAFETY: the pointer is a live box of the kind's type.
            return with_boxed_type!(k, T => unsafe { (*ptr.cast::<T>().as_ptr()).encoding() }, else "raw");
        }
        match k {
            kind::LIST_PACKED => types::list::INLINE_ENCODING,
            kind::SET_INTSET => "intset",
            kind::SET_PACKED => types::set::PACKED_ENCODING,
            _ => "listpack",
        }
    }

    /// True for a shared integer (see the module doc).
    pub fn is_shared(&self) -> bool {
        self.kind() == kind::INT_SHARED
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

    /// The extension fields.
    pub fn ext(&self) -> Ext {
        let s = self.shape();
        if s.flags & HAS_EXT == 0 {
            return Ext::default();
        }
        // SAFETY: the extension block exists when HAS_EXT is set; its flag byte says which
        // fields follow, and `shape` sized it from that byte.
        unsafe {
            let mut e = self.ptr.as_ptr().add(s.ext_off());
            let bits = e.read();
            e = e.add(1);
            let mut ext = Ext::default();
            if bits & EXT_MC != 0 {
                ext.mc = Some((
                    (e as *const u32).read_unaligned(),
                    (e.add(4) as *const u64).read_unaligned(),
                ));
                e = e.add(12);
            }
            if bits & EXT_VERSION != 0 {
                ext.version = Some((e as *const u64).read_unaligned());
            }
            ext
        }
    }

    /// The 24-bit LRU clock of the last access.
    pub fn lru(&self) -> u32 {
        // SAFETY: bytes 1..4 are the LRU clock.
        unsafe {
            let p = self.ptr.as_ptr();
            u32::from_le_bytes([p.add(1).read(), p.add(2).read(), p.add(3).read(), 0])
        }
    }

    /// A read view of the collection of type `T`, or `None` if the value is another type.
    pub fn collection<T: Kind>(&self) -> Option<T::Ref<'a>> {
        let k = self.kind();
        if k == T::BOXED {
            // SAFETY: T::BOXED entries hold a live Box<T> owned by this entry, borrowed for 'a.
            let v: &'a T = unsafe { &*self.boxed_ptr().cast::<T>().as_ptr() };
            Some(v.as_ref())
        } else if T::is_inline_kind(k) {
            Some(T::inline_ref(k, self.value_region()))
        } else {
            None
        }
    }

    /// A copy of this entry under `key` (COPY): the value is cloned by type, the TTL kept,
    /// the extension fields dropped.
    pub fn clone_entry(&self, key: &[u8], lru: u32) -> Entry {
        let v = *self;
        let s = v.shape();
        let k = s.kind();
        let body = if k == kind::BIG_STRING {
            let copy: Vec<u8> = v.value().to_vec();
            Body::Boxed(NonNull::from(Box::leak(Box::new(copy))).cast())
        } else if is_boxed(k) {
            let ptr = v.boxed_ptr();
            // SAFETY: a boxed kind's value region holds a live pointer to its boxed type.
            let copy = with_boxed_type!(k, T => unsafe {
                NonNull::from(Box::leak(Box::new((*ptr.cast::<T>().as_ptr()).clone()))).cast()
            }, else ptr);
            Body::Boxed(copy)
        } else {
            Body::Inline(v.value_region(), 0)
        };
        // A copy of a shared integer is a fresh object in redis-server.
        let k = if k == kind::INT_SHARED { kind::INT } else { k };
        Entry::build(Parts {
            kind: k,
            key,
            body,
            expire: v.expire(),
            lru,
            ext: Ext::default(),
        })
    }

    /// Number of elements of a collection (1 for a string).
    pub fn elements(&self) -> usize {
        let k = self.kind();
        if is_boxed(k) && k != kind::BIG_STRING {
            let ptr = self.boxed_ptr();
            // SAFETY: the pointer is a live box of the kind's type.
            return with_boxed_type!(k, T => unsafe { (*ptr.cast::<T>().as_ptr()).len() }, else 1);
        }
        match ValueType::of_kind(k) {
            ValueType::String => 1,
            _ => types::inline_len(k, self.value_region()),
        }
    }

    /// Bytes this entry accounts for: its allocation and any boxed value's heap.
    pub fn alloc_size(&self) -> usize {
        let s = self.shape();
        let k = s.kind();
        let boxed = if k == kind::BIG_STRING {
            // SAFETY: the pointer is a live Box<Vec<u8>>.
            24 + unsafe { (*self.boxed_ptr().cast::<Vec<u8>>().as_ptr()).capacity() }
        } else if is_boxed(k) {
            let ptr = self.boxed_ptr();
            // SAFETY: the pointer is a live box of the kind's type.
            with_boxed_type!(k, T => std::mem::size_of::<T>() + unsafe { (*ptr.cast::<T>().as_ptr()).heap_bytes() }, else 0)
        } else {
            0
        };
        s.size() + boxed
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

    fn big_string(&mut self) -> Option<&mut Vec<u8>> {
        let v = self.view();
        if v.kind() != kind::BIG_STRING {
            return None;
        }
        // SAFETY: the pointer is a live Box<Vec<u8>> owned by this entry, and `&mut self`
        // is exclusive.
        Some(unsafe { &mut *v.boxed_ptr().cast::<Vec<u8>>().as_ptr() })
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

    fn set_kind(&mut self, k: u8) {
        // SAFETY: byte 0 is the flags; only the kind bits change.
        unsafe {
            let p = self.ptr.as_ptr();
            p.write((p.read() & !KIND_MASK) | k);
        }
    }

    /// Writes `data` at `offset` of a string value, zero-filling any gap and making the
    /// value raw, if the result fits the allocation (a boxed string always grows in place).
    /// Returns false, changing nothing, if it does not fit.
    pub fn write_at(&mut self, offset: usize, data: &[u8]) -> bool {
        let Some(end) = offset.checked_add(data.len()) else {
            return false;
        };
        if let Some(v) = self.big_string() {
            if v.len() < end {
                if end > v.capacity() {
                    // sds's greedy growth: double below 1 MiB, then 1 MiB more.
                    let want = if end < 1 << 20 {
                        end * 2
                    } else {
                        end + (1 << 20)
                    };
                    v.reserve_exact(want.min(MAX_LEN) - v.len());
                }
                v.resize(end, 0);
            }
            v[offset..end].copy_from_slice(data);
            return true;
        }
        let s = self.view().shape();
        if end > s.cap || ValueType::of_kind(s.kind()) != ValueType::String {
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
        }
        self.set_kind(kind::RAW);
        true
    }

    /// Overwrites a string value if it fits in the allocation (same length, or within spare
    /// room), setting its encoding. Returns false, changing nothing, if it does not fit.
    pub fn set_value_in_place(&mut self, value: &[u8], encoding: Encoding) -> bool {
        if let Some(v) = self.big_string() {
            // A boxed string stays boxed only while it is big.
            if value.len() <= BIG_STRING || value.len() > v.capacity() {
                return false;
            }
            v.clear();
            v.extend_from_slice(value);
            return true;
        }
        let s = self.view().shape();
        if ValueType::of_kind(s.kind()) != ValueType::String
            || value.len() > s.cap
            || (s.flags & HAS_SPARE == 0 && value.len() != s.val_len)
        {
            return false;
        }
        // SAFETY: the value region holds `cap` bytes; the header fields are in bounds.
        unsafe {
            let p = self.ptr.as_ptr();
            std::ptr::copy(value.as_ptr(), p.add(s.val_off()), value.len());
            (p.add(8) as *mut u32).write_unaligned(value.len() as u32);
        }
        self.set_kind(encoding.kind(value));
        true
    }

    /// Takes a boxed collection of type `T` out of the entry, leaving its value region
    /// dangling until [`Mut::put_boxed`] (or [`Entry::free_shell`]) — the caller must do
    /// one of them before the entry is dropped or read.
    unsafe fn take_boxed<T: Kind>(&mut self) -> Box<T> {
        Box::from_raw(self.view().boxed_ptr().cast::<T>().as_ptr())
    }

    /// Puts a box back into an entry of kind `T::BOXED` whose box was taken.
    unsafe fn put_boxed<T: Kind>(&mut self, value: Box<T>) {
        let s = self.view().shape();
        let addr = NonNull::from(Box::leak(value)).as_ptr() as usize;
        (self.ptr.as_ptr().add(s.val_off()) as *mut usize).write_unaligned(addr);
    }
}

/// A collection taken out of its entry to be edited: the entry's own copy (inline bytes
/// copied out) or its box (moved out). Put back with [`TakenValue::restore`].
pub enum TakenValue<T> {
    /// Copied from inline bytes; the entry still holds the old bytes.
    Inline(T),
    /// Moved out of a boxed entry; the entry's pointer dangles until restored.
    Boxed(Box<T>),
}

impl<T> std::ops::Deref for TakenValue<T> {
    type Target = T;
    fn deref(&self) -> &T {
        match self {
            TakenValue::Inline(v) => v,
            TakenValue::Boxed(b) => b,
        }
    }
}

impl<T> std::ops::DerefMut for TakenValue<T> {
    fn deref_mut(&mut self) -> &mut T {
        match self {
            TakenValue::Inline(v) => v,
            TakenValue::Boxed(b) => b,
        }
    }
}

/// What putting an edited value back did to the entry.
pub enum Restored {
    /// The entry was changed in place (same pointer).
    InPlace,
    /// A new entry replaces the old one, which has been freed.
    Replaced(Entry),
}

impl<T: Kind> TakenValue<T> {
    /// Takes the collection of type `T` out of the entry at `ptr`, or `None` if it holds
    /// another type.
    ///
    /// # Safety
    /// `ptr` is a live entry the caller has exclusive access to until it calls
    /// [`TakenValue::restore`] or [`TakenValue::discard`] with the same pointer; nothing may
    /// read or drop the entry meanwhile.
    pub unsafe fn take(ptr: NonNull<u8>) -> Option<TakenValue<T>> {
        let mut m = Mut::from_ptr(ptr);
        let k = m.view().kind();
        if k == T::BOXED {
            Some(TakenValue::Boxed(m.take_boxed::<T>()))
        } else if T::is_inline_kind(k) {
            Some(TakenValue::Inline(T::from_inline(
                k,
                m.view().value_region(),
            )))
        } else {
            None
        }
    }

    /// Puts the edited value back into the entry at `ptr` it was taken from: in place when
    /// its form did not change, otherwise by building a new entry, which the caller must
    /// swap in for the old one (whose allocation this frees).
    ///
    /// # Safety
    /// `ptr` is the entry this value was taken from, still exclusively held.
    pub unsafe fn restore(self, ptr: NonNull<u8>) -> Restored {
        let mut m = Mut::from_ptr(ptr);
        let v = m.view();
        let (key, expire, lru, ext) = (v.key(), v.expire(), v.lru(), v.ext());
        let was_boxed = v.kind() == T::BOXED;
        let old = || Entry::from_raw(ptr);
        match self {
            TakenValue::Boxed(b) => match b.as_inline() {
                None => {
                    m.put_boxed(b);
                    Restored::InPlace
                }
                Some((k, bytes)) => {
                    let e = Entry::build(Parts {
                        kind: k,
                        key,
                        body: Body::Inline(bytes, 0),
                        expire,
                        lru,
                        ext,
                    });
                    old().free_shell();
                    Restored::Replaced(e)
                }
            },
            TakenValue::Inline(value) => {
                debug_assert!(!was_boxed);
                let e = match value.as_inline() {
                    Some((k, bytes)) => Entry::build(Parts {
                        kind: k,
                        key,
                        body: Body::Inline(bytes, 0),
                        expire,
                        lru,
                        ext,
                    }),
                    None => Entry::new_boxed(key, Box::new(value), expire, lru, ext),
                };
                // The inline bytes were copied; the old entry owns nothing else.
                drop(old());
                Restored::Replaced(e)
            }
        }
    }

    /// Drops the value and the entry it came from (the collection became empty).
    ///
    /// # Safety
    /// As for [`TakenValue::restore`]; the caller then forgets the entry's pointer.
    pub unsafe fn discard(self, ptr: NonNull<u8>) {
        let old = Entry::from_raw(ptr);
        match self {
            TakenValue::Boxed(b) => {
                drop(b);
                old.free_shell();
            }
            TakenValue::Inline(v) => {
                drop(v);
                drop(old);
            }
        }
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
                assert_eq!(v.value_type(), ValueType::String);
                assert_eq!(v.ext(), Ext::default());
            }
        }
        let e = make(b"", b"", None, 0);
        assert_eq!((e.view().key(), e.view().value()), (&b""[..], &b""[..]));
    }

    #[test]
    fn extension_fields_round_trip() {
        for ext in [
            Ext {
                mc: Some((0xdead_beef, u64::MAX - 3)),
                version: None,
            },
            Ext {
                mc: None,
                version: Some(42),
            },
            Ext {
                mc: Some((1, 2)),
                version: Some(3),
            },
        ] {
            for expire in [None, Some(77)] {
                let n = NewString {
                    key: b"k",
                    value: b"v",
                    encoding: Encoding::Embstr,
                    expire,
                    spare: 3,
                    lru: 9,
                };
                let e = Entry::new_string_ext(n, ext);
                let v = e.view();
                assert_eq!(
                    (v.key(), v.value(), v.expire(), v.ext()),
                    (&b"k"[..], &b"v"[..], expire, ext)
                );
                // Moving the value to a new key keeps the extension fields.
                let e = e.rekey(b"other");
                assert_eq!((e.view().key(), e.view().ext()), (&b"other"[..], ext));
            }
        }
        // A plain string pays nothing for the room.
        let plain = make(b"k", b"v", None, 0);
        assert_eq!(plain.view().alloc_size(), HEADER + 2);
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
        assert!(e.view().is_shared());
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
    fn big_strings_are_boxed_and_grow_in_place() {
        let big = vec![b'x'; BIG_STRING + 1];
        let e = make(b"k", &big, None, 0);
        assert_eq!(e.view().entry_kind(), kind::BIG_STRING);
        assert_eq!(e.view().value(), &big[..]);
        assert_eq!(e.view().encoding_name(), "raw");
        let p = e.into_raw();
        let mut m = unsafe { Mut::from_ptr(p) };
        assert!(m.write_at(big.len() + 10, b"tail"));
        let e = unsafe { Entry::from_raw(p) };
        let v = e.view().value();
        assert_eq!(v.len(), big.len() + 14);
        assert_eq!(&v[big.len()..big.len() + 10], &[0; 10]);
        assert_eq!(&v[v.len() - 4..], b"tail");
        let copy = e.clone_as(b"copy", 0);
        assert_eq!(copy.view().value(), e.view().value());
        let moved = e.rekey(b"moved");
        assert_eq!(moved.view().value(), copy.view().value());
        assert_eq!(moved.view().key(), b"moved");
    }

    #[test]
    fn encodings() {
        assert_eq!(Encoding::for_value(b"123"), Encoding::Int);
        assert_eq!(Encoding::for_value(b"-9223372036854775808"), Encoding::Int);
        assert_eq!(Encoding::for_value(b"0123"), Encoding::Embstr);
        assert_eq!(Encoding::for_value(&[b'a'; 44]), Encoding::Embstr);
        assert_eq!(Encoding::for_value(&[b'a'; 45]), Encoding::Raw);
        assert!(make(b"k", b"9999", None, 0).view().is_shared());
        assert!(!make(b"k", b"10000", None, 0).view().is_shared());
        assert!(!make(b"k", b"9999", None, 0)
            .clone_as(b"c", 0)
            .view()
            .is_shared());
    }
}
