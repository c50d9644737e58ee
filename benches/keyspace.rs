//! Micro-benchmarks of the store: GET/SET/INCR through the command dispatcher on a warm
//! keyspace, without sockets.

use cachegate_protocols::resp::request::{lay_out, Args};
use cachegate_protocols::resp::{ProtocolVersion, ReplyBuf};
use cachegate_storage::clock::SystemClock;
use cachegate_storage::command::Session;
use cachegate_storage::Store;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

/// Runs `argv` against `store` (arguments laid out in one buffer, as the parser leaves them).
fn run(store: &mut Store, session: &mut Session, out: &mut ReplyBuf, argv: &[&[u8]]) {
    let (base, spans) = lay_out(argv);
    store.execute(session, &Args::new(&base, &spans), out);
}

fn keyspace(c: &mut Criterion) {
    const KEYS: usize = 100_000;
    let mut store = Store::new(16, Box::new(SystemClock));
    let mut session = Session::default();
    let mut out = ReplyBuf::new(ProtocolVersion::Resp2);
    let keys: Vec<Vec<u8>> = (0..KEYS)
        .map(|i| format!("key:{i:012}").into_bytes())
        .collect();
    let value = vec![b'v'; 64];
    store.begin_batch();
    for k in &keys {
        run(&mut store, &mut session, &mut out, &[b"SET", k, &value]);
        out.clear();
    }
    let mut g = c.benchmark_group("keyspace");
    g.throughput(Throughput::Elements(1));
    let mut i = 0usize;
    g.bench_function("get_hit", |b| {
        b.iter(|| {
            i = (i + 7919) % KEYS;
            run(&mut store, &mut session, &mut out, &[b"GET", &keys[i]]);
            out.clear();
        })
    });
    g.bench_function("set_overwrite", |b| {
        b.iter(|| {
            i = (i + 7919) % KEYS;
            run(
                &mut store,
                &mut session,
                &mut out,
                &[b"SET", &keys[i], &value],
            );
            out.clear();
        })
    });
    g.bench_function("incr", |b| {
        b.iter(|| {
            run(&mut store, &mut session, &mut out, &[b"INCR", b"counter"]);
            out.clear();
        })
    });
    g.finish();
}

criterion_group!(benches, keyspace);
criterion_main!(benches);
