//! `POST /maps/{id}/preflight`: what an initial sync would do, without writing. `?format=csv` gives
//! every problem row as CSV; `?problem=CODE&offset=&limit=` pages through one problem's rows.

use axum::extract::{Path, State};
use dualwrite_core::api::{PreflightAnswer, PreflightProblem, PreflightRequest, ProblemRow, MAX_PAGE};
use dualwrite_core::error_code::ErrorCode;
use dualwrite_core::schema::Side;
use serde::Deserialize;

use super::body::{OptionalBody, Query};
use super::endpoint::OrFile;
use super::maps::{diagnose, find};
use super::AppState;
use crate::error::ApiError;
use crate::preflight;

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
) -> Result<OrFile<PreflightAnswer>, ApiError> {
    let master = request.master.unwrap_or(Side::Dataverse);
    let report = app
        .read(move |tx, catalog| {
            let m = find(catalog, &id)?;
            let diagnostics = diagnose(catalog, &m.map, Some(m.id));
            Ok(preflight::run(tx, catalog, m, master, diagnostics)?)
        })
        .await?;
    match (q.format.as_deref(), q.problem) {
        (Some("csv"), _) => Ok(OrFile::File {
            content_type: "text/csv; charset=utf-8",
            name: format!("preflight-{}.csv", report.map_id),
            bytes: preflight::csv(&report).into_bytes(),
        }),
        (Some(other), _) if other != "json" => Err(ApiError::bad_request(
            ErrorCode::InvalidQuery,
            format!("format `{other}` is not known; use json or csv"),
        )),
        (_, Some(code)) => {
            let limit = q.limit.unwrap_or(50).clamp(1, MAX_PAGE);
            let rows: Vec<&ProblemRow> = report.all_problems.iter().filter(|p| p.code == code).collect();
            let items = rows.iter().skip(q.offset).take(limit).map(|&p| p.clone()).collect();
            let page = PreflightProblem {
                title: preflight::title(&code).to_owned(),
                total: rows.len() as u64,
                items,
                code,
            };
            Ok(OrFile::Json(PreflightAnswer::Problem(page)))
        }
        (_, None) => Ok(OrFile::Json(PreflightAnswer::Report(report.summary))),
    }
}
