//! Both sides' rows of a map grouped by integration key — twins side by side — and the rows of a run
//! of keys read as core's planner takes them. Initial sync copies chunk by chunk from this index;
//! preflight reads the same chunks without writing (and without a queue).

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use dualwrite_core::initial_sync::Planner;
use dualwrite_core::integration_key::DisplayKey;
use dualwrite_core::row_mapping::dataverse_paths;
use dualwrite_core::schema::{Row, Schema, Side, COMPANY_KEY_PATH, DATA_AREA_ID};
use serde_json::Value;

use crate::catalog::{Catalog, CatalogMap};
use crate::environment::{lookup, write};
use crate::live_sync::Pairing;
use crate::store::{QueuedChange, StoredRow, Tx};
use crate::sync_error::SyncError;

mod runs;

use runs::{Gathering, Merge, Sorted};

/// Rows read per page while indexing.
const PAGE: usize = 5000;

/// The ids of the rows with one key value: finops rows, Dataverse rows.
pub type Twins = (Vec<i64>, Vec<i64>);

/// Every row of both sides of a map, by integration-key value (its display form, `c001|demf`). Rows
/// without a key value get a key of their own that sorts first, so the planner reports them.
///
/// The entries are sorted in bounded memory (see [`runs`]); reading goes on from where the last read
/// stopped, so a copy that reads the keys chunk after chunk reads the runs once.
pub struct TwinIndex {
    sorted: Sorted,
    len: usize,
    /// The key the last read ended on, and the merge that goes on after it.
    position: Mutex<Option<(String, Merge)>>,
}

impl TwinIndex {
    /// Reads both sides' rows of the map (all of them: the planner applies the filters).
    pub fn build(
        tx: &mut dyn Tx,
        catalog: &Catalog,
        schema: &Schema,
        cmap: &CatalogMap,
    ) -> Result<TwinIndex, SyncError> {
        let (mapper, key) = cmap.compile(catalog, schema)?;
        let key_paths: Vec<String> = key.fields.iter().filter(|f| f.contains('.')).cloned().collect();
        let mut entries = Gathering::default();
        for side in [Side::Finops, Side::Dataverse] {
            let table = write::table(schema, side, cmap.map.table(side))?;
            let mut after = 0;
            loop {
                let page = tx.scan_rows(side, &table.name, after, PAGE)?;
                let Some(last) = page.last() else { break };
                after = last.id;
                for row in page {
                    let readable = match side {
                        Side::Finops => row.data,
                        Side::Dataverse => lookup::expand(tx, schema, table, row.data, &key_paths)?,
                    };
                    let name = match mapper.key_value(&key, side, &readable) {
                        Ok(k) => k.to_string(),
                        Err(_) => format!("\u{0}{side}{}", row.id),
                    };
                    entries.push(name, side, row.id).map_err(spill_failed)?;
                }
            }
        }
        TwinIndex::of(entries)
    }

    /// The index of the gathered entries.
    fn of(entries: Gathering) -> Result<TwinIndex, SyncError> {
        let (sorted, len) = entries.finish().map_err(spill_failed)?;
        Ok(TwinIndex { sorted, len, position: Mutex::new(None) })
    }

    /// An index of no rows.
    pub fn empty() -> TwinIndex {
        TwinIndex { sorted: Sorted::default(), len: 0, position: Mutex::new(None) }
    }

    /// How many key values there are.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Up to `n` keys after `cursor` (from the start when `None`), in key order.
    pub fn after(&self, cursor: Option<&String>, n: usize) -> Result<Vec<(String, Twins)>, SyncError> {
        let mut position = self.position.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut merge = match (position.take(), cursor) {
            (Some((ended_on, merge)), Some(cursor)) if ended_on == *cursor => merge,
            _ => {
                let mut merge = self.sorted.merge().map_err(spill_failed)?;
                if let Some(cursor) = cursor {
                    // Rows are read past up to the cursor: a copy resumed by another worker.
                    while merge.peek_key().is_some_and(|k| k <= cursor.as_str()) {
                        merge.next_key().map_err(spill_failed)?;
                    }
                }
                merge
            }
        };
        let mut keys = Vec::with_capacity(n.min(self.len));
        while keys.len() < n {
            let Some(next) = merge.next_key().map_err(spill_failed)? else { break };
            keys.push(next);
        }
        if let Some((last, _)) = keys.last() {
            *position = Some((last.clone(), merge));
        }
        Ok(keys)
    }
}

fn spill_failed(e: std::io::Error) -> SyncError {
    SyncError::internal(format!("the twin index could not use its temporary files: {e}"))
}

/// The changes queued for the keys of a run, by key value, oldest first.
#[derive(Default)]
pub struct Queued {
    by_key: HashMap<String, Vec<QueuedChange>>,
}

impl Queued {
    /// No queued changes (what preflight sees: a map that is not running has no queue).
    pub fn none() -> Queued {
        Queued::default()
    }

    /// The changes of map `map_id` queued for `keys`.
    pub fn read(tx: &mut dyn Tx, map_id: i64, keys: &[(String, Twins)]) -> Result<Queued, SyncError> {
        let mut by_key = HashMap::new();
        if tx.queue_len(map_id, None)? > 0 {
            for (key, _) in keys {
                let changes = tx.queued(map_id, Some(key.as_str()), 0, usize::MAX >> 1)?;
                if !changes.is_empty() {
                    by_key.insert((*key).clone(), changes);
                }
            }
        }
        Ok(Queued { by_key })
    }

    /// The changes of `key` made on `side`, oldest first.
    pub fn on(&self, key: &str, side: Side) -> Vec<&QueuedChange> {
        self.by_key.get(key).into_iter().flatten().filter(|c| c.write.side == side).collect()
    }
}

/// The rows of a run of keys as the planner takes them (Dataverse in dotted form), and the rows as
/// stored now that the copy writes to.
///
/// A key's rows on a side whose changes of that key are queued are taken as they were before the
/// first of those changes (its `before` image; none when it inserted the row): the copy is planned
/// on the rows as they were when the map began initializing, and the queued changes replay after it.
pub struct Chunk {
    finops: Vec<Behind>,
    dataverse: Vec<Behind>,
    pub finops_rows: Vec<Row>,
    pub dataverse_rows: Vec<Row>,
    /// The dotted paths added to the Dataverse rows.
    paths: Vec<String>,
    /// The (side, key) pairs taken from before their queued changes.
    queued: HashSet<(Side, String)>,
}

/// The stored row behind a planner row, as it is now.
enum Behind {
    /// The planner row is this row's data as read (a Dataverse row with the lookup paths added): most
    /// rows, which are not copied a second time.
    Read(i64),
    /// The planner row was taken from before queued changes; the row is now this.
    Now(StoredRow),
    /// The planner row was taken from before queued changes; no row holds its key now.
    Gone,
}

impl Chunk {
    pub fn read(
        tx: &mut dyn Tx,
        catalog: &Catalog,
        schema: &Schema,
        cmap: &CatalogMap,
        keys: &[(String, Twins)],
        queued: &Queued,
    ) -> Result<Chunk, SyncError> {
        let mut chunk = Chunk {
            finops: Vec::new(),
            dataverse: Vec::new(),
            finops_rows: Vec::new(),
            dataverse_rows: Vec::new(),
            paths: dataverse_paths(schema, &cmap.map),
            queued: HashSet::new(),
        };
        let (mut finops_ids, mut dataverse_ids) = (Vec::new(), Vec::new());
        for (key, (f, d)) in keys {
            for (side, ids, taken) in
                [(Side::Finops, f, &mut finops_ids), (Side::Dataverse, d, &mut dataverse_ids)]
            {
                let Some(first) = queued.on(key, side).first().copied() else {
                    taken.extend(ids.iter().copied());
                    continue;
                };
                chunk.queued.insert((side, (*key).clone()));
                if let Some(before) = &first.write.before {
                    let now = now(tx, catalog, schema, cmap, side, before)?;
                    chunk.push(side, now.map_or(Behind::Gone, Behind::Now), before.clone());
                }
            }
        }
        for (side, ids) in [(Side::Finops, finops_ids), (Side::Dataverse, dataverse_ids)] {
            for row in tx.get_rows(&ids)? {
                chunk.push(side, Behind::Read(row.id), row.data);
            }
        }
        let table = write::table(schema, Side::Dataverse, &cmap.map.dataverse)?;
        chunk.dataverse_rows = std::mem::take(&mut chunk.dataverse_rows)
            .into_iter()
            .map(|r| lookup::expand(tx, schema, table, r, &chunk.paths))
            .collect::<Result<Vec<Row>, _>>()?;
        Ok(chunk)
    }

    fn push(&mut self, side: Side, now: Behind, data: Row) {
        match side {
            Side::Finops => {
                self.finops.push(now);
                self.finops_rows.push(data);
            }
            Side::Dataverse => {
                self.dataverse.push(now);
                self.dataverse_rows.push(data);
            }
        }
    }

    /// Whether `key`'s rows on `side` were taken from before changes that are queued.
    pub fn is_queued(&self, side: Side, key: &str) -> bool {
        self.queued.contains(&(side, key.to_owned()))
    }

    /// The planner's row `index` of `side`.
    pub fn row(&self, side: Side, index: usize) -> Option<&Row> {
        match side {
            Side::Finops => self.finops_rows.get(index),
            Side::Dataverse => self.dataverse_rows.get(index),
        }
    }

    /// The stored row behind the planner's row `index` of `side`, as it is now (none when it was
    /// deleted since the planner's row was taken).
    pub fn stored(&self, side: Side, index: usize) -> Option<StoredRow> {
        let behind = match side {
            Side::Finops => self.finops.get(index)?,
            Side::Dataverse => self.dataverse.get(index)?,
        };
        match behind {
            Behind::Read(id) => {
                let mut data = self.row(side, index)?.clone();
                // A stored row never names a column in dotted form (a write turns lookups by key into
                // ids), so what expansion added is exactly the paths.
                if side == Side::Dataverse {
                    for path in &self.paths {
                        data.shift_remove(path);
                    }
                }
                Some(StoredRow { id: *id, data })
            }
            Behind::Now(row) => Some(row.clone()),
            Behind::Gone => None,
        }
    }

    /// How many rows of `side` the chunk holds.
    pub fn len(&self, side: Side) -> usize {
        match side {
            Side::Finops => self.finops_rows.len(),
            Side::Dataverse => self.dataverse_rows.len(),
        }
    }

    /// How the planner's row `index` of `side` is named where it is listed.
    pub fn display_key(&self, planner: &Planner<'_>, side: Side, index: usize) -> DisplayKey {
        self.row(side, index).map_or_else(|| DisplayKey::new([], None), |row| planner.display_key(side, row))
    }

    /// The company code of the planner's row `index` of `side`.
    pub fn company(&self, side: Side, index: usize) -> Option<String> {
        let column = if side == Side::Finops { DATA_AREA_ID } else { COMPANY_KEY_PATH };
        self.row(side, index)?.get(column).and_then(Value::as_str).map(str::to_owned)
    }
}

/// The row of `side` that has, now, the integration-key value `before` had.
fn now(
    tx: &mut dyn Tx,
    catalog: &Catalog,
    schema: &Schema,
    cmap: &CatalogMap,
    side: Side,
    before: &Row,
) -> Result<Option<StoredRow>, SyncError> {
    let key = {
        let mut pairing = Pairing::new(tx, catalog, schema, cmap, side)?;
        let readable = pairing.readable(before)?;
        match pairing.key_value(&readable) {
            Ok(key) => key,
            Err(_) => return Ok(None),
        }
    };
    Pairing::new(tx, catalog, schema, cmap, side.other())?.find_twin(&key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(run_size: usize, keys: usize) -> TwinIndex {
        let mut entries = Gathering::with_runs_of(run_size);
        for i in (0..keys).rev() {
            entries.push(format!("k{i:03}"), Side::Finops, i as i64).expect("push");
            entries.push(format!("k{i:03}"), Side::Dataverse, 1000 + i as i64).expect("push");
        }
        TwinIndex::of(entries).expect("index")
    }

    fn names(keys: &[(String, Twins)]) -> Vec<&str> {
        keys.iter().map(|(k, _)| k.as_str()).collect()
    }

    #[test]
    fn reads_go_on_after_the_cursor_whether_or_not_the_last_read_ended_there() {
        let index = index(4, 10);
        assert_eq!(index.len(), 10);
        let first = index.after(None, 4).expect("read");
        assert_eq!(names(&first), ["k000", "k001", "k002", "k003"]);
        assert_eq!(first[1].1, (vec![1], vec![1001]));
        let next = index.after(Some(&"k003".to_owned()), 4).expect("read");
        assert_eq!(names(&next), ["k004", "k005", "k006", "k007"]);
        // A chunk undone: the copy reads again from its saved cursor.
        let again = index.after(Some(&"k003".to_owned()), 3).expect("read");
        assert_eq!(names(&again), ["k004", "k005", "k006"]);
        let from_start = index.after(None, 2).expect("read");
        assert_eq!(names(&from_start), ["k000", "k001"]);
        let rest = index.after(Some(&"k006".to_owned()), 10).expect("read");
        assert_eq!(names(&rest), ["k007", "k008", "k009"]);
        assert!(index.after(Some(&"k009".to_owned()), 10).expect("read").is_empty());
    }
}
