//! `GET /events?after=&limit=`: the audit trail, oldest first.

use axum::extract::State;
use axum::Json;
use dualwrite_core::api::{Event, Events, MAX_PAGE};
use serde::Deserialize;

use super::body::Query;
use super::AppState;
use crate::error::ApiError;
use crate::store::Log;

#[derive(schemars::JsonSchema, Deserialize)]
pub struct EventsQuery {
    #[serde(default)]
    after: i64,
    limit: Option<usize>,
}

pub async fn list(
    State(app): State<AppState>,
    Query(q): Query<EventsQuery>,
) -> Result<Json<Events>, ApiError> {
    let limit = q.limit.unwrap_or(100).clamp(1, MAX_PAGE);
    app.read_log(Log::Events, move |tx, _, horizon| {
        let mut events = tx.events_after(q.after, limit)?;
        events.retain(|e| e.seq <= horizon);
        let next = events.last().map(|e| e.seq);
        let items = events
            .into_iter()
            .map(|e| Event::new(e.seq, e.at, e.kind.to_string(), e.map_id.map(|id| id.to_string()), e.body))
            .collect();
        Ok(Json(Events { items, next }))
    })
    .await
}
