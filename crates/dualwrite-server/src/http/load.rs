//! `POST /envs/{side}/tables/{table}/load` (a CSV or JSON lines file of one table) and
//! `POST /envs/{side}/load` (a finance-and-operations data package): rows from data exports, through
//! `crate::load`. The body is streamed to a temporary file as it arrives, never held in memory.

use axum::extract::{FromRequest, Path, Request, State};
use axum::Json;
use dualwrite_artifacts::data_export::Format;
use dualwrite_core::api::LoadReport;
use dualwrite_core::error_code::ErrorCode;
use serde::Deserialize;

use super::body::{Query, Upload};
use super::environments::side;
use super::{AppState, MAX_LOAD_BYTES};
use crate::error::ApiError;
use crate::load::{self, LoadOptions};

/// The media types a load takes.
pub const TABLE_TYPES: [&str; 3] =
    ["text/csv", "application/x-ndjson", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"];
pub const PACKAGE_TYPES: [&str; 1] = ["application/zip"];

/// The query of a load.
#[derive(schemars::JsonSchema, Deserialize)]
pub struct LoadQuery {
    /// `true`: keep a file's good rows when some are bad (each bad row is still reported); by default
    /// a file with a bad row loads nothing.
    #[serde(default)]
    skip_bad_rows: bool,
}

/// The format an upload's media type declares; `None` leaves it to the content.
fn format(content_type: Option<&str>) -> Option<Format> {
    match content_type? {
        "text/csv" | "application/csv" | "text/comma-separated-values" => Some(Format::Csv),
        "application/x-ndjson"
        | "application/jsonl"
        | "application/x-jsonlines"
        | "application/json-lines" => Some(Format::JsonLines),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => Some(Format::Xlsx),
        "application/zip" | "application/x-zip-compressed" => Some(Format::Package),
        _ => None,
    }
}

/// `POST /envs/{side}/tables/{table}/load?skip_bad_rows=`: a CSV (`text/csv`) or JSON lines
/// (`application/x-ndjson`) file of one table. An unknown table or a running map is answered before
/// the body is read.
pub async fn table(
    State(app): State<AppState>,
    Path((side_name, table)): Path<(String, String)>,
    Query(q): Query<LoadQuery>,
    request: Request,
) -> Result<Json<LoadReport>, ApiError> {
    let side = side(&side_name)?;
    let (store, catalog, name) = (app.store.clone(), app.catalog.clone(), table.clone());
    tokio::task::spawn_blocking(move || load::check_table(&store, &catalog, side, &name)).await??;
    let upload = Upload::<MAX_LOAD_BYTES>::from_request(request, &app).await?;
    let format = format(upload.content_type.as_deref());
    if format == Some(Format::Package) {
        return Err(ApiError::bad_request(
            ErrorCode::UnsupportedContentType,
            format!("a data package (zip) names its tables itself: send it to POST /api/v1/envs/{side}/load"),
        ));
    }
    let mut options = LoadOptions::new(side);
    options.table = Some(table);
    options.skip_bad_rows = q.skip_bad_rows;
    run(app, upload, format, options).await
}

/// `POST /envs/{side}/load?skip_bad_rows=`: a finance-and-operations data package (`application/zip`),
/// each entity file into the table its manifest names.
pub async fn package(
    State(app): State<AppState>,
    Path(side_name): Path<String>,
    Query(q): Query<LoadQuery>,
    upload: Upload<MAX_LOAD_BYTES>,
) -> Result<Json<LoadReport>, ApiError> {
    let side = side(&side_name)?;
    let mut options = LoadOptions::new(side);
    options.skip_bad_rows = q.skip_bad_rows;
    run(app, upload, Some(Format::Package), options).await
}

async fn run(
    app: AppState,
    upload: Upload<MAX_LOAD_BYTES>,
    format: Option<Format>,
    options: LoadOptions,
) -> Result<Json<LoadReport>, ApiError> {
    let skip_bad_rows = options.skip_bad_rows;
    let side = options.side;
    let files = tokio::task::spawn_blocking(move || {
        load::load_file(&app.store, &app.catalog, upload.file.path(), "body", format, &options)
    })
    .await??;
    let report = LoadReport { side: Some(side), skip_bad_rows, files };
    if !skip_bad_rows && report.refused() > 0 {
        let message = format!(
            "{} row(s) refused; files with bad rows were not loaded (see `report`): fix them, or load with \
             skip_bad_rows=true",
            report.refused()
        );
        return Err(ApiError::invalid(ErrorCode::RowsRefused, message)
            .with("report", serde_json::to_value(&report).unwrap_or_default()));
    }
    Ok(Json(report))
}
