//! The engine's error: why a write, a twin write, a replay, an initial-sync step or a load did not
//! happen, said in sync terms. The engine matches on what happened (a side is unavailable, a row is
//! refused, the store failed) and never on how a client is answered: `error.rs` alone turns a
//! [`SyncError`] into a status.

use dualwrite_core::error_code::ErrorCode;
use serde_json::{Map, Value};

use crate::store::{StoreError, TxError};

/// What went wrong while keeping the environments in step.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// A side is marked unavailable (maintenance): nothing is written to it until it is back.
    #[error("{0}")]
    Unavailable(Refusal),
    /// What the operation names does not exist: a table, a row, a token.
    #[error("{0}")]
    NotFound(Refusal),
    /// The operation is incomplete or its parts do not fit together: an op without its `key` or
    /// `row`, a key that names no key of the table, a column the environment computes, an export that
    /// cannot be read.
    #[error("{0}")]
    Malformed(Refusal),
    /// The content breaks the schema, a map or a link: a value that does not fit its column, a lookup
    /// or reference to no row, a map that cannot map rows; the details carry its diagnostics.
    #[error("{0}")]
    Invalid(Refusal),
    /// What is there refuses it: another row has the key, a paired row's integration key would
    /// change, a map is running or in a status the action does not apply to.
    #[error("{0}")]
    Conflict(Refusal),
    /// The store failed (or lost to concurrent writes every time it ran), or holds something that
    /// cannot be read; only the log learns the detail.
    #[error("{0:#}")]
    Internal(anyhow::Error),
}

/// Why an operation was refused: its stable code, what was wrong and how to put it right, and the
/// details that name what it concerns (`table`, `map`, `map_id`, `op_index`, `problems`, …).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{code}: {message}")]
pub struct Refusal {
    pub code: ErrorCode,
    pub message: String,
    pub details: Map<String, Value>,
}

impl Refusal {
    fn new(code: ErrorCode, message: impl Into<String>) -> Refusal {
        Refusal { code, message: message.into(), details: Map::new() }
    }
}

impl SyncError {
    pub fn unavailable(code: ErrorCode, message: impl Into<String>) -> SyncError {
        SyncError::Unavailable(Refusal::new(code, message))
    }

    /// `what` (a table, a row, a token) was not found.
    pub fn not_found(what: impl std::fmt::Display) -> SyncError {
        SyncError::NotFound(Refusal::new(ErrorCode::NotFound, format!("{what} was not found")))
    }

    pub fn malformed(code: ErrorCode, message: impl Into<String>) -> SyncError {
        SyncError::Malformed(Refusal::new(code, message))
    }

    pub fn invalid(code: ErrorCode, message: impl Into<String>) -> SyncError {
        SyncError::Invalid(Refusal::new(code, message))
    }

    pub fn conflict(code: ErrorCode, message: impl Into<String>) -> SyncError {
        SyncError::Conflict(Refusal::new(code, message))
    }

    /// Something the server holds or does failed; `what` says what, for the log.
    pub fn internal(what: impl std::fmt::Display) -> SyncError {
        SyncError::Internal(anyhow::anyhow!("{what}"))
    }

    /// Why the operation was refused; `None` when the server failed.
    pub fn refusal(&self) -> Option<&Refusal> {
        match self {
            SyncError::Unavailable(r)
            | SyncError::NotFound(r)
            | SyncError::Malformed(r)
            | SyncError::Invalid(r)
            | SyncError::Conflict(r) => Some(r),
            SyncError::Internal(_) => None,
        }
    }

    fn refusal_mut(&mut self) -> Option<&mut Refusal> {
        match self {
            SyncError::Unavailable(r)
            | SyncError::NotFound(r)
            | SyncError::Malformed(r)
            | SyncError::Invalid(r)
            | SyncError::Conflict(r) => Some(r),
            SyncError::Internal(_) => None,
        }
    }

    /// Why the operation was refused, or the failure of the server as it is.
    pub fn into_refusal(self) -> Result<Refusal, SyncError> {
        match self {
            SyncError::Unavailable(r)
            | SyncError::NotFound(r)
            | SyncError::Malformed(r)
            | SyncError::Invalid(r)
            | SyncError::Conflict(r) => Ok(r),
            internal @ SyncError::Internal(_) => Err(internal),
        }
    }

    /// Adds a detail naming what the refusal concerns.
    pub fn with(mut self, name: &str, value: impl Into<Value>) -> SyncError {
        if let Some(refusal) = self.refusal_mut() {
            refusal.details.insert(name.to_owned(), value.into());
        }
        self
    }

    /// The same error, its message led by `prefix` (what was being done when it happened).
    pub fn context(mut self, prefix: &str) -> SyncError {
        if let Some(refusal) = self.refusal_mut() {
            refusal.message = format!("{prefix}: {}", refusal.message);
        }
        self
    }

    /// A detail given with [`SyncError::with`].
    pub fn detail(&self, name: &str) -> Option<&Value> {
        self.refusal().and_then(|r| r.details.get(name))
    }

    /// The stable code (`INTERNAL` when the server failed).
    pub fn code(&self) -> ErrorCode {
        self.refusal().map_or(ErrorCode::Internal, |r| r.code)
    }

    /// A copy, to record after the failed transaction rolled back (a failure of the server becomes
    /// one that says only what failed).
    pub fn duplicate(&self) -> SyncError {
        match self {
            SyncError::Unavailable(r) => SyncError::Unavailable(r.clone()),
            SyncError::NotFound(r) => SyncError::NotFound(r.clone()),
            SyncError::Malformed(r) => SyncError::Malformed(r.clone()),
            SyncError::Invalid(r) => SyncError::Invalid(r.clone()),
            SyncError::Conflict(r) => SyncError::Conflict(r.clone()),
            SyncError::Internal(e) => SyncError::internal(e),
        }
    }
}

impl From<StoreError> for SyncError {
    fn from(e: StoreError) -> Self {
        SyncError::Internal(e.into())
    }
}

impl TxError for SyncError {
    fn is_retryable(&self) -> bool {
        match self {
            SyncError::Internal(e) => e.downcast_ref::<StoreError>().is_some_and(StoreError::is_retryable),
            _ => false,
        }
    }
}
