//! Alert rules: count a map's live-sync errors in a window and act on the map (pause or stop) when a
//! rule's threshold is reached. Errors are recorded in the audit trail after the failed transaction
//! rolled back, so the rule sees every one.

use dualwrite_core::api::{AlertAction, AlertRules};
use dualwrite_core::lifecycle::{Action, MapStatus};
use serde_json::json;

use crate::catalog::Catalog;
use crate::lifecycle;
use crate::store::{EventKind, Tx};
use crate::sync_error::SyncError;

const DOCUMENT: &str = "alerts";

pub fn load(tx: &mut dyn Tx) -> Result<AlertRules, SyncError> {
    match tx.get_document(DOCUMENT)? {
        Some(doc) => {
            serde_json::from_value(doc).map_err(|e| SyncError::internal(format_args!("stored alerts: {e}")))
        }
        None => Ok(AlertRules::default()),
    }
}

pub fn save(tx: &mut dyn Tx, rules: &AlertRules) -> Result<(), SyncError> {
    tx.put_document(DOCUMENT, &serde_json::to_value(rules).map_err(|e| SyncError::Internal(e.into()))?)?;
    Ok(())
}

/// The type an error counts as.
fn error_type(error: &SyncError) -> &'static str {
    match error {
        SyncError::Unavailable(_) => "unavailable",
        SyncError::Conflict(_) => "conflict",
        SyncError::Malformed(_) | SyncError::NotFound(_) => "bad_request",
        SyncError::Invalid(_) | SyncError::Internal(_) => "application",
    }
}

/// Records a live-sync error of map `map_id` and applies the rules it sets off.
pub fn record(tx: &mut dyn Tx, catalog: &Catalog, map_id: i64, error: &SyncError) -> Result<(), SyncError> {
    let Some(cmap) = catalog.map(map_id) else { return Ok(()) };
    let kind = error_type(error);
    let message = error.refusal().map_or("internal error", |r| r.message.as_str());
    tx.record_event(
        EventKind::SyncError,
        Some(map_id),
        &json!({"map": cmap.map.name, "type": kind, "code": error.code(), "message": message}),
    )?;
    for (i, rule) in load(tx)?.rules.iter().enumerate() {
        if !rule.error_types.is_empty() && !rule.error_types.iter().any(|t| t == kind) {
            continue;
        }
        // Rules are checked when saved; the bound also holds for rules stored before it existed.
        let window = rule.window_seconds.min(dualwrite_core::api::MAX_ALERT_WINDOW_SECONDS);
        let count = tx.count_recent_events(EventKind::SyncError, map_id, window)?;
        if count < rule.count {
            continue;
        }
        let action = match (rule.action, cmap.status) {
            (AlertAction::Pause, MapStatus::Running) => Some(Action::Pause),
            (AlertAction::Stop, MapStatus::Running | MapStatus::Paused) => Some(Action::Stop),
            _ => None,
        };
        tx.record_event(
            EventKind::Alert,
            Some(map_id),
            &json!({"map": cmap.map.name, "rule": i, "count": count, "window_seconds": rule.window_seconds, "action": rule.action}),
        )?;
        if let Some(action) = action {
            lifecycle::act(tx, cmap, action)?;
            return Ok(());
        }
    }
    Ok(())
}
