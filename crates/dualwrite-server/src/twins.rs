//! Both sides' rows of a map grouped by integration key — twins side by side — and the rows of a run
//! of keys read as core's planner takes them. Initial sync copies chunk by chunk from this index;
//! preflight reads the same chunks without writing (and without a queue).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Bound;

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

/// Rows read per page while indexing.
const PAGE: usize = 5000;

/// The ids of the rows with one key value: finops rows, Dataverse rows.
pub type Twins = (Vec<i64>, Vec<i64>);

/// Every row of both sides of a map, by integration-key value (its display form, `c001|demf`). Rows
/// without a key value get a key of their own that sorts first, so the planner reports them.
pub struct TwinIndex {
    entries: BTreeMap<String, Twins>,
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
        let mut entries: BTreeMap<String, Twins> = BTreeMap::new();
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
                        Side::Dataverse => lookup::expand(tx, schema, table, &row.data, &key_paths)?,
                    };
                    let name = match mapper.key_value(&key, side, &readable) {
                        Ok(k) => k.to_string(),
                        Err(_) => format!("\u{0}{side}{}", row.id),
                    };
                    let entry = entries.entry(name).or_default();
                    match side {
                        Side::Finops => entry.0.push(row.id),
                        Side::Dataverse => entry.1.push(row.id),
                    }
                }
            }
        }
        Ok(TwinIndex { entries })
    }

    /// An index of no rows.
    pub fn empty() -> TwinIndex {
        TwinIndex { entries: BTreeMap::new() }
    }

    /// How many key values there are.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Up to `n` keys after `cursor` (from the start when `None`), in key order.
    pub fn after(&self, cursor: Option<&String>, n: usize) -> Vec<(&String, &Twins)> {
        match cursor {
            None => self.entries.iter().take(n).collect(),
            Some(cursor) => {
                self.entries.range::<String, _>((Bound::Excluded(cursor), Bound::Unbounded)).take(n).collect()
            }
        }
    }
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
    pub fn read(tx: &mut dyn Tx, map_id: i64, keys: &[(&String, &Twins)]) -> Result<Queued, SyncError> {
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
    finops: Vec<Option<StoredRow>>,
    dataverse: Vec<Option<StoredRow>>,
    pub finops_rows: Vec<Row>,
    pub dataverse_rows: Vec<Row>,
    /// The (side, key) pairs taken from before their queued changes.
    queued: HashSet<(Side, String)>,
}

impl Chunk {
    pub fn read(
        tx: &mut dyn Tx,
        catalog: &Catalog,
        schema: &Schema,
        cmap: &CatalogMap,
        keys: &[(&String, &Twins)],
        queued: &Queued,
    ) -> Result<Chunk, SyncError> {
        let mut chunk = Chunk {
            finops: Vec::new(),
            dataverse: Vec::new(),
            finops_rows: Vec::new(),
            dataverse_rows: Vec::new(),
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
                    chunk.push(side, now, before.clone());
                }
            }
        }
        for (side, ids) in [(Side::Finops, finops_ids), (Side::Dataverse, dataverse_ids)] {
            for row in tx.get_rows(&ids)? {
                let data = row.data.clone();
                chunk.push(side, Some(row), data);
            }
        }
        let table = write::table(schema, Side::Dataverse, &cmap.map.dataverse)?;
        let paths = dataverse_paths(schema, &cmap.map);
        chunk.dataverse_rows = std::mem::take(&mut chunk.dataverse_rows)
            .iter()
            .map(|r| lookup::expand(tx, schema, table, r, &paths))
            .collect::<Result<Vec<Row>, _>>()?;
        Ok(chunk)
    }

    fn push(&mut self, side: Side, now: Option<StoredRow>, data: Row) {
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
    pub fn stored(&self, side: Side, index: usize) -> Option<&StoredRow> {
        match side {
            Side::Finops => self.finops.get(index)?.as_ref(),
            Side::Dataverse => self.dataverse.get(index)?.as_ref(),
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
