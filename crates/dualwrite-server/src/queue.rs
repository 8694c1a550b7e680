//! The queue of a map that is paused, initializing or resuming: every change to its tables, appended
//! in commit order in the writer's own transaction, replayed in that order (Name A → B → C is three
//! twin writes, not one), and the catch-up errors of changes that did not apply. Nothing expires and
//! nothing is capped but by the disk.

use std::collections::{HashMap, HashSet};

use dualwrite_core::error_code::ErrorCode;
use dualwrite_core::lifecycle::{Action, MapStatus};
use dualwrite_core::related;
use dualwrite_core::schema::Schema;
use dualwrite_core::table_map::TableMap;
use serde_json::json;

use crate::catalog::{Catalog, CatalogCache, CatalogMap};
use crate::environment::write::{Applied, Written};
use crate::lease::Owner;
use crate::lifecycle;
use crate::live_sync::{self, Pairing, Replay, TwinWrite};
use crate::pace::Pace;
use crate::store::{EventKind, QueuedChange, Store, Tx};
use crate::sync_error::{Refusal, SyncError};

/// Why a change waits: the queued change `seq` of the same key did not apply.
fn behind_message(seq: i64) -> String {
    format!(
        "held behind queued change {seq} of the same key, which did not apply: a key's changes apply in order; \
         fix that one's cause and retry it (its later changes are retried with it)"
    )
}

/// The keys whose later changes must wait, each with the change they wait behind. Changes without an
/// integration-key value (`""`) are not tied to each other.
#[derive(Default)]
struct Held(HashMap<String, Option<i64>>);

impl Held {
    /// The change that `change` waits behind, if any: a catch-up error of its key (stored, or met
    /// earlier in this run).
    fn behind(
        &mut self,
        tx: &mut dyn Tx,
        map_id: i64,
        change: &QueuedChange,
    ) -> Result<Option<i64>, SyncError> {
        if change.key.is_empty() {
            return Ok(None);
        }
        if let Some(seq) = self.0.get(&change.key) {
            return Ok(*seq);
        }
        let seq = tx.first_catch_up_error_of_key(map_id, &change.key)?.filter(|&s| s < change.seq);
        self.0.insert(change.key.clone(), seq);
        Ok(seq)
    }

    /// From now on the key of `change` waits behind it (unless it already waits behind an earlier one).
    fn hold(&mut self, change: &QueuedChange) {
        if !change.key.is_empty() {
            self.0.entry(change.key.clone()).or_default().get_or_insert(change.seq);
        }
    }

    /// The key of `change` no longer waits (its change applied).
    fn release(&mut self, change: &QueuedChange) {
        if !change.key.is_empty() {
            self.0.insert(change.key.clone(), None);
        }
    }
}

/// Appends `written` to the queue of `cmap`, with its integration-key value for looking it up.
pub fn enqueue(
    tx: &mut dyn Tx,
    catalog: &Catalog,
    schema: &Schema,
    cmap: &CatalogMap,
    written: &Written,
) -> Result<(), SyncError> {
    let key = {
        let mut pairing = Pairing::new(tx, catalog, schema, cmap, written.side)?;
        match written.row() {
            Some(row) => {
                let readable = pairing.readable(row)?;
                pairing.key_value(&readable).map(|k| k.to_string()).unwrap_or_default()
            }
            None => String::new(),
        }
    };
    let seq = tx.enqueue(cmap.id, &key, written)?;
    tx.record_event(
        EventKind::Queued,
        Some(cmap.id),
        &json!({"map": cmap.map.name, "seq": seq, "side": written.side, "table": written.table, "op": written.applied.as_str(), "key": key}),
    )?;
    Ok(())
}

/// Applies one queued change as live sync would have, and records the replay.
pub fn replay(
    tx: &mut dyn Tx,
    catalog: &Catalog,
    cmap: &CatalogMap,
    change: &QueuedChange,
) -> Result<Option<TwinWrite>, SyncError> {
    let later = queued_after(tx, cmap, change)?;
    replay_written(tx, catalog, cmap, change, &change.write, &later)
}

/// The changes of `change`'s key queued after it (none for a change without a key).
fn queued_after(
    tx: &mut dyn Tx,
    cmap: &CatalogMap,
    change: &QueuedChange,
) -> Result<Vec<QueuedChange>, SyncError> {
    if change.key.is_empty() {
        return Ok(Vec::new());
    }
    Ok(tx.queued(cmap.id, Some(&change.key), change.seq, usize::MAX >> 1)?)
}

/// The changes queued after the first of a batch under any of the batch's keys, by key: for each
/// change of the batch, what [`queued_after`] would answer while the batch is replayed (no change is
/// taken off the queue until the batch is done, and a replay queues nothing on its own map). A batch
/// is the head of its map's queue, so the batch holds every change up to its last: only the ones
/// after it are read, in one statement.
struct BatchLater(HashMap<String, Vec<QueuedChange>>);

impl BatchLater {
    fn read(tx: &mut dyn Tx, map_id: i64, changes: &[QueuedChange]) -> Result<BatchLater, SyncError> {
        let Some(last) = changes.last() else { return Ok(BatchLater(HashMap::new())) };
        let keyed = || changes.iter().filter(|c| !c.key.is_empty());
        let mut keys: Vec<&str> = keyed().map(|c| c.key.as_str()).collect();
        keys.sort_unstable();
        keys.dedup();
        let mut by_key: HashMap<String, Vec<QueuedChange>> = HashMap::new();
        for change in keyed().cloned().chain(tx.queued_under(map_id, &keys, last.seq)?) {
            by_key.entry(change.key.clone()).or_default().push(change);
        }
        Ok(BatchLater(by_key))
    }

    /// The changes of `change`'s key queued after it.
    fn after<'b>(&'b self, change: &QueuedChange) -> &'b [QueuedChange] {
        let Some(later) = self.0.get(&change.key) else { return &[] };
        let from = later.partition_point(|c| c.seq <= change.seq);
        &later[from..]
    }
}

/// Applies `written`, what is left of `change`, as live sync would have, and records the replay;
/// `later` holds the changes of its key queued after it.
fn replay_written(
    tx: &mut dyn Tx,
    catalog: &Catalog,
    cmap: &CatalogMap,
    change: &QueuedChange,
    written: &Written,
    later: &[QueuedChange],
) -> Result<Option<TwinWrite>, SyncError> {
    let schema = catalog.require_schema()?;
    let twin = match later_on_target(written, later) {
        Later::Columns(leave) => live_sync::twin_write(
            tx,
            catalog,
            schema,
            cmap,
            written,
            Some(&Replay { seq: change.seq, leave }),
        )?,
        Later::Row => None,
    };
    if twin.is_none() {
        // Replayed without a twin write (outside the filter, or no mapped field changed): the audit
        // trail still shows the change was taken off the queue.
        tx.record_event(
            EventKind::Replayed,
            Some(cmap.id),
            &json!({"map": cmap.map.name, "seq": change.seq, "key": change.key}),
        )?;
    }
    Ok(twin)
}

/// What changes of the same key queued after a change on the other side (the twin's) rewrite.
enum Later {
    /// These target columns (see [`Replay`]); none when nothing later touches the twin.
    Columns(HashSet<String>),
    /// The whole row: the target side inserted or deleted it later, or changed it at all after this
    /// change deleted it. That later change decides the row on both sides; this one writes nothing.
    Row,
}

/// What the changes in `later` (of the key of the change that wrote `written`, queued after it) that
/// are on the other side rewrite: replaying the change over them would put an older value on that
/// side while their own replay puts the newer one on this side, and the two sides would end up
/// different. Changes on one side stay in order as they are.
fn later_on_target(written: &Written, later: &[QueuedChange]) -> Later {
    let mut leave = HashSet::new();
    let target = written.side.other();
    for later in later.iter().map(|c| &c.write).filter(|w| w.side == target) {
        match (later.applied, &later.before, &later.after) {
            (Applied::Updated, Some(before), Some(after)) if written.applied != Applied::Deleted => {
                leave.extend(
                    after
                        .iter()
                        .filter(|(column, value)| before.get(*column) != Some(*value))
                        .map(|(column, _)| column.to_lowercase()),
                );
            }
            _ => return Later::Row,
        }
    }
    Later::Columns(leave)
}

/// What of a change set aside as a catch-up error still holds when it is retried, after its source
/// row may have moved on through live writes: the fields it changed that no newer write changed
/// again (those keep their newer value), on a row that still exists; an insert carries the row as it
/// is now; a delete holds only while no row has its key again. `None` when nothing of it holds.
fn still_holding(tx: &mut dyn Tx, schema: &Schema, written: Written) -> Result<Option<Written>, SyncError> {
    let table = crate::environment::write::table(schema, written.side, &written.table)?;
    let key = crate::transaction::key_object(table, written.row());
    let now = crate::environment::write::find(tx, schema, table, &key)?.map(|stored| stored.data);
    Ok(match (written.applied, now) {
        (Applied::Deleted, None) => Some(written),
        (Applied::Deleted, Some(_)) | (Applied::Inserted | Applied::Updated, None) => None,
        (Applied::Inserted, Some(now)) => Some(Written { after: Some(now), ..written }),
        (Applied::Updated, Some(now)) => {
            let (Some(before), Some(mut after)) = (written.before.clone(), written.after.clone()) else {
                return Ok(Some(written));
            };
            let since_changed: Vec<String> = after
                .iter()
                .filter(|(field, value)| {
                    before.get(*field) != Some(*value) && now.get(*field) != Some(*value)
                })
                .map(|(field, _)| field.clone())
                .collect();
            for field in since_changed {
                match before.get(&field) {
                    Some(old) => after.insert(field, old.clone()),
                    None => after.remove(&field),
                };
            }
            Some(Written { after: Some(after), ..written })
        }
    })
}

/// Whether a map has background work: replaying its queue or copying rows.
fn catching_up(map: &CatalogMap) -> bool {
    matches!(map.status, MapStatus::Resuming | MapStatus::Initializing)
}

/// The maps with queued work to replay (resuming or initializing), upstream first: core's run order
/// over every map, so that in one round an upstream queue is replayed before the maps waiting on it.
pub fn catch_up_order(catalog: &Catalog) -> Vec<&CatalogMap> {
    if !catalog.maps.iter().any(catching_up) {
        return Vec::new();
    }
    let Some(schema) = catalog.schema.as_ref() else {
        return catalog.maps.iter().filter(|m| catching_up(m)).collect();
    };
    let maps: Vec<TableMap> = catalog.maps.iter().map(|m| m.map.clone()).collect();
    related::run_order_all(schema, &maps)
        .order
        .into_iter()
        .map(|i| &catalog.maps[i])
        .filter(|m| catching_up(m))
        .collect()
}

/// A map that `map_id` depends on and that is itself still catching up or initializing: until it is
/// done, replaying `map_id` could write a row before the rows it looks up (a customer before its new
/// group). Only maps earlier in the run order count, so maps that depend on each other never wait on
/// each other.
fn upstream_catching_up(catalog: &Catalog, map_id: i64) -> Option<&CatalogMap> {
    let schema = catalog.schema.as_ref()?;
    let index = catalog.maps.iter().position(|m| m.id == map_id)?;
    let maps: Vec<TableMap> = catalog.maps.iter().map(|m| m.map.clone()).collect();
    let order = related::run_order_all(schema, &maps).order;
    let earlier = &order[..order.iter().position(|&i| i == index)?];
    related::depends_on(schema, &maps, index)
        .into_iter()
        .filter(|i| earlier.contains(i))
        .map(|i| &catalog.maps[i])
        .find(|m| catching_up(m))
}

/// What one batch of catch-up did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CatchUp {
    /// The map is not catching up.
    Idle,
    /// Changes were replayed; more may follow.
    Progressed { replayed: usize, failed: usize },
    /// The queue is empty and the map went live.
    Live,
    /// The other side is unavailable: the queue waits.
    Blocked,
    /// A map this one depends on is still catching up or initializing: the queue waits for it.
    Waiting,
    /// Another server's worker owns this map's background work (see [`crate::lease`]).
    Elsewhere,
}

/// Replays queued changes of map `map_id` in one transaction, as many as `pace` says. A change that fails goes to
/// the catch-up errors, and so do the later changes of its key, in order, as
/// `BEHIND_FAILED_CHANGE`, for as long as a catch-up error of that key exists; an unavailable
/// environment stops the batch and leaves the rest queued. Nothing is replayed while a map this one
/// depends on is still catching up or initializing. An empty queue takes a resuming map (or one whose
/// initial write is done) to `running`. Only `owner` does it, while it holds the map's lease; each
/// batch is recorded as a `catch_up` event naming it.
pub fn catch_up(
    store: &Store,
    cache: &CatalogCache,
    owner: &Owner,
    map_id: i64,
    pace: &Pace,
) -> Result<CatchUp, SyncError> {
    let progressed = |tx: &mut dyn Tx, cmap: &CatalogMap, changes: &[QueuedChange], replayed, failed| {
        owner.hold(tx, cmap.id, &cmap.map.name)?;
        let (first, last) = (changes.first().map(|c| c.seq), changes.last().map(|c| c.seq));
        tx.record_event(
            EventKind::CatchUp,
            Some(cmap.id),
            &json!({"map": cmap.map.name, "owner": owner.id(), "first": first, "last": last, "replayed": replayed, "failed": failed}),
        )?;
        Ok::<_, SyncError>(CatchUp::Progressed { replayed, failed })
    };
    pace.write(store, |tx, batch| {
        let catalog = cache.get(tx)?;
        let Some(cmap) = catalog.map(map_id) else { return Ok(CatchUp::Idle) };
        let done = match cmap.status {
            MapStatus::Resuming => Action::CatchUpDone,
            MapStatus::Initializing if crate::initial_sync::is_draining(tx, map_id)? => Action::InitialSyncDone,
            _ => return Ok(CatchUp::Idle),
        };
        if upstream_catching_up(&catalog, map_id).is_some() {
            return Ok(CatchUp::Waiting);
        }
        if !owner.hold(tx, map_id, &cmap.map.name)? {
            return Ok(CatchUp::Elsewhere);
        }
        let changes = tx.queued(map_id, None, 0, batch)?;
        if changes.is_empty() {
            if done == Action::InitialSyncDone {
                crate::initial_sync::finish(tx, map_id)?;
            }
            lifecycle::act(tx, cmap, done)?;
            return Ok(CatchUp::Live);
        }
        let mut held = Held::default();
        let mut waiting = false;
        if tx.catch_up_error_count(map_id)? > 0 {
            for change in &changes {
                waiting |= held.behind(tx, map_id, change)?.is_some();
            }
        }
        // The batch goes in under one savepoint; if any change is refused (or must wait behind a
        // failed one), it is undone and replayed again one change at a time, so that the refused one
        // becomes a catch-up error, its key's later changes wait behind it and the rest stay applied.
        if !waiting {
            let later = BatchLater::read(tx, map_id, &changes)?;
            let writes: Vec<&Written> = changes.iter().map(|c| &c.write).collect();
            // Only to save round trips: what it cannot do, each change's replay reports.
            if let Err(internal @ SyncError::Internal(_)) = live_sync::prefetch_twins(tx, &catalog, cmap, &writes) {
                return Err(internal);
            }
            tx.savepoint()?;
            // The batch's row updates are written together at its end; a key taken refuses the set.
            tx.hold_updates();
            let fast = changes
                .iter()
                .try_for_each(|change| {
                    replay_written(tx, &catalog, cmap, change, &change.write, later.after(change)).map(drop)
                })
                .and_then(|()| match tx.write_held()? {
                    Ok(()) => Ok(()),
                    Err(taken) => Err(SyncError::conflict(ErrorCode::DuplicateKey, taken.to_string())),
                })
                .and_then(|()| {
                    let seqs: Vec<i64> = changes.iter().map(|c| c.seq).collect();
                    tx.dequeue_all(&seqs).map_err(SyncError::from)
                });
            match fast {
                Ok(()) => {
                    tx.release_savepoint()?;
                    return progressed(tx, cmap, &changes, changes.len(), 0);
                }
                Err(internal @ SyncError::Internal(_)) => return Err(internal),
                Err(_refused) => tx.rollback_to_savepoint()?,
            }
        }
        let (mut replayed, mut failed) = (0, 0);
        for change in &changes {
            if let Some(seq) = held.behind(tx, map_id, change)? {
                let message = behind_message(seq);
                tx.add_catch_up_error(map_id, change, ErrorCode::BehindFailedChange, &message)?;
                tx.record_event(
                    EventKind::CatchUpError,
                    Some(map_id),
                    &json!({"map": cmap.map.name, "seq": change.seq, "key": change.key, "code": ErrorCode::BehindFailedChange, "message": message, "behind": seq}),
                )?;
                failed += 1;
                tx.dequeue(change.seq)?;
                continue;
            }
            tx.savepoint()?;
            match replay(tx, &catalog, cmap, change) {
                Ok(_) => {
                    tx.release_savepoint()?;
                    replayed += 1;
                }
                Err(SyncError::Unavailable(_)) => {
                    tx.rollback_to_savepoint()?;
                    if replayed + failed == 0 {
                        return Ok(CatchUp::Blocked);
                    }
                    let done = changes.iter().take_while(|c| c.seq != change.seq).cloned().collect::<Vec<_>>();
                    return progressed(tx, cmap, &done, replayed, failed);
                }
                Err(e) => {
                    let Refusal { code, message, .. } = e.into_refusal()?;
                    tx.rollback_to_savepoint()?;
                    held.hold(change);
                    tx.add_catch_up_error(map_id, change, code, &message)?;
                    tx.record_event(
                        EventKind::CatchUpError,
                        Some(map_id),
                        &json!({"map": cmap.map.name, "seq": change.seq, "key": change.key, "code": code, "message": message}),
                    )?;
                    failed += 1;
                }
            }
            tx.dequeue(change.seq)?;
        }
        progressed(tx, cmap, &changes, replayed, failed)
    })
}

/// Retries catch-up errors of a running map (those in `ids`, or all), oldest first, each as far as it
/// still holds (see [`still_holding`]: live writes since then are never undone), keeping each key's
/// order: a change whose key still has an earlier catch-up error (not retried, or failing again) stays
/// behind it as `BEHIND_FAILED_CHANGE`, and the changes held behind one that now applies are
/// retried with it. Returns how many applied and how many failed again (or still wait).
pub fn retry(
    tx: &mut dyn Tx,
    catalog: &Catalog,
    cmap: &CatalogMap,
    ids: Option<&[i64]>,
) -> Result<(usize, usize), SyncError> {
    if cmap.status != MapStatus::Running {
        return Err(SyncError::conflict(
            ErrorCode::InvalidState,
            format!("map `{}` is {}; catch-up errors are retried while it runs", cmap.map.name, cmap.status),
        ));
    }
    let schema = catalog.require_schema()?;
    // The keys with an earlier change still in the catch-up errors, and the keys whose earlier change
    // applied in this retry (their held changes follow it).
    let mut held = Held::default();
    let mut followed: HashSet<String> = HashSet::new();
    let (mut applied, mut failed, mut after) = (0, 0, 0);
    loop {
        let page = tx.catch_up_errors(cmap.id, after, 500)?;
        let Some(last) = page.last() else { break };
        after = last.id;
        for error in &page {
            let change = &error.change;
            let selected = ids.is_none_or(|ids| ids.contains(&error.id))
                || (error.code == ErrorCode::BehindFailedChange && followed.contains(&change.key));
            let earlier = held.0.get(&change.key).copied().flatten().filter(|_| !change.key.is_empty());
            if !selected {
                held.hold(change);
                continue;
            }
            if let Some(seq) = earlier {
                tx.set_catch_up_error(error.id, ErrorCode::BehindFailedChange, &behind_message(seq))?;
                failed += 1;
                continue;
            }
            tx.savepoint()?;
            let retried = match still_holding(tx, schema, change.write.clone())? {
                Some(written) => queued_after(tx, cmap, change)
                    .and_then(|later| replay_written(tx, catalog, cmap, change, &written, &later))
                    .map(drop),
                // Its row was deleted or created again since, and that write went its own way.
                None => tx
                    .record_event(
                        EventKind::Replayed,
                        Some(cmap.id),
                        &json!({"map": cmap.map.name, "seq": change.seq, "key": change.key, "superseded": true}),
                    )
                    .map_err(SyncError::from),
            };
            match retried {
                Ok(_) => {
                    tx.release_savepoint()?;
                    tx.delete_catch_up_error(error.id)?;
                    held.release(change);
                    followed.insert(change.key.clone());
                    applied += 1;
                }
                Err(e) => {
                    let Refusal { code, message, .. } = e.into_refusal()?;
                    tx.rollback_to_savepoint()?;
                    tx.set_catch_up_error(error.id, code, &message)?;
                    held.hold(change);
                    failed += 1;
                }
            }
        }
    }
    Ok((applied, failed))
}
