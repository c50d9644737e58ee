//! Writing requests the way a client sends them: the inverse of the [`Parser`] for every
//! well-formed request. Tests, the differential tester and the load generator use it.
//!
//! [`Parser`]: super::Parser

use super::request::{Command, Request, StoreCommand};

fn word(out: &mut Vec<u8>, w: &[u8]) {
    out.push(b' ');
    out.extend_from_slice(w);
}

fn num(out: &mut Vec<u8>, n: impl itoa::Integer) {
    let mut buf = itoa::Buffer::new();
    word(out, buf.format(n).as_bytes());
}

impl Request<'_> {
    /// Appends the request as a client would send it and returns true, or returns false
    /// (writing nothing) for the variants that only describe bad input
    /// ([`Command::Error`], [`Command::TooLarge`], [`Command::GetKeyTooLong`],
    /// [`Command::Close`]).
    pub fn encode(&self, out: &mut Vec<u8>) -> bool {
        let noreply = |out: &mut Vec<u8>| {
            if self.noreply {
                word(out, b"noreply");
            }
        };
        match self.command {
            Command::Get(g) => {
                out.extend_from_slice(match (g.cas, g.touch.is_some()) {
                    (false, false) => b"get".as_slice(),
                    (true, false) => b"gets",
                    (false, true) => b"gat",
                    (true, true) => b"gats",
                });
                if let Some(e) = g.touch {
                    num(out, e);
                }
                for k in g.keys {
                    word(out, k);
                }
            }
            Command::Store(s) => {
                out.extend_from_slice(s.command.name().as_bytes());
                word(out, s.key);
                num(out, s.flags);
                num(out, s.exptime);
                num(out, s.value.len());
                if s.command == StoreCommand::Cas {
                    num(out, s.cas);
                }
                noreply(out);
                out.extend_from_slice(b"\r\n");
                out.extend_from_slice(s.value);
            }
            Command::Arith { incr, key, delta } => {
                out.extend_from_slice(if incr { b"incr" } else { b"decr" });
                word(out, key);
                num(out, delta);
                noreply(out);
            }
            Command::Delete { key } => {
                out.extend_from_slice(b"delete");
                word(out, key);
                noreply(out);
            }
            Command::Touch { key, exptime } => {
                out.extend_from_slice(b"touch");
                word(out, key);
                num(out, exptime);
                noreply(out);
            }
            Command::FlushAll { delay } => {
                out.extend_from_slice(b"flush_all");
                if delay != 0 {
                    num(out, delay);
                }
                noreply(out);
            }
            Command::Version => out.extend_from_slice(b"version"),
            Command::Verbosity { level } => {
                out.extend_from_slice(b"verbosity");
                num(out, level);
                noreply(out);
            }
            Command::Quit => out.extend_from_slice(b"quit"),
            Command::Stats { args } => {
                out.extend_from_slice(b"stats");
                for a in args {
                    word(out, a);
                }
            }
            Command::Shutdown => out.extend_from_slice(b"shutdown"),
            Command::TooLarge { .. }
            | Command::GetKeyTooLong
            | Command::Error(_)
            | Command::Close(_) => return false,
        }
        out.extend_from_slice(b"\r\n");
        true
    }
}

#[cfg(test)]
mod tests {
    use super::super::request::{Get, Keys, Store};
    use super::*;

    #[test]
    fn encodes() {
        let mut out = Vec::new();
        let set = Request {
            command: Command::Store(Store {
                command: StoreCommand::Cas,
                key: b"k",
                flags: 3,
                exptime: -1,
                value: b"ab",
                cas: 9,
            }),
            noreply: true,
        };
        assert!(set.encode(&mut out));
        let get = Request::new(Command::Get(Get {
            cas: true,
            touch: Some(10),
            keys: Keys::new(b"a b"),
        }));
        assert!(get.encode(&mut out));
        assert!(!Request::new(Command::GetKeyTooLong).encode(&mut out));
        assert_eq!(out, b"cas k 3 -1 2 9 noreply\r\nab\r\ngats 10 a b\r\n");
    }
}
