//! The environments' rows above the SQL, once for both backends: the transaction's row cache (what a
//! lookup remembers and what a write makes it forget), rows as stored text, and a row's unique keys
//! kept in step with its data. Each backend supplies only the statements ([`RowTables`]).

use dualwrite_core::schema::Side;

use super::column;
use super::row_cache::RowCache;
use super::{DuplicateKey, Row, RowKey, StoreError, StoredRow};

/// The statements a backend runs on the rows and their keys.
pub(super) trait RowTables {
    fn cache(&mut self) -> &mut RowCache;
    /// The row of `side`/`table` whose key `name` has value `value`.
    fn select_by_key(
        &mut self,
        side: Side,
        table: &str,
        name: &str,
        value: &str,
    ) -> Result<Option<StoredRow>, StoreError>;
    fn select_by_id(&mut self, id: i64) -> Result<Option<StoredRow>, StoreError>;
    /// Inserts a row (its data already as text) with its keys; `Ok(Err(..))` names a key another row
    /// holds, and then nothing is left inserted.
    fn insert(
        &mut self,
        side: Side,
        table: &str,
        data: &str,
        keys: &[RowKey],
    ) -> Result<Result<i64, DuplicateKey>, StoreError>;
    fn keys_of(&mut self, id: i64) -> Result<Vec<RowKey>, StoreError>;
    /// The row that holds `key` in `side`/`table`.
    fn holder(&mut self, side: Side, table: &str, key: &RowKey) -> Result<Option<i64>, StoreError>;
    fn add_keys(&mut self, side: Side, table: &str, id: i64, keys: &[RowKey]) -> Result<(), StoreError>;
    fn drop_key(&mut self, id: i64, key: &RowKey) -> Result<(), StoreError>;
    fn set_data(&mut self, id: i64, data: &str) -> Result<(), StoreError>;
    fn delete(&mut self, id: i64) -> Result<(), StoreError>;
}

pub(super) fn find(
    t: &mut impl RowTables,
    side: Side,
    table: &str,
    name: &str,
    value: &str,
) -> Result<Option<StoredRow>, StoreError> {
    if let Some(known) = t.cache().found(side, table, name, value) {
        return Ok(known);
    }
    let row = t.select_by_key(side, table, name, value)?;
    t.cache().remember(side, table, name, value, &row);
    Ok(row)
}

pub(super) fn get(t: &mut impl RowTables, id: i64) -> Result<Option<StoredRow>, StoreError> {
    if let Some(known) = t.cache().found_id(id) {
        return Ok(known);
    }
    let row = t.select_by_id(id)?;
    t.cache().remember_id(id, &row);
    Ok(row)
}

pub(super) fn insert(
    t: &mut impl RowTables,
    side: Side,
    table: &str,
    data: &Row,
    keys: &[RowKey],
) -> Result<Result<i64, DuplicateKey>, StoreError> {
    t.cache().wrote(side, table, None);
    t.insert(side, table, &column::row_text(data)?, keys)
}

/// The first of `keys` already held by a row other than `me`.
pub(super) fn taken(
    t: &mut impl RowTables,
    side: Side,
    table: &str,
    keys: &[RowKey],
    me: Option<i64>,
) -> Result<Option<DuplicateKey>, StoreError> {
    for key in keys {
        if t.holder(side, table, key)?.is_some_and(|h| Some(h) != me) {
            return Ok(Some(DuplicateKey { key: key.name.clone() }));
        }
    }
    Ok(None)
}

/// Replaces a row's data and moves its keys: the ones it no longer has are dropped, the new ones
/// added, unless another row holds one of them.
pub(super) fn update(
    t: &mut impl RowTables,
    id: i64,
    side: Side,
    table: &str,
    data: &Row,
    keys: &[RowKey],
) -> Result<Result<(), DuplicateKey>, StoreError> {
    t.cache().wrote(side, table, Some(id));
    let old = t.keys_of(id)?;
    let added: Vec<RowKey> = keys.iter().filter(|k| !old.contains(k)).cloned().collect();
    if let Some(dup) = taken(t, side, table, &added, Some(id))? {
        return Ok(Err(dup));
    }
    for gone in old.iter().filter(|k| !keys.contains(k)) {
        t.drop_key(id, gone)?;
    }
    t.add_keys(side, table, id, &added)?;
    t.set_data(id, &column::row_text(data)?)?;
    Ok(Ok(()))
}

pub(super) fn delete(t: &mut impl RowTables, id: i64) -> Result<(), StoreError> {
    // Which side and table the row was of is not known here: forget every lookup.
    t.cache().forget_all();
    t.delete(id)
}

/// The transaction rolled back to a savepoint: what was looked up since may be gone, forget it all.
pub(super) fn rolled_back(t: &mut impl RowTables) {
    t.cache().forget_all();
}

/// The row methods of [`super::Tx`] for a backend that implements [`RowTables`]: the same on every
/// backend, written once here and expanded in each backend's `impl Tx`.
macro_rules! tx_rows {
    () => {
        fn find_row(
            &mut self,
            side: dualwrite_core::schema::Side,
            table: &str,
            key_name: &str,
            value: &str,
        ) -> Result<Option<$crate::store::StoredRow>, $crate::store::StoreError> {
            $crate::store::rows::find(self, side, table, key_name, value)
        }

        fn get_row(
            &mut self,
            id: i64,
        ) -> Result<Option<$crate::store::StoredRow>, $crate::store::StoreError> {
            $crate::store::rows::get(self, id)
        }

        fn insert_row(
            &mut self,
            side: dualwrite_core::schema::Side,
            table: &str,
            data: &$crate::store::Row,
            keys: &[$crate::store::RowKey],
        ) -> Result<Result<i64, $crate::store::DuplicateKey>, $crate::store::StoreError> {
            $crate::store::rows::insert(self, side, table, data, keys)
        }

        fn update_row(
            &mut self,
            id: i64,
            side: dualwrite_core::schema::Side,
            table: &str,
            data: &$crate::store::Row,
            keys: &[$crate::store::RowKey],
        ) -> Result<Result<(), $crate::store::DuplicateKey>, $crate::store::StoreError> {
            $crate::store::rows::update(self, id, side, table, data, keys)
        }

        fn delete_row(&mut self, id: i64) -> Result<(), $crate::store::StoreError> {
            $crate::store::rows::delete(self, id)
        }
    };
}
pub(super) use tx_rows;
