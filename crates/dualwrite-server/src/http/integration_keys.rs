//! Integration keys: `GET /integration-keys`, `PUT /integration-keys/{table}` (a manual key) and
//! `POST /integration-keys/refresh` (regenerate from alternate keys; manual keys survive).

use std::collections::BTreeSet;

use axum::extract::{Path, State};
use axum::Json;
use dualwrite_core::api::{
    integration_key_docs, IntegrationKeyDoc, IntegrationKeyList, IntegrationKeyPut, KeyOriginDoc,
    RefreshedKeys,
};
use dualwrite_core::error_code::ErrorCode;
use dualwrite_core::lifecycle::MapStatus;
use dualwrite_core::schema::Side;
use serde_json::json;

use super::body::Body;
use super::AppState;
use crate::catalog::{self, Catalog};
use crate::error::ApiError;
use crate::store::EventKind;

/// The Dataverse tables that have (or need) an integration key: those of the maps, and any with a
/// stored key.
fn keyed_tables(catalog: &Catalog) -> BTreeSet<String> {
    let mut tables: BTreeSet<String> = catalog.maps.iter().map(|m| m.map.dataverse.clone()).collect();
    tables.extend(catalog.keys.iter().map(|(t, _)| t.to_owned()));
    tables
}

fn docs(catalog: &Catalog) -> Result<Vec<IntegrationKeyDoc>, ApiError> {
    let schema = catalog.require_schema()?;
    let tables = keyed_tables(catalog);
    Ok(integration_key_docs(schema, &catalog.keys, tables.iter().map(String::as_str)))
}

pub async fn list(State(app): State<AppState>) -> Result<Json<IntegrationKeyList>, ApiError> {
    app.read(|_, catalog| Ok(Json(IntegrationKeyList { items: docs(catalog)? }))).await
}

/// Sets a table's key by hand. Refused while a map on that table runs: it would re-pair its rows.
pub async fn put(
    State(app): State<AppState>,
    Path(table): Path<String>,
    Body(request): Body<IntegrationKeyPut>,
) -> Result<Json<IntegrationKeyDoc>, ApiError> {
    app.write(move |tx, catalog| {
        let schema = catalog.require_schema()?;
        let definition = schema
            .table(Side::Dataverse, &table)
            .ok_or_else(|| ApiError::not_found(format_args!("dataverse table `{table}`")))?;
        if request.fields.is_empty() {
            return Err(ApiError::invalid(
                ErrorCode::InvalidKey,
                "an integration key needs at least one field",
            ));
        }
        for field in &request.fields {
            schema.resolve_path(definition, field).map_err(|e| {
                ApiError::invalid(ErrorCode::InvalidKey, format!("key field {e}"))
                    .with("field", field.clone())
            })?;
        }
        if let Some(m) = catalog
            .maps
            .iter()
            .find(|m| m.map.dataverse == definition.name && m.status != MapStatus::NotRunning)
        {
            return Err(ApiError::conflict(
                ErrorCode::MapsRunning,
                format!(
                    "map `{}` on {} is {}; stop it before changing the table's key",
                    m.map.name, table, m.status
                ),
            ));
        }
        let mut keys = catalog.keys.clone();
        keys.set_manual(&definition.name, request.fields.clone());
        catalog::put_keys(tx, &keys)?;
        tx.record_event(
            EventKind::IntegrationKey,
            None,
            &json!({"table": definition.name, "fields": request.fields, "manual": true}),
        )?;
        Ok(Json(IntegrationKeyDoc {
            table: definition.name.clone(),
            fields: request.fields.clone(),
            manual: true,
            origin: KeyOriginDoc::Manual,
            other_alternate_keys: Vec::new(),
        }))
    })
    .await
}

/// Regenerates the keys of the maps' tables from their alternate keys; manual keys are left alone.
pub async fn refresh(State(app): State<AppState>) -> Result<Json<RefreshedKeys>, ApiError> {
    app.write(|tx, catalog| {
        let schema = catalog.require_schema()?;
        let mut keys = catalog.keys.clone();
        let tables: BTreeSet<String> = catalog.maps.iter().map(|m| m.map.dataverse.clone()).collect();
        let errors = keys.refresh(schema, tables.iter().map(String::as_str));
        catalog::put_keys(tx, &keys)?;
        let refreshed = Catalog { keys, ..catalog.clone() };
        let problems: Vec<String> = errors.iter().map(ToString::to_string).collect();
        Ok(Json(RefreshedKeys { items: docs(&refreshed)?, problems }))
    })
    .await
}
