//! cachegate's configuration: the schema, the shipped defaults and loading.
//!
//! This first step holds the building blocks: Redis number grammars
//! ([`units`]) and Redis glob matching ([`glob`]).

#![warn(missing_docs)]

pub mod glob;
pub mod units;
