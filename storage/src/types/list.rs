//! [`List`]: lists. Scaffolding only: the value model holds a packed form inline; the
//! commands and the big encoding arrive with the lists work.

use super::listpack::{Packed, PackedRef};
use super::Collection;
use crate::keyspace::entry::{kind, Kind, ValueType};

/// What `OBJECT ENCODING` says of every list: redis-server 7.0 holds all lists as quicklists.
pub const INLINE_ENCODING: &str = "quicklist";

/// A lists value (packed form only so far).
#[derive(Clone, Debug, Default)]
pub struct List {
    packed: Packed,
}

impl Collection for List {
    fn len(&self) -> usize {
        self.packed.len()
    }

    fn heap_bytes(&self) -> usize {
        self.packed.heap_bytes()
    }

    fn encoding(&self) -> &'static str {
        "quicklist"
    }
}

impl Kind for List {
    const TYPE: ValueType = ValueType::List;
    const BOXED: u8 = kind::LIST;
    type Ref<'a> = PackedRef<'a>;

    fn is_inline_kind(k: u8) -> bool {
        k == kind::LIST_PACKED
    }

    fn inline_ref(_k: u8, bytes: &[u8]) -> PackedRef<'_> {
        PackedRef::new(bytes)
    }

    fn as_ref(&self) -> PackedRef<'_> {
        self.packed.view()
    }

    fn from_inline(_k: u8, bytes: &[u8]) -> Self {
        List {
            packed: Packed::from_bytes(bytes),
        }
    }

    fn as_inline(&self) -> Option<(u8, &[u8])> {
        Some((kind::LIST_PACKED, self.packed.bytes()))
    }
}

/// Elements of an inline value.
pub(crate) fn inline_len(_k: u8, bytes: &[u8]) -> usize {
    PackedRef::new(bytes).len()
}
