use axum::Json;
use dualwrite_core::api::Health;

/// `GET /api/v1/health`: needs no token, touches no database.
pub async fn get() -> Json<Health> {
    Json(Health::ok())
}
