//! [`ZSet`]: sorted sets. Scaffolding only: the value model holds a packed form inline; the
//! commands and the big encoding arrive with the sorted sets work.

use super::listpack::{Packed, PackedRef};
use super::Collection;
use crate::keyspace::entry::{kind, Kind, ValueType};

/// A sorted sets value (packed form only so far).
#[derive(Clone, Debug, Default)]
pub struct ZSet {
    packed: Packed,
}

impl Collection for ZSet {
    fn len(&self) -> usize {
        self.packed.len()
    }

    fn heap_bytes(&self) -> usize {
        self.packed.heap_bytes()
    }

    fn encoding(&self) -> &'static str {
        "listpack"
    }
}

impl Kind for ZSet {
    const TYPE: ValueType = ValueType::ZSet;
    const BOXED: u8 = kind::ZSET;
    type Ref<'a> = PackedRef<'a>;

    fn is_inline_kind(k: u8) -> bool {
        k == kind::ZSET_PACKED
    }

    fn inline_ref(_k: u8, bytes: &[u8]) -> PackedRef<'_> {
        PackedRef::new(bytes)
    }

    fn as_ref(&self) -> PackedRef<'_> {
        self.packed.view()
    }

    fn from_inline(_k: u8, bytes: &[u8]) -> Self {
        ZSet {
            packed: Packed::from_bytes(bytes),
        }
    }

    fn as_inline(&self) -> Option<(u8, &[u8])> {
        Some((kind::ZSET_PACKED, self.packed.bytes()))
    }
}

/// Elements of an inline value.
pub(crate) fn inline_len(_k: u8, bytes: &[u8]) -> usize {
    PackedRef::new(bytes).len()
}
