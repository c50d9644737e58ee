//! LEB128 lengths, as the packed encodings (listpacks, list nodes, small sorted sets) write
//! them: seven bits a byte, low bits first, the high bit set on every byte but the last.

/// Bytes the varint of `n` takes.
#[inline]
pub fn len(mut n: usize) -> usize {
    let mut len = 1;
    while n >= 0x80 {
        n >>= 7;
        len += 1;
    }
    len
}

/// Appends the varint of `n`.
#[inline]
pub fn write(out: &mut Vec<u8>, mut n: usize) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// Reads a varint at `pos`: (value, bytes used). The packed buffers are only written by
/// cachegate, so a malformed varint is a bug; it reads as 0 (using at least one byte) so
/// that readers stay in bounds and make progress.
#[inline(always)]
pub fn read(buf: &[u8], pos: usize) -> (usize, usize) {
    // Lengths under 128 (nearly every element) are one byte; longer ones take the loop.
    match buf.get(pos) {
        Some(&b) if b < 0x80 => (usize::from(b), 1),
        _ => read_long(buf, pos),
    }
}

#[cold]
#[inline(never)]
fn read_long(buf: &[u8], pos: usize) -> (usize, usize) {
    let mut v = 0usize;
    let mut shift = 0;
    let mut i = pos;
    while let Some(&b) = buf.get(i) {
        v |= usize::from(b & 0x7f) << shift;
        i += 1;
        if b & 0x80 == 0 {
            return (v, i - pos);
        }
        shift += 7;
        if shift >= usize::BITS as usize {
            break;
        }
    }
    (0, (i - pos).max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn round_trips(n in proptest::num::usize::ANY) {
            let mut b = Vec::new();
            write(&mut b, n);
            proptest::prop_assert_eq!(b.len(), len(n));
            proptest::prop_assert_eq!(read(&b, 0), (n, b.len()));
        }

        #[test]
        fn garbage_stays_in_bounds(b in proptest::collection::vec(proptest::num::u8::ANY, 0..12), pos in 0usize..14) {
            let (_, used) = read(&b, pos);
            proptest::prop_assert!(used >= 1);
        }
    }
}
