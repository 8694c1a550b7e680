//! Row updates a transaction holds back to write together (see [`super::Tx::hold_updates`]): what
//! each held row now is, found by id and by each of its keys, so that the transaction reads its own
//! updates before they reach the database.

use std::collections::HashMap;

use dualwrite_core::schema::Side;

use super::row_cache::key;
use super::{DuplicateKey, Row, RowKey, StoredRow};

/// One held update: the row's data and keys as they will be written.
pub(super) struct HeldRow {
    pub side: Side,
    pub table: String,
    pub data: Row,
    pub keys: Vec<RowKey>,
}

/// Held rows by side and table, each with its id.
pub(super) type ByTable = HashMap<(Side, String), Vec<(i64, HeldRow)>>;

#[derive(Default)]
pub(super) struct Held {
    /// Whether updates are held now.
    pub on: bool,
    /// How many savepoints were open when holding began: rolling back past them undoes the set.
    pub since: usize,
    rows: HashMap<i64, HeldRow>,
    /// `side␟table␟key name␟value` → the held row that has that key.
    by_key: HashMap<String, i64>,
    /// The first refusal met when held rows were written before the set was done.
    pub refused: Option<DuplicateKey>,
}

impl Held {
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn holds(&self, id: i64) -> bool {
        self.rows.contains_key(&id)
    }

    /// Row `id` as held.
    pub fn get(&self, id: i64) -> Option<StoredRow> {
        self.rows.get(&id).map(|row| StoredRow { id, data: row.data.clone() })
    }

    /// The held row of `side`/`table` whose key `name` has value `value`.
    pub fn find(&self, side: Side, table: &str, name: &str, value: &str) -> Option<StoredRow> {
        self.by_key.get(&key(side, table, name, value)).and_then(|&id| self.get(id))
    }

    /// Holds `row` as row `id`'s new state, in place of what was held for it.
    pub fn put(&mut self, id: i64, row: HeldRow) {
        if let Some(old) = self.rows.get(&id) {
            for k in &old.keys {
                self.by_key.remove(&key(old.side, &old.table, &k.name, &k.value));
            }
        }
        for k in &row.keys {
            self.by_key.insert(key(row.side, &row.table, &k.name, &k.value), id);
        }
        self.rows.insert(id, row);
    }

    /// Every held row, by side and table, and holds none.
    pub fn take(&mut self) -> ByTable {
        self.by_key.clear();
        let mut groups = ByTable::new();
        for (id, row) in self.rows.drain() {
            groups.entry((row.side, row.table.clone())).or_default().push((id, row));
        }
        groups
    }

    /// Forgets the rows held since a savepoint that was rolled back (whatever was held before it
    /// was written when it was taken).
    pub fn forget_rows(&mut self) {
        self.rows.clear();
        self.by_key.clear();
    }

    /// Stops holding and forgets it all: the savepoint the set began at was rolled back.
    pub fn forget(&mut self) {
        *self = Held::default();
    }
}
