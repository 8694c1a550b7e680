//! One module per routed view. Pages own loading and actions; components only take props.

pub mod home;
pub mod maps;
pub mod not_found;
