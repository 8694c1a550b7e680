//! The dualwrite server: the HTTP API of `/api/v1`, the sync runtime, the store, and the studio's files.

pub mod check;
pub mod error;
pub mod http;
pub mod import_ms;
pub mod serve;
pub mod store;
pub mod studio;
