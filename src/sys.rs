//! Facts about this process for INFO and metrics: resident memory, CPU time, and the bytes
//! the allocator has handed out.
//!
//! [`CountingAlloc`] wraps mimalloc and keeps a running total of live bytes —
//! redis-server's `used_memory` is the same kind of count (its zmalloc wrapper). One relaxed
//! atomic add per allocation; the binary installs it as the global allocator.
//!
//! mimalloc rather than the C library's allocator: it has no per-allocation header and
//! serves small sizes from per-size-class pages, so a keyspace entry costs its size class and
//! nothing more. Measured with `benches/side_by_side.py --quick --rounds 2 --only resp`:
//! bytes per key (1M keys, 64-byte values) 128.9 → 117.5 (redis-server: 176), pipelined SET
//! 1.98× → 2.39× redis-server's throughput.

use std::alloc::{GlobalAlloc, Layout};

use mimalloc::MiMalloc as System;
use std::sync::atomic::{AtomicUsize, Ordering};

static ALLOCATED: AtomicUsize = AtomicUsize::new(0);

/// mimalloc, counting live bytes.
pub struct CountingAlloc;

// SAFETY: every method forwards to mimalloc unchanged; the counter has no effect on memory.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            ALLOCATED.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        ALLOCATED.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc_zeroed(layout);
        if !p.is_null() {
            ALLOCATED.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = System.realloc(ptr, layout, new_size);
        if !p.is_null() {
            ALLOCATED.fetch_sub(layout.size(), Ordering::Relaxed);
            ALLOCATED.fetch_add(new_size, Ordering::Relaxed);
        }
        p
    }
}

extern "C" {
    /// mimalloc's `mi_collect`: returns memory freed but held for reuse to the OS.
    fn mi_collect(force: bool);
}

/// Returns memory mimalloc keeps for reuse to the OS. mimalloc purges freed pages lazily;
/// after a burst (an index resize finishing, a big reply freed) followed by quiet, freed
/// memory would otherwise stay resident. The periodic task calls this at `hz`: forcing a
/// collection walks pages, not objects, and costs microseconds. Measured: resident bytes per
/// key after loading 1M keys 125 → 113, pipelined throughput unchanged.
pub fn release_free_memory() {
    // SAFETY: mi_collect only walks mimalloc's own structures; its argument is a flag.
    unsafe { mi_collect(true) };
}

/// Bytes currently allocated through [`CountingAlloc`] (0 if it is not installed).
pub fn allocated_bytes() -> usize {
    ALLOCATED.load(Ordering::Relaxed)
}

/// Resident set size of this process in bytes.
pub fn rss_bytes() -> usize {
    // /proc/self/statm: size resident shared text lib data dt, in pages.
    let Ok(statm) = std::fs::read_to_string("/proc/self/statm") else {
        return 0;
    };
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    pages * usize::try_from(page).unwrap_or(4096)
}

/// CPU time used by this process: (user, system) in seconds.
pub fn cpu_times() -> (f64, f64) {
    rusage(libc::RUSAGE_SELF)
}

/// CPU time used by the calling thread: (user, system) in seconds.
pub fn thread_cpu_times() -> (f64, f64) {
    rusage(libc::RUSAGE_THREAD)
}

fn rusage(who: libc::c_int) -> (f64, f64) {
    // SAFETY: getrusage fills the zeroed struct we pass; it has no other effect.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(who, &mut ru) } != 0 {
        return (0.0, 0.0);
    }
    let secs = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    (secs(ru.ru_utime), secs(ru.ru_stime))
}

/// Total physical memory in bytes (`total_system_memory`).
pub fn total_system_memory() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let (pages, page) = unsafe {
        (
            libc::sysconf(libc::_SC_PHYS_PAGES),
            libc::sysconf(libc::_SC_PAGESIZE),
        )
    };
    (pages.max(0) as u64) * (page.max(0) as u64)
}

/// Formats a byte count the way INFO's `*_human` fields do (`1.50M`).
pub fn bytes_human(n: u64) -> String {
    let n = n as f64;
    const UNITS: [(f64, &str); 5] = [
        (1024.0 * 1024.0 * 1024.0 * 1024.0 * 1024.0, "P"),
        (1024.0 * 1024.0 * 1024.0 * 1024.0, "T"),
        (1024.0 * 1024.0 * 1024.0, "G"),
        (1024.0 * 1024.0, "M"),
        (1024.0, "K"),
    ];
    for (size, unit) in UNITS {
        if n >= size {
            return format!("{:.2}{unit}", n / size);
        }
    }
    format!("{}B", n as u64)
}
