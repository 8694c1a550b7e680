//! The HTTP API, `/api/v1`, and the studio served from the same address.

mod health;

use std::path::PathBuf;
use std::sync::Arc;

use axum::http::Uri;
use axum::routing::get;
use axum::Router;
use tower_http::trace::TraceLayer;

use crate::error::ApiError;
use crate::store::Store;

/// Where the API lives.
pub const API: &str = "/api/v1";

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<Store>,
}

/// The whole product on one router: the API under `/api/v1`, and the studio (from `studio_dir`, when
/// given) for every other path.
pub fn router(state: AppState, studio_dir: Option<PathBuf>) -> Router {
    let api = Router::new().route("/health", get(health::get)).fallback(|uri: Uri| async move {
        ApiError::NotFound { what: format!("endpoint {API}{}", uri.path()) }
    });
    let app = Router::new().nest(API, api).with_state(state);
    let app = match studio_dir {
        Some(dir) => app.fallback_service(crate::studio::service(&dir)),
        None => app,
    };
    app.layer(TraceLayer::new_for_http())
}
