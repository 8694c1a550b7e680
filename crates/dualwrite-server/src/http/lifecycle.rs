//! Moving maps through their lifecycle: run (with or without initial sync), pause, resume, stop,
//! skip to live.

use axum::extract::{Path, State};
use axum::Json;
use dualwrite_core::api::{MapList, MapResource, PauseRequest, ResumeRequest, RunRequest};
use dualwrite_core::error_code::ErrorCode;
use dualwrite_core::lifecycle::{Action, MapStatus};
use dualwrite_core::related::run_order;
use dualwrite_core::table_map::TableMap;
use dualwrite_core::validation::has_errors;

use super::body::{Body, OptionalBody};
use super::maps::{diagnose, find, resource};
use super::AppState;
use crate::error::ApiError;
use crate::initial_sync::{self, Execution};
use crate::lifecycle;

/// `POST /maps/run`: runs the maps in the order given, all or none. A map with validation errors is
/// refused (422, with its diagnostics). Maps with initial sync start initializing; the worker copies
/// them one after another in this order.
pub async fn run(
    State(app): State<AppState>,
    Body(request): Body<RunRequest>,
) -> Result<Json<MapList>, ApiError> {
    if request.maps.is_empty() {
        return Err(ApiError::bad_request(
            ErrorCode::InvalidBody,
            "`maps` is empty; list the maps to run, upstream first",
        ));
    }
    let result = app
        .write(move |tx, catalog| {
            let mut ran = Vec::new();
            for item in &request.maps {
                let m = find(catalog, &item.id)?;
                let diagnostics = diagnose(catalog, &m.map, Some(m.id));
                if has_errors(&diagnostics) {
                    return Err(ApiError::invalid(
                        ErrorCode::ValidationFailed,
                        format!("map `{}` has validation errors; fix them before running it", m.map.name),
                    )
                    .with("map_id", m.id.to_string())
                    .with("diagnostics", serde_json::to_value(&diagnostics).unwrap_or_default()));
                }
                let status = lifecycle::act(tx, m, Action::Run { initial_sync: item.initial_sync })?;
                if item.initial_sync {
                    initial_sync::start(tx, m, &Execution::new(item.master, true, None))?;
                }
                ran.push(MapResource { status, ..resource(m) });
            }
            Ok(Json(MapList { items: ran }))
        })
        .await;
    app.wake.notify_one();
    result
}

/// `POST /maps/{id}/pause`: queue writes from now on; with `include_related`, the running maps this
/// one depends on pause too.
pub async fn pause(
    State(app): State<AppState>,
    Path(id): Path<String>,
    OptionalBody(request): OptionalBody<PauseRequest>,
) -> Result<Json<MapList>, ApiError> {
    app.write(move |tx, catalog| {
        let m = find(catalog, &id)?;
        let mut paused = vec![MapResource { status: lifecycle::act(tx, m, Action::Pause)?, ..resource(m) }];
        if request.include_related {
            let schema = catalog.require_schema()?;
            let maps: Vec<TableMap> = catalog.maps.iter().map(|c| c.map.clone()).collect();
            let index = catalog.maps.iter().position(|c| c.id == m.id).unwrap_or_default();
            for i in run_order(schema, &maps, index).order.into_iter().filter(|&i| i != index) {
                let related = &catalog.maps[i];
                if related.status == MapStatus::Running {
                    paused.push(MapResource {
                        status: lifecycle::act(tx, related, Action::Pause)?,
                        ..resource(related)
                    });
                }
            }
        }
        Ok(Json(MapList { items: paused }))
    })
    .await
}

/// `POST /maps/{id}/resume`: `catch_up` replays the queue in order, then goes live; `skip_preserve`
/// goes live at once and keeps the queue as catch-up errors; `skip_discard` drops it.
pub async fn resume(
    State(app): State<AppState>,
    Path(id): Path<String>,
    Body(request): Body<ResumeRequest>,
) -> Result<Json<MapResource>, ApiError> {
    let result = app
        .write(move |tx, catalog| {
            let m = find(catalog, &id)?;
            let status = lifecycle::act(tx, m, Action::Resume { mode: request.mode })?;
            Ok(Json(MapResource { status, ..resource(m) }))
        })
        .await;
    app.wake.notify_one();
    result
}

/// `POST /maps/{id}/skip-to-live`: a resuming map goes live at once; what is still queued moves to
/// the catch-up errors.
pub async fn skip_to_live(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<MapResource>, ApiError> {
    app.write(move |tx, catalog| {
        let m = find(catalog, &id)?;
        let status = lifecycle::act(tx, m, Action::SkipToLive)?;
        Ok(Json(MapResource { status, ..resource(m) }))
    })
    .await
}

/// `POST /maps/{id}/stop`.
pub async fn stop(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<MapResource>, ApiError> {
    app.write(move |tx, catalog| {
        let m = find(catalog, &id)?;
        let status = lifecycle::act(tx, m, Action::Stop)?;
        Ok(Json(MapResource { status, ..resource(m) }))
    })
    .await
}
