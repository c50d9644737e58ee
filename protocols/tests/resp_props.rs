//! Property tests for the RESP decoders: no input panics them, every frame survives an
//! encode/decode round trip, and a stream split at any byte boundary parses the same.

use bytes::Bytes;
use cachegate_protocols::resp::{decode, Batch, DecodeLimits, Frame, RequestParser};
use proptest::prelude::*;

fn leaf() -> impl Strategy<Value = Frame> {
    prop_oneof![
        "[a-zA-Z0-9 ]{0,12}".prop_map(Frame::simple),
        "[a-zA-Z0-9 ]{0,12}".prop_map(Frame::error),
        any::<i64>().prop_map(Frame::Integer),
        proptest::collection::vec(any::<u8>(), 0..40).prop_map(Frame::bulk),
        Just(Frame::NullBulk),
        Just(Frame::NullArray),
        Just(Frame::Null),
        any::<f64>().prop_map(Frame::Double),
        any::<bool>().prop_map(Frame::Boolean),
        "-?[1-9][0-9]{0,40}".prop_map(|s| Frame::BigNumber(Bytes::from(s))),
        (
            proptest::array::uniform3(b'a'..=b'z'),
            proptest::collection::vec(any::<u8>(), 0..20)
        )
            .prop_map(|(format, text)| Frame::Verbatim {
                format,
                text: Bytes::from(text)
            }),
        proptest::collection::vec(any::<u8>(), 0..20)
            .prop_map(|b| Frame::BlobError(Bytes::from(b))),
    ]
}

fn frame() -> impl Strategy<Value = Frame> {
    leaf().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Frame::Array),
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Frame::Set),
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Frame::Push),
            proptest::collection::vec((inner.clone(), inner.clone()), 0..4).prop_map(Frame::Map),
            (
                proptest::collection::vec((inner.clone(), inner.clone()), 0..3),
                inner
            )
                .prop_map(|(a, f)| Frame::Attribute(a, Box::new(f))),
        ]
    })
}

fn parse_requests(chunks: &[&[u8]]) -> (Vec<Vec<Vec<u8>>>, Option<String>) {
    let mut parser = RequestParser::default();
    let mut batch = Batch::default();
    let mut buf: Vec<u8> = Vec::new();
    let mut out = Vec::new();
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        loop {
            parser.parse(&buf, &mut batch, 7);
            for r in &batch.requests {
                out.push(batch.args(&buf, r).to_vecs());
            }
            if let Some(e) = batch.error {
                return (out, Some(e.to_string()));
            }
            let progressed = batch.consumed > 0 || !batch.requests.is_empty();
            buf.drain(..batch.consumed);
            if !progressed {
                break;
            }
        }
    }
    (out, None)
}

proptest! {
    #[test]
    fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = decode(&bytes, &DecodeLimits::default());
    }

    #[test]
    fn request_parser_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = parse_requests(&[&bytes]);
    }

    #[test]
    fn request_parser_never_panics_on_resp_like_input(
        parts in proptest::collection::vec(
            prop_oneof![
                Just(b"*".to_vec()), Just(b"$".to_vec()), Just(b"\r\n".to_vec()),
                Just(b"\"".to_vec()), Just(b"'".to_vec()), Just(b"\\x".to_vec()),
                "-?[0-9]{1,3}".prop_map(|s| s.into_bytes()),
                proptest::collection::vec(any::<u8>(), 0..4),
            ],
            0..40,
        )
    ) {
        let bytes: Vec<u8> = parts.concat();
        let _ = parse_requests(&[&bytes]);
    }

    #[test]
    fn frames_round_trip(f in frame()) {
        let bytes = f.to_bytes();
        let decoded = decode(&bytes, &DecodeLimits::default());
        prop_assert_eq!(decoded, Ok(Some((f, bytes.len()))));
    }

    #[test]
    fn frames_split_anywhere(f in frame(), cut in any::<prop::sample::Index>()) {
        let bytes = f.to_bytes();
        let cut = cut.index(bytes.len());
        // A strict prefix is never a whole frame.
        prop_assert_eq!(decode(&bytes[..cut], &DecodeLimits::default()), Ok(None));
    }

    #[test]
    fn requests_split_anywhere(
        cmds in proptest::collection::vec(
            proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..12), 1..5), 1..6),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..6),
    ) {
        let mut wire = Vec::new();
        for c in &cmds {
            Frame::command(c).encode(&mut wire);
        }
        let mut points: Vec<usize> = cuts.iter().map(|i| i.index(wire.len() + 1)).collect();
        points.sort_unstable();
        let mut chunks: Vec<&[u8]> = Vec::new();
        let mut last = 0;
        for p in points {
            chunks.push(&wire[last..p]);
            last = p;
        }
        chunks.push(&wire[last..]);
        let (got, err) = parse_requests(&chunks);
        prop_assert_eq!(err, None);
        prop_assert_eq!(got, cmds);
    }
}

#[test]
fn every_byte_boundary() {
    let wire = b"*3\r\n$3\r\nSET\r\n$3\r\nk\x00y\r\n$0\r\n\r\nPING\r\n*1\r\n$4\r\nECHO\r\n";
    let want = parse_requests(&[wire]);
    for a in 0..=wire.len() {
        for b in a..=wire.len() {
            assert_eq!(
                parse_requests(&[&wire[..a], &wire[a..b], &wire[b..]]),
                want,
                "cuts {a} {b}"
            );
        }
    }
}
