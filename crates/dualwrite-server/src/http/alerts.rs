//! `GET, PUT /alerts`: the alert rules.

use axum::extract::State;
use axum::Json;

use super::body::Body;
use super::AppState;
use dualwrite_core::api::AlertRules;
use dualwrite_core::error_code::ErrorCode;

use crate::alerts;
use crate::error::ApiError;

pub async fn get(State(app): State<AppState>) -> Result<Json<AlertRules>, ApiError> {
    app.read(|tx, _| Ok(Json(alerts::load(tx)?))).await
}

pub async fn put(
    State(app): State<AppState>,
    Body(rules): Body<AlertRules>,
) -> Result<Json<AlertRules>, ApiError> {
    let problems = rules.problems();
    if !problems.is_empty() {
        let message = problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ");
        return Err(ApiError::invalid(ErrorCode::InvalidAlerts, message)
            .with("problems", serde_json::to_value(&problems).unwrap_or_default()));
    }
    app.write(move |tx, _| {
        alerts::save(tx, &rules)?;
        Ok(Json(rules.clone()))
    })
    .await
}
