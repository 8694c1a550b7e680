//! The runtime side of a map's lifecycle: moving a map between statuses, recorded in the audit trail.

use dualwrite_core::lifecycle::{transition, Action, MapStatus};
use serde_json::json;

use crate::catalog::{self, CatalogMap};
use crate::error::ApiError;
use crate::store::Tx;

/// Applies `action` to `map`, or refuses it (409) when its status does not allow it.
pub fn act(tx: &mut dyn Tx, map: &CatalogMap, action: Action) -> Result<MapStatus, ApiError> {
    let next = transition(map.status, action).map_err(|e| {
        ApiError::conflict("INVALID_STATE", format!("map `{}`: {e}", map.map.name))
            .with("status", map.status.as_str())
            .with("map_id", map.id)
    })?;
    if next != map.status {
        tx.set_map_status(map.id, next.as_str())?;
        catalog::bump(tx)?;
        tx.append_event(
            "status_change",
            Some(map.id),
            &json!({"map": map.map.name, "action": action.name(), "from": map.status, "to": next}),
        )?;
    }
    Ok(next)
}
