//! Views that take props and callbacks and never fetch: the pages own loading and actions.

pub mod diagnostics;
pub mod field_grid;
pub mod filters;
pub mod key_coverage;
pub mod notice;
pub mod progress;
pub mod resume_mode;
pub mod run_dialog;
pub mod share;
pub mod status;
pub mod transforms;
