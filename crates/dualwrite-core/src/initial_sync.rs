//! Planning an initial sync, purely: given a map and a chunk of rows from both sides, what to create,
//! what to update, which rows conflict, which are already equal, and which cannot be synced and why.
//!
//! The caller partitions rows by integration key so that twins land in the same chunk. Rows outside
//! their side's filter are left alone. Rows are matched by integration key ([`KeyValue`]); a key that is
//! null or occurs twice on one side makes those rows (and their twins) problems. A pair whose mapped
//! values differ is a conflict: for a field mapped both ways the master's value wins; a one-way field
//! always flows from its source side (the master only resolves conflicts, it does not set direction).
//! Every input row lands in exactly one outcome.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error_code::ErrorCode;
use crate::filter::{Dialect, Filter};
use crate::integration_key::{DisplayKey, EffectiveKey, IntegrationKeys, KeyValue, KeyValueError};
use crate::row_mapping::{RowError, RowMapper};
use crate::schema::{Row, Schema, Side};
use crate::table_map::TableMap;

/// A row to create on `side`, mapped from the other side's row `source_index`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Create {
    /// The side the row is created on.
    pub side: Side,
    pub key: KeyValue,
    /// The index of the source row in the other side's input.
    pub source_index: usize,
    pub row: Row,
}

/// Fields to write on an existing row of `side` (only the fields that differ).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Update {
    /// The side the row is updated on.
    pub side: Side,
    pub key: KeyValue,
    /// The index of the row in that side's input.
    pub index: usize,
    /// The index of its twin, whose values win, in the other side's input.
    pub source_index: usize,
    pub fields: Row,
}

/// One mapped field whose values differ between twins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct FieldDiff {
    pub finops_field: Option<String>,
    pub dataverse_field: Option<String>,
    /// The values, both in the representation of the side being compared (see `compared_on`).
    pub finops: Value,
    pub dataverse: Value,
    /// The side whose value is written to the other.
    pub winner: Side,
}

/// Twins whose mapped values differ.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Conflict {
    pub key: KeyValue,
    pub finops_index: usize,
    pub dataverse_index: usize,
    pub diffs: Vec<FieldDiff>,
    /// The master of the run (wins fields mapped both ways).
    pub master: Side,
}

/// Twins already equal on every mapped field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pair {
    pub key: KeyValue,
    pub finops_index: usize,
    pub dataverse_index: usize,
}

/// A row that cannot be synced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowProblem {
    pub side: Side,
    pub index: usize,
    pub key: Option<KeyValue>,
    /// `NULL_KEY`, `KEY_NOT_MAPPED`, `INVALID_KEY`, `DUPLICATE_KEY`, `TWIN_HAS_DUPLICATE_KEY`,
    /// `TWIN_FAILED`, or a row-mapping code (`VALUE_NOT_MAPPED`, `INVALID_VALUE`, `MISSING_COMPANY`, …).
    pub code: String,
    pub message: String,
}

/// A row outside its side's filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Filtered {
    pub side: Side,
    pub index: usize,
}

/// What an initial sync of one chunk does.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Plan {
    pub creates: Vec<Create>,
    pub updates: Vec<Update>,
    pub conflicts: Vec<Conflict>,
    pub equal: Vec<Pair>,
    pub problems: Vec<RowProblem>,
    pub filtered: Vec<Filtered>,
}

impl Plan {
    /// Creates on one side.
    pub fn creates_on(&self, side: Side) -> impl Iterator<Item = &Create> {
        self.creates.iter().filter(move |c| c.side == side)
    }

    /// Updates on one side.
    pub fn updates_on(&self, side: Side) -> impl Iterator<Item = &Update> {
        self.updates.iter().filter(move |u| u.side == side)
    }

    /// Applies the plan to in-memory rows of one side (creates appended, updates merged), as the runtime
    /// applies it to the store; preflight and tests use it.
    pub fn apply(&self, side: Side, rows: &mut Vec<Row>) {
        for update in self.updates_on(side) {
            if let Some(row) = rows.get_mut(update.index) {
                for (k, v) in &update.fields {
                    row.insert(k.clone(), v.clone());
                }
            }
        }
        rows.extend(self.creates_on(side).map(|c| c.row.clone()));
    }
}

/// Why no plan can be made for a map.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error(transparent)]
    Map(#[from] crate::row_mapping::MapperError),
    #[error(transparent)]
    Key(#[from] crate::integration_key::KeyError),
    #[error("map `{map}`: {side} filter: {error}")]
    Filter { map: String, side: Side, error: crate::filter::ParseError },
}

/// A map ready to plan chunk after chunk.
#[derive(Debug)]
pub struct Planner<'a> {
    mapper: RowMapper<'a>,
    key: EffectiveKey,
    master: Side,
    filters: [Option<Filter>; 2],
}

/// One side's rows, keyed.
/// The rows of one side with one key (more than one: a duplicate key).
struct Indexes {
    first: usize,
    more: Vec<usize>,
}

impl Indexes {
    fn len(&self) -> usize {
        1 + self.more.len()
    }

    fn all(&self) -> impl Iterator<Item = usize> + '_ {
        std::iter::once(self.first).chain(self.more.iter().copied())
    }
}

/// One side's rows by key, keys in first-seen order (for a deterministic plan).
type Keyed = IndexMap<KeyValue, Indexes>;

impl<'a> Planner<'a> {
    /// Compiles the map, its key and its filters.
    pub fn new(
        schema: &'a Schema,
        keys: &IntegrationKeys,
        map: &'a TableMap,
        master: Side,
    ) -> Result<Planner<'a>, PlanError> {
        let mapper = RowMapper::new(schema, map)?;
        let key = keys.effective(schema, &map.dataverse)?;
        let filter = |side: Side| -> Result<Option<Filter>, PlanError> {
            map.filter(side)
                .map(|text| Filter::parse(Dialect::of(side), text))
                .transpose()
                .map_err(|error| PlanError::Filter { map: map.name.clone(), side, error })
        };
        Ok(Planner { mapper, key, master, filters: [filter(Side::Finops)?, filter(Side::Dataverse)?] })
    }

    /// How the row `row` of `side` is named where it is listed (see [`RowMapper::display_key`]).
    pub fn display_key(&self, side: Side, row: &Row) -> DisplayKey {
        self.mapper.display_key(&self.key, side, row)
    }

    /// Plans one chunk.
    pub fn plan(&self, finops: &[Row], dataverse: &[Row]) -> Plan {
        let mut plan = Plan::default();
        let f = self.keyed(Side::Finops, finops, &mut plan);
        let d = self.keyed(Side::Dataverse, dataverse, &mut plan);
        for (side, own, other, rows) in [(Side::Finops, &f, &d, finops), (Side::Dataverse, &d, &f, dataverse)]
        {
            for (key, indexes) in own {
                let twins = other.get(key);
                let duplicate = indexes.len() > 1;
                let twin_duplicate = twins.is_some_and(|t| t.len() > 1);
                if duplicate {
                    for index in indexes.all() {
                        plan.problems.push(RowProblem {
                            side,
                            index,
                            key: Some(key.clone()),
                            code: ErrorCode::DuplicateKey.into(),
                            message: format!(
                                "{} {side} rows have integration key `{key}` (compared ignoring case and trailing \
                                 spaces); make the key unique, then rerun",
                                indexes.len()
                            ),
                        });
                    }
                    continue;
                }
                let index = indexes.first;
                if twin_duplicate {
                    plan.problems.push(RowProblem {
                        side,
                        index,
                        key: Some(key.clone()),
                        code: ErrorCode::TwinHasDuplicateKey.into(),
                        message: format!(
                            "integration key `{key}` occurs on several {} rows, so this row cannot be matched",
                            side.other()
                        ),
                    });
                    continue;
                }
                match twins {
                    None => self.create(side, key, index, &rows[index], &mut plan),
                    // Pairs are planned once, from the finops side.
                    Some(t) if side == Side::Finops => {
                        self.pair(key, index, t.first, finops, dataverse, &mut plan)
                    }
                    Some(_) => {}
                }
            }
        }
        plan
    }

    /// Rows of one side by key; rows outside the filter and rows without a key are recorded here.
    fn keyed(&self, side: Side, rows: &[Row], plan: &mut Plan) -> Keyed {
        let filter = &self.filters[side as usize];
        let mut keyed = Keyed::with_capacity(rows.len());
        for (index, row) in rows.iter().enumerate() {
            if filter.as_ref().is_some_and(|f| !f.matches(row)) {
                plan.filtered.push(Filtered { side, index });
                continue;
            }
            match self.mapper.key_value(&self.key, side, row) {
                Ok(key) => match keyed.entry(key) {
                    indexmap::map::Entry::Occupied(e) => e.into_mut().more.push(index),
                    indexmap::map::Entry::Vacant(e) => {
                        e.insert(Indexes { first: index, more: Vec::new() });
                    }
                },
                Err(e) => plan.problems.push(RowProblem {
                    side,
                    index,
                    key: None,
                    code: match e {
                        KeyValueError::Missing { .. } => ErrorCode::NullKey,
                        KeyValueError::NotMapped { .. } => ErrorCode::KeyNotMapped,
                        KeyValueError::Invalid { .. } | KeyValueError::Map(_) => ErrorCode::InvalidKey,
                    }
                    .into(),
                    message: format!("map `{}`: {e}", self.mapper.map().name),
                }),
            }
        }
        keyed
    }

    fn create(&self, from: Side, key: &KeyValue, index: usize, row: &Row, plan: &mut Plan) {
        match self.mapper.map_row(from, row) {
            Ok(mapped) => plan.creates.push(Create {
                side: from.other(),
                key: key.clone(),
                source_index: index,
                row: mapped,
            }),
            Err(errors) => problems_from(from, index, key, errors, plan),
        }
    }

    fn pair(&self, key: &KeyValue, fi: usize, di: usize, finops: &[Row], dataverse: &[Row], plan: &mut Plan) {
        let differences = match self.mapper.differences(&finops[fi], &dataverse[di], self.master) {
            Ok(d) => d,
            Err([finops_errors, dataverse_errors]) => {
                for (side, index, errors) in
                    [(Side::Finops, fi, finops_errors), (Side::Dataverse, di, dataverse_errors)]
                {
                    if errors.is_empty() {
                        plan.problems.push(RowProblem {
                            side,
                            index,
                            key: Some(key.clone()),
                            code: ErrorCode::TwinFailed.into(),
                            message: format!(
                                "the {} twin of key `{key}` cannot be mapped, so this pair is not synced",
                                side.other()
                            ),
                        });
                    } else {
                        problems_from(side, index, key, errors, plan);
                    }
                }
                return;
            }
        };
        if differences.is_empty() {
            plan.equal.push(Pair { key: key.clone(), finops_index: fi, dataverse_index: di });
            return;
        }
        let mut updates = [Row::new(), Row::new()];
        let mut diffs = Vec::with_capacity(differences.len());
        for d in differences {
            let (side, column, value) = d.write;
            updates[side as usize].insert(column, value);
            diffs.push(FieldDiff {
                finops_field: d.finops_field,
                dataverse_field: d.dataverse_field,
                finops: d.finops,
                dataverse: d.dataverse,
                winner: d.winner,
            });
        }
        let [finops_update, dataverse_update] = updates;
        for (side, index, source_index, fields) in
            [(Side::Finops, fi, di, finops_update), (Side::Dataverse, di, fi, dataverse_update)]
        {
            if !fields.is_empty() {
                plan.updates.push(Update { side, key: key.clone(), index, source_index, fields });
            }
        }
        plan.conflicts.push(Conflict {
            key: key.clone(),
            finops_index: fi,
            dataverse_index: di,
            diffs,
            master: self.master,
        });
    }
}

fn problems_from(side: Side, index: usize, key: &KeyValue, errors: Vec<RowError>, plan: &mut Plan) {
    let code = errors.first().map_or(ErrorCode::InvalidValue.as_str(), |e| e.code).to_owned();
    let message = errors.iter().map(|e| e.message.as_str()).collect::<Vec<_>>().join("; ");
    plan.problems.push(RowProblem { side, index, key: Some(key.clone()), code, message });
}

/// Plans one chunk (see [`Planner`] to plan many chunks of the same map).
pub fn plan(
    schema: &Schema,
    keys: &IntegrationKeys,
    map: &TableMap,
    master: Side,
    finops: &[Row],
    dataverse: &[Row],
) -> Result<Plan, PlanError> {
    Ok(Planner::new(schema, keys, map, master)?.plan(finops, dataverse))
}

#[cfg(test)]
mod tests;
