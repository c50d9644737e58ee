//! In-process command harness: runs commands against a `Store` with a manual clock and
//! decodes the reply, without sockets.

#![allow(dead_code)]

use cachegate_protocols::resp::request::{lay_out, Args};
use cachegate_protocols::resp::{decode, DecodeLimits, Frame, ProtocolVersion, ReplyBuf};
use cachegate_storage::clock::ManualClock;
use cachegate_storage::command::{Outcome, Session};
use cachegate_storage::Store;

/// A store, a session on it, and the clock that drives it.
pub struct Harness {
    pub store: Store,
    pub session: Session,
    pub clock: ManualClock,
    pub resp3: bool,
}

/// Start time of every harness: 2026-01-01T00:00:00Z.
pub const T0: i64 = 1_767_225_600_000;

impl Harness {
    pub fn new() -> Self {
        let clock = ManualClock::new(T0);
        Harness {
            store: Store::new(16, Box::new(clock.clone())),
            session: Session::default(),
            clock,
            resp3: false,
        }
    }

    /// Runs one command (byte arguments) and returns its decoded reply.
    pub fn run_bytes(&mut self, argv: &[&[u8]]) -> Frame {
        let (base, spans) = lay_out(argv);
        let args = Args::new(&base, &spans);
        let mut out = ReplyBuf::new(if self.resp3 {
            ProtocolVersion::Resp3
        } else {
            ProtocolVersion::Resp2
        });
        self.store.begin_batch();
        match self.store.execute(&mut self.session, &args, &mut out) {
            Outcome::Done => {}
            other => panic!("not a store command: {other:?}"),
        }
        self.store.end_batch(1);
        let bytes = out.as_bytes();
        let (frame, used) = decode(bytes, &DecodeLimits::default())
            .expect("valid RESP")
            .expect("a whole reply");
        assert_eq!(used, bytes.len(), "exactly one reply");
        frame
    }

    /// Runs one command given as string arguments.
    pub fn run(&mut self, argv: &[&str]) -> Frame {
        let v: Vec<&[u8]> = argv.iter().map(|s| s.as_bytes()).collect();
        self.run_bytes(&v)
    }
}

pub fn ok() -> Frame {
    Frame::simple("OK")
}
pub fn int(v: i64) -> Frame {
    Frame::Integer(v)
}
pub fn bulk(s: &str) -> Frame {
    Frame::bulk(s)
}
pub fn nil() -> Frame {
    Frame::NullBulk
}
pub fn err(s: &str) -> Frame {
    Frame::error(s)
}
pub fn arr(v: Vec<Frame>) -> Frame {
    Frame::Array(v)
}

/// What a key holds, compared between stores: type, encoding, a canonical rendering of the
/// value (collections in a fixed order), and the absolute expiry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyDump {
    pub kind: &'static str,
    pub encoding: &'static str,
    pub value: String,
    pub expire: Option<i64>,
}

/// A canonical rendering of a value: strings as escaped bytes, collections element by
/// element in an order that does not depend on the encoding.
pub fn canonical(v: &cachegate_storage::keyspace::entry::View<'_>) -> String {
    use cachegate_storage::keyspace::entry::ValueType;
    use cachegate_storage::types::{Hash, List, ZSet};
    let esc = |b: &[u8]| b.escape_ascii().to_string();
    match v.value_type() {
        ValueType::String => esc(v.value()),
        ValueType::Hash => {
            let Some(h) = v.collection::<Hash>() else {
                return "?".into();
            };
            let mut pairs: Vec<String> = h
                .iter()
                .map(|(f, x)| format!("{}={}", esc(f), esc(x)))
                .collect();
            pairs.sort();
            pairs.join(",")
        }
        ValueType::Set => {
            let Some(s) = v.collection::<cachegate_storage::types::Set>() else {
                return "?".into();
            };
            let mut members: Vec<String> = s.iter().map(|m| esc(&m.to_vec())).collect();
            members.sort();
            members.join(",")
        }
        ValueType::List => {
            let Some(l) = v.collection::<List>() else {
                return "?".into();
            };
            let items: Vec<String> = l.iter().map(|e| esc(&e.to_vec())).collect();
            format!("{items:?}")
        }
        ValueType::ZSet => {
            let Some(z) = v.collection::<ZSet>() else {
                return "?".into();
            };
            // In order, scores by their bits (`-0` and `0` differ).
            z.iter()
                .map(|(m, s)| format!("{}={:x}", esc(m), s.to_bits()))
                .collect::<Vec<_>>()
                .join(",")
        }
        ValueType::Stream => match v.collection::<cachegate_storage::types::Stream>() {
            Some(s) => canonical_stream(s),
            None => "?".into(),
        },
    }
}

/// A stream: its counters, its entries, and its groups with their pending entries (owner
/// and delivery count) and consumers. Not rendered: delivery times and consumers' seen-times,
/// which a replica sets from its own clock (an XCLAIM's TIME in its future is taken as its
/// now), and the node layout, which is not data.
fn canonical_stream(s: &cachegate_storage::types::Stream) -> String {
    use cachegate_storage::types::stream::StreamId;
    use std::fmt::Write;
    let esc = |b: &[u8]| b.escape_ascii().to_string();
    let id = |i: StreamId| format!("{}-{}", i.ms, i.seq);
    let log = &s.log;
    let mut out = format!(
        "len={} last={} first={} maxdel={} added={} [",
        log.len(),
        id(log.last_id()),
        id(log.first_id()),
        id(log.max_deleted()),
        log.entries_added()
    );
    for e in log.range(StreamId::MIN, StreamId::MAX) {
        let _ = write!(out, "{}{{", id(e.id));
        for (f, v) in e.fields() {
            let _ = write!(out, "{}={},", esc(f), esc(v));
        }
        out.push('}');
    }
    out.push(']');
    for (name, g) in s.groups().into_iter().flat_map(|gs| gs.iter()) {
        let _ = write!(
            out,
            " group {} last={} read={} pel[",
            esc(name),
            id(g.last_id),
            g.entries_read
        );
        for (pid, n) in g.pel() {
            let _ = write!(
                out,
                "{}:{}x{},",
                id(*pid),
                esc(g.owner(n)),
                n.delivery_count
            );
        }
        out.push_str("] consumers[");
        for c in g.consumers() {
            let _ = write!(out, "{}:{},", esc(&c.name), c.pel.len());
        }
        out.push(']');
    }
    out
}

/// Every key of every database live at `now` (Unix ms).
pub fn dump_keyspace(
    store: &Store,
    now: i64,
) -> std::collections::BTreeMap<(usize, Vec<u8>), KeyDump> {
    let mut all = std::collections::BTreeMap::new();
    for (i, db) in store.keyspace.iter().enumerate() {
        for v in db.iter() {
            if matches!(v.expire(), Some(at) if now > at) {
                continue;
            }
            all.insert(
                (i, v.key().to_vec()),
                KeyDump {
                    kind: v.value_type().name(),
                    encoding: v.encoding_name(),
                    value: canonical(&v),
                    expire: v.expire(),
                },
            );
        }
    }
    all
}

/// Replays a write stream (RESP commands) into `h`, its session following the stream's
/// SELECTs. Every command must succeed, and none may be a blocking command: those reach
/// the stream as their non-blocking forms (BLPOP → LPOP …).
pub fn replay(h: &mut Harness, stream: &[u8]) {
    let mut parser = cachegate_protocols::resp::request::RequestParser::new(
        cachegate_protocols::resp::request::RequestLimits::default(),
    );
    let mut batch = cachegate_protocols::resp::request::Batch::default();
    parser.parse(stream, &mut batch, usize::MAX);
    assert!(batch.error.is_none(), "the stream is valid RESP");
    assert_eq!(
        batch.consumed,
        stream.len(),
        "the stream holds whole commands"
    );
    h.store.begin_batch();
    for r in &batch.requests {
        let args: cachegate_protocols::resp::request::Args<'_> = batch.args(stream, r);
        // Blocking commands reach the stream as their non-blocking forms (BLPOP → LPOP …).
        if let Ok(id) = h.store.commands.resolve(&args) {
            assert!(
                !h.store
                    .commands
                    .spec(id)
                    .has(cachegate_storage::command::spec::flag::BLOCKING),
                "a blocking command in the stream: {:?}",
                String::from_utf8_lossy(args.get(0))
            );
        }
        let mut out = ReplyBuf::new(ProtocolVersion::Resp2);
        let outcome = h.store.execute(&mut h.session, &args, &mut out);
        assert_eq!(outcome, Outcome::Done);
        assert!(
            !out.as_bytes().starts_with(b"-"),
            "replayed {:?} failed: {}",
            args.to_vecs()
                .iter()
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect::<Vec<_>>(),
            String::from_utf8_lossy(out.as_bytes())
        );
    }
}
