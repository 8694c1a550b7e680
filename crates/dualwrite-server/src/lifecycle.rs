//! The runtime side of a map's lifecycle: moving a map between statuses, with what each move does to
//! its queue, recorded in the audit trail.

use dualwrite_core::error_code::ErrorCode;
use dualwrite_core::lifecycle::{transition, Action, MapStatus, ResumeMode};
use serde_json::json;

use crate::catalog::{self, CatalogMap};
use crate::store::{EventKind, Tx};
use crate::sync_error::SyncError;

/// Applies `action` to `map`, or refuses it ([`SyncError::Conflict`]) when its status does not allow it. Leaving the
/// queue behind never loses it: stopping, skipping to live or an initial sync that fails moves it to
/// the catch-up errors, where it can be retried; only `skip_discard` drops it, as asked.
///
/// A failed initial sync does not keep its queue for a rerun: the map is then not running, so writes
/// no longer queue and the queue stops being a complete record; replayed later (by a rerun, or a
/// catch-up after a run without initial sync) its changes would land over newer values.
pub fn act(tx: &mut dyn Tx, map: &CatalogMap, action: Action) -> Result<MapStatus, SyncError> {
    let next = transition(map.status, action).map_err(|e| {
        SyncError::conflict(ErrorCode::InvalidState, format!("map `{}`: {e}", map.map.name))
            .with("status", map.status.as_str())
            .with("map_id", map.id.to_string())
    })?;
    let queue = match action {
        Action::Stop => Some(tx.move_queue_to_catch_up_errors(
            map.id,
            ErrorCode::Stopped,
            "queued when the map was stopped; retry it once the map runs again",
        )?),
        Action::Resume { mode: ResumeMode::SkipPreserve } | Action::SkipToLive => {
            Some(tx.move_queue_to_catch_up_errors(
                map.id,
                ErrorCode::Skipped,
                "queued while the map was paused; the map skipped to live sync, so retry it to apply it",
            )?)
        }
        Action::InitialSyncFailed => Some(tx.move_queue_to_catch_up_errors(
            map.id,
            ErrorCode::InitialSyncFailed,
            "queued while an initial sync ran that failed; retry it once the map runs again",
        )?),
        Action::Resume { mode: ResumeMode::SkipDiscard } => Some(tx.discard_queue(map.id)?),
        _ => None,
    };
    if next != map.status {
        tx.set_map_status(map.id, next)?;
        catalog::bump(tx)?;
    }
    tx.record_event(
        EventKind::StatusChange,
        Some(map.id),
        &json!({"map": map.map.name, "action": action.name(), "from": map.status, "to": next, "queue_moved": queue}),
    )?;
    Ok(next)
}
