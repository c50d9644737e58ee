//! HyperLogLog in redis-server's own representation (the data side of hyperloglog.c), so
//! the strings PFADD builds are byte for byte the ones redis-server builds, and strings
//! written by either server (RDB, replication, SET of a dump) work on both.
//!
//! A HyperLogLog is a plain string:
//!
//! ```text
//! ┌──────┬──────────┬──────────┬───────────────────────────┬──────────────────────────────┐
//! │ HYLL │ encoding │ 3 unused │ cached cardinality, 8 LE  │ registers (dense or sparse)  │
//! │  4   │ 0 dense  │  zeros   │ top bit set = stale       │                              │
//! │      │ 1 sparse │          │                           │                              │
//! └──────┴──────────┴──────────┴───────────────────────────┴──────────────────────────────┘
//! ```
//!
//! 16384 registers, each the longest run of zero bits (+1, at most 51) seen among the hashes
//! of the elements that land on it. **Dense**: 6 bits per register, packed from the least
//! significant bit of each byte up (12288 bytes). **Sparse** (see [`sparse`]): run-length
//! opcodes, for HLLs with few registers set; an HLL starts sparse and is promoted to dense
//! once a register passes 32 or the string would pass `hll-sparse-max-bytes`.
//!
//! The hash is MurmurHash64A (seed `0xadc83b19`): its low 14 bits pick the register, the
//! rest give the run. The estimate is Otmar Ertl's improved estimator ("New cardinality
//! estimation algorithms for HyperLogLog sketches", 2017), which redis-server 7.0 uses,
//! computed in the same order so that PFCOUNT answers the same number.
//!
//! Every reader here takes arbitrary bytes: a corrupt HLL is reported ([`Corrupt`]), never
//! read out of bounds. Where redis-server reads the byte after a string's end (an XZERO
//! opcode cut in half), it reads the string's NUL terminator; so do we, as a zero.

pub mod sparse;

/// Bytes of the header.
pub const HEADER_LEN: usize = 16;
/// Registers (2^14).
pub const REGISTERS: usize = 1 << P;
/// Bytes of the dense registers (6 bits each).
pub const DENSE_REGISTERS_LEN: usize = REGISTERS * 6 / 8;
/// Length of a dense HLL string.
pub const DENSE_LEN: usize = HEADER_LEN + DENSE_REGISTERS_LEN;
/// Bits of the hash that pick the register.
const P: u32 = 14;
/// Bits left for the run of zeros.
const Q: usize = 64 - P as usize;
/// Largest register value a hash can produce (`Q + 1`).
pub const MAX_RUN: u8 = Q as u8 + 1;
/// The encoding byte of a dense HLL.
const DENSE: u8 = 0;
/// The encoding byte of a sparse HLL.
const SPARSE: u8 = 1;
/// Bit 7 of the last cardinality byte: the cached cardinality is stale.
const STALE: u8 = 0x80;
/// MurmurHash64A seed redis-server uses for HLL elements.
const SEED: u64 = 0xadc8_3b19;

/// How an HLL's registers are held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// 6 bits per register.
    Dense,
    /// Run-length opcodes.
    Sparse,
}

impl Encoding {
    /// What `PFDEBUG ENCODING` says.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Dense => "dense",
            Encoding::Sparse => "sparse",
        }
    }
}

/// A sparse HLL whose opcodes do not describe exactly [`REGISTERS`] registers
/// (`INVALIDOBJ Corrupted HLL object detected`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Corrupt;

/// The encoding of `s` if it is an HLL string: at least a header, the magic, a known
/// encoding, and exactly [`DENSE_LEN`] bytes if dense (redis-server's `isHLLObjectOrReply`,
/// less its type check). A sparse HLL's opcodes are checked only when they are read.
pub fn check(s: &[u8]) -> Option<Encoding> {
    if s.len() < HEADER_LEN || &s[..4] != b"HYLL" {
        return None;
    }
    match s[4] {
        DENSE if s.len() == DENSE_LEN => Some(Encoding::Dense),
        SPARSE => Some(Encoding::Sparse),
        _ => None,
    }
}

/// The encoding of an HLL already [`check`]ed.
fn encoding_of(s: &[u8]) -> Encoding {
    if s[4] == DENSE {
        Encoding::Dense
    } else {
        Encoding::Sparse
    }
}

/// An empty HLL: sparse, one XZERO opcode covering every register.
pub fn new_sparse() -> Vec<u8> {
    let mut s = Vec::with_capacity(HEADER_LEN + 2);
    s.extend_from_slice(b"HYLL");
    s.extend_from_slice(&[SPARSE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    s.extend_from_slice(&sparse::xzero(REGISTERS));
    s
}

/// The cached cardinality, if it is not stale.
pub fn cached(s: &[u8]) -> Option<u64> {
    let mut c = [0u8; 8];
    c.copy_from_slice(&s[8..HEADER_LEN]);
    (c[7] & STALE == 0).then(|| u64::from_le_bytes(c))
}

/// The header bytes 8..16 caching `card` as valid.
pub fn card_bytes(card: u64) -> [u8; 8] {
    card.to_le_bytes()
}

/// Marks the cached cardinality stale.
pub fn invalidate(s: &mut [u8]) {
    s[HEADER_LEN - 1] |= STALE;
}

/// The offset of the header byte holding the stale flag, and its value once marked.
pub fn invalidated_byte(s: &[u8]) -> (usize, u8) {
    (HEADER_LEN - 1, s[HEADER_LEN - 1] | STALE)
}

/// MurmurHash2, 64-bit version (MurmurHash64A), reading 8-byte blocks little-endian on
/// every machine, as redis-server's copy does.
pub fn murmur64a(data: &[u8], seed: u64) -> u64 {
    const M: u64 = 0xc6a4_a793_5bd1_e995;
    const R: u32 = 47;
    let mut h = seed ^ (data.len() as u64).wrapping_mul(M);
    let mut blocks = data.chunks_exact(8);
    for b in &mut blocks {
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        let mut k = u64::from_le_bytes(a);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let tail = blocks.remainder();
    if !tail.is_empty() {
        for (i, &b) in tail.iter().enumerate() {
            h ^= u64::from(b) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^= h >> R;
    h
}

/// The register an element lands on and the value it proposes for it: the run of zero
/// bits above the index bits, plus one (1..=[`MAX_RUN`]).
pub fn hash_element(ele: &[u8]) -> (usize, u8) {
    let h = murmur64a(ele, SEED);
    let index = (h & (REGISTERS as u64 - 1)) as usize;
    // A sentinel bit at Q bounds the run at Q + 1.
    let rest = (h >> P) | (1 << Q);
    (index, rest.trailing_zeros() as u8 + 1)
}

/// Register `i` of dense registers `regs` (a byte past the end reads as zero).
pub fn dense_get(regs: &[u8], i: usize) -> u8 {
    let byte = i * 6 / 8;
    let shift = (i * 6) & 7;
    let b0 = u32::from(regs.get(byte).copied().unwrap_or(0));
    let b1 = u32::from(regs.get(byte + 1).copied().unwrap_or(0));
    (((b0 >> shift) | (b1 << (8 - shift))) & 63) as u8
}

/// Writes the 6-bit `v` into bytes starting at `bytes[at]`, `shift` bits up.
fn put(bytes: &mut [u8], at: usize, shift: usize, v: u8) {
    let v = u32::from(v);
    if let Some(b) = bytes.get_mut(at) {
        *b = ((u32::from(*b) & !(63 << shift)) | (v << shift)) as u8;
    }
    if let Some(b) = bytes.get_mut(at + 1) {
        *b = ((u32::from(*b) & !(63 >> (8 - shift))) | (v >> (8 - shift))) as u8;
    }
}

/// Sets register `i` of dense registers `regs` to `v` (0..=63).
pub fn dense_set(regs: &mut [u8], i: usize, v: u8) {
    put(regs, i * 6 / 8, (i * 6) & 7, v);
}

/// Raises register `i` to `v` if it is lower; true if it changed.
pub fn dense_raise(regs: &mut [u8], i: usize, v: u8) -> bool {
    if v > dense_get(regs, i) {
        dense_set(regs, i, v);
        true
    } else {
        false
    }
}

/// The bytes to write to raise register `i` of `regs` to `v`, if that changes it: their
/// offset in `regs`, the bytes, and how many of them count (1 for the last register).
/// Lets a caller patch a stored HLL in place instead of copying its 12 KiB.
pub fn dense_patch(regs: &[u8], i: usize, v: u8) -> Option<(usize, [u8; 2], usize)> {
    if v <= dense_get(regs, i) {
        return None;
    }
    let at = i * 6 / 8;
    let n = if at + 1 < regs.len() { 2 } else { 1 };
    let mut w = [0u8; 2];
    w[..n].copy_from_slice(regs.get(at..at + n)?);
    put(&mut w[..n], 0, (i * 6) & 7, v);
    Some((at, w, n))
}

/// How many registers hold each value (index 0..=63).
pub type Histogram = [u64; 64];

/// The histogram of dense registers.
fn dense_histogram(regs: &[u8]) -> Histogram {
    let mut h = [0u64; 64];
    // Four registers in every three bytes.
    for c in regs.chunks_exact(3) {
        let w = u32::from(c[0]) | u32::from(c[1]) << 8 | u32::from(c[2]) << 16;
        h[(w & 63) as usize] += 1;
        h[((w >> 6) & 63) as usize] += 1;
        h[((w >> 12) & 63) as usize] += 1;
        h[((w >> 18) & 63) as usize] += 1;
    }
    h
}

/// The histogram of an HLL's registers; a sparse HLL not covering exactly every register
/// is [`Corrupt`].
pub fn histogram(s: &[u8]) -> Result<Histogram, Corrupt> {
    match encoding_of(s) {
        Encoding::Dense => Ok(dense_histogram(&s[HEADER_LEN..])),
        Encoding::Sparse => sparse::histogram(s),
    }
}

/// The histogram of registers held one per byte (a PFCOUNT union).
pub fn raw_histogram(regs: &[u8; REGISTERS]) -> Histogram {
    let mut h = [0u64; 64];
    for &r in regs.iter() {
        h[usize::from(r & 63)] += 1;
    }
    h
}

/// Ertl's sigma function.
fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let mut y = 1.0;
    let mut z = x;
    loop {
        x *= x;
        let before = z;
        z += x * y;
        y += y;
        if before == z {
            return z;
        }
    }
}

/// Ertl's tau function.
fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let mut y = 1.0;
    let mut z = 1.0 - x;
    loop {
        x = x.sqrt();
        let before = z;
        y *= 0.5;
        let d = 1.0 - x;
        z -= d * d * y;
        if before == z {
            return z / 3.0;
        }
    }
}

/// The estimated cardinality from a register histogram (values above [`MAX_RUN`], which
/// only a corrupt dense HLL holds, are not counted, as in redis-server).
pub fn estimate(h: &Histogram) -> u64 {
    // 0.5 / ln 2, as redis-server spells it.
    #[allow(clippy::excessive_precision)]
    const ALPHA_INF: f64 = 0.721_347_520_444_481_703_680;
    let m = REGISTERS as f64;
    let mut z = m * tau((m - h[Q + 1] as f64) / m);
    for j in (1..=Q).rev() {
        z += h[j] as f64;
        z *= 0.5;
    }
    z += m * sigma(h[0] as f64 / m);
    // Rounded half away from zero, as llroundl does.
    (ALPHA_INF * m * m / z).round() as u64
}

/// Raises each of `max`'s registers to the HLL's where it is higher (PFMERGE, PFCOUNT of
/// several keys).
pub fn merge_into(max: &mut [u8; REGISTERS], s: &[u8]) -> Result<(), Corrupt> {
    match encoding_of(s) {
        Encoding::Dense => {
            // Four registers in every three bytes.
            let regs = s[HEADER_LEN..].chunks_exact(3);
            for (c, m) in regs.zip(max.chunks_exact_mut(4)) {
                let w = u32::from(c[0]) | u32::from(c[1]) << 8 | u32::from(c[2]) << 16;
                for (j, m) in m.iter_mut().enumerate() {
                    *m = (*m).max(((w >> (6 * j)) & 63) as u8);
                }
            }
            Ok(())
        }
        Encoding::Sparse => sparse::merge_into(max, s),
    }
}

/// The dense form of an HLL (a copy if it is dense already).
pub fn to_dense(s: &[u8]) -> Result<Vec<u8>, Corrupt> {
    match encoding_of(s) {
        Encoding::Dense => Ok(s.to_vec()),
        Encoding::Sparse => sparse::to_dense(s),
    }
}

/// Raises register `index` of an owned HLL to `count` if it is lower, promoting a sparse
/// HLL to dense where the sparse form cannot hold the result. True if the register changed.
pub fn raise(s: &mut Vec<u8>, index: usize, count: u8, sparse_max: usize) -> Result<bool, Corrupt> {
    match encoding_of(s) {
        Encoding::Dense => Ok(dense_raise(&mut s[HEADER_LEN..], index, count)),
        Encoding::Sparse => match sparse::raise(s, index, count, sparse_max)? {
            sparse::Raised::No => Ok(false),
            sparse::Raised::Yes => Ok(true),
            sparse::Raised::NeedsDense => {
                *s = sparse::to_dense(s)?;
                // The register needed raising in the sparse form, so it does here too.
                Ok(dense_raise(&mut s[HEADER_LEN..], index, count))
            }
        },
    }
}

/// Adds an element to an owned HLL; true if a register changed.
pub fn add(s: &mut Vec<u8>, ele: &[u8], sparse_max: usize) -> Result<bool, Corrupt> {
    let (index, count) = hash_element(ele);
    raise(s, index, count, sparse_max)
}

/// PFSELFTEST: the dense register layout round-trips random values without disturbing
/// neighbours, and a dense and a sparse HLL fed the same elements agree with each other and
/// stay within six standard errors of the true count at every power of ten up to 10^7.
/// `random` supplies the randomness. The error is redis-server's `TESTFAILED …` text.
pub fn self_test(random: impl FnMut() -> u64, sparse_max: usize) -> Result<(), String> {
    self_test_sized(random, sparse_max, 1000, 10_000_000)
}

/// [`self_test`] with `cycles` rounds of the register test and `elements` elements.
fn self_test_sized(
    mut random: impl FnMut() -> u64,
    sparse_max: usize,
    cycles: usize,
    elements: u64,
) -> Result<(), String> {
    let mut regs = vec![0u8; DENSE_REGISTERS_LEN];
    let mut model = vec![0u8; REGISTERS];
    for _ in 0..cycles {
        for (i, m) in model.iter_mut().enumerate() {
            let r = (random() & 63) as u8;
            *m = r;
            dense_set(&mut regs, i, r);
        }
        for (i, &m) in model.iter().enumerate() {
            let got = dense_get(&regs, i);
            if got != m {
                return Err(format!(
                    "TESTFAILED Register {i} should be {m} but is {got}"
                ));
            }
        }
    }
    let mut dense = new_sparse();
    dense = to_dense(&dense).map_err(|_| "TESTFAILED dense/sparse disagree".to_string())?;
    let mut sparse = new_sparse();
    let relerr = 1.04 / (REGISTERS as f64).sqrt();
    let seed = random();
    let mut checkpoint: u64 = 1;
    for j in 1..=elements {
        let ele = (j ^ seed).to_ne_bytes();
        let failed = || "TESTFAILED dense/sparse disagree".to_string();
        add(&mut dense, &ele, sparse_max).map_err(|_| failed())?;
        add(&mut sparse, &ele, sparse_max).map_err(|_| failed())?;
        if j != checkpoint {
            continue;
        }
        if (j as usize) < sparse_max / 2 && check(&sparse) != Some(Encoding::Sparse) {
            return Err("TESTFAILED sparse encoding not used".into());
        }
        let d = estimate(&histogram(&dense).map_err(|_| failed())?);
        let s = estimate(&histogram(&sparse).map_err(|_| failed())?);
        if d != s {
            return Err(failed());
        }
        let abserr = (checkpoint as i64 - d as i64).unsigned_abs();
        // A collision at 10 elements is likely enough to allow one.
        let maxerr = if j == 10 {
            1
        } else {
            (relerr * 6.0 * checkpoint as f64).ceil() as u64
        };
        if abserr > maxerr {
            return Err(format!(
                "TESTFAILED Too big error. card:{checkpoint} abserr:{abserr}"
            ));
        }
        checkpoint *= 10;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
