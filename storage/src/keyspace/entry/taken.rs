//! [`TakenValue`]: a collection taken out of its entry to be edited and put back — the
//! unsafe half of [`super::super::guard::ValueGuard`].

use std::ptr::NonNull;

use super::{Body, Entry, Kind, Mut, Parts};

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
