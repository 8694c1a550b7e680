//! One write operation on one environment, checked the way the source system checks it: the table
//! exists, values fit their columns, required columns are present, keys are unique, finops references
//! and Dataverse lookups name existing rows, and a row's company never changes.

use dualwrite_core::api::{Op, OpKind};
use dualwrite_core::error_code::ErrorCode;
use dualwrite_core::integration_key::key_part;
use dualwrite_core::schema::{
    ColumnType, Row, Schema, Side, Table, COMPANY_CODE, COMPANY_KEY_PATH, COMPANY_LOOKUP, COMPANY_TABLE,
    DATA_AREA_ID,
};
use serde_json::{json, Value};

use super::keys::{self, find_by_columns, row_keys};
use super::lookup::{self, Company, LookupError};
use crate::store::{RowKey, StoredRow, Tx};
use crate::sync_error::SyncError;

/// What a write did to one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    Inserted,
    Updated,
    Deleted,
}

impl Applied {
    pub fn as_str(self) -> &'static str {
        match self {
            Applied::Inserted => "insert",
            Applied::Updated => "update",
            Applied::Deleted => "delete",
        }
    }

    /// The op as the API names it.
    pub fn op(self) -> OpKind {
        match self {
            Applied::Inserted => OpKind::Insert,
            Applied::Updated => OpKind::Update,
            Applied::Deleted => OpKind::Delete,
        }
    }
}

/// One applied write: the row before and after, in stored form.
#[derive(Debug, Clone, PartialEq)]
pub struct Written {
    pub side: Side,
    /// The table's name in the schema's spelling.
    pub table: String,
    pub applied: Applied,
    pub before: Option<Row>,
    pub after: Option<Row>,
}

impl Written {
    /// The row as it is now, or as it was before a delete.
    pub fn row(&self) -> Option<&Row> {
        self.after.as_ref().or(self.before.as_ref())
    }
}

/// The table `name` of `side`, or not found, naming it.
pub fn table<'s>(schema: &'s Schema, side: Side, name: &str) -> Result<&'s Table, SyncError> {
    schema.table(side, name).ok_or_else(|| {
        SyncError::not_found(format_args!("{side} table `{name}`"))
            .with("table", name)
            .with("side", side.as_str())
    })
}

/// What can be told of `op` without reading a stored row: its table is known and the values it
/// carries fit the columns (that it carries what its kind needs, core's `TransactionRequest` checks).
/// A transaction checks every op this way before it asks whether the environment takes writes, so a
/// malformed request says what is wrong even during maintenance.
pub fn check(schema: &Schema, side: Side, op: &Op) -> Result<(), SyncError> {
    let table = table(schema, side, &op.table)?;
    match &op.row {
        Some(row) => check_row(schema, table, row, op.op != OpKind::Insert).map(drop),
        None => Ok(()),
    }
}

/// `row` checked against `table`: no read-only column written, known columns, fitting values, and
/// (unless `partial`) every required column.
fn check_row(schema: &Schema, table: &Table, row: &Row, partial: bool) -> Result<Row, SyncError> {
    let read_only = table.read_only_columns_in(row);
    if !read_only.is_empty() {
        return Err(SyncError::malformed(
            ErrorCode::ReadOnlyColumn,
            format!(
                "{} table {} does not take values for its read-only column(s) {}; leave them out",
                table.side,
                table.name,
                read_only.join(", ")
            ),
        )
        .with("table", table.name.clone())
        .with("columns", read_only.iter().map(|c| Value::String((*c).to_owned())).collect::<Vec<_>>()));
    }
    table.check_row(schema, row, partial).map_err(|e| {
        let problems: Vec<Value> =
            e.problems.iter().map(|p| json!({"column": p.column, "message": p.message})).collect();
        SyncError::invalid(ErrorCode::InvalidRow, e.to_string())
            .with("table", table.name.clone())
            .with("problems", problems)
    })
}

/// Applies one operation. Nothing is committed here: the caller's transaction decides.
pub fn apply(tx: &mut dyn Tx, schema: &Schema, side: Side, op: &Op) -> Result<Written, SyncError> {
    let table = table(schema, side, &op.table)?;
    let mut w = Writer { tx, schema, table };
    match op.op {
        OpKind::Insert => {
            let row = op.row.as_ref().ok_or_else(|| missing("insert", "row"))?;
            w.insert(row)
        }
        OpKind::Update => {
            let row = op.row.as_ref().ok_or_else(|| missing("update", "row"))?;
            let key = match &op.key {
                Some(k) => operation_key(table, k)?.clone(),
                None => w.key_of(row)?,
            };
            let existing = w.locate(&key)?.ok_or_else(|| not_found(table, &key))?;
            w.update(existing, row)
        }
        OpKind::Upsert => {
            let row = op.row.as_ref().ok_or_else(|| missing("upsert", "row"))?;
            let key = match &op.key {
                Some(k) => operation_key(table, k)?.clone(),
                None => w.key_of(row)?,
            };
            match w.locate(&key)? {
                Some(existing) => w.update(existing, row),
                None => w.insert(row),
            }
        }
        OpKind::Delete => {
            let key = operation_key(table, op.key.as_ref().ok_or_else(|| missing("delete", "key"))?)?;
            let existing = w.locate(key)?.ok_or_else(|| not_found(table, key))?;
            delete(w.tx, table, existing)
        }
    }
}

/// The row of `table` on `side` that `key` names (see [`Writer::locate`]).
pub fn find(
    tx: &mut dyn Tx,
    schema: &Schema,
    table: &Table,
    key: &Row,
) -> Result<Option<StoredRow>, SyncError> {
    Writer { tx, schema, table }.locate(key)
}

/// Looks up the rows of `table` that `keys` name together, so that [`find`]ing each of them in this
/// transaction afterwards asks the database nothing (keys that are not one of the table's are left
/// to `find`).
pub fn prefetch(tx: &mut dyn Tx, schema: &Schema, table: &Table, keys: &[Row]) -> Result<(), SyncError> {
    let mut by_name: Vec<(String, Vec<String>)> = Vec::new();
    let mut w = Writer { tx, schema, table };
    for key in keys {
        let (columns, values) = match w.key_columns(key) {
            Ok(Some(found)) => found,
            Err(internal @ SyncError::Internal(_)) => return Err(internal),
            // A key that names no row, or that `find` will refuse: left to it.
            Ok(None) | Err(_) => continue,
        };
        let Some(found) = keys::key_of_columns(table, &columns, &values) else { continue };
        match by_name.iter_mut().find(|(name, _)| *name == found.name) {
            Some((_, values)) => values.push(found.value),
            None => by_name.push((found.name, vec![found.value])),
        }
    }
    for (name, values) in by_name {
        let values: Vec<&str> = values.iter().map(String::as_str).collect();
        w.tx.prefetch_rows(table.side, &table.name, &name, &values)?;
    }
    Ok(())
}

/// Inserts a row into `table`, checked as a client's insert is.
pub fn insert(tx: &mut dyn Tx, schema: &Schema, table: &Table, row: &Row) -> Result<Written, SyncError> {
    Writer { tx, schema, table }.insert(row)
}

/// Inserts `rows` into `table` together, each checked as a client's insert is: all or none, in a
/// few statements rather than a few per row. A refused row refuses them all; the caller may insert
/// them one by one to learn which.
pub fn insert_all(
    tx: &mut dyn Tx,
    schema: &Schema,
    table: &Table,
    rows: &[Row],
) -> Result<Vec<Written>, SyncError> {
    Writer { tx, schema, table }.insert_all(rows)
}

/// Upserts `rows` of `table` that are all new, together: what upserting each would do when none of
/// them is there yet (each must hold one of the table's keys, as an upsert's row does). All or none:
/// a row refused, already there, or given twice refuses them all, and the caller may upsert them one
/// by one instead.
pub fn upsert_new(
    tx: &mut dyn Tx,
    schema: &Schema,
    table: &Table,
    rows: &[Row],
) -> Result<Vec<Written>, SyncError> {
    let mut w = Writer { tx, schema, table };
    for row in rows {
        w.key_of(row)?;
    }
    w.insert_all(rows)
}

/// Changes `existing`, a row of `table`, checked as a client's update is.
pub fn update(
    tx: &mut dyn Tx,
    schema: &Schema,
    table: &Table,
    existing: StoredRow,
    changes: &Row,
) -> Result<Written, SyncError> {
    Writer { tx, schema, table }.update(existing, changes)
}

/// Deletes `existing`, a row of `table`.
pub fn delete(tx: &mut dyn Tx, table: &Table, existing: StoredRow) -> Result<Written, SyncError> {
    tx.delete_row(existing.id)?;
    Ok(Written {
        side: table.side,
        table: table.name.clone(),
        applied: Applied::Deleted,
        before: Some(existing.data),
        after: None,
    })
}

/// `key` when it names a row by exactly one of the table's keys (core's [`Table::operation_key`]);
/// otherwise refused as malformed, naming the keys it accepts, since any other set of columns may
/// match several rows.
fn operation_key<'k>(table: &Table, key: &'k Row) -> Result<&'k Row, SyncError> {
    let names: Vec<&str> = key.keys().map(String::as_str).collect();
    if names.is_empty() {
        return Err(SyncError::malformed(ErrorCode::MissingField, "the `key` names no column"));
    }
    if table.operation_key(&names).is_some() {
        return Ok(key);
    }
    let accepted = table.operation_keys();
    let described: Vec<String> = match table.side {
        Side::Finops => vec![format!("its entity key ({})", table.entity_key().join(", "))],
        Side::Dataverse => std::iter::once(format!("its id ({})", table.id_column_name()))
            .chain(
                table
                    .alternate_keys
                    .iter()
                    .map(|ak| format!("alternate key {} ({})", ak.name, ak.columns.join(", "))),
            )
            .collect(),
    };
    Err(SyncError::malformed(
        ErrorCode::InvalidKey,
        format!(
            "the key ({}) is not a key of {} table {}: name the row by {}",
            names.join(", "),
            table.side,
            table.name,
            described.join(" or ")
        ),
    )
    .with("table", table.name.clone())
    .with("accepted_keys", serde_json::to_value(&accepted).unwrap_or_default()))
}

fn missing(op: &str, what: &str) -> SyncError {
    SyncError::malformed(ErrorCode::MissingField, format!("an `{op}` operation needs a `{what}`"))
}

fn not_found(table: &Table, key: &Row) -> SyncError {
    SyncError::not_found(format_args!(
        "{} row of table {} with key {}",
        table.side,
        table.name,
        Value::Object(key.clone())
    ))
    .with("table", table.name.clone())
}

fn lookup_error(table: &Table, e: LookupError) -> SyncError {
    match e {
        LookupError::Path(message) => {
            SyncError::invalid(ErrorCode::InvalidRow, message).with("table", table.name.clone())
        }
        LookupError::NotFound { ref path, ref value, table: ref target, .. } => {
            let message = format!("cannot resolve lookup {e}; create that {target} row first");
            SyncError::invalid(ErrorCode::LookupNotFound, message)
                .with("field", path.clone())
                .with("value", value.clone())
                .with("target_table", target.clone())
        }
    }
}

/// A key as columns of a table and the values they hold.
type KeyColumns<'t> = (Vec<&'t str>, Vec<Value>);

struct Writer<'a> {
    tx: &'a mut dyn Tx,
    schema: &'a Schema,
    table: &'a Table,
}

impl<'a> Writer<'a> {
    fn side(&self) -> Side {
        self.table.side
    }

    /// The row values checked against the table: no read-only column written, known columns, fitting
    /// values, and (unless `partial`) every required column.
    fn check(&self, row: &Row, partial: bool) -> Result<Row, SyncError> {
        check_row(self.schema, self.table, row, partial)
    }

    fn insert(&mut self, row: &Row) -> Result<Written, SyncError> {
        let (row, keys) = self.insertable(row)?;
        self.tx
            .insert_row(self.side(), &self.table.name, &row, &keys)?
            .map_err(|dup| self.duplicate(&dup.key))?;
        self.inserted(row)
    }

    /// Inserts `rows` together (see [`insert_all`]).
    fn insert_all(&mut self, rows: &[Row]) -> Result<Vec<Written>, SyncError> {
        let ready = rows.iter().map(|row| self.insertable(row)).collect::<Result<Vec<_>, _>>()?;
        let set: Vec<(&Row, &[RowKey])> = ready.iter().map(|(row, keys)| (row, keys.as_slice())).collect();
        self.tx.insert_rows(self.side(), &self.table.name, &set)?.map_err(|dup| self.duplicate(&dup.key))?;
        ready.into_iter().map(|(row, _)| self.inserted(row)).collect()
    }

    /// A row checked and settled for an insert, with its keys.
    fn insertable(&mut self, row: &Row) -> Result<(Row, Vec<RowKey>), SyncError> {
        let mut row = self.check(row, false)?;
        if self.side() == Side::Dataverse {
            let id_column = self.table.id_column_name().to_owned();
            if row.get(&id_column).is_none_or(Value::is_null) {
                row.insert(id_column, Value::String(uuid::Uuid::new_v4().to_string()));
            }
        }
        let row = self.settle(row, None)?;
        let keys = row_keys(self.table, &row);
        if self.side() == Side::Finops && !keys.iter().any(|k| k.name == keys::ENTITY_KEY) {
            return Err(SyncError::invalid(
                ErrorCode::InvalidRow,
                format!(
                    "finops table {} needs every column of its key ({}) on insert",
                    self.table.name,
                    self.table.entity_key().join(", ")
                ),
            )
            .with("table", self.table.name.clone()));
        }
        Ok((row, keys))
    }

    /// What inserting `row` wrote, once its references are checked (after the write, so that a row
    /// may reference itself).
    fn inserted(&mut self, row: Row) -> Result<Written, SyncError> {
        self.check_references(&row)?;
        Ok(Written {
            side: self.side(),
            table: self.table.name.clone(),
            applied: Applied::Inserted,
            before: None,
            after: Some(row),
        })
    }

    fn update(&mut self, existing: StoredRow, changes: &Row) -> Result<Written, SyncError> {
        let changes = self.check(changes, true)?;
        let mut merged = existing.data.clone();
        // A value given in dotted form replaces the stored lookup it names.
        for (name, value) in changes {
            merged.insert(name, value);
        }
        let row = self.settle(merged, Some(&existing.data))?;
        let keys = row_keys(self.table, &row);
        self.tx
            .update_row(existing.id, self.side(), &self.table.name, &row, &keys)?
            .map_err(|dup| self.duplicate(&dup.key))?;
        self.check_references(&row)?;
        Ok(Written {
            side: self.side(),
            table: self.table.name.clone(),
            applied: Applied::Updated,
            before: Some(existing.data),
            after: Some(row),
        })
    }

    fn duplicate(&self, key: &str) -> SyncError {
        let which = if key == keys::ENTITY_KEY { "entity key".to_owned() } else { format!("key {key}") };
        SyncError::conflict(
            ErrorCode::DuplicateKey,
            format!("{} table {} already has a row with the same {which}", self.side(), self.table.name),
        )
        .with("table", self.table.name.clone())
        .with("key", key)
    }

    /// The row in stored form: company checked and unchanged, Dataverse lookups given in dotted form
    /// resolved to ids and lookups given as ids checked.
    fn settle(&mut self, mut row: Row, existing: Option<&Row>) -> Result<Row, SyncError> {
        match self.side() {
            Side::Finops => {
                if self.table.company_specific {
                    let given = keys::get(self.table, &row, DATA_AREA_ID).cloned().unwrap_or(Value::Null);
                    let code = given.as_str().and_then(|c| self.schema.company(c)).ok_or_else(|| {
                        SyncError::invalid(
                            ErrorCode::UnknownCompany,
                            format!(
                                "`{DATA_AREA_ID}` {given} is not a company of this environment (expected one of {})",
                                self.schema.companies.join(", ")
                            ),
                        )
                    })?;
                    row.retain(|k, _| !k.eq_ignore_ascii_case(DATA_AREA_ID));
                    row.insert(DATA_AREA_ID.to_owned(), Value::String(code.to_owned()));
                    if let Some(old) = existing.and_then(|e| keys::get(self.table, e, DATA_AREA_ID)) {
                        if old.as_str() != Some(code) {
                            return Err(company_change(self.table, old, code));
                        }
                    }
                }
                Ok(row)
            }
            Side::Dataverse => {
                if let Some(old) = existing {
                    let id_column = self.table.id_column_name();
                    if row.get(id_column) != old.get(id_column) {
                        return Err(SyncError::invalid(
                            ErrorCode::InvalidRow,
                            format!("`{id_column}` identifies the row and cannot change"),
                        ));
                    }
                }
                let company =
                    if self.table.company_specific { Some(self.company(&mut row, existing)?) } else { None };
                let dotted: Vec<String> = row.keys().filter(|k| k.contains('.')).cloned().collect();
                for path in dotted {
                    let value = row.remove(&path).unwrap_or(Value::Null);
                    let column = path.split('.').next().unwrap_or_default().to_owned();
                    let id = match self.own_id(&row, &path, &value) {
                        Some(id) => Some(id),
                        None => lookup::resolve(
                            self.tx,
                            self.schema,
                            self.table,
                            &path,
                            &value,
                            company.as_ref(),
                        )?
                        .map_err(|e| lookup_error(self.table, e))?,
                    };
                    row.insert(column, id.map_or(Value::Null, Value::String));
                }
                self.check_lookup_ids(&row, existing)?;
                Ok(row)
            }
        }
    }

    /// A self-lookup naming the row itself (an account that is its own billing account) resolves to
    /// the row's own id, which exists only once the row is written.
    fn own_id(&self, row: &Row, path: &str, value: &Value) -> Option<String> {
        let resolved = self.schema.resolve_path(self.table, path).ok()?;
        let [hop] = resolved.hops.as_slice() else { return None };
        if hop.target.name != self.table.name {
            return None;
        }
        let own = row.get(&resolved.column.name).and_then(key_part)?;
        (key_part(value)? == own).then(|| lookup::id_of(self.table, row)).flatten()
    }

    /// The row's company: from `msdyn_company.cdm_companycode` or the `msdyn_company` id; required,
    /// and the same as before on an update.
    fn company(&mut self, row: &mut Row, existing: Option<&Row>) -> Result<Company, SyncError> {
        let companies = table(self.schema, Side::Dataverse, COMPANY_TABLE)?;
        let id = match row.remove(COMPANY_KEY_PATH) {
            Some(code) => lookup::resolve(self.tx, self.schema, self.table, COMPANY_KEY_PATH, &code, None)?
                .map_err(|e| lookup_error(self.table, e))?,
            None => row.get(COMPANY_LOOKUP).and_then(Value::as_str).map(str::to_owned),
        };
        let Some(id) = id else {
            return Err(SyncError::invalid(
                ErrorCode::InvalidRow,
                format!(
                    "{} is company-specific: give `{COMPANY_KEY_PATH}` (a company code) or `{COMPANY_LOOKUP}` (its id)",
                    self.table.name
                ),
            ));
        };
        let company_row = self
            .tx
            .find_row(Side::Dataverse, COMPANY_TABLE, keys::ID, &keys::id_value(&id))?
            .ok_or_else(|| {
            lookup_error(
                self.table,
                LookupError::NotFound {
                    path: COMPANY_LOOKUP.into(),
                    value: Value::String(id.clone()),
                    table: companies.name.clone(),
                    company: None,
                },
            )
        })?;
        let stored_id = lookup::id_of(companies, &company_row.data).unwrap_or(id);
        let code = company_row.data.get(COMPANY_CODE).and_then(Value::as_str).unwrap_or_default().to_owned();
        if let Some(old) = existing.and_then(|e| e.get(COMPANY_LOOKUP)).and_then(Value::as_str) {
            if !old.eq_ignore_ascii_case(&stored_id) {
                return Err(company_change(self.table, &Value::String(old.to_owned()), &code));
            }
        }
        row.insert(COMPANY_LOOKUP.to_owned(), Value::String(stored_id.clone()));
        Ok(Company { id: stored_id, code })
    }

    /// Every lookup given (or changed) as an id names an existing row of its target table.
    fn check_lookup_ids(&mut self, row: &Row, existing: Option<&Row>) -> Result<(), SyncError> {
        for column in &self.table.columns {
            let ColumnType::Lookup { target } = &column.ty else { continue };
            let Some(id) = row.get(&column.name).and_then(Value::as_str) else { continue };
            if existing.and_then(|e| e.get(&column.name)).and_then(Value::as_str) == Some(id) {
                continue;
            }
            let target_table = table(self.schema, Side::Dataverse, target)?;
            let own =
                target_table.name == self.table.name && lookup::id_of(self.table, row).as_deref() == Some(id);
            if !own && !lookup::exists(self.tx, target_table, id)? {
                return Err(lookup_error(
                    self.table,
                    LookupError::NotFound {
                        path: column.name.clone(),
                        value: Value::String(id.to_owned()),
                        table: target_table.name.clone(),
                        company: None,
                    },
                ));
            }
        }
        Ok(())
    }

    /// finops: every column that references another entity names an existing row of it (within the
    /// row's company when that entity is company-specific). Checked after the write, so a row may
    /// reference itself.
    fn check_references(&mut self, row: &Row) -> Result<(), SyncError> {
        if self.side() != Side::Finops {
            return Ok(());
        }
        for column in self.table.columns.iter().filter(|c| c.references.is_some()) {
            if let Some(error) = reference_error(self.tx, self.schema, self.table, row, &column.name)? {
                return Err(error);
            }
        }
        Ok(())
    }

    /// The row `key` names, if any. finops keys are column values (the entity key, `dataAreaId`
    /// included for a company-specific entity); Dataverse keys are the id or the columns of an
    /// alternate key, lookups given as ids or in dotted form.
    fn locate(&mut self, key: &Row) -> Result<Option<StoredRow>, SyncError> {
        let Some((columns, values)) = self.key_columns(key)? else { return Ok(None) };
        Ok(find_by_columns(self.tx, self.table, &columns, &values)?)
    }

    /// `key` as columns of the table and their values, Dataverse lookups given in dotted form
    /// resolved to ids; `None` when it names a row that cannot exist.
    fn key_columns<'t>(&mut self, key: &Row) -> Result<Option<KeyColumns<'t>>, SyncError>
    where
        'a: 't,
    {
        if key.is_empty() {
            return Err(SyncError::malformed(ErrorCode::MissingField, "the `key` names no column"));
        }
        let mut key = key.clone();
        if self.side() == Side::Dataverse && key.keys().any(|k| k.contains('.')) {
            let company =
                if self.table.company_specific { Some(self.company(&mut key, None)?) } else { None };
            let dotted: Vec<String> = key.keys().filter(|k| k.contains('.')).cloned().collect();
            for path in dotted {
                let value = key.remove(&path).unwrap_or(Value::Null);
                let column = path.split('.').next().unwrap_or_default().to_owned();
                match lookup::resolve(self.tx, self.schema, self.table, &path, &value, company.as_ref())? {
                    Ok(id) => key.insert(column, id.map_or(Value::Null, Value::String)),
                    // A key naming a row that cannot exist names no row.
                    Err(LookupError::NotFound { .. }) => return Ok(None),
                    Err(e) => return Err(lookup_error(self.table, e)),
                };
            }
        }
        let mut columns = Vec::with_capacity(key.len());
        let mut values = Vec::with_capacity(key.len());
        for (name, value) in &key {
            let column = self.table.column(name).ok_or_else(|| {
                SyncError::malformed(
                    ErrorCode::InvalidKey,
                    format!(
                        "`{name}` in the key is not a column of {} table {}",
                        self.side(),
                        self.table.name
                    ),
                )
            })?;
            columns.push(column.name.as_str());
            values.push(value.clone());
        }
        Ok(Some((columns, values)))
    }

    /// The key an upsert without one uses: the finops entity key, or the Dataverse id, or the first
    /// alternate key whose columns the row gives (lookups as ids or in dotted form).
    fn key_of(&self, row: &Row) -> Result<Row, SyncError> {
        let pick = |columns: &[&str]| -> Option<Row> {
            let mut key = Row::new();
            for column in columns {
                if let Some(v) = keys::get(self.table, row, column) {
                    key.insert((*column).to_owned(), v.clone());
                } else {
                    let prefix = format!("{column}.");
                    let (k, v) = row.iter().find(|(k, _)| k.starts_with(&prefix))?;
                    key.insert(k.clone(), v.clone());
                }
            }
            Some(key)
        };
        let found = match self.side() {
            Side::Finops => pick(&self.table.entity_key()),
            Side::Dataverse => pick(&[self.table.id_column_name()]).or_else(|| {
                self.table
                    .alternate_keys
                    .iter()
                    .find_map(|ak| pick(&ak.columns.iter().map(String::as_str).collect::<Vec<_>>()))
            }),
        };
        found.ok_or_else(|| {
            SyncError::malformed(
                ErrorCode::MissingField,
                format!(
                    "an upsert into {} needs a `key`, or a row that holds one of its keys",
                    self.table.name
                ),
            )
        })
    }
}

/// The error a write of `row` into `table` would give for its finops reference `column`, if it names
/// no row.
fn reference_error(
    tx: &mut dyn Tx,
    schema: &Schema,
    table: &Table,
    row: &Row,
    column: &str,
) -> Result<Option<SyncError>, SyncError> {
    let Some(reference) = table.column(column).and_then(|c| c.references.as_ref()) else { return Ok(None) };
    let Some(value) = keys::get(table, row, column).filter(|v| key_part(v).is_some()) else {
        return Ok(None);
    };
    let target = self::table(schema, Side::Finops, &reference.table)?;
    let company = keys::get(table, row, DATA_AREA_ID).cloned().unwrap_or(Value::Null);
    let found = if target.company_specific {
        find_by_columns(tx, target, &[&reference.column, DATA_AREA_ID], &[value.clone(), company.clone()])?
    } else {
        find_by_columns(tx, target, &[&reference.column], std::slice::from_ref(value))?
    };
    if found.is_some() {
        return Ok(None);
    }
    let scope = if target.company_specific {
        format!(" in company {}", company.as_str().unwrap_or("?"))
    } else {
        String::new()
    };
    Ok(Some(
        SyncError::invalid(
            ErrorCode::ReferenceNotFound,
            format!(
                "`{column}` = {value}: no {} row has {} = {value}{scope}; create it first",
                target.name, reference.column
            ),
        )
        .with("field", column)
        .with("value", value.clone())
        .with("target_table", target.name.clone()),
    ))
}

/// Every link of `row` — a Dataverse lookup (by id or in dotted form, the company first) or a finops
/// reference — that a write into `table` would refuse because it names no row, with the error that
/// write would give. Nothing is written. Links into `table` itself are left out: the caller knows
/// which of its rows are about to exist.
pub fn broken_links(
    tx: &mut dyn Tx,
    schema: &Schema,
    table: &Table,
    row: &Row,
) -> Result<Vec<SyncError>, SyncError> {
    let mut broken = Vec::new();
    if table.side == Side::Finops {
        for column in &table.columns {
            let own = column.references.as_ref().is_some_and(|r| r.table.eq_ignore_ascii_case(&table.name));
            if !own {
                broken.extend(reference_error(tx, schema, table, row, &column.name)?);
            }
        }
        return Ok(broken);
    }
    let company = match row.get(COMPANY_KEY_PATH) {
        Some(code) if table.company_specific => {
            match lookup::resolve(tx, schema, table, COMPANY_KEY_PATH, code, None)? {
                Ok(Some(id)) => Some(Company { id, code: code.as_str().unwrap_or_default().to_owned() }),
                Ok(None) => None,
                Err(e) => return Ok(vec![lookup_error(table, e)]),
            }
        }
        _ => None,
    };
    for (path, value) in
        row.iter().filter(|(k, v)| k.contains('.') && k.as_str() != COMPANY_KEY_PATH && !v.is_null())
    {
        let own = schema
            .resolve_path(table, path)
            .ok()
            .and_then(|p| p.hops.first().map(|h| h.target.name == table.name));
        if own == Some(true) {
            continue;
        }
        if let Err(e) = lookup::resolve(tx, schema, table, path, value, company.as_ref())? {
            broken.push(lookup_error(table, e));
        }
    }
    Ok(broken)
}

fn company_change(table: &Table, old: &Value, new: &str) -> SyncError {
    SyncError::invalid(
        ErrorCode::CompanyChange,
        format!("a {} row's company cannot change (it is {old}, the write says {new})", table.name),
    )
    .with("table", table.name.clone())
}
