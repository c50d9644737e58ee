//! Micro-benchmarks of the RESP request parser and the general decoder.

use cachegate_protocols::resp::request::{Batch, RequestParser};
use cachegate_protocols::resp::{decode, DecodeLimits, Frame};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn pipeline(n: usize) -> Vec<u8> {
    let mut wire = Vec::new();
    for i in 0..n {
        Frame::command(["SET", &format!("key:{i:012}"), &"v".repeat(64)]).encode(&mut wire);
    }
    wire
}

fn request_parser(c: &mut Criterion) {
    let mut g = c.benchmark_group("request_parser");
    for n in [1usize, 16, 256] {
        let wire = pipeline(n);
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function(format!("set_pipeline_{n}"), |b| {
            let mut parser = RequestParser::default();
            let mut batch = Batch::default();
            b.iter(|| {
                parser.parse(&wire, &mut batch, usize::MAX);
                assert_eq!(batch.requests.len(), n);
            })
        });
    }
    let inline = b"SET key:000000000001 \"hello world\"\r\n".repeat(16);
    g.throughput(Throughput::Elements(16));
    g.bench_function("inline_16", |b| {
        let mut parser = RequestParser::default();
        let mut batch = Batch::default();
        b.iter(|| parser.parse(&inline, &mut batch, usize::MAX))
    });
    g.finish();
}

fn frame_decoder(c: &mut Criterion) {
    let reply = Frame::Array(
        (0..16)
            .map(|i| Frame::bulk(format!("value-{i:058}")))
            .collect(),
    )
    .to_bytes();
    let mut g = c.benchmark_group("frame_decoder");
    g.throughput(Throughput::Bytes(reply.len() as u64));
    g.bench_function("array_of_16_bulks", |b| {
        b.iter(|| decode(&reply, &DecodeLimits::default()))
    });
    g.finish();
}

criterion_group!(benches, request_parser, frame_decoder);
criterion_main!(benches);
