//! Command templates: `--command 'LPUSH list:{key} {value}'` compiled into RESP pieces.
//!
//! Owns the template syntax and the bytes a templated request puts on the wire. A
//! template is a command line whose arguments are separated by spaces; inside an argument
//! these placeholders are replaced for every request:
//!
//! | placeholder | replaced by |
//! |---|---|
//! | `{key}` | the request's key number, zero-padded to 12 digits (as in GET/SET keys) |
//! | `{keynum}` | the same number without padding |
//! | `{value}` | the `--value-size` value (the bytes SET writes) |
//! | `{n}` | a per-connection counter: 0 for the connection's first request, then 1, 2, … |
//! | `{conn}` | the connection's index (0-based), so `{conn}-{n}` is unique in a run |
//!
//! `{{` and `}}` stand for literal braces. Everything that does not change between
//! requests — the `*N` header, every constant argument with its `$len` header, and the
//! length headers of arguments whose length is fixed (`{key}`, `{value}`) — is rendered
//! once when the template is compiled, so encoding a request is a few `memcpy`s plus the
//! digits of the numbers; only arguments containing `{keynum}`, `{n}` or `{conn}` get their
//! length header written per request. Encoding never allocates once the output buffer has
//! grown to the batch size.

use crate::request::{key_digits, Skeleton, KEY_DIGITS};

/// Most templates one run accepts (`--command` given this many times at most).
pub const MAX_COMMANDS: usize = 16;

/// Most arguments one template may have (command name included).
pub const MAX_ARGS: usize = 100_000;

/// One piece of an argument whose length varies between requests.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    /// Constant bytes.
    Lit(Vec<u8>),
    /// The key number, zero-padded.
    Key,
    /// The key number, unpadded.
    KeyNum,
    /// The per-connection counter.
    N,
    /// The connection index.
    Conn,
}

/// One compiled part of a request, written in order.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    /// Constant bytes: headers, constant arguments, values, CRLFs.
    Lit(Vec<u8>),
    /// The 12 key digits (inside an argument whose length header is already written).
    Key,
    /// An argument of variable length: its `$len` header, then its pieces (the CRLF after
    /// it belongs to the next literal).
    Var(Vec<Piece>),
}

/// Per-request numbers a template may refer to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Vars {
    /// The key number (< 10^12).
    pub key: u64,
    /// The per-connection counter.
    pub n: u64,
    /// The connection index.
    pub conn: u64,
}

/// A compiled `--command` template.
#[derive(Debug, Clone)]
pub struct Template {
    /// The template as given (for reports).
    pub source: String,
    /// The command name (first argument), upper-cased, for reports.
    pub name: String,
    parts: Vec<Part>,
    /// The whole request with holes for the key digits, when no argument varies in length
    /// (then encoding is one `memcpy` plus the digits).
    skeleton: Option<Skeleton>,
    /// Bytes of the request apart from variable arguments' headers and digits.
    fixed_len: usize,
    /// Variable pieces: how many numbers of up to 20 digits, and headers of up to 22.
    var_numbers: usize,
    var_args: usize,
}

/// What an argument token was split into, before compilation.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Lit(Vec<u8>),
    Key,
    KeyNum,
    Value,
    N,
    Conn,
}

impl Template {
    /// Compiles `source` with `{value}` standing for `value`; the error is a message for
    /// the user.
    pub fn compile(source: &str, value: &[u8]) -> Result<Template, String> {
        let args: Vec<Vec<Token>> = source
            .split(' ')
            .filter(|a| !a.is_empty())
            .map(|a| tokens(a).map_err(|e| format!("command {source:?}: {e}")))
            .collect::<Result<_, _>>()?;
        if args.is_empty() {
            return Err("empty --command".into());
        }
        if args.len() > MAX_ARGS {
            return Err(format!(
                "command {source:?}: more than {MAX_ARGS} arguments"
            ));
        }
        let name = match args[0].as_slice() {
            [Token::Lit(b)] => String::from_utf8_lossy(b).to_ascii_uppercase(),
            _ => {
                return Err(format!(
                    "command {source:?}: the command name must be plain text"
                ))
            }
        };
        if name.as_bytes().first().is_some_and(u8::is_ascii_digit) {
            return Err(format!(
                "command {source:?}: a command name cannot start with a digit"
            ));
        }

        let mut parts: Vec<Part> = Vec::new();
        let mut lit = Vec::new();
        let mut num = itoa::Buffer::new();
        let (mut var_numbers, mut var_args) = (0, 0);
        lit.push(b'*');
        lit.extend_from_slice(num.format(args.len()).as_bytes());
        lit.extend_from_slice(b"\r\n");
        for arg in &args {
            let variable = arg
                .iter()
                .any(|t| matches!(t, Token::KeyNum | Token::N | Token::Conn));
            if variable {
                if !lit.is_empty() {
                    parts.push(Part::Lit(std::mem::take(&mut lit)));
                }
                let pieces: Vec<Piece> = arg
                    .iter()
                    .map(|t| match t {
                        Token::Lit(b) => Piece::Lit(b.clone()),
                        Token::Value => Piece::Lit(value.to_vec()),
                        Token::Key => Piece::Key,
                        Token::KeyNum => Piece::KeyNum,
                        Token::N => Piece::N,
                        Token::Conn => Piece::Conn,
                    })
                    .collect();
                var_args += 1;
                var_numbers += pieces
                    .iter()
                    .filter(|p| matches!(p, Piece::KeyNum | Piece::N | Piece::Conn))
                    .count();
                parts.push(Part::Var(merge_pieces(pieces)));
            } else {
                let len: usize = arg
                    .iter()
                    .map(|t| match t {
                        Token::Lit(b) => b.len(),
                        Token::Value => value.len(),
                        Token::Key => KEY_DIGITS,
                        _ => unreachable!("variable tokens are handled above"),
                    })
                    .sum();
                lit.push(b'$');
                lit.extend_from_slice(num.format(len).as_bytes());
                lit.extend_from_slice(b"\r\n");
                for t in arg {
                    match t {
                        Token::Lit(b) => lit.extend_from_slice(b),
                        Token::Value => lit.extend_from_slice(value),
                        Token::Key => {
                            parts.push(Part::Lit(std::mem::take(&mut lit)));
                            parts.push(Part::Key);
                        }
                        _ => unreachable!("variable tokens are handled above"),
                    }
                }
            }
            lit.extend_from_slice(b"\r\n");
        }
        parts.push(Part::Lit(lit));
        parts.retain(|p| !matches!(p, Part::Lit(b) if b.is_empty()));

        let fixed_len = parts
            .iter()
            .map(|p| match p {
                Part::Lit(b) => b.len(),
                Part::Key => KEY_DIGITS,
                Part::Var(pieces) => pieces
                    .iter()
                    .map(|q| match q {
                        Piece::Lit(b) => b.len(),
                        Piece::Key => KEY_DIGITS,
                        _ => 0,
                    })
                    .sum(),
            })
            .sum();
        let skeleton = parts.iter().all(|p| !matches!(p, Part::Var(_))).then(|| {
            Skeleton::build(parts.iter().map(|p| match p {
                Part::Lit(b) => Some(b.as_slice()),
                _ => None,
            }))
        });
        Ok(Template {
            source: source.to_string(),
            name,
            parts,
            skeleton,
            fixed_len,
            var_numbers,
            var_args,
        })
    }

    /// The most bytes one request can take (numbers at their longest).
    pub fn max_len(&self) -> usize {
        // A u64 has at most 20 digits; a `$len\r\n` header at most 1 + 20 + 2 bytes.
        self.fixed_len + self.var_numbers * 20 + self.var_args * 23
    }

    /// Whether every request is the same bytes whatever its key and counter.
    #[cfg(test)]
    pub fn is_constant(&self) -> bool {
        self.parts.iter().all(|p| matches!(p, Part::Lit(_)))
    }

    /// Appends one request with `vars` to `out`.
    #[inline]
    pub fn encode(&self, vars: Vars, out: &mut Vec<u8>) {
        if let Some(skeleton) = &self.skeleton {
            return skeleton.encode(vars.key, out);
        }
        let mut key = None;
        for part in &self.parts {
            match part {
                Part::Lit(b) => out.extend_from_slice(b),
                Part::Key => out.extend_from_slice(key.get_or_insert_with(|| key_digits(vars.key))),
                Part::Var(pieces) => encode_var(pieces, vars, &mut key, out),
            }
        }
    }
}

/// Writes a variable-length argument: its header, then its pieces.
#[inline]
fn encode_var(pieces: &[Piece], vars: Vars, key: &mut Option<[u8; KEY_DIGITS]>, out: &mut Vec<u8>) {
    // Numbers are formatted first so the header can carry the argument's length.
    let mut keynum = itoa::Buffer::new();
    let mut n = itoa::Buffer::new();
    let mut conn = itoa::Buffer::new();
    let (mut keynum_s, mut n_s, mut conn_s): (&[u8], &[u8], &[u8]) = (&[], &[], &[]);
    let mut len = 0;
    for p in pieces {
        len += match p {
            Piece::Lit(b) => b.len(),
            Piece::Key => KEY_DIGITS,
            Piece::KeyNum => {
                keynum_s = keynum.format(vars.key).as_bytes();
                keynum_s.len()
            }
            Piece::N => {
                n_s = n.format(vars.n).as_bytes();
                n_s.len()
            }
            Piece::Conn => {
                conn_s = conn.format(vars.conn).as_bytes();
                conn_s.len()
            }
        };
    }
    let mut hdr = itoa::Buffer::new();
    out.push(b'$');
    out.extend_from_slice(hdr.format(len).as_bytes());
    out.extend_from_slice(b"\r\n");
    for p in pieces {
        match p {
            Piece::Lit(b) => out.extend_from_slice(b),
            Piece::Key => out.extend_from_slice(key.get_or_insert_with(|| key_digits(vars.key))),
            Piece::KeyNum => out.extend_from_slice(keynum_s),
            Piece::N => out.extend_from_slice(n_s),
            Piece::Conn => out.extend_from_slice(conn_s),
        }
    }
}

/// Joins neighbouring literal pieces.
fn merge_pieces(pieces: Vec<Piece>) -> Vec<Piece> {
    let mut out: Vec<Piece> = Vec::with_capacity(pieces.len());
    for p in pieces {
        match (out.last_mut(), p) {
            (Some(Piece::Lit(a)), Piece::Lit(b)) => a.extend_from_slice(&b),
            (_, p) => out.push(p),
        }
    }
    out
}

/// Splits one argument into literals and placeholders.
fn tokens(arg: &str) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    let mut lit = Vec::new();
    let bytes = arg.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'{' if bytes.get(i + 1) == Some(&b'{') => {
                lit.push(b'{');
                i += 2;
            }
            b'}' if bytes.get(i + 1) == Some(&b'}') => {
                lit.push(b'}');
                i += 2;
            }
            b'{' => {
                let close = arg[i..]
                    .find('}')
                    .ok_or_else(|| format!("unclosed '{{' in argument {arg:?}"))?;
                let name = &arg[i + 1..i + close];
                let token = match name {
                    "key" => Token::Key,
                    "keynum" => Token::KeyNum,
                    "value" => Token::Value,
                    "n" => Token::N,
                    "conn" => Token::Conn,
                    _ => {
                        return Err(format!(
                            "unknown placeholder {{{name}}} (known: {{key}} {{keynum}} \
                             {{value}} {{n}} {{conn}}; write {{{{ and }}}} for braces)"
                        ))
                    }
                };
                if !lit.is_empty() {
                    out.push(Token::Lit(std::mem::take(&mut lit)));
                }
                out.push(token);
                i += close + 1;
            }
            b'}' => return Err(format!("unmatched '}}' in argument {arg:?}")),
            b => {
                lit.push(b);
                i += 1;
            }
        }
    }
    if !lit.is_empty() {
        out.push(Token::Lit(lit));
    }
    Ok(out)
}

/// Parses `--command [WEIGHT:]TEMPLATE`: an optional leading weight (digits and a colon;
/// command names never start with a digit), 1 by default.
pub fn split_weight(spec: &str) -> Result<(u64, &str), String> {
    let trimmed = spec.trim_start();
    let digits = trimmed.bytes().take_while(u8::is_ascii_digit).count();
    if digits > 0 && trimmed.as_bytes().get(digits) == Some(&b':') {
        let w: u64 = trimmed[..digits]
            .parse()
            .ok()
            .filter(|&w| (1..=1_000_000).contains(&w))
            .ok_or_else(|| format!("bad weight in --command {spec:?} (1 to 1000000)"))?;
        return Ok((w, &trimmed[digits + 1..]));
    }
    Ok((1, spec))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(t: &str, vars: Vars) -> Vec<u8> {
        let tpl = Template::compile(t, b"abc").unwrap();
        let mut out = Vec::new();
        tpl.encode(vars, &mut out);
        assert!(
            out.len() <= tpl.max_len(),
            "{} > {}",
            out.len(),
            tpl.max_len()
        );
        out
    }

    const V: Vars = Vars {
        key: 42,
        n: 7,
        conn: 3,
    };

    #[test]
    fn constant_command() {
        let t = Template::compile("PING", b"").unwrap();
        assert!(t.is_constant());
        assert_eq!(t.name, "PING");
        assert_eq!(render("PING", V), b"*1\r\n$4\r\nPING\r\n");
        assert_eq!(
            render("  LRANGE  l  0 99 ", V),
            b"*4\r\n$6\r\nLRANGE\r\n$1\r\nl\r\n$1\r\n0\r\n$2\r\n99\r\n"
        );
    }

    #[test]
    fn key_and_value_have_fixed_lengths() {
        assert_eq!(
            render("LPUSH list:{key} {value}", V),
            b"*3\r\n$5\r\nLPUSH\r\n$17\r\nlist:000000000042\r\n$3\r\nabc\r\n".as_slice()
        );
        // Twice in one argument, and a value glued to text.
        assert_eq!(
            render("SET {key}{key} v={value}!", V),
            b"*3\r\n$3\r\nSET\r\n$24\r\n000000000042000000000042\r\n$6\r\nv=abc!\r\n".as_slice()
        );
        assert!(!Template::compile("GET {key}", b"").unwrap().is_constant());
    }

    #[test]
    fn numbers_get_their_header_per_request() {
        assert_eq!(
            render("ZADD z:{keynum} {n} m{conn}-{n}", V),
            b"*4\r\n$4\r\nZADD\r\n$4\r\nz:42\r\n$1\r\n7\r\n$4\r\nm3-7\r\n".as_slice()
        );
        let big = Vars {
            key: 999_999_999_999,
            n: u64::MAX,
            conn: 10_000,
        };
        let out = render("X {keynum} {n}{key}", big);
        assert_eq!(
            out,
            b"*3\r\n$1\r\nX\r\n$12\r\n999999999999\r\n$32\r\n18446744073709551615999999999999\r\n"
                .as_slice()
        );
    }

    #[test]
    fn braces_escape_and_errors() {
        assert_eq!(
            render("GET {{tag}}:{key}", V),
            b"*2\r\n$3\r\nGET\r\n$18\r\n{tag}:000000000042\r\n".as_slice()
        );
        for bad in [
            "",
            "   ",
            "GET {nope}",
            "GET {key",
            "GET a}",
            "{key} x",
            "3X y",
        ] {
            assert!(Template::compile(bad, b"").is_err(), "{bad:?}");
        }
    }

    #[test]
    fn weights() {
        assert_eq!(
            split_weight("3:LPUSH l:{key} x"),
            Ok((3, "LPUSH l:{key} x"))
        );
        assert_eq!(split_weight("LPUSH l:{key} x"), Ok((1, "LPUSH l:{key} x")));
        assert_eq!(split_weight("HSET h:1 a:b"), Ok((1, "HSET h:1 a:b")));
        assert!(split_weight("0:GET x").is_err());
        assert!(split_weight("99999999:GET x").is_err());
    }

    #[test]
    fn many_values_in_one_command() {
        let t = Template::compile(&format!("RPUSH l:{{key}}{}", " {value}".repeat(100)), b"xy")
            .unwrap();
        let mut out = Vec::new();
        t.encode(V, &mut out);
        assert!(out.starts_with(b"*102\r\n$5\r\nRPUSH\r\n$14\r\nl:000000000042\r\n$2\r\nxy\r\n"));
        assert_eq!(out.len(), t.max_len(), "no variable parts: exact size");
    }
}
