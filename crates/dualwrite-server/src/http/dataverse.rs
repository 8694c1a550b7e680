//! The Dataverse environment's Web API face, at `/api/data/v9.2/`: what an existing Dataverse client
//! or integration sends and reads, translated into the one transaction path of
//! `POST /api/v1/envs/dataverse/transactions` and the stored rows. Rows appear as the Web API shows
//! them (lookups as `_x_value`, an `@odata.etag` each); lookups are set with `x@odata.bind`;
//! `$batch` takes change sets, each one database transaction.

mod read;
mod write;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::{from_fn_with_state, map_response};
use axum::response::{IntoResponse, Response};
use axum::routing::{on, MethodFilter};
use axum::Router;
use dualwrite_core::access::Permission;
use serde_json::Value;

use super::access::guard;
use super::environments::commit;
use super::AppState;
use crate::error::{ApiError, Kind};
use crate::odata::batch::{self, Item, Reply, ReplyItem};
use crate::odata::{self, Prefer, Resource};

/// Where the face lives.
pub const ROOT: &str = "/api/data/v9.2";

/// The face's routes, below [`ROOT`]: reads need a token that may read, writes (and `$batch`) one
/// that may write data. The service root answers with and without its trailing slash.
pub fn router(state: AppState) -> Router<AppState> {
    let reads =
        on(MethodFilter::GET, get).route_layer(from_fn_with_state((state.clone(), Permission::Read), guard));
    let writes = on(MethodFilter::POST.or(MethodFilter::PATCH).or(MethodFilter::DELETE), send)
        .route_layer(from_fn_with_state((state, Permission::WriteData), guard));
    let routes = reads.merge(writes).fallback(|method: Method| async move {
        ApiError::new(
            Kind::MethodNotAllowed,
            "METHOD_NOT_ALLOWED",
            format!("the Web API does not answer {method} here"),
        )
    });
    Router::new()
        .route(ROOT, routes.clone())
        .route(&format!("{ROOT}/"), routes.clone())
        .route(&format!("{ROOT}/{{*path}}"), routes)
        .layer(map_response(|mut response: Response| async move {
            response.headers_mut().insert("OData-Version", HeaderValue::from_static("4.0"));
            response
        }))
}

/// One request to the face, however it arrived (on its own or inside a `$batch`).
pub(super) struct Call {
    /// The face's address as the client reached it, for links (`@odata.context`, `OData-EntityId`).
    base: String,
    resource: Resource,
    params: Vec<(String, String)>,
    headers: HeaderMap,
    prefer: Prefer,
}

impl Call {
    fn new(base: String, path: &str, query: Option<&str>, headers: HeaderMap) -> Result<Call, ApiError> {
        let params = serde_urlencoded::from_str(query.unwrap_or_default()).map_err(|e| {
            ApiError::bad_request("INVALID_QUERY_OPTION", format!("the query string does not parse: {e}"))
        })?;
        let prefer = Prefer::parse(&headers);
        Ok(Call { base, resource: odata::resource(path)?, params, headers, prefer })
    }

    /// A request of a `$batch`: its URL (absolute, or a path with or without the face's root).
    fn of_batch(base: &str, request: &batch::Request) -> Result<Call, ApiError> {
        let url = request.url.as_str();
        let path = match url.split_once("://") {
            Some((_, rest)) => rest.find('/').map_or("", |slash| &rest[slash..]),
            None => url,
        };
        let path = path.strip_prefix(ROOT).unwrap_or(path);
        let (path, query) = match path.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (path, None),
        };
        let mut headers = HeaderMap::new();
        for (name, value) in &request.headers {
            if let (Ok(name), Ok(value)) =
                (HeaderName::try_from(name.as_str()), HeaderValue::try_from(value.as_str()))
            {
                headers.append(name, value);
            }
        }
        Call::new(base.to_owned(), &odata::percent_decoded(path)?, query, headers)
    }
}

fn base_url(headers: &HeaderMap) -> String {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
    format!("http://{host}{ROOT}")
}

/// A JSON answer.
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
    path: Option<Path<String>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let path = path.map(|p| p.0).unwrap_or_default();
    let call = Call::new(base_url(&headers), &path, query.as_deref(), headers)?;
    Ok(into_response(app.read(move |tx, catalog| read::perform(tx, catalog, &call)).await?))
}

/// `POST` creates (or, to `$batch`, runs a batch), `PATCH` updates or upserts, `DELETE` deletes;
/// each one client transaction.
async fn send(
    State(app): State<AppState>,
    method: Method,
    path: Option<Path<String>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let path = path.map(|p| p.0).unwrap_or_default();
    let body = String::from_utf8(body.to_vec())
        .map_err(|_| ApiError::bad_request("INVALID_BODY", "the body is not UTF-8 text"))?;
    let call = Call::new(base_url(&headers), &path, query.as_deref(), headers)?;
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
                ReplyItem::Single(single(app, &call.base, request).await.unwrap_or_else(error_reply))
            }
            Item::ChangeSet(requests) => match change_set(app, &call.base, requests).await {
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
async fn single(app: &AppState, base: &str, request: batch::Request) -> Result<Reply, ApiError> {
    let call = Call::of_batch(base, &request)?;
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
    base: &str,
    requests: Vec<batch::Request>,
) -> Result<Vec<(Option<String>, Reply)>, ApiError> {
    let calls = requests.iter().map(|r| Call::of_batch(base, r)).collect::<Result<Vec<_>, _>>()?;
    if let Some(get) = requests.iter().find(|r| r.method == Method::GET) {
        return Err(ApiError::bad_request(
            "INVALID_BATCH",
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
