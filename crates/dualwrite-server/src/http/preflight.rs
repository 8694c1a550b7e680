//! `POST /maps/{id}/preflight`: what an initial sync would do, without writing. `?format=csv` gives
//! every problem row as CSV; `?problem=CODE&offset=&limit=` pages through one problem's rows.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use dualwrite_core::error_code::ErrorCode;
use dualwrite_core::schema::Side;
use serde::Deserialize;
use serde_json::json;

use super::body::{OptionalBody, Query};
use super::maps::{diagnose, find};
use super::AppState;
use crate::error::ApiError;
use crate::preflight;

#[derive(schemars::JsonSchema, Deserialize, Default)]
pub struct PreflightRequest {
    /// The side whose values would win conflicts; Dataverse unless chosen.
    master: Option<Side>,
}

#[derive(schemars::JsonSchema, Deserialize)]
pub struct PreflightQuery {
    format: Option<String>,
    problem: Option<String>,
    #[serde(default)]
    offset: usize,
    limit: Option<usize>,
}

pub async fn run(
    State(app): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<PreflightQuery>,
    OptionalBody(request): OptionalBody<PreflightRequest>,
) -> Result<Response, ApiError> {
    let master = request.master.unwrap_or(Side::Dataverse);
    let report = app
        .read(move |tx, catalog| {
            let m = find(catalog, &id)?;
            let diagnostics = diagnose(catalog, &m.map, Some(m.id));
            Ok(preflight::run(tx, catalog, m, master, diagnostics)?)
        })
        .await?;
    match (q.format.as_deref(), q.problem) {
        (Some("csv"), _) => Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"preflight-{}.csv\"", report.map_id),
                ),
            ],
            preflight::csv(&report),
        )
            .into_response()),
        (Some(other), _) if other != "json" => Err(ApiError::bad_request(
            ErrorCode::InvalidQuery,
            format!("format `{other}` is not known; use json or csv"),
        )),
        (_, Some(code)) => {
            let limit = q.limit.unwrap_or(50).clamp(1, 1000);
            let rows: Vec<&preflight::ProblemRow> =
                report.all_problems.iter().filter(|p| p.code == code).collect();
            let items: Vec<_> = rows.iter().skip(q.offset).take(limit).collect();
            Ok(Json(
                json!({"code": code, "title": preflight::title(&code), "total": rows.len(), "items": items}),
            )
            .into_response())
        }
        (_, None) => Ok(Json(report).into_response()),
    }
}
