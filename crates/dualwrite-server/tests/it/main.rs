//! The server's integration tests: one binary, the router called in-process through `TestApp`.

mod access;
mod api;
mod cli;
mod concurrency;
mod crash;
mod health;
mod initializing;
mod lifecycle;
mod live_sync;
mod preflight;
mod store;
mod support;
