//! The longest common subsequence of two strings (the LCS command's algorithm).
//!
//! The classic dynamic-programming table of prefix LCS lengths, then a walk back from the
//! end that rebuilds the subsequence and, for `IDX`, the matching ranges — emitted from the
//! end of the strings towards the start, as redis-server emits them.

/// A run of matching bytes: inclusive ranges in each string, and their length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Match {
    /// Start and end (inclusive) in the first string.
    pub a: (u32, u32),
    /// Start and end (inclusive) in the second string.
    pub b: (u32, u32),
    /// Length of the run.
    pub len: u32,
}

/// The result of [`solve`].
#[derive(Debug, Default)]
pub struct Lcs {
    /// Length of the longest common subsequence.
    pub len: u32,
    /// The subsequence itself (empty unless asked for).
    pub common: Vec<u8>,
    /// Matching runs of at least the minimum length, last first.
    pub ranges: Vec<Match>,
}

/// Solves LCS for `a` and `b`, using `table` (with capacity for `(|a|+1)(|b|+1)` cells) as
/// scratch. Runs of matches shorter than `min_match` are left out of `ranges`; the walk back
/// (subsequence and ranges) is skipped unless `walk`.
pub fn solve(a: &[u8], b: &[u8], table: &mut Vec<u32>, min_match: u64, walk: bool) -> Lcs {
    let (alen, blen) = (a.len(), b.len());
    let w = blen + 1;
    table.clear();
    table.resize((alen + 1) * w, 0);
    for i in 1..=alen {
        for j in 1..=blen {
            table[i * w + j] = if a[i - 1] == b[j - 1] {
                table[(i - 1) * w + j - 1] + 1
            } else {
                table[(i - 1) * w + j].max(table[i * w + j - 1])
            };
        }
    }
    let len = table[alen * w + blen];
    let mut out = Lcs {
        len,
        ..Lcs::default()
    };
    if !walk {
        return out;
    }
    let mut common = vec![0u8; len as usize];
    let mut idx = len as usize;
    let (mut i, mut j) = (alen, blen);
    // `None` while no run is being tracked.
    let mut run: Option<Match> = None;
    while i > 0 && j > 0 {
        let mut emit = false;
        if a[i - 1] == b[j - 1] {
            common[idx - 1] = a[i - 1];
            match run.as_mut() {
                None => {
                    run = Some(Match {
                        a: (i as u32 - 1, i as u32 - 1),
                        b: (j as u32 - 1, j as u32 - 1),
                        len: 0,
                    });
                }
                Some(r) if r.a.0 == i as u32 && r.b.0 == j as u32 => {
                    r.a.0 -= 1;
                    r.b.0 -= 1;
                }
                Some(_) => emit = true,
            }
            if let Some(r) = run {
                if r.a.0 == 0 || r.b.0 == 0 {
                    emit = true;
                }
            }
            idx -= 1;
            i -= 1;
            j -= 1;
        } else {
            if table[(i - 1) * w + j] > table[i * w + j - 1] {
                i -= 1;
            } else {
                j -= 1;
            }
            if run.is_some() {
                emit = true;
            }
        }
        if emit {
            if let Some(mut r) = run.take() {
                r.len = r.a.1 - r.a.0 + 1;
                if min_match == 0 || u64::from(r.len) >= min_match {
                    out.ranges.push(r);
                }
            }
        }
    }
    out.common = common;
    out
}
