//! The environments' rows above the SQL, once for both backends: the transaction's row cache (what a
//! lookup remembers and what a write makes it forget), rows as stored text, and a row's unique keys
//! kept in step with its data. Each backend supplies only the statements ([`RowTables`]), each taking
//! a whole row with its keys, so a backend whose every statement is a round trip (PostgreSQL) writes
//! a row, its keys and the check that no other row holds them in one.

use dualwrite_core::schema::Side;

use super::column;
use super::held::{Held, HeldRow};
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
    /// The rows of `side`/`table` whose key `name` has one of `values`, each with that value.
    fn select_by_keys(
        &mut self,
        side: Side,
        table: &str,
        name: &str,
        values: &[&str],
    ) -> Result<Vec<(String, StoredRow)>, StoreError> {
        let mut found = Vec::new();
        for value in values {
            found.extend(self.select_by_key(side, table, name, value)?.map(|row| (value.to_string(), row)));
        }
        Ok(found)
    }
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
    /// Inserts rows (their data already as text) with their keys, all or none: `Ok(Err(..))` names a
    /// key another row holds or two of them share, and then nothing is left inserted.
    fn insert_many(
        &mut self,
        side: Side,
        table: &str,
        rows: &[(String, &[RowKey])],
    ) -> Result<Result<Vec<i64>, DuplicateKey>, StoreError>;
    /// Replaces a row's data and its keys by `keys`: the ones it no longer has go, the new ones are
    /// added, unless another row of `side`/`table` holds one of them (`Ok(Err(..))`, the first of
    /// `keys` taken, and then nothing is changed).
    fn replace(
        &mut self,
        id: i64,
        side: Side,
        table: &str,
        data: &str,
        keys: &[RowKey],
    ) -> Result<Result<(), DuplicateKey>, StoreError>;
    fn delete(&mut self, id: i64) -> Result<(), StoreError>;
    /// The updates this transaction holds back, on a backend that holds them (see
    /// [`super::Tx::hold_updates`]).
    fn held(&mut self) -> Option<&mut Held> {
        None
    }
    /// [`RowTables::replace`] for several rows of `side`/`table` at once, all or none: `Ok(Err(..))`
    /// names a key another row holds or two of them give.
    fn replace_many(
        &mut self,
        side: Side,
        table: &str,
        rows: &[(i64, String, &[RowKey])],
    ) -> Result<Result<(), DuplicateKey>, StoreError> {
        for (id, data, keys) in rows {
            if let Err(taken) = self.replace(*id, side, table, data, keys)? {
                return Ok(Err(taken));
            }
        }
        Ok(Ok(()))
    }
}

/// Whether updates are being held.
fn holding(t: &mut impl RowTables) -> bool {
    t.held().is_some_and(|held| held.on)
}

/// Writes the held updates, one statement per table; a refusal is kept for [`write_held`] to report
/// (and nothing more is written). Reads and writes the held rows cannot answer call this first.
pub(super) fn flush(t: &mut impl RowTables) -> Result<(), StoreError> {
    let Some(held) = t.held().filter(|held| !held.is_empty()) else { return Ok(()) };
    let refused = held.refused.is_some();
    let groups = held.take();
    if refused {
        return Ok(());
    }
    for ((side, table), rows) in groups {
        t.cache().wrote(side, &table, None);
        let texts = rows
            .iter()
            .map(|(id, row)| Ok((*id, column::row_text(&row.data)?, row.keys.as_slice())))
            .collect::<Result<Vec<_>, StoreError>>()?;
        if let Err(taken) = t.replace_many(side, &table, &texts)? {
            if let Some(held) = t.held() {
                held.refused = Some(taken);
            }
            return Ok(());
        }
    }
    Ok(())
}

/// Writes the held updates and stops holding; `Ok(Err(..))` when the set was refused.
pub(super) fn write_held(t: &mut impl RowTables) -> Result<Result<(), DuplicateKey>, StoreError> {
    flush(t)?;
    let Some(held) = t.held() else { return Ok(Ok(())) };
    held.on = false;
    Ok(match held.refused.take() {
        Some(taken) => Err(taken),
        None => Ok(()),
    })
}

pub(super) fn find(
    t: &mut impl RowTables,
    side: Side,
    table: &str,
    name: &str,
    value: &str,
) -> Result<Option<StoredRow>, StoreError> {
    if let Some(held) = t.held().filter(|held| !held.is_empty()) {
        // A held row answers for its keys; one the database has under that key but that is held
        // with other keys no longer has it.
        if let Some(row) = held.find(side, table, name, value) {
            return Ok(Some(row));
        }
        let stored = find_stored(t, side, table, name, value)?;
        return Ok(match stored {
            Some(row) if t.held().is_some_and(|held| held.holds(row.id)) => None,
            other => other,
        });
    }
    find_stored(t, side, table, name, value)
}

/// Looks up the rows of `side`/`table` whose key `name` has one of `values` in one statement and
/// remembers them (and the values no row has), for [`find`].
pub(super) fn prefetch(
    t: &mut impl RowTables,
    side: Side,
    table: &str,
    name: &str,
    values: &[&str],
) -> Result<(), StoreError> {
    let wanted: Vec<&str> =
        values.iter().copied().filter(|value| t.cache().found(side, table, name, value).is_none()).collect();
    if wanted.is_empty() {
        return Ok(());
    }
    let mut found: std::collections::HashMap<String, StoredRow> =
        t.select_by_keys(side, table, name, &wanted)?.into_iter().collect();
    for value in wanted {
        let row = found.remove(value);
        t.cache().remember(side, table, name, value, &row);
    }
    Ok(())
}

/// [`find`] in the database (or what the cache remembers of it).
fn find_stored(
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

/// Row `id` as held, when it is.
fn held_row(t: &mut impl RowTables, id: i64) -> Option<StoredRow> {
    t.held().and_then(|held| held.get(id))
}

pub(super) fn get(t: &mut impl RowTables, id: i64) -> Result<Option<StoredRow>, StoreError> {
    if let Some(row) = held_row(t, id) {
        return Ok(Some(row));
    }
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
    flush(t)?;
    t.cache().wrote(side, table, None);
    t.insert(side, table, &column::row_text(data)?, keys)
}

pub(super) fn insert_all(
    t: &mut impl RowTables,
    side: Side,
    table: &str,
    rows: &[(&Row, &[RowKey])],
) -> Result<Result<Vec<i64>, DuplicateKey>, StoreError> {
    flush(t)?;
    t.cache().wrote(side, table, None);
    let texts = rows
        .iter()
        .map(|(data, keys)| Ok((column::row_text(data)?, *keys)))
        .collect::<Result<Vec<_>, StoreError>>()?;
    t.insert_many(side, table, &texts)
}

/// Replaces a row's data and moves its keys (see [`RowTables::replace`]).
pub(super) fn update(
    t: &mut impl RowTables,
    id: i64,
    side: Side,
    table: &str,
    data: &Row,
    keys: &[RowKey],
) -> Result<Result<(), DuplicateKey>, StoreError> {
    if holding(t) {
        let row = HeldRow { side, table: table.to_owned(), data: data.clone(), keys: keys.to_vec() };
        if let Some(held) = t.held() {
            held.put(id, row);
        }
        return Ok(Ok(()));
    }
    t.cache().wrote(side, table, Some(id));
    t.replace(id, side, table, &column::row_text(data)?, keys)
}

pub(super) fn delete(t: &mut impl RowTables, id: i64) -> Result<(), StoreError> {
    flush(t)?;
    // Which side and table the row was of is not known here: forget every lookup.
    t.cache().forget_all();
    t.delete(id)
}

/// The transaction rolled back to a savepoint: what was looked up since may be gone, forget it all.
pub(super) fn rolled_back(t: &mut impl RowTables) {
    t.cache().forget_all();
    if let Some(held) = t.held() {
        held.forget_rows();
    }
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

        fn insert_rows(
            &mut self,
            side: dualwrite_core::schema::Side,
            table: &str,
            rows: &[(&$crate::store::Row, &[$crate::store::RowKey])],
        ) -> Result<Result<Vec<i64>, $crate::store::DuplicateKey>, $crate::store::StoreError> {
            $crate::store::rows::insert_all(self, side, table, rows)
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
