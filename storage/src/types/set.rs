//! [`Set`]: sets. Scaffolding only: the value model holds a packed form inline; the
//! commands and the big encoding arrive with the sets work.

use super::listpack::{Packed, PackedRef};
use super::Collection;
use crate::keyspace::entry::{kind, Kind, ValueType};

/// What `OBJECT ENCODING` says of a small set of strings held packed: redis-server 7.0 has
/// no packed encoding for them, so it reports its hash table.
pub const PACKED_ENCODING: &str = "hashtable";

/// A sets value (packed form only so far).
#[derive(Clone, Debug, Default)]
pub struct Set {
    packed: Packed,
}

impl Collection for Set {
    fn len(&self) -> usize {
        self.packed.len()
    }

    fn heap_bytes(&self) -> usize {
        self.packed.heap_bytes()
    }

    fn encoding(&self) -> &'static str {
        "hashtable"
    }
}

impl Kind for Set {
    const TYPE: ValueType = ValueType::Set;
    const BOXED: u8 = kind::SET;
    type Ref<'a> = PackedRef<'a>;

    fn is_inline_kind(k: u8) -> bool {
        k == kind::SET_PACKED
    }

    fn inline_ref(_k: u8, bytes: &[u8]) -> PackedRef<'_> {
        PackedRef::new(bytes)
    }

    fn as_ref(&self) -> PackedRef<'_> {
        self.packed.view()
    }

    fn from_inline(_k: u8, bytes: &[u8]) -> Self {
        Set {
            packed: Packed::from_bytes(bytes),
        }
    }

    fn as_inline(&self) -> Option<(u8, &[u8])> {
        Some((kind::SET_PACKED, self.packed.bytes()))
    }
}

/// Elements of an inline value.
pub(crate) fn inline_len(_k: u8, bytes: &[u8]) -> usize {
    PackedRef::new(bytes).len()
}
