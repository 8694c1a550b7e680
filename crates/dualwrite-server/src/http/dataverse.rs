//! The Dataverse environment's Web API face, at `/api/data/v9.2/`: what an existing Dataverse client
//! or integration sends and reads, translated into the one transaction path of
//! `POST /api/v1/envs/dataverse/transactions` and the stored rows. Rows appear as the Web API shows
//! them (lookups as `_x_value`, an `@odata.etag` each); lookups are set with `x@odata.bind`.

use std::cmp::Ordering;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{from_fn_with_state, map_response};
use axum::response::{IntoResponse, Response};
use axum::routing::{on, MethodFilter};
use axum::{Json, Router};
use dualwrite_core::access::Permission;
use dualwrite_core::api::{Op, OpKind, TransactionRequest};
use dualwrite_core::filter::{Dialect, Filter};
use dualwrite_core::schema::{ColumnType, Row, Schema, Side, Table};
use serde_json::{json, Map, Value};

use super::access::guard;
use super::environments::commit;
use super::AppState;
use crate::environment::write;
use crate::error::{ApiError, Kind};
use crate::odata::{self, KeyPredicate, Prefer, Query, Resource};
use crate::store::{StoredRow, Tx};

/// Where the face lives.
pub const ROOT: &str = "/api/data/v9.2";

/// Rows a page holds unless the client prefers fewer (`Prefer: odata.maxpagesize=N`), as Dataverse.
const PAGE: usize = 5000;

/// The query options a read takes.
const SUPPORTED: &[&str] = &["$select", "$filter", "$orderby", "$top", "$count", "$skiptoken"];

/// The face's routes, below [`ROOT`]: reads need a token that may read, writes one that may write
/// data. The service root answers with and without its trailing slash.
pub fn router(state: AppState) -> Router<AppState> {
    let reads =
        on(MethodFilter::GET, read).route_layer(from_fn_with_state((state.clone(), Permission::Read), guard));
    let writes = on(MethodFilter::POST.or(MethodFilter::PATCH).or(MethodFilter::DELETE), write)
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

/// `GET`: the service document, `$metadata`, a page of an entity set, one entity, or a count.
async fn read(
    State(app): State<AppState>,
    path: Option<Path<String>>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let base = base_url(&headers);
    let params = query_params(raw.as_deref())?;
    let prefer = Prefer::parse(&headers);
    let resource = odata::resource(path.as_ref().map_or("", |p| p.0.as_str()))?;
    app.read(move |tx, catalog| {
        let schema = catalog.require_schema()?;
        match &resource {
            Resource::Service => {
                let sets: Vec<Value> = schema
                    .tables(Side::Dataverse)
                    .iter()
                    .map(|t| {
                        let set = odata::dataverse_entity_set(t);
                        json!({"name": set, "kind": "EntitySet", "url": set})
                    })
                    .collect();
                Ok(Json(json!({"@odata.context": format!("{base}/$metadata"), "value": sets}))
                    .into_response())
            }
            Resource::Metadata => {
                Ok(([(header::CONTENT_TYPE, "application/xml")], odata::metadata::dataverse(schema))
                    .into_response())
            }
            Resource::Batch => Err(ApiError::new(
                Kind::MethodNotAllowed,
                "METHOD_NOT_ALLOWED",
                "`$batch` takes a POST of a multipart/mixed body",
            )),
            Resource::Set { name, key: Some(key), count: false } => {
                let table = table_of(schema, name)?;
                let row = find(tx, schema, table, key)?.ok_or_else(|| not_found(table, name, key))?;
                let select = select(table, &Query::parse(&params, &["$select"])?)?;
                let mut entity = entity(table, &row.data, select.as_deref());
                entity.insert("@odata.context".into(), format!("{base}/$metadata#{name}/$entity").into());
                Ok(Json(entity).into_response())
            }
            Resource::Set { key: Some(_), count: true, .. } => {
                Err(ApiError::bad_request("INVALID_PATH", "`/$count` follows an entity set, not one entity"))
            }
            Resource::Set { name, key: None, count } => {
                let table = table_of(schema, name)?;
                let query = Query::parse(&params, SUPPORTED)?;
                let rows = matching(tx, table, &query)?;
                if *count {
                    return Ok(rows.len().to_string().into_response());
                }
                page(table, name, &base, &params, &query, &prefer, rows)
            }
        }
    })
    .await
}

/// `POST` creates, `PATCH` updates or upserts, `DELETE` deletes; each one client transaction.
async fn write(
    State(app): State<AppState>,
    method: Method,
    path: Option<Path<String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let base = base_url(&headers);
    let prefer = Prefer::parse(&headers);
    let resource = odata::resource(path.as_ref().map_or("", |p| p.0.as_str()))?;
    let Resource::Set { name, key, count: false } = resource else {
        return Err(ApiError::new(
            Kind::MethodNotAllowed,
            "METHOD_NOT_ALLOWED",
            format!("{method} takes an entity set or one entity"),
        ));
    };
    let fields = match method {
        Method::DELETE => Map::new(),
        _ => match serde_json::from_slice::<Value>(&body) {
            Ok(Value::Object(fields)) => fields,
            Ok(_) => {
                return Err(ApiError::bad_request(
                    "INVALID_BODY",
                    "the body must be one JSON object: the entity's properties",
                ))
            }
            Err(e) => {
                return Err(ApiError::bad_request("INVALID_BODY", format!("the body is not JSON: {e}")))
            }
        },
    };
    let conditions = Conditions::of(&headers);
    let (set, op_method) = (name.clone(), method.clone());
    let response = commit(&app, Side::Dataverse, move |tx, catalog| {
        let schema = catalog.require_schema()?;
        let table = table_of(schema, &set)?;
        let op = match (&op_method, &key) {
            (&Method::POST, None) => Op {
                op: OpKind::Insert,
                table: table.name.clone(),
                key: None,
                row: Some(row_of(tx, schema, table, &fields)?),
            },
            (&Method::PATCH, Some(key)) => {
                let existing = find(tx, schema, table, key)?;
                conditions.hold(existing.as_ref(), || not_found(table, &set, key))?;
                let mut row = row_of(tx, schema, table, &fields)?;
                match existing {
                    Some(existing) => Op {
                        op: OpKind::Update,
                        table: table.name.clone(),
                        key: Some(id_key(table, &existing)),
                        row: Some(row),
                    },
                    None => {
                        // An upsert of a row not there yet: the key in the path is part of the row.
                        row.extend(key_row(table, key));
                        Op { op: OpKind::Insert, table: table.name.clone(), key: None, row: Some(row) }
                    }
                }
            }
            (&Method::DELETE, Some(key)) => {
                let existing = find(tx, schema, table, key)?;
                conditions.hold(existing.as_ref(), || not_found(table, &set, key))?;
                let existing = existing.ok_or_else(|| not_found(table, &set, key))?;
                Op {
                    op: OpKind::Delete,
                    table: table.name.clone(),
                    key: Some(id_key(table, &existing)),
                    row: None,
                }
            }
            (method, _) => {
                return Err(ApiError::new(
                    Kind::MethodNotAllowed,
                    "METHOD_NOT_ALLOWED",
                    format!(
                        "{method} takes {}",
                        if key.is_some() {
                            "an entity set, not one entity"
                        } else {
                            "one entity, `set(key)`"
                        }
                    ),
                ))
            }
        };
        Ok(TransactionRequest { ops: vec![op] })
    })
    .await?;
    if method == Method::DELETE {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let written = response.results.into_iter().next().and_then(|r| r.row).unwrap_or_default();
    let table = app.read(move |_, catalog| Ok(table_of(catalog.require_schema()?, &name)?.clone())).await?;
    let table = &table;
    let name = odata::dataverse_entity_set(table);
    let id = written.get(table.id_column_name()).and_then(Value::as_str).unwrap_or_default();
    let location = format!("{base}/{name}({id})");
    let mut response = if prefer.return_representation {
        let mut entity = entity(table, &written, None);
        entity.insert("@odata.context".into(), format!("{base}/$metadata#{name}/$entity").into());
        let status = if method == Method::POST { StatusCode::CREATED } else { StatusCode::OK };
        let mut response = (status, Json(entity)).into_response();
        response
            .headers_mut()
            .insert("Preference-Applied", HeaderValue::from_static("return=representation"));
        response
    } else {
        StatusCode::NO_CONTENT.into_response()
    };
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert("OData-EntityId", value.clone());
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

/// The face's own address as the client reached it, for links (`@odata.context`, `OData-EntityId`).
fn base_url(headers: &HeaderMap) -> String {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
    format!("http://{host}{ROOT}")
}

fn query_params(raw: Option<&str>) -> Result<Vec<(String, String)>, ApiError> {
    serde_urlencoded::from_str(raw.unwrap_or_default()).map_err(|e| {
        ApiError::bad_request("INVALID_QUERY_OPTION", format!("the query string does not parse: {e}"))
    })
}

/// The Dataverse table whose entity set is `name`.
fn table_of<'s>(schema: &'s Schema, name: &str) -> Result<&'s Table, ApiError> {
    let tables = schema.tables(Side::Dataverse);
    tables
        .iter()
        .find(|t| odata::dataverse_entity_set(t) == name)
        .or_else(|| tables.iter().find(|t| odata::dataverse_entity_set(t).eq_ignore_ascii_case(name)))
        .ok_or_else(|| {
            let known: Vec<String> = tables.iter().map(odata::dataverse_entity_set).collect();
            ApiError::new(
                Kind::NotFound,
                "UNKNOWN_ENTITY_SET",
                format!("no entity set `{name}`; this environment has {}", known.join(", ")),
            )
        })
}

/// The Web API's name of a column: `_x_value` for a lookup `x`.
fn property(table: &Table, column: &str) -> String {
    match table.column(column).map(|c| &c.ty) {
        Some(ColumnType::Lookup { .. }) => format!("_{column}_value"),
        _ => column.to_owned(),
    }
}

/// The column a Web API property name stands for.
fn column_of<'t>(table: &'t Table, property: &str) -> Option<&'t str> {
    let lookup = property.strip_prefix('_').and_then(|p| p.strip_suffix("_value"));
    match lookup.and_then(|l| table.column(l)) {
        Some(c) if matches!(c.ty, ColumnType::Lookup { .. }) => Some(&c.name),
        _ => table
            .column(property)
            .filter(|c| !matches!(c.ty, ColumnType::Lookup { .. }))
            .map(|c| c.name.as_str()),
    }
}

/// A key predicate as the columns it names: the id, or an alternate key's columns (lookups by id).
fn key_row(table: &Table, key: &KeyPredicate) -> Row {
    match key {
        KeyPredicate::Single(value) => Row::from_iter([(table.id_column_name().to_owned(), value.clone())]),
        KeyPredicate::Named(parts) => parts
            .iter()
            .map(|(name, value)| (column_of(table, name).unwrap_or(name).to_owned(), value.clone()))
            .collect(),
    }
}

fn find(
    tx: &mut dyn Tx,
    schema: &Schema,
    table: &Table,
    key: &KeyPredicate,
) -> Result<Option<StoredRow>, ApiError> {
    write::find(tx, schema, table, &key_row(table, key))
}

fn id_key(table: &Table, row: &StoredRow) -> Row {
    let id = table.id_column_name();
    Row::from_iter([(id.to_owned(), row.data.get(id).cloned().unwrap_or(Value::Null))])
}

fn not_found(table: &Table, set: &str, key: &KeyPredicate) -> ApiError {
    let shown = match key {
        KeyPredicate::Single(v) => v.to_string(),
        KeyPredicate::Named(parts) => {
            parts.iter().map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join(",")
        }
    };
    ApiError::not_found(format_args!("{} `{set}({shown})`", table.name))
}

/// A row as the Web API shows it: every column (or the selected ones), lookups as `_x_value`.
fn entity(table: &Table, row: &Row, select: Option<&[String]>) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("@odata.etag".into(), odata::etag(row).into());
    for column in &table.columns {
        let name = property(table, &column.name);
        let chosen = select.is_none_or(|s| s.contains(&column.name)) || column.name == table.id_column_name();
        if chosen {
            out.insert(name, row.get(&column.name).cloned().unwrap_or(Value::Null));
        }
    }
    out
}

/// The columns `$select` names, each known.
fn select(table: &Table, query: &Query) -> Result<Option<Vec<String>>, ApiError> {
    let Some(names) = &query.select else { return Ok(None) };
    names
        .iter()
        .map(|name| {
            column_of(table, name).map(str::to_owned).ok_or_else(|| {
                ApiError::bad_request(
                    "INVALID_QUERY_OPTION",
                    format!("`$select` names `{name}`, which {} does not have", table.name),
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// The rows `$filter` lets through, in `$orderby` order (else as stored), after `$top`.
fn matching(tx: &mut dyn Tx, table: &Table, query: &Query) -> Result<Vec<Row>, ApiError> {
    let filter = match query.filter.as_deref().filter(|f| !f.trim().is_empty()) {
        Some(text) => {
            let mut filter = Filter::parse(Dialect::OData, text).map_err(|e| {
                ApiError::bad_request("INVALID_FILTER", e.to_string()).with("offset", e.offset)
            })?;
            filter.rename_columns(|p| column_of(table, p).filter(|c| *c != p).map(str::to_owned));
            if let Some(problem) = filter.check_query(table).first() {
                return Err(ApiError::bad_request("INVALID_FILTER", problem.message.clone()));
            }
            Some(filter)
        }
        None => None,
    };
    let order: Vec<(String, bool)> = query
        .orderby
        .iter()
        .map(|(name, descending)| {
            let column = column_of(table, name).ok_or_else(|| {
                ApiError::bad_request(
                    "INVALID_QUERY_OPTION",
                    format!("`$orderby` names `{name}`, which {} does not have", table.name),
                )
            })?;
            Ok((column.to_owned(), *descending))
        })
        .collect::<Result<_, ApiError>>()?;
    let mut rows = Vec::new();
    let mut cursor = 0;
    loop {
        let batch =
            tx.scan_rows(Side::Dataverse.as_str(), &table.name, cursor, super::environments::MAX_PAGE)?;
        let Some(last) = batch.last() else { break };
        cursor = last.id;
        rows.extend(
            batch.into_iter().map(|r| r.data).filter(|r| filter.as_ref().is_none_or(|f| f.matches(r))),
        );
    }
    if !order.is_empty() {
        rows.sort_by(|a, b| {
            order
                .iter()
                .map(|(column, descending)| {
                    let o = compare(a.get(column), b.get(column));
                    if *descending {
                        o.reverse()
                    } else {
                        o
                    }
                })
                .find(|o| o.is_ne())
                .unwrap_or(Ordering::Equal)
        });
    }
    if let Some(top) = query.top {
        rows.truncate(top);
    }
    Ok(rows)
}

/// Values in the order the source systems sort them: nulls first, numbers by value, text ignoring
/// case and trailing spaces.
fn compare(a: Option<&Value>, b: Option<&Value>) -> Ordering {
    let rank = |v: Option<&Value>| match v {
        None | Some(Value::Null) => 0,
        Some(Value::Bool(_)) => 1,
        Some(Value::Number(_)) => 2,
        Some(_) => 3,
    };
    match (a, b) {
        (Some(Value::Number(x)), Some(Value::Number(y))) => {
            x.as_f64().partial_cmp(&y.as_f64()).unwrap_or(Ordering::Equal)
        }
        (Some(Value::Bool(x)), Some(Value::Bool(y))) => x.cmp(y),
        (Some(Value::String(x)), Some(Value::String(y))) => {
            x.trim_end().to_lowercase().cmp(&y.trim_end().to_lowercase())
        }
        _ => rank(a).cmp(&rank(b)),
    }
}

/// One page of `rows`, with `@odata.nextLink` to the next while more follow.
fn page(
    table: &Table,
    set: &str,
    base: &str,
    params: &[(String, String)],
    query: &Query,
    prefer: &Prefer,
    rows: Vec<Row>,
) -> Result<Response, ApiError> {
    let select = select(table, query)?;
    let size = prefer.max_page_size.unwrap_or(PAGE).clamp(1, PAGE);
    let start = query.skiptoken.unwrap_or(0);
    let total = rows.len();
    let items: Vec<Value> = rows
        .iter()
        .skip(start)
        .take(size)
        .map(|row| Value::Object(entity(table, row, select.as_deref())))
        .collect();
    let shown = match &query.select {
        Some(names) => format!("{set}({})", names.join(",")),
        None => set.to_owned(),
    };
    let mut body = Map::new();
    body.insert("@odata.context".into(), format!("{base}/$metadata#{shown}").into());
    if query.count {
        body.insert("@odata.count".into(), total.into());
    }
    body.insert("value".into(), items.into());
    if start + size < total {
        let mut next: Vec<(String, String)> =
            params.iter().filter(|(n, _)| !n.eq_ignore_ascii_case("$skiptoken")).cloned().collect();
        next.push(("$skiptoken".into(), (start + size).to_string()));
        let encoded = serde_urlencoded::to_string(&next).unwrap_or_default();
        body.insert("@odata.nextLink".into(), format!("{base}/{set}?{encoded}").into());
    }
    let mut response = Json(Value::Object(body)).into_response();
    if let Some(size) = prefer.max_page_size {
        if let Ok(value) = HeaderValue::from_str(&format!("odata.maxpagesize={size}")) {
            response.headers_mut().insert("Preference-Applied", value);
        }
    }
    Ok(response)
}

/// A body's properties as a row of the transaction path: columns as they are, lookups bound with
/// `x@odata.bind` to an entity by id or by alternate key, instance annotations left out.
fn row_of(
    tx: &mut dyn Tx,
    schema: &Schema,
    table: &Table,
    fields: &Map<String, Value>,
) -> Result<Row, ApiError> {
    let mut row = Row::new();
    for (name, value) in fields {
        if let Some(navigation) = name.strip_suffix("@odata.bind") {
            let column = table.column(navigation).filter(|c| matches!(c.ty, ColumnType::Lookup { .. }));
            let (Some(column), ColumnType::Lookup { target }) =
                (column, column.map_or(&ColumnType::Integer, |c| &c.ty))
            else {
                return Err(ApiError::bad_request(
                    "UNKNOWN_COLUMN",
                    format!("`{name}` binds `{navigation}`, which is no lookup of {}", table.name),
                ));
            };
            let id = match value {
                Value::Null => Value::Null,
                Value::String(reference) => bound_id(tx, schema, table, &column.name, target, reference)?,
                other => {
                    return Err(ApiError::bad_request(
                        "INVALID_REFERENCE",
                        format!(
                            "`{name}` takes an entity reference such as \"/{}(<id>)\", not {other}",
                            target
                        ),
                    ))
                }
            };
            row.insert(column.name.clone(), id);
        } else if name.contains('@') {
            // An instance annotation (`@odata.type`, `x@OData.Community.Display.V1.FormattedValue`).
            continue;
        } else if let Some(lookup) = name
            .strip_prefix('_')
            .and_then(|n| n.strip_suffix("_value"))
            .filter(|l| table.column(l).is_some())
        {
            return Err(ApiError::bad_request(
                "READ_ONLY_COLUMN",
                format!("`{name}` is read-only; set the lookup with \"{lookup}@odata.bind\": \"/<entity set>(<key>)\""),
            ));
        } else {
            row.insert(name.clone(), value.clone());
        }
    }
    Ok(row)
}

/// The id of the row a lookup is bound to. A reference by alternate key is found the way the
/// transaction path finds rows; one that names no row is refused as any missing lookup target is.
fn bound_id(
    tx: &mut dyn Tx,
    schema: &Schema,
    table: &Table,
    column: &str,
    target: &str,
    reference: &str,
) -> Result<Value, ApiError> {
    let (set, key) = odata::reference(reference)?;
    let target_table = table_of(schema, &set)?;
    if target_table.name != target {
        return Err(ApiError::bad_request(
            "INVALID_REFERENCE",
            format!(
                "`{column}` of {} looks up {target}, but `{reference}` is a {}",
                table.name, target_table.name
            ),
        ));
    }
    if let KeyPredicate::Single(id) = &key {
        return Ok(id.clone());
    }
    match find(tx, schema, target_table, &key)? {
        Some(row) => Ok(row.data.get(target_table.id_column_name()).cloned().unwrap_or(Value::Null)),
        None => Err(ApiError::invalid(
            "LOOKUP_NOT_FOUND",
            format!("cannot bind `{column}` to `{reference}`: no {target} row has that key; create it first"),
        )),
    }
}

/// `If-Match` and `If-None-Match` of a write.
struct Conditions {
    if_match: Option<String>,
    if_none_match: bool,
}

impl Conditions {
    fn of(headers: &HeaderMap) -> Conditions {
        let text = |name: header::HeaderName| {
            headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim).map(str::to_owned)
        };
        Conditions {
            if_match: text(header::IF_MATCH),
            if_none_match: text(header::IF_NONE_MATCH).is_some_and(|v| v == "*"),
        }
    }

    /// `If-Match: *` needs the row, `If-Match: <etag>` needs it unchanged, `If-None-Match: *` needs
    /// it absent.
    fn hold(&self, existing: Option<&StoredRow>, missing: impl Fn() -> ApiError) -> Result<(), ApiError> {
        if self.if_none_match && existing.is_some() {
            return Err(ApiError::new(
                Kind::PreconditionFailed,
                "ALREADY_EXISTS",
                "a row with that key exists already (If-None-Match: *)",
            ));
        }
        match (&self.if_match, existing) {
            (Some(_), None) => Err(missing()),
            (Some(tag), Some(row)) if tag != "*" && *tag != odata::etag(&row.data) => Err(ApiError::new(
                Kind::PreconditionFailed,
                "CHANGED_SINCE_READ",
                "the row changed since it was read (its etag differs from If-Match); read it again",
            )),
            _ => Ok(()),
        }
    }
}
