//! Writing through a face: a request becomes one op of the transaction path, after the rows it
//! names are found in the same database transaction; `x@odata.bind` becomes the lookup's id;
//! `If-Match` and `If-None-Match` decide between update, insert and refusal. A Dataverse `PATCH` of
//! a key not there yet creates the row (upsert), as the Web API does; a finance-and-operations one
//! answers 404, as its OData endpoint does.

use std::collections::HashMap;

use axum::http::{header, HeaderMap, Method, StatusCode};
use dualwrite_core::api::{Op, OpKind, TransactionRequest};
use dualwrite_core::error_code::ErrorCode;
use dualwrite_core::schema::{ColumnType, Row, Schema, Table};
use serde_json::{Map, Value};

use super::read::{entity, find, id_key, in_default_company, key_row, key_text, not_found, table_of};
use super::{Call, Face};
use crate::catalog::Catalog;
use crate::error::{ApiError, Kind};
use crate::odata::batch::Reply;
use crate::odata::{self, KeyPredicate, Resource};
use crate::store::{StoredRow, Tx};
use crate::transaction;

/// What the earlier requests of a change set created, by `Content-ID`: its table and id.
pub(super) type Created = HashMap<String, (String, Value)>;

/// Performs one write request in the caller's database transaction: its reply, and the table and
/// id of the row it wrote (for later requests of its change set).
pub(super) fn perform(
    tx: &mut dyn Tx,
    catalog: &Catalog,
    call: &Call,
    method: &Method,
    body: &str,
    created: &Created,
) -> Result<(Reply, Option<(String, Value)>), ApiError> {
    let schema = catalog.require_schema()?;
    let Resource::Set { name: set, key, count: false } = &call.resource else {
        return Err(ApiError::new(
            Kind::MethodNotAllowed,
            ErrorCode::MethodNotAllowed,
            format!("{method} takes an entity set or one entity"),
        ));
    };
    let face = call.face;
    let table = table_of(schema, face, set)?;
    let fields = match method {
        &Method::DELETE => Map::new(),
        _ => match serde_json::from_str::<Value>(body) {
            Ok(Value::Object(fields)) => fields,
            Ok(_) => {
                return Err(ApiError::bad_request(
                    ErrorCode::InvalidBody,
                    "the body must be one JSON object: the entity's properties",
                ))
            }
            Err(e) => {
                return Err(ApiError::bad_request(
                    ErrorCode::InvalidBody,
                    format!("the body is not JSON: {e}"),
                ))
            }
        },
    };
    let conditions = Conditions::of(&call.headers);
    let op = match (method, key) {
        (&Method::POST, None) => {
            let mut row = row_of(tx, schema, table, &fields, created)?;
            in_default_company(schema, face, table, &mut row);
            Op { op: OpKind::Insert, table: table.name.clone(), key: None, row: Some(row) }
        }
        (&Method::PATCH, Some(key)) => {
            let existing = find(tx, schema, face, table, key)?;
            if face == Face::Finops && existing.is_none() {
                return Err(not_found(table, set, key));
            }
            conditions.hold(existing.as_ref(), || not_found(table, set, key))?;
            let mut row = row_of(tx, schema, table, &fields, created)?;
            match existing {
                Some(existing) => Op {
                    op: OpKind::Update,
                    table: table.name.clone(),
                    key: Some(id_key(table, &existing)),
                    row: Some(row),
                },
                None => {
                    // An upsert of a row not there yet: the key in the path is part of the row.
                    row.extend(key_row(schema, face, table, key));
                    Op { op: OpKind::Insert, table: table.name.clone(), key: None, row: Some(row) }
                }
            }
        }
        (&Method::DELETE, Some(key)) => {
            let existing = find(tx, schema, face, table, key)?;
            conditions.hold(existing.as_ref(), || not_found(table, set, key))?;
            let existing = existing.ok_or_else(|| not_found(table, set, key))?;
            Op {
                op: OpKind::Delete,
                table: table.name.clone(),
                key: Some(id_key(table, &existing)),
                row: None,
            }
        }
        (method, _) => {
            let takes =
                if key.is_some() { "an entity set, not one entity" } else { "one entity, `set(key)`" };
            return Err(ApiError::new(
                Kind::MethodNotAllowed,
                ErrorCode::MethodNotAllowed,
                format!("{method} takes {takes}"),
            ));
        }
    };
    let request = TransactionRequest { ops: vec![op] };
    transaction::check(&request)?;
    let response = transaction::apply(tx, catalog, face.side(), &request)?;
    if method == Method::DELETE {
        return Ok((Reply { status: StatusCode::NO_CONTENT, headers: Vec::new(), body: None }, None));
    }
    let written = response.results.into_iter().next().and_then(|r| r.row).unwrap_or_default();
    let id = written.get(table.id_column_name()).cloned().unwrap_or(Value::Null);
    let location = format!("{}/{set}({})", call.base, key_text(face, table, &written));
    // finance and operations answers a create with the entity, as if it were asked to.
    let represent = call.prefer.return_representation || (face == Face::Finops && method == Method::POST);
    let mut reply = if represent {
        let mut shown = entity(table, &written, None);
        shown.insert("@odata.context".into(), format!("{}/$metadata#{set}/$entity", call.base).into());
        let status = if method == Method::POST { StatusCode::CREATED } else { StatusCode::OK };
        let mut reply = super::json_reply(status, &Value::Object(shown));
        if call.prefer.return_representation {
            reply.headers.push(("Preference-Applied".into(), "return=representation".into()));
        }
        reply
    } else {
        Reply { status: StatusCode::NO_CONTENT, headers: Vec::new(), body: None }
    };
    reply.headers.push(("OData-EntityId".into(), location.clone()));
    reply.headers.push(("Location".into(), location));
    Ok((reply, Some((table.name.clone(), id))))
}

/// A body's properties as a row of the transaction path: columns as they are, lookups bound with
/// `x@odata.bind` to an entity by id or by alternate key, instance annotations left out.
fn row_of(
    tx: &mut dyn Tx,
    schema: &Schema,
    table: &Table,
    fields: &Map<String, Value>,
    created: &Created,
) -> Result<Row, ApiError> {
    let mut row = Row::new();
    for (name, value) in fields {
        if let Some(navigation) = name.strip_suffix("@odata.bind") {
            let column = table.column(navigation).filter(|c| matches!(c.ty, ColumnType::Lookup { .. }));
            let (Some(column), ColumnType::Lookup { target }) =
                (column, column.map_or(&ColumnType::Integer, |c| &c.ty))
            else {
                return Err(ApiError::bad_request(
                    ErrorCode::UnknownColumn,
                    format!("`{name}` binds `{navigation}`, which is no lookup of {}", table.name),
                ));
            };
            let id = match value {
                Value::Null => Value::Null,
                Value::String(reference) => {
                    bound_id(tx, schema, table, &column.name, target, reference, created)?
                }
                other => {
                    return Err(ApiError::bad_request(
                        ErrorCode::InvalidReference,
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
                ErrorCode::ReadOnlyColumn,
                format!("`{name}` is read-only; set the lookup with \"{lookup}@odata.bind\": \"/<entity set>(<key>)\""),
            ));
        } else {
            row.insert(name.clone(), value.clone());
        }
    }
    Ok(row)
}

/// The id of the row a lookup is bound to (by reference, or by the `Content-ID` of the request of
/// its change set that created it). A reference by alternate key is found the way the
/// transaction path finds rows; one that names no row is refused as any missing lookup target is.
fn bound_id(
    tx: &mut dyn Tx,
    schema: &Schema,
    table: &Table,
    column: &str,
    target: &str,
    reference: &str,
    created: &Created,
) -> Result<Value, ApiError> {
    // `$1`: what request 1 of the same change set created.
    if let Some((made_in, id)) = reference.strip_prefix('$').and_then(|id| created.get(id)) {
        if made_in != target {
            return Err(ApiError::bad_request(
                ErrorCode::InvalidReference,
                format!(
                    "`{column}` of {} looks up {target}, but `{reference}` created a {made_in}",
                    table.name
                ),
            ));
        }
        return Ok(id.clone());
    }
    let (set, key) = odata::reference(reference)?;
    let target_table = table_of(schema, Face::Dataverse, &set)?;
    if target_table.name != target {
        return Err(ApiError::bad_request(
            ErrorCode::InvalidReference,
            format!(
                "`{column}` of {} looks up {target}, but `{reference}` is a {}",
                table.name, target_table.name
            ),
        ));
    }
    if let KeyPredicate::Single(id) = &key {
        return Ok(id.clone());
    }
    match find(tx, schema, Face::Dataverse, target_table, &key)? {
        Some(row) => Ok(row.data.get(target_table.id_column_name()).cloned().unwrap_or(Value::Null)),
        None => Err(ApiError::invalid(
            ErrorCode::LookupNotFound,
            format!("cannot bind `{column}` to `{reference}`: no {target} row has that key; create it first"),
        )),
    }
}

/// `If-Match` and `If-None-Match` of a write.
pub(super) struct Conditions {
    if_match: Option<String>,
    if_none_match: bool,
}

impl Conditions {
    pub(super) fn of(headers: &HeaderMap) -> Conditions {
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
    pub(super) fn hold(
        &self,
        existing: Option<&StoredRow>,
        missing: impl Fn() -> ApiError,
    ) -> Result<(), ApiError> {
        if self.if_none_match && existing.is_some() {
            return Err(ApiError::new(
                Kind::PreconditionFailed,
                ErrorCode::AlreadyExists,
                "a row with that key exists already (If-None-Match: *)",
            ));
        }
        match (&self.if_match, existing) {
            (Some(_), None) => Err(missing()),
            (Some(tag), Some(row)) if tag != "*" && *tag != odata::etag(&row.data) => Err(ApiError::new(
                Kind::PreconditionFailed,
                ErrorCode::ChangedSinceRead,
                "the row changed since it was read (its etag differs from If-Match); read it again",
            )),
            _ => Ok(()),
        }
    }
}
