//! The catalog: the schema, the integration keys and the table maps with their statuses — what every
//! write consults. It lives in the database; each server keeps a parsed copy and reloads it when the
//! stored catalog version moves, so several servers on one PostgreSQL database stay in step.

use std::sync::{Arc, RwLock};

use dualwrite_core::error_code::ErrorCode;
use dualwrite_core::filter::Filter;
use dualwrite_core::integration_key::{EffectiveKey, IntegrationKeys};
use dualwrite_core::lifecycle::MapStatus;
use dualwrite_core::row_mapping::RowMapper;
use dualwrite_core::schema::{Schema, Side};
use dualwrite_core::table_map::TableMap;
use serde_json::{json, Map, Value};

use crate::store::{StoreError, Tx, CATALOG_VERSION};
use crate::sync_error::SyncError;

const SCHEMA: &str = "schema";
const KEYS: &str = "integration_keys";

/// One map as the runtime sees it.
#[derive(Debug, Clone)]
pub struct CatalogMap {
    pub id: i64,
    pub map: TableMap,
    pub status: MapStatus,
    /// The source filter of each side, parsed; `None` where the map has none or it does not parse
    /// (a map with a broken filter cannot run: validation refuses it).
    pub finops_filter: Option<Filter>,
    pub dataverse_filter: Option<Filter>,
}

impl CatalogMap {
    /// The map compiled for mapping rows, with the integration key it pairs them by; a map that does
    /// not compile (its validation reports why) is refused as invalid.
    pub fn compile<'a>(
        &'a self,
        catalog: &Catalog,
        schema: &'a Schema,
    ) -> Result<(RowMapper<'a>, EffectiveKey), SyncError> {
        let invalid = |e: &dyn std::fmt::Display| SyncError::invalid(ErrorCode::MapInvalid, e.to_string());
        let mapper = RowMapper::new(schema, &self.map).map_err(|e| invalid(&e))?;
        let key = catalog.keys.effective(schema, &self.map.dataverse).map_err(|e| invalid(&e))?;
        Ok((mapper, key))
    }

    pub fn filter(&self, side: Side) -> Option<&Filter> {
        match side {
            Side::Finops => self.finops_filter.as_ref(),
            Side::Dataverse => self.dataverse_filter.as_ref(),
        }
    }
}

/// A consistent snapshot of the catalog.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    pub version: i64,
    pub schema: Option<Schema>,
    pub keys: IntegrationKeys,
    pub maps: Vec<CatalogMap>,
}

impl Catalog {
    /// The schema, or a conflict saying there is none yet.
    pub fn require_schema(&self) -> Result<&Schema, SyncError> {
        self.schema.as_ref().ok_or_else(|| {
            SyncError::conflict(
                ErrorCode::NoSchema,
                "no schema has been loaded yet; PUT /api/v1/schema first",
            )
        })
    }

    pub fn map(&self, id: i64) -> Option<&CatalogMap> {
        self.maps.iter().find(|m| m.id == id)
    }

    /// The maps other than `id`, for validation's view of related maps.
    pub fn other_maps(&self, id: Option<i64>) -> Vec<TableMap> {
        self.maps.iter().filter(|m| Some(m.id) != id).map(|m| m.map.clone()).collect()
    }

    /// The maps whose table on `side` is `table` and whose status is not `not_running`.
    pub fn active_maps_on<'c>(
        &'c self,
        side: Side,
        table: &'c str,
    ) -> impl Iterator<Item = &'c CatalogMap> + 'c {
        let schema = self.schema.as_ref();
        self.maps.iter().filter(move |m| {
            m.status != MapStatus::NotRunning
                && schema.and_then(|s| s.table(side, m.map.table(side))).is_some_and(|t| t.name == table)
        })
    }
}

/// The server's parsed copy of the catalog: always one that was committed. A transaction publishes
/// what it loaded only when it had written nothing yet (a read-only snapshot never has); one that had
/// loads for itself when its version differs (it may see its own change, which may still roll back
/// and leave its version number to another server's different change). So a stream of client
/// writes loads a changed catalog once, and every server's worker reads a snapshot at least every
/// idle interval, so the copy follows a change within moments.
#[derive(Default)]
pub struct CatalogCache {
    current: RwLock<Arc<Catalog>>,
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("stored {what}: {e}"))
}

impl CatalogCache {
    /// The catalog as of this transaction, reloaded if another transaction (or this one) changed it.
    pub fn get(&self, tx: &mut dyn Tx) -> Result<Arc<Catalog>, StoreError> {
        let version = tx.catalog_version()?;
        if let Ok(current) = self.current.read() {
            if current.version == version {
                return Ok(current.clone());
            }
        }
        let fresh = Arc::new(load(tx, version)?);
        // A catalog that this transaction changed may yet roll back: it is kept only when everything
        // it was read from was committed.
        if !tx.has_written()? {
            if let Ok(mut current) = self.current.write() {
                if current.version < fresh.version {
                    *current = fresh.clone();
                }
            }
        }
        Ok(fresh)
    }
}

/// Marks the catalog changed; every change to the schema, keys, maps or statuses calls this in the
/// same transaction.
pub fn bump(tx: &mut dyn Tx) -> Result<(), StoreError> {
    let next = tx.catalog_version()? + 1;
    tx.put_document(CATALOG_VERSION, &json!(next))
}

fn load(tx: &mut dyn Tx, version: i64) -> Result<Catalog, StoreError> {
    let schema = match tx.get_document(SCHEMA)? {
        Some(doc) => Some(Schema::from_value(&doc).map_err(|e| corrupt("schema", e))?),
        None => None,
    };
    let keys = match tx.get_document(KEYS)? {
        Some(doc) => keys_from_value(&doc).map_err(|e| corrupt("integration keys", e))?,
        None => IntegrationKeys::new(),
    };
    let mut maps = Vec::new();
    for stored in tx.list_maps()? {
        let map = TableMap::from_value(&stored.body).map_err(|e| corrupt("map", e))?;
        let finops_filter = map.filter(Side::Finops).and_then(|f| Filter::query_range(f).ok());
        let dataverse_filter = map.filter(Side::Dataverse).and_then(|f| Filter::odata(f).ok());
        maps.push(CatalogMap { id: stored.id, map, status: stored.status, finops_filter, dataverse_filter });
    }
    Ok(Catalog { version, schema, keys, maps })
}

pub fn put_schema(tx: &mut dyn Tx, schema: &Schema) -> Result<(), StoreError> {
    tx.put_document(SCHEMA, &schema.to_value())?;
    bump(tx)
}

pub fn put_keys(tx: &mut dyn Tx, keys: &IntegrationKeys) -> Result<(), StoreError> {
    tx.put_document(KEYS, &keys_to_value(keys))?;
    bump(tx)
}

/// `{table: {"fields": [...], "manual": bool}}`.
fn keys_to_value(keys: &IntegrationKeys) -> Value {
    let mut out = Map::new();
    for (table, key) in keys.iter() {
        out.insert(table.to_owned(), json!({"fields": key.fields, "manual": key.manual}));
    }
    Value::Object(out)
}

fn keys_from_value(value: &Value) -> Result<IntegrationKeys, String> {
    let mut keys = IntegrationKeys::new();
    let Value::Object(tables) = value else { return Err("not an object".into()) };
    for (table, key) in tables {
        let fields: Vec<String> = serde_json::from_value(key["fields"].clone()).map_err(|e| e.to_string())?;
        if key["manual"].as_bool().unwrap_or(true) {
            keys.set_manual(table, fields);
        } else {
            keys.set_generated(table, fields);
        }
    }
    Ok(keys)
}
