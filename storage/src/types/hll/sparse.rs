//! The sparse HLL encoding: the registers as a run-length sequence of three opcodes.
//!
//! ```text
//! ZERO   00xxxxxx            xxxxxx + 1 registers (1..=64) at zero
//! XZERO  01xxxxxx yyyyyyyy   xxxxxxyyyyyyyy + 1 registers (1..=16384) at zero
//! VAL    1vvvvvxx            xx + 1 registers (1..=4) at vvvvv + 1 (1..=32)
//! ```
//!
//! A new HLL is one XZERO of 16384. Raising a register splits the opcode that covers it
//! (at worst XZERO → XZERO VAL XZERO, three bytes more) and then merges equal VALs next to
//! it; the HLL needs the dense form instead when a value passes 32 or the string would pass
//! `hll-sparse-max-bytes` (header included). Every step is the one redis-server's
//! `hllSparseSet` takes, so the same additions give the same bytes.

use super::{dense_set, Corrupt, Histogram, DENSE, DENSE_LEN, HEADER_LEN, REGISTERS};

/// Largest value a VAL opcode holds.
const VAL_MAX_VALUE: u8 = 32;
/// Longest run of a VAL opcode.
const VAL_MAX_LEN: u64 = 4;
/// Longest run of a ZERO opcode.
const ZERO_MAX_LEN: u64 = 64;

/// One opcode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    /// A short run of zeros.
    Zero(u64),
    /// A long run of zeros (two bytes).
    XZero(u64),
    /// A run of `.1` registers at value `.0`.
    Val(u8, u64),
}

impl Op {
    /// Registers covered.
    fn span(self) -> u64 {
        match self {
            Op::Zero(n) | Op::XZero(n) | Op::Val(_, n) => n,
        }
    }

    /// Bytes taken.
    fn len(self) -> usize {
        match self {
            Op::XZero(_) => 2,
            _ => 1,
        }
    }
}

fn is_xzero(b: u8) -> bool {
    b & 0xc0 == 0x40
}

fn is_zero(b: u8) -> bool {
    b & 0xc0 == 0
}

fn is_val(b: u8) -> bool {
    b & 0x80 != 0
}

/// The opcode at `s[p]` (`p < s.len()`); the second byte of an XZERO cut off by the end
/// reads as zero, like redis-server's NUL terminator.
fn op_at(s: &[u8], p: usize) -> Op {
    let b = s[p];
    if is_zero(b) {
        Op::Zero(u64::from(b & 0x3f) + 1)
    } else if is_xzero(b) {
        let lo = s.get(p + 1).copied().unwrap_or(0);
        Op::XZero((u64::from(b & 0x3f) << 8 | u64::from(lo)) + 1)
    } else {
        Op::Val(((b >> 2) & 0x1f) + 1, u64::from(b & 3) + 1)
    }
}

/// A VAL opcode byte (`value` 1..=32, `len` 1..=4).
fn val(value: u8, len: u64) -> u8 {
    0x80 | (value - 1) << 2 | (len as u8 - 1)
}

/// An XZERO opcode (`len` 1..=16384).
pub(super) fn xzero(len: usize) -> [u8; 2] {
    let l = len - 1;
    [0x40 | (l >> 8) as u8, (l & 0xff) as u8]
}

/// Appends the shortest zero opcode for `len` registers (1..=16384) to `seq`.
fn push_zeros(seq: &mut Vec<u8>, len: u64) {
    if len > ZERO_MAX_LEN {
        seq.extend_from_slice(&xzero(len as usize));
    } else {
        seq.push(len as u8 - 1);
    }
}

/// Walks the opcodes of HLL `s`, calling `f(first_register, op)` for each.
fn walk(s: &[u8], mut f: impl FnMut(u64, Op) -> bool) {
    let mut p = HEADER_LEN;
    let mut idx = 0u64;
    while p < s.len() {
        let op = op_at(s, p);
        if !f(idx, op) {
            return;
        }
        idx += op.span();
        p += op.len();
    }
}

/// Calls `run(value, len)` for every opcode, zero runs as value 0. `Corrupt` unless the
/// opcodes cover exactly [`REGISTERS`] registers; an opcode that would pass the last
/// register ends the walk before it is applied. (redis-server 7.0.15 as packaged, with the
/// fix for CVE-2025-32023, checks every opcode so; the original release checked only VALs
/// and let the run count overflow.)
fn each_run(s: &[u8], mut run: impl FnMut(u8, u64)) -> Result<(), Corrupt> {
    let mut covered = 0u64;
    let mut overshot = false;
    walk(s, |first, op| {
        if first + op.span() > REGISTERS as u64 {
            overshot = true;
            return false;
        }
        match op {
            Op::Zero(n) | Op::XZero(n) => run(0, n),
            Op::Val(v, n) => run(v, n),
        }
        covered = first + op.span();
        true
    });
    if !overshot && covered == REGISTERS as u64 {
        Ok(())
    } else {
        Err(Corrupt)
    }
}

/// Calls `set(i, v)` for every register a VAL opcode sets, with the checks of [`each_run`].
fn each_set_register(s: &[u8], mut set: impl FnMut(usize, u8)) -> Result<(), Corrupt> {
    let mut i = 0usize;
    each_run(s, |v, n| {
        if v != 0 {
            (i..i + n as usize).for_each(|r| set(r, v));
        }
        i += n as usize;
    })
}

/// The dense form of sparse HLL `s`: same header (cached cardinality included), dense
/// encoding byte.
pub(super) fn to_dense(s: &[u8]) -> Result<Vec<u8>, Corrupt> {
    let mut d = vec![0u8; DENSE_LEN];
    d[..HEADER_LEN].copy_from_slice(&s[..HEADER_LEN]);
    d[4] = DENSE;
    let (_, regs) = d.split_at_mut(HEADER_LEN);
    each_set_register(s, |i, v| dense_set(regs, i, v))?;
    Ok(d)
}

/// See [`super::merge_into`].
pub(super) fn merge_into(max: &mut [u8; REGISTERS], s: &[u8]) -> Result<(), Corrupt> {
    each_set_register(s, |i, v| max[i] = max[i].max(v))
}

/// The register histogram; `Corrupt` unless exactly [`REGISTERS`] registers are covered.
pub(super) fn histogram(s: &[u8]) -> Result<Histogram, Corrupt> {
    let mut h = [0u64; 64];
    each_run(s, |v, n| h[usize::from(v)] += n)?;
    Ok(h)
}

/// `PFDEBUG DECODE`: the opcodes as `z:<len>`, `Z:<len>` and `v:<value>,<len>`, separated
/// by spaces.
pub fn decode(s: &[u8]) -> String {
    let mut out = String::new();
    walk(s, |_, op| {
        if !out.is_empty() {
            out.push(' ');
        }
        match op {
            Op::Zero(n) => out.push_str(&format!("z:{n}")),
            Op::XZero(n) => out.push_str(&format!("Z:{n}")),
            Op::Val(v, n) => out.push_str(&format!("v:{v},{n}")),
        }
        true
    });
    out
}

/// What raising a register of a sparse HLL did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Raised {
    /// The register was already at least as high.
    No,
    /// Raised (the cached cardinality is marked stale).
    Yes,
    /// The sparse form cannot hold it: convert to dense and raise there.
    NeedsDense,
}

/// Raises register `index` of sparse HLL `s` to `count` if it is lower.
pub(super) fn raise(
    s: &mut Vec<u8>,
    index: usize,
    count: u8,
    sparse_max: usize,
) -> Result<Raised, Corrupt> {
    if count > VAL_MAX_VALUE {
        return Ok(Raised::NeedsDense);
    }
    let index = index as u64;
    // Find the opcode covering the register, and the one before it.
    let end = s.len();
    let (mut p, mut first, mut prev) = (HEADER_LEN, 0u64, None);
    let mut op = None;
    while p < end {
        let o = op_at(s, p);
        if index < first + o.span() {
            op = Some(o);
            break;
        }
        prev = Some(p);
        p += o.len();
        first += o.span();
    }
    let Some(op) = op else {
        return Err(Corrupt);
    };
    match op {
        Op::Val(v, _) if v >= count => return Ok(Raised::No),
        // A run of one register: rewrite the opcode in place.
        Op::Val(_, 1) | Op::Zero(1) => s[p] = val(count, 1),
        _ => {
            // Split the run around the register.
            let last = first + op.span() - 1;
            let mut seq = Vec::with_capacity(5);
            match op {
                Op::Val(v, _) => {
                    if index != first {
                        seq.push(val(v, index - first));
                    }
                    seq.push(val(count, 1));
                    if index != last {
                        seq.push(val(v, last - index));
                    }
                }
                _ => {
                    if index != first {
                        push_zeros(&mut seq, index - first);
                    }
                    seq.push(val(count, 1));
                    if index != last {
                        push_zeros(&mut seq, last - index);
                    }
                }
            }
            let new_len = (end + seq.len()).saturating_sub(op.len());
            if new_len > end && new_len > sparse_max {
                return Ok(Raised::NeedsDense);
            }
            // An XZERO cut off by the end has one byte to replace; redis-server still
            // counts two, so its last new byte falls off the end.
            let old_end = (p + op.len()).min(end);
            s.splice(p..old_end, seq);
            s.truncate(new_len);
        }
    }
    merge_vals(s, prev.unwrap_or(HEADER_LEN));
    super::invalidate(s);
    Ok(Raised::Yes)
}

/// Merges adjacent VAL opcodes of equal value whose runs fit one opcode, looking at up to
/// five opcodes from `p` (the opcode before the one just changed).
fn merge_vals(s: &mut Vec<u8>, mut p: usize) {
    let mut budget = 5;
    while p < s.len() && budget > 0 {
        budget -= 1;
        let b = s[p];
        if is_xzero(b) {
            p += 2;
            continue;
        }
        if is_zero(b) {
            p += 1;
            continue;
        }
        if let (Op::Val(v1, l1), Some(&next)) = (op_at(s, p), s.get(p + 1)) {
            if is_val(next) {
                if let Op::Val(v2, l2) = op_at(s, p + 1) {
                    if v1 == v2 && l1 + l2 <= VAL_MAX_LEN {
                        s[p + 1] = val(v1, l1 + l2);
                        s.remove(p);
                        // Try the merged opcode against its right neighbour too.
                        continue;
                    }
                }
            }
        }
        p += 1;
    }
}
