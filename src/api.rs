//! The studio's only door to the server: every HTTP call goes through here, so what every request
//! needs (the base path, the session's bearer token) is added in [`request`] alone, and a refused
//! token (401) is reported to [`session`] in [`answer_text`] alone.

use dualwrite_core::api::{
    AlertRules, Availability, AvailabilityRequest, CatchUpError, ErrorBody, Health, ImportReport,
    InitialSyncState, IntegrationKeyDoc, IntegrationKeyList, IntegrationKeyPut, IssuedToken, LoadReport,
    MapDoc, MapList, MapListItem, MapResource, MapState, NewToken, Paged, PauseRequest, PreflightProblem,
    PreflightReport, PreflightRequest, QueueItem, RefreshedKeys, RelatedMaps, Rerun, RerunRequest,
    ResumeRequest, Retried, RetryRequest, RunRequest, SavedMap, SchemaImport, Session, TokenInfo,
    TransactionRequest, TransactionResponse,
};
use dualwrite_core::error_code::ErrorCode;
use dualwrite_core::lifecycle::{Action, ResumeMode};
use dualwrite_core::schema::{Row, Side};
use dualwrite_core::validation::Diagnostic;
use gloo_net::http::{Method, Request, RequestBuilder};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::route::{encode, with_query};
use crate::session;

pub mod answer;

/// Where the API lives.
const API: &str = "/api/v1";

/// Why a call to the server failed, in words for the page.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// The HTTP status; 0 when the server could not be reached.
    pub status: u16,
    /// The server's error code (`MAP_NOT_EDITABLE`), or `UNREACHABLE` / `BAD_ANSWER`.
    pub code: String,
    pub message: String,
    /// The diagnostics a refused save or run came with.
    pub diagnostics: Vec<Diagnostic>,
}

impl ApiError {
    fn local(code: &str, message: String) -> ApiError {
        ApiError { status: 0, code: code.to_owned(), message, diagnostics: Vec::new() }
    }

    /// Whether the server does not offer this endpoint (yet).
    pub fn is_missing_endpoint(&self) -> bool {
        self.status == 404 && self.message.contains("endpoint")
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<gloo_net::Error> for ApiError {
    fn from(e: gloo_net::Error) -> Self {
        ApiError::local("UNREACHABLE", format!("cannot reach the server: {e}"))
    }
}

/// Every request starts here, carrying the signed-in session's token.
fn request(method: Method, path: &str) -> RequestBuilder {
    request_as(method, path, session::token().as_deref())
}

/// A request carrying `token`, whichever session is open.
fn request_as(method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
    let builder = RequestBuilder::new(&format!("{API}{path}")).method(method);
    match token {
        Some(token) => builder.header("Authorization", &format!("Bearer {token}")),
        None => builder,
    }
}

/// The body of a successful answer, or the server's error.
async fn answer_text(request: Request) -> Result<String, ApiError> {
    let bearer = request.headers().get("Authorization");
    let response = request.send().await?;
    let status = response.status();
    let text = response.text().await?;
    if status == 401 {
        session::refused(bearer.as_deref().and_then(|h| h.strip_prefix("Bearer ")));
    }
    if !response.ok() {
        return Err(refusal(status, &response.status_text(), &text));
    }
    Ok(text)
}

/// The server's error answer (`status`, its body `text`) in words for the page.
fn refusal(status: u16, status_text: &str, text: &str) -> ApiError {
    match json_of(text).and_then(decode::<ErrorBody>) {
        Ok(body) => ApiError {
            status,
            diagnostics: body
                .error
                .details
                .get("diagnostics")
                .and_then(|d| decode(d.clone()).ok())
                .unwrap_or_default(),
            code: body.error.code,
            message: body.error.message,
        },
        Err(_) => ApiError {
            status,
            code: "BAD_ANSWER".into(),
            message: format!("the server answered {status} {status_text}"),
            diagnostics: Vec::new(),
        },
    }
}

fn bad_answer(e: serde_json::Error) -> ApiError {
    ApiError::local("BAD_ANSWER", format!("the server's answer is not what the studio expects: {e}"))
}

/// An answer's text as JSON; an empty answer is `null`.
fn json_of(text: &str) -> Result<Value, ApiError> {
    let text = if text.trim().is_empty() { "null" } else { text };
    serde_json::from_str(text).map_err(bad_answer)
}

/// An answer in the shape the studio reads it in. Every answer is parsed as JSON first and read
/// from that value, so each shape is read by one deserialiser, not one per input type.
fn decode<T: DeserializeOwned>(value: Value) -> Result<T, ApiError> {
    answer::read(value).map_err(bad_answer)
}

/// `body` as the JSON text a request carries.
fn json(body: &impl Serialize) -> Result<String, ApiError> {
    serde_json::to_string(body)
        .map_err(|e| ApiError::local("UNREACHABLE", format!("cannot reach the server: {e}")))
}

async fn answer(request: Request) -> Result<Value, ApiError> {
    json_of(&answer_text(request).await?)
}

async fn get(path: &str) -> Result<Value, ApiError> {
    answer(request(Method::GET, path).build()?).await
}

async fn send(method: Method, path: &str, body: Result<String, ApiError>) -> Result<Value, ApiError> {
    answer(request(method, path).header("Content-Type", "application/json").body(body?)?).await
}

async fn post(path: &str, body: Result<String, ApiError>) -> Result<Value, ApiError> {
    send(Method::POST, path, body).await
}

/// The body of a request that carries nothing.
fn empty() -> Result<String, ApiError> {
    Ok("{}".to_owned())
}

/// `GET /health`.
pub async fn health() -> Result<Health, ApiError> {
    decode(get("/health").await?)
}

/// `GET /session` with `token`: whom it belongs to and their role; a 401 if the server refuses it.
pub async fn session_as(token: &str) -> Result<Session, ApiError> {
    decode(answer(request_as(Method::GET, "/session", Some(token)).build()?).await?)
}

/// `GET /tokens`: every token, revoked ones included.
pub async fn tokens() -> Result<Paged<TokenInfo>, ApiError> {
    decode(get("/tokens").await?)
}

/// `POST /tokens`: a new token; its secret is in this answer and nowhere else.
pub async fn issue_token(new: &NewToken) -> Result<IssuedToken, ApiError> {
    decode(post("/tokens", json(new)).await?)
}

/// `DELETE /tokens/{id}`: the token, revoked.
pub async fn revoke_token(id: &str) -> Result<TokenInfo, ApiError> {
    decode(answer(request(Method::DELETE, &format!("/tokens/{}", encode(id))).build()?).await?)
}

/// `GET /schema`: the schema document.
pub async fn schema() -> Result<Value, ApiError> {
    get("/schema").await
}

/// `GET /envs/{side}/tables/{table}/rows`.
pub async fn rows(
    side: Side,
    table: &str,
    filter: &str,
    limit: u32,
    after: i64,
) -> Result<Paged<Row>, ApiError> {
    let path = with_query(
        format!("/envs/{side}/tables/{}/rows", encode(table)),
        &[
            ("filter", filter.to_owned()),
            ("limit", limit.to_string()),
            ("after", if after > 0 { after.to_string() } else { String::new() }),
        ],
    );
    decode(get(&path).await?)
}

/// `POST /envs/{side}/transactions`.
pub async fn transaction(side: Side, request: &TransactionRequest) -> Result<TransactionResponse, ApiError> {
    decode(post(&format!("/envs/{side}/transactions"), json(request)).await?)
}

/// `GET /envs/{side}/availability`.
pub async fn availability(side: Side) -> Result<Availability, ApiError> {
    decode(get(&format!("/envs/{side}/availability")).await?)
}

/// `PUT /envs/{side}/availability`.
pub async fn set_availability(side: Side, available: bool) -> Result<Availability, ApiError> {
    decode(
        send(Method::PUT, &format!("/envs/{side}/availability"), json(&AvailabilityRequest { available }))
            .await?,
    )
}

/// `GET /integration-keys`.
pub async fn integration_keys() -> Result<Vec<IntegrationKeyDoc>, ApiError> {
    decode::<IntegrationKeyList>(get("/integration-keys").await?).map(|i| i.items)
}

/// `PUT /integration-keys/{table}`: a manual key.
pub async fn put_integration_key(table: &str, fields: Vec<String>) -> Result<IntegrationKeyDoc, ApiError> {
    decode(
        send(
            Method::PUT,
            &format!("/integration-keys/{}", encode(table)),
            json(&IntegrationKeyPut { fields }),
        )
        .await?,
    )
}

/// `POST /integration-keys/refresh`.
pub async fn refresh_integration_keys() -> Result<RefreshedKeys, ApiError> {
    decode(post("/integration-keys/refresh", empty()).await?)
}

/// `GET /maps`.
pub async fn maps() -> Result<Vec<MapListItem>, ApiError> {
    decode::<Paged<MapListItem>>(get("/maps").await?).map(|i| i.items)
}

/// `GET /maps/{id}`.
pub async fn map(id: &str) -> Result<MapResource, ApiError> {
    decode(get(&format!("/maps/{}", encode(id))).await?)
}

/// `POST /maps`.
pub async fn create_map(doc: &MapDoc) -> Result<SavedMap, ApiError> {
    decode(post("/maps", json(doc)).await?)
}

/// `PUT /maps/{id}`.
pub async fn update_map(id: &str, doc: &MapDoc) -> Result<SavedMap, ApiError> {
    decode(send(Method::PUT, &format!("/maps/{}", encode(id)), json(doc)).await?)
}

/// `DELETE /maps/{id}`.
pub async fn delete_map(id: &str) -> Result<(), ApiError> {
    answer(request(Method::DELETE, &format!("/maps/{}", encode(id))).build()?).await.map(drop)
}

/// `GET /maps/{id}/related`.
pub async fn related(id: &str) -> Result<RelatedMaps, ApiError> {
    decode(get(&format!("/maps/{}/related", encode(id))).await?)
}

/// `POST /maps/run`.
pub async fn run(request: &RunRequest) -> Result<MapList, ApiError> {
    decode(post("/maps/run", json(request)).await?)
}

/// `POST /maps/{id}/stop`.
pub async fn stop(id: &str) -> Result<MapResource, ApiError> {
    decode(post(&format!("/maps/{}/stop", encode(id)), empty()).await?)
}

/// `POST /maps/{id}/pause`.
pub async fn pause(id: &str, include_related: bool) -> Result<MapList, ApiError> {
    decode(post(&format!("/maps/{}/pause", encode(id)), json(&PauseRequest { include_related })).await?)
}

/// `POST /maps/{id}/resume`.
pub async fn resume(id: &str, mode: ResumeMode) -> Result<MapResource, ApiError> {
    decode(post(&format!("/maps/{}/resume", encode(id)), json(&ResumeRequest { mode })).await?)
}

/// `POST /maps/{id}/skip-to-live`.
pub async fn skip_to_live(id: &str) -> Result<MapResource, ApiError> {
    decode(post(&format!("/maps/{}/skip-to-live", encode(id)), empty()).await?)
}

/// A lifecycle action on map `id` a person takes from a map's own page: pause (this map alone),
/// resume, skip to live or stop. Run and delete have their own calls; the rest are the runtime's.
pub async fn act(id: &str, action: Action) -> Result<(), ApiError> {
    match action {
        Action::Pause => pause(id, false).await.map(drop),
        Action::Resume { mode } => resume(id, mode).await.map(drop),
        Action::SkipToLive => skip_to_live(id).await.map(drop),
        Action::Stop => stop(id).await.map(drop),
        other => Err(ApiError::local(
            "NOT_OFFERED",
            format!("expected pause, resume, skip to live or stop, found {}", other.name()),
        )),
    }
}

/// `GET /maps/{id}/initial-sync?offset=&limit=&search=`; `offset` counts the errors to skip.
pub async fn initial_sync(
    id: &str,
    offset: u64,
    limit: u32,
    search: &str,
) -> Result<InitialSyncState, ApiError> {
    let path = with_query(
        format!("/maps/{}/initial-sync", encode(id)),
        &[("offset", offset.to_string()), ("limit", limit.to_string()), ("search", search.to_owned())],
    );
    // Read as its variant by hand: the derived untagged reading buffers the answer and reads it once
    // per variant, which takes a second copy of every deserialiser it reaches.
    let answer = get(&path).await?;
    if answer.get("execution").is_some() {
        decode(answer).map(InitialSyncState::Latest)
    } else {
        decode(answer).map(InitialSyncState::None)
    }
}

/// `POST /maps/{id}/initial-sync/rerun`.
pub async fn rerun_initial_sync(id: &str, retry_errors: bool) -> Result<Rerun, ApiError> {
    decode(
        post(&format!("/maps/{}/initial-sync/rerun", encode(id)), json(&RerunRequest { retry_errors }))
            .await?,
    )
}

/// `POST /maps/{id}/initial-sync/skip`.
pub async fn skip_initial_sync(id: &str) -> Result<MapState, ApiError> {
    decode(post(&format!("/maps/{}/initial-sync/skip", encode(id)), empty()).await?)
}

/// `GET /maps/{id}/queue?key=&after=&limit=`.
pub async fn queue(id: &str, key: &str, after: i64, limit: u32) -> Result<Paged<QueueItem>, ApiError> {
    let path = with_query(
        format!("/maps/{}/queue", encode(id)),
        &[
            ("key", key.to_owned()),
            ("after", if after > 0 { after.to_string() } else { String::new() }),
            ("limit", limit.to_string()),
        ],
    );
    decode(get(&path).await?)
}

/// `GET /maps/{id}/catch-up-errors`.
pub async fn catch_up_errors(id: &str) -> Result<Paged<CatchUpError>, ApiError> {
    decode(get(&format!("/maps/{}/catch-up-errors", encode(id))).await?)
}

/// `POST /maps/{id}/catch-up-errors/retry`: the errors with these ids, or all of them.
pub async fn retry_catch_up_errors(id: &str, ids: Option<Vec<i64>>) -> Result<Retried, ApiError> {
    decode(post(&format!("/maps/{}/catch-up-errors/retry", encode(id)), json(&RetryRequest { ids })).await?)
}

/// `POST /maps/{id}/preflight` with the master of the initial sync in view.
pub async fn preflight(id: &str, master: Side) -> Result<PreflightReport, ApiError> {
    decode(
        post(&format!("/maps/{}/preflight", encode(id)), json(&PreflightRequest { master: Some(master) }))
            .await?,
    )
}

/// `POST /maps/{id}/preflight?problem=&offset=&limit=`.
pub async fn preflight_problem(
    id: &str,
    master: Side,
    code: &str,
    offset: u64,
    limit: u32,
) -> Result<PreflightProblem, ApiError> {
    let path = with_query(
        format!("/maps/{}/preflight", encode(id)),
        &[("problem", code.to_owned()), ("offset", offset.to_string()), ("limit", limit.to_string())],
    );
    decode(post(&path, json(&PreflightRequest { master: Some(master) })).await?)
}

/// `POST /maps/{id}/preflight?format=csv`: every problem row.
pub async fn preflight_csv(id: &str, master: Side) -> Result<String, ApiError> {
    let path = with_query(format!("/maps/{}/preflight", encode(id)), &[("format", "csv".to_owned())]);
    let body = json(&PreflightRequest { master: Some(master) })?;
    answer_text(request(Method::POST, &path).header("Content-Type", "application/json").body(body)?).await
}

/// `GET /alerts`.
pub async fn alerts() -> Result<AlertRules, ApiError> {
    decode(get("/alerts").await?)
}

/// `PUT /alerts`.
pub async fn put_alerts(alerts: &AlertRules) -> Result<AlertRules, ApiError> {
    decode(send(Method::PUT, "/alerts", json(alerts)).await?)
}

/// `GET /packages/export?maps=&format=`: `format` is `native` or `msdyn_mapping`. The studio only saves
/// the package, so it stays the JSON the server sent (a `PackageExport`), read by no deserialiser.
pub async fn export(map_ids: &[String], format: &str) -> Result<Value, ApiError> {
    let path = with_query(
        "/packages/export".to_owned(),
        &[("maps", map_ids.join(",")), ("format", format.to_owned())],
    );
    get(&path).await
}

/// What a user brings to an import: JSON they pasted or chose, or a file sent as it is (a solution
/// zip, a `customizations.xml`, a `$metadata` document) with its media type.
#[derive(Debug, Clone, PartialEq)]
pub enum Upload {
    Json(Value),
    File { content_type: String, bytes: Vec<u8> },
}

impl Upload {
    /// A chosen file by its content: JSON when it parses as JSON, else a zip or XML as its first
    /// bytes say.
    pub fn of_file(bytes: Vec<u8>) -> Upload {
        if let Some(value) = std::str::from_utf8(&bytes).ok().and_then(|text| serde_json::from_str(text).ok())
        {
            return Upload::Json(value);
        }
        let content_type = if bytes.starts_with(b"PK") { "application/zip" } else { "application/xml" };
        Upload::File { content_type: content_type.to_owned(), bytes }
    }
}

async fn send_upload(path: &str, upload: &Upload) -> Result<Value, ApiError> {
    match upload {
        Upload::Json(value) => post(path, json(value)).await,
        Upload::File { content_type, bytes } => {
            let body = js_sys::Uint8Array::from(bytes.as_slice());
            answer(request(Method::POST, path).header("Content-Type", content_type).body(body)?).await
        }
    }
}

/// `POST /packages/import[?preview=true]`: a native package, `msdyn_mapping` JSON or a solution;
/// per map what was (or would be) created or replaced, field by field.
pub async fn import(upload: &Upload, preview: bool) -> Result<ImportReport, ApiError> {
    let path = if preview { "/packages/import?preview=true" } else { "/packages/import" };
    decode(send_upload(path, upload).await?)
}

/// `POST /schema/import?side=&tables=[&preview=true]`: an environment's `$metadata` merged into the
/// schema (or what would change).
pub async fn import_schema(
    side: Side,
    xml: String,
    tables: &str,
    preview: bool,
) -> Result<SchemaImport, ApiError> {
    let mut query = vec![("side", side.as_str().to_owned())];
    if !tables.trim().is_empty() {
        query.push(("tables", tables.trim().to_owned()));
    }
    if preview {
        query.push(("preview", "true".to_owned()));
    }
    let upload = Upload::File { content_type: "application/xml".into(), bytes: xml.into_bytes() };
    decode(send_upload(&with_query("/schema/import".to_owned(), &query), &upload).await?)
}

/// The media type a data export is sent as, by its file name; `None` leaves it to the server, which
/// reads the content.
fn export_type(file_name: &str) -> Option<&'static str> {
    let lower = file_name.to_ascii_lowercase();
    let (_, extension) = lower.rsplit_once('.')?;
    Some(match extension {
        "csv" => "text/csv",
        "jsonl" | "ndjson" => "application/x-ndjson",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "zip" => "application/zip",
        _ => return None,
    })
}

/// `POST /envs/{side}/tables/{table}/load` (a CSV, JSON lines or Excel export of one table) or, without
/// a table, `POST /envs/{side}/load` (a data package zip). The browser sends the file as it reads it
/// from disk, so a file of gigabytes never sits in the page's memory; `on_sent(bytes sent, bytes in
/// all)` is told as it goes out. A file refused for bad rows (`ROWS_REFUSED`) is answered with its
/// report like a written one: `written` false, and which rows were bad and why.
pub async fn load(
    side: Side,
    table: Option<&str>,
    file: &web_sys::File,
    skip_bad_rows: bool,
    on_sent: impl Fn(f64, f64) + 'static,
) -> Result<LoadReport, ApiError> {
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;

    let broke_off = |_| ApiError::local("UNREACHABLE", "the file could not be sent to the server".into());
    let path = match table {
        Some(table) => format!("{API}/envs/{side}/tables/{}/load", encode(table)),
        None => format!("{API}/envs/{side}/load"),
    };
    let path = if skip_bad_rows { format!("{path}?skip_bad_rows=true") } else { path };
    let token = session::token();
    let xhr = web_sys::XmlHttpRequest::new().map_err(broke_off)?;
    xhr.open_with_async("POST", &path, true).map_err(broke_off)?;
    if let Some(token) = &token {
        xhr.set_request_header("Authorization", &format!("Bearer {token}")).map_err(broke_off)?;
    }
    if let Some(content_type) = export_type(&file.name()) {
        xhr.set_request_header("Content-Type", content_type).map_err(broke_off)?;
    }
    let progress = Closure::<dyn FnMut(web_sys::ProgressEvent)>::new(move |e: web_sys::ProgressEvent| {
        if e.length_computable() {
            on_sent(e.loaded(), e.total());
        }
    });
    xhr.upload().map_err(broke_off)?.set_onprogress(Some(progress.as_ref().unchecked_ref()));
    let answered = js_sys::Promise::new(&mut |resolve, reject| {
        xhr.set_onload(Some(&resolve));
        xhr.set_onerror(Some(&reject));
        xhr.set_onabort(Some(&reject));
    });
    xhr.send_with_opt_blob(Some(file)).map_err(broke_off)?;
    let answered = wasm_bindgen_futures::JsFuture::from(answered).await;
    drop(progress);
    answered.map_err(|_| {
        ApiError::local(
            "UNREACHABLE",
            "the connection to the server broke off while the file was sent".into(),
        )
    })?;
    let status = xhr.status().map_err(broke_off)?;
    let text = xhr.response_text().map_err(broke_off)?.unwrap_or_default();
    if status == 401 {
        session::refused(token.as_deref());
    }
    if (200..300).contains(&status) {
        return decode(json_of(&text)?);
    }
    let refused = json_of(&text)
        .and_then(decode::<ErrorBody>)
        .ok()
        .filter(|body| body.error.code == ErrorCode::RowsRefused.as_str())
        .and_then(|body| body.error.details.get("report").cloned())
        .and_then(|report| decode(report).ok());
    match refused {
        Some(report) => Ok(report),
        None => Err(refusal(status, &xhr.status_text().unwrap_or_default(), &text)),
    }
}
