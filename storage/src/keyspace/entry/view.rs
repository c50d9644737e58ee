//! [`View`]: reading an entry in place — its key, string value or collection, TTL,
//! extension fields and size.

use std::ptr::NonNull;

use super::*;

/// A read-only view of an entry in the table.
#[derive(Clone, Copy)]
pub struct View<'a> {
    pub(super) ptr: NonNull<u8>,
    pub(super) _life: std::marker::PhantomData<&'a Entry>,
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

    pub(super) fn shape(&self) -> Shape {
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

    pub(super) fn kind(&self) -> u8 {
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
    pub(super) fn value_region(&self) -> &'a [u8] {
        let s = self.shape();
        // SAFETY: the value lies at val_off within the allocation.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr().add(s.val_off()), s.val_len) }
    }

    pub(super) fn boxed_ptr(&self) -> NonNull<u8> {
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
