//! Transforms of a field mapping: `ValueMap` and `Default`, in their documented JSON.

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use serde_json::Value;

/// A transform, serialised as `{"transformType": "ValueMap", "valueMap": {...}}` or
/// `{"transformType": "Default", "defaultValue": ...}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "transformType")]
pub enum Transform {
    /// finops value → Dataverse value; values may be JSON null.
    ValueMap {
        #[serde(rename = "valueMap")]
        value_map: ValueMap,
    },
    /// The value written to the destination when the source supplies none.
    Default {
        #[serde(rename = "defaultValue")]
        default_value: Value,
    },
}

impl Transform {
    /// `"ValueMap"` or `"Default"`.
    pub fn kind(&self) -> &'static str {
        match self {
            Transform::ValueMap { .. } => "ValueMap",
            Transform::Default { .. } => "Default",
        }
    }
}

/// A value map, in its author's order: finops value (the JSON key) → Dataverse value.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ValueMap {
    pub entries: Vec<(String, Value)>,
}

impl ValueMap {
    /// A value map from pairs.
    pub fn new<K: Into<String>>(entries: impl IntoIterator<Item = (K, Value)>) -> ValueMap {
        ValueMap { entries: entries.into_iter().map(|(k, v)| (k.into(), v)).collect() }
    }

    /// Pairs of entries `(earlier, later)` whose values are the same once `normalise`d: where they
    /// exist, the map cannot be read backwards (Dataverse → finops) unambiguously.
    pub fn value_collisions(&self, normalise: impl Fn(&Value) -> Value) -> Vec<(usize, usize)> {
        let normalised: Vec<Value> = self.entries.iter().map(|(_, v)| normalise(v)).collect();
        let mut collisions = Vec::new();
        for (i, v) in normalised.iter().enumerate() {
            if let Some(first) = normalised[..i].iter().position(|w| w == v) {
                collisions.push((first, i));
            }
        }
        collisions
    }
}

impl Serialize for ValueMap {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.entries.len()))?;
        for (k, v) in &self.entries {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}
