//! The dualwrite server: the HTTP API of `/api/v1`, the sync runtime, the store, and the studio's files.

pub mod alerts;
pub mod catalog;
pub mod check;
pub mod demo;
pub mod environment;
pub mod error;
pub mod from_csdl;
pub mod http;
pub mod import_ms;
pub mod initial_sync;
pub mod lease;
pub mod lifecycle;
pub mod live_sync;
pub mod load;
pub mod odata;
pub mod pace;
pub mod preflight;
pub mod queue;
pub mod serve;
pub mod store;
pub mod studio;
pub mod sync_error;
pub mod tokens;
pub mod transaction;
pub mod twins;
pub mod worker;
