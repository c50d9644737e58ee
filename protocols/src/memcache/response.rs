//! Writing memcached's text replies: the fixed result lines, `VALUE` blocks and `STAT` lines,
//! byte for byte as memcached 1.6.18 sends them (`doc/protocol.txt`, "Retrieval command",
//! "Storage commands", "Statistics").

use std::fmt;

/// The fixed one-line replies of the classic commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reply {
    /// `STORED`
    Stored,
    /// `NOT_STORED`: the condition of `add`/`replace`/`append`/`prepend` was not met.
    NotStored,
    /// `EXISTS`: a `cas` found the item modified since it was fetched.
    Exists,
    /// `NOT_FOUND`
    NotFound,
    /// `DELETED`
    Deleted,
    /// `TOUCHED`
    Touched,
    /// `OK` (`flush_all`, `verbosity`)
    Ok,
    /// `END`: closes a `get` or `stats` reply.
    End,
    /// `RESET` (`stats reset`)
    Reset,
    /// `SERVER_ERROR object too large for cache`
    TooLarge,
    /// `SERVER_ERROR out of memory storing object`
    NoMemoryStoring,
    /// `SERVER_ERROR out of memory` (`incr`/`decr` that needed a larger item)
    NoMemory,
    /// `CLIENT_ERROR cannot increment or decrement non-numeric value`
    NonNumeric,
    /// `ERROR: shutdown not enabled` (memcached started without `-A`)
    ShutdownNotEnabled,
}

impl Reply {
    /// The reply line, CRLF included.
    pub fn line(self) -> &'static [u8] {
        match self {
            Reply::Stored => b"STORED\r\n",
            Reply::NotStored => b"NOT_STORED\r\n",
            Reply::Exists => b"EXISTS\r\n",
            Reply::NotFound => b"NOT_FOUND\r\n",
            Reply::Deleted => b"DELETED\r\n",
            Reply::Touched => b"TOUCHED\r\n",
            Reply::Ok => b"OK\r\n",
            Reply::End => b"END\r\n",
            Reply::Reset => b"RESET\r\n",
            Reply::TooLarge => b"SERVER_ERROR object too large for cache\r\n",
            Reply::NoMemoryStoring => b"SERVER_ERROR out of memory storing object\r\n",
            Reply::NoMemory => b"SERVER_ERROR out of memory\r\n",
            Reply::NonNumeric => {
                b"CLIENT_ERROR cannot increment or decrement non-numeric value\r\n"
            }
            Reply::ShutdownNotEnabled => b"ERROR: shutdown not enabled\r\n",
        }
    }

    /// Appends the reply line to `out`.
    pub fn write(self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.line());
    }
}

/// Appends `line` and a CRLF.
pub fn write_line(out: &mut Vec<u8>, line: &str) {
    out.extend_from_slice(line.as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// Appends an unsigned number on its own line (the reply to `incr`/`decr`).
pub fn write_number(out: &mut Vec<u8>, n: u64) {
    let mut buf = itoa::Buffer::new();
    out.extend_from_slice(buf.format(n).as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// Appends the header of one `get` hit: `VALUE <key> <flags> <bytes>[ <cas>]\r\n`. The data
/// and its CRLF follow (see [`write_value`]).
pub fn write_value_header(out: &mut Vec<u8>, key: &[u8], flags: u32, len: usize, cas: Option<u64>) {
    let mut buf = itoa::Buffer::new();
    out.extend_from_slice(b"VALUE ");
    out.extend_from_slice(key);
    out.push(b' ');
    out.extend_from_slice(buf.format(flags).as_bytes());
    out.push(b' ');
    out.extend_from_slice(buf.format(len).as_bytes());
    if let Some(cas) = cas {
        out.push(b' ');
        out.extend_from_slice(buf.format(cas).as_bytes());
    }
    out.extend_from_slice(b"\r\n");
}

/// Appends one `get` hit: its `VALUE` line, the data and a CRLF.
pub fn write_value(out: &mut Vec<u8>, key: &[u8], flags: u32, value: &[u8], cas: Option<u64>) {
    out.reserve(value.len() + key.len() + 48);
    write_value_header(out, key, flags, value.len(), cas);
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

/// Appends `VERSION <version>\r\n`.
pub fn write_version(out: &mut Vec<u8>, version: &str) {
    out.extend_from_slice(b"VERSION ");
    write_line(out, version);
}

/// Appends `STAT <name> <value>\r\n`.
pub fn write_stat(out: &mut Vec<u8>, name: &str, value: impl fmt::Display) {
    use std::io::Write;
    out.extend_from_slice(b"STAT ");
    out.extend_from_slice(name.as_bytes());
    out.push(b' ');
    // Writing to a Vec cannot fail.
    let _ = write!(out, "{value}");
    out.extend_from_slice(b"\r\n");
}

/// A CPU time as memcached prints it in `rusage_user`/`rusage_system`: seconds, a dot and
/// six digits of microseconds (`%ld.%06ld`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeval(pub std::time::Duration);

impl fmt::Display for Timeval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:06}", self.0.as_secs(), self.0.subsec_micros())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn value_blocks() {
        let mut out = Vec::new();
        write_value(&mut out, b"k", 5, b"abc", None);
        write_value(&mut out, b"k", 0, b"", Some(47));
        Reply::End.write(&mut out);
        assert_eq!(out, b"VALUE k 5 3\r\nabc\r\nVALUE k 0 0 47\r\n\r\nEND\r\n");
    }

    #[test]
    fn stat_lines() {
        let mut out = Vec::new();
        write_stat(&mut out, "pid", 42);
        write_stat(
            &mut out,
            "rusage_user",
            Timeval(Duration::from_micros(1_018_480)),
        );
        write_stat(&mut out, "rusage_system", Timeval(Duration::ZERO));
        write_version(&mut out, "1.6.18");
        write_number(&mut out, u64::MAX);
        assert_eq!(
            out,
            b"STAT pid 42\r\nSTAT rusage_user 1.018480\r\nSTAT rusage_system 0.000000\r\n\
              VERSION 1.6.18\r\n18446744073709551615\r\n"
        );
    }
}
