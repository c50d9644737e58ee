//! Micro-benchmarks of the memcached side: the text parser and the concurrent store.

use cachegate_protocols::memcache::{Parse, Parser};
use cachegate_storage::clock::SystemClock;
use cachegate_storage::mc::{Expiry, McConfig, McStore, StoreMode, StoreRequest};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn parser(c: &mut Criterion) {
    let mut g = c.benchmark_group("memcache_parser");
    let mut sets = Vec::new();
    for i in 0..16 {
        sets.extend_from_slice(format!("set key:{i:012} 0 0 64\r\n").as_bytes());
        sets.extend_from_slice(&[b'v'; 64]);
        sets.extend_from_slice(b"\r\n");
    }
    let gets: Vec<u8> = (0..16)
        .flat_map(|i| format!("get key:{i:012}\r\n").into_bytes())
        .collect();
    let multiget = format!(
        "get {}\r\n",
        (0..100)
            .map(|i| format!("key:{i:012}"))
            .collect::<Vec<_>>()
            .join(" ")
    )
    .into_bytes();
    for (name, wire, n) in [
        ("set_pipeline_16", &sets, 16u64),
        ("get_pipeline_16", &gets, 16),
        ("get_100_keys", &multiget, 1),
    ] {
        g.throughput(Throughput::Elements(n));
        g.bench_function(name, |b| {
            let mut parser = Parser::default();
            b.iter(|| {
                let mut pos = 0;
                while let Parse::Request { len, .. } = parser.parse(&wire[pos..]) {
                    pos += len;
                }
                assert_eq!(pos, wire.len());
            })
        });
    }
    g.finish();
}

fn store(c: &mut Criterion) {
    const KEYS: usize = 100_000;
    let store = McStore::new(
        McConfig {
            max_bytes: 256 << 20,
            ..McConfig::default()
        },
        Box::new(SystemClock),
    );
    let keys: Vec<Vec<u8>> = (0..KEYS)
        .map(|i| format!("key:{i:012}").into_bytes())
        .collect();
    let value = [b'v'; 64];
    let set = |key: &[u8]| {
        store.store(StoreRequest {
            key,
            flags: 0,
            exptime: Expiry::Never,
            value: &value,
            mode: StoreMode::Set,
            cas: None,
        })
    };
    for k in &keys {
        set(k);
    }
    let mut g = c.benchmark_group("memcache_store");
    g.throughput(Throughput::Elements(1));
    let mut i = 0usize;
    g.bench_function("get_hit", |b| {
        b.iter(|| {
            i = (i + 7919) % KEYS;
            store.get(&keys[i], None, |item| item.value().len())
        })
    });
    g.bench_function("set_overwrite", |b| {
        b.iter(|| {
            i = (i + 7919) % KEYS;
            set(&keys[i])
        })
    });
    g.finish();
}

criterion_group!(benches, parser, store);
criterion_main!(benches);
