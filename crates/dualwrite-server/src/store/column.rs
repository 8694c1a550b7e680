//! Domain values as their columns hold them. Both backends bind and read these texts, so a value is
//! written alike on either engine and what an existing database holds reads back unchanged.

use std::borrow::Cow;

use dualwrite_core::error_code::ErrorCode;
use dualwrite_core::lifecycle::MapStatus;
use dualwrite_core::schema::Side;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{EventKind, Row, StoreError};
use crate::environment::write::{Applied, Written};

/// Parses a side stored by this module.
pub(super) fn side(text: &str) -> Result<Side, StoreError> {
    text.parse().map_err(|e| StoreError::Corrupt(format!("a stored side: {e}")))
}

/// Parses an error code stored by this module.
pub(super) fn code(text: &str) -> Result<ErrorCode, StoreError> {
    ErrorCode::parse(text).ok_or_else(|| StoreError::Corrupt(format!("unknown stored error code `{text}`")))
}

/// Parses a map status stored by this module (its serde name, as `MapStatus::as_str` writes it).
pub(super) fn map_status(text: &str) -> Result<MapStatus, StoreError> {
    serde_json::from_value(Value::String(text.to_owned()))
        .map_err(|_| StoreError::Corrupt(format!("unknown stored map status `{text}`")))
}

/// Parses an event kind stored by this module.
pub(super) fn event_kind(text: &str) -> Result<EventKind, StoreError> {
    EventKind::parse(text).ok_or_else(|| StoreError::Corrupt(format!("unknown stored event kind `{text}`")))
}

/// A queued write as its column holds it: `{"side", "table", "op", "before", "after"}`, in that order.
#[derive(Serialize, Deserialize)]
struct StoredWrite<'a> {
    #[serde(borrow)]
    side: Cow<'a, str>,
    #[serde(borrow)]
    table: Cow<'a, str>,
    #[serde(borrow)]
    op: Cow<'a, str>,
    before: Option<Cow<'a, Row>>,
    after: Option<Cow<'a, Row>>,
}

/// A queued write as stored text.
pub(super) fn write_text(write: &Written) -> String {
    let stored = StoredWrite {
        side: Cow::Borrowed(write.side.as_str()),
        table: Cow::Borrowed(&write.table),
        op: Cow::Borrowed(write.applied.as_str()),
        before: write.before.as_ref().map(Cow::Borrowed),
        after: write.after.as_ref().map(Cow::Borrowed),
    };
    serde_json::to_string(&stored).expect("a queued write is always JSON")
}

/// Parses a queued write stored by this module.
pub(super) fn write(text: &str) -> Result<Written, StoreError> {
    let body: StoredWrite<'_> =
        serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("a queued change: {e}")))?;
    let corrupt = |what: &str| StoreError::Corrupt(format!("a queued change has no valid {what}"));
    let applied = match &*body.op {
        "insert" => Applied::Inserted,
        "update" => Applied::Updated,
        "delete" => Applied::Deleted,
        _ => return Err(corrupt("op")),
    };
    Ok(Written {
        side: body.side.parse().map_err(|_| corrupt("side"))?,
        table: body.table.into_owned(),
        applied,
        before: body.before.map(Cow::into_owned),
        after: body.after.map(Cow::into_owned),
    })
}

/// A `COUNT(*)` as the count it is.
pub(super) fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// A row as stored text.
pub(super) fn row_text(data: &Row) -> Result<String, StoreError> {
    serde_json::to_string(data)
        .map_err(|e| StoreError::Corrupt(format!("a row cannot be written as JSON: {e}")))
}

/// Parses a JSON object stored by this module.
pub(super) fn row(text: &str) -> Result<Row, StoreError> {
    match serde_json::from_str(text) {
        Ok(Value::Object(row)) => Ok(row),
        Ok(_) => Err(StoreError::Corrupt("a stored row is not a JSON object".into())),
        Err(e) => Err(StoreError::Corrupt(format!("a stored row is not JSON: {e}"))),
    }
}

/// Parses a JSON document stored by this module.
pub(super) fn json(text: &str) -> Result<Value, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("stored JSON: {e}")))
}

/// `%text%` for LIKE, with LIKE's own wildcards taken literally (escape character `\`).
pub(super) fn like_pattern(text: &str) -> String {
    let escaped = text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}
