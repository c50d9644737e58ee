//! Holds the zero-allocation claim: encoding requests (GET/SET and templates) into a
//! buffer of batch size, framing their replies (big arrays included) and counting them
//! allocates nothing. A counting global allocator, installed for the unit-test binary
//! only, counts the allocations of the current thread.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::time::Duration;

use crate::conn::{Recorder, Stats};
use crate::request::{Encoder, Op, Protocol};
use crate::scan::resp::Framer;
use crate::scan::{memcache, Scan};
use crate::template::{Template, Vars};

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

struct Counting;

// SAFETY: every call is forwarded unchanged to the system allocator; the thread-local
// counter is a const-initialised Cell, whose access never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded with the caller's pointer and layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        // SAFETY: forwarded with the caller's pointer, layout and size.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

#[test]
fn hot_path_does_not_allocate() {
    let value = Encoder::value(64);
    let templates = vec![
        Template::compile("LPUSH list:{key} {value}", &value).unwrap(),
        Template::compile("ZADD z:{keynum} {n} m{conn}-{n}", &value).unwrap(),
        Template::compile("LRANGE list:{key} 0 99", &value).unwrap(),
    ];
    let resp = Encoder::new(Protocol::Resp, b"key:", 64).with_commands(templates);
    let mc = Encoder::new(Protocol::Memcache, b"key:", 64);
    let ops = [
        Op::Get,
        Op::Set,
        Op::Command(0),
        Op::Command(1),
        Op::Command(2),
    ];
    let batch = 16;
    let mut wbuf = Vec::with_capacity(batch * resp.max_request_len());
    let mut reply = b"*100\r\n".to_vec();
    for i in 0..100 {
        reply.extend_from_slice(format!("$9\r\nmember:{i:02}\r\n").as_bytes());
    }
    reply.extend_from_slice(b":12\r\n$-1\r\n+OK\r\n");
    let mc_reply = b"VALUE key:000000000001 0 3\r\nabc\r\nEND\r\n";
    let mut framer = Framer::new();
    let mut stats = Stats::new();
    let latency = Recorder::new();

    let before = allocations();
    for round in 0..1000u64 {
        wbuf.clear();
        for (i, op) in ops.iter().cycle().take(batch).enumerate() {
            let vars = Vars {
                key: round * 31 + i as u64,
                n: u64::MAX - round,
                conn: 9999,
            };
            resp.encode(*op, vars, &mut wbuf);
        }
        wbuf.clear();
        mc.encode(
            Op::Get,
            Vars {
                key: round,
                n: 0,
                conn: 0,
            },
            &mut wbuf,
        );
        // Frame the replies, the array arriving in two reads.
        let cut = 300;
        assert_eq!(framer.scan(&reply[..cut]), Scan::Incomplete);
        let mut at = 0;
        while at < reply.len() {
            match framer.scan(&reply[at..]) {
                Scan::Complete { len, outcome } => {
                    at += len;
                    stats.count(Op::Command(2), outcome);
                }
                other => panic!("{other:?}"),
            }
        }
        assert!(matches!(
            memcache::scan(mc_reply, Op::Get),
            Scan::Complete { .. }
        ));
        latency.record(Duration::from_micros(round + 1), 4);
    }
    assert_eq!(allocations() - before, 0, "allocations on the hot path");
    assert_eq!(stats.ops, 4000);
}
