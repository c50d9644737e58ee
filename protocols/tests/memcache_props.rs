//! Property tests for the memcached text parser: it never panics, it does not care how the
//! input is split into reads, and it reads back what the encoder writes.

use cachegate_protocols::memcache::{
    Command, Get, Keys, Parse, Parser, ParserConfig, Request, Store, StoreCommand,
};
use proptest::prelude::*;

/// A request with owned bytes, so it can outlive the buffer it was parsed from.
#[derive(Debug, Clone, PartialEq)]
enum Owned {
    Get {
        cas: bool,
        touch: Option<i32>,
        keys: Vec<Vec<u8>>,
    },
    Store {
        command: StoreCommand,
        key: Vec<u8>,
        flags: u32,
        exptime: i32,
        value: Vec<u8>,
        cas: u64,
    },
    Stats(Vec<Vec<u8>>),
    Other(String),
}

fn own(r: &Request<'_>) -> (Owned, bool) {
    let o = match r.command {
        Command::Get(g) => Owned::Get {
            cas: g.cas,
            touch: g.touch,
            keys: g.keys.map(<[u8]>::to_vec).collect(),
        },
        Command::Store(s) => Owned::Store {
            command: s.command,
            key: s.key.to_vec(),
            flags: s.flags,
            exptime: s.exptime,
            value: s.value.to_vec(),
            cas: s.cas,
        },
        Command::Stats { args } => Owned::Stats(args.map(<[u8]>::to_vec).collect()),
        other => Owned::Other(format!("{other:?}")),
    };
    (o, r.noreply)
}

/// Feeds `input` to a parser in reads that end at `cuts`, dropping used bytes as a
/// connection would, and returns every request.
fn feed(config: ParserConfig, input: &[u8], cuts: &[usize]) -> Vec<(Owned, bool)> {
    let mut p = Parser::new(config);
    let mut buf: Vec<u8> = Vec::new();
    let mut out = Vec::new();
    let mut fed = 0;
    let ends = cuts.iter().copied().chain(std::iter::once(input.len()));
    for end in ends {
        let end = end.clamp(fed, input.len());
        buf.extend_from_slice(&input[fed..end]);
        fed = end;
        loop {
            match p.parse(&buf) {
                Parse::Request { request, len } => {
                    assert!(len > 0 && len <= buf.len());
                    let stop = matches!(request.command, Command::Close(_) | Command::Quit);
                    out.push(own(&request));
                    buf.drain(..len);
                    if stop {
                        return out;
                    }
                }
                Parse::Incomplete { consumed, need } => {
                    assert!(consumed <= buf.len());
                    if let Some(n) = need {
                        assert!(n > 0);
                    }
                    buf.drain(..consumed);
                    break;
                }
            }
        }
    }
    out
}

fn key() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        8 => proptest::collection::vec(prop_oneof![b'a'..=b'z', b'0'..=b'9', Just(b'_'), Just(b':')], 1..24),
        1 => proptest::collection::vec(b'!'..=b'~', 250..=250),
    ]
    .prop_filter("noreply would change the line's meaning", |k| k != b"noreply")
}

#[derive(Debug, Clone)]
enum Spec {
    Get(bool, Option<i32>, Vec<Vec<u8>>),
    Store(StoreCommand, Vec<u8>, u32, i32, Vec<u8>, u64, bool),
    Arith(bool, Vec<u8>, u64, bool),
    Delete(Vec<u8>, bool),
    Touch(Vec<u8>, i32, bool),
    Flush(i32, bool),
    Verbosity(u32, bool),
    Stats(Vec<Vec<u8>>),
    Version,
}

fn spec() -> impl Strategy<Value = Spec> {
    let store_cmd = prop_oneof![
        Just(StoreCommand::Set),
        Just(StoreCommand::Add),
        Just(StoreCommand::Replace),
        Just(StoreCommand::Append),
        Just(StoreCommand::Prepend),
        Just(StoreCommand::Cas),
    ];
    prop_oneof![
        (
            any::<bool>(),
            proptest::option::of(any::<i32>()),
            proptest::collection::vec(key(), 0..5)
        )
            .prop_filter("get needs a key", |(_, t, k)| t.is_some() || !k.is_empty())
            .prop_map(|(c, t, k)| Spec::Get(c, t, k)),
        (
            store_cmd,
            key(),
            any::<u32>(),
            any::<i32>(),
            proptest::collection::vec(any::<u8>(), 0..300),
            any::<u64>(),
            any::<bool>()
        )
            .prop_map(|(c, k, f, e, v, cas, nr)| Spec::Store(c, k, f, e, v, cas, nr)),
        (any::<bool>(), key(), any::<u64>(), any::<bool>())
            .prop_map(|(i, k, d, n)| Spec::Arith(i, k, d, n)),
        (key(), any::<bool>()).prop_map(|(k, n)| Spec::Delete(k, n)),
        (key(), any::<i32>(), any::<bool>()).prop_map(|(k, e, n)| Spec::Touch(k, e, n)),
        (any::<i32>(), any::<bool>()).prop_map(|(d, n)| Spec::Flush(d, n)),
        (any::<u32>(), any::<bool>()).prop_map(|(l, n)| Spec::Verbosity(l, n)),
        proptest::collection::vec(key(), 0..3).prop_map(Spec::Stats),
        Just(Spec::Version),
    ]
}

/// Encodes `spec` and returns the owned request the parser should give back.
fn encode(spec: &Spec, out: &mut Vec<u8>) -> (Owned, bool) {
    let joined: Vec<u8>;
    let request = |command| Request {
        command,
        noreply: false,
    };
    let (req, expect) = match spec {
        Spec::Get(cas, touch, keys) => {
            joined = keys.join(&b' ');
            let r = request(Command::Get(Get {
                cas: *cas,
                touch: *touch,
                keys: Keys::new(&joined),
            }));
            let o = Owned::Get {
                cas: *cas,
                touch: *touch,
                keys: keys.clone(),
            };
            (r, o)
        }
        Spec::Store(command, key, flags, exptime, value, cas, noreply) => {
            let cas = if *command == StoreCommand::Cas {
                *cas
            } else {
                0
            };
            let r = Request {
                command: Command::Store(Store {
                    command: *command,
                    key,
                    flags: *flags,
                    exptime: *exptime,
                    value,
                    cas,
                }),
                noreply: *noreply,
            };
            let o = Owned::Store {
                command: *command,
                key: key.clone(),
                flags: *flags,
                exptime: *exptime,
                value: value.clone(),
                cas,
            };
            (r, o)
        }
        Spec::Arith(incr, key, delta, nr) => {
            let c = Command::Arith {
                incr: *incr,
                key,
                delta: *delta,
            };
            (
                Request {
                    command: c,
                    noreply: *nr,
                },
                Owned::Other(format!("{c:?}")),
            )
        }
        Spec::Delete(key, nr) => {
            let c = Command::Delete { key };
            (
                Request {
                    command: c,
                    noreply: *nr,
                },
                Owned::Other(format!("{c:?}")),
            )
        }
        Spec::Touch(key, exptime, nr) => {
            let c = Command::Touch {
                key,
                exptime: *exptime,
            };
            (
                Request {
                    command: c,
                    noreply: *nr,
                },
                Owned::Other(format!("{c:?}")),
            )
        }
        Spec::Flush(delay, nr) => {
            let c = Command::FlushAll { delay: *delay };
            (
                Request {
                    command: c,
                    noreply: *nr,
                },
                Owned::Other(format!("{c:?}")),
            )
        }
        Spec::Verbosity(level, nr) => {
            let c = Command::Verbosity { level: *level };
            (
                Request {
                    command: c,
                    noreply: *nr,
                },
                Owned::Other(format!("{c:?}")),
            )
        }
        Spec::Stats(args) => {
            joined = args.join(&b' ');
            let c = Command::Stats {
                args: Keys::new(&joined),
            };
            (request(c), Owned::Stats(args.clone()))
        }
        Spec::Version => (request(Command::Version), Owned::Other("Version".into())),
    };
    assert!(req.encode(out));
    (expect, req.noreply)
}

const NOISE: &[&[u8]] = &[
    b"get",
    b"gat",
    b"set",
    b"cas",
    b"incr",
    b"delete",
    b"touch",
    b"flush_all",
    b"noreply",
    b"0",
    b"-1",
    b"5",
    b"99999999999999999999",
    b"\r\n",
    b"\n",
    b" ",
    b"k",
    b"\0",
    b"HTTP/1.1",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic(
        input in proptest::collection::vec(any::<u8>(), 0..3000),
        cuts in proptest::collection::vec(0usize..3000, 0..4),
        item_size_max in 60usize..2000,
    ) {
        let config = ParserConfig { item_size_max, max_get_line: 2500 };
        feed(config, &input, &[]);
        let mut cuts = cuts;
        cuts.sort_unstable();
        feed(config, &input, &cuts);
    }

    #[test]
    fn command_shaped_noise_never_panics(
        words in proptest::collection::vec(proptest::sample::select(NOISE), 0..60),
    ) {
        let input: Vec<u8> = words.join(&b' ');
        let config = ParserConfig { item_size_max: 200, max_get_line: 4096 };
        let whole = feed(config, &input, &[]);
        let cuts: Vec<usize> = (0..input.len()).collect();
        prop_assert_eq!(feed(config, &input, &cuts), whole);
    }

    #[test]
    fn round_trips_and_splits(specs in proptest::collection::vec(spec(), 1..8)) {
        let mut input = Vec::new();
        let mut expect = Vec::new();
        for s in &specs {
            expect.push(encode(s, &mut input));
        }
        let config = ParserConfig::default();
        let whole = feed(config, &input, &[]);
        prop_assert_eq!(&whole, &expect);
        // Two reads split at every byte, then one byte per read.
        for k in 0..=input.len() {
            prop_assert_eq!(&feed(config, &input, &[k]), &expect, "split at {}", k);
        }
        let every: Vec<usize> = (0..input.len()).collect();
        prop_assert_eq!(&feed(config, &input, &every), &expect);
    }
}
