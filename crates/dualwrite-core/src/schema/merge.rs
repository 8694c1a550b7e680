//! Bringing tables read from an environment (its `$metadata`) into a schema: tables it does not have
//! are added; a table it has (found by name or any alias, see [`Schema::resolve`]) keeps its name and
//! what only a person could have said (option values, `required`, `read_only`, references, keys set
//! by hand where the environment declares none) and takes what the environment says: new columns,
//! column types and lengths, the entity key, alternate keys it declares, company striping, aliases.

use super::{ColumnType, Schema, Side, Table};

/// What merging one table did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableChange {
    /// The table's name in the merged schema.
    pub table: String,
    /// Whether the schema did not have the table.
    pub added: bool,
    /// Columns the table did not have.
    pub columns_added: Vec<String>,
    /// Columns whose type changed: name, type before, type after (as `describe` says them).
    pub columns_changed: Vec<(String, String, String)>,
    /// Other properties that changed: `key`, `alternate_keys`, `company_specific`, `aliases`.
    pub changed: Vec<&'static str>,
}

impl TableChange {
    /// Whether the merge left the table as it was.
    pub fn is_unchanged(&self) -> bool {
        !self.added
            && self.columns_added.is_empty()
            && self.columns_changed.is_empty()
            && self.changed.is_empty()
    }
}

impl Schema {
    /// Merges `tables` (of `side`, with lookup targets and references naming tables among them) into
    /// the schema; returns one change per table, in the order given. Lookup targets and references are
    /// renamed to the names the schema knows the tables by. The result is not checked: read its
    /// document back ([`Schema::from_value`]) to check it.
    pub fn merge(&mut self, side: Side, tables: &[Table]) -> Vec<TableChange> {
        // Each imported table's name in the merged schema.
        let renamed: Vec<(String, String)> = tables
            .iter()
            .map(|t| {
                let existing = t.names().find_map(|n| self.resolve(side, n).ok()).map(|e| e.name.clone());
                (t.name.clone(), existing.unwrap_or_else(|| t.name.clone()))
            })
            .collect();
        let rename = |name: &str| {
            renamed
                .iter()
                .find(|(from, _)| from == name)
                .map_or_else(|| name.to_owned(), |(_, to)| to.clone())
        };
        let mut changes = Vec::with_capacity(tables.len());
        for imported in tables {
            let mut incoming = imported.clone();
            incoming.name = rename(&imported.name);
            for column in &mut incoming.columns {
                if let ColumnType::Lookup { target } = &mut column.ty {
                    *target = rename(target);
                }
                if let Some(reference) = &mut column.references {
                    reference.table = rename(&reference.table);
                }
            }
            let list = match side {
                Side::Finops => &mut self.finops,
                Side::Dataverse => &mut self.dataverse,
            };
            match list.iter_mut().find(|t| t.name == incoming.name) {
                None => {
                    let change = TableChange {
                        table: incoming.name.clone(),
                        added: true,
                        columns_added: incoming
                            .columns
                            .iter()
                            .filter(|c| !c.implicit)
                            .map(|c| c.name.clone())
                            .collect(),
                        columns_changed: Vec::new(),
                        changed: Vec::new(),
                    };
                    list.push(incoming);
                    changes.push(change);
                }
                Some(existing) => changes.push(merge_table(existing, incoming, &imported.name)),
            }
        }
        changes
    }
}

fn merge_table(existing: &mut Table, incoming: Table, imported_name: &str) -> TableChange {
    let mut change = TableChange {
        table: existing.name.clone(),
        added: false,
        columns_added: Vec::new(),
        columns_changed: Vec::new(),
        changed: Vec::new(),
    };
    for column in incoming.columns.into_iter().filter(|c| !c.implicit) {
        let position = existing.columns.iter().position(|c| existing.same_name(&c.name, &column.name));
        match position {
            None => {
                change.columns_added.push(column.name.clone());
                existing.columns.push(column);
            }
            Some(i) => {
                let current = &mut existing.columns[i];
                if let Some(ty) = better_type(&current.ty, column.ty) {
                    change.columns_changed.push((current.name.clone(), current.ty.describe(), ty.describe()));
                    current.ty = ty;
                }
                if column.required && !current.required && existing.side == Side::Finops {
                    current.required = true;
                }
                if current.references.is_none() && column.references.is_some() {
                    current.references = column.references;
                }
            }
        }
    }
    if existing.side == Side::Finops {
        let key: Vec<String> = incoming
            .key
            .iter()
            .map(|k| existing.column(k).map_or_else(|| k.clone(), |c| c.name.clone()))
            .collect();
        if !key.is_empty() && !same_names(&existing.key, &key) {
            existing.key = key;
            change.changed.push("key");
        }
    }
    if !incoming.alternate_keys.is_empty() && existing.alternate_keys != incoming.alternate_keys {
        existing.alternate_keys = incoming.alternate_keys;
        change.changed.push("alternate_keys");
    }
    if existing.company_specific != incoming.company_specific {
        existing.company_specific = incoming.company_specific;
        change.changed.push("company_specific");
    }
    let mut aliases_changed = false;
    for alias in std::iter::once(imported_name.to_owned()).chain(incoming.aliases) {
        if !existing.names().any(|n| existing.same_name(n, &alias)) {
            existing.aliases.push(alias);
            aliases_changed = true;
        }
    }
    if aliases_changed {
        change.changed.push("aliases");
    }
    change
}

/// The type to keep when the environment says `incoming` for a column typed `current`, or `None` to
/// keep `current`: `$metadata` cannot say an option set's values (it says Int32) and a Dataverse
/// string's length is often left out, so those stay as written.
fn better_type(current: &ColumnType, incoming: ColumnType) -> Option<ColumnType> {
    match (current, &incoming) {
        (a, b) if a == b => None,
        (ColumnType::Option { .. }, ColumnType::Integer) => None,
        (ColumnType::String { max_length: Some(_) }, ColumnType::String { max_length: None }) => None,
        (ColumnType::Enum { values: a }, ColumnType::Enum { values: b })
            if a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.eq_ignore_ascii_case(y)) =>
        {
            None
        }
        _ => Some(incoming),
    }
}

fn same_names(a: &[String], b: &[String]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.eq_ignore_ascii_case(y))
}
