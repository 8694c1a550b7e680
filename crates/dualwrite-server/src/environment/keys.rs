//! The unique keys of stored rows, and finding a row by the values of some of its columns.
//!
//! Keys are stored normalised (case-insensitive, trailing spaces ignored: how both source systems
//! compare them): a finops row under its entity key (`key`), a Dataverse row under its id (`id`) and
//! under each alternate key (by the key's name, lookup columns by the target's id).

use dualwrite_core::integration_key::{key_part, normalize};
use dualwrite_core::schema::{Row, Side, Table};
use serde_json::Value;

use crate::store::{RowKey, StoreError, StoredRow, Tx};

/// The stored name of a finops entity key.
pub const ENTITY_KEY: &str = "key";
/// The stored name of a Dataverse id.
pub const ID: &str = "id";

/// Rows read per page when no key index answers and a table must be scanned.
const SCAN_PAGE: usize = 1000;

/// Key parts joined into one stored value (the unit separator cannot occur in a key part).
pub fn join(parts: &[String]) -> String {
    parts.join("\u{1f}")
}

/// The value of `column` in `row` (case-insensitive on finops).
pub fn get<'r>(table: &Table, row: &'r Row, column: &str) -> Option<&'r Value> {
    row.get(column).or_else(|| match table.side {
        Side::Finops => row.iter().find(|(k, _)| k.eq_ignore_ascii_case(column)).map(|(_, v)| v),
        Side::Dataverse => None,
    })
}

/// The normalised parts of `columns` in `row`, or `None` if any is missing or null.
fn parts(table: &Table, row: &Row, columns: &[&str]) -> Option<Vec<String>> {
    columns.iter().map(|c| get(table, row, c).and_then(key_part)).collect()
}

/// The unique keys of a row about to be stored. A key with a missing part is not indexed (as in SQL,
/// nulls do not collide).
pub fn row_keys(table: &Table, row: &Row) -> Vec<RowKey> {
    let mut keys = Vec::new();
    match table.side {
        Side::Finops => {
            if let Some(p) = parts(table, row, &table.entity_key()) {
                keys.push(RowKey { name: ENTITY_KEY.into(), value: join(&p) });
            }
        }
        Side::Dataverse => {
            if let Some(p) = parts(table, row, &[table.id_column_name()]) {
                keys.push(RowKey { name: ID.into(), value: join(&p) });
            }
            for ak in &table.alternate_keys {
                let columns: Vec<&str> = ak.columns.iter().map(String::as_str).collect();
                if let Some(p) = parts(table, row, &columns) {
                    keys.push(RowKey { name: ak.name.clone(), value: join(&p) });
                }
            }
        }
    }
    keys
}

/// The row of `table` whose `columns` hold `values` (compared normalised). Uses the entity key, the id
/// or an alternate key when `columns` are exactly one of those; otherwise scans the table.
pub fn find_by_columns(
    tx: &mut dyn Tx,
    table: &Table,
    columns: &[&str],
    values: &[Value],
) -> Result<Option<StoredRow>, StoreError> {
    let Some(wanted) = values.iter().map(key_part).collect::<Option<Vec<String>>>() else {
        return Ok(None);
    };
    if let Some(key) = key_with(table, columns, &wanted) {
        return tx.find_row(table.side, &table.name, &key.name, &key.value);
    }
    let mut after = 0;
    loop {
        let page = tx.scan_rows(table.side, &table.name, after, SCAN_PAGE)?;
        let Some(last) = page.last() else { return Ok(None) };
        after = last.id;
        if let Some(hit) =
            page.into_iter().find(|r| parts(table, &r.data, columns).is_some_and(|p| p == wanted))
        {
            return Ok(Some(hit));
        }
    }
}

/// The key of `table` (name and stored value) that finds the row whose `columns` hold `values`, when
/// `columns` are exactly one of its keys' (see [`find_by_columns`]).
pub fn key_of_columns(table: &Table, columns: &[&str], values: &[Value]) -> Option<RowKey> {
    let wanted = values.iter().map(key_part).collect::<Option<Vec<String>>>()?;
    key_with(table, columns, &wanted)
}

/// The key of `table` whose columns are `columns` (in any order), with the parts `wanted` gives them.
fn key_with(table: &Table, columns: &[&str], wanted: &[String]) -> Option<RowKey> {
    // A known key whose columns are the given ones, in the key's order.
    let ordered = |key_columns: &[&str]| -> Option<Vec<String>> {
        if key_columns.len() != columns.len() {
            return None;
        }
        key_columns
            .iter()
            .map(|k| columns.iter().position(|c| table.same_name(c, k)).map(|i| wanted[i].clone()))
            .collect()
    };
    let candidates: Vec<(String, Vec<&str>)> = match table.side {
        Side::Finops => vec![(ENTITY_KEY.to_owned(), table.entity_key())],
        Side::Dataverse => std::iter::once((ID.to_owned(), vec![table.id_column_name()]))
            .chain(
                table
                    .alternate_keys
                    .iter()
                    .map(|ak| (ak.name.clone(), ak.columns.iter().map(String::as_str).collect())),
            )
            .collect(),
    };
    candidates.into_iter().find_map(|(name, key_columns)| {
        ordered(&key_columns).map(|value| RowKey { name, value: join(&value) })
    })
}

/// The stored key value of a Dataverse id.
pub fn id_value(id: &str) -> String {
    join(&[normalize(id)])
}
