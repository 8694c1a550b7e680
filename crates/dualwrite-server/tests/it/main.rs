//! The server's integration tests: one binary, the router called in-process through `TestApp`.

mod access;
mod api;
mod catch_up;
mod cli;
mod clients;
mod concurrency;
mod crash;
mod cursors;
mod dataverse_face;
mod day_one;
mod finops_face;
mod health;
mod initializing;
mod key_display;
mod lifecycle;
mod live_sync;
mod load;
mod operation_keys;
mod preflight;
mod schema_import;
mod several_servers;
mod solutions;
mod store;
mod support;
