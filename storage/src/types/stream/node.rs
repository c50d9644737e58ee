//! [`Node`]: a run of consecutive stream entries packed into one buffer, the unit the stream
//! keys by its first ID (redis-server's listpack per radix-tree node, in our own format).
//!
//! ```text
//! node   = master entry*
//! master = varint(n) (varint(len) bytes){n}          the first entry's field names
//! entry  = header id [varint(n) if !SAME] pair{n}
//! pair   = [varint(len) field if !SAME] vlen value
//! header = bit 0 DELETED · bit 1 SAME (fields are the master's) · bits 2-3 id form
//!          · bits 4-7 the first value's length if < 15, else 15 and a varint follows
//! id     = FIRST  (the node's key)              no bytes
//!        | NEXT   (same ms, seq + 1)            no bytes
//!        | SEQ    (same ms, seq + 2 + d)        varint(d)
//!        | MS     (ms + 1 + d, seq)             varint(d) varint(seq)
//! ```
//!
//! IDs are delta-encoded against the previous entry (not the master, as Redis does), so the
//! common case — `XADD *` in the same or the next millisecond — costs no ID bytes at all;
//! field names equal to the master's are not stored (Redis's SAMEFIELDS flag); a short
//! first value's length rides in the header. An entry of one small field added with `*`
//! costs one byte plus its value, against about 16 in a Redis listpack.
//!
//! Deleted entries stay in place with their flag set (as XDEL and trimming do in Redis) and
//! the node counts live and deleted entries. To split the stream into nodes exactly where
//! redis-server does — so that `MAXLEN ~` trims the same entries and XINFO reports the
//! same number of nodes — each node also keeps the size the same entries would have as a
//! Redis listpack ([`lp`]): a node is full when that size plus the new entry's payload
//! reaches `stream-node-max-bytes`, or when it holds `stream-node-max-entries` entries.
//!
//! Entries are read forward only (the ID deltas chain); reading a node backward decodes it
//! first, which is bounded by the node size limits.

use super::id::StreamId;

const DELETED: u8 = 1;
const SAME: u8 = 2;
const FORM_SHIFT: u8 = 2;
const FORM_FIRST: u8 = 0;
const FORM_NEXT: u8 = 1;
const FORM_SEQ: u8 = 2;
const FORM_MS: u8 = 3;
const LEN_SHIFT: u8 = 4;
const LEN_VARINT: u8 = 15;

/// Appends `v` as a LEB128 varint.
fn put_varint(buf: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        buf.push((v as u8) | 0x80);
        v >>= 7;
    }
    buf.push(v as u8);
}

/// Reads a varint at `*pos`, advancing it. The buffers are the node's own, so they are
/// well formed.
fn get_varint(buf: &[u8], pos: &mut usize) -> u64 {
    let mut v: u64 = 0;
    let mut shift = 0;
    loop {
        let b = buf[*pos];
        *pos += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return v;
        }
        shift += 7;
    }
}

fn get_len(buf: &[u8], pos: &mut usize) -> usize {
    get_varint(buf, pos) as usize
}

/// Sizes of elements in a Redis listpack (listpack.c), to split nodes where Redis does.
pub mod lp {
    use cachegate_protocols::number::parse_i64;

    /// Bytes of the back-length that follows an element of `l` encoded bytes.
    fn backlen(l: usize) -> usize {
        match l {
            0..=127 => 1,
            128..=16382 => 2,
            16383..=2097150 => 3,
            2097151..=268435454 => 4,
            _ => 5,
        }
    }

    /// An integer element.
    pub fn int(v: i64) -> usize {
        let enc = match v {
            0..=127 => 1,
            -4096..=4095 => 2,
            -32768..=32767 => 3,
            -8388608..=8388607 => 4,
            -2147483648..=2147483647 => 5,
            _ => 9,
        };
        enc + backlen(enc)
    }

    /// A string element (stored as an integer when it is one, as `lpAppend` does).
    pub fn str(s: &[u8]) -> usize {
        if let Some(v) = parse_i64(s) {
            return int(v);
        }
        let enc = match s.len() {
            0..=63 => 1 + s.len(),
            64..=4095 => 2 + s.len(),
            n => 5 + n,
        };
        enc + backlen(enc)
    }

    /// The listpack header (total bytes, element count) and end byte.
    pub const FRAME: usize = 7;
}

/// The node limits in force (`stream-node-max-bytes`, `stream-node-max-entries`).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Node size limit in listpack bytes (0 = Redis's 1 GiB cap).
    pub max_bytes: usize,
    /// Entries per node (0 = no limit).
    pub max_entries: usize,
}

/// Redis caps a listpack at 1 GiB whatever the configuration says.
pub const MAX_LISTPACK: usize = 1 << 30;

/// A run of entries; see the module doc. Its first ID is the key it is stored under.
#[derive(Clone, Debug)]
pub struct Node {
    buf: Vec<u8>,
    /// Where the first entry starts (after the master fields).
    entries_at: u32,
    /// Entries not deleted.
    live: u32,
    /// Entries flagged deleted.
    deleted: u32,
    /// Listpack bytes of the same entries, without the two counters (see [`lp`]).
    lp_static: u64,
    /// The ID of the last entry, deleted or not.
    last: StreamId,
}

/// One entry as read from a node.
#[derive(Clone, Copy, Debug)]
pub struct EntryRef<'a> {
    /// Its ID.
    pub id: StreamId,
    /// Whether it is flagged deleted.
    pub deleted: bool,
    /// Where its header byte is in the node (to flag it).
    pub(super) at: usize,
    nfields: usize,
    /// The master field names (used when `same`).
    master: &'a [u8],
    same: bool,
    first_len: Option<usize>,
    body: &'a [u8],
}

impl<'a> EntryRef<'a> {
    /// Number of field-value pairs.
    pub fn len(&self) -> usize {
        self.nfields
    }

    /// True for an entry without pairs (never stored: XADD needs one).
    pub fn is_empty(&self) -> bool {
        self.nfields == 0
    }

    /// Its field-value pairs, in the order they were added.
    pub fn fields(&self) -> Fields<'a> {
        Fields {
            left: self.nfields,
            master: self.master,
            mpos: 0,
            same: self.same,
            first_len: self.first_len,
            body: self.body,
            pos: 0,
        }
    }
}

/// The pairs of an entry.
#[derive(Clone, Debug)]
pub struct Fields<'a> {
    left: usize,
    master: &'a [u8],
    mpos: usize,
    same: bool,
    first_len: Option<usize>,
    body: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for Fields<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let field = if self.same {
            let n = get_len(self.master, &mut self.mpos);
            let f = &self.master[self.mpos..self.mpos + n];
            self.mpos += n;
            f
        } else {
            let n = get_len(self.body, &mut self.pos);
            let f = &self.body[self.pos..self.pos + n];
            self.pos += n;
            f
        };
        let n = match self.first_len.take() {
            Some(n) => n,
            None => get_len(self.body, &mut self.pos),
        };
        let v = &self.body[self.pos..self.pos + n];
        self.pos += n;
        Some((field, v))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for Fields<'_> {}

/// A pair source for appending: field-value pairs, cloneable so they can be read twice.
pub trait Pairs<'b>: Iterator<Item = (&'b [u8], &'b [u8])> + Clone {}
impl<'b, T: Iterator<Item = (&'b [u8], &'b [u8])> + Clone> Pairs<'b> for T {}

impl Node {
    /// A node whose first entry is `id` with `pairs`; its field names become the master's.
    pub fn new<'b>(id: StreamId, pairs: impl Pairs<'b>) -> Node {
        let n = pairs.clone().count();
        let mut buf = Vec::new();
        put_varint(&mut buf, n as u64);
        let mut lp_static = (lp::FRAME + lp::int(n as i64) + lp::int(0)) as u64;
        for (f, _) in pairs.clone() {
            put_varint(&mut buf, f.len() as u64);
            buf.extend_from_slice(f);
            lp_static += lp::str(f) as u64;
        }
        let mut node = Node {
            entries_at: buf.len() as u32,
            buf,
            live: 0,
            deleted: 0,
            lp_static,
            last: id,
        };
        node.push(id, id, None, pairs);
        node
    }

    /// Entries, live and deleted.
    pub fn count(&self) -> usize {
        self.live as usize + self.deleted as usize
    }

    /// Live entries.
    pub fn live(&self) -> usize {
        self.live as usize
    }

    /// The last entry's ID (deleted or not).
    pub fn last(&self) -> StreamId {
        self.last
    }

    /// Heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.buf.capacity()
    }

    /// The size this node would have as a Redis listpack.
    pub fn lp_bytes(&self) -> u64 {
        self.lp_static
            + lp::int(i64::from(self.live)) as u64
            + lp::int(i64::from(self.deleted)) as u64
    }

    /// True if an entry whose fields and values total `payload` bytes goes into a new node
    /// (redis-server's `streamAppendItem` rule).
    pub fn is_full(&self, payload: usize, limits: Limits) -> bool {
        let max = match limits.max_bytes {
            0 => MAX_LISTPACK,
            n => n.min(MAX_LISTPACK),
        } as u64;
        if self.lp_bytes().saturating_add(payload as u64) >= max {
            return true;
        }
        limits.max_entries != 0 && self.count() >= limits.max_entries
    }

    /// Reserves room for a full node of entries like the first one (at most 4 KiB, as
    /// Redis preallocates), so that a node is allocated about once instead of growing by
    /// doubling; [`Node::shrink`] gives back what is left when it fills up.
    pub fn reserve_for(&mut self, limits: Limits) {
        if limits.max_entries == 0 {
            return;
        }
        let entry = self.buf.len() - self.entries_at as usize;
        let mut want = self.entries_at as usize + entry.saturating_mul(limits.max_entries);
        want = want.min(4096);
        if limits.max_bytes != 0 {
            want = want.min(limits.max_bytes);
        }
        if want > self.buf.len() {
            self.buf.reserve_exact(want - self.buf.len());
        }
    }

    /// Gives back spare capacity (a node that will not grow any more, as Redis shrinks a
    /// full listpack).
    pub fn shrink(&mut self) {
        self.buf.shrink_to_fit();
    }

    /// True if `pairs` has the master's field names, in order.
    fn same_fields<'b>(&self, pairs: impl Pairs<'b>) -> bool {
        let mut pos = 0;
        let n = get_len(&self.buf, &mut pos);
        if pairs.clone().count() != n {
            return false;
        }
        for (f, _) in pairs {
            let len = get_len(&self.buf, &mut pos);
            if &self.buf[pos..pos + len] != f {
                return false;
            }
            pos += len;
        }
        true
    }

    /// Appends entry `id` (greater than every ID in the node) to the node keyed `key`.
    pub fn append<'b>(&mut self, key: StreamId, id: StreamId, pairs: impl Pairs<'b>) {
        let prev = self.last;
        self.push(key, id, Some(prev), pairs);
    }

    fn push<'b>(
        &mut self,
        key: StreamId,
        id: StreamId,
        prev: Option<StreamId>,
        pairs: impl Pairs<'b>,
    ) {
        let same = self.same_fields(pairs.clone());
        let n = pairs.clone().count();
        let first_len = pairs.clone().next().map_or(0, |(_, v)| v.len());
        let (form, d1, d2) = match prev {
            None => (FORM_FIRST, None, None),
            Some(p) if p.ms == id.ms && id.seq == p.seq + 1 => (FORM_NEXT, None, None),
            Some(p) if p.ms == id.ms => (FORM_SEQ, Some(id.seq - p.seq - 2), None),
            Some(p) => (FORM_MS, Some(id.ms - p.ms - 1), Some(id.seq)),
        };
        let len_bits = if first_len < LEN_VARINT as usize {
            first_len as u8
        } else {
            LEN_VARINT
        };
        let header = (if same { SAME } else { 0 }) | (form << FORM_SHIFT) | (len_bits << LEN_SHIFT);
        self.buf.push(header);
        if let Some(d) = d1 {
            put_varint(&mut self.buf, d);
        }
        if let Some(d) = d2 {
            put_varint(&mut self.buf, d);
        }
        if !same {
            put_varint(&mut self.buf, n as u64);
        }
        // The listpack size of the same entry: flags, the two ID deltas against the master,
        // [field count, fields], values, and the element count that ends it.
        let mut lp_size = lp::int(if same { 2 } else { 0 })
            + lp::int(id.ms.wrapping_sub(key.ms) as i64)
            + lp::int(id.seq.wrapping_sub(key.seq) as i64);
        let mut elements = n + 3;
        if !same {
            lp_size += lp::int(n as i64);
            elements += n + 1;
        }
        for (i, (f, v)) in pairs.enumerate() {
            if !same {
                put_varint(&mut self.buf, f.len() as u64);
                self.buf.extend_from_slice(f);
                lp_size += lp::str(f);
            }
            if i > 0 || len_bits == LEN_VARINT {
                put_varint(&mut self.buf, v.len() as u64);
            }
            self.buf.extend_from_slice(v);
            lp_size += lp::str(v);
        }
        lp_size += lp::int(elements as i64);
        self.lp_static += lp_size as u64;
        self.live += 1;
        self.last = id;
    }

    /// Reads the entries of the node keyed `key`, in order.
    pub fn iter(&self, key: StreamId) -> NodeIter<'_> {
        NodeIter {
            buf: &self.buf,
            master: &self.buf[..self.entries_at as usize],
            pos: self.entries_at as usize,
            key,
            prev: None,
            left: self.count(),
        }
    }

    /// Flags the entry whose header is at `at` deleted (it must be live).
    pub fn mark_deleted(&mut self, at: usize) {
        debug_assert_eq!(self.buf[at] & DELETED, 0);
        self.buf[at] |= DELETED;
        self.live -= 1;
        self.deleted += 1;
    }
}

/// Forward reader of a node's entries.
#[derive(Clone, Debug)]
pub struct NodeIter<'a> {
    buf: &'a [u8],
    master: &'a [u8],
    pos: usize,
    key: StreamId,
    prev: Option<StreamId>,
    left: usize,
}

impl<'a> Iterator for NodeIter<'a> {
    type Item = EntryRef<'a>;

    fn next(&mut self) -> Option<EntryRef<'a>> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let buf = self.buf;
        let at = self.pos;
        let header = buf[at];
        let mut pos = at + 1;
        let id = match (header >> FORM_SHIFT) & 3 {
            FORM_FIRST => self.key,
            FORM_NEXT => {
                let p = self.prev.unwrap_or(self.key);
                StreamId::new(p.ms, p.seq + 1)
            }
            FORM_SEQ => {
                let p = self.prev.unwrap_or(self.key);
                let d = get_varint(buf, &mut pos);
                StreamId::new(p.ms, p.seq + 2 + d)
            }
            _ => {
                let p = self.prev.unwrap_or(self.key);
                let d = get_varint(buf, &mut pos);
                let seq = get_varint(buf, &mut pos);
                StreamId::new(p.ms + 1 + d, seq)
            }
        };
        self.prev = Some(id);
        let same = header & SAME != 0;
        let mut mpos = 0;
        let master_n = get_len(self.master, &mut mpos);
        let nfields = if same {
            master_n
        } else {
            get_len(buf, &mut pos)
        };
        let len_bits = header >> LEN_SHIFT;
        let first_len = (len_bits != LEN_VARINT).then_some(len_bits as usize);
        let entry = EntryRef {
            id,
            deleted: header & DELETED != 0,
            at,
            nfields,
            master: &self.master[mpos..],
            same,
            first_len,
            body: &buf[pos..],
        };
        // Skip the pairs to find the next entry.
        let mut fields = entry.fields();
        for _ in fields.by_ref() {}
        self.pos = pos + fields.pos;
        Some(entry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs<'a>(p: &'a [(&'a [u8], &'a [u8])]) -> impl Pairs<'a> {
        p.iter().map(|&(f, v)| (f, v))
    }

    #[test]
    fn entries_read_back() {
        let key = StreamId::new(100, 5);
        let mut n = Node::new(key, pairs(&[(b"f", b"v"), (b"g", b"")]));
        let big = vec![b'x'; 300];
        let ids = [
            StreamId::new(100, 6),
            StreamId::new(100, 90),
            StreamId::new(250, 0),
            StreamId::new(u64::MAX, u64::MAX),
        ];
        n.append(
            key,
            ids[0],
            pairs(&[(b"f", b"abcdefghijklmnopq"), (b"g", b"1")]),
        );
        n.append(key, ids[1], pairs(&[(b"other", &big)]));
        n.append(key, ids[2], pairs(&[(b"f", b"v")]));
        n.append(key, ids[3], pairs(&[(b"g", b"x"), (b"f", b"y")]));
        type Entries = Vec<(StreamId, Vec<(Vec<u8>, Vec<u8>)>)>;
        let got: Entries = n
            .iter(key)
            .map(|e| {
                (
                    e.id,
                    e.fields().map(|(f, v)| (f.to_vec(), v.to_vec())).collect(),
                )
            })
            .collect();
        assert_eq!(got.len(), 5);
        assert_eq!(got[0].0, key);
        assert_eq!(
            got[0].1,
            vec![(b"f".to_vec(), b"v".to_vec()), (b"g".to_vec(), vec![])]
        );
        assert_eq!(got[1].0, ids[0]);
        assert_eq!(got[1].1[0].1, b"abcdefghijklmnopq".to_vec());
        assert_eq!(got[2].1, vec![(b"other".to_vec(), big.clone())]);
        assert_eq!(got[3].0, ids[2]);
        assert_eq!(got[4].0, StreamId::MAX);
        assert_eq!(got[4].1[0], (b"g".to_vec(), b"x".to_vec()));
        assert_eq!(n.last(), StreamId::MAX);
        let at = n.iter(key).nth(2).map(|e| e.at).unwrap_or(0);
        n.mark_deleted(at);
        assert_eq!((n.live(), n.count()), (4, 5));
        assert!(n
            .iter(key)
            .nth(2)
            .is_some_and(|e| e.deleted && e.id == ids[1]));
    }

    #[test]
    fn listpack_sizes_follow_redis() {
        assert_eq!(lp::int(0), 2);
        assert_eq!(lp::int(127), 2);
        assert_eq!(lp::int(128), 3);
        assert_eq!(lp::int(-1), 3);
        assert_eq!(lp::int(40000), 5);
        assert_eq!(lp::int(i64::MIN), 10);
        assert_eq!(lp::str(b"v"), 3);
        assert_eq!(lp::str(b"12"), 2);
        assert_eq!(lp::str(b"012"), 5);
        assert_eq!(lp::str(&[b'a'; 63]), 65);
        assert_eq!(lp::str(&[b'a'; 64]), 67);
        assert_eq!(lp::str(&[b'a'; 200]), 204);
        // A fresh node of `XADD s 1-0 f v`: frame 7, counters 2+2, field count 2, "f" 3,
        // terminator 2, entry flags 2 + deltas 2+2 + "v" 3 + count 2.
        let n = Node::new(StreamId::new(1, 0), pairs(&[(b"f", b"v")]));
        assert_eq!(n.lp_bytes(), 7 + 2 + 2 + 2 + 3 + 2 + (2 + 2 + 2 + 3 + 2));
    }
}
