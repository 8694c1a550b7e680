//! `GET /events?after=&limit=`: the audit trail, oldest first.

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::body::Query;
use super::AppState;
use crate::error::ApiError;
use crate::store::Log;

/// At most this many events a page.
pub const MAX_PAGE: usize = 1000;

#[derive(schemars::JsonSchema, Deserialize)]
pub struct EventsQuery {
    #[serde(default)]
    after: i64,
    limit: Option<usize>,
}

pub async fn list(
    State(app): State<AppState>,
    Query(q): Query<EventsQuery>,
) -> Result<Json<Value>, ApiError> {
    let limit = q.limit.unwrap_or(100).clamp(1, MAX_PAGE);
    app.read_log(Log::Events, move |tx, _, horizon| {
        let mut events = tx.events_after(q.after, limit)?;
        events.retain(|e| e.seq <= horizon);
        let next = events.last().map(|e| e.seq);
        let items: Vec<Value> = events
            .into_iter()
            .map(|e| {
                let mut item = json!({"seq": e.seq, "at": e.at, "kind": e.kind, "map_id": e.map_id.map(|id| id.to_string())});
                if let (Value::Object(out), Value::Object(body)) = (&mut item, e.body) {
                    out.extend(body);
                }
                item
            })
            .collect();
        Ok(Json(json!({"items": items, "next": next})))
    })
    .await
}
