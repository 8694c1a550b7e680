//! Both sides' rows of a map grouped by integration key — twins side by side — and the rows of a run
//! of keys read as core's planner takes them. Initial sync copies chunk by chunk from this index;
//! preflight reads the same chunks without writing.

use std::collections::BTreeMap;
use std::ops::Bound;

use dualwrite_core::row_mapping::dataverse_paths;
use dualwrite_core::schema::{Row, Schema, Side, COMPANY_KEY_PATH, DATA_AREA_ID};
use serde_json::Value;

use crate::catalog::{Catalog, CatalogMap};
use crate::environment::{lookup, write};
use crate::error::ApiError;
use crate::store::{StoredRow, Tx};

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
    ) -> Result<TwinIndex, ApiError> {
        let (mapper, key) = cmap.compile(catalog, schema)?;
        let key_paths: Vec<String> = key.fields.iter().filter(|f| f.contains('.')).cloned().collect();
        let mut entries: BTreeMap<String, Twins> = BTreeMap::new();
        for side in [Side::Finops, Side::Dataverse] {
            let table = write::table(schema, side, cmap.map.table(side))?;
            let mut after = 0;
            loop {
                let page = tx.scan_rows(side.as_str(), &table.name, after, PAGE)?;
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

/// The rows of a run of keys: as stored, and as the planner reads them (Dataverse in dotted form).
pub struct Chunk {
    pub finops: Vec<StoredRow>,
    pub dataverse: Vec<StoredRow>,
    pub finops_rows: Vec<Row>,
    pub dataverse_rows: Vec<Row>,
}

impl Chunk {
    pub fn read(
        tx: &mut dyn Tx,
        schema: &Schema,
        cmap: &CatalogMap,
        keys: &[(&String, &Twins)],
    ) -> Result<Chunk, ApiError> {
        let finops_ids: Vec<i64> = keys.iter().flat_map(|(_, (f, _))| f.iter().copied()).collect();
        let dataverse_ids: Vec<i64> = keys.iter().flat_map(|(_, (_, d))| d.iter().copied()).collect();
        let finops = tx.get_rows(&finops_ids)?;
        let dataverse = tx.get_rows(&dataverse_ids)?;
        let table = write::table(schema, Side::Dataverse, &cmap.map.dataverse)?;
        let paths = dataverse_paths(schema, &cmap.map);
        let dataverse_rows = dataverse
            .iter()
            .map(|r| lookup::expand(tx, schema, table, &r.data, &paths))
            .collect::<Result<Vec<Row>, _>>()?;
        let finops_rows = finops.iter().map(|r| r.data.clone()).collect();
        Ok(Chunk { finops, dataverse, finops_rows, dataverse_rows })
    }

    /// The planner's row `index` of `side`.
    pub fn row(&self, side: Side, index: usize) -> Option<&Row> {
        match side {
            Side::Finops => self.finops_rows.get(index),
            Side::Dataverse => self.dataverse_rows.get(index),
        }
    }

    /// The stored row behind the planner's row `index` of `side`.
    pub fn stored(&self, side: Side, index: usize) -> Option<&StoredRow> {
        match side {
            Side::Finops => self.finops.get(index),
            Side::Dataverse => self.dataverse.get(index),
        }
    }

    /// How many rows of `side` the chunk holds.
    pub fn len(&self, side: Side) -> usize {
        match side {
            Side::Finops => self.finops_rows.len(),
            Side::Dataverse => self.dataverse_rows.len(),
        }
    }

    /// The company code of the planner's row `index` of `side`.
    pub fn company(&self, side: Side, index: usize) -> Option<String> {
        let column = if side == Side::Finops { DATA_AREA_ID } else { COMPANY_KEY_PATH };
        self.row(side, index)?.get(column).and_then(Value::as_str).map(str::to_owned)
    }
}
