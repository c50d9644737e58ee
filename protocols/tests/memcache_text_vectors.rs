//! Wire vectors for memcached's text protocol: input bytes → the requests the parser finds,
//! including the framing cases checked against memcached 1.6.18 (where bytes are swallowed,
//! where a data block is read as a command line, where the connection is closed).

use cachegate_protocols::memcache::{
    CloseReason, Command, ErrorReply, Parse, Parser, ParserConfig, Request, StoreCommand,
};

/// Everything the parser finds in `input`, as debug strings, and the bytes left unused.
fn parse_all_with(config: ParserConfig, input: &[u8]) -> (Vec<String>, usize, Option<usize>) {
    let mut p = Parser::new(config);
    let mut pos = 0;
    let mut out = Vec::new();
    loop {
        match p.parse(&input[pos..]) {
            Parse::Request { request, len } => {
                pos += len;
                out.push(show(&request));
                if matches!(request.command, Command::Close(_) | Command::Quit) {
                    return (out, input.len() - pos, None);
                }
            }
            Parse::Incomplete { consumed, need } => {
                pos += consumed;
                return (out, input.len() - pos, need);
            }
        }
    }
}

fn parse_all(input: &[u8]) -> (Vec<String>, usize, Option<usize>) {
    parse_all_with(ParserConfig::default(), input)
}

fn show(r: &Request<'_>) -> String {
    let nr = if r.noreply { " noreply" } else { "" };
    let s = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let body = match r.command {
        Command::Get(g) => {
            let keys: Vec<String> = g.keys.map(s).collect();
            format!("get cas={} touch={:?} [{}]", g.cas, g.touch, keys.join(","))
        }
        Command::Store(st) => format!(
            "{} {} {} {} {:?} {}",
            st.command.name(),
            s(st.key),
            st.flags,
            st.exptime,
            s(st.value),
            st.cas
        ),
        Command::TooLarge { command, key } => format!("too-large {} {}", command.name(), s(key)),
        Command::Error(e) => e.message().to_string(),
        other => format!("{other:?}"),
    };
    format!("{body}{nr}")
}

#[test]
fn storage_commands_take_their_data_block() {
    let (reqs, left, _) = parse_all(b"set k 5 0 3\r\nabc\r\ncas k 0 10 1 47 noreply\r\nz\r\n");
    assert_eq!(
        reqs,
        vec!["set k 5 0 \"abc\" 0", "cas k 0 10 \"z\" 47 noreply"]
    );
    assert_eq!(left, 0);
    // Data may contain anything, newlines included.
    let (reqs, _, _) = parse_all(b"set k 0 0 4\r\n\r\n\r\n\r\n");
    assert_eq!(reqs, vec!["set k 0 0 \"\\r\\n\\r\\n\" 0"]);
    // A line ending in a bare \n works; so does "\r\r\n" (the number reads "1\r").
    let (reqs, _, _) = parse_all(b"set k 0 0 1\na\r\nset k 0 0 1\r\r\nb\r\n");
    assert_eq!(reqs, vec!["set k 0 0 \"a\" 0", "set k 0 0 \"b\" 0"]);
}

#[test]
fn bad_data_chunk_consumes_exactly_len_plus_two() {
    // memcached: CLIENT_ERROR bad data chunk, then "\r\n" is read as a line: ERROR.
    let (reqs, _, _) = parse_all(b"set k 0 0 1\r\nabc\r\nget k\r\n");
    assert_eq!(
        reqs,
        vec![
            "CLIENT_ERROR bad data chunk",
            "ERROR",
            "get cas=false touch=None [k]"
        ]
    );
    // "a\nv" is the block; "ersion" is then an unknown command.
    let (reqs, _, _) = parse_all(b"set k 0 0 1\r\na\nversion\r\n");
    assert_eq!(reqs, vec!["CLIENT_ERROR bad data chunk", "ERROR"]);
    // noreply silences the error, not the line that follows.
    let (reqs, _, _) = parse_all(b"set k 0 0 1 noreply\r\nabc\r\n");
    assert_eq!(reqs, vec!["CLIENT_ERROR bad data chunk noreply", "ERROR"]);
}

#[test]
fn bad_storage_lines_swallow_nothing() {
    for line in [
        &b"set k 0 0 -1\r\nhello\r\n"[..],
        b"set k 0 0 abc\r\nhello\r\n",
        b"set k -1 0 1\r\nhello\r\n",
        b"set k 0x5 0 1\r\nhello\r\n",
    ] {
        let (reqs, _, _) = parse_all(line);
        assert_eq!(
            reqs,
            vec!["CLIENT_ERROR bad command line format", "ERROR"],
            "{line:?}"
        );
    }
}

#[test]
fn too_large_items_are_swallowed_as_they_arrive() {
    let mut input = b"set k 0 0 2000000\r\n".to_vec();
    input.extend(vec![b'x'; 2_000_000]);
    input.extend_from_slice(b"\r\nget k\r\n");
    let (reqs, left, _) = parse_all(&input);
    assert_eq!(
        reqs,
        vec!["too-large set k", "get cas=false touch=None [k]"]
    );
    assert_eq!(left, 0);

    // Arriving in pieces: the block is dropped chunk by chunk, never buffered whole.
    let mut p = Parser::new(ParserConfig {
        item_size_max: 64,
        ..ParserConfig::default()
    });
    let Parse::Request { request, len } = p.parse(b"set k 0 0 10 noreply\r\nabc") else {
        panic!()
    };
    assert!(request.noreply);
    assert_eq!(
        p.parse(&b"set k 0 0 10 noreply\r\nabc"[len..]),
        Parse::Incomplete {
            consumed: 3,
            need: Some(9)
        }
    );
    let Parse::Request { request, len } = p.parse(b"defghij\r\nversion\r\n") else {
        panic!()
    };
    assert_eq!((request.command, len), (Command::Version, 18));
}

#[test]
fn the_item_size_limit_matches_memcached() {
    // With -I 1m: key "k", flags 0 → at most 1048516 bytes; non-zero flags cost 4 more.
    let big = |flags: u32, n: usize| {
        let mut v = format!("set k {flags} 0 {n}\r\n").into_bytes();
        v.extend(vec![b'x'; n]);
        v.extend_from_slice(b"\r\n");
        parse_all(&v).0.remove(0)
    };
    assert!(big(0, 1_048_516).starts_with("set k"));
    assert_eq!(big(0, 1_048_517), "too-large set k");
    assert!(big(1, 1_048_512).starts_with("set k"));
    assert_eq!(big(1, 1_048_513), "too-large set k");
}

#[test]
fn incomplete_requests_say_what_they_need() {
    assert_eq!(parse_all(b"get k"), (vec![], 5, None));
    assert_eq!(parse_all(b"set k 0 0 10\r\nabc"), (vec![], 17, Some(26)));
    // Resuming does not re-read the line.
    let mut p = Parser::default();
    assert!(matches!(
        p.parse(b"set k 0 0 3\r\na"),
        Parse::Incomplete { .. }
    ));
    assert!(p.has_pending());
    let Parse::Request { request, len } = p.parse(b"set k 0 0 3\r\nabc\r\n") else {
        panic!()
    };
    assert_eq!(len, 18);
    assert!(matches!(request.command, Command::Store(s) if s.value == b"abc"));
    assert!(!p.has_pending());
}

#[test]
fn line_limits() {
    // Over 2048 bytes without a newline: closed, unless it may be a multiget.
    let mut set = b"set ".to_vec();
    set.extend(vec![b'k'; 3000]);
    assert_eq!(
        parse_all(&set).0,
        vec![format!("{:?}", Command::Close(CloseReason::LineTooLong))]
    );
    let mut short = b"xyz ".to_vec();
    short.extend(vec![b'k'; 2040]);
    assert_eq!(parse_all(&short).0, Vec::<String>::new());
    for prefix in [&b"get "[..], b"gets ", &[b' '; 100], b"   get "] {
        let mut get = prefix.to_vec();
        if prefix.iter().all(|&b| b == b' ') {
            get.extend_from_slice(b"get ");
        }
        get.extend(vec![b'k'; 3000]);
        assert_eq!(parse_all(&get).0, Vec::<String>::new(), "{prefix:?}");
    }
    let mut spaces = vec![b' '; 101];
    spaces.extend_from_slice(b"get ");
    spaces.extend(vec![b'k'; 3000]);
    assert_eq!(parse_all(&spaces).0.len(), 1);
    let mut gat = b"gat ".to_vec();
    gat.extend(vec![b'k'; 3000]);
    assert_eq!(parse_all(&gat).0.len(), 1);

    // A long line that arrived whole is read (memcached reads up to 16 KiB at once)...
    let mut line = b"set ".to_vec();
    line.extend(vec![b'k'; 3000]);
    line.extend_from_slice(b" 0 0 1\r\na\r\n");
    assert_eq!(
        parse_all(&line).0,
        vec!["CLIENT_ERROR bad command line format", "ERROR"]
    );
    // ...but not one longer than its read buffer.
    let mut line = b"foo ".to_vec();
    line.extend(vec![b'k'; 20000]);
    line.extend_from_slice(b"\r\n");
    assert_eq!(parse_all(&line).0.len(), 1);
    assert!(parse_all(&line).0[0].contains("LineTooLong"));

    // A multiget line has our own limit instead of none.
    let config = ParserConfig {
        max_get_line: 4096,
        ..ParserConfig::default()
    };
    let mut get = b"get ".to_vec();
    get.extend(vec![b'k'; 5000]);
    assert!(parse_all_with(config, &get).0[0].contains("GetLineTooLong"));
    let keys: Vec<String> = (0..3000).map(|i| format!("k{i}")).collect();
    let get = format!("gets {}\r\n", keys.join(" "));
    let (reqs, _, _) = parse_all(get.as_bytes());
    assert_eq!(reqs.len(), 1);
    assert!(reqs[0].starts_with("get cas=true touch=None [k0,k1,"));
}

#[test]
fn lines_are_c_strings() {
    // A NUL hides the rest of the line.
    let (reqs, _, _) = parse_all(b"get a \x00b\r\nversion\r\n");
    assert_eq!(reqs, vec!["get cas=false touch=None [a]", "Version"]);
    // "\r\n" alone is the one-byte command "\r"; an empty line is an empty command.
    let (reqs, _, _) = parse_all(b"\r\n\n");
    assert_eq!(reqs, vec!["ERROR", "ERROR"]);
    // Words are split on spaces only.
    let (reqs, _, _) = parse_all(b"set k\t0 0 1\r\na\r\nset k 0 \t0 1\r\na\r\n");
    assert_eq!(reqs, vec!["ERROR", "ERROR", "set k 0 0 \"a\" 0"]);
}

#[test]
fn quit_and_close_stop_the_stream() {
    let (reqs, left, _) = parse_all(b"version\r\nquit\r\nversion\r\n");
    assert_eq!(reqs, vec!["Version", "Quit"]);
    assert_eq!(left, 9);
    let (reqs, _, _) = parse_all(b"GET / HTTP/1.1\r\nHost: x\r\n");
    assert_eq!(
        reqs,
        vec![format!("{:?}", Command::Close(CloseReason::Http))]
    );
}

#[test]
fn every_store_command() {
    for (name, cmd) in [
        ("set", StoreCommand::Set),
        ("add", StoreCommand::Add),
        ("replace", StoreCommand::Replace),
        ("append", StoreCommand::Append),
        ("prepend", StoreCommand::Prepend),
    ] {
        let input = format!("{name} key 1 2 1\r\nv\r\n");
        let mut p = Parser::default();
        let Parse::Request { request, .. } = p.parse(input.as_bytes()) else {
            panic!()
        };
        let Command::Store(s) = request.command else {
            panic!()
        };
        assert_eq!(
            (s.command, s.key, s.flags, s.exptime),
            (cmd, &b"key"[..], 1, 2)
        );
    }
    assert_eq!(parse_all(b"cas k 0 0 1\r\nb\r\n").0, vec!["ERROR", "ERROR"]);
    assert_eq!(
        parse_all(b"incr\r\nincr a\r\nincr a 1 2 3\r\n").0,
        vec!["ERROR", "ERROR", "ERROR"]
    );
    assert_eq!(
        parse_all(b"incr n abc\r\nincr n -1\r\nincr n 18446744073709551616\r\n").0,
        vec![ErrorReply::InvalidDelta.message(); 3]
    );
}
