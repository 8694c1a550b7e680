//! The dualwrite domain, shared by the studio (compiled to wasm) and the server.
//!
//! Everything here is pure: no I/O, no async, no platform switches. The studio and the server call the
//! same functions, so a rule exists once.
//!
//! - [`schema`]: the two environments' tables and columns, and the check of a value against a column.
//! - [`table_map`]: table maps, field mappings, directions, transforms.
//! - [`integration_key`]: keys, their generation and normalised key values.
//! - [`filter`]: the two filter grammars, checked and evaluated on rows.
//! - [`validation`]: every rule a map must satisfy, as diagnostics.
//! - [`row_mapping`]: one row through a map, in one direction.
//! - [`initial_sync`]: the plan of an initial sync for a chunk of rows.
//! - [`lifecycle`] and [`related`]: map statuses and actions; maps a map depends on, in run order.
//! - [`package`]: the native package and the `msdyn_mapping` shape.
//! - [`access`]: the roles of API tokens and what each may do.
//! - [`api`]: the HTTP API's wire types.
//! - [`document`]: reading JSON documents with every problem reported at its path.
//! - [`error_code`]: the stable codes of errors and problems, spelled once.

pub mod access;
pub mod api;
pub mod document;
pub mod error_code;
pub mod filter;
pub mod initial_sync;
pub mod integration_key;
pub mod lifecycle;
pub mod package;
pub mod related;
pub mod row_mapping;
pub mod schema;
mod spelled;
pub mod table_map;
pub mod validation;

/// The version of dualwrite, reported by the server and shown by the studio.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
