//! The server's one error type. Only here is an HTTP status chosen; internal detail goes to the log.
//!
//! Every error a client sees is `{"error": {"code", "message", ...details}}`: `code` is a stable
//! SCREAMING_SNAKE name tools can match on, `message` says what was wrong and how to put it right.
//! The engine's [`SyncError`] travels inside an [`ApiError`] unchanged until it is answered, and
//! [`ApiError::answer`] chooses its status here too.

use axum::extract::rejection::{BytesRejection, JsonRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use dualwrite_core::error_code::ErrorCode;
use serde_json::{json, Map, Value};

use crate::store::{StoreError, TxError};
use crate::sync_error::SyncError;

/// What kind of failure, which decides the status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The request itself is malformed: 400.
    BadRequest,
    /// The path names nothing: 404.
    NotFound,
    /// The resource is in a state that does not allow this: 409.
    Conflict,
    /// The request is well-formed but its content is invalid: 422.
    Invalid,
    /// An environment is marked unavailable: 503.
    Unavailable,
    /// The body is larger than the server accepts: 413.
    TooLarge,
    /// No token, or one that is not (or no longer) valid: 401.
    Unauthorized,
    /// The token's role may not do this: 403.
    Forbidden,
    /// The path exists but not with this method: 405.
    MethodNotAllowed,
    /// The client took too long to send its request: 408.
    Timeout,
    /// A condition the request set (`If-Match`, `If-None-Match`) does not hold: 412.
    PreconditionFailed,
}

/// An error answered to a client.
#[derive(Debug)]
pub enum ApiError {
    /// Something the client can act on: a kind, a code, a message and optional details.
    Client { kind: Kind, code: ErrorCode, message: String, details: Map<String, Value> },
    /// Something failed inside the server; the client learns only that it did.
    Internal(anyhow::Error),
    /// The engine's error, as it happened (a twin write's counts towards its map's alert rules).
    Sync(SyncError),
}

impl ApiError {
    pub fn new(kind: Kind, code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError::Client { kind, code, message: message.into(), details: Map::new() }
    }

    pub fn bad_request(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError::new(Kind::BadRequest, code, message)
    }

    pub fn not_found(what: impl std::fmt::Display) -> ApiError {
        ApiError::new(Kind::NotFound, ErrorCode::NotFound, format!("{what} was not found"))
    }

    pub fn conflict(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError::new(Kind::Conflict, code, message)
    }

    pub fn invalid(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError::new(Kind::Invalid, code, message)
    }

    /// Adds a detail field beside `code` and `message`.
    pub fn with(self, name: &str, value: impl Into<Value>) -> ApiError {
        match self {
            ApiError::Client { kind, code, message, mut details } => {
                details.insert(name.to_owned(), value.into());
                ApiError::Client { kind, code, message, details }
            }
            ApiError::Sync(e) => ApiError::Sync(e.with(name, value)),
            internal => internal,
        }
    }

    /// The same error, its message led by `prefix` (what was being done when it happened).
    pub fn context(self, prefix: &str) -> ApiError {
        match self {
            ApiError::Client { kind, code, message, details } => {
                ApiError::Client { kind, code, message: format!("{prefix}: {message}"), details }
            }
            ApiError::Sync(e) => ApiError::Sync(e.context(prefix)),
            internal => internal,
        }
    }

    /// The code a client sees (for tests and logs).
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Client { code, .. } => code.as_str(),
            ApiError::Sync(e) => e.code().as_str(),
            ApiError::Internal(_) => ErrorCode::Internal.as_str(),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::Internal(e.into())
    }
}

impl TxError for ApiError {
    fn is_retryable(&self) -> bool {
        match self {
            ApiError::Internal(e) => e.downcast_ref::<StoreError>().is_some_and(StoreError::is_retryable),
            ApiError::Sync(e) => e.is_retryable(),
            ApiError::Client { .. } => false,
        }
    }
}

impl From<SyncError> for ApiError {
    fn from(e: SyncError) -> Self {
        ApiError::Sync(e)
    }
}

impl ApiError {
    /// The engine's error this is, if it is one.
    pub fn sync_error(&self) -> Option<&SyncError> {
        match self {
            ApiError::Sync(e) => Some(e),
            _ => None,
        }
    }
}

/// The status a client gets for each thing that can go wrong in the engine.
fn from_sync(e: SyncError) -> ApiError {
    let (kind, refusal) = match e {
        SyncError::Unavailable(r) => (Kind::Unavailable, r),
        SyncError::NotFound(r) => (Kind::NotFound, r),
        SyncError::Malformed(r) => (Kind::BadRequest, r),
        SyncError::Invalid(r) => (Kind::Invalid, r),
        SyncError::Conflict(r) => (Kind::Conflict, r),
        SyncError::Internal(e) => return ApiError::Internal(e),
    };
    ApiError::Client { kind, code: refusal.code, message: refusal.message, details: refusal.details }
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(e: tokio::task::JoinError) -> Self {
        ApiError::Internal(anyhow::anyhow!("a blocking task failed: {e}"))
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::MissingJsonContentType(_) => ApiError::bad_request(
                ErrorCode::UnsupportedContentType,
                "the body must be JSON: send the header content-type: application/json",
            ),
            JsonRejection::BytesRejection(e) => e.into(),
            JsonRejection::JsonSyntaxError(e) => ApiError::bad_request(
                ErrorCode::MalformedJson,
                format!("the body is not valid JSON: {}", inner_message(&e)),
            ),
            JsonRejection::JsonDataError(e) => ApiError::bad_request(
                ErrorCode::InvalidBody,
                format!("the body does not have the expected shape: {}", inner_message(&e)),
            ),
            other => ApiError::bad_request(
                ErrorCode::InvalidBody,
                format!("the body could not be read: {}", other.body_text()),
            ),
        }
    }
}

impl From<BytesRejection> for ApiError {
    fn from(rejection: BytesRejection) -> Self {
        let timed_out = std::iter::successors(Some(&rejection as &dyn std::error::Error), |e| e.source())
            .any(|e| e.is::<tower_http::timeout::TimeoutError>());
        if timed_out {
            ApiError::new(
                Kind::Timeout,
                ErrorCode::RequestTimeout,
                "the request body did not arrive in time; send it again, all at once",
            )
        } else if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                Kind::TooLarge,
                ErrorCode::BodyTooLarge,
                format!(
                    "the request body is larger than this server accepts ({} MiB; {} MiB for a $metadata \
                     document); split the work into smaller requests",
                    crate::http::MAX_BODY_BYTES >> 20,
                    crate::http::MAX_METADATA_BYTES >> 20
                ),
            )
        } else {
            ApiError::bad_request(
                ErrorCode::InvalidBody,
                format!("the body could not be read: {}", rejection.body_text()),
            )
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        ApiError::bad_request(
            ErrorCode::InvalidQuery,
            format!("the query string is not valid: {}", rejection.body_text()),
        )
    }
}

/// serde's own words for what is wrong, without axum's wrapping.
fn inner_message(e: &dyn std::error::Error) -> String {
    let mut source: &dyn std::error::Error = e;
    while let Some(next) = source.source() {
        source = next;
    }
    source.to_string()
}

/// The code of a request whose transaction kept losing to concurrent writes (503, `Retry-After`).
pub const CONTENDED: &str = ErrorCode::Contended.as_str();

impl ApiError {
    /// The status and the `{"error": {...}}` body a client gets for this error (also inside a
    /// `$batch` answer, where each part carries its own).
    pub fn answer(self) -> (StatusCode, Value) {
        let (status, code, message, details) = match self {
            ApiError::Sync(e) => return from_sync(e).answer(),
            ApiError::Client { kind, code, message, details } => {
                let status = match kind {
                    Kind::BadRequest => StatusCode::BAD_REQUEST,
                    Kind::NotFound => StatusCode::NOT_FOUND,
                    Kind::Conflict => StatusCode::CONFLICT,
                    Kind::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
                    Kind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
                    Kind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
                    Kind::Unauthorized => StatusCode::UNAUTHORIZED,
                    Kind::Forbidden => StatusCode::FORBIDDEN,
                    Kind::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
                    Kind::Timeout => StatusCode::REQUEST_TIMEOUT,
                    Kind::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
                };
                (status, code, message, details)
            }
            // A transaction that lost its race with concurrent ones as often as it is rerun: the
            // request was fine and may simply be sent again.
            ApiError::Internal(e) if e.downcast_ref::<StoreError>().is_some_and(StoreError::is_retryable) => {
                tracing::warn!(error = ?e, "request lost to concurrent writes every time it ran");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    ErrorCode::Contended,
                    "the database is busy with conflicting writes; send the request again".to_owned(),
                    Map::new(),
                )
            }
            ApiError::Internal(e) => {
                tracing::error!(error = ?e, "request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    ErrorCode::Internal,
                    "the server failed; see its log".to_owned(),
                    Map::new(),
                )
            }
        };
        let mut error = details;
        error.insert("code".into(), code.as_str().into());
        error.insert("message".into(), message.into());
        (status, json!({ "error": error }))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, body) = self.answer();
        let contended = body["error"]["code"] == ErrorCode::Contended.as_str();
        let mut response = (status, Json(body)).into_response();
        if contended {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from_static("1"));
        }
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(axum::http::header::WWW_AUTHENTICATE, axum::http::HeaderValue::from_static("Bearer"));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;
    use dualwrite_core::error_code::ErrorCode;

    use super::ApiError;
    use crate::sync_error::SyncError;

    /// What went wrong in the engine decides the status a client gets; code, message and details
    /// reach it as the engine wrote them, and nothing the engine refuses is a 500.
    #[test]
    fn each_thing_that_goes_wrong_in_sync_answers_its_status() {
        let cases = [
            (
                SyncError::unavailable(ErrorCode::EnvironmentUnavailable, "down"),
                StatusCode::SERVICE_UNAVAILABLE,
            ),
            (SyncError::not_found("finops table `X`"), StatusCode::NOT_FOUND),
            (SyncError::malformed(ErrorCode::MissingField, "no key"), StatusCode::BAD_REQUEST),
            (
                SyncError::invalid(ErrorCode::LookupNotFound, "no currency EUR"),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (SyncError::conflict(ErrorCode::DuplicateKey, "taken"), StatusCode::CONFLICT),
        ];
        for (error, status) in cases {
            let code = error.code();
            let message = error.refusal().map(|r| r.message.clone()).unwrap_or_default();
            let (answered, body) = ApiError::from(error.context("map `M`").with("map_id", "7")).answer();
            assert_eq!(answered, status, "{body}");
            assert_eq!(body["error"]["code"], code.as_str(), "{body}");
            assert_eq!(body["error"]["message"], format!("map `M`: {message}"), "{body}");
            assert_eq!(body["error"]["map_id"], "7", "{body}");
        }
        let (status, body) = ApiError::from(SyncError::internal("stored execution: bad json")).answer();
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(body["error"]["code"], "INTERNAL");
        assert!(!body.to_string().contains("bad json"), "internal detail stays in the log: {body}");
    }
}
