//! The environments' data: table definitions, rows, transactions and availability.

use axum::extract::{Path, State};
use axum::Json;
use dualwrite_core::api::{
    Availability, AvailabilityRequest, Paged, TableDocument, TransactionRequest, TransactionResponse,
    MAX_PAGE,
};
use dualwrite_core::error_code::ErrorCode;
use dualwrite_core::filter::{Dialect, Filter};
use dualwrite_core::schema::{Row, Schema, Side, Table};
use serde::Deserialize;
use serde_json::{json, Value};

use super::body::{Body, Query};
use super::schema::{parse, refuse_while_running};
use super::AppState;
use crate::catalog;
use crate::environment::write;
use crate::error::ApiError;
use crate::store::EventKind;
use crate::{alerts, transaction};

/// The side named in a path, or a 404.
pub fn side(name: &str) -> Result<Side, ApiError> {
    name.parse()
        .map_err(|_| ApiError::not_found(format_args!("environment `{name}` (expected finops or dataverse)")))
}

/// `GET /envs/{side}/tables`: the table definitions of one side.
pub async fn tables(
    State(app): State<AppState>,
    Path(side_name): Path<String>,
) -> Result<Json<Vec<TableDocument>>, ApiError> {
    let side = side(&side_name)?;
    app.read(move |_, catalog| {
        let doc = dualwrite_core::api::SchemaDocument::from(catalog.require_schema()?);
        Ok(Json(match side {
            Side::Finops => doc.finops,
            Side::Dataverse => doc.dataverse,
        }))
    })
    .await
}

/// `PUT /envs/{side}/tables/{table}`: adds or replaces one table definition.
pub async fn put_table(
    State(app): State<AppState>,
    Path((side_name, table)): Path<(String, String)>,
    Body(definition): Body<Value>,
) -> Result<Json<TableDocument>, ApiError> {
    let side = side(&side_name)?;
    app.write(move |tx, catalog| {
        refuse_while_running(catalog)?;
        let mut doc = match &catalog.schema {
            Some(s) => s.to_value(),
            None => Schema::default().to_value(),
        };
        let mut definition = definition.clone();
        if let Value::Object(d) = &mut definition {
            d.entry("name").or_insert_with(|| Value::String(table.clone()));
        }
        if definition.get("name").and_then(Value::as_str) != Some(table.as_str()) {
            return Err(ApiError::bad_request(
                ErrorCode::InvalidTable,
                "the definition's `name` differs from the table in the path",
            ));
        }
        let Some(Value::Array(list)) = doc.get_mut(side.as_str()) else {
            return Err(ApiError::Internal(anyhow::anyhow!("schema document without a {side} list")));
        };
        let same = |t: &Value| {
            t.get("name").and_then(Value::as_str).is_some_and(|n| match side {
                Side::Finops => n.eq_ignore_ascii_case(&table),
                Side::Dataverse => n == table,
            })
        };
        match list.iter_mut().find(|t| same(t)) {
            Some(existing) => *existing = definition.clone(),
            None => list.push(definition.clone()),
        }
        let schema = parse(&doc)?;
        catalog::put_schema(tx, &schema)?;
        let stored = schema.table(side, &table).and_then(|t| table_document(&schema, side, &t.name));
        stored.map(Json).ok_or_else(|| {
            ApiError::Internal(anyhow::anyhow!("table `{table}` is not in the schema it was just put in"))
        })
    })
    .await
}

fn table_document(schema: &Schema, side: Side, name: &str) -> Option<TableDocument> {
    let doc = dualwrite_core::api::SchemaDocument::from(schema);
    let tables = match side {
        Side::Finops => doc.finops,
        Side::Dataverse => doc.dataverse,
    };
    tables.into_iter().find(|t| t.get("name").and_then(Value::as_str) == Some(name))
}

#[derive(schemars::JsonSchema, Deserialize)]
pub struct RowsQuery {
    filter: Option<String>,
    limit: Option<usize>,
    #[serde(default)]
    after: i64,
}

/// `GET /envs/{side}/tables/{table}/rows?filter=&limit=&after=`: rows in insertion order, filtered
/// in that side's grammar. `next` is the cursor for the following page; `total` counts the rows that
/// match.
pub async fn rows(
    State(app): State<AppState>,
    Path((side_name, table_name)): Path<(String, String)>,
    Query(q): Query<RowsQuery>,
) -> Result<Json<Paged<Row>>, ApiError> {
    let side = side(&side_name)?;
    let limit = q.limit.unwrap_or(50).clamp(1, MAX_PAGE);
    app.read(move |tx, catalog| {
        let schema = catalog.require_schema()?;
        let table = write::table(schema, side, &table_name)?;
        let filter = q
            .filter
            .as_deref()
            .filter(|f| !f.trim().is_empty())
            .map(|f| parse_filter(table, f))
            .transpose()?;
        let Some(filter) = filter else {
            let total = tx.count_rows(side, &table.name)?;
            let mut page = tx.scan_rows(side, &table.name, q.after, limit + 1)?;
            let more = page.len() > limit;
            page.truncate(limit);
            let next = page.last().map(|r| r.id).filter(|_| more);
            let items: Vec<Row> = page.into_iter().map(|r| r.data).collect();
            return Ok(Json(Paged { total, items, next }));
        };
        let (mut total, mut items, mut last, mut more, mut cursor) = (0u64, Vec::new(), 0, false, 0);
        loop {
            let page = tx.scan_rows(side, &table.name, cursor, MAX_PAGE)?;
            let Some(end) = page.last() else { break };
            cursor = end.id;
            for row in page.into_iter().filter(|r| filter.matches(&r.data)) {
                total += 1;
                if row.id <= q.after {
                    continue;
                }
                if items.len() < limit {
                    last = row.id;
                    items.push(row.data);
                } else {
                    more = true;
                }
            }
        }
        let next = more.then_some(last);
        Ok(Json(Paged { total, items, next }))
    })
    .await
}

fn parse_filter(table: &Table, text: &str) -> Result<Filter, ApiError> {
    let filter = Filter::parse(Dialect::of(table.side), text).map_err(|e| {
        ApiError::bad_request(ErrorCode::InvalidFilter, e.to_string()).with("offset", e.offset)
    })?;
    let problems = filter.check(table);
    if let Some(first) = problems.first() {
        let all: Vec<&str> = problems.iter().map(|p| p.message.as_str()).collect();
        return Err(
            ApiError::bad_request(ErrorCode::InvalidFilter, first.message.clone()).with("problems", all)
        );
    }
    Ok(filter)
}

/// `POST /envs/{side}/transactions`: every op applied, with every twin write of every running map, in
/// one database transaction; any failure leaves both sides as they were.
pub async fn transaction(
    State(app): State<AppState>,
    Path(side_name): Path<String>,
    Body(request): Body<TransactionRequest>,
) -> Result<Json<TransactionResponse>, ApiError> {
    let side = side(&side_name)?;
    transaction::check(&request)?;
    commit(&app, move |tx, catalog| Ok(transaction::apply(tx, catalog, side, &request)?)).await.map(Json)
}

/// Runs `work`, which applies client transactions with [`transaction::apply`] (one, or several
/// that must land together, as an OData change set), in one database transaction: the one path of
/// every client write, whichever protocol it came in by. A failed twin write counts towards its
/// map's alert rules.
pub async fn commit<T: Send + 'static>(
    app: &AppState,
    work: impl FnMut(&mut dyn crate::store::Tx, &catalog::Catalog) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let result = app.write(work).await;
    if let Some(error) = result.as_ref().err().and_then(ApiError::sync_error) {
        // A failed twin write counts towards the map's alert rules, in a transaction of its own (the
        // failed one rolled back).
        if let Some(map_id) =
            error.detail("map_id").and_then(|v| v.as_str()).and_then(|id| id.parse::<i64>().ok())
        {
            let error = error.duplicate();
            app.write(move |tx, catalog| Ok(alerts::record(tx, catalog, map_id, &error)?)).await?;
        }
    }
    result
}

/// `GET /envs/{side}/availability`.
pub async fn availability(
    State(app): State<AppState>,
    Path(side_name): Path<String>,
) -> Result<Json<Availability>, ApiError> {
    let side = side(&side_name)?;
    app.read(move |tx, _| Ok(Json(Availability { side, available: tx.is_available(side)? }))).await
}

/// `PUT /envs/{side}/availability`: marks an environment available or not (maintenance).
pub async fn set_availability(
    State(app): State<AppState>,
    Path(side_name): Path<String>,
    Body(request): Body<AvailabilityRequest>,
) -> Result<Json<Availability>, ApiError> {
    let side = side(&side_name)?;
    app.write(move |tx, _| {
        let availability = Availability { side, available: request.available };
        if tx.is_available(side)? != request.available {
            tx.set_available(side, request.available)?;
            tx.record_event(EventKind::Availability, None, &json!(availability))?;
        }
        Ok(Json(availability))
    })
    .await
}
