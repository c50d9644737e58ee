//! [`ValueGuard`]: editing the collection stored at a key.
//!
//! The guard takes the value out of its entry (copying an inline value's packed bytes,
//! moving a boxed value's pointer), lets the command edit it as an ordinary owned value, and
//! puts it back when dropped: in place if its form did not change, as a new entry if it
//! moved between the inline and boxed forms or if it was inline (packed bytes are rebuilt
//! with the entry, as Redis reallocates a listpack). Dropping the guard also keeps the
//! database's invariants: a collection left empty is deleted (Redis never stores empty
//! collections) and the byte count follows the value's size.
//!
//! The guard borrows the database mutably, so nothing else can read the entry while its
//! value is out.

use std::ops::{Deref, DerefMut};

use super::entry::{Kind, Restored, TakenValue};
use super::{Db, Slot};

/// A collection of type `T` taken out of its entry for editing; see the module doc.
pub struct ValueGuard<'a, T: Kind> {
    db: &'a mut Db,
    slot: Slot,
    value: Option<TakenValue<T>>,
    bytes_before: usize,
}

impl<'a, T: Kind> ValueGuard<'a, T> {
    /// Takes the value at `slot` out, or `None` if it is not a `T`.
    pub(super) fn new(db: &'a mut Db, slot: Slot) -> Option<Self> {
        let bytes_before = db.get(slot).alloc_size();
        let ptr = db.ptr(slot);
        // SAFETY: `&mut Db` is exclusive for the guard's life, and the guard restores or
        // discards the value before it lets go of the database.
        let value = unsafe { TakenValue::<T>::take(ptr) }?;
        Some(ValueGuard {
            db,
            slot,
            value: Some(value),
            bytes_before,
        })
    }

    /// Puts the value back now (what dropping does). Returns true if the key still exists,
    /// false if it was deleted because the collection was empty.
    pub fn finish(mut self) -> bool {
        self.put_back()
    }

    fn put_back(&mut self) -> bool {
        let Some(value) = self.value.take() else {
            return true;
        };
        let idx = self.db.idx(self.slot);
        let ptr = self.db.table.ptr_at(idx);
        self.db.bytes -= self.bytes_before;
        if value.is_empty() {
            if self.db.table.flag_at(idx) {
                self.db.expires -= 1;
            }
            let _gone = self.db.table.remove_at(idx);
            self.db.reshaped();
            // SAFETY: the value came from the entry at `ptr`, which the table no longer holds.
            unsafe { value.discard(ptr) };
            return false;
        }
        // SAFETY: the value came from the entry at `ptr`, still exclusively held.
        match unsafe { value.restore(ptr) } {
            Restored::InPlace => {}
            Restored::Replaced(entry) => {
                let flag = self.db.table.flag_at(idx);
                // The old entry was freed by `restore`; the slot now takes the new one.
                let _freed = self.db.table.replace_at(idx, entry.into_raw(), flag);
            }
        }
        self.db.bytes += self.db.get(self.slot).alloc_size();
        true
    }
}

impl<T: Kind> Deref for ValueGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        match &self.value {
            Some(v) => v,
            None => unreachable!("the value is only put back when the guard ends"),
        }
    }
}

impl<T: Kind> DerefMut for ValueGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        match &mut self.value {
            Some(v) => v,
            None => unreachable!("the value is only put back when the guard ends"),
        }
    }
}

impl<T: Kind> Drop for ValueGuard<'_, T> {
    fn drop(&mut self) {
        self.put_back();
    }
}
