//! [`Mut`]: changing an entry in place — LRU clock, TTL, string bytes — and taking a boxed
//! collection out and back for [`super::TakenValue`].

use std::ptr::NonNull;

use super::*;

/// In-place changes to an entry owned by the table; callers hold `&mut` of the table.
pub struct Mut {
    pub(super) ptr: NonNull<u8>,
}

impl Mut {
    /// Mutable access to the entry at `ptr`.
    ///
    /// # Safety
    /// `ptr` is a live entry and the caller has exclusive access to it.
    pub unsafe fn from_ptr(ptr: NonNull<u8>) -> Mut {
        Mut { ptr }
    }

    pub(super) fn view(&self) -> View<'_> {
        View {
            ptr: self.ptr,
            _life: std::marker::PhantomData,
        }
    }

    pub(super) fn big_string(&mut self) -> Option<&mut Vec<u8>> {
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

    pub(super) fn set_kind(&mut self, k: u8) {
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
    pub(super) unsafe fn take_boxed<T: Kind>(&mut self) -> Box<T> {
        Box::from_raw(self.view().boxed_ptr().cast::<T>().as_ptr())
    }

    /// Puts a box back into an entry of kind `T::BOXED` whose box was taken.
    pub(super) unsafe fn put_boxed<T: Kind>(&mut self, value: Box<T>) {
        let s = self.view().shape();
        let addr = NonNull::from(Box::leak(value)).as_ptr() as usize;
        (self.ptr.as_ptr().add(s.val_off()) as *mut usize).write_unaligned(addr);
    }
}
