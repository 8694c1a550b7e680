//! Table maps: CRUD, validation, related maps, run and stop.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use dualwrite_core::api::{
    DiagnosticsResponse, MapDoc, MapListItem, MapResource, Paged, RelatedMaps, SavedMap, ValidateRequest,
};
use dualwrite_core::error_code::ErrorCode;
use dualwrite_core::lifecycle::MapStatus;
use dualwrite_core::related::run_order;
use dualwrite_core::table_map::TableMap;
use dualwrite_core::validation::{validate as validate_map, validate_structure, Diagnostic};
use serde_json::json;

use super::body::Body;
use super::AppState;
use crate::catalog::{self, Catalog, CatalogMap};
use crate::error::ApiError;
use crate::store::EventKind;

/// The map with id `id`, or a 404.
pub fn find<'c>(catalog: &'c Catalog, id: &str) -> Result<&'c CatalogMap, ApiError> {
    id.parse::<i64>()
        .ok()
        .and_then(|n| catalog.map(n))
        .ok_or_else(|| ApiError::not_found(format_args!("map `{id}`")))
}

pub fn resource(m: &CatalogMap) -> MapResource {
    MapResource { id: m.id.to_string(), status: m.status, map: MapDoc::from_map(&m.map) }
}

/// A draft from the wire, or a 400 listing every problem with its path.
pub fn parse(doc: &MapDoc) -> Result<TableMap, ApiError> {
    doc.to_map().map_err(|e| {
        ApiError::bad_request(ErrorCode::InvalidMap, format!("the map has problems: {e}"))
            .with("problems", serde_json::to_value(&e.problems).unwrap_or_default())
    })
}

/// The map as it is stored: its tables named by their schema names where it names them by an alias
/// (an entity set, a label).
pub fn stored_names(catalog: &Catalog, map: &TableMap) -> TableMap {
    let mut map = map.clone();
    if let Some(schema) = &catalog.schema {
        map.resolve_tables(schema);
    }
    map
}

/// The diagnostics of `map` among the catalog's other maps (against the schema when there is one).
pub fn diagnose(catalog: &Catalog, map: &TableMap, id: Option<i64>) -> Vec<Diagnostic> {
    let others = catalog.other_maps(id);
    match &catalog.schema {
        Some(schema) => validate_map(schema, &catalog.keys, map, &others),
        None => validate_structure(map, &others),
    }
}

fn saved(m: &CatalogMap, diagnostics: Vec<Diagnostic>) -> SavedMap {
    SavedMap { resource: resource(m), diagnostics }
}

/// `GET /maps`: every map with its status and the number of changes queued for it.
pub async fn list(State(app): State<AppState>) -> Result<Json<Paged<MapListItem>>, ApiError> {
    app.read(|tx, catalog| {
        let mut items = Vec::with_capacity(catalog.maps.len());
        for m in &catalog.maps {
            items.push(MapListItem {
                resource: resource(m),
                queued: tx.queue_len(m.id, None)?,
                catch_up_errors: tx.catch_up_error_count(m.id)?,
            });
        }
        Ok(Json(Paged::whole(items)))
    })
    .await
}

pub async fn get(State(app): State<AppState>, Path(id): Path<String>) -> Result<Json<MapResource>, ApiError> {
    app.read(move |_, catalog| Ok(Json(resource(find(catalog, &id)?)))).await
}

/// Saves a new map (a map with errors is saved as a draft; it cannot run).
pub async fn create(
    State(app): State<AppState>,
    Body(doc): Body<MapDoc>,
) -> Result<(StatusCode, Json<SavedMap>), ApiError> {
    let map = parse(&doc)?;
    app.write(move |tx, catalog| {
        let map = stored_names(catalog, &map);
        let id = tx.insert_map(&map.to_value())?;
        catalog::bump(tx)?;
        tx.record_event(EventKind::MapSaved, Some(id), &json!({"map": map.name, "version": map.version}))?;
        let saved_map = CatalogMap {
            id,
            map: map.clone(),
            status: MapStatus::NotRunning,
            finops_filter: None,
            dataverse_filter: None,
        };
        let diagnostics = diagnose(catalog, &map, Some(id));
        Ok((StatusCode::CREATED, Json(saved(&saved_map, diagnostics))))
    })
    .await
}

pub fn refuse_unless_editable(m: &CatalogMap, action: &str) -> Result<(), ApiError> {
    if m.status.is_editable() {
        return Ok(());
    }
    Err(ApiError::conflict(
        ErrorCode::MapNotEditable,
        format!("map `{}` is {}; stop it before you {action} it", m.map.name, m.status),
    )
    .with("status", m.status.as_str())
    .with("map_id", m.id))
}

pub async fn update(
    State(app): State<AppState>,
    Path(id): Path<String>,
    Body(doc): Body<MapDoc>,
) -> Result<Json<SavedMap>, ApiError> {
    let map = parse(&doc)?;
    app.write(move |tx, catalog| {
        let map = stored_names(catalog, &map);
        let current = find(catalog, &id)?;
        refuse_unless_editable(current, "edit")?;
        tx.update_map(current.id, &map.to_value())?;
        catalog::bump(tx)?;
        tx.record_event(
            EventKind::MapSaved,
            Some(current.id),
            &json!({"map": map.name, "version": map.version}),
        )?;
        let updated = CatalogMap { map: map.clone(), ..current.clone() };
        Ok(Json(saved(&updated, diagnose(catalog, &map, Some(current.id)))))
    })
    .await
}

pub async fn delete(State(app): State<AppState>, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    app.write(move |tx, catalog| {
        let current = find(catalog, &id)?;
        refuse_unless_editable(current, "delete")?;
        tx.delete_map(current.id)?;
        catalog::bump(tx)?;
        tx.record_event(EventKind::MapDeleted, Some(current.id), &json!({"map": current.map.name}))?;
        Ok(StatusCode::NO_CONTENT)
    })
    .await
}

pub async fn diagnostics(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<DiagnosticsResponse>, ApiError> {
    app.read(move |_, catalog| {
        let m = find(catalog, &id)?;
        Ok(Json(DiagnosticsResponse { diagnostics: diagnose(catalog, &m.map, Some(m.id)) }))
    })
    .await
}

/// `POST /validate`: the diagnostics of a draft, saved or not.
pub async fn validate(
    State(app): State<AppState>,
    Body(request): Body<ValidateRequest>,
) -> Result<Json<DiagnosticsResponse>, ApiError> {
    let map = parse(&request.map)?;
    app.read(move |_, catalog| Ok(Json(DiagnosticsResponse { diagnostics: diagnose(catalog, &map, None) })))
        .await
}

/// `GET /maps/{id}/related`: the map and the maps it depends on, upstream first, with any cycles.
pub async fn related(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<RelatedMaps>, ApiError> {
    app.read(move |_, catalog| {
        let m = find(catalog, &id)?;
        let schema = catalog.require_schema()?;
        let maps: Vec<TableMap> = catalog.maps.iter().map(|c| c.map.clone()).collect();
        let index = catalog.maps.iter().position(|c| c.id == m.id).unwrap_or_default();
        let order = run_order(schema, &maps, index);
        let items: Vec<MapResource> = order.order.iter().map(|&i| resource(&catalog.maps[i])).collect();
        let cycles: Vec<Vec<String>> = order
            .cycles
            .iter()
            .map(|c| c.iter().map(|&i| catalog.maps[i].id.to_string()).collect())
            .collect();
        Ok(Json(RelatedMaps { items, cycles }))
    })
    .await
}
