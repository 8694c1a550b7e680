//! The two environments' schema: sides, tables, columns, companies, and the document
//! `dualwrite.schema/v1` that describes them.
//!
//! Implicit columns are added on reading: a company-specific finops entity gets `dataAreaId` (part of
//! its entity key), every Dataverse table gets `<table>id` (GUID), and a company-specific Dataverse
//! table gets the `msdyn_company` lookup to `cdm_company` (a document may also list it explicitly).
//! finops names are case-insensitive; Dataverse logical names are compared exactly.

mod column;
mod merge;
mod read;

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub(crate) use column::{days_in_month, is_date};
pub use column::{Column, ColumnType, Reference, ValueError};
pub use merge::TableChange;

use crate::document::DocumentError;

/// A row of either environment: column name → value. Dataverse rows handed to core for mapping are in
/// "dotted form" (`"transactioncurrencyid.isocurrencycode": "EUR"`).
pub type Row = serde_json::Map<String, Value>;

/// The format name of a schema document.
pub const SCHEMA_FORMAT: &str = "dualwrite.schema/v1";
/// The implicit company column of a company-specific finops entity.
pub const DATA_AREA_ID: &str = "dataAreaId";
/// The company lookup of a company-specific Dataverse table.
pub const COMPANY_LOOKUP: &str = "msdyn_company";
/// The Dataverse table of companies.
pub const COMPANY_TABLE: &str = "cdm_company";
/// The key column of `cdm_company`.
pub const COMPANY_CODE: &str = "cdm_companycode";
/// The company part of an integration key, in dotted form.
pub const COMPANY_KEY_PATH: &str = "msdyn_company.cdm_companycode";

/// One of the two linked environments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Finops,
    Dataverse,
}

impl Side {
    /// The other environment.
    pub fn other(self) -> Side {
        match self {
            Side::Finops => Side::Dataverse,
            Side::Dataverse => Side::Finops,
        }
    }

    /// `"finops"` or `"dataverse"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Finops => "finops",
            Side::Dataverse => "dataverse",
        }
    }

    /// Both sides, finops first.
    pub const BOTH: [Side; 2] = [Side::Finops, Side::Dataverse];
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Side {
    type Err = String;

    fn from_str(s: &str) -> Result<Side, String> {
        match s {
            "finops" => Ok(Side::Finops),
            "dataverse" => Ok(Side::Dataverse),
            other => Err(format!("unknown side `{other}`; expected finops or dataverse")),
        }
    }
}

/// A Dataverse alternate key: named, one or more columns (a lookup column stands for its target's key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlternateKey {
    pub name: String,
    pub columns: Vec<String>,
}

/// A finops entity or a Dataverse table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub name: String,
    pub side: Side,
    /// Other names the environments use for the table, which resolve to it (see [`Schema::resolve`]):
    /// Dataverse, the entity set (`accounts`); finops, the public collection name (`CustomersV3`), the
    /// OData entity type name (`CustomerV3`) and the label (`Customers V3`). The entity set or
    /// public collection name comes first (see [`Table::entity_set`]).
    pub aliases: Vec<String>,
    /// The name an OData service collects the table's rows under, where the document says so
    /// (`entity_set`); for a table named by it (finops `Currencies`), or whose first alias is not it.
    pub declared_entity_set: Option<String>,
    pub company_specific: bool,
    /// finops: the entity key as declared (without `dataAreaId`; see [`Table::entity_key`]).
    pub key: Vec<String>,
    /// Dataverse: the alternate keys, in document order.
    pub alternate_keys: Vec<AlternateKey>,
    /// All columns, implicit ones included.
    pub columns: Vec<Column>,
}

impl Table {
    /// The name an OData service collects the table's rows under: as the document declares it
    /// (`entity_set`), else its first alias, where a `$metadata` import keeps the entity set or
    /// public collection name; without aliases, a
    /// Dataverse table's logical name in the plural as Dataverse forms it by default (`account` →
    /// `accounts`, `transactioncurrency` → `transactioncurrencies`) and a finops entity's name.
    pub fn entity_set(&self) -> String {
        if let Some(set) = &self.declared_entity_set {
            return set.clone();
        }
        match (self.aliases.first(), self.side) {
            (Some(set), _) => set.clone(),
            (None, Side::Dataverse) => plural(&self.name),
            (None, Side::Finops) => self.name.clone(),
        }
    }

    /// The table's name, its aliases and the entity set it declares.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.name.as_str())
            .chain(self.aliases.iter().map(String::as_str))
            .chain(self.declared_entity_set.as_deref())
    }

    /// The column called `name` (case-insensitive on finops).
    pub fn column(&self, name: &str) -> Option<&Column> {
        match self.side {
            Side::Finops => self.columns.iter().find(|c| c.name.eq_ignore_ascii_case(name)),
            Side::Dataverse => self.columns.iter().find(|c| c.name == name),
        }
    }

    /// Whether `a` and `b` name the same column of this table.
    pub fn same_name(&self, a: &str, b: &str) -> bool {
        match self.side {
            Side::Finops => a.eq_ignore_ascii_case(b),
            Side::Dataverse => a == b,
        }
    }

    /// finops: the entity key, `dataAreaId` last for a company-specific entity. Dataverse: the id column.
    pub fn entity_key(&self) -> Vec<&str> {
        match self.side {
            Side::Finops => {
                let mut key: Vec<&str> = self.key.iter().map(String::as_str).collect();
                if self.company_specific && !key.iter().any(|k| k.eq_ignore_ascii_case(DATA_AREA_ID)) {
                    key.push(DATA_AREA_ID);
                }
                key
            }
            Side::Dataverse => vec![self.id_column_name()],
        }
    }

    /// The column sets a write operation may name one row of this table by: finops, the entity key
    /// (see [`Table::entity_key`]); Dataverse, the id column and then each alternate key.
    pub fn operation_keys(&self) -> Vec<Vec<&str>> {
        match self.side {
            Side::Finops => vec![self.entity_key()],
            Side::Dataverse => std::iter::once(vec![self.id_column_name()])
                .chain(self.alternate_keys.iter().map(|ak| ak.columns.iter().map(String::as_str).collect()))
                .collect(),
        }
    }

    /// The one of [`Table::operation_keys`] whose columns `names` are, exactly (in any order, each once;
    /// on Dataverse a lookup given in dotted form, `msdyn_company.cdm_companycode`, stands for its
    /// column), or `None`: other column sets could match several rows.
    pub fn operation_key<S: AsRef<str>>(&self, names: &[S]) -> Option<Vec<&str>> {
        let mut given: Vec<&str> = Vec::with_capacity(names.len());
        for name in names {
            let name = name.as_ref();
            let column = match self.side {
                Side::Dataverse => name.split('.').next().unwrap_or(name),
                Side::Finops => name,
            };
            let column = self.column(column)?.name.as_str();
            if given.contains(&column) {
                return None;
            }
            given.push(column);
        }
        given.sort_unstable();
        self.operation_keys().into_iter().find(|key| {
            let mut key: Vec<&str> =
                key.iter().map(|k| self.column(k).map_or(*k, |c| c.name.as_str())).collect();
            key.sort_unstable();
            key == given
        })
    }

    /// The names in `row` that write a column the schema marks `read_only` (a Dataverse lookup in
    /// dotted form writes its lookup column), which no write may set. Implicit columns are left out:
    /// the Dataverse id may be given on insert and never changes, which the write path checks itself.
    pub fn read_only_columns_in<'r>(&self, row: &'r Row) -> Vec<&'r str> {
        row.keys()
            .map(String::as_str)
            .filter(|name| {
                let column = match self.side {
                    Side::Dataverse => name.split('.').next().unwrap_or(name),
                    Side::Finops => name,
                };
                self.column(column).is_some_and(|c| c.read_only && !c.implicit)
            })
            .collect()
    }

    /// Dataverse: the implicit primary id column `<table>id`.
    pub fn id_column_name(&self) -> &str {
        self.columns.iter().find(|c| c.implicit && matches!(c.ty, ColumnType::Guid)).map_or("", |c| &c.name)
    }

    /// Checks a row written to this table: every column known, every value fitting its column
    /// (normalised in the result, column names in the schema's spelling), and, unless `partial` (an
    /// update naming only some columns), every required column present. Dataverse rows may name a
    /// lookup by key in dotted form; those values are checked against the key column they name.
    pub fn check_row(&self, schema: &Schema, row: &Row, partial: bool) -> Result<Row, RowCheckError> {
        let mut out = Row::new();
        let mut problems = Vec::new();
        for (name, value) in row {
            let column = if self.side == Side::Dataverse && name.contains('.') {
                match schema.resolve_path(self, name) {
                    Ok(path) => path.column,
                    Err(e) => {
                        problems.push(ColumnProblem { column: name.clone(), message: e.to_string() });
                        continue;
                    }
                }
            } else {
                match self.column(name) {
                    Some(c) => c,
                    None => {
                        problems.push(ColumnProblem {
                            column: name.clone(),
                            message: format!("`{name}` is not a column of {} table {}", self.side, self.name),
                        });
                        continue;
                    }
                }
            };
            let dotted = name.contains('.');
            let checked = match value {
                // A null lookup key clears the lookup; the key column's own `required` is about its rows.
                Value::Null if dotted => Ok(Value::Null),
                _ if dotted => column.ty.check_value(value),
                _ => column.check_value(value),
            };
            match checked {
                Ok(v) => {
                    out.insert(if dotted { name.clone() } else { column.name.clone() }, v);
                }
                Err(e) => problems.push(ColumnProblem { column: name.clone(), message: e.to_string() }),
            }
        }
        if !partial {
            for column in self.columns.iter().filter(|c| c.required && !c.implicit) {
                let present = out.contains_key(&column.name)
                    || out.keys().any(|k| k.split('.').next() == Some(column.name.as_str()));
                if !present {
                    problems.push(ColumnProblem {
                        column: column.name.clone(),
                        message: format!("`{}` is required and missing", column.name),
                    });
                }
            }
        }
        if problems.is_empty() {
            Ok(out)
        } else {
            Err(RowCheckError { table: self.name.clone(), problems })
        }
    }
}

/// A row that does not fit its table.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("row does not fit table {table}: {}", problems.iter().map(|p| format!("{}: {}", p.column, p.message)).collect::<Vec<_>>().join("; "))]
pub struct RowCheckError {
    pub table: String,
    pub problems: Vec<ColumnProblem>,
}

/// One column of a row that does not fit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnProblem {
    pub column: String,
    pub message: String,
}

/// The schema of both environments and their shared companies.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Schema {
    pub companies: Vec<String>,
    pub finops: Vec<Table>,
    pub dataverse: Vec<Table>,
}

impl Schema {
    /// Reads a `dualwrite.schema/v1` document, reporting every problem with its JSON path.
    pub fn from_json(text: &str) -> Result<Schema, DocumentError> {
        read::schema(&crate::document::parse_json(text)?)
    }

    /// Reads a schema document already parsed as JSON.
    pub fn from_value(value: &Value) -> Result<Schema, DocumentError> {
        read::schema(value)
    }

    /// The schema document (implicit columns left out, as they were written).
    pub fn to_value(&self) -> Value {
        read::to_value(self)
    }

    /// The tables of one side.
    pub fn tables(&self, side: Side) -> &[Table] {
        match side {
            Side::Finops => &self.finops,
            Side::Dataverse => &self.dataverse,
        }
    }

    /// The table called `name` on `side` (case-insensitive on finops).
    pub fn table(&self, side: Side, name: &str) -> Option<&Table> {
        match side {
            Side::Finops => self.finops.iter().find(|t| t.name.eq_ignore_ascii_case(name)),
            Side::Dataverse => self.dataverse.iter().find(|t| t.name == name),
        }
    }

    /// The table `name` refers to on `side`, the way dual-write names tables: its name, then any alias
    /// (both case-insensitive on finops), then, on finops, the name or an alias with spaces removed
    /// (the label `Customers V3` finds the public collection name `CustomersV3`). A name that finds
    /// nothing is an error naming the closest tables.
    pub fn resolve(&self, side: Side, name: &str) -> Result<&Table, UnknownTable> {
        let tables = self.tables(side);
        let name = name.trim();
        let found = self.table(side, name).or_else(|| match side {
            Side::Dataverse => tables.iter().find(|t| t.aliases.iter().any(|a| a == name)),
            Side::Finops => {
                let wanted = compact(name);
                tables.iter().find(|t| t.aliases.iter().any(|a| a.eq_ignore_ascii_case(name))).or_else(|| {
                    tables.iter().find(|t| t.names().any(|n| compact(n).eq_ignore_ascii_case(&wanted)))
                })
            }
        });
        found.ok_or_else(|| UnknownTable { side, name: name.to_owned(), closest: self.closest(side, name) })
    }

    /// Up to three tables of `side` whose name or an alias is nearest to `name` (by edit distance,
    /// ignoring case and spaces), nearest first; none when nothing comes close.
    pub fn closest(&self, side: Side, name: &str) -> Vec<String> {
        let wanted = compact(name).to_lowercase();
        // Names of tables are short; comparing a long text with every table would only cost time.
        if wanted.len() > 128 {
            return Vec::new();
        }
        let mut scored: Vec<(usize, &str)> = self
            .tables(side)
            .iter()
            .map(|t| {
                let distance = t
                    .names()
                    .map(|n| edit_distance(&wanted, &compact(n).to_lowercase()))
                    .min()
                    .unwrap_or(usize::MAX);
                (distance, t.name.as_str())
            })
            .filter(|(distance, _)| *distance <= wanted.chars().count().div_ceil(3).max(2))
            .collect();
        scored.sort();
        scored.into_iter().take(3).map(|(_, name)| name.to_owned()).collect()
    }

    /// The company with this code, in the schema's spelling (codes are case-insensitive).
    pub fn company(&self, code: &str) -> Option<&str> {
        let code = code.trim_end();
        self.companies.iter().find(|c| c.eq_ignore_ascii_case(code)).map(String::as_str)
    }

    /// Resolves a Dataverse column path against `table`: `column`, or `lookup.column`, or
    /// `lookup.lookup.column` (each hop a lookup into its target table).
    pub fn resolve_path<'s>(&'s self, table: &'s Table, path: &str) -> Result<ResolvedPath<'s>, PathError> {
        let mut current = table;
        let mut hops = Vec::new();
        let parts: Vec<&str> = path.split('.').collect();
        for (i, part) in parts.iter().enumerate() {
            let column = current.column(part).ok_or_else(|| PathError::UnknownColumn {
                table: current.name.clone(),
                column: (*part).to_owned(),
                path: path.to_owned(),
            })?;
            if i + 1 == parts.len() {
                return Ok(ResolvedPath { hops, table: current, column });
            }
            let ColumnType::Lookup { target } = &column.ty else {
                return Err(PathError::NotALookup {
                    table: current.name.clone(),
                    column: column.name.clone(),
                    path: path.to_owned(),
                });
            };
            let next = self.table(Side::Dataverse, target).ok_or_else(|| PathError::UnknownTarget {
                column: column.name.clone(),
                target: target.clone(),
            })?;
            hops.push(Hop { table: current, lookup: column, target: next });
            current = next;
        }
        Err(PathError::UnknownColumn {
            table: table.name.clone(),
            column: String::new(),
            path: path.to_owned(),
        })
    }
}

/// A table name that resolves to no table of the schema.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{side} table `{name}` is not in the schema{}", match closest.as_slice() {
    [] => String::new(),
    [one] => format!("; did you mean {one}?"),
    many => format!("; closest: {}", many.join(", ")),
})]
pub struct UnknownTable {
    pub side: Side,
    pub name: String,
    /// The nearest tables' names, nearest first (see [`Schema::closest`]).
    pub closest: Vec<String>,
}

/// `name` without spaces: how a finops label compares with the public collection name.
fn compact(name: &str) -> String {
    name.chars().filter(|c| !c.is_whitespace()).collect()
}

/// The Levenshtein distance between `a` and `b`, in characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (diagonal + usize::from(ca != *cb)).min(above + 1).min(row[j] + 1);
            diagonal = above;
        }
    }
    row[b.len()]
}

/// One lookup traversed by a dotted path.
#[derive(Debug, Clone, Copy)]
pub struct Hop<'s> {
    /// The table holding the lookup column.
    pub table: &'s Table,
    pub lookup: &'s Column,
    pub target: &'s Table,
}

/// A dotted Dataverse path resolved to its final column.
#[derive(Debug, Clone)]
pub struct ResolvedPath<'s> {
    /// The lookups traversed, in order (empty for a plain column).
    pub hops: Vec<Hop<'s>>,
    /// The table holding the final column.
    pub table: &'s Table,
    pub column: &'s Column,
}

impl ResolvedPath<'_> {
    /// The column of the map's own table that the path starts from (the first lookup, or the column).
    pub fn first_column(&self) -> &Column {
        self.hops.first().map_or(self.column, |h| h.lookup)
    }
}

/// Why a dotted path does not resolve.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("`{path}`: table {table} has no column `{column}`")]
    UnknownColumn { table: String, column: String, path: String },
    #[error("`{path}`: `{column}` of table {table} is not a lookup, so nothing can follow it")]
    NotALookup { table: String, column: String, path: String },
    #[error("lookup `{column}` targets table {target}, which is not in the schema")]
    UnknownTarget { column: String, target: String },
}

#[cfg(test)]
mod tests;

/// An English plural as Dataverse forms entity set names.
fn plural(name: &str) -> String {
    let consonant_y = name.len() > 1
        && name.ends_with('y')
        && !matches!(name.as_bytes()[name.len() - 2], b'a' | b'e' | b'i' | b'o' | b'u');
    if consonant_y {
        format!("{}ies", &name[..name.len() - 1])
    } else if ["s", "x", "z", "ch", "sh"].iter().any(|end| name.ends_with(end)) {
        format!("{name}es")
    } else {
        format!("{name}s")
    }
}
