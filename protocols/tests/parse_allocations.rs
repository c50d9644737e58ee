//! The request parser's claim, checked: once a connection's batch and parser have warmed up,
//! parsing pipelined requests allocates nothing (a counting global allocator watches).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use cachegate_protocols::resp::request::{Batch, RequestLimits, RequestParser};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: defers to the system allocator, only counting calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn a_warm_parser_allocates_nothing_per_request() {
    let mut input = Vec::new();
    for i in 0..64 {
        input.extend_from_slice(
            format!("*3\r\n$3\r\nSET\r\n$6\r\nkey:{i:02}\r\n$5\r\nvalue\r\n").as_bytes(),
        );
        input.extend_from_slice(b"*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n");
    }
    // A request split across two reads, resumed by the second.
    let split = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nva";
    let rest = b"lue\r\n";
    let mut parser = RequestParser::new(RequestLimits::default());
    let mut batch = Batch::default();
    let run = |parser: &mut RequestParser, batch: &mut Batch| {
        parser.parse(&input, batch, usize::MAX);
        assert_eq!(batch.requests.len(), 128);
        parser.parse(split, batch, usize::MAX);
        assert!(batch.requests.is_empty());
        let mut joined = [0u8; 64];
        let whole = [&split[..], &rest[..]].concat();
        joined[..whole.len()].copy_from_slice(&whole);
        parser.parse(&joined[..whole.len()], batch, usize::MAX);
        assert_eq!(batch.requests.len(), 1);
    };
    // Warm up: the batch's vectors and the parser's span list grow once.
    run(&mut parser, &mut batch);
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    for _ in 0..100 {
        parser.parse(&input, &mut batch, usize::MAX);
        assert_eq!(batch.requests.len(), 128);
    }
    assert_eq!(ALLOCATIONS.load(Ordering::Relaxed) - before, 0);
}
