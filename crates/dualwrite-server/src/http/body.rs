//! Extractors whose rejections are the API's JSON errors, never axum's plain-text ones.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;

use dualwrite_core::error_code::ErrorCode;

use crate::error::ApiError;

/// A JSON body; a malformed one answers 400 with the parser's words.
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let axum::Json(value) = axum::Json::<T>::from_request(req, state).await?;
        Ok(Body(value))
    }
}

/// A query string; a malformed one answers 400.
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Query(value) = axum::extract::Query::<T>::from_request_parts(parts, state).await?;
        Ok(Query(value))
    }
}

/// A JSON body that may be left out: an empty body is `T::default()`. Sent, it is a JSON object, as
/// every body of the API is (serde would otherwise read `[]` as a struct of defaults).
pub struct OptionalBody<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned + Default> FromRequest<S> for OptionalBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = axum::body::Bytes::from_request(req, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalBody(T::default()));
        }
        let invalid = |e: &dyn std::fmt::Display| {
            ApiError::bad_request(ErrorCode::InvalidBody, format!("the body is not what was expected: {e}"))
        };
        match serde_json::from_slice::<serde_json::Value>(&bytes).map_err(|e| invalid(&e))? {
            serde_json::Value::Object(_) => {}
            other => return Err(invalid(&format_args!("a JSON object, found `{other}`"))),
        }
        serde_json::from_slice(&bytes).map(OptionalBody).map_err(|e| invalid(&e))
    }
}

/// A body that is a document, not JSON (a `$metadata` XML, say), as bytes; a body over the endpoint's
/// limit answers 413 with the API's error body.
pub struct Document(pub axum::body::Bytes);

impl<S: Send + Sync> FromRequest<S> for Document {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Ok(Document(axum::body::Bytes::from_request(req, state).await?))
    }
}

/// A file sent as the body (a data export), written to a temporary file as it arrives, so that a body
/// of gigabytes never sits in memory; past `LIMIT` bytes it answers 413. The media type it was sent
/// as comes along.
pub struct Upload<const LIMIT: u64> {
    pub file: tempfile::NamedTempFile,
    pub content_type: Option<String>,
}

impl<S: Send + Sync, const LIMIT: u64> FromRequest<S> for Upload<LIMIT> {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        use http_body_util::BodyExt;
        use tokio::io::AsyncWriteExt;

        let content_type = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or(v).trim().to_ascii_lowercase());
        let spool = tempfile::NamedTempFile::new().map_err(|e| ApiError::Internal(e.into()))?;
        let mut out = tokio::fs::File::from_std(spool.reopen().map_err(|e| ApiError::Internal(e.into()))?);
        let mut body = req.into_body();
        let mut bytes = 0u64;
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| body_error(&e))?;
            let Ok(data) = frame.into_data() else { continue };
            bytes += data.len() as u64;
            if bytes > LIMIT {
                return Err(ApiError::new(
                    crate::error::Kind::TooLarge,
                    ErrorCode::BodyTooLarge,
                    format!(
                        "the file is larger than this server loads in one request ({} GiB); split it",
                        LIMIT >> 30
                    ),
                ));
            }
            out.write_all(&data).await.map_err(|e| ApiError::Internal(e.into()))?;
        }
        out.flush().await.map_err(|e| ApiError::Internal(e.into()))?;
        Ok(Upload { file: spool, content_type })
    }
}

/// A body that broke off: it took too long (408) or could not be read (400).
fn body_error(e: &axum::Error) -> ApiError {
    let timed_out = std::iter::successors(Some(e as &dyn std::error::Error), |e| e.source())
        .any(|e| e.is::<tower_http::timeout::TimeoutError>());
    if timed_out {
        ApiError::new(
            crate::error::Kind::Timeout,
            ErrorCode::RequestTimeout,
            "the request body stopped arriving; send it again",
        )
    } else {
        ApiError::bad_request(ErrorCode::InvalidBody, format!("the body could not be read: {e}"))
    }
}
