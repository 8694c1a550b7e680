//! A client's transaction on one environment: every op applied, and for each the twin writes of the
//! running maps, all inside the caller's database transaction.

use dualwrite_core::api::{OpKind, OpResult, TransactionRequest, TransactionResponse, TwinWrite};
use dualwrite_core::error_code::ErrorCode;
use dualwrite_core::schema::{Row, Side, Table};

use crate::catalog::Catalog;
use crate::environment::keys;
use crate::environment::write::{self, Applied, Written};
use crate::live_sync;
use crate::store::Tx;
use crate::sync_error::SyncError;

/// The request's problems as one malformed-request error, or nothing.
pub fn check(request: &TransactionRequest) -> Result<(), SyncError> {
    let problems = request.problems();
    if problems.is_empty() {
        return Ok(());
    }
    let message = problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ");
    Err(SyncError::malformed(ErrorCode::InvalidBody, message)
        .with("problems", serde_json::to_value(&problems).unwrap_or_default()))
}

/// Applies `request` on `side`. An error leaves the caller to roll the whole transaction back.
pub fn apply(
    tx: &mut dyn Tx,
    catalog: &Catalog,
    side: Side,
    request: &TransactionRequest,
) -> Result<TransactionResponse, SyncError> {
    let schema = catalog.require_schema()?;
    for (i, op) in request.ops.iter().enumerate() {
        write::check(schema, side, op).map_err(|e| e.with("op_index", i))?;
    }
    live_sync::available(tx, side)?;
    let mut response = TransactionResponse { results: Vec::new(), twin_writes: Vec::new() };
    for (i, op) in request.ops.iter().enumerate() {
        let at = |e: SyncError| e.with("op_index", i);
        let written = write::apply(tx, schema, side, op).map_err(at)?;
        let twins = live_sync::sync(tx, catalog, &written).map_err(at)?;
        let table = write::table(schema, side, &written.table)?;
        response.results.push(OpResult {
            op: op_kind(written.applied),
            table: written.table.clone(),
            key: key_object(table, written.row()),
            row: written.after.clone(),
        });
        for twin in twins {
            let twin_table = write::table(schema, twin.written.side, &twin.written.table)?;
            response.twin_writes.push(twin_write(twin_table, &twin.map, &twin.written));
        }
    }
    Ok(response)
}

fn op_kind(applied: Applied) -> OpKind {
    match applied {
        Applied::Inserted => OpKind::Insert,
        Applied::Updated => OpKind::Update,
        Applied::Deleted => OpKind::Delete,
    }
}

fn twin_write(table: &Table, map: &str, written: &Written) -> TwinWrite {
    TwinWrite {
        map: map.to_owned(),
        side: written.side,
        op: op_kind(written.applied),
        table: written.table.clone(),
        key: key_object(table, written.row()),
        row: written.after.clone(),
    }
}

/// A row's key as clients address it: the finops entity key, or the Dataverse id.
pub fn key_object(table: &Table, row: Option<&Row>) -> Row {
    let Some(row) = row else { return Row::new() };
    table
        .entity_key()
        .into_iter()
        .filter_map(|column| keys::get(table, row, column).map(|v| (column.to_owned(), v.clone())))
        .collect()
}
