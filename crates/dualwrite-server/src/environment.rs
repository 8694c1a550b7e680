//! Both environments' rows: how they are keyed, how lookups between them resolve, and how one write
//! operation is checked and applied the way the source system would.

pub mod keys;
pub mod lookup;
pub mod write;
