//! The server's one error type. Only here is an HTTP status chosen; internal detail goes to the log.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::store::StoreError;

/// An error answered to a client as `{"error": {"code", "message"}}`.
#[derive(Debug)]
pub enum ApiError {
    /// The path names nothing this server has.
    NotFound { what: String },
    /// Something failed inside the server; the client learns only that it did.
    Internal(anyhow::Error),
}

impl ApiError {
    fn status_and_body(&self) -> (StatusCode, &'static str, String) {
        match self {
            ApiError::NotFound { what } => {
                (StatusCode::NOT_FOUND, "NOT_FOUND", format!("{what} was not found"))
            }
            ApiError::Internal(_) => {
                (StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", "the server failed; see its log".to_owned())
            }
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::Internal(e.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(e) = &self {
            tracing::error!(error = ?e, "request failed");
        }
        let (status, code, message) = self.status_and_body();
        (status, Json(json!({"error": {"code": code, "message": message}}))).into_response()
    }
}
