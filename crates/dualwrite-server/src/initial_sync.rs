//! Initial sync: copying a map's existing rows both ways before it goes live.
//!
//! Rows of both sides (all of them; the planner applies the filters) are indexed in memory by
//! integration key, then processed in chunks of keys, in key order: core plans each chunk (creates,
//! updates with the master's values, conflicts, problems) and the chunk's writes, its errors and the
//! execution's checkpoint commit in one transaction, so a crash resumes at the next chunk and nothing
//! is written twice. Self-references are written in a second pass, once every row exists. Writes that
//! arrive meanwhile queue, and are replayed once the copy is done; then the map is live.
//!
//! The outcome is the copy written on the rows as they were when the map began initializing, then
//! every queued change replayed in order. For a key with changes queued on a side, the copy is planned
//! on that side's row as it was before the first of them (its `before` image; no row for an insert),
//! writes go to the row as it is now, found by key (none: deleted meanwhile, nothing to write; one
//! inserted meanwhile is not created again), the columns a queued change changed keep its value, and
//! the queued changes' images take the copy's values in the other columns (`write_under_queued`), so
//! their replay carries the copy instead of the values it replaced. Leaving such keys to the replay
//! alone would not converge: a column mapped one way, or one where the master's value differs and no
//! change touched it, would stay different on the two sides.

use std::collections::HashSet;

use dualwrite_core::error_code::ErrorCode;
use dualwrite_core::initial_sync::Planner;
use dualwrite_core::integration_key::{DisplayKey, KeyValue};
use dualwrite_core::lifecycle::{Action, MapStatus};
use dualwrite_core::schema::{Row, Schema, Side, Table};
use serde_json::{json, Value};

use crate::catalog::{Catalog, CatalogCache, CatalogMap};
use crate::environment::write;
use crate::lease::Owner;
use crate::lifecycle;
use crate::live_sync::Pairing;
use crate::pace::Pace;
use crate::store::{EventKind, ExecutionError, QueuedChange, Store, StoredRow, Tx};
use crate::sync_error::SyncError;
use crate::twins::{Chunk, Queued, TwinIndex};

/// Keys planned and written per transaction, at most (the worker takes fewer while its steps lose
/// races with client writes: see [`Pace`]).
pub const CHUNK: usize = 1000;

pub use dualwrite_core::api::{Counts, Execution, Phase, SideCounts};

fn corrupt(e: impl std::fmt::Display) -> SyncError {
    SyncError::internal(format_args!("stored execution: {e}"))
}

/// The newest execution of a map.
pub fn latest(tx: &mut dyn Tx, map_id: i64) -> Result<Option<(i64, Execution)>, SyncError> {
    tx.latest_execution(map_id)?
        .map(|(id, body)| Ok((id, serde_json::from_value(body).map_err(corrupt)?)))
        .transpose()
}

fn save(tx: &mut dyn Tx, id: i64, execution: &Execution) -> Result<(), SyncError> {
    tx.update_execution(id, &serde_json::to_value(execution).map_err(corrupt)?)?;
    Ok(())
}

/// Starts an initial sync of `cmap` (which the caller moves to `initializing`).
pub fn start(tx: &mut dyn Tx, cmap: &CatalogMap, execution: &Execution) -> Result<i64, SyncError> {
    let id = tx.insert_execution(cmap.id, &serde_json::to_value(execution).map_err(corrupt)?)?;
    tx.record_event(
        EventKind::InitialSync,
        Some(cmap.id),
        &json!({"map": cmap.map.name, "execution": id, "status": "running", "master": execution.master}),
    )?;
    Ok(id)
}

/// Whether the map's copy is done and its queue is being replayed.
pub fn is_draining(tx: &mut dyn Tx, map_id: i64) -> Result<bool, SyncError> {
    Ok(latest(tx, map_id)?.is_some_and(|(_, e)| e.phase == Phase::Draining))
}

/// Marks the map's execution completed (its queue is empty; the map goes live).
pub fn finish(tx: &mut dyn Tx, map_id: i64) -> Result<(), SyncError> {
    if let Some((id, mut execution)) = latest(tx, map_id)? {
        execution.phase = Phase::Done;
        execution.status = "completed".into();
        save(tx, id, &execution)?;
        tx.record_event(
            EventKind::InitialSync,
            Some(map_id),
            &json!({"execution": id, "status": "completed", "counts": execution.counts}),
        )?;
    }
    Ok(())
}

/// Skips the initial sync of a map that is initializing (or whose last one failed): what was copied
/// stays, and the map goes live once the changes queued meanwhile are replayed (those of a failed one
/// are catch-up errors already, to retry once the map runs).
pub fn skip(tx: &mut dyn Tx, cmap: &CatalogMap) -> Result<(), SyncError> {
    match cmap.status {
        MapStatus::Initializing => {}
        MapStatus::NotRunning => {
            lifecycle::act(tx, cmap, Action::Run { initial_sync: true })?;
        }
        other => {
            return Err(SyncError::conflict(
                ErrorCode::InvalidState,
                format!(
                    "map `{}` is {other}; only an initial sync that runs or failed can be skipped",
                    cmap.map.name
                ),
            ))
        }
    }
    let (id, mut execution) = match latest(tx, cmap.id)? {
        Some(found) => found,
        None => {
            let execution = Execution::new(Side::Dataverse, false, None);
            (start(tx, cmap, &execution)?, execution)
        }
    };
    execution.status = "skipped".into();
    execution.phase = Phase::Draining;
    save(tx, id, &execution)?;
    tx.record_event(
        EventKind::InitialSync,
        Some(cmap.id),
        &json!({"map": cmap.map.name, "execution": id, "status": "skipped"}),
    )?;
    Ok(())
}

/// The rows of one map, indexed by integration key, kept in memory between chunks.
pub struct Job {
    pub map_id: i64,
    pub execution_id: i64,
    index: TwinIndex,
    /// Keys a rerun without errors leaves alone: those that failed before.
    skip: HashSet<String>,
}

/// What one step of a job did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// A chunk was written; more follow.
    Progressed,
    /// The copy is over (the map drains its queue, or failed back to not running).
    Finished,
    /// Nothing to do for this job now (another server advanced it, or the map left `initializing`).
    Idle,
    /// An environment is unavailable: the copy waits for it, and the job stays as it is.
    Waiting,
}

/// Whether both environments take writes (an initial sync copies only then).
pub fn sides_available(tx: &mut dyn Tx) -> Result<bool, SyncError> {
    for side in [Side::Finops, Side::Dataverse] {
        if !tx.is_available(side)? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The schema and map a job works on, checked.
fn context(catalog: &Catalog, map_id: i64) -> Result<Option<(&Schema, &CatalogMap)>, SyncError> {
    let Some(cmap) = catalog.map(map_id).filter(|m| m.status == MapStatus::Initializing) else {
        return Ok(None);
    };
    Ok(Some((catalog.require_schema()?, cmap)))
}

impl Job {
    /// Indexes both sides' rows of the map (a read-only pass).
    pub fn build(
        store: &Store,
        cache: &CatalogCache,
        map_id: i64,
        execution_id: i64,
    ) -> Result<Job, SyncError> {
        store.read(|tx| {
            let catalog = cache.get(tx)?;
            let Some((schema, cmap)) = context(&catalog, map_id)? else {
                return Ok(Job { map_id, execution_id, index: TwinIndex::empty(), skip: HashSet::new() });
            };
            let skip = match latest(tx, map_id)? {
                Some((_, Execution { retry_errors: false, previous: Some(previous), .. })) => {
                    failed_keys(tx, previous)?
                }
                _ => HashSet::new(),
            };
            let index = TwinIndex::build(tx, &catalog, schema, cmap)?;
            Ok(Job { map_id, execution_id, index, skip })
        })
    }

    /// Does the next piece of work: one chunk of the copy, or one page of deferred references, of as
    /// many rows as `pace` says, if `owner` holds the map's lease (else [`Step::Idle`]); each step is
    /// recorded as a `copied` event naming the owner and how many rows were done after it.
    pub fn step(
        &self,
        store: &Store,
        cache: &CatalogCache,
        owner: &Owner,
        pace: &Pace,
    ) -> Result<Step, SyncError> {
        pace.write(store, |tx, size| {
            let catalog = cache.get(tx)?;
            let Some((schema, cmap)) = context(&catalog, self.map_id)? else { return Ok(Step::Idle) };
            let Some((id, mut execution)) = latest(tx, self.map_id)? else { return Ok(Step::Idle) };
            if id != self.execution_id {
                return Ok(Step::Idle);
            }
            // An environment under maintenance takes no writes: the copy waits for it.
            if !sides_available(tx)? {
                return Ok(Step::Waiting);
            }
            if matches!(execution.phase, Phase::Draining | Phase::Done) {
                return Ok(Step::Idle);
            }
            if !owner.hold(tx, cmap.id, &cmap.map.name)? {
                return Ok(Step::Idle);
            }
            let (phase, before) = (execution.phase, execution.done);
            match phase {
                Phase::Copy => self.copy_chunk(tx, &catalog, schema, cmap, &mut execution, size)?,
                Phase::References => references_page(tx, &catalog, schema, cmap, id, &mut execution, size)?,
                Phase::Draining | Phase::Done => return Ok(Step::Idle),
            }
            owner.hold(tx, cmap.id, &cmap.map.name)?;
            tx.record_event(
                EventKind::Copied,
                Some(cmap.id),
                &json!({"map": cmap.map.name, "owner": owner.id(), "execution": id, "phase": phase, "rows": execution.done - before, "done": execution.done, "deferred_cursor": execution.deferred_cursor}),
            )?;
            let finished = execution.phase == Phase::Draining || execution.status == "failed";
            save(tx, id, &execution)?;
            if execution.status == "failed" {
                lifecycle::act(tx, cmap, Action::InitialSyncFailed)?;
                tx.record_event(
                    EventKind::InitialSync,
                    Some(cmap.id),
                    &json!({"map": cmap.map.name, "execution": id, "status": "failed", "counts": execution.counts}),
                )?;
            }
            Ok(if finished { Step::Finished } else { Step::Progressed })
        })
    }

    fn copy_chunk(
        &self,
        tx: &mut dyn Tx,
        catalog: &Catalog,
        schema: &Schema,
        cmap: &CatalogMap,
        execution: &mut Execution,
        size: usize,
    ) -> Result<(), SyncError> {
        execution.total = self.index.len() as u64;
        let start = execution.cursor.clone();
        let mut chunk = self.index.after(start.as_ref(), size)?;
        let Some((last, _)) = chunk.last() else {
            execution.phase = Phase::References;
            return Ok(());
        };
        execution.cursor = Some(last.clone());
        execution.done += chunk.len() as u64;
        chunk.retain(|(k, _)| !self.skip.contains(k));
        // Changes queued for these keys since the map began initializing stay queued and replay once
        // the copy is done; the copy is planned on the rows as they were before them (see
        // `write_under_queued`).
        let queued = Queued::read(tx, self.map_id, &chunk)?;
        let rows = Chunk::read(tx, catalog, schema, cmap, &chunk, &queued)?;
        let planner = Planner::new(schema, &catalog.keys, &cmap.map, execution.master)
            .map_err(|e| SyncError::invalid(ErrorCode::MapInvalid, e.to_string()))?;
        let plan = planner.plan(&rows.finops_rows, &rows.dataverse_rows);
        let company = |side: Side, index: usize| rows.company(side, index);
        for side in [Side::Finops, Side::Dataverse] {
            for index in 0..rows.len(side) {
                execution.count(side, company(side, index).as_deref(), |c| c.read += 1);
            }
        }
        execution.counts.equal += plan.equal.len() as u64;
        execution.counts.conflicts += plan.conflicts.len() as u64;
        let deferred = Deferred::of(schema, cmap);
        for problem in &plan.problems {
            let key = problem.key.as_ref().map_or_else(|| DisplayKey::NO_KEY.to_owned(), ToString::to_string);
            let shown = rows.display_key(&planner, problem.side, problem.index);
            // The planner writes each problem's code from `ErrorCode`, so it always reads back.
            let code = ErrorCode::parse(&problem.code).unwrap_or(ErrorCode::Internal);
            tx.add_execution_error(
                self.execution_id,
                &failure(problem.side, key, shown, code, problem.message.clone()),
            )?;
            execution.count(problem.side, company(problem.side, problem.index).as_deref(), |c| c.failed += 1);
        }
        let mut writes: Vec<RowWrite> = Vec::with_capacity(plan.creates.len() + plan.updates.len());
        for create in &plan.creates {
            // A row of this key was written on that side since (its insert is queued, or it was
            // inserted and deleted again): what the user wrote stands, and replays to the other side.
            if rows.is_queued(create.side, &create.key.to_string()) {
                continue;
            }
            writes.push(RowWrite {
                table: write::table(schema, create.side, cmap.map.table(create.side))?,
                key: &create.key,
                row: &create.row,
                existing: None,
                queued: Vec::new(),
                company: company(create.side.other(), create.source_index),
                shown: rows.display_key(&planner, create.side.other(), create.source_index),
            });
        }
        for update in &plan.updates {
            // No row now: it was deleted since, and its queued delete replays.
            let Some(existing) = rows.stored(update.side, update.index) else { continue };
            writes.push(RowWrite {
                table: write::table(schema, update.side, cmap.map.table(update.side))?,
                key: &update.key,
                row: &update.fields,
                existing: Some(existing),
                queued: queued.on(&update.key.to_string(), update.side),
                company: company(update.side, update.index),
                shown: rows.display_key(&planner, update.side.other(), update.source_index),
            });
        }
        // The chunk's writes go in under one savepoint, each side's creates as one set. If any is
        // refused, they are all undone and made again one by one, each under a savepoint of its own,
        // so that the refused ones are recorded and the rest kept.
        let perform = |tx: &mut dyn Tx, w: &RowWrite| w.perform(tx, schema, &deferred, self.execution_id);
        let all = |tx: &mut dyn Tx| -> Result<(), SyncError> {
            for side in [Side::Finops, Side::Dataverse] {
                let creates: Vec<&RowWrite> =
                    writes.iter().filter(|w| w.existing.is_none() && w.table.side == side).collect();
                let Some(first) = creates.first() else { continue };
                let rows = creates
                    .iter()
                    .map(|w| w.settled(tx, &deferred, self.execution_id))
                    .collect::<Result<Vec<_>, _>>()?;
                write::insert_all(tx, schema, first.table, &rows)?;
            }
            writes.iter().filter(|w| w.existing.is_some()).try_for_each(|w| perform(tx, w))
        };
        tx.savepoint()?;
        let careful = match all(tx) {
            Ok(()) => {
                tx.release_savepoint()?;
                false
            }
            Err(SyncError::Internal(e)) => return Err(SyncError::Internal(e)),
            Err(_refused) => {
                tx.rollback_to_savepoint()?;
                true
            }
        };
        for w in &writes {
            let side = w.table.side;
            let outcome = if careful { attempt(tx, |tx| perform(tx, w))? } else { Ok(()) };
            match (outcome, w.existing.is_some()) {
                (Ok(()), false) => execution.count(side, w.company.as_deref(), |c| c.created += 1),
                (Ok(()), true) => execution.count(side, w.company.as_deref(), |c| c.updated += 1),
                (Err(e), updating) => {
                    let doing = if updating { "updating" } else { "creating" };
                    let message = format!("{doing} it on {side}: {}", message_of(&e));
                    let source = side.other();
                    tx.add_execution_error(
                        self.execution_id,
                        &failure(source, w.key.to_string(), w.shown.clone(), e.code(), message),
                    )?;
                    execution.count(source, w.company.as_deref(), |c| c.failed += 1);
                }
            }
        }
        Ok(())
    }
}

/// One row an initial sync writes: a create, or an update of `existing`.
struct RowWrite<'a> {
    table: &'a Table,
    key: &'a KeyValue,
    /// The row to create, or the fields to change.
    row: &'a Row,
    existing: Option<StoredRow>,
    /// The changes of this key on this side queued since the map began initializing.
    queued: Vec<&'a QueuedChange>,
    /// The company of the source row (created) or of the row changed (updated), for the counts.
    company: Option<String>,
    /// The source row's key as people read it, for its error.
    shown: DisplayKey,
}

impl RowWrite<'_> {
    /// The row or fields to write, its self-references set aside for the second pass.
    fn settled(&self, tx: &mut dyn Tx, deferred: &Deferred, execution_id: i64) -> Result<Row, SyncError> {
        deferred.set_aside(tx, execution_id, self.table.side, (self.key, &self.shown), self.row)
    }

    fn perform(
        &self,
        tx: &mut dyn Tx,
        schema: &Schema,
        deferred: &Deferred,
        execution_id: i64,
    ) -> Result<(), SyncError> {
        let row = self.settled(tx, deferred, execution_id)?;
        match &self.existing {
            None => write::insert(tx, schema, self.table, &row).map(drop),
            Some(existing) => write_under_queued(tx, schema, self.table, existing, &row, &self.queued),
        }
    }
}

/// Writes the copy's `fields` to `now`, a row whose changes since the map began initializing are
/// `queued` (often none: then it is a plain update), so that the outcome is the copy written first and those changes after it: the columns a
/// queued change changed keep the value it gave them, and the queued changes' images take the copy's
/// values in the columns they had not changed yet, so replaying them carries the copy to the other
/// side rather than the values it replaced.
///
/// The copy's values are taken in stored form by writing all of them and then putting back the
/// columns the queued changes own; a change that inserted the row owns all of it.
fn write_under_queued(
    tx: &mut dyn Tx,
    schema: &Schema,
    table: &Table,
    now: &StoredRow,
    fields: &Row,
    queued: &[&QueuedChange],
) -> Result<(), SyncError> {
    let written = write::update(tx, schema, table, now.clone(), fields)?;
    if queued.is_empty() {
        return Ok(());
    }
    let after = written.after.unwrap_or_default();
    let copied: Row = after
        .iter()
        .filter(|(column, value)| now.data.get(*column) != Some(*value))
        .map(|(column, value)| (column.clone(), value.clone()))
        .collect();
    if copied.is_empty() {
        return Ok(());
    }
    let mut owned = Owned::default();
    queued.iter().for_each(|change| owned.add(change));
    let restore: Row = copied
        .keys()
        .filter(|column| owned.has(column))
        .map(|column| (column.clone(), now.data.get(column).cloned().unwrap_or(Value::Null)))
        .collect();
    if !restore.is_empty() {
        write::update(tx, schema, table, StoredRow { id: now.id, data: after }, &restore)?;
    }
    let mut seen = Owned::default();
    for change in queued {
        let mut write = change.write.clone();
        seen.rebase(&mut write.before, &copied);
        seen.add(change);
        seen.rebase(&mut write.after, &copied);
        if write != change.write {
            tx.set_queued_write(change.seq, &write)?;
        }
    }
    Ok(())
}

/// The columns of a row that queued changes changed (all of them once one inserted the row).
#[derive(Default)]
struct Owned {
    all: bool,
    columns: HashSet<String>,
}

impl Owned {
    fn add(&mut self, change: &QueuedChange) {
        match (&change.write.before, &change.write.after) {
            (None, Some(_)) => self.all = true,
            (Some(before), Some(after)) => self.columns.extend(
                before.keys().chain(after.keys()).filter(|c| before.get(*c) != after.get(*c)).cloned(),
            ),
            _ => {}
        }
    }

    fn has(&self, column: &str) -> bool {
        self.all || self.columns.contains(column)
    }

    /// `image` with the `copied` values in the columns not owned.
    fn rebase(&self, image: &mut Option<Row>, copied: &Row) {
        let Some(image) = image else { return };
        for (column, value) in copied.iter().filter(|(c, _)| !self.has(c)) {
            image.insert(column.clone(), value.clone());
        }
    }
}

/// Runs one row's writes under a savepoint: a failure undoes them alone and is returned as a value.
fn attempt(
    tx: &mut dyn Tx,
    work: impl FnOnce(&mut dyn Tx) -> Result<(), SyncError>,
) -> Result<Result<(), SyncError>, SyncError> {
    tx.savepoint()?;
    match work(tx) {
        Ok(()) => {
            tx.release_savepoint()?;
            Ok(Ok(()))
        }
        Err(e @ SyncError::Internal(_)) => Err(e),
        Err(refused) => {
            tx.rollback_to_savepoint()?;
            Ok(Err(refused))
        }
    }
}

/// A row of `side` that could not be written: its normalised `key` (what a rerun skips by), how it is
/// shown, and why.
fn failure(side: Side, key: String, shown: DisplayKey, code: ErrorCode, message: String) -> ExecutionError {
    ExecutionError { id: 0, side, key, display_key: shown.key, company: shown.company, code, message }
}

fn message_of(e: &SyncError) -> String {
    e.refusal().map_or_else(|| "the server failed; see its log".into(), |r| r.message.clone())
}

/// The keys that failed in an execution (skipped by a rerun without errors).
fn failed_keys(tx: &mut dyn Tx, execution_id: i64) -> Result<HashSet<String>, SyncError> {
    let mut keys = HashSet::new();
    let mut after = 0;
    loop {
        let (_, page) = tx.execution_errors(execution_id, None, after, 0, 5000)?;
        let Some(last) = page.last() else { return Ok(keys) };
        after = last.id;
        keys.extend(page.into_iter().map(|e| e.key));
    }
}

/// The fields of a map that refer to its own table: written in a second pass, once every row exists.
pub(crate) struct Deferred {
    pub finops: Vec<String>,
    pub dataverse: Vec<String>,
}

impl Deferred {
    pub(crate) fn of(schema: &Schema, cmap: &CatalogMap) -> Deferred {
        let own = |side: Side| schema.table(side, cmap.map.table(side));
        let finops = cmap
            .map
            .fields
            .iter()
            .filter_map(|f| f.finops.as_deref())
            .filter(|name| {
                own(Side::Finops)
                    .and_then(|t| t.column(name))
                    .and_then(|c| c.references.as_ref())
                    .is_some_and(|r| {
                        own(Side::Finops).is_some_and(|t: &Table| t.name.eq_ignore_ascii_case(&r.table))
                    })
            })
            .map(str::to_owned)
            .collect();
        let dataverse = cmap
            .map
            .fields
            .iter()
            .filter_map(|f| f.dataverse.as_deref())
            .filter(|path| {
                own(Side::Dataverse)
                    .and_then(|t| schema.resolve_path(t, path).ok())
                    .and_then(|p| p.hops.first().map(|h| h.target.name == cmap.map.dataverse))
                    .unwrap_or(false)
            })
            .map(str::to_owned)
            .collect();
        Deferred { finops, dataverse }
    }

    /// The self-referencing fields written on `side`.
    pub(crate) fn on(&self, side: Side) -> &[String] {
        if side == Side::Finops {
            &self.finops
        } else {
            &self.dataverse
        }
    }

    /// `row` without its self-references; those with a value are stored for the second pass, with
    /// the row's key and how its source row is shown (for an error writing them).
    fn set_aside(
        &self,
        tx: &mut dyn Tx,
        execution_id: i64,
        side: Side,
        (key, shown): (&KeyValue, &DisplayKey),
        row: &Row,
    ) -> Result<Row, SyncError> {
        let names = self.on(side);
        if names.is_empty() {
            return Ok(row.clone());
        }
        let mut kept = row.clone();
        let mut later = Row::new();
        for name in names {
            if let Some(value) = kept.remove(name) {
                if !value.is_null() {
                    later.insert(name.clone(), value);
                }
            }
        }
        if !later.is_empty() {
            tx.add_deferred(
                execution_id,
                &json!({"side": side, "key": key.parts(), "shown": shown, "fields": later}),
            )?;
        }
        Ok(kept)
    }
}

/// Writes one page of `size` deferred self-references; moves on to draining after the last.
fn references_page(
    tx: &mut dyn Tx,
    catalog: &Catalog,
    schema: &Schema,
    cmap: &CatalogMap,
    execution_id: i64,
    execution: &mut Execution,
    size: usize,
) -> Result<(), SyncError> {
    let page = tx.deferred(execution_id, execution.deferred_cursor, size)?;
    let Some((last, _)) = page.last() else {
        execution.phase = if execution.counts.failed() > 0 { Phase::Done } else { Phase::Draining };
        if execution.counts.failed() > 0 {
            execution.status = "failed".into();
        }
        return Ok(());
    };
    execution.deferred_cursor = *last;
    let any_queued = tx.queue_len(cmap.id, None)? > 0;
    for (_, body) in page {
        let Some(side) = body["side"].as_str().and_then(|s| s.parse::<Side>().ok()) else { continue };
        let parts: Vec<String> = serde_json::from_value(body["key"].clone()).unwrap_or_default();
        let key = KeyValue::new(parts);
        // Set aside before it was kept: the normalised key.
        let shown = serde_json::from_value(body["shown"].clone())
            .unwrap_or_else(|_| DisplayKey { key: key.to_string(), company: None });
        let fields = body["fields"].as_object().cloned().unwrap_or_default();
        let table = write::table(schema, side, cmap.map.table(side))?;
        let found = Pairing::new(tx, catalog, schema, cmap, side.other())?.find_twin(&key)?;
        let Some(existing) = found else { continue };
        // Changes of this row queued meanwhile keep what they changed, as in the copy itself.
        let queued: Vec<QueuedChange> = if any_queued {
            tx.queued(cmap.id, Some(&key.to_string()), 0, usize::MAX >> 1)?
        } else {
            Vec::new()
        };
        let queued: Vec<QueuedChange> = queued.into_iter().filter(|c| c.write.side == side).collect();
        let queued: Vec<&QueuedChange> = queued.iter().collect();
        if let Err(e) = attempt(tx, |tx| write_under_queued(tx, schema, table, &existing, &fields, &queued))?
        {
            let message = format!("writing its reference to its own table on {side}: {}", message_of(&e));
            tx.add_execution_error(
                execution_id,
                &failure(side.other(), key.to_string(), shown, e.code(), message),
            )?;
            execution.count(side.other(), None, |c| c.failed += 1);
        }
    }
    Ok(())
}
