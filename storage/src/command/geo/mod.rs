//! Geo commands.
use super::spec::StoreFn;
/// Geo handlers.
pub(crate) const HANDLERS: &[(&str, StoreFn)] = &[];
