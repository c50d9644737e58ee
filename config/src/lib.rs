//! placeholder
pub mod glob;
