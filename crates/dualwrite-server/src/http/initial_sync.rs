//! `GET /maps/{id}/initial-sync` (the latest execution: progress, counts, every error, paged and
//! searchable), `POST …/initial-sync/rerun` and `POST …/initial-sync/skip`.

use axum::extract::{Path, State};
use axum::Json;
use dualwrite_core::error_code::ErrorCode;
use dualwrite_core::lifecycle::{Action, MapStatus};
use serde::Deserialize;
use serde_json::{json, Value};

use super::body::{OptionalBody, Query};
use super::maps::{find, resource};
use super::AppState;
use crate::error::ApiError;
use crate::initial_sync::{self, Execution};
use crate::lifecycle;

/// At most this many errors a page.
const MAX_PAGE: usize = 1000;

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
) -> Result<Json<Value>, ApiError> {
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
            return Ok(Json(
                json!({"status": "none", "map_status": m.status, "errors": {"total": 0, "items": []}}),
            ));
        };
        let (total, errors) =
            tx.execution_errors(execution_id, q.search.as_deref(), q.after, q.offset, limit)?;
        let next = (errors.len() == limit).then(|| errors.last().map(|e| e.id)).flatten();
        let items: Vec<Value> = errors
            .into_iter()
            .map(|e| {
                json!({"id": e.id, "side": e.side, "key": e.display_key, "company": e.company, "code": e.code,
                       "message": e.message})
            })
            .collect();
        let mut out = serde_json::to_value(&execution).map_err(|e| ApiError::Internal(e.into()))?;
        if let Value::Object(o) = &mut out {
            o.insert("execution".into(), execution_id.into());
            o.insert("map_status".into(), serde_json::to_value(m.status).unwrap_or_default());
            o.insert("progress".into(), json!({"done": execution.done, "total": execution.total}));
            o.insert("errors".into(), json!({"total": total, "items": items, "next": next}));
        }
        Ok(Json(out))
    })
    .await
}

#[derive(schemars::JsonSchema, Deserialize, Default)]
pub struct RerunRequest {
    /// Whether rows that failed last time are tried again (otherwise only the rest is synced).
    #[serde(default = "yes")]
    retry_errors: bool,
}

fn yes() -> bool {
    true
}

/// Runs the initial sync again for a map whose last one failed (or that is not running), with the
/// same master.
pub async fn rerun(
    State(app): State<AppState>,
    Path(id): Path<String>,
    OptionalBody(request): OptionalBody<RerunRequest>,
) -> Result<Json<Value>, ApiError> {
    let result = app
        .write(move |tx, catalog| {
            let m = find(catalog, &id)?;
            let previous = initial_sync::latest(tx, m.id)?;
            let master = previous.as_ref().map_or(dualwrite_core::schema::Side::Dataverse, |(_, e)| e.master);
            let status = lifecycle::act(tx, m, Action::Run { initial_sync: true })?;
            let execution = Execution::new(master, request.retry_errors, previous.map(|(id, _)| id));
            let execution_id = initial_sync::start(tx, m, &execution)?;
            Ok(Json(json!({"map": dualwrite_core::api::MapResource { status, ..resource(m) }, "execution": execution_id})))
        })
        .await;
    app.wake.notify_one();
    result
}

/// Skips the initial sync: the map goes live once what queued meanwhile is replayed (after a failed
/// one, what queued is in the catch-up errors).
pub async fn skip(State(app): State<AppState>, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let result = app
        .write(move |tx, catalog| {
            let m = find(catalog, &id)?;
            initial_sync::skip(tx, m)?;
            Ok(Json(json!({"id": m.id.to_string(), "status": MapStatus::Initializing})))
        })
        .await;
    app.wake.notify_one();
    result
}
