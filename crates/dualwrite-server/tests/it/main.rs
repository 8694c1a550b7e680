//! The server's integration tests: one binary, the router called in-process through `TestApp`.

mod cli;
mod health;
mod store;
mod support;
