//! Alert rules: count a map's live-sync errors in a window and act on the map (pause or stop) when a
//! rule's threshold is reached. Errors are recorded in the audit trail after the failed transaction
//! rolled back, so the rule sees every one.

use dualwrite_core::lifecycle::{Action, MapStatus};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::catalog::Catalog;
use crate::error::{ApiError, Kind};
use crate::lifecycle;
use crate::store::Tx;

const DOCUMENT: &str = "alerts";
/// The audit-trail kind of a live-sync error.
pub const SYNC_ERROR: &str = "sync_error";

/// What a rule does when it fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertAction {
    /// Only record the alert.
    None,
    /// Pause the map: writes queue until it resumes.
    Pause,
    /// Stop the map.
    Stop,
}

/// `{"error_types", "count", "window_seconds", "action"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertRule {
    /// Error types counted: `application` (422), `bad_request` (400), `conflict` (409),
    /// `unavailable` (503); empty counts every type.
    #[serde(default)]
    pub error_types: Vec<String>,
    pub count: u64,
    pub window_seconds: u64,
    pub action: AlertAction,
}

/// `GET, PUT /alerts`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertRules {
    pub rules: Vec<AlertRule>,
}

/// The error types rules can count.
pub const ERROR_TYPES: [&str; 4] = ["application", "bad_request", "conflict", "unavailable"];

impl AlertRules {
    /// Every problem of the rules, or none.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (i, rule) in self.rules.iter().enumerate() {
            if rule.count == 0 {
                out.push(format!("rules[{i}].count: must be at least 1"));
            }
            if rule.window_seconds == 0 {
                out.push(format!("rules[{i}].window_seconds: must be at least 1"));
            }
            for t in rule.error_types.iter().filter(|t| !ERROR_TYPES.contains(&t.as_str())) {
                out.push(format!("rules[{i}].error_types: `{t}` is not one of {}", ERROR_TYPES.join(", ")));
            }
        }
        out
    }
}

pub fn load(tx: &mut dyn Tx) -> Result<AlertRules, ApiError> {
    match tx.get_document(DOCUMENT)? {
        Some(doc) => {
            serde_json::from_value(doc).map_err(|e| ApiError::Internal(anyhow::anyhow!("stored alerts: {e}")))
        }
        None => Ok(AlertRules::default()),
    }
}

pub fn save(tx: &mut dyn Tx, rules: &AlertRules) -> Result<(), ApiError> {
    tx.put_document(DOCUMENT, &serde_json::to_value(rules).map_err(|e| ApiError::Internal(e.into()))?)?;
    Ok(())
}

/// The type an error counts as.
fn error_type(error: &ApiError) -> &'static str {
    match error {
        ApiError::Client { kind: Kind::Unavailable, .. } => "unavailable",
        ApiError::Client { kind: Kind::Conflict, .. } => "conflict",
        ApiError::Client { kind: Kind::BadRequest | Kind::NotFound | Kind::TooLarge, .. } => "bad_request",
        _ => "application",
    }
}

/// Records a live-sync error of map `map_id` and applies the rules it sets off.
pub fn record(tx: &mut dyn Tx, catalog: &Catalog, map_id: i64, error: &ApiError) -> Result<(), ApiError> {
    let Some(cmap) = catalog.map(map_id) else { return Ok(()) };
    let kind = error_type(error);
    let message = match error {
        ApiError::Client { message, .. } => message.as_str(),
        ApiError::Internal(_) => "internal error",
    };
    tx.append_event(
        SYNC_ERROR,
        Some(map_id),
        &json!({"map": cmap.map.name, "type": kind, "code": error.code(), "message": message}),
    )?;
    for (i, rule) in load(tx)?.rules.iter().enumerate() {
        if !rule.error_types.is_empty() && !rule.error_types.iter().any(|t| t == kind) {
            continue;
        }
        let count = tx.count_recent_events(SYNC_ERROR, map_id, rule.window_seconds)?;
        if count < rule.count {
            continue;
        }
        let action = match (rule.action, cmap.status) {
            (AlertAction::Pause, MapStatus::Running) => Some(Action::Pause),
            (AlertAction::Stop, MapStatus::Running | MapStatus::Paused) => Some(Action::Stop),
            _ => None,
        };
        tx.append_event(
            "alert",
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
