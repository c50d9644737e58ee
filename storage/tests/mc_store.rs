//! The memcached store in-process: every outcome, CAS, expiry and flush_all on a manual
//! clock, eviction under a small memory limit, the crawler, statistics, and concurrent use.

use std::sync::Arc;
use std::thread;

use cachegate_storage::clock::{Clock, ManualClock};
use cachegate_storage::mc::{
    ArithOp, ArithOutcome, DeleteOutcome, Expiry, McConfig, McStore, StoreMode, StoreOutcome,
    StoreRequest, TouchOutcome,
};

const T0: i64 = 1_700_000_000_000;

fn store_with(config: McConfig) -> (McStore, ManualClock) {
    let clock = ManualClock::new(T0);
    (McStore::new(config, Box::new(clock.clone())), clock)
}

fn store() -> (McStore, ManualClock) {
    store_with(McConfig::default())
}

fn req<'a>(key: &'a [u8], value: &'a [u8], mode: StoreMode) -> StoreRequest<'a> {
    StoreRequest {
        key,
        flags: 0,
        exptime: Expiry::Never,
        value,
        mode,
        cas: None,
    }
}

fn set(s: &McStore, key: &[u8], value: &[u8]) -> StoreOutcome {
    s.store(req(key, value, StoreMode::Set))
}

/// (flags, cas, value) of a live key.
fn get(s: &McStore, key: &[u8]) -> Option<(u32, u64, Vec<u8>)> {
    s.get(key, None, |v| (v.flags(), v.cas(), v.value().to_vec()))
}

fn value(s: &McStore, key: &[u8]) -> Option<Vec<u8>> {
    get(s, key).map(|(_, _, v)| v)
}

#[test]
fn store_modes() {
    let (s, _) = store();
    assert_eq!(
        s.store(req(b"k", b"a", StoreMode::Add)),
        StoreOutcome::Stored
    );
    assert_eq!(
        s.store(req(b"k", b"b", StoreMode::Add)),
        StoreOutcome::NotStored
    );
    assert_eq!(
        s.store(req(b"x", b"b", StoreMode::Replace)),
        StoreOutcome::NotStored
    );
    assert_eq!(
        s.store(req(b"x", b"b", StoreMode::Append)),
        StoreOutcome::NotStored
    );
    assert_eq!(
        s.store(req(b"x", b"b", StoreMode::Prepend)),
        StoreOutcome::NotStored
    );
    assert_eq!(
        s.store(req(b"k", b"c", StoreMode::Replace)),
        StoreOutcome::Stored
    );
    assert_eq!(
        s.store(req(b"k", b"d", StoreMode::Append)),
        StoreOutcome::Stored
    );
    assert_eq!(
        s.store(req(b"k", b"b", StoreMode::Prepend)),
        StoreOutcome::Stored
    );
    assert_eq!(value(&s, b"k").as_deref(), Some(&b"bcd"[..]));
    assert_eq!(value(&s, b"x"), None);
    let st = s.stats();
    assert_eq!((st.counters.cmd_set, st.counters.total_items), (8, 4));
    assert_eq!((st.curr_items, st.bytes), (1, 24 + 1 + 3));
}

#[test]
fn append_keeps_flags_and_expiry() {
    let (s, clock) = store();
    s.store(StoreRequest {
        flags: 7,
        exptime: Expiry::At(T0 + 10_000),
        ..req(b"k", b"ab", StoreMode::Set)
    });
    s.store(StoreRequest {
        flags: 99,
        exptime: Expiry::Never,
        ..req(b"k", b"cd", StoreMode::Append)
    });
    assert_eq!(
        get(&s, b"k").map(|g| (g.0, g.2)),
        Some((7, b"abcd".to_vec()))
    );
    clock.advance(10_000);
    assert_eq!(get(&s, b"k"), None);
}

#[test]
fn cas_semantics() {
    let (s, _) = store();
    let cas = |key: &'static [u8], c: u64| {
        s.store(StoreRequest {
            cas: Some(c),
            ..req(key, b"v", StoreMode::Set)
        })
    };
    assert_eq!(cas(b"k", 1), StoreOutcome::NotFound);
    set(&s, b"k", b"a");
    let (_, c1, _) = get(&s, b"k").unwrap();
    assert_eq!(cas(b"k", c1 + 1), StoreOutcome::Exists);
    assert_eq!(cas(b"k", 0), StoreOutcome::Exists);
    assert_eq!(cas(b"k", c1), StoreOutcome::Stored);
    assert_eq!(cas(b"k", c1), StoreOutcome::Exists);
    let c = s.stats().counters;
    assert_eq!((c.cas_misses, c.cas_hits, c.cas_badval), (1, 1, 3));

    // Every modification gets a new, larger CAS; reads and touches keep it.
    let mut last = get(&s, b"k").unwrap().1;
    for step in 0..6 {
        match step {
            0 => assert_eq!(set(&s, b"k", b"1"), StoreOutcome::Stored),
            1 => assert_eq!(
                s.store(req(b"k", b"2", StoreMode::Append)),
                StoreOutcome::Stored
            ),
            2 => assert_eq!(s.arith(b"k", 1, ArithOp::Incr), ArithOutcome::Value(13)),
            3 => assert_eq!(s.arith(b"k", 100, ArithOp::Incr), ArithOutcome::Value(113)),
            4 => assert_eq!(
                s.store(req(b"k", b"5", StoreMode::Replace)),
                StoreOutcome::Stored
            ),
            _ => assert_eq!(
                s.store(req(b"k", b"0", StoreMode::Prepend)),
                StoreOutcome::Stored
            ),
        }
        let now = get(&s, b"k").unwrap().1;
        assert!(now > last, "step {step}: {now} <= {last}");
        last = now;
    }
    assert_eq!(s.touch(b"k", Expiry::Never), TouchOutcome::Touched);
    assert_eq!(get(&s, b"k").unwrap().1, last);

    // Append and prepend honour a CAS too; add ignores it.
    let app = |c| {
        s.store(StoreRequest {
            cas: Some(c),
            ..req(b"k", b"z", StoreMode::Append)
        })
    };
    assert_eq!(app(last + 5), StoreOutcome::Exists);
    assert_eq!(app(last), StoreOutcome::Stored);
    let add = s.store(StoreRequest {
        cas: Some(12345),
        ..req(b"new", b"v", StoreMode::Add)
    });
    assert_eq!(add, StoreOutcome::Stored);
}

#[test]
fn arith() {
    let (s, _) = store();
    assert_eq!(s.arith(b"n", 1, ArithOp::Incr), ArithOutcome::NotFound);
    assert_eq!(s.arith(b"n", 1, ArithOp::Decr), ArithOutcome::NotFound);
    s.store(StoreRequest {
        flags: 3,
        ..req(b"n", b"10", StoreMode::Set)
    });
    // Shorter results stay in place, padded with spaces, as in memcached.
    assert_eq!(s.arith(b"n", 1, ArithOp::Decr), ArithOutcome::Value(9));
    assert_eq!(value(&s, b"n").as_deref(), Some(&b"9 "[..]));
    // Longer ones grow the item; flags are kept.
    assert_eq!(s.arith(b"n", 95, ArithOp::Incr), ArithOutcome::Value(104));
    assert_eq!(
        get(&s, b"n").map(|g| (g.0, g.2)),
        Some((3, b"104".to_vec()))
    );
    assert_eq!(s.arith(b"n", 1000, ArithOp::Decr), ArithOutcome::Value(0));
    assert_eq!(value(&s, b"n").as_deref(), Some(&b"0  "[..]));
    // 64-bit wrap on incr.
    set(&s, b"n", b"18446744073709551615");
    assert_eq!(s.arith(b"n", 2, ArithOp::Incr), ArithOutcome::Value(1));
    assert_eq!(value(&s, b"n").unwrap().len(), 20);
    // memcached's strtoull rules on the stored text.
    for (v, expect) in [
        (&b"007"[..], ArithOutcome::Value(8)),
        (b" 12 x", ArithOutcome::Value(13)),
        (b"abc", ArithOutcome::NonNumeric),
        (b"-1", ArithOutcome::NonNumeric),
        (b"", ArithOutcome::NonNumeric),
        (b"12abc", ArithOutcome::NonNumeric),
        (b"18446744073709551616", ArithOutcome::NonNumeric),
    ] {
        set(&s, b"m", v);
        assert_eq!(s.arith(b"m", 1, ArithOp::Incr), expect, "{v:?}");
    }
    let c = s.stats().counters;
    assert_eq!(
        (c.incr_hits, c.incr_misses, c.decr_hits, c.decr_misses),
        (4, 1, 2, 1)
    );
}

#[test]
fn delete_and_touch() {
    let (s, clock) = store();
    assert_eq!(s.delete(b"k"), DeleteOutcome::NotFound);
    assert_eq!(s.touch(b"k", Expiry::Never), TouchOutcome::NotFound);
    set(&s, b"k", b"v");
    assert_eq!(s.touch(b"k", Expiry::At(T0 + 5_000)), TouchOutcome::Touched);
    clock.advance(4_999);
    assert!(get(&s, b"k").is_some());
    clock.advance(1);
    assert!(get(&s, b"k").is_none());
    set(&s, b"k", b"v");
    assert_eq!(s.delete(b"k"), DeleteOutcome::Deleted);
    assert_eq!(s.delete(b"k"), DeleteOutcome::NotFound);
    let c = s.stats().counters;
    assert_eq!((c.delete_hits, c.delete_misses), (1, 2));
    assert_eq!((c.touch_hits, c.touch_misses), (1, 1));
    assert_eq!(s.stats().curr_items, 0);
}

#[test]
fn expiry_on_a_manual_clock() {
    let (s, clock) = store();
    s.store(StoreRequest {
        exptime: Expiry::At(T0 + 10_000),
        ..req(b"k", b"v", StoreMode::Set)
    });
    s.store(StoreRequest {
        exptime: Expiry::At(0),
        ..req(b"gone", b"v", StoreMode::Set)
    });
    assert_eq!(s.stats().curr_items, 2);
    assert!(get(&s, b"gone").is_none());
    clock.advance(9_999);
    assert!(get(&s, b"k").is_some());
    // gat moves the expiry and counts as a touch.
    let hit = s.get(b"k", Some(Expiry::At(T0 + 20_000)), |v| v.value().to_vec());
    assert_eq!(hit.as_deref(), Some(&b"v"[..]));
    clock.advance(10_000);
    assert!(get(&s, b"k").is_some());
    clock.advance(1);
    assert!(get(&s, b"k").is_none());
    // An expired key behaves as absent for every command.
    assert_eq!(
        s.store(req(b"k", b"w", StoreMode::Replace)),
        StoreOutcome::NotStored
    );
    assert_eq!(
        s.store(req(b"k", b"w", StoreMode::Add)),
        StoreOutcome::Stored
    );
    let st = s.stats();
    assert_eq!(st.counters.get_expired, 2);
    assert_eq!((st.counters.get_hits, st.counters.get_misses), (2, 2));
    assert_eq!((st.cmd_touch(), st.cmd_get()), (1, 4));
}

#[test]
fn flush_all_now_and_later() {
    let (s, clock) = store();
    set(&s, b"a", b"1");
    set(&s, b"b", b"2");
    s.flush_all(clock.now_ms());
    assert!(get(&s, b"a").is_none());
    set(&s, b"c", b"3");
    assert!(get(&s, b"c").is_some());
    assert_eq!(s.stats().counters.get_flushed, 1);

    // Delayed: nothing happens until the time comes; then what was stored before is gone.
    s.flush_all(T0 + 10_000);
    set(&s, b"d", b"4");
    clock.advance(9_999);
    assert!(get(&s, b"c").is_some() && get(&s, b"d").is_some());
    clock.advance(1);
    set(&s, b"e", b"5");
    assert!(get(&s, b"c").is_none() && get(&s, b"d").is_none());
    assert!(get(&s, b"e").is_some());
    // A flushed item is also gone for incr, touch, append, delete.
    assert_eq!(s.arith(b"b", 1, ArithOp::Incr), ArithOutcome::NotFound);
    assert_eq!(s.stats().cmd_flush, 2);

    // A later flush_all replaces a pending one; a delay of zero flushes at once.
    s.flush_all(T0 + 100_000);
    s.flush_all(T0 + 200_000);
    clock.advance(100_000);
    assert!(get(&s, b"e").is_some());
    s.flush_all(0);
    assert!(get(&s, b"e").is_none());
}

#[test]
fn size_limits() {
    let (s, _) = store();
    // memcached's -I 1m boundary: key "k" and flags 0 allow 1048516 bytes.
    let big = vec![b'x'; 1_048_517];
    assert_eq!(set(&s, b"k", &big[..1_048_516]), StoreOutcome::Stored);
    assert_eq!(set(&s, b"k", &big), StoreOutcome::TooLarge);
    // A failed set removes the old value; other modes leave it.
    assert_eq!(value(&s, b"k"), None);
    set(&s, b"k", b"v");
    assert_eq!(
        s.store(req(b"k", &big, StoreMode::Replace)),
        StoreOutcome::TooLarge
    );
    assert_eq!(value(&s, b"k").as_deref(), Some(&b"v"[..]));
    // Appending past the limit is NOT_STORED, as memcached's combined alloc fails.
    set(&s, b"k", &big[..1_000_000]);
    assert_eq!(
        s.store(req(b"k", &big[..100_000], StoreMode::Append)),
        StoreOutcome::NotStored
    );
    // Keys over 250 bytes are refused.
    assert_eq!(set(&s, &[b'k'; 251], b"v"), StoreOutcome::TooLarge);
    // A refusal the front end made (data never buffered) still drops the old value.
    s.store_refused(b"k", StoreMode::Set, StoreOutcome::TooLarge);
    assert_eq!(value(&s, b"k"), None);
    assert_eq!(s.stats().counters.store_too_large, 4);
}

#[test]
fn eviction_under_a_small_limit() {
    let config = McConfig {
        max_bytes: 64 * 1024,
        item_size_max: 16 * 1024,
        shards: 1,
    };
    let (s, _) = store_with(config);
    assert_eq!(s.shard_count(), 1);
    let value = [b'v'; 100];
    set(&s, b"hot", &value);
    for i in 0..5000u32 {
        assert_eq!(
            set(&s, format!("key:{i}").as_bytes(), &value),
            StoreOutcome::Stored
        );
        // A key read all along keeps getting its second chance.
        assert!(get(&s, b"hot").is_some(), "hot key evicted at {i}");
        let st = s.stats();
        assert!(st.malloced <= 64 * 1024, "over the limit: {}", st.malloced);
    }
    let st = s.stats();
    assert!(st.counters.evictions > 4000, "{st:?}");
    assert_eq!(st.counters.evicted_unfetched, st.counters.evictions);
    assert!(st.curr_items > 100 && st.curr_items < 600, "{st:?}");
    // The most recent keys are mostly there, the oldest gone.
    assert!(get(&s, b"key:0").is_none());
    assert!(get(&s, b"key:4999").is_some());

    // Expired items are reclaimed before live ones are evicted.
    let (s, clock) = store_with(config);
    for i in 0..200u32 {
        s.store(StoreRequest {
            exptime: Expiry::At(T0 + 1_000),
            ..req(format!("old:{i}").as_bytes(), &value, StoreMode::Set)
        });
    }
    clock.advance(1_000);
    for i in 0..400u32 {
        set(&s, format!("new:{i}").as_bytes(), &value);
    }
    let c = s.stats().counters;
    assert!(
        c.reclaimed > 0 && c.expired_unfetched == c.reclaimed,
        "{c:?}"
    );
}

#[test]
fn no_memory_when_nothing_can_be_evicted() {
    let config = McConfig {
        max_bytes: 4096,
        item_size_max: 1024 * 1024,
        shards: 8,
    };
    let (s, _) = store_with(config);
    assert_eq!(s.shard_count(), 1);
    set(&s, b"small", b"v");
    // Fits the item size limit, not the memory limit: nothing is evicted for it.
    assert_eq!(set(&s, b"k", &[b'x'; 8000]), StoreOutcome::NoMemory);
    assert_eq!(value(&s, b"small").as_deref(), Some(&b"v"[..]));
    set(&s, b"n", b"99999");
    assert_eq!(s.stats().counters.store_no_memory, 1);
}

#[test]
fn crawler_reclaims_expired_items() {
    let (s, clock) = store();
    for i in 0..1000u32 {
        let exptime = if i % 2 == 0 {
            Expiry::At(T0 + 1_000)
        } else {
            Expiry::Never
        };
        s.store(StoreRequest {
            exptime,
            ..req(format!("k{i}").as_bytes(), b"v", StoreMode::Set)
        });
    }
    assert_eq!(s.crawl(10_000), 0);
    clock.advance(1_000);
    let mut freed = 0;
    for _ in 0..100 {
        freed += s.crawl(50);
    }
    assert_eq!(freed, 500);
    let st = s.stats();
    assert_eq!(st.curr_items, 500);
    assert_eq!(st.counters.crawler_reclaimed, 500);
    assert!(st.counters.crawler_items_checked >= 1000);
}

#[test]
fn stats_reset_keeps_gauges() {
    let (s, _) = store();
    set(&s, b"a", b"1");
    get(&s, b"a");
    s.flush_all(0);
    s.reset_stats();
    let st = s.stats();
    assert_eq!(
        (st.counters.get_hits, st.counters.cmd_set, st.cmd_flush),
        (0, 0, 0)
    );
    assert_eq!(st.curr_items, 1);
    assert_eq!(st.limit_maxbytes, 64 * 1024 * 1024);
}

#[test]
fn concurrent_use() {
    let (s, _) = store();
    let s = Arc::new(s);
    set(&s, b"counter", b"0");
    set(&s, b"cas-counter", b"0");
    let threads: Vec<_> = (0..4u32)
        .map(|t| {
            let s = Arc::clone(&s);
            thread::spawn(move || {
                for i in 0..2000u32 {
                    assert!(matches!(
                        s.arith(b"counter", 1, ArithOp::Incr),
                        ArithOutcome::Value(_)
                    ));
                    let key = format!("t{t}:{i}");
                    assert_eq!(
                        set(&s, key.as_bytes(), key.as_bytes()),
                        StoreOutcome::Stored
                    );
                    assert_eq!(value(&s, key.as_bytes()), Some(key.clone().into_bytes()));
                    // Optimistic increment with gets + cas, retried on EXISTS.
                    loop {
                        let (_, cas, v) = get(&s, b"cas-counter").unwrap();
                        let n: u64 = std::str::from_utf8(&v).unwrap().parse().unwrap();
                        let next = (n + 1).to_string();
                        let r = s.store(StoreRequest {
                            cas: Some(cas),
                            ..req(b"cas-counter", next.as_bytes(), StoreMode::Set)
                        });
                        match r {
                            StoreOutcome::Stored => break,
                            StoreOutcome::Exists => continue,
                            other => panic!("{other:?}"),
                        }
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(value(&s, b"counter").as_deref(), Some(&b"8000"[..]));
    assert_eq!(value(&s, b"cas-counter").as_deref(), Some(&b"8000"[..]));
    assert_eq!(s.stats().curr_items, 8002);
}

#[test]
fn memory_per_item() {
    // The store's own accounting (allocator-rounded items plus the index) for 16-byte keys
    // and 64-byte values; `cargo run --release --example mc_memory` measures 1M items by RSS.
    let config = McConfig {
        max_bytes: 1 << 30,
        ..McConfig::default()
    };
    let (s, _) = store_with(config);
    let n = 200_000u64;
    for i in 0..n {
        let key = format!("key:{i:012}");
        assert_eq!(set(&s, key.as_bytes(), &[b'v'; 64]), StoreOutcome::Stored);
    }
    let st = s.stats();
    assert_eq!(st.bytes, n * 104, "24-byte header + 16 + 64");
    let per_item = st.malloced as f64 / n as f64;
    assert!(per_item < 135.0, "{per_item} bytes per item");
}
