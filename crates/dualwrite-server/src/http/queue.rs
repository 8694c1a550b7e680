//! A map's queue (`GET /maps/{id}/queue?key=&after=&limit=`) and its catch-up errors
//! (`GET /maps/{id}/catch-up-errors`, `POST …/catch-up-errors/retry`).

use axum::extract::{Path, State};
use axum::Json;
use dualwrite_core::api::{CatchUpError, Paged, QueueItem, Retried, RetryRequest, MAX_PAGE};
use serde::Deserialize;

use super::body::{OptionalBody, Query};
use super::maps::find;
use super::AppState;
use crate::error::ApiError;
use crate::queue;
use crate::store::{Log, QueuedChange};

#[derive(schemars::JsonSchema, Deserialize)]
pub struct QueueQuery {
    key: Option<String>,
    #[serde(default)]
    after: i64,
    limit: Option<usize>,
}

/// A queued change as the API shows it: its row as written, or for a delete as it was.
fn change(c: &QueuedChange) -> QueueItem {
    QueueItem {
        seq: c.seq,
        at: c.at.clone(),
        key: c.key.clone(),
        side: c.write.side,
        table: c.write.table.clone(),
        op: c.write.applied.op(),
        row: c.write.row().cloned(),
    }
}

pub async fn list(
    State(app): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<QueueQuery>,
) -> Result<Json<Paged<QueueItem>>, ApiError> {
    let limit = q.limit.unwrap_or(50).clamp(1, MAX_PAGE);
    app.read_log(Log::Queue, move |tx, catalog, horizon| {
        let m = find(catalog, &id)?;
        let key = q.key.as_deref().filter(|k| !k.is_empty()).map(dualwrite_core::integration_key::normalize);
        let total = tx.queue_len(m.id, key.as_deref())?;
        let mut page = tx.queued(m.id, key.as_deref(), q.after, limit)?;
        page.retain(|c| c.seq <= horizon);
        let next = (page.len() == limit).then(|| page.last().map(|c| c.seq)).flatten();
        let items = page.iter().map(change).collect();
        Ok(Json(Paged { total, items, next }))
    })
    .await
}

#[derive(schemars::JsonSchema, Deserialize)]
pub struct ErrorsQuery {
    #[serde(default)]
    after: i64,
    limit: Option<usize>,
}

pub async fn errors(
    State(app): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<ErrorsQuery>,
) -> Result<Json<Paged<CatchUpError>>, ApiError> {
    let limit = q.limit.unwrap_or(50).clamp(1, MAX_PAGE);
    app.read_log(Log::CatchUpErrors, move |tx, catalog, horizon| {
        let m = find(catalog, &id)?;
        let total = tx.catch_up_error_count(m.id)?;
        let mut page = tx.catch_up_errors(m.id, q.after, limit)?;
        page.retain(|e| e.id <= horizon);
        let next = (page.len() == limit).then(|| page.last().map(|e| e.id)).flatten();
        let items = page
            .iter()
            .map(|e| {
                Ok(CatchUpError {
                    id: e.id,
                    change: change(&e.change),
                    code: e.code.as_str().to_owned(),
                    message: e.message.clone(),
                })
            })
            .collect::<Result<_, ApiError>>()?;
        Ok(Json(Paged { total, items, next }))
    })
    .await
}

pub async fn retry(
    State(app): State<AppState>,
    Path(id): Path<String>,
    OptionalBody(request): OptionalBody<RetryRequest>,
) -> Result<Json<Retried>, ApiError> {
    app.write(move |tx, catalog| {
        let m = find(catalog, &id)?;
        let (applied, failed) = queue::retry(tx, catalog, m, request.ids.as_deref())?;
        Ok(Json(Retried {
            applied: applied as u64,
            failed: failed as u64,
            remaining: tx.catch_up_error_count(m.id)?,
        }))
    })
    .await
}
