//! One module per routed view. Pages own loading and actions; components only take props.

pub mod alerts;
pub mod home;
pub mod import;
pub mod integration_keys;
pub mod load;
pub mod map;
pub mod maps;
pub mod not_found;
pub mod run;
pub mod sign_in;
pub mod table;
pub mod tokens;
