//! A map's queue (`GET /maps/{id}/queue?key=&after=&limit=`) and its catch-up errors
//! (`GET /maps/{id}/catch-up-errors`, `POST …/catch-up-errors/retry`).

use axum::extract::{Path, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::body::{OptionalBody, Query};
use super::maps::find;
use super::AppState;
use crate::error::ApiError;
use crate::queue;
use crate::store::{Log, QueuedChange};

const MAX_PAGE: usize = 1000;

#[derive(schemars::JsonSchema, Deserialize)]
pub struct QueueQuery {
    key: Option<String>,
    #[serde(default)]
    after: i64,
    limit: Option<usize>,
}

fn change(c: &QueuedChange) -> Value {
    json!({
        "seq": c.seq,
        "at": c.at,
        "key": c.key,
        "side": c.write.side,
        "table": c.write.table,
        "op": c.write.applied.as_str(),
        "row": c.write.row(),
    })
}

pub async fn list(
    State(app): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<QueueQuery>,
) -> Result<Json<Value>, ApiError> {
    let limit = q.limit.unwrap_or(50).clamp(1, MAX_PAGE);
    app.read_log(Log::Queue, move |tx, catalog, horizon| {
        let m = find(catalog, &id)?;
        let key = q.key.as_deref().filter(|k| !k.is_empty()).map(dualwrite_core::integration_key::normalize);
        let total = tx.queue_len(m.id, key.as_deref())?;
        let mut page = tx.queued(m.id, key.as_deref(), q.after, limit)?;
        page.retain(|c| c.seq <= horizon);
        let next = (page.len() == limit).then(|| page.last().map(|c| c.seq)).flatten();
        Ok(Json(json!({"total": total, "items": page.iter().map(change).collect::<Vec<_>>(), "next": next})))
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
) -> Result<Json<Value>, ApiError> {
    let limit = q.limit.unwrap_or(50).clamp(1, MAX_PAGE);
    app.read_log(Log::CatchUpErrors, move |tx, catalog, horizon| {
        let m = find(catalog, &id)?;
        let total = tx.catch_up_error_count(m.id)?;
        let mut page = tx.catch_up_errors(m.id, q.after, limit)?;
        page.retain(|e| e.id <= horizon);
        let next = (page.len() == limit).then(|| page.last().map(|e| e.id)).flatten();
        let items: Vec<Value> = page
            .iter()
            .map(|e| {
                let mut item = change(&e.change);
                if let Value::Object(o) = &mut item {
                    o.insert("id".into(), e.id.into());
                    o.insert("code".into(), e.code.as_str().into());
                    o.insert("message".into(), e.message.clone().into());
                }
                item
            })
            .collect();
        Ok(Json(json!({"total": total, "items": items, "next": next})))
    })
    .await
}

#[derive(schemars::JsonSchema, Deserialize, Default)]
pub struct RetryRequest {
    /// The catch-up errors to retry; all of them when absent.
    ids: Option<Vec<i64>>,
}

pub async fn retry(
    State(app): State<AppState>,
    Path(id): Path<String>,
    OptionalBody(request): OptionalBody<RetryRequest>,
) -> Result<Json<Value>, ApiError> {
    app.write(move |tx, catalog| {
        let m = find(catalog, &id)?;
        let (applied, failed) = queue::retry(tx, catalog, m, request.ids.as_deref())?;
        Ok(Json(json!({"applied": applied, "failed": failed, "remaining": tx.catch_up_error_count(m.id)?})))
    })
    .await
}
