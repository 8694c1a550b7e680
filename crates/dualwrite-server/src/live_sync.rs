//! Live sync: for every write to a table of a running map whose source filter matches, the twin write
//! on the other side, found by integration key, in the same database transaction. Any twin failure
//! fails the caller's whole transaction.
//!
//! Twin writes do not sync again (no echo), only changes to mapped fields sync (an update writes to
//! an existing twin only the fields it changed, the same whether it is live, replayed or retried),
//! and a change to the integration-key value of a paired row is refused, by every map on the table
//! that is not `not_running` (queueing ones included) and whatever the directions of its fields: it
//! would break the pairing.

use std::collections::HashSet;

use dualwrite_core::error_code::ErrorCode;
use dualwrite_core::integration_key::{EffectiveKey, KeyValue};
use dualwrite_core::lifecycle::MapStatus;
use dualwrite_core::row_mapping::{changed_mapped_fields, dataverse_paths, RowError, RowMapper};
use dualwrite_core::schema::{Row, Schema, Side, Table, DATA_AREA_ID};
use serde_json::{json, Value};

use crate::catalog::{Catalog, CatalogMap};
use crate::environment::lookup;
use crate::environment::write::{self, Applied, Written};
use crate::store::{EventKind, StoredRow, Tx};
use crate::sync_error::SyncError;

/// One twin write made by a map.
#[derive(Debug, Clone)]
pub struct TwinWrite {
    pub map_id: i64,
    pub map: String,
    pub written: Written,
    /// The integration-key value that paired the rows.
    pub key: KeyValue,
}

/// The twin writes `written` causes, applied in `tx`; for a map that is paused, initializing or
/// resuming, the change is queued instead, in the same transaction.
pub fn sync(tx: &mut dyn Tx, catalog: &Catalog, written: &Written) -> Result<Vec<TwinWrite>, SyncError> {
    let Some(schema) = catalog.schema.as_ref() else { return Ok(Vec::new()) };
    let mut twins = Vec::new();
    for cmap in catalog.active_maps_on(written.side, &written.table) {
        let reads = cmap.map.fields.iter().any(|f| f.direction.reads(written.side));
        if reads && cmap.status == MapStatus::Running {
            // The twin write refuses a change of the integration key itself.
            twins.extend(twin_write(tx, catalog, schema, cmap, written, None)?);
            continue;
        }
        // Every map that pairs rows of this table (whatever its fields' directions, and while it
        // queues too) keeps its pairs: a change of a paired row's integration key is refused.
        if written.applied == Applied::Updated {
            Pairing::new(tx, catalog, schema, cmap, written.side)
                .and_then(|mut p| p.refuse_key_change(written))
                .map_err(|e| in_map(e, cmap, written))?;
        }
        if reads && cmap.status.queues_writes() {
            crate::queue::enqueue(tx, catalog, schema, cmap, written)?;
        }
    }
    Ok(twins)
}

/// `e` naming the map and the operation it happened in.
fn in_map(e: SyncError, cmap: &CatalogMap, written: &Written) -> SyncError {
    let what = format!(
        "map `{}`: {} on {} {}",
        cmap.map.name,
        written.applied.as_str(),
        written.side,
        written.table
    );
    e.context(&what).with("map", cmap.map.name.clone()).with("map_id", cmap.id.to_string())
}

/// Makes the twin write of `written` for one map and records it in the audit trail (with the queued
/// change it replays, if any); an error names the map and the operation.
pub fn twin_write(
    tx: &mut dyn Tx,
    catalog: &Catalog,
    schema: &Schema,
    cmap: &CatalogMap,
    written: &Written,
    replay: Option<&Replay>,
) -> Result<Option<TwinWrite>, SyncError> {
    let replay_of = replay.map(|r| r.seq);
    let twin = available(tx, written.side.other())
        .and_then(|()| Pairing::new(tx, catalog, schema, cmap, written.side))
        .map(|p| p.leaving(replay.map(|r| r.leave.clone()).unwrap_or_default()))
        .and_then(|p| p.sync(written))
        .map_err(|e| in_map(e, cmap, written))?;
    if let Some(twin) = &twin {
        tx.record_event(
            EventKind::TwinWrite,
            Some(cmap.id),
            &json!({
                "map": cmap.map.name,
                "source": {"side": written.side, "table": written.table, "op": written.applied.as_str()},
                "side": twin.written.side,
                "table": twin.written.table,
                "op": twin.written.applied.as_str(),
                "key": twin.key.parts(),
                "values": twin.written.after,
                "replay_of": replay_of,
            }),
        )?;
    }
    Ok(twin)
}

/// Looks up together the twins of `writes` for one map (see [`Pairing::prefetch_twins`]), where the
/// store's reads cost round trips; elsewhere each twin is read when it is needed.
pub fn prefetch_twins(
    tx: &mut dyn Tx,
    catalog: &Catalog,
    cmap: &CatalogMap,
    writes: &[&Written],
) -> Result<(), SyncError> {
    if !tx.reads_in_round_trips() {
        return Ok(());
    }
    let schema = catalog.require_schema()?;
    for side in [Side::Finops, Side::Dataverse] {
        let from_side: Vec<&Written> = writes.iter().copied().filter(|w| w.side == side).collect();
        if !from_side.is_empty() {
            Pairing::new(tx, catalog, schema, cmap, side)?.prefetch_twins(&from_side)?;
        }
    }
    Ok(())
}

/// `Ok` when `side` takes writes; [`SyncError::Unavailable`] naming it when it is marked unavailable.
pub fn available(tx: &mut dyn Tx, side: Side) -> Result<(), SyncError> {
    if tx.is_available(side)? {
        return Ok(());
    }
    Err(SyncError::unavailable(
        ErrorCode::EnvironmentUnavailable,
        format!("the {side} environment is unavailable (maintenance); try again once it is back"),
    )
    .with("side", side.as_str()))
}

/// A queued change being replayed: its number, and the target columns it leaves alone because a
/// later change of the same key, queued on the target side, rewrites them (lower case, a Dataverse
/// lookup by its column): the newer write wins on both sides.
pub struct Replay {
    pub seq: i64,
    pub leave: HashSet<String>,
}

/// The name a target column is left alone by: lower case, a dotted lookup by its column.
fn column_root(column: &str) -> String {
    column.split('.').next().unwrap_or(column).to_lowercase()
}

/// One map, looking from one side at the other.
pub(crate) struct Pairing<'a> {
    tx: &'a mut dyn Tx,
    schema: &'a Schema,
    cmap: &'a CatalogMap,
    mapper: RowMapper<'a>,
    key: EffectiveKey,
    from: Side,
    source: &'a Table,
    target: &'a Table,
    paths: Vec<String>,
    /// Target columns this write leaves alone (see [`Replay`]).
    leave: HashSet<String>,
}

impl<'a> Pairing<'a> {
    pub(crate) fn new(
        tx: &'a mut dyn Tx,
        catalog: &'a Catalog,
        schema: &'a Schema,
        cmap: &'a CatalogMap,
        from: Side,
    ) -> Result<Pairing<'a>, SyncError> {
        let (mapper, key) = cmap.compile(catalog, schema)?;
        let source = write::table(schema, from, cmap.map.table(from))?;
        let target = write::table(schema, from.other(), cmap.map.table(from.other()))?;
        let paths = dataverse_paths(schema, &cmap.map);
        Ok(Pairing { tx, schema, cmap, mapper, key, from, source, target, paths, leave: HashSet::new() })
    }

    /// This pairing, writing nothing to the target columns in `leave`.
    fn leaving(mut self, leave: HashSet<String>) -> Pairing<'a> {
        self.leave = leave;
        self
    }

    /// `row` without the target columns this write leaves alone.
    fn left_alone(&self, mut row: Row) -> Row {
        if !self.leave.is_empty() {
            row.retain(|column, _| !self.leave.contains(&column_root(column)));
        }
        row
    }

    /// A source row as core reads it: Dataverse rows in dotted form.
    pub(crate) fn readable(&mut self, row: &Row) -> Result<Row, SyncError> {
        let row = row.clone();
        match self.from {
            Side::Finops => Ok(row),
            Side::Dataverse => Ok(lookup::expand(self.tx, self.schema, self.source, row, &self.paths)?),
        }
    }

    pub(crate) fn key_value(&self, row: &Row) -> Result<KeyValue, SyncError> {
        self.mapper.key_value(&self.key, self.from, row).map_err(|e| {
            SyncError::invalid(
                ErrorCode::IntegrationKeyMissing,
                format!("the row has no integration-key value: {e}"),
            )
        })
    }

    pub(crate) fn sync(mut self, written: &Written) -> Result<Option<TwinWrite>, SyncError> {
        let before = written.before.as_ref().map(|r| self.readable(r)).transpose()?;
        let after = written.after.as_ref().map(|r| self.readable(r)).transpose()?;
        if let (Some(before), Some(after)) = (&before, &after) {
            self.refuse_changed_key(before, after)?;
        }
        let Some(subject) = after.as_ref().or(before.as_ref()) else { return Ok(None) };
        if self.cmap.filter(self.from).is_some_and(|f| !f.matches(subject)) {
            return Ok(None);
        }
        match (written.applied, before, after) {
            (Applied::Deleted, Some(before), _) => {
                let key = self.key_value(&before)?;
                let Some(twin) = self.find_twin(&key)? else { return Ok(None) };
                let written = write::delete(self.tx, self.target, twin)?;
                Ok(Some(self.twin(written, key)))
            }
            (Applied::Updated, Some(before), Some(after)) => {
                if changed_mapped_fields(&self.cmap.map, self.from, &before, &after).is_empty() {
                    return Ok(None);
                }
                let key = self.key_value(&after)?;
                // An existing twin gets only what this update changed, so that a change applied late
                // (replayed, retried) never undoes newer values of the fields it did not touch.
                let written = match self.find_twin(&key)? {
                    Some(twin) => {
                        let changes = mapped(self.mapper.map_changes(self.from, &before, &after))?;
                        let changes = self.left_alone(changes);
                        write::update(self.tx, self.schema, self.target, twin, &changes)?
                    }
                    None => {
                        let row = mapped(self.mapper.map_row(self.from, &after))?;
                        write::insert(self.tx, self.schema, self.target, &row)?
                    }
                };
                Ok(Some(self.twin(written, key)))
            }
            (Applied::Inserted, _, Some(after)) => {
                let key = self.key_value(&after)?;
                self.upsert_twin(&after, key).map(Some)
            }
            _ => Ok(None),
        }
    }

    /// Refuses `written` when it is an update that changes the integration-key value of a paired row
    /// (one with a twin, or with changes queued under its key that will find or make one): the twin
    /// would no longer be found, and the next write would make a second one. Holds whether or not the
    /// map syncs this side's fields, and whatever its filter says.
    pub(crate) fn refuse_key_change(&mut self, written: &Written) -> Result<(), SyncError> {
        let (Applied::Updated, Some(before), Some(after)) =
            (written.applied, &written.before, &written.after)
        else {
            return Ok(());
        };
        let before = self.readable(before)?;
        let after = self.readable(after)?;
        self.refuse_changed_key(&before, &after)
    }

    /// [`Pairing::refuse_key_change`] for rows already in readable form.
    fn refuse_changed_key(&mut self, before: &Row, after: &Row) -> Result<(), SyncError> {
        let Ok(old) = self.key_value(before) else { return Ok(()) };
        let new = self.key_value(after).ok();
        if new.as_ref() == Some(&old) {
            return Ok(());
        }
        let paired =
            self.tx.queue_len(self.cmap.id, Some(&old.to_string()))? > 0 || self.find_twin(&old)?.is_some();
        if !paired {
            return Ok(());
        }
        let new = new.map_or_else(|| "no value".to_owned(), |k| k.to_string());
        Err(SyncError::conflict(
            ErrorCode::IntegrationKeyChange,
            format!(
                "the integration key ({}) would change from {old} to {new}; that would break the pairing with its twin, so it is refused",
                self.key.fields.join(", ")
            ),
        ))
    }

    fn twin(&self, written: Written, key: KeyValue) -> TwinWrite {
        TwinWrite { map_id: self.cmap.id, map: self.cmap.map.name.clone(), written, key }
    }

    fn upsert_twin(&mut self, source: &Row, key: KeyValue) -> Result<TwinWrite, SyncError> {
        let mapped = mapped(self.mapper.map_row(self.from, source))?;
        let written = match self.find_twin(&key)? {
            Some(twin) => {
                let changes = self.left_alone(mapped);
                write::update(self.tx, self.schema, self.target, twin, &changes)?
            }
            None => write::insert(self.tx, self.schema, self.target, &mapped)?,
        };
        Ok(self.twin(written, key))
    }

    /// The row on the other side whose integration-key value is `key`.
    pub(crate) fn find_twin(&mut self, key: &KeyValue) -> Result<Option<StoredRow>, SyncError> {
        match self.twin_key(key) {
            Some(by) => write::find(self.tx, self.schema, self.target, &by),
            None => Ok(None),
        }
    }

    /// Looks up together the twins of the rows `writes` wrote on this side (see [`write::prefetch`]),
    /// so that syncing each of them finds its twin without asking the database again. A write whose
    /// twin cannot be named is left to its own sync, which reports why.
    fn prefetch_twins(&mut self, writes: &[&Written]) -> Result<(), SyncError> {
        let mut keys = Vec::with_capacity(writes.len());
        for row in writes.iter().filter_map(|w| w.after.as_ref().or(w.before.as_ref())) {
            let Ok(readable) = self.readable(row) else { continue };
            if let Some(by) = self.key_value(&readable).ok().and_then(|key| self.twin_key(&key)) {
                keys.push(by);
            }
        }
        write::prefetch(self.tx, self.schema, self.target, &keys)
    }

    /// The key columns of the twin whose integration-key value is `key`, as [`write::find`] takes
    /// them; `None` when a part of the key is not mapped to the other side.
    fn twin_key(&self, key: &KeyValue) -> Option<Row> {
        let mut by = Row::new();
        for (field, part) in self.key.fields.iter().zip(key.parts()) {
            let column = match self.from.other() {
                Side::Dataverse => Some(field.clone()),
                Side::Finops if EffectiveKey::is_company_part(field) => Some(DATA_AREA_ID.to_owned()),
                Side::Finops => self
                    .cmap
                    .map
                    .fields
                    .iter()
                    .find(|f| f.dataverse.as_deref() == Some(field.as_str()))
                    .and_then(|f| f.finops.clone()),
            };
            by.insert(column?, Value::String(part.to_string()));
        }
        Some(by)
    }
}

/// A row mapped by core, or its problems as one error (the first problem's code, every message).
fn mapped(result: Result<Row, Vec<RowError>>) -> Result<Row, SyncError> {
    result.map_err(|errors| {
        let first = errors.first().and_then(|e| ErrorCode::parse(e.code)).unwrap_or(ErrorCode::InvalidValue);
        let message = errors.iter().map(|e| e.message.as_str()).collect::<Vec<_>>().join("; ");
        let problems: Vec<Value> = errors
            .iter()
            .map(|e| json!({"code": e.code, "field": e.field, "value": e.value, "message": e.message}))
            .collect();
        SyncError::invalid(first, message).with("problems", problems)
    })
}
