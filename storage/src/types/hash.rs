//! [`Hash`]: field → value maps (redis-server's t_hash.c data side).
//!
//! Two encodings, as Redis 7.0 has them:
//!
//! * **packed** (`listpack`): fields and values alternating in one [`Packed`] buffer, held
//!   inline in the keyspace entry up to [`PACKED_INLINE_MAX`] bytes and in the value's box
//!   past that. Lookups are a linear scan, which for at most
//!   `hash-max-listpack-entries` (128) short pairs beats hashing.
//! * **table** (`hashtable`): a [`PairTable`], each pair one allocation.
//!
//! A hash starts packed and converts once it has more than `hash-max-listpack-entries`
//! fields or is given a field or value longer than `hash-max-listpack-value` bytes
//! (checked before the write, as redis-server's `hashTypeTryConversion` and `hashTypeSet`
//! do); it never converts back.

use super::listpack::{Packed, PackedRef};
use super::pairs::PairTable;
use super::{Collection, Thresholds, PACKED_INLINE_MAX};
use crate::keyspace::entry::{kind, Kind, ValueType};

/// A hash value; see the module doc.
#[derive(Clone, Debug)]
pub enum Hash {
    /// Fields and values alternating, small.
    Packed(Packed),
    /// A hash table of pairs.
    Table(PairTable),
}

/// A read-only view of a hash, wherever it is held.
#[derive(Clone, Copy)]
pub enum HashRef<'a> {
    /// The packed encoding.
    Packed(PackedRef<'a>),
    /// The table encoding.
    Table(&'a PairTable),
}

impl Default for Hash {
    fn default() -> Self {
        Hash::new()
    }
}

impl Hash {
    /// An empty hash (packed).
    pub fn new() -> Self {
        Hash::Packed(Packed::new())
    }

    /// A read view.
    pub fn view(&self) -> HashRef<'_> {
        match self {
            Hash::Packed(p) => HashRef::Packed(p.view()),
            Hash::Table(t) => HashRef::Table(t),
        }
    }

    /// Converts to the table encoding if any of `lens` (field and value lengths about to be
    /// written) is over `hash-max-listpack-value`.
    pub fn prepare(&mut self, lens: impl IntoIterator<Item = usize>, t: &Thresholds) {
        if matches!(self, Hash::Packed(_))
            && lens.into_iter().any(|l| l > t.hash_max_listpack_value)
        {
            self.convert();
        }
    }

    fn convert(&mut self) {
        let Hash::Packed(p) = self else {
            return;
        };
        let mut table = PairTable::new();
        table.reserve(p.len() / 2);
        let mut it = p.view().iter();
        while let (Some(f), Some(v)) = (it.next(), it.next()) {
            table.insert(f, v);
        }
        *self = Hash::Table(table);
    }

    /// Sets `field` to `value`; true if the field is new. Converts the encoding as the
    /// thresholds say (HSET calls [`Hash::prepare`] with every length first, so that a long
    /// value anywhere in the command converts before the first pair is written).
    pub fn set(&mut self, field: &[u8], value: &[u8], t: &Thresholds) -> bool {
        self.prepare([field.len(), value.len()], t);
        match self {
            Hash::Packed(p) => {
                let new = match p.view().find_pair(field) {
                    Some(pos) => {
                        let vpos = p.view().at(pos).1;
                        p.replace_at(vpos, value);
                        false
                    }
                    None => {
                        p.push(field);
                        p.push(value);
                        true
                    }
                };
                if p.len() / 2 > t.hash_max_listpack_entries {
                    self.convert();
                }
                new
            }
            Hash::Table(table) => table.insert(field, value),
        }
    }

    /// Removes `field`; true if it was there.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match self {
            Hash::Packed(p) => match p.view().find_pair(field) {
                Some(pos) => {
                    p.remove_at(pos, 2);
                    true
                }
                None => false,
            },
            Hash::Table(t) => t.remove(field),
        }
    }
}

impl<'a> HashRef<'a> {
    /// Number of fields.
    pub fn len(&self) -> usize {
        match self {
            HashRef::Packed(p) => p.len() / 2,
            HashRef::Table(t) => t.len(),
        }
    }

    /// True if there are no fields.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value of `field`.
    pub fn get(&self, field: &[u8]) -> Option<&'a [u8]> {
        match self {
            HashRef::Packed(p) => p.find_pair(field).map(|pos| p.at(p.at(pos).1).0),
            HashRef::Table(t) => t.get(field),
        }
    }

    /// True if `field` is present.
    pub fn contains(&self, field: &[u8]) -> bool {
        self.get(field).is_some()
    }

    /// Every (field, value) pair: insertion order when packed, table order otherwise (as
    /// redis-server's listpack and dict orders).
    pub fn iter(&self) -> HashIter<'a> {
        match self {
            HashRef::Packed(p) => HashIter::Packed(p.iter()),
            HashRef::Table(t) => HashIter::Table(Box::new(t.iter())),
        }
    }

    /// The `i`-th pair of the packed encoding, or a pair chosen from `random` in the table
    /// encoding (HRANDFIELD).
    pub fn pick(&self, i: usize, random: u64) -> Option<(&'a [u8], &'a [u8])> {
        match self {
            HashRef::Packed(p) => {
                let mut it = p.iter().skip(2 * i);
                Some((it.next()?, it.next()?))
            }
            HashRef::Table(t) => t.random(random),
        }
    }

    /// True when [`HashRef::pick`] picks by position (packed), false when it samples the
    /// table.
    pub fn picks_by_position(&self) -> bool {
        matches!(self, HashRef::Packed(_))
    }

    /// One HSCAN step from `cursor`: the packed encoding returns everything at once
    /// (cursor 0), as redis-server does for listpacks.
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(&'a [u8], &'a [u8])) -> u64 {
        match self {
            HashRef::Packed(_) => {
                for (k, v) in self.iter() {
                    f(k, v);
                }
                0
            }
            HashRef::Table(t) => t.scan(cursor, f),
        }
    }
}

/// Iterator over a hash's pairs.
pub enum HashIter<'a> {
    /// Over packed elements.
    Packed(super::listpack::Iter<'a>),
    /// Over table pairs.
    Table(Box<dyn Iterator<Item = (&'a [u8], &'a [u8])> + 'a>),
}

impl<'a> Iterator for HashIter<'a> {
    type Item = (&'a [u8], &'a [u8]);
    fn next(&mut self) -> Option<Self::Item> {
        match self {
            HashIter::Packed(it) => Some((it.next()?, it.next()?)),
            HashIter::Table(it) => it.next(),
        }
    }
}

impl Collection for Hash {
    fn len(&self) -> usize {
        self.view().len()
    }

    fn heap_bytes(&self) -> usize {
        match self {
            Hash::Packed(p) => p.heap_bytes(),
            Hash::Table(t) => t.heap_bytes(),
        }
    }

    fn encoding(&self) -> &'static str {
        match self {
            Hash::Packed(_) => "listpack",
            Hash::Table(_) => "hashtable",
        }
    }
}

impl Kind for Hash {
    const TYPE: ValueType = ValueType::Hash;
    const BOXED: u8 = kind::HASH;
    type Ref<'a> = HashRef<'a>;

    fn is_inline_kind(k: u8) -> bool {
        k == kind::HASH_PACKED
    }

    fn inline_ref(_k: u8, bytes: &[u8]) -> HashRef<'_> {
        HashRef::Packed(PackedRef::new(bytes))
    }

    fn as_ref(&self) -> HashRef<'_> {
        self.view()
    }

    fn from_inline(_k: u8, bytes: &[u8]) -> Self {
        Hash::Packed(Packed::from_bytes(bytes))
    }

    fn as_inline(&self) -> Option<(u8, &[u8])> {
        match self {
            Hash::Packed(p) if p.bytes().len() <= PACKED_INLINE_MAX => {
                Some((kind::HASH_PACKED, p.bytes()))
            }
            _ => None,
        }
    }
}

/// Elements of an inline hash.
pub(crate) fn inline_len(bytes: &[u8]) -> usize {
    PackedRef::new(bytes).len() / 2
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn pairs(h: &Hash) -> BTreeMap<Vec<u8>, Vec<u8>> {
        h.view()
            .iter()
            .map(|(k, v)| (k.to_vec(), v.to_vec()))
            .collect()
    }

    #[test]
    fn converts_at_the_thresholds() {
        let t = Thresholds {
            hash_max_listpack_entries: 4,
            hash_max_listpack_value: 8,
            ..Thresholds::default()
        };
        let mut h = Hash::new();
        for i in 0..4 {
            assert!(h.set(format!("f{i}").as_bytes(), b"v", &t));
        }
        assert_eq!(h.encoding(), "listpack");
        assert!(!h.set(b"f0", b"w", &t));
        assert_eq!(h.encoding(), "listpack");
        assert!(h.set(b"f4", b"v", &t));
        assert_eq!(h.encoding(), "hashtable");
        assert_eq!(h.len(), 5);
        let mut h = Hash::new();
        h.prepare([2, 9], &t);
        assert_eq!(h.encoding(), "hashtable");
        let mut h = Hash::new();
        h.prepare([8, 8], &t);
        assert_eq!(h.encoding(), "listpack");
    }

    proptest::proptest! {
        /// The packed encoding and the table encoding agree with a map, and with each other.
        #[test]
        fn encodings_agree(ops in proptest::collection::vec((proptest::bool::ANY, 0u8..40, 0u8..3), 0..300)) {
            let small = Thresholds { hash_max_listpack_entries: 1 << 20, hash_max_listpack_value: 1 << 20, ..Thresholds::default() };
            let big = Thresholds { hash_max_listpack_entries: 0, ..Thresholds::default() };
            let mut a = Hash::new();
            let mut b = Hash::new();
            let mut model = BTreeMap::new();
            for (set, f, v) in ops {
                let field = format!("field{f}").into_bytes();
                let value = vec![b'v'; v as usize];
                if set {
                    let new = model.insert(field.clone(), value.clone()).is_none();
                    proptest::prop_assert_eq!(a.set(&field, &value, &small), new);
                    proptest::prop_assert_eq!(b.set(&field, &value, &big), new);
                } else {
                    let was = model.remove(&field).is_some();
                    proptest::prop_assert_eq!(a.remove(&field), was);
                    proptest::prop_assert_eq!(b.remove(&field), was);
                }
                proptest::prop_assert_eq!(a.view().get(&field), model.get(&field).map(Vec::as_slice));
                proptest::prop_assert_eq!(b.view().get(&field), model.get(&field).map(Vec::as_slice));
            }
            proptest::prop_assert_eq!(a.encoding(), "listpack");
            proptest::prop_assert_eq!(&pairs(&a), &model);
            proptest::prop_assert_eq!(&pairs(&b), &model);
            proptest::prop_assert_eq!(a.len(), model.len());
        }
    }
}
