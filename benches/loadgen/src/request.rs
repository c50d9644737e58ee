//! Request encoding: turns "GET or SET of key number n" into wire bytes.
//!
//! Owns the exact bytes the load generator sends for both protocols and the key naming
//! scheme (prefix + 12-digit zero-padded number). Everything that does not depend on the
//! key — command names, length headers, the value — is rendered once when the
//! [`Encoder`] is built, so encoding a request is a few `memcpy`s into a reused buffer
//! and never allocates once that buffer has grown to the batch size.

use clap::ValueEnum;

use crate::template::{Template, Vars};

/// Digits in the numeric part of every key; keys are zero-padded to this width so all
/// keys have the same length (and the same per-item memory cost on the server).
pub const KEY_DIGITS: usize = 12;

/// The largest keyspace whose key numbers fit in [`KEY_DIGITS`] digits.
pub const MAX_KEYSPACE: u64 = 1_000_000_000_000;

/// memcached refuses keys longer than this many bytes.
pub const MEMCACHE_MAX_KEY: usize = 250;

/// Wire protocol spoken to the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Protocol {
    /// RESP (redis-server, cachegate's Redis port): commands as multibulk arrays.
    Resp,
    /// memcached's classic text protocol (memcached, cachegate's memcache port).
    Memcache,
}

impl Protocol {
    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Resp => "resp",
            Protocol::Memcache => "memcache",
        }
    }

    /// The port a server of this protocol listens on by convention.
    pub fn default_port(self) -> u16 {
        match self {
            Protocol::Resp => 6379,
            Protocol::Memcache => 11211,
        }
    }
}

/// The operations the generator issues.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Read one key.
    Get,
    /// Write one key with the configured value.
    Set,
    /// The `--command` template with this index (RESP only).
    Command(u8),
}

/// Pre-rendered request pieces for one protocol, key prefix and value.
#[derive(Debug, Clone)]
pub struct Encoder {
    /// Everything before the key of a GET.
    get_head: Vec<u8>,
    /// Everything after the key of a GET.
    get_tail: &'static [u8],
    /// Everything before the key of a SET.
    set_head: Vec<u8>,
    /// Everything after the key of a SET: value length header, value, terminator.
    set_tail: Vec<u8>,
    /// Key prefix, copied before the digits of every key.
    prefix: Vec<u8>,
    /// Compiled `--command` templates, indexed by [`Op::Command`].
    commands: Vec<Template>,
}

impl Encoder {
    /// Renders the constant parts of GET and SET requests for `protocol`, keys starting
    /// with `prefix` and values of `value_size` bytes.
    pub fn new(protocol: Protocol, prefix: &[u8], value_size: usize) -> Self {
        let key_len = prefix.len() + KEY_DIGITS;
        let value = value_bytes(value_size);
        let mut num = itoa::Buffer::new();
        let (get_head, get_tail, set_head, set_tail) = match protocol {
            Protocol::Resp => {
                let key_hdr = [b"$", num.format(key_len).as_bytes(), b"\r\n"].concat();
                let get_head = [b"*2\r\n$3\r\nGET\r\n".as_slice(), &key_hdr].concat();
                let set_head = [b"*3\r\n$3\r\nSET\r\n".as_slice(), &key_hdr].concat();
                let set_tail = [
                    b"\r\n$".as_slice(),
                    num.format(value_size).as_bytes(),
                    b"\r\n",
                    &value,
                    b"\r\n",
                ]
                .concat();
                (get_head, b"\r\n".as_slice(), set_head, set_tail)
            }
            Protocol::Memcache => {
                // Flags 0 and no expiry: the same item redis stores for a plain SET.
                let set_tail = [
                    b" 0 0 ".as_slice(),
                    num.format(value_size).as_bytes(),
                    b"\r\n",
                    &value,
                    b"\r\n",
                ]
                .concat();
                (
                    b"get ".to_vec(),
                    b"\r\n".as_slice(),
                    b"set ".to_vec(),
                    set_tail,
                )
            }
        };
        Encoder {
            get_head,
            get_tail,
            set_head,
            set_tail,
            prefix: prefix.to_vec(),
            commands: Vec::new(),
        }
    }

    /// Adds the compiled `--command` templates; [`Op::Command`]`(i)` is `commands[i]`.
    pub fn with_commands(mut self, commands: Vec<Template>) -> Self {
        self.commands = commands;
        self
    }

    /// The value every SET (and every `{value}`) carries.
    pub fn value(value_size: usize) -> Vec<u8> {
        value_bytes(value_size)
    }

    /// Appends one request for `op` on key number `key` (< [`MAX_KEYSPACE`]) to `out`;
    /// `vars.n` and `vars.conn` only matter to templates.
    #[inline]
    pub fn encode(&self, op: Op, vars: Vars, out: &mut Vec<u8>) {
        let key = vars.key;
        match op {
            Op::Command(i) => self.commands[usize::from(i)].encode(vars, out),
            Op::Get => {
                out.extend_from_slice(&self.get_head);
                self.push_key(key, out);
                out.extend_from_slice(self.get_tail);
            }
            Op::Set => {
                out.extend_from_slice(&self.set_head);
                self.push_key(key, out);
                out.extend_from_slice(&self.set_tail);
            }
        }
    }

    /// The largest number of bytes one request can take; used to size write buffers.
    pub fn max_request_len(&self) -> usize {
        let key = self.prefix.len() + KEY_DIGITS;
        let builtin = (self.get_head.len() + key + self.get_tail.len())
            .max(self.set_head.len() + key + self.set_tail.len());
        self.commands
            .iter()
            .map(Template::max_len)
            .fold(builtin, usize::max)
    }

    #[inline]
    fn push_key(&self, key: u64, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.prefix);
        out.extend_from_slice(&key_digits(key));
    }
}

/// The 12 zero-padded decimal digits of key number `n` (taken modulo 10^12).
#[inline]
pub fn key_digits(mut n: u64) -> [u8; KEY_DIGITS] {
    let mut digits = [b'0'; KEY_DIGITS];
    for d in digits.iter_mut().rev() {
        *d = b'0' + (n % 10) as u8;
        n /= 10;
    }
    digits
}

/// The value written by every SET: printable bytes so a human reading a server dump can
/// tell them apart from protocol framing, varying so nothing mistakes them for padding.
fn value_bytes(size: usize) -> Vec<u8> {
    (0..size).map(|i| b'a' + (i % 26) as u8).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(key: u64) -> Vars {
        Vars { key, n: 0, conn: 0 }
    }

    fn encode(p: Protocol, op: Op, key: u64, value_size: usize) -> Vec<u8> {
        let enc = Encoder::new(p, b"key:", value_size);
        let mut out = Vec::new();
        enc.encode(op, vars(key), &mut out);
        assert!(out.len() <= enc.max_request_len());
        out
    }

    #[test]
    fn key_digits_are_zero_padded() {
        assert_eq!(&key_digits(0), b"000000000000");
        assert_eq!(&key_digits(42), b"000000000042");
        assert_eq!(&key_digits(999_999_999_999), b"999999999999");
    }

    #[test]
    fn resp_get_and_set() {
        assert_eq!(
            encode(Protocol::Resp, Op::Get, 7, 3),
            b"*2\r\n$3\r\nGET\r\n$16\r\nkey:000000000007\r\n"
        );
        assert_eq!(
            encode(Protocol::Resp, Op::Set, 7, 3),
            b"*3\r\n$3\r\nSET\r\n$16\r\nkey:000000000007\r\n$3\r\nabc\r\n"
        );
    }

    #[test]
    fn memcache_get_and_set() {
        assert_eq!(
            encode(Protocol::Memcache, Op::Get, 123, 5),
            b"get key:000000000123\r\n"
        );
        assert_eq!(
            encode(Protocol::Memcache, Op::Set, 123, 5),
            b"set key:000000000123 0 0 5\r\nabcde\r\n"
        );
    }

    #[test]
    fn empty_value_is_encoded() {
        assert_eq!(
            encode(Protocol::Resp, Op::Set, 1, 0),
            b"*3\r\n$3\r\nSET\r\n$16\r\nkey:000000000001\r\n$0\r\n\r\n"
        );
        assert_eq!(
            encode(Protocol::Memcache, Op::Set, 1, 0),
            b"set key:000000000001 0 0 0\r\n\r\n"
        );
    }

    #[test]
    fn encoding_appends_without_clearing() {
        let enc = Encoder::new(Protocol::Memcache, b"k", 1);
        let mut out = Vec::new();
        enc.encode(Op::Get, vars(1), &mut out);
        enc.encode(Op::Get, vars(2), &mut out);
        assert_eq!(out, b"get k000000000001\r\nget k000000000002\r\n");
    }
}
