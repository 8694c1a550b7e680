//! A transaction's memory of the rows it has looked up, by key and by id: the same company or currency
//! is looked up for row after row, and asking the database each time is most of the cost. A write to
//! a table forgets what was remembered of it; rolling back to a savepoint forgets everything.

use std::collections::HashMap;

use dualwrite_core::schema::Side;

use super::StoredRow;

/// Entries kept at most; past that the cache starts over.
const CAPACITY: usize = 20_000;

#[derive(Default)]
pub(super) struct RowCache {
    /// `side␟table␟key name␟value` → the row (or its absence).
    by_key: HashMap<String, Option<StoredRow>>,
    /// Row id → the row (or its absence).
    by_id: HashMap<i64, Option<StoredRow>>,
}

/// How a row's key is named in a transaction's memory of rows: `side␟table␟key name␟value`.
pub(super) fn key(side: Side, table: &str, name: &str, value: &str) -> String {
    format!("{}\u{1f}{table}\u{1f}{name}\u{1f}{value}", side.as_str())
}

impl RowCache {
    pub fn found(&self, side: Side, table: &str, name: &str, value: &str) -> Option<Option<StoredRow>> {
        self.by_key.get(&key(side, table, name, value)).cloned()
    }

    pub fn remember(&mut self, side: Side, table: &str, name: &str, value: &str, row: &Option<StoredRow>) {
        if self.by_key.len() >= CAPACITY {
            self.by_key.clear();
        }
        self.by_key.insert(key(side, table, name, value), row.clone());
    }

    pub fn found_id(&self, id: i64) -> Option<Option<StoredRow>> {
        self.by_id.get(&id).cloned()
    }

    pub fn remember_id(&mut self, id: i64, row: &Option<StoredRow>) {
        if self.by_id.len() >= CAPACITY {
            self.by_id.clear();
        }
        self.by_id.insert(id, row.clone());
    }

    /// A row of `side`/`table` (with id `id`, when known) was written.
    pub fn wrote(&mut self, side: Side, table: &str, id: Option<i64>) {
        let prefix = format!("{}\u{1f}{table}\u{1f}", side.as_str());
        self.by_key.retain(|k, _| !k.starts_with(&prefix));
        match id {
            Some(id) => {
                self.by_id.remove(&id);
            }
            None => self.by_id.clear(),
        }
    }

    pub fn forget_all(&mut self) {
        self.by_key.clear();
        self.by_id.clear();
    }
}
