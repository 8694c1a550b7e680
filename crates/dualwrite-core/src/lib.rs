//! The dualwrite domain, shared by the studio (compiled to wasm) and the server.
//!
//! Everything here is pure: no I/O, no async, no platform switches. The studio and the server call the
//! same functions, so a rule exists once.

pub mod api;

/// The version of dualwrite, reported by the server and shown by the studio.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
