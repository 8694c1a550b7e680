//! `GET, PUT /schema`: the whole schema document; `POST /schema/import`: tables from `$metadata`.

use axum::extract::State;
use axum::Json;
use dualwrite_artifacts::csdl;
use dualwrite_core::api::{SchemaDocument, SchemaImport, TableImport};
use dualwrite_core::error_code::ErrorCode;
use dualwrite_core::lifecycle::MapStatus;
use dualwrite_core::schema::{Schema, Side};
use serde::Deserialize;
use serde_json::Value;

use super::body::{Body, Document, Query};
use super::AppState;
use crate::catalog::{self, Catalog};
use crate::error::ApiError;

pub async fn get(State(app): State<AppState>) -> Result<Json<SchemaDocument>, ApiError> {
    app.read(|_, catalog| Ok(Json(SchemaDocument::from(catalog.require_schema()?)))).await
}

/// The body stays JSON until the schema's reader takes it, so that every problem is answered with
/// its path.
pub async fn put(
    State(app): State<AppState>,
    Body(doc): Body<Value>,
) -> Result<Json<SchemaDocument>, ApiError> {
    let schema = parse(&doc)?;
    app.write(move |tx, catalog| {
        refuse_while_running(catalog)?;
        catalog::put_schema(tx, &schema)?;
        Ok(Json(SchemaDocument::from(&schema)))
    })
    .await
}

/// The schema document, or a 400 listing every problem with its path.
pub fn parse(doc: &Value) -> Result<Schema, ApiError> {
    Schema::from_value(doc).map_err(|e| {
        ApiError::bad_request(ErrorCode::InvalidSchema, format!("the schema document has problems: {e}"))
            .with("problems", serde_json::to_value(&e.problems).unwrap_or_default())
    })
}

/// The schema may change only while every map is not running.
pub fn refuse_while_running(catalog: &Catalog) -> Result<(), ApiError> {
    if let Some(m) = catalog.maps.iter().find(|m| m.status != MapStatus::NotRunning) {
        return Err(ApiError::conflict(
            ErrorCode::MapsRunning,
            format!("map `{}` is {}; stop every map before changing the schema", m.map.name, m.status),
        )
        .with("map_id", m.id));
    }
    Ok(())
}

/// The query of `POST /schema/import`.
#[derive(schemars::JsonSchema, Deserialize)]
pub struct ImportQuery {
    /// `finops` or `dataverse`: whose `$metadata` the body is.
    side: Side,
    /// Comma-separated tables to take (by name, entity set or label), with every table their lookups
    /// reach; every table of the document when absent.
    tables: Option<String>,
    /// `true`: answer what would be added and changed, write nothing.
    #[serde(default)]
    preview: bool,
}

/// `POST /schema/import?side=&tables=&preview=`: merges the tables of an OData CSDL `$metadata`
/// document (the body, XML) into the stored schema (see core's `Schema::merge`).
pub async fn import(
    State(app): State<AppState>,
    Query(q): Query<ImportQuery>,
    Document(body): Document,
) -> Result<Json<SchemaImport>, ApiError> {
    let wanted: Vec<String> = q
        .tables
        .as_deref()
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect();
    let side = q.side;
    // Reading is CPU work on a body of up to 64 MiB: off the async threads.
    let imported = tokio::task::spawn_blocking(move || csdl::read(body.as_ref(), Some(side), &wanted))
        .await
        .map_err(|e| ApiError::Internal(e.into()))?
        .map_err(|e| {
            ApiError::bad_request(
                ErrorCode::InvalidMetadata,
                format!("the $metadata document cannot be read: {e}"),
            )
            .with("line", e.line)
        })?;
    if !imported.unknown.is_empty() {
        let names: Vec<String> = imported.unknown.iter().map(ToString::to_string).collect();
        return Err(ApiError::bad_request(
            ErrorCode::UnknownTable,
            format!("tables asked for are not in the document: {}", names.join("; ")),
        ));
    }
    let preview = q.preview;
    let work = move |tx: &mut dyn crate::store::Tx, catalog: &Catalog| {
        let mut schema = catalog.schema.clone().unwrap_or_default();
        let changes = schema.merge(side, &imported.tables);
        let schema = parse(&schema.to_value()).map_err(|e| e.context("the merged schema"))?;
        if !preview {
            refuse_while_running(catalog)?;
            catalog::put_schema(tx, &schema)?;
        }
        Ok(Json(SchemaImport {
            side,
            preview,
            entity_types: imported.entity_types,
            tables: changes.iter().map(TableImport::from).collect(),
            notes: imported.notes.clone(),
        }))
    };
    if preview {
        app.read(work).await
    } else {
        app.write(work).await
    }
}
