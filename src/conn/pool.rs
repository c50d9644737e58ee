//! Per-thread caches of connection I/O buffers, so a connection holds an input or output
//! buffer only while it has bytes in it.
//!
//! A connection takes a buffer when its socket turns readable (or a batch needs one for
//! its replies) and gives it back as soon as it is empty again — after a request has
//! been answered, with nothing partial left over. An idle connection then owns no buffer
//! at all, and a thousand connections that each ask something once in a while share the
//! few buffers their worker thread caches, instead of each keeping (or allocating and
//! freeing, which fragments the heap) its own. redis-server 7.4 reuses one query buffer per
//! thread for the same reason.
//!
//! Only the taking thread's cache is touched, with no lock: a task that moved to another
//! worker thread gives its buffer to that thread's cache. Each cache is bounded, in
//! buffers and in their size, so a burst of large requests does not stay cached.

use std::cell::RefCell;

use bytes::BytesMut;

/// Buffers cached per thread, per kind.
const CACHED: usize = 8;

/// A buffer grown past this is freed rather than cached.
const MAX_CACHED_CAPACITY: usize = 64 * 1024;

thread_local! {
    static INPUT: RefCell<Vec<BytesMut>> = const { RefCell::new(Vec::new()) };
    static OUTPUT: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
}

/// An empty input buffer with room for at least `room` bytes: a cached one, or a new one.
pub fn take_input(room: usize) -> BytesMut {
    let cached = INPUT.with(|c| c.borrow_mut().pop());
    match cached {
        Some(mut b) => {
            // Reclaims the whole allocation once the batches that shared it are gone.
            b.reserve(room);
            b
        }
        None => BytesMut::with_capacity(room),
    }
}

/// Gives an input buffer back if it is empty; a buffer holding bytes stays where it is.
pub fn give_input(buf: &mut BytesMut) {
    if !buf.is_empty() || buf.capacity() == 0 {
        return;
    }
    let b = std::mem::take(buf);
    if b.capacity() > MAX_CACHED_CAPACITY {
        return;
    }
    INPUT.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() < CACHED {
            c.push(b);
        }
    });
}

/// An empty output buffer: a cached one, or a new (unallocated) one.
pub fn take_output() -> Vec<u8> {
    OUTPUT.with(|c| c.borrow_mut().pop()).unwrap_or_default()
}

/// Gives an output buffer back (emptied).
pub fn give_output(mut buf: Vec<u8>) {
    if buf.capacity() == 0 || buf.capacity() > MAX_CACHED_CAPACITY {
        return;
    }
    buf.clear();
    OUTPUT.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() < CACHED {
            c.push(buf);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_emptied_input_buffer_is_reused_and_a_busy_one_is_kept() {
        let mut a = take_input(4096);
        let first = a.as_ptr();
        a.extend_from_slice(b"GET k\r\n");
        give_input(&mut a);
        assert_eq!(&a[..], b"GET k\r\n", "a buffer holding bytes is not taken");
        // Bytes split off and frozen (a batch) share the allocation until they drop.
        let chunk = a.split_to(a.len()).freeze();
        give_input(&mut a);
        assert_eq!(a.capacity(), 0, "an empty buffer goes back");
        drop(chunk);
        let b = take_input(4096);
        assert_eq!(b.as_ptr(), first, "the same allocation comes back, whole");
        assert!(b.capacity() >= 4096);
    }

    #[test]
    fn caches_are_bounded_in_count_and_size() {
        let mut big = BytesMut::with_capacity(MAX_CACHED_CAPACITY * 2);
        give_input(&mut big);
        assert_ne!(take_input(16).capacity(), MAX_CACHED_CAPACITY * 2);
        let many: Vec<BytesMut> = (0..CACHED + 4).map(|_| take_input(64)).collect();
        for mut b in many {
            give_input(&mut b);
        }
        assert_eq!(INPUT.with(|c| c.borrow().len()), CACHED);

        give_output(Vec::with_capacity(100));
        let out = take_output();
        assert!(out.is_empty() && out.capacity() >= 100);
        give_output(Vec::with_capacity(MAX_CACHED_CAPACITY + 1));
        assert_eq!(take_output().capacity(), 0, "a big reply buffer is freed");
    }
}
