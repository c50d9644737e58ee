//! What both differential testers (`tests/differential.rs` for Redis,
//! `tests/differential_memcache.rs` for memcached) need besides their own protocol: reading a
//! socket until the server goes quiet or closes, showing two byte strings that differ, and
//! finding the script files.

use std::fmt::Write as _;
use std::io::Read;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The scripts in `tests/scripts/<dir>/` with extension `ext`, in name order, filtered by
/// `DIFF_SCRIPT` (a substring of the path) when it is set.
pub fn script_paths(dir: &str, ext: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/scripts")
        .join(dir);
    let filter = std::env::var("DIFF_SCRIPT").ok();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .filter(|p| match filter.as_deref() {
            Some(f) => p.to_string_lossy().contains(f),
            None => true,
        })
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "no scripts in {}", dir.display());
    paths
}

/// How much of a long reply a mismatch report shows around the first difference.
const REPORT_WINDOW: usize = 240;

/// Reads from `stream`, appending to `bytes`, until the peer closes the connection or stays
/// silent for `wait(&bytes)` — a window the caller may shorten once what arrived looks
/// complete. Returns true if the connection closed (or failed).
pub fn read_until_quiet(
    stream: &mut TcpStream,
    bytes: &mut Vec<u8>,
    wait: impl Fn(&[u8]) -> Duration,
) -> bool {
    let mut chunk = [0u8; 64 * 1024];
    loop {
        let _ = stream.set_read_timeout(Some(wait(bytes)));
        match stream.read(&mut chunk) {
            Ok(0) => return true,
            Ok(n) => bytes.extend_from_slice(&chunk[..n]),
            Err(e) if is_timeout(&e) => return false,
            Err(_) => return true,
        }
    }
}

/// True for the errors a read timeout produces.
pub fn is_timeout(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    )
}

/// Bytes as a readable, escaped string.
pub fn escape(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() + 8);
    for &b in bytes {
        match b {
            b'\r' => s.push_str("\\r"),
            b'\n' => s.push_str("\\n"),
            b'\t' => s.push_str("\\t"),
            b'\\' => s.push_str("\\\\"),
            b'"' => s.push_str("\\\""),
            0x20..=0x7e => s.push(b as char),
            _ => {
                let _ = write!(s, "\\x{b:02x}");
            }
        }
    }
    s
}

/// Two byte strings, escaped and quoted; long ones cut to a window around their first
/// difference so that a report shows where they part.
pub fn show_pair(a: &[u8], b: &[u8]) -> (String, String) {
    let first_diff = a
        .iter()
        .zip(b)
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len()));
    let window = |v: &[u8]| {
        if v.len() <= REPORT_WINDOW * 2 {
            return format!("\"{}\"", escape(v));
        }
        let start = first_diff.saturating_sub(REPORT_WINDOW / 2).min(v.len());
        let end = (start + REPORT_WINDOW).min(v.len());
        format!(
            "[{} bytes, from byte {start}] …\"{}\"…",
            v.len(),
            escape(&v[start..end])
        )
    };
    (window(a), window(b))
}
