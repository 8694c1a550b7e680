//! Integration keys: how a row on one side finds its twin on the other.
//!
//! One key per Dataverse table used by a map, generated from the table's alternate keys ("refresh") or
//! set by hand (manual keys survive refresh). Lookup columns appear expanded through their target's key
//! (`msdyn_company` → `msdyn_company.cdm_companycode`). Key values compare the way both source systems
//! compare them: case-insensitive, trailing spaces ignored — [`normalize`] is that rule, and
//! [`KeyValue`] holds normalised parts for matching and uniqueness.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value;

use crate::schema::{ColumnType, Schema, Side, Table, COMPANY_KEY_PATH, COMPANY_LOOKUP};

/// The comparison form of one key part: trailing spaces dropped, lowercased.
pub fn normalize(value: &str) -> String {
    value.trim_end().to_lowercase()
}

/// The comparison form of a scalar key value; `None` for null, an empty string or a non-scalar.
pub fn key_part(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => {
            let n = normalize(s);
            (!n.is_empty()).then_some(n)
        }
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Separates the parts of a [`KeyValue`] (a character no key holds).
const PART_SEPARATOR: char = '\u{1f}';

/// Compares two key parts the way [`normalize`] does, without allocating.
pub fn compare_normalized(a: &str, b: &str) -> std::cmp::Ordering {
    a.trim_end().chars().flat_map(char::to_lowercase).cmp(b.trim_end().chars().flat_map(char::to_lowercase))
}

/// A row's integration-key value: normalised parts in key-field order. Equal values are the same row.
/// Held as one string (parts joined by a separator no key holds), as it is hashed for every row.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyValue(String);

impl KeyValue {
    /// A key value from raw parts (normalised here).
    pub fn new<S: AsRef<str>>(parts: impl IntoIterator<Item = S>) -> KeyValue {
        let mut key = KeyValue(String::new());
        for (i, part) in parts.into_iter().enumerate() {
            key.push(i, &normalize(part.as_ref()));
        }
        key
    }

    /// Appends the `index`th part, already normalised (see [`key_part`]).
    pub(crate) fn push(&mut self, index: usize, normalized: &str) {
        if index > 0 {
            self.0.push(PART_SEPARATOR);
        }
        self.0.push_str(normalized);
    }

    /// A key value being built part by part.
    pub(crate) fn empty() -> KeyValue {
        KeyValue(String::new())
    }

    /// The normalised parts.
    pub fn parts(&self) -> Vec<&str> {
        self.0.split(PART_SEPARATOR).collect()
    }
}

/// Parts joined with `|`, the way dual-write shows composite key values.
impl fmt::Display for KeyValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, part) in self.0.split(PART_SEPARATOR).enumerate() {
            if i > 0 {
                f.write_str("|")?;
            }
            f.write_str(part)?;
        }
        Ok(())
    }
}

/// Serialised as its display form (`c001|demf`), as executions and errors show it.
impl serde::Serialize for KeyValue {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// A row's integration key as people read it, where failed rows are listed: the values of the key
/// fields as the row holds them (case and spacing kept), without the company part, and the row's
/// company apart. Rows are matched by [`KeyValue`]; this is only what is shown and searched.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct DisplayKey {
    /// The values joined by `|` (a missing one empty), or [`DisplayKey::NO_KEY`] when no key field
    /// holds a value.
    pub key: String,
    /// The row's company code (`dataAreaId`, `msdyn_company.cdm_companycode`) as the row holds it,
    /// when it holds one.
    pub company: Option<String>,
}

impl DisplayKey {
    /// What a row none of whose key fields holds a value is shown as.
    pub const NO_KEY: &'static str = "(no key)";

    /// A display key from the values of the key fields (the company part left out) and the company.
    pub fn new<'v>(
        values: impl IntoIterator<Item = Option<&'v Value>>,
        company: Option<&Value>,
    ) -> DisplayKey {
        let parts: Vec<String> = values.into_iter().map(shown).collect();
        let key = if parts.iter().all(|p| p.trim().is_empty()) {
            DisplayKey::NO_KEY.to_owned()
        } else {
            parts.join("|")
        };
        let company = Some(shown(company)).filter(|c| !c.trim().is_empty());
        DisplayKey { key, company }
    }
}

/// A key value as the row holds it: a string unchanged, a number or boolean printed, anything else
/// empty.
fn shown(value: Option<&Value>) -> String {
    match value {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Bool(b)) => b.to_string(),
        _ => String::new(),
    }
}

/// Why a row has no usable key value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyValueError {
    #[error("integration-key field `{field}` is null or empty; every key field needs a value")]
    Missing { field: String },
    #[error("integration-key field `{field}` is not mapped from {side}, so its value cannot be read")]
    NotMapped { field: String, side: Side },
    #[error("integration-key field `{field}`: {message}")]
    Invalid { field: String, message: String },
    #[error("{0}")]
    Map(String),
}

/// A key as refresh generates it from the alternate keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedKey {
    /// Key fields, lookups expanded.
    pub fields: Vec<String>,
    /// The alternate key chosen (the first).
    pub chosen: String,
    /// The other alternate keys, which were not chosen.
    pub others: Vec<String>,
}

/// Why no key can be had for a table.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("table {table} is not a Dataverse table of the schema")]
    UnknownTable { table: String },
    #[error("table {table} has no alternate key and no manual integration key; add an alternate key to the table or set the key by hand")]
    NoAlternateKey { table: String },
}

/// Generates the key of a Dataverse table from its alternate keys: one → it; several → the first
/// (the others are named in [`GeneratedKey::others`]); none → [`KeyError::NoAlternateKey`].
pub fn generate(schema: &Schema, table: &str) -> Result<GeneratedKey, KeyError> {
    let t = schema
        .table(Side::Dataverse, table)
        .ok_or_else(|| KeyError::UnknownTable { table: table.to_owned() })?;
    let (first, rest) =
        t.alternate_keys.split_first().ok_or_else(|| KeyError::NoAlternateKey { table: table.to_owned() })?;
    let fields = first.columns.iter().flat_map(|c| expand(schema, t, c, 0)).collect();
    Ok(GeneratedKey {
        fields,
        chosen: first.name.clone(),
        others: rest.iter().map(|k| k.name.clone()).collect(),
    })
}

/// A key column in dotted form: a plain column stays as it is; a lookup becomes `lookup.k` for each
/// field `k` of its target's key. The company part of a company-specific target is left out (a lookup
/// resolves within the row's own company), except for the company lookup itself.
pub fn expand(schema: &Schema, table: &Table, column: &str, depth: usize) -> Vec<String> {
    if column == COMPANY_LOOKUP {
        return vec![COMPANY_KEY_PATH.to_owned()];
    }
    let target = match table.column(column).map(|c| &c.ty) {
        Some(ColumnType::Lookup { target }) => schema.table(Side::Dataverse, target),
        _ => None,
    };
    let (Some(target), true) = (target, depth < 4) else {
        return vec![column.to_owned()];
    };
    let Some(key) = target.alternate_keys.first() else {
        return vec![column.to_owned()];
    };
    key.columns
        .iter()
        .filter(|c| !(target.company_specific && *c == COMPANY_LOOKUP))
        .flat_map(|c| expand(schema, target, c, depth + 1))
        .map(|f| format!("{column}.{f}"))
        .collect()
}

/// A stored key: its fields and whether it was set by hand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredKey {
    pub fields: Vec<String>,
    pub manual: bool,
}

/// Where an effective key comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyOrigin {
    /// Set by hand; survives refresh.
    Manual,
    /// Stored by the last refresh.
    Stored,
    /// Not stored yet: what refresh would generate.
    Generated,
}

/// The key validation and the runtime use for a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EffectiveKey {
    pub table: String,
    pub fields: Vec<String>,
    pub origin: KeyOrigin,
    /// For a generated key: the alternate keys that were not chosen.
    pub other_alternate_keys: Vec<String>,
    /// For a generated key: the alternate key chosen.
    pub chosen: Option<String>,
}

impl EffectiveKey {
    /// Whether `field` is the company part, supplied by the row's company rather than by a mapping.
    pub fn is_company_part(field: &str) -> bool {
        field == COMPANY_KEY_PATH
    }

    /// The key fields that field mappings must supply (the company part left out).
    pub fn mapped_fields(&self) -> impl Iterator<Item = &str> {
        self.fields.iter().map(String::as_str).filter(|f| !EffectiveKey::is_company_part(f))
    }
}

/// The integration keys of an environment pair: per Dataverse table, the stored fields and whether
/// they were set by hand.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IntegrationKeys {
    keys: BTreeMap<String, StoredKey>,
}

impl IntegrationKeys {
    pub fn new() -> IntegrationKeys {
        IntegrationKeys::default()
    }

    /// Keys as a package carries them. With a schema, a key equal to what refresh generates is stored
    /// as generated and any other is manual; without one, all are manual.
    pub fn from_package(keys: &BTreeMap<String, Vec<String>>, schema: Option<&Schema>) -> IntegrationKeys {
        let keys = keys
            .iter()
            .map(|(table, fields)| {
                let generated = schema.and_then(|s| generate(s, table).ok());
                let manual = generated.is_none_or(|g| &g.fields != fields);
                (table.clone(), StoredKey { fields: fields.clone(), manual })
            })
            .collect();
        IntegrationKeys { keys }
    }

    /// The keys as a package carries them.
    pub fn to_package(&self) -> BTreeMap<String, Vec<String>> {
        self.keys.iter().map(|(t, k)| (t.clone(), k.fields.clone())).collect()
    }

    /// The stored key of a table.
    pub fn get(&self, table: &str) -> Option<&StoredKey> {
        self.keys.get(table)
    }

    /// All stored keys, by table.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &StoredKey)> {
        self.keys.iter().map(|(t, k)| (t.as_str(), k))
    }

    /// Sets a table's key by hand; refresh leaves it alone.
    pub fn set_manual(&mut self, table: &str, fields: Vec<String>) {
        self.keys.insert(table.to_owned(), StoredKey { fields, manual: true });
    }

    /// Stores a generated key (what refresh does for one table).
    pub fn set_generated(&mut self, table: &str, fields: Vec<String>) {
        self.keys.insert(table.to_owned(), StoredKey { fields, manual: false });
    }

    /// Drops a table's key (manual or not); the effective key becomes what refresh would generate.
    pub fn remove(&mut self, table: &str) -> Option<StoredKey> {
        self.keys.remove(table)
    }

    /// Refresh: regenerates the key of each of `tables` from the schema, leaving manual keys alone.
    /// Returns, per table, why no key could be generated.
    pub fn refresh<'t>(
        &mut self,
        schema: &Schema,
        tables: impl IntoIterator<Item = &'t str>,
    ) -> Vec<KeyError> {
        let mut errors = Vec::new();
        for table in tables {
            if self.keys.get(table).is_some_and(|k| k.manual) {
                continue;
            }
            match generate(schema, table) {
                Ok(g) => self.set_generated(table, g.fields),
                Err(e) => {
                    self.keys.remove(table);
                    errors.push(e);
                }
            }
        }
        errors
    }

    /// The key in force for a table: manual, else stored, else what refresh would generate.
    pub fn effective(&self, schema: &Schema, table: &str) -> Result<EffectiveKey, KeyError> {
        if let Some(stored) = self.keys.get(table) {
            return Ok(EffectiveKey {
                table: table.to_owned(),
                fields: stored.fields.clone(),
                origin: if stored.manual { KeyOrigin::Manual } else { KeyOrigin::Stored },
                other_alternate_keys: Vec::new(),
                chosen: None,
            });
        }
        let generated = generate(schema, table)?;
        Ok(EffectiveKey {
            table: table.to_owned(),
            fields: generated.fields,
            origin: KeyOrigin::Generated,
            other_alternate_keys: generated.others,
            chosen: Some(generated.chosen),
        })
    }
}

/// A row's integration-key value on either side of a map: a Dataverse row (dotted form) gives it
/// directly, a finops row through the mappings of the key fields and its `dataAreaId`. To read many
/// rows, compile the map once with [`crate::row_mapping::RowMapper`] and call its `key_value`.
pub fn key_value(
    schema: &Schema,
    map: &crate::table_map::TableMap,
    key: &EffectiveKey,
    side: Side,
    row: &crate::schema::Row,
) -> Result<KeyValue, KeyValueError> {
    let mapper =
        crate::row_mapping::RowMapper::new(schema, map).map_err(|e| KeyValueError::Map(e.to_string()))?;
    mapper.key_value(key, side, row)
}

/// The key value of a Dataverse row in dotted form: each key field read from the row (the company part
/// under `msdyn_company.cdm_companycode`).
pub fn dataverse_key_value(key: &EffectiveKey, row: &crate::schema::Row) -> Result<KeyValue, KeyValueError> {
    let mut value = KeyValue::empty();
    for (i, field) in key.fields.iter().enumerate() {
        let part = row
            .get(field)
            .and_then(key_part)
            .ok_or_else(|| KeyValueError::Missing { field: field.clone() })?;
        value.push(i, &part);
    }
    Ok(value)
}

#[cfg(test)]
mod tests;
