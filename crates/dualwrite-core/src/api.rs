//! Wire types of the HTTP API (`/api/v1`), shared by the server and the studio.
//!
//! These are the JSON shapes other tools depend on; domain types convert to and from them at the
//! boundary.

use serde::{Deserialize, Serialize};

/// `GET /api/v1/health`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    pub status: String,
    pub version: String,
}

impl Health {
    /// The answer of a healthy server of this version.
    pub fn ok() -> Self {
        Self { status: "ok".to_owned(), version: crate::VERSION.to_owned() }
    }
}
