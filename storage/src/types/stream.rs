//! [`Stream`]: Redis streams. Scaffolding only: the commands, the entry storage and consumer
//! groups arrive with the streams work.

use super::Collection;
use crate::keyspace::entry::{kind, Kind, ValueType};

/// A stream value (empty scaffolding so far).
#[derive(Clone, Debug, Default)]
pub struct Stream {
    len: usize,
}

impl Collection for Stream {
    fn len(&self) -> usize {
        self.len
    }

    fn heap_bytes(&self) -> usize {
        0
    }

    fn encoding(&self) -> &'static str {
        "stream"
    }
}

impl Kind for Stream {
    const TYPE: ValueType = ValueType::Stream;
    const BOXED: u8 = kind::STREAM;
    type Ref<'a> = &'a Stream;

    fn is_inline_kind(_k: u8) -> bool {
        false
    }

    fn inline_ref(_k: u8, _bytes: &[u8]) -> &Stream {
        unreachable!("streams are never inline")
    }

    fn as_ref(&self) -> &Stream {
        self
    }

    fn from_inline(_k: u8, _bytes: &[u8]) -> Self {
        unreachable!("streams are never inline")
    }

    fn as_inline(&self) -> Option<(u8, &[u8])> {
        None
    }
}
