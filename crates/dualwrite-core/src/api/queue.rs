//! A paused map's queue (`GET /maps/{id}/queue`) and its catch-up errors
//! (`GET /maps/{id}/catch-up-errors`, `POST …/catch-up-errors/retry`).

use serde::{Deserialize, Serialize};

use super::OpKind;
use crate::schema::{Row, Side};

/// A change waiting in a map's queue, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct QueueItem {
    pub seq: i64,
    /// When it was written (RFC 3339, UTC).
    pub at: String,
    /// The row's integration-key value, normalised.
    pub key: String,
    pub side: Side,
    pub table: String,
    pub op: OpKind,
    /// The row as written, or for a delete as it was.
    pub row: Option<Row>,
}

/// A queued change that failed to replay, with why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct CatchUpError {
    pub id: i64,
    #[serde(flatten)]
    pub change: QueueItem,
    pub code: String,
    pub message: String,
}

/// `POST /maps/{id}/catch-up-errors/retry`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct RetryRequest {
    /// The catch-up errors to retry; all of them when absent.
    pub ids: Option<Vec<i64>>,
}

/// What a retry did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Retried {
    pub applied: u64,
    pub failed: u64,
    /// Catch-up errors left.
    pub remaining: u64,
}
