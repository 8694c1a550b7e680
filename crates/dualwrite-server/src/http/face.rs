//! The environments as the real services show themselves: the Dataverse Web API at
//! `/api/data/v9.2/` and finance and operations' OData endpoint at `/data/`. What an existing client
//! or integration sends is translated into the one transaction path of
//! `POST /api/v1/envs/{side}/transactions` (checks, live sync, queues, events), and reads answer in
//! the real service's shape: Dataverse lookups as `_x_value`, set with `x@odata.bind`; finance and
//! operations entities by their public collection names, keyed with `dataAreaId`, one company at a
//! time unless `cross-company=true`. `$batch` takes change sets, each one database transaction.

mod read;
mod write;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::{from_fn_with_state, map_response};
use axum::response::{IntoResponse, Response};
use axum::routing::{on, MethodFilter};
use axum::Extension;
use axum::Router;
use dualwrite_core::access::Permission;
use dualwrite_core::error_code::ErrorCode;
use dualwrite_core::schema::{Schema, Side};
use serde_json::Value;

use super::access::guard;
use super::environments::commit;
use super::AppState;
use crate::error::{ApiError, Kind};
use crate::odata::batch::{self, Item, Reply, ReplyItem};
use crate::odata::{self, Prefer, Resource};

/// Which real service a face speaks as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Face {
    /// The Dataverse Web API.
    Dataverse,
    /// Finance and operations' OData endpoint.
    Finops,
}

impl Face {
    /// Where the face lives.
    pub fn root(self) -> &'static str {
        match self {
            Face::Dataverse => "/api/data/v9.2",
            Face::Finops => "/data",
        }
    }

    fn side(self) -> Side {
        match self {
            Face::Dataverse => Side::Dataverse,
            Face::Finops => Side::Finops,
        }
    }

    /// Rows a page holds unless the client prefers fewer (`Prefer: odata.maxpagesize=N`), as the
    /// real service pages.
    fn page(self) -> usize {
        match self {
            Face::Dataverse => 5000,
            Face::Finops => 10000,
        }
    }

    /// The query options a read takes; Dataverse has no `$skip`.
    fn options(self) -> &'static [&'static str] {
        match self {
            Face::Dataverse => &["$select", "$filter", "$orderby", "$top", "$count", "$skiptoken"],
            Face::Finops => &["$select", "$filter", "$orderby", "$top", "$skip", "$count", "$skiptoken"],
        }
    }

    /// The company a finance-and-operations read or write without `dataAreaId` means: the first
    /// company of the schema, as the real service takes the caller's default company.
    fn default_company(self, schema: &Schema) -> Option<&str> {
        match self {
            Face::Dataverse => None,
            Face::Finops => schema.companies.first().map(String::as_str),
        }
    }
}

/// Both faces' routes: reads need a token that may read, writes (and `$batch`) one that may write
/// data. Each service root answers with and without its trailing slash.
pub fn router(state: AppState) -> Router<AppState> {
    [Face::Dataverse, Face::Finops]
        .into_iter()
        .fold(Router::new(), |router, face| router.merge(routes(state.clone(), face)))
}

fn routes(state: AppState, face: Face) -> Router<AppState> {
    let reads =
        on(MethodFilter::GET, get).route_layer(from_fn_with_state((state.clone(), Permission::Read), guard));
    let writes = on(MethodFilter::POST.or(MethodFilter::PATCH).or(MethodFilter::DELETE), send)
        .route_layer(from_fn_with_state((state, Permission::WriteData), guard));
    let routes = reads.merge(writes).fallback(|method: Method| async move {
        ApiError::new(
            Kind::MethodNotAllowed,
            ErrorCode::MethodNotAllowed,
            format!("the service does not answer {method} here"),
        )
    });
    let root = face.root();
    Router::new()
        .route(root, routes.clone())
        .route(&format!("{root}/"), routes.clone())
        .route(&format!("{root}/{{*path}}"), routes)
        .layer(Extension(face))
        .layer(map_response(|mut response: Response| async move {
            response.headers_mut().insert("OData-Version", HeaderValue::from_static("4.0"));
            response
        }))
}

/// One request to the face, however it arrived (on its own or inside a `$batch`).
pub(super) struct Call {
    face: Face,
    /// The face's address as the client reached it, for links (`@odata.context`, `OData-EntityId`).
    base: String,
    resource: Resource,
    params: Vec<(String, String)>,
    headers: HeaderMap,
    prefer: Prefer,
}

impl Call {
    fn new(face: Face, path: &str, query: Option<&str>, headers: HeaderMap) -> Result<Call, ApiError> {
        let base = base_url(face, &headers);
        let params = serde_urlencoded::from_str(query.unwrap_or_default()).map_err(|e| {
            ApiError::bad_request(
                ErrorCode::InvalidQueryOption,
                format!("the query string does not parse: {e}"),
            )
        })?;
        let prefer = Prefer::parse(&headers);
        Ok(Call { face, base, resource: odata::resource(path)?, params, headers, prefer })
    }

    /// A request of a `$batch`: its URL (absolute, or a path with or without the face's root).
    fn of_batch(batch: &Call, request: &batch::Request) -> Result<Call, ApiError> {
        let url = request.url.as_str();
        let path = match url.split_once("://") {
            Some((_, rest)) => rest.find('/').map_or("", |slash| &rest[slash..]),
            None => url,
        };
        let path = path.strip_prefix(batch.face.root()).unwrap_or(path);
        let (path, query) = match path.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (path, None),
        };
        // The batch's own host, for links.
        let mut headers = HeaderMap::new();
        if let Some(host) = batch.headers.get(header::HOST) {
            headers.insert(header::HOST, host.clone());
        }
        for (name, value) in &request.headers {
            if let (Ok(name), Ok(value)) =
                (HeaderName::try_from(name.as_str()), HeaderValue::try_from(value.as_str()))
            {
                headers.append(name, value);
            }
        }
        Call::new(batch.face, &odata::percent_decoded(path)?, query, headers)
    }
}

fn base_url(face: Face, headers: &HeaderMap) -> String {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
    format!("http://{host}{}", face.root())
}

/// A JSON answer. The faces speak OData's own open JSON, whose entity bodies are shaped by the
/// schema's tables (and `@odata.*` annotations), so they stay `serde_json` values here rather than
/// `core::api` types as `/api/v1` answers are.
fn json_reply(status: StatusCode, body: &Value) -> Reply {
    Reply {
        status,
        headers: Vec::new(),
        body: Some(("application/json; odata.metadata=minimal".into(), body.to_string())),
    }
}

/// An error as a batch part carries it.
fn error_reply(error: ApiError) -> Reply {
    let (status, body) = error.answer();
    Reply { status, ..json_reply(status, &body) }
}

fn into_response(reply: Reply) -> Response {
    let mut response = match reply.body {
        Some((content_type, body)) => {
            (reply.status, [(header::CONTENT_TYPE, content_type)], body).into_response()
        }
        None => reply.status.into_response(),
    };
    for (name, value) in reply.headers {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

/// `GET`: the service document, `$metadata`, a page of an entity set, one entity, or a count.
async fn get(
    State(app): State<AppState>,
    Extension(face): Extension<Face>,
    path: Option<Path<String>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let path = path.map(|p| p.0).unwrap_or_default();
    let call = Call::new(face, &path, query.as_deref(), headers)?;
    Ok(into_response(app.read(move |tx, catalog| read::perform(tx, catalog, &call)).await?))
}

/// `POST` creates (or, to `$batch`, runs a batch), `PATCH` updates or upserts, `DELETE` deletes;
/// each one client transaction.
async fn send(
    State(app): State<AppState>,
    Extension(face): Extension<Face>,
    method: Method,
    path: Option<Path<String>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let path = path.map(|p| p.0).unwrap_or_default();
    let body = String::from_utf8(body.to_vec())
        .map_err(|_| ApiError::bad_request(ErrorCode::InvalidBody, "the body is not UTF-8 text"))?;
    let call = Call::new(face, &path, query.as_deref(), headers)?;
    if call.resource == Resource::Batch && method == Method::POST {
        return run_batch(&app, &call, &body).await;
    }
    let written = commit(&app, move |tx, catalog| {
        write::perform(tx, catalog, &call, &method, &body, &write::Created::new()).map(|(reply, _)| reply)
    })
    .await?;
    Ok(into_response(written))
}

/// `POST $batch`: its requests in order, each change set in one database transaction (all of it
/// or nothing), stopping at the first failure unless `Prefer: odata.continue-on-error`.
async fn run_batch(app: &AppState, call: &Call, body: &str) -> Result<Response, ApiError> {
    let content_type =
        call.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let items = batch::parse(content_type, body)?;
    let mut replies = Vec::new();
    for item in items {
        let reply = match item {
            Item::Single(request) => {
                ReplyItem::Single(single(app, call, request).await.unwrap_or_else(error_reply))
            }
            Item::ChangeSet(requests) => match change_set(app, call, requests).await {
                Ok(replies) => ReplyItem::ChangeSet(replies),
                Err(error) => ReplyItem::Single(error_reply(error)),
            },
        };
        let failed = matches!(&reply, ReplyItem::Single(r) if r.status.is_client_error() || r.status.is_server_error());
        replies.push(reply);
        if failed && !call.prefer.continue_on_error {
            break;
        }
    }
    let (content_type, body) = batch::write(&replies);
    Ok(([(header::CONTENT_TYPE, content_type)], body).into_response())
}

/// A request of a batch outside any change set: a read, or a write in a transaction of its own.
async fn single(app: &AppState, batch: &Call, request: batch::Request) -> Result<Reply, ApiError> {
    let call = Call::of_batch(batch, &request)?;
    if request.method == Method::GET {
        return app.read(move |tx, catalog| read::perform(tx, catalog, &call)).await;
    }
    commit(app, move |tx, catalog| {
        write::perform(tx, catalog, &call, &request.method, &request.body, &write::Created::new())
            .map(|(r, _)| r)
    })
    .await
}

/// A change set: its writes in one database transaction; a later request may bind a lookup to
/// what an earlier one created by its `Content-ID` (`"x@odata.bind": "$1"`).
async fn change_set(
    app: &AppState,
    batch: &Call,
    requests: Vec<batch::Request>,
) -> Result<Vec<(Option<String>, Reply)>, ApiError> {
    let calls = requests.iter().map(|r| Call::of_batch(batch, r)).collect::<Result<Vec<_>, _>>()?;
    if let Some(get) = requests.iter().find(|r| r.method == Method::GET) {
        return Err(ApiError::bad_request(
            ErrorCode::InvalidBatch,
            format!("a change set holds writes only; send `GET {}` outside it", get.url),
        ));
    }
    commit(app, move |tx, catalog| {
        let mut created = write::Created::new();
        let mut replies = Vec::new();
        for (request, call) in requests.iter().zip(&calls) {
            let (reply, made) = write::perform(tx, catalog, call, &request.method, &request.body, &created)?;
            if let (Some(id), Some(made)) = (&request.content_id, made) {
                created.insert(id.clone(), made);
            }
            replies.push((request.content_id.clone(), reply));
        }
        Ok(replies)
    })
    .await
}
