//! `GET /maps/{id}/initial-sync` (the latest execution: progress, counts, every error, paged and
//! searchable), `POST …/initial-sync/rerun` and `POST …/initial-sync/skip`.

use axum::extract::{Path, State};
use axum::Json;
use dualwrite_core::api::{
    InitialSyncState, LatestInitialSync, MapResource, MapState, NoInitialSync, Paged, Progress, Rerun,
    RerunRequest, SyncError, MAX_PAGE,
};
use dualwrite_core::error_code::ErrorCode;
use dualwrite_core::lifecycle::{Action, MapStatus};
use serde::Deserialize;

use super::body::{OptionalBody, Query};
use super::maps::{find, resource};
use super::AppState;
use crate::error::ApiError;
use crate::initial_sync::{self, Execution};
use crate::lifecycle;

#[derive(schemars::JsonSchema, Deserialize)]
pub struct ErrorsQuery {
    /// The id of the last error already seen (a cursor; `next` gives it).
    #[serde(default)]
    after: i64,
    /// Errors to skip past `after` (for jumping to a page), at most 2^63 - 1.
    #[serde(default)]
    #[schemars(range(max = 9_223_372_036_854_775_807_u64))]
    offset: u64,
    limit: Option<usize>,
    search: Option<String>,
}

pub async fn get(
    State(app): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<ErrorsQuery>,
) -> Result<Json<InitialSyncState>, ApiError> {
    let limit = q.limit.unwrap_or(50).clamp(1, MAX_PAGE);
    if i64::try_from(q.offset).is_err() {
        return Err(ApiError::bad_request(
            ErrorCode::InvalidQuery,
            format!("offset must be at most {}, found {}", i64::MAX, q.offset),
        ));
    }
    app.read(move |tx, catalog| {
        let m = find(catalog, &id)?;
        let Some((execution_id, execution)) = initial_sync::latest(tx, m.id)? else {
            return Ok(Json(InitialSyncState::None(NoInitialSync {
                status: "none".into(),
                map_status: m.status,
                errors: Paged::whole(Vec::new()),
            })));
        };
        let (total, errors) =
            tx.execution_errors(execution_id, q.search.as_deref(), q.after, q.offset, limit)?;
        let next = (errors.len() == limit).then(|| errors.last().map(|e| e.id)).flatten();
        let items = errors
            .into_iter()
            .map(|e| SyncError {
                id: e.id,
                side: e.side,
                key: e.display_key,
                company: e.company,
                code: e.code.as_str().to_owned(),
                message: e.message,
            })
            .collect();
        Ok(Json(InitialSyncState::Latest(LatestInitialSync {
            progress: Progress { done: execution.done, total: execution.total },
            state: execution,
            execution_id,
            map_status: m.status,
            errors: Paged { total, items, next },
        })))
    })
    .await
}

/// Runs the initial sync again for a map whose last one failed (or that is not running), with the
/// same master.
pub async fn rerun(
    State(app): State<AppState>,
    Path(id): Path<String>,
    OptionalBody(request): OptionalBody<RerunRequest>,
) -> Result<Json<Rerun>, ApiError> {
    let result = app
        .write(move |tx, catalog| {
            let m = find(catalog, &id)?;
            let previous = initial_sync::latest(tx, m.id)?;
            let master = previous.as_ref().map_or(dualwrite_core::schema::Side::Dataverse, |(_, e)| e.master);
            let status = lifecycle::act(tx, m, Action::Run { initial_sync: true })?;
            let execution = Execution::new(master, request.retry_errors, previous.map(|(id, _)| id));
            let execution_id = initial_sync::start(tx, m, &execution)?;
            Ok(Json(Rerun { map: MapResource { status, ..resource(m) }, execution: execution_id }))
        })
        .await;
    app.wake.notify_one();
    result
}

/// Skips the initial sync: the map goes live once what queued meanwhile is replayed (after a failed
/// one, what queued is in the catch-up errors).
pub async fn skip(State(app): State<AppState>, Path(id): Path<String>) -> Result<Json<MapState>, ApiError> {
    let result = app
        .write(move |tx, catalog| {
            let m = find(catalog, &id)?;
            initial_sync::skip(tx, m)?;
            Ok(Json(MapState { id: m.id.to_string(), status: MapStatus::Initializing }))
        })
        .await;
    app.wake.notify_one();
    result
}
