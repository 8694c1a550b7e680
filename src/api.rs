//! The studio's only door to the server: every HTTP call goes through here.

use dualwrite_core::api::Health;
use gloo_net::http::Request;

/// Why a call to the server failed, in words for the page.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError(pub String);

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<gloo_net::Error> for ApiError {
    fn from(e: gloo_net::Error) -> Self {
        ApiError(format!("cannot reach the server: {e}"))
    }
}

/// `GET /api/v1/health`.
pub async fn health() -> Result<Health, ApiError> {
    let response = Request::get("/api/v1/health").send().await?;
    if !response.ok() {
        return Err(ApiError(format!("the server answered {} to the health check", response.status())));
    }
    Ok(response.json().await?)
}
