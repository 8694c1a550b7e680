//! `GET /events?after=`: the audit trail, followed by sequence number.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One event: what happened, when, to which map; what it carries (`map`, `key`, the values written,
/// …) depends on its kind and sits beside these.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Event {
    pub seq: i64,
    /// RFC 3339, UTC.
    pub at: String,
    /// `twin_write`, `queued`, `map_saved`, `status`, …
    pub kind: String,
    pub map_id: Option<String>,
    #[serde(flatten)]
    pub body: Map<String, Value>,
}

impl Event {
    /// An event of the trail with what its body carries beside its own members. Where the body names
    /// one of them too (a queued change's `seq`), the body's value is shown, as the trail always has.
    pub fn new(seq: i64, at: String, kind: String, map_id: Option<String>, body: Value) -> Event {
        let mut body = match body {
            Value::Object(body) => body,
            _ => Map::new(),
        };
        let seq = body.remove("seq").and_then(|v| v.as_i64()).unwrap_or(seq);
        let mut text = |name: &str, own: String| match body.remove(name) {
            Some(Value::String(s)) => s,
            _ => own,
        };
        let at = text("at", at);
        let kind = text("kind", kind);
        let map_id = match body.remove("map_id") {
            Some(Value::String(s)) => Some(s),
            Some(Value::Null) => None,
            _ => map_id,
        };
        Event { seq, at, kind, map_id, body }
    }
}

/// A stretch of the trail: the events after `after`, and where to continue from (the last one
/// given; none when there was none). Not a [`super::Paged`] page: a log is followed, not counted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Events {
    pub items: Vec<Event>,
    pub next: Option<i64>,
}
