//! One row through a map, in one direction.
//!
//! Dataverse rows are in "dotted form": a lookup appears as `"transactioncurrencyid.isocurrencycode":
//! "EUR"` and the company as `"msdyn_company.cdm_companycode": "DEMF"`. The server expands stored ids
//! into this form before calling core and resolves dotted keys into ids after.
//!
//! Rules: only fields flowing in the chosen direction are written; value maps (written finops →
//! Dataverse) are read forwards towards Dataverse and backwards towards finops; a `Default` supplies the
//! value when the source side is absent from the map or its value is null; every value is checked
//! and normalised for its destination column; the company is carried (`dataAreaId` ↔
//! `msdyn_company.cdm_companycode`). A source column absent from the row (a partial update) writes
//! nothing for that field.

use std::borrow::Cow;

use serde_json::Value;

/// The null a missing value reads as.
static NULL: Value = Value::Null;

use crate::error_code::ErrorCode;
use crate::integration_key::{key_part, DisplayKey, EffectiveKey, KeyValue, KeyValueError};
use crate::schema::{Column, Row, Schema, Side, Table, ValueError, COMPANY_KEY_PATH, DATA_AREA_ID};
use crate::table_map::{FieldMapping, TableMap};

/// Why a row cannot be mapped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct RowError {
    /// `VALUE_NOT_MAPPED`, `VALUE_TOO_LONG`, `REQUIRED_EMPTY`, `INVALID_VALUE`, `MISSING_COMPANY`, `UNKNOWN_COMPANY`.
    pub code: &'static str,
    /// The field (source side name), or the company column.
    pub field: String,
    pub value: Value,
    pub message: String,
}

/// A map that cannot be used to map rows (it has errors that validation reports).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("map `{map}` cannot map rows: {message}; fix the errors its validation reports")]
pub struct MapperError {
    pub map: String,
    pub message: String,
}

/// The same value for matching: strings compare case-insensitively, ignoring trailing spaces.
fn match_key(v: &Value) -> Value {
    match v {
        Value::String(s) => Value::String(crate::integration_key::normalize(s)),
        other => other.clone(),
    }
}

/// The destination side's column of a field.
#[derive(Debug, Clone)]
struct Slot<'a> {
    name: String,
    column: &'a Column,
    /// A dotted lookup path: values are keys of the target row.
    dotted: bool,
}

#[derive(Debug)]
struct CompiledField<'a> {
    mapping: &'a FieldMapping,
    finops: Option<Slot<'a>>,
    dataverse: Option<Slot<'a>>,
    /// Value map, (finops value, Dataverse value), both normalised for their columns.
    value_map: Option<Vec<(Value, Value)>>,
    /// The default, normalised for the finops / Dataverse column.
    default_finops: Option<Value>,
    default_dataverse: Option<Value>,
}

impl CompiledField<'_> {
    fn slot(&self, side: Side) -> Option<&Slot<'_>> {
        match side {
            Side::Finops => self.finops.as_ref(),
            Side::Dataverse => self.dataverse.as_ref(),
        }
    }
}

/// A map compiled against the schema, ready to map many rows.
#[derive(Debug)]
pub struct RowMapper<'a> {
    schema: &'a Schema,
    map: &'a TableMap,
    finops: &'a Table,
    dataverse: &'a Table,
    company_specific: bool,
    fields: Vec<CompiledField<'a>>,
}

impl<'a> RowMapper<'a> {
    /// Compiles `map` against `schema`; fails when a table, column or transform value does not resolve.
    pub fn new(schema: &'a Schema, map: &'a TableMap) -> Result<RowMapper<'a>, MapperError> {
        let error = |message: String| MapperError { map: map.name.clone(), message };
        let finops = schema
            .table(Side::Finops, &map.finops)
            .ok_or_else(|| error(format!("finops table `{}` is not in the schema", map.finops)))?;
        let dataverse = schema
            .table(Side::Dataverse, &map.dataverse)
            .ok_or_else(|| error(format!("Dataverse table `{}` is not in the schema", map.dataverse)))?;
        let mut fields = Vec::with_capacity(map.fields.len());
        for mapping in &map.fields {
            let finops_slot = match &mapping.finops {
                None => None,
                Some(name) => {
                    let column = finops
                        .column(name)
                        .ok_or_else(|| error(format!("`{name}` is not a column of {}", finops.name)))?;
                    Some(Slot { name: column.name.clone(), column, dotted: false })
                }
            };
            let dataverse_slot = match &mapping.dataverse {
                None => None,
                Some(path) => {
                    let resolved = schema.resolve_path(dataverse, path).map_err(|e| error(e.to_string()))?;
                    Some(Slot {
                        name: path.clone(),
                        column: resolved.column,
                        dotted: !resolved.hops.is_empty(),
                    })
                }
            };
            let value_map = match (mapping.value_map(), &finops_slot, &dataverse_slot) {
                (Some(vm), Some(f), Some(d)) => Some(
                    vm.entries
                        .iter()
                        .map(|(k, v)| {
                            let key = coerce(f, &Value::String(k.clone()))
                                .map(Cow::into_owned)
                                .map_err(|m| error(format!("value map key `{k}`: {m}")))?;
                            let value = coerce(d, v)
                                .map(Cow::into_owned)
                                .map_err(|m| error(format!("value map value {v}: {m}")))?;
                            Ok((match_key(&key), value))
                        })
                        .collect::<Result<Vec<_>, MapperError>>()?,
                ),
                _ => None,
            };
            let default = |slot: &Option<Slot<'_>>| -> Result<Option<Value>, MapperError> {
                match (mapping.default_value(), slot) {
                    (Some(d), Some(s)) => coerce(s, d)
                        .map(|v| Some(v.into_owned()))
                        .map_err(|m| error(format!("default value {d}: {m}"))),
                    _ => Ok(None),
                }
            };
            let default_finops =
                if mapping.direction.writes(Side::Finops) { default(&finops_slot)? } else { None };
            let default_dataverse =
                if mapping.direction.writes(Side::Dataverse) { default(&dataverse_slot)? } else { None };
            fields.push(CompiledField {
                mapping,
                finops: finops_slot,
                dataverse: dataverse_slot,
                value_map,
                default_finops,
                default_dataverse,
            });
        }
        Ok(RowMapper { schema, map, finops, dataverse, company_specific: finops.company_specific, fields })
    }

    /// The map being applied.
    pub fn map(&self) -> &'a TableMap {
        self.map
    }

    /// Maps a row of side `from` to a row of the other side: finops row → Dataverse row in dotted form,
    /// or Dataverse dotted row → finops row. All problems of the row are returned, not just the first.
    pub fn map_row(&self, from: Side, row: &Row) -> Result<Row, Vec<RowError>> {
        self.map_fields(from, row, None)
    }

    /// Maps what an update of a side-`from` row changed: only the fields whose value differs between
    /// `before` and `after` (the [`changed_mapped_fields`]), with their `after` values, and the
    /// company. Fields filled only from a default are left out: the update did not change them. This
    /// is what a change may write to an existing twin without undoing newer values of the fields it
    /// did not touch (a replayed or retried change included).
    pub fn map_changes(&self, from: Side, before: &Row, after: &Row) -> Result<Row, Vec<RowError>> {
        let changed = changed_mapped_fields(self.map, from, before, after);
        self.map_fields(from, after, Some(&changed))
    }

    /// Maps `row`, or only the fields of `only` (source-side names) when given.
    fn map_fields(&self, from: Side, row: &Row, only: Option<&[String]>) -> Result<Row, Vec<RowError>> {
        let to = from.other();
        let mut out = Row::new();
        let mut errors = Vec::new();
        for field in self.fields.iter().filter(|f| f.mapping.direction.writes(to)) {
            let Some(dest) = field.slot(to) else { continue };
            let source = match (field.slot(from), only) {
                (None, None) => None,
                (None, Some(_)) => continue,
                (Some(slot), Some(only)) => match field.mapping.field(from) {
                    // A changed field that the row no longer holds was cleared.
                    Some(name) if only.iter().any(|c| same_field(c, name, from)) => {
                        Some((slot, get(row, &slot.name, from).unwrap_or(&NULL)))
                    }
                    _ => continue,
                },
                (Some(slot), None) => match get(row, &slot.name, from) {
                    // A partial row without the column writes nothing for this field.
                    None => continue,
                    Some(v) => Some((slot, v)),
                },
            };
            match self.convert(field, from, source) {
                Ok(v) => {
                    out.insert(dest.name.clone(), v.into_owned());
                }
                Err(e) => errors.push(*e),
            }
        }
        if self.company_specific {
            let (source, dest) = match from {
                Side::Finops => (DATA_AREA_ID, COMPANY_KEY_PATH),
                Side::Dataverse => (COMPANY_KEY_PATH, DATA_AREA_ID),
            };
            match self.company(row, from) {
                Ok(code) => {
                    out.insert(dest.to_owned(), Value::String(code));
                }
                Err(e) => errors.push(RowError { field: source.to_owned(), ..*e }),
            }
        }
        if errors.is_empty() {
            Ok(out)
        } else {
            Err(errors)
        }
    }

    /// finops row → Dataverse row in dotted form.
    pub fn to_dataverse(&self, row: &Row) -> Result<Row, Vec<RowError>> {
        self.map_row(Side::Finops, row)
    }

    /// Dataverse row in dotted form → finops row.
    pub fn to_finops(&self, row: &Row) -> Result<Row, Vec<RowError>> {
        self.map_row(Side::Dataverse, row)
    }

    /// The row's company code, in the schema's spelling.
    fn company(&self, row: &Row, side: Side) -> Result<String, Box<RowError>> {
        let column = match side {
            Side::Finops => DATA_AREA_ID,
            Side::Dataverse => COMPANY_KEY_PATH,
        };
        let value = get(row, column, side).cloned().unwrap_or(Value::Null);
        let code = match &value {
            Value::String(s) if !s.trim().is_empty() => s.trim_end(),
            _ => {
                return Err(Box::new(RowError {
                    code: ErrorCode::MissingCompany.as_str(),
                    field: column.to_owned(),
                    value,
                    message: format!(
                        "map `{}`: the row has no company (`{column}`); rows of a company-specific table \
                         need one to sync",
                        self.map.name
                    ),
                }))
            }
        };
        if self.schema.companies.is_empty() {
            return Ok(code.to_owned());
        }
        self.schema.company(code).map(str::to_owned).ok_or_else(|| {
            Box::new(RowError {
                code: ErrorCode::UnknownCompany.as_str(),
                field: column.to_owned(),
                value: value.clone(),
                message: format!(
                    "map `{}`: company `{code}` is not linked for dual-write; linked companies: {}",
                    self.map.name,
                    self.schema.companies.join(", ")
                ),
            })
        })
    }

    /// One field's value, from the source value (`None`: the map has no source field).
    fn convert<'v>(
        &'v self,
        field: &'v CompiledField<'_>,
        from: Side,
        source: Option<(&Slot<'_>, &'v Value)>,
    ) -> Result<Cow<'v, Value>, Box<RowError>> {
        let to = from.other();
        let dest =
            field.slot(to).ok_or_else(|| self.invalid(field, from, &Value::Null, "no destination".into()))?;
        let default = match to {
            Side::Finops => field.default_finops.as_ref(),
            Side::Dataverse => field.default_dataverse.as_ref(),
        };
        let source_value: Cow<'v, Value> = match source {
            Some((slot, raw)) if !raw.is_null() => coerce(slot, raw)
                .map_err(|m| self.invalid_value(field, from, raw, "not a valid source value: ", &m))?,
            _ => Cow::Owned(Value::Null),
        };
        if source_value.is_null() {
            return match default {
                Some(d) => Ok(Cow::Borrowed(d)),
                None => {
                    coerce(dest, &NULL).map_err(|m| self.invalid_value(field, from, &Value::Null, "", &m))
                }
            };
        }
        let mapped: Cow<'v, Value> = match &field.value_map {
            None => source_value.clone(),
            Some(entries) => {
                let wanted = match_key(&source_value);
                let found = match from {
                    Side::Finops => entries.iter().find(|(k, _)| *k == wanted).map(|(_, v)| v),
                    Side::Dataverse => entries.iter().find(|(_, v)| match_key(v) == wanted).map(|(k, _)| k),
                };
                match found {
                    Some(v) => Cow::Borrowed(v),
                    None => {
                        return Err(Box::new(RowError {
                            code: ErrorCode::ValueNotMapped.as_str(),
                            field: field.slot(from).map_or_else(String::new, |s| s.name.clone()),
                            value: source_value.clone().into_owned(),
                            message: format!(
                            "map `{}`, field {}: value {} is not in the value map; add it to the value map \
                                 or change the row",
                            self.map.name,
                            field.mapping.label(),
                            source_value
                        ),
                        }))
                    }
                }
            }
        };
        let mapped = match (mapped.is_null(), default) {
            (true, Some(d)) => Cow::Borrowed(d),
            _ => mapped,
        };
        match mapped {
            Cow::Borrowed(v) => coerce(dest, v),
            Cow::Owned(v) => coerce(dest, &v).map(|c| Cow::Owned(c.into_owned())),
        }
        .map_err(|m| {
            self.invalid_value(field, from, &source_value, &format!("not valid for `{}`: ", dest.name), &m)
        })
    }

    /// A value that does not fit its column: `VALUE_TOO_LONG` for a string that would be truncated,
    /// `REQUIRED_EMPTY` for no value where one is required, `INVALID_VALUE` otherwise.
    fn invalid_value(
        &self,
        field: &CompiledField<'_>,
        from: Side,
        value: &Value,
        context: &str,
        error: &ValueError,
    ) -> Box<RowError> {
        let mut invalid = self.invalid(field, from, value, format!("{context}{error}"));
        invalid.code = match error {
            ValueError::TooLong { .. } => ErrorCode::ValueTooLong.as_str(),
            ValueError::Required => ErrorCode::RequiredEmpty.as_str(),
            _ => ErrorCode::InvalidValue.as_str(),
        };
        invalid
    }

    fn invalid(&self, field: &CompiledField<'_>, from: Side, value: &Value, why: String) -> Box<RowError> {
        Box::new(RowError {
            code: ErrorCode::InvalidValue.as_str(),
            field: field.slot(from).or(field.slot(from.other())).map_or_else(String::new, |s| s.name.clone()),
            value: value.clone(),
            message: format!(
                "map `{}`, field {}: value {value} is {why}",
                self.map.name,
                field.mapping.label()
            ),
        })
    }

    /// The row's integration-key value. A Dataverse row (dotted form) gives it directly; a finops row
    /// through the mappings of the key fields (towards Dataverse) and its `dataAreaId`.
    pub fn key_value(&self, key: &EffectiveKey, side: Side, row: &Row) -> Result<KeyValue, KeyValueError> {
        if side == Side::Dataverse {
            return crate::integration_key::dataverse_key_value(key, row);
        }
        let mut key_value = KeyValue::empty();
        for (i, key_field) in key.fields.iter().enumerate() {
            let value = if EffectiveKey::is_company_part(key_field) {
                self.company(row, Side::Finops)
                    .map(|code| Cow::Owned(Value::String(code)))
                    .map_err(|_| KeyValueError::Missing { field: DATA_AREA_ID.to_owned() })?
            } else {
                let field = self
                    .key_source(key_field)
                    .ok_or_else(|| KeyValueError::NotMapped { field: key_field.clone(), side })?;
                let source =
                    field.finops.as_ref().map(|s| (s, get(row, &s.name, side).unwrap_or(&Value::Null)));
                self.convert(field, Side::Finops, source)
                    .map_err(|e| KeyValueError::Invalid { field: key_field.clone(), message: e.message })?
            };
            let part = key_part(&value).ok_or_else(|| KeyValueError::Missing { field: key_field.clone() })?;
            key_value.push(i, &part);
        }
        Ok(key_value)
    }

    /// The mapping that supplies key field `key_field` from a finops row.
    fn key_source(&self, key_field: &str) -> Option<&CompiledField<'a>> {
        self.fields
            .iter()
            .find(|f| f.dataverse.as_ref().is_some_and(|d| d.name == key_field) && f.finops.is_some())
    }

    /// The row's key as people read it (see [`DisplayKey`]): for a Dataverse row (dotted form) the key
    /// fields' values, for a finops row the values of the finops columns mapped to the key fields, as
    /// the row holds them (no value map or normalisation applied), and the row's company apart, whether
    /// or not the key has a company part: under a key that leaves the company out, two rows of one key
    /// in two companies are told apart by it. A key field the row does not supply shows empty.
    pub fn display_key(&self, key: &EffectiveKey, side: Side, row: &Row) -> DisplayKey {
        let values = key.mapped_fields().map(|key_field| match side {
            Side::Dataverse => row.get(key_field),
            Side::Finops => self
                .key_source(key_field)
                .and_then(|f| f.finops.as_ref())
                .and_then(|s| get(row, &s.name, side)),
        });
        let company_column = if side == Side::Finops { DATA_AREA_ID } else { COMPANY_KEY_PATH };
        DisplayKey::new(values, get(row, company_column, side))
    }

    /// The finops and Dataverse tables of the map.
    pub fn tables(&self) -> (&'a Table, &'a Table) {
        (self.finops, self.dataverse)
    }

    /// Compares twins field by field, where each field's value would be written: on Dataverse for
    /// fields flowing there (both ways included), on finops for fields flowing only to finops. Values
    /// are compared normalised for their column (`"1.0"` equals `1`, lookup keys ignore case). For each
    /// field that differs: a field mapped both ways takes `master`'s value, a one-way field its source's.
    /// Fails with each side's mapping errors (indexed finops, Dataverse).
    pub(crate) fn differences(
        &self,
        finops: &Row,
        dataverse: &Row,
        master: Side,
    ) -> Result<Vec<Difference>, [Vec<RowError>; 2]> {
        let rows = [finops, dataverse];
        let mut errors: [Vec<RowError>; 2] = [Vec::new(), Vec::new()];
        let mut out = Vec::new();
        for field in &self.fields {
            let direction = field.mapping.direction;
            let compare_on = if direction.writes(Side::Dataverse) && field.dataverse.is_some() {
                Side::Dataverse
            } else {
                Side::Finops
            };
            let Some(dest) = field.slot(compare_on).filter(|_| direction.writes(compare_on)) else {
                continue;
            };
            let source_side = compare_on.other();
            let source = match field.slot(source_side) {
                None => None,
                Some(slot) => match get(rows[source_side as usize], &slot.name, source_side) {
                    None => continue,
                    Some(v) => Some((slot, v)),
                },
            };
            let incoming = match self.convert(field, source_side, source) {
                Ok(v) => v,
                Err(e) => {
                    errors[source_side as usize].push(*e);
                    continue;
                }
            };
            let current: &Value = get(rows[compare_on as usize], &dest.name, compare_on).unwrap_or(&NULL);
            if *incoming == *current {
                continue;
            }
            let same = match (coerce(dest, &incoming), coerce(dest, current)) {
                (Ok(a), Ok(b)) if dest.dotted => match_key(&a) == match_key(&b),
                (Ok(a), Ok(b)) => a == b,
                _ => false,
            };
            if same {
                continue;
            }
            let both = direction.writes(Side::Finops) && direction.writes(Side::Dataverse);
            let winner = if both { master } else { source_side };
            let write = if winner == source_side {
                (compare_on, dest.name.clone(), incoming.clone().into_owned())
            } else {
                let Some(back) = field.slot(source_side) else { continue };
                match self.convert(field, compare_on, Some((dest, current))) {
                    Ok(v) => (source_side, back.name.clone(), v.into_owned()),
                    Err(e) => {
                        errors[compare_on as usize].push(*e);
                        continue;
                    }
                }
            };
            let (incoming, current) = (incoming.into_owned(), current.clone());
            let (finops_value, dataverse_value) = match compare_on {
                Side::Dataverse => (incoming, current),
                Side::Finops => (current, incoming),
            };
            out.push(Difference {
                finops_field: field.finops.as_ref().map(|s| s.name.clone()),
                dataverse_field: field.dataverse.as_ref().map(|s| s.name.clone()),
                finops: finops_value,
                dataverse: dataverse_value,
                winner,
                write,
            });
        }
        if errors.iter().all(Vec::is_empty) {
            Ok(out)
        } else {
            Err(errors)
        }
    }
}

/// One mapped field whose values differ between twins (see [`RowMapper::differences`]).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Difference {
    pub finops_field: Option<String>,
    pub dataverse_field: Option<String>,
    /// Both values in the representation of the side compared on.
    pub finops: Value,
    pub dataverse: Value,
    pub winner: Side,
    /// What to write to the losing side: (side, column, value).
    pub write: (Side, String, Value),
}

/// Checks and normalises a value for a slot; a lookup path's null (no lookup) is allowed.
fn coerce<'v>(slot: &Slot<'_>, value: &'v Value) -> Result<Cow<'v, Value>, ValueError> {
    let checked = if slot.dotted {
        if value.is_null() {
            return Ok(Cow::Borrowed(value));
        }
        slot.column.ty.check(value)
    } else {
        slot.column.check(value)
    };
    checked
}

/// A row's value for a column: finops names case-insensitively.
pub(crate) fn get<'r>(row: &'r Row, name: &str, side: Side) -> Option<&'r Value> {
    match row.get(name) {
        Some(v) => Some(v),
        None if side == Side::Finops => {
            row.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v)
        }
        None => None,
    }
}

/// Maps one row (see [`RowMapper::map_row`]); a map that does not compile gives one `MAP_INVALID` error.
pub fn map_row(schema: &Schema, map: &TableMap, from: Side, row: &Row) -> Result<Row, Vec<RowError>> {
    let mapper = RowMapper::new(schema, map).map_err(|e| {
        vec![RowError {
            code: ErrorCode::MapInvalid.as_str(),
            field: String::new(),
            value: Value::Null,
            message: e.to_string(),
        }]
    })?;
    mapper.map_row(from, row)
}

/// The source-side fields (flowing out of `source_side`) whose value differs between `before` and
/// `after`: only changes to mapped fields sync.
pub fn changed_mapped_fields(map: &TableMap, source_side: Side, before: &Row, after: &Row) -> Vec<String> {
    let mut changed: Vec<String> = Vec::new();
    for field in map.fields.iter().filter(|f| f.direction.reads(source_side)) {
        let Some(name) = field.field(source_side) else { continue };
        let (b, a) = (get(before, name, source_side), get(after, name, source_side));
        let differs = b.unwrap_or(&Value::Null) != a.unwrap_or(&Value::Null);
        let seen = changed.iter().any(|c| same_field(c, name, source_side));
        if differs && !seen {
            changed.push(name.to_owned());
        }
    }
    changed
}

/// Whether two names of side `side` name the same field (finops names case-insensitively).
fn same_field(a: &str, b: &str, side: Side) -> bool {
    match side {
        Side::Finops => a.eq_ignore_ascii_case(b),
        Side::Dataverse => a == b,
    }
}

/// The dotted lookup paths a map reads or writes on the Dataverse side (the company path included for a
/// company-specific table), in order of first use: what the server expands before calling core and
/// resolves after.
pub fn dataverse_paths(schema: &Schema, map: &TableMap) -> Vec<String> {
    let mut paths: Vec<String> = Vec::new();
    let company_specific = schema.table(Side::Dataverse, &map.dataverse).is_some_and(|t| t.company_specific);
    if company_specific {
        paths.push(COMPANY_KEY_PATH.to_owned());
    }
    for path in map.fields.iter().filter_map(|f| f.dataverse.as_deref()).filter(|p| p.contains('.')) {
        if !paths.iter().any(|p| p == path) {
            paths.push(path.to_owned());
        }
    }
    paths
}

#[cfg(test)]
mod tests;
