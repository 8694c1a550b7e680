//! Dataverse lookups between the stored form (the target's id) and the dotted form maps and clients
//! use (`transactioncurrencyid.isocurrencycode: "EUR"`). A lookup into a company-specific table is
//! resolved within the row's own company.

use std::collections::HashMap;

use dualwrite_core::schema::{Row, Schema, Side, Table, COMPANY_LOOKUP};
use serde_json::Value;

use super::keys::{self, find_by_columns};
use crate::store::{StoreError, Tx};

/// A row's company: the `cdm_company` id stored in `msdyn_company`, and its code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Company {
    pub id: String,
    pub code: String,
}

/// A dotted value that names no row.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LookupError {
    #[error("`{path}` = {value}: no {table} row has that key{}", company.as_ref().map(|c| format!(" in company {c}")).unwrap_or_default())]
    NotFound { path: String, value: Value, table: String, company: Option<String> },
    #[error("{0}")]
    Path(String),
}

/// Resolves a dotted `path` of a row of `table` whose value is `value` (a key of the last hop's
/// table) to the id of the first hop's target row. `Ok(Ok(None))` for a null value.
pub fn resolve(
    tx: &mut dyn Tx,
    schema: &Schema,
    table: &Table,
    path: &str,
    value: &Value,
    company: Option<&Company>,
) -> Result<Result<Option<String>, LookupError>, StoreError> {
    if value.is_null() {
        return Ok(Ok(None));
    }
    let resolved = match schema.resolve_path(table, path) {
        Ok(r) => r,
        Err(e) => return Ok(Err(LookupError::Path(e.to_string()))),
    };
    // From the last table back to the first hop's target: each step finds the row whose column holds
    // the value found one step further.
    let mut wanted = value.clone();
    let mut steps: Vec<(&Table, &str)> = vec![(resolved.table, resolved.column.name.as_str())];
    for hop in resolved.hops.iter().skip(1).rev() {
        steps.push((hop.table, hop.lookup.name.as_str()));
    }
    for (step_table, column) in steps {
        let found = find_in_company(tx, step_table, column, &wanted, company)?;
        match found {
            Some(id) => wanted = Value::String(id),
            None => {
                return Ok(Err(LookupError::NotFound {
                    path: path.to_owned(),
                    value: value.clone(),
                    table: step_table.name.clone(),
                    company: company.filter(|_| step_table.company_specific).map(|c| c.code.clone()),
                }))
            }
        }
    }
    Ok(Ok(wanted.as_str().map(str::to_owned)))
}

/// The id of the row of `table` whose `column` is `value`, within `company` when the table is
/// company-specific.
fn find_in_company(
    tx: &mut dyn Tx,
    table: &Table,
    column: &str,
    value: &Value,
    company: Option<&Company>,
) -> Result<Option<String>, StoreError> {
    let row = match company {
        Some(c) if table.company_specific && column != COMPANY_LOOKUP => find_by_columns(
            tx,
            table,
            &[column, COMPANY_LOOKUP],
            &[value.clone(), Value::String(c.id.clone())],
        )?,
        _ => find_by_columns(tx, table, &[column], std::slice::from_ref(value))?,
    };
    Ok(row.and_then(|r| id_of(table, &r.data)))
}

/// A Dataverse row's id.
pub fn id_of(table: &Table, row: &Row) -> Option<String> {
    row.get(table.id_column_name()).and_then(Value::as_str).map(str::to_owned)
}

/// Whether a row with this id exists in `table`.
pub fn exists(tx: &mut dyn Tx, table: &Table, id: &str) -> Result<bool, StoreError> {
    Ok(tx.find_row(Side::Dataverse, &table.name, keys::ID, &keys::id_value(id))?.is_some())
}

/// The stored row `row` of `table` with each of `paths` added in dotted form (null where a lookup is
/// empty or dangling), as core's row mapping reads Dataverse rows. The rows a path passes through are
/// read once each.
pub fn expand(
    tx: &mut dyn Tx,
    schema: &Schema,
    table: &Table,
    mut row: Row,
    paths: &[String],
) -> Result<Row, StoreError> {
    let mut reached: Reached = HashMap::new();
    let mut values = Vec::with_capacity(paths.len());
    for path in paths {
        let Ok(resolved) = schema.resolve_path(table, path) else { continue };
        // Where the walk stands: `None` for `row` itself, else the key of a row in `reached`.
        let mut at: Option<(String, String)> = None;
        let mut ended = false;
        for hop in &resolved.hops {
            let here = standing(&row, &reached, at.as_ref());
            let Some(id) = here.and_then(|r| r.get(&hop.lookup.name)).and_then(Value::as_str) else {
                ended = true;
                break;
            };
            let id = id.to_owned();
            let k = (hop.target.name.clone(), id.to_lowercase());
            if !reached.contains_key(&k) {
                let found = tx
                    .find_row(Side::Dataverse, &hop.target.name, keys::ID, &keys::id_value(&id))?
                    .map(|r| r.data);
                reached.insert(k.clone(), found);
            }
            at = Some(k);
        }
        let end = if ended { None } else { standing(&row, &reached, at.as_ref()) };
        let value = end.and_then(|r| r.get(&resolved.column.name)).cloned().unwrap_or(Value::Null);
        values.push((path.clone(), value));
    }
    row.extend(values);
    Ok(row)
}

/// The rows a lookup walk reached: target table and lowercased id → the row there, if any.
type Reached = HashMap<(String, String), Option<Row>>;

/// The row a walk stands on: `row` itself before any hop, else the one reached under `at` (none
/// where the lookup dangles).
fn standing<'r>(row: &'r Row, reached: &'r Reached, at: Option<&(String, String)>) -> Option<&'r Row> {
    match at {
        None => Some(row),
        Some(k) => reached.get(k).and_then(Option::as_ref),
    }
}
