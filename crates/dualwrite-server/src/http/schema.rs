//! `GET, PUT /schema`: the whole schema document.

use axum::extract::State;
use axum::Json;
use dualwrite_core::lifecycle::MapStatus;
use dualwrite_core::schema::Schema;
use serde_json::Value;

use super::body::Body;
use super::AppState;
use crate::catalog::{self, Catalog};
use crate::error::ApiError;

pub async fn get(State(app): State<AppState>) -> Result<Json<Value>, ApiError> {
    app.read(|_, catalog| Ok(Json(catalog.require_schema()?.to_value()))).await
}

pub async fn put(State(app): State<AppState>, Body(doc): Body<Value>) -> Result<Json<Value>, ApiError> {
    let schema = parse(&doc)?;
    app.write(move |tx, catalog| {
        refuse_while_running(catalog)?;
        catalog::put_schema(tx, &schema)?;
        Ok(Json(schema.to_value()))
    })
    .await
}

/// The schema document, or a 400 listing every problem with its path.
pub fn parse(doc: &Value) -> Result<Schema, ApiError> {
    Schema::from_value(doc).map_err(|e| {
        ApiError::bad_request("INVALID_SCHEMA", format!("the schema document has problems: {e}"))
            .with("problems", serde_json::to_value(&e.problems).unwrap_or_default())
    })
}

/// The schema may change only while every map is not running.
pub fn refuse_while_running(catalog: &Catalog) -> Result<(), ApiError> {
    if let Some(m) = catalog.maps.iter().find(|m| m.status != MapStatus::NotRunning) {
        return Err(ApiError::conflict(
            "MAPS_RUNNING",
            format!("map `{}` is {}; stop every map before changing the schema", m.map.name, m.status),
        )
        .with("map_id", m.id));
    }
    Ok(())
}
