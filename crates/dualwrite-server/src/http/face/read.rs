//! Reading through a face: rows as the real service shows them (every column or the selected ones,
//! Dataverse lookups as `_x_value`, an `@odata.etag` each), and the query options that choose and
//! order them.

use std::cmp::Ordering;

use dualwrite_core::error_code::ErrorCode;
use dualwrite_core::filter::{Dialect, Filter};
use dualwrite_core::schema::{ColumnType, Row, Schema, Table, DATA_AREA_ID};
use serde_json::{Map, Value};

use crate::environment::write;
use crate::error::{ApiError, Kind};
use crate::odata::batch::Reply;
use crate::odata::{self, KeyPredicate, Query, Resource};
use crate::store::{StoredRow, Tx};

use super::{Call, Face};

/// The table of the face's side whose entity set is `name`.
pub(super) fn table_of<'s>(schema: &'s Schema, face: Face, name: &str) -> Result<&'s Table, ApiError> {
    let tables = schema.tables(face.side());
    tables
        .iter()
        .find(|t| t.entity_set() == name)
        .or_else(|| tables.iter().find(|t| t.entity_set().eq_ignore_ascii_case(name)))
        .ok_or_else(|| {
            let known: Vec<String> = tables.iter().map(Table::entity_set).collect();
            ApiError::new(
                Kind::NotFound,
                ErrorCode::UnknownEntitySet,
                format!("no entity set `{name}`; this environment has {}", known.join(", ")),
            )
        })
}

/// A column's name as the service spells it: `_x_value` for a Dataverse lookup `x`.
pub(super) fn property(table: &Table, column: &str) -> String {
    match table.column(column).map(|c| &c.ty) {
        Some(ColumnType::Lookup { .. }) => format!("_{column}_value"),
        _ => column.to_owned(),
    }
}

/// The column a property name stands for (finops names compare ignoring case).
pub(super) fn column_of<'t>(table: &'t Table, property: &str) -> Option<&'t str> {
    let lookup = property.strip_prefix('_').and_then(|p| p.strip_suffix("_value"));
    match lookup.and_then(|l| table.column(l)) {
        Some(c) if matches!(c.ty, ColumnType::Lookup { .. }) => Some(&c.name),
        _ => table
            .column(property)
            .filter(|c| !matches!(c.ty, ColumnType::Lookup { .. }))
            .map(|c| c.name.as_str()),
    }
}

/// A key predicate as the columns it names: the id (Dataverse) or a one-column entity key, or an
/// alternate key's or the entity key's columns (lookups by id). A finops key of a company-specific
/// entity without `dataAreaId` means the default company.
pub(super) fn key_row(schema: &Schema, face: Face, table: &Table, key: &KeyPredicate) -> Row {
    let mut row: Row = match key {
        KeyPredicate::Single(value) => {
            let column = table.entity_key().first().copied().unwrap_or_default().to_owned();
            Row::from_iter([(column, value.clone())])
        }
        KeyPredicate::Named(parts) => parts
            .iter()
            .map(|(name, value)| (column_of(table, name).unwrap_or(name).to_owned(), value.clone()))
            .collect(),
    };
    in_default_company(schema, face, table, &mut row);
    row
}

/// A finops row or key of a company-specific entity that names no `dataAreaId` is in the default
/// company, as the real service takes the caller's.
pub(super) fn in_default_company(schema: &Schema, face: Face, table: &Table, row: &mut Row) {
    if let Some(company) = face.default_company(schema).filter(|_| table.company_specific) {
        if !row.keys().any(|k| k.eq_ignore_ascii_case(DATA_AREA_ID)) {
            row.insert(DATA_AREA_ID.to_owned(), company.into());
        }
    }
}

pub(super) fn find(
    tx: &mut dyn Tx,
    schema: &Schema,
    face: Face,
    table: &Table,
    key: &KeyPredicate,
) -> Result<Option<StoredRow>, ApiError> {
    Ok(write::find(tx, schema, table, &key_row(schema, face, table, key))?)
}

/// The key a found row is written back by: its id (Dataverse) or its whole entity key (finops).
pub(super) fn id_key(table: &Table, row: &StoredRow) -> Row {
    table
        .entity_key()
        .into_iter()
        .map(|column| (column.to_owned(), row.data.get(column).cloned().unwrap_or(Value::Null)))
        .collect()
}

/// A row's key predicate as the service writes it in an entity's address: `<id>`, or
/// `dataAreaId='usmf',CUSTOMERACCOUNT='C1'`.
pub(super) fn key_text(face: Face, table: &Table, row: &Row) -> String {
    let literal = |v: Option<&Value>| match v {
        Some(Value::String(s)) => format!("'{}'", s.replace('\'', "''")),
        Some(other) => other.to_string(),
        None => "null".to_owned(),
    };
    match face {
        Face::Dataverse => {
            row.get(table.id_column_name()).and_then(Value::as_str).unwrap_or_default().to_owned()
        }
        Face::Finops => odata::company_first(table.entity_key())
            .into_iter()
            .map(|c| format!("{c}={}", literal(row.get(c))))
            .collect::<Vec<_>>()
            .join(","),
    }
}

pub(super) fn not_found(table: &Table, set: &str, key: &KeyPredicate) -> ApiError {
    let shown = match key {
        KeyPredicate::Single(v) => v.to_string(),
        KeyPredicate::Named(parts) => {
            parts.iter().map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join(",")
        }
    };
    ApiError::not_found(format_args!("{} `{set}({shown})`", table.name))
}

/// A row as the Web API shows it: every column (or the selected ones), lookups as `_x_value`.
pub(super) fn entity(table: &Table, row: &Row, select: Option<&[String]>) -> Map<String, Value> {
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
pub(super) fn select(table: &Table, query: &Query) -> Result<Option<Vec<String>>, ApiError> {
    let Some(names) = &query.select else { return Ok(None) };
    names
        .iter()
        .map(|name| {
            column_of(table, name).map(str::to_owned).ok_or_else(|| {
                ApiError::bad_request(
                    ErrorCode::InvalidQueryOption,
                    format!("`$select` names `{name}`, which {} does not have", table.name),
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// The rows `$filter` lets through, in `$orderby` order (else as stored). A finops read sees the
/// default company's rows only, unless `cross-company=true`.
pub(super) fn matching(
    tx: &mut dyn Tx,
    schema: &Schema,
    face: Face,
    table: &Table,
    query: &Query,
) -> Result<Vec<Row>, ApiError> {
    let company = face.default_company(schema).filter(|_| table.company_specific && !query.cross_company);
    let in_company = |row: &Row| {
        company.is_none_or(|c| {
            row.get(DATA_AREA_ID).and_then(Value::as_str).is_some_and(|d| d.eq_ignore_ascii_case(c))
        })
    };
    let filter = match query.filter.as_deref().filter(|f| !f.trim().is_empty()) {
        Some(text) => {
            let mut filter = Filter::parse(Dialect::OData, text).map_err(|e| {
                ApiError::bad_request(ErrorCode::InvalidFilter, e.to_string()).with("offset", e.offset)
            })?;
            filter.rename_columns(|p| column_of(table, p).filter(|c| *c != p).map(str::to_owned));
            if let Some(problem) = filter.check_query(table).first() {
                return Err(ApiError::bad_request(ErrorCode::InvalidFilter, problem.message.clone()));
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
                    ErrorCode::InvalidQueryOption,
                    format!("`$orderby` names `{name}`, which {} does not have", table.name),
                )
            })?;
            Ok((column.to_owned(), *descending))
        })
        .collect::<Result<_, ApiError>>()?;
    let mut rows = Vec::new();
    let mut cursor = 0;
    loop {
        let batch = tx.scan_rows(face.side(), &table.name, cursor, dualwrite_core::api::MAX_PAGE)?;
        let Some(last) = batch.last() else { break };
        cursor = last.id;
        rows.extend(
            batch
                .into_iter()
                .map(|r| r.data)
                .filter(|r| in_company(r) && filter.as_ref().is_none_or(|f| f.matches(r))),
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
    Ok(rows)
}

/// Values in the order the source systems sort them: nulls first, numbers by value, text ignoring
/// case and trailing spaces.
pub(super) fn compare(a: Option<&Value>, b: Option<&Value>) -> Ordering {
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

/// One page of `rows` (what `$skip` and `$top` leave of the `matched`), with `@odata.nextLink`
/// to the next while more follow.
fn page(
    call: &Call,
    table: &Table,
    set: &str,
    query: &Query,
    rows: Vec<Row>,
    matched: usize,
) -> Result<Reply, ApiError> {
    let (base, prefer) = (&call.base, &call.prefer);
    let select = select(table, query)?;
    let size = prefer.max_page_size.unwrap_or(call.face.page()).clamp(1, call.face.page());
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
        body.insert("@odata.count".into(), matched.into());
    }
    body.insert("value".into(), items.into());
    if start + size < total {
        let mut next: Vec<(String, String)> =
            call.params.iter().filter(|(n, _)| !n.eq_ignore_ascii_case("$skiptoken")).cloned().collect();
        next.push(("$skiptoken".into(), (start + size).to_string()));
        let encoded = serde_urlencoded::to_string(&next).unwrap_or_default();
        body.insert("@odata.nextLink".into(), format!("{base}/{set}?{encoded}").into());
    }
    let mut reply = super::json_reply(axum::http::StatusCode::OK, &Value::Object(body));
    if let Some(size) = prefer.max_page_size {
        reply.headers.push(("Preference-Applied".into(), format!("odata.maxpagesize={size}")));
    }
    Ok(reply)
}

/// Answers one read request: the service document, `$metadata`, one entity, a page, or a count.
pub(super) fn perform(
    tx: &mut dyn Tx,
    catalog: &crate::catalog::Catalog,
    call: &Call,
) -> Result<Reply, ApiError> {
    use axum::http::StatusCode;
    let schema = catalog.require_schema()?;
    let (base, face) = (&call.base, call.face);
    match &call.resource {
        Resource::Service => {
            let sets: Vec<Value> = schema
                .tables(face.side())
                .iter()
                .map(|t| {
                    let set = t.entity_set();
                    serde_json::json!({"name": set, "kind": "EntitySet", "url": set})
                })
                .collect();
            Ok(super::json_reply(
                StatusCode::OK,
                &serde_json::json!({"@odata.context": format!("{base}/$metadata"), "value": sets}),
            ))
        }
        Resource::Metadata => Ok(Reply {
            status: StatusCode::OK,
            headers: Vec::new(),
            body: Some((
                "application/xml".into(),
                match face {
                    Face::Dataverse => odata::metadata::dataverse(schema),
                    Face::Finops => odata::metadata::finops(schema),
                },
            )),
        }),
        Resource::Batch => Err(ApiError::new(
            Kind::MethodNotAllowed,
            ErrorCode::MethodNotAllowed,
            "`$batch` takes a POST of a multipart/mixed body",
        )),
        Resource::Set { name, key: Some(key), count: false } => {
            let table = table_of(schema, face, name)?;
            let row = find(tx, schema, face, table, key)?.ok_or_else(|| not_found(table, name, key))?;
            let select = select(table, &Query::parse(&call.params, &["$select"])?)?;
            let mut shown = entity(table, &row.data, select.as_deref());
            shown.insert("@odata.context".into(), format!("{base}/$metadata#{name}/$entity").into());
            Ok(super::json_reply(StatusCode::OK, &Value::Object(shown)))
        }
        Resource::Set { key: Some(_), count: true, .. } => Err(ApiError::bad_request(
            ErrorCode::InvalidPath,
            "`/$count` follows an entity set, not one entity",
        )),
        Resource::Set { name, key: None, count } => {
            let table = table_of(schema, face, name)?;
            let query = Query::parse(&call.params, face.options())?;
            let rows = matching(tx, schema, face, table, &query)?;
            let matched = rows.len();
            let rows: Vec<Row> = rows
                .into_iter()
                .skip(query.skip.unwrap_or(0))
                .take(query.top.unwrap_or(usize::MAX))
                .collect();
            if *count {
                return Ok(Reply {
                    status: StatusCode::OK,
                    headers: Vec::new(),
                    body: Some(("text/plain".into(), rows.len().to_string())),
                });
            }
            page(call, table, name, &query, rows, matched)
        }
    }
}
