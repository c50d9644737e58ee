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

/// A request rendered whole, with placeholder digits where the key number goes: encoding
/// it is one `memcpy` of the whole request and a 12-byte store per key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skeleton {
    bytes: Vec<u8>,
    /// Offsets in `bytes` of the [`KEY_DIGITS`] digits of each key occurrence.
    holes: Vec<usize>,
}

impl Skeleton {
    /// A skeleton from literal pieces and key holes, in order.
    pub fn build<'a>(pieces: impl IntoIterator<Item = Option<&'a [u8]>>) -> Self {
        let mut bytes = Vec::new();
        let mut holes = Vec::new();
        for piece in pieces {
            match piece {
                Some(lit) => bytes.extend_from_slice(lit),
                None => {
                    holes.push(bytes.len());
                    bytes.extend_from_slice(&[b'0'; KEY_DIGITS]);
                }
            }
        }
        Skeleton { bytes, holes }
    }

    /// Length of every request rendered from it.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Appends the request for key number `key` to `out`.
    #[inline]
    pub fn encode(&self, key: u64, out: &mut Vec<u8>) {
        let base = out.len();
        out.extend_from_slice(&self.bytes);
        if let Some((&first, rest)) = self.holes.split_first() {
            let digits = key_digits(key);
            out[base + first..base + first + KEY_DIGITS].copy_from_slice(&digits);
            for &h in rest {
                out[base + h..base + h + KEY_DIGITS].copy_from_slice(&digits);
            }
        }
    }
}

/// Pre-rendered GET and SET requests for one protocol, key prefix and value, and the
/// compiled `--command` templates.
#[derive(Debug, Clone)]
pub struct Encoder {
    /// A whole GET with a hole for the key digits.
    get: Skeleton,
    /// A whole SET (value included) with a hole for the key digits.
    set: Skeleton,
    /// Compiled `--command` templates, indexed by [`Op::Command`].
    commands: Vec<Template>,
}

impl Encoder {
    /// Renders GET and SET requests for `protocol`, keys starting with `prefix` and values
    /// of `value_size` bytes.
    pub fn new(protocol: Protocol, prefix: &[u8], value_size: usize) -> Self {
        let key_len = prefix.len() + KEY_DIGITS;
        let value = value_bytes(value_size);
        let mut num = itoa::Buffer::new();
        let mut vnum = itoa::Buffer::new();
        let value_len = vnum.format(value_size).as_bytes();
        let (get, set) = match protocol {
            Protocol::Resp => {
                let key_hdr = [b"$", num.format(key_len).as_bytes(), b"\r\n"].concat();
                let get = Skeleton::build([
                    Some(b"*2\r\n$3\r\nGET\r\n".as_slice()),
                    Some(&key_hdr),
                    Some(prefix),
                    None,
                    Some(b"\r\n"),
                ]);
                let set = Skeleton::build([
                    Some(b"*3\r\n$3\r\nSET\r\n".as_slice()),
                    Some(&key_hdr),
                    Some(prefix),
                    None,
                    Some(b"\r\n$"),
                    Some(value_len),
                    Some(b"\r\n"),
                    Some(&value),
                    Some(b"\r\n"),
                ]);
                (get, set)
            }
            Protocol::Memcache => {
                // Flags 0 and no expiry: the same item redis stores for a plain SET.
                let get =
                    Skeleton::build([Some(b"get ".as_slice()), Some(prefix), None, Some(b"\r\n")]);
                let set = Skeleton::build([
                    Some(b"set ".as_slice()),
                    Some(prefix),
                    None,
                    Some(b" 0 0 "),
                    Some(value_len),
                    Some(b"\r\n"),
                    Some(&value),
                    Some(b"\r\n"),
                ]);
                (get, set)
            }
        };
        Encoder {
            get,
            set,
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
        match op {
            Op::Get => self.get.encode(vars.key, out),
            Op::Set => self.set.encode(vars.key, out),
            Op::Command(i) => self.commands[usize::from(i)].encode(vars, out),
        }
    }

    /// The largest number of bytes one request can take; used to size write buffers.
    pub fn max_request_len(&self) -> usize {
        self.commands
            .iter()
            .map(Template::max_len)
            .fold(self.get.len().max(self.set.len()), usize::max)
    }
}

/// "00" to "99": two digits per table entry, so a number is converted two digits at a time.
const PAIRS: [u8; 200] = {
    let mut t = [0u8; 200];
    let mut i = 0;
    while i < 100 {
        t[2 * i] = b'0' + (i / 10) as u8;
        t[2 * i + 1] = b'0' + (i % 10) as u8;
        i += 1;
    }
    t
};

/// Writes the six zero-padded digits of `x` (< 10^6) into `out`.
#[inline]
fn six_digits(x: u32, out: &mut [u8]) {
    let (a, r) = (x / 10_000, x % 10_000);
    let (b, c) = (r / 100, r % 100);
    for (i, pair) in [a, b, c].into_iter().enumerate() {
        let p = 2 * pair as usize;
        out[2 * i..2 * i + 2].copy_from_slice(&PAIRS[p..p + 2]);
    }
}

/// The 12 zero-padded decimal digits of key number `n` (taken modulo 10^12), two digits
/// per step (a key is rendered for every request, so this is on the hot path).
#[inline]
pub fn key_digits(n: u64) -> [u8; KEY_DIGITS] {
    let n = n % MAX_KEYSPACE;
    let mut digits = [b'0'; KEY_DIGITS];
    six_digits((n / 1_000_000) as u32, &mut digits[..6]);
    six_digits((n % 1_000_000) as u32, &mut digits[6..]);
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
        assert_eq!(
            &key_digits(1_000_000_000_123),
            b"000000000123",
            "modulo 10^12"
        );
        // Against the obvious formatting, over a spread of numbers.
        let mut n = 1u64;
        for _ in 0..10_000 {
            assert_eq!(
                key_digits(n).as_slice(),
                format!("{:012}", n % MAX_KEYSPACE).as_bytes()
            );
            n = n
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407)
                >> 20;
        }
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
