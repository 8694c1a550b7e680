//! Reading and writing the schema document, every problem reported at its path.

use serde_json::{json, Map, Value};

use super::{
    AlternateKey, Column, ColumnType, Reference, Schema, Side, Table, COMPANY_CODE, COMPANY_LOOKUP,
    COMPANY_TABLE, DATA_AREA_ID, SCHEMA_FORMAT,
};
use crate::document::{child, item, type_name, DocumentError, Problems};

pub(super) fn schema(value: &Value) -> Result<Schema, DocumentError> {
    let mut p = Problems::default();
    let Some(doc) = p.object(value, "") else {
        return p.finish(Schema::default());
    };
    p.unknown_keys(doc, "", &["format", "companies", "finops", "dataverse"]);
    p.format(doc, SCHEMA_FORMAT);
    let companies = p.strings(doc, "", "companies", true);
    for (i, c) in companies.iter().enumerate() {
        if c.trim().is_empty() {
            p.push(item("companies", i), "a company code must not be empty");
        } else if companies[..i].iter().any(|d| d.eq_ignore_ascii_case(c)) {
            p.push(item("companies", i), format!("company `{c}` is listed twice"));
        }
    }
    let mut schema = Schema { companies, finops: Vec::new(), dataverse: Vec::new() };
    for side in Side::BOTH {
        let key = side.as_str();
        for (i, t) in p.array(doc, "", key, true).iter().enumerate() {
            let path = item(key, i);
            if let Some(table) = table(t, &path, side, &mut p) {
                if schema.table(side, &table.name).is_some() {
                    p.push(child(&path, "name"), format!("{side} table `{}` is defined twice", table.name));
                }
                for (a, alias) in table.aliases.iter().enumerate() {
                    let other =
                        schema.tables(side).iter().find(|t| t.names().any(|n| table.same_name(n, alias)));
                    if let Some(other) = other {
                        p.push(
                            item(&child(&path, "aliases"), a),
                            format!(
                                "alias `{alias}` already names {side} table {}; an alias names one table",
                                other.name
                            ),
                        );
                    }
                }
                match side {
                    Side::Finops => schema.finops.push(table),
                    Side::Dataverse => schema.dataverse.push(table),
                }
            }
        }
    }
    cross_references(&schema, &mut p);
    p.finish(schema)
}

fn table(value: &Value, path: &str, side: Side, p: &mut Problems) -> Option<Table> {
    let object = p.object(value, path)?;
    let known: &[&str] = match side {
        Side::Finops => &["name", "aliases", "entity_set", "company_specific", "key", "columns"],
        Side::Dataverse => {
            &["name", "aliases", "entity_set", "company_specific", "alternate_keys", "columns"]
        }
    };
    p.unknown_keys(object, path, known);
    let name = p.string(object, path, "name").unwrap_or_default();
    if name.is_empty() || name.contains(['.', '/', ' ']) {
        p.push(child(path, "name"), format!("`{name}` is not a table name; use letters, digits and _"));
    }
    let company_specific = p.bool(object, path, "company_specific", false);
    let aliases = p.strings(object, path, "aliases", false);
    for (i, alias) in aliases.iter().enumerate() {
        let same = |a: &str, b: &str| match side {
            Side::Finops => a.eq_ignore_ascii_case(b),
            Side::Dataverse => a == b,
        };
        if alias.trim().is_empty() {
            p.push(item(&child(path, "aliases"), i), "an alias must not be empty");
        } else if same(alias, &name) || aliases[..i].iter().any(|a| same(a, alias)) {
            p.push(item(&child(path, "aliases"), i), format!("alias `{alias}` is listed twice"));
        }
    }
    let declared_entity_set = p.opt_string(object, path, "entity_set");
    let mut table = Table {
        name,
        side,
        aliases,
        declared_entity_set,
        company_specific,
        key: Vec::new(),
        alternate_keys: Vec::new(),
        columns: Vec::new(),
    };
    let columns_path = child(path, "columns");
    for (i, c) in p.array(object, path, "columns", true).iter().enumerate() {
        let column_path = item(&columns_path, i);
        if let Some(column) = column(c, &column_path, side, p) {
            if table.column(&column.name).is_some() {
                p.push(child(&column_path, "name"), format!("column `{}` is defined twice", column.name));
            }
            table.columns.push(column);
        }
    }
    add_implicit_columns(&mut table, path, p);
    match side {
        Side::Finops => {
            table.key = p.strings(object, path, "key", true);
            if object.contains_key("key") && table.key.is_empty() {
                p.push(child(path, "key"), "the entity key must name at least one column");
            }
            for (i, k) in table.key.iter().enumerate() {
                if table.column(k).is_none() {
                    p.push(
                        item(&child(path, "key"), i),
                        format!("key column `{k}` is not a column of the entity"),
                    );
                }
            }
        }
        Side::Dataverse => {
            let keys_path = child(path, "alternate_keys");
            for (i, k) in p.array(object, path, "alternate_keys", false).iter().enumerate() {
                let key_path = item(&keys_path, i);
                let Some(key) = p.object(k, &key_path) else { continue };
                p.unknown_keys(key, &key_path, &["name", "columns"]);
                let name = p.string(key, &key_path, "name").unwrap_or_default();
                let columns = p.strings(key, &key_path, "columns", true);
                if columns.is_empty() {
                    p.push(child(&key_path, "columns"), "an alternate key must name at least one column");
                }
                for (j, c) in columns.iter().enumerate() {
                    if table.column(c).is_none() {
                        p.push(
                            item(&child(&key_path, "columns"), j),
                            format!("key column `{c}` is not a column of table {}", table.name),
                        );
                    }
                }
                table.alternate_keys.push(AlternateKey { name, columns });
            }
        }
    }
    Some(table)
}

fn add_implicit_columns(table: &mut Table, path: &str, p: &mut Problems) {
    let mut implicit = |table: &mut Table, column: Column| match table.column(&column.name) {
        None => table.columns.push(Column { implicit: true, ..column }),
        Some(existing) if existing.ty != column.ty => p.push(
            child(path, "columns"),
            format!("column `{}` is implicit and must be {}, found {}", column.name, column.ty, existing.ty),
        ),
        Some(_) => {}
    };
    match table.side {
        Side::Finops if table.company_specific => {
            let column = Column {
                required: true,
                ..Column::new(DATA_AREA_ID, ColumnType::String { max_length: Some(4) })
            };
            implicit(table, column);
        }
        Side::Finops => {}
        Side::Dataverse => {
            let id = format!("{}id", table.name);
            implicit(table, Column { read_only: true, ..Column::new(&id, ColumnType::Guid) });
            if table.company_specific {
                let lookup = ColumnType::Lookup { target: COMPANY_TABLE.to_owned() };
                implicit(table, Column { required: true, ..Column::new(COMPANY_LOOKUP, lookup) });
            }
        }
    }
}

fn column(value: &Value, path: &str, side: Side, p: &mut Problems) -> Option<Column> {
    let object = p.object(value, path)?;
    p.unknown_keys(
        object,
        path,
        &["name", "type", "max_length", "values", "target", "required", "read_only", "references"],
    );
    let name = p.string(object, path, "name").unwrap_or_default();
    if name.is_empty() || name.contains(['.', '/', ' ']) {
        p.push(child(path, "name"), format!("`{name}` is not a column name; use letters, digits and _"));
    }
    let ty = column_type(object, path, side, p);
    let required = p.bool(object, path, "required", false);
    let read_only = p.bool(object, path, "read_only", false);
    let references = match object.get("references") {
        None | Some(Value::Null) => None,
        Some(_) if side == Side::Dataverse => {
            p.push(child(path, "references"), "only finops columns have `references`; use a lookup column");
            None
        }
        Some(r) => {
            let r_path = child(path, "references");
            let r = p.object(r, &r_path)?;
            p.unknown_keys(r, &r_path, &["table", "column"]);
            Some(Reference {
                table: p.string(r, &r_path, "table").unwrap_or_default(),
                column: p.string(r, &r_path, "column").unwrap_or_default(),
            })
        }
    };
    Some(Column { name, ty: ty?, required, read_only, references, implicit: false })
}

fn column_type(object: &Map<String, Value>, path: &str, side: Side, p: &mut Problems) -> Option<ColumnType> {
    let type_path = child(path, "type");
    let name = p.string(object, path, "type")?;
    let not_here = |key: &str, p: &mut Problems| {
        if object.get(key).is_some_and(|v| !v.is_null()) {
            p.push(child(path, key), format!("`{key}` does not apply to a {name} column"));
        }
    };
    let ty = match name.as_str() {
        "string" => {
            let max_length = match object.get("max_length") {
                None | Some(Value::Null) => None,
                Some(Value::Number(n)) if n.as_u64().is_some_and(|n| (1..=u32::MAX as u64).contains(&n)) => {
                    n.as_u64().map(|n| n as u32)
                }
                Some(other) => {
                    p.push(
                        child(path, "max_length"),
                        format!("expected a positive whole number, found {}", render(other)),
                    );
                    None
                }
            };
            ColumnType::String { max_length }
        }
        "integer" => ColumnType::Integer,
        "decimal" => ColumnType::Decimal,
        "boolean" => ColumnType::Boolean,
        "date" => ColumnType::Date,
        "datetime" => ColumnType::Datetime,
        "guid" => ColumnType::Guid,
        "enum" => {
            if side == Side::Dataverse {
                p.push(
                    &type_path,
                    "`enum` is a finops type; Dataverse choices are `option` (integer values)",
                );
            }
            let values = p.strings(object, path, "values", true);
            check_distinct(&values, &child(path, "values"), |a, b| a.eq_ignore_ascii_case(b), p);
            if values.iter().any(|v| v.trim().is_empty()) {
                p.push(child(path, "values"), "an enum symbol must not be empty");
            }
            ColumnType::Enum { values }
        }
        "option" => {
            if side == Side::Finops {
                p.push(&type_path, "`option` is a Dataverse type; finops enumerations are `enum` (symbols)");
            }
            let values_path = child(path, "values");
            let values: Vec<i64> = p
                .array(object, path, "values", true)
                .iter()
                .enumerate()
                .filter_map(|(i, v)| match v.as_i64() {
                    Some(n) => Some(n),
                    None => {
                        p.push(item(&values_path, i), format!("expected an integer, found {}", render(v)));
                        None
                    }
                })
                .collect();
            check_distinct(&values, &values_path, |a, b| a == b, p);
            ColumnType::Option { values }
        }
        "lookup" => {
            if side == Side::Finops {
                p.push(&type_path, "`lookup` is a Dataverse type; a finops column refers with `references`");
            }
            ColumnType::Lookup { target: p.string(object, path, "target").unwrap_or_default() }
        }
        other => {
            p.push(
                type_path,
                format!(
                    "unknown column type `{other}`; expected string, integer, decimal, boolean, date, \
                     datetime, guid, enum, option or lookup"
                ),
            );
            return None;
        }
    };
    if !matches!(ty, ColumnType::String { .. }) {
        not_here("max_length", p);
    }
    if !matches!(ty, ColumnType::Enum { .. } | ColumnType::Option { .. }) {
        not_here("values", p);
    }
    if !matches!(ty, ColumnType::Lookup { .. }) {
        not_here("target", p);
    }
    Some(ty)
}

fn check_distinct<T: std::fmt::Display>(
    values: &[T],
    path: &str,
    same: impl Fn(&T, &T) -> bool,
    p: &mut Problems,
) {
    if values.is_empty() {
        p.push(path, "expected at least one value");
    }
    for (i, v) in values.iter().enumerate() {
        if values[..i].iter().any(|w| same(v, w)) {
            p.push(item(path, i), format!("value `{v}` is listed twice"));
        }
    }
}

fn render(value: &Value) -> String {
    match value {
        Value::Number(n) => n.to_string(),
        Value::String(s) => format!("\"{s}\""),
        other => type_name(other).to_owned(),
    }
}

/// Checks that need the whole schema: lookup targets, references, the company table.
fn cross_references(schema: &Schema, p: &mut Problems) {
    for (t, table) in schema.finops.iter().enumerate() {
        for (c, column) in table.columns.iter().filter(|c| !c.implicit).enumerate() {
            let Some(reference) = &column.references else { continue };
            let path = child(&item(&child(&item("finops", t), "columns"), c), "references");
            match schema.table(Side::Finops, &reference.table) {
                None => p.push(
                    child(&path, "table"),
                    format!("`{}` is not a finops table of the schema", reference.table),
                ),
                Some(target) if target.column(&reference.column).is_none() => p.push(
                    child(&path, "column"),
                    format!("`{}` is not a column of finops table {}", reference.column, target.name),
                ),
                Some(_) => {}
            }
        }
    }
    for (t, table) in schema.dataverse.iter().enumerate() {
        for (c, column) in table.columns.iter().enumerate() {
            let ColumnType::Lookup { target } = &column.ty else { continue };
            if schema.table(Side::Dataverse, target).is_some() {
                continue;
            }
            let path = if column.implicit {
                child(&item("dataverse", t), "company_specific")
            } else {
                child(&item(&child(&item("dataverse", t), "columns"), c), "target")
            };
            let message = if column.implicit {
                format!(
                    "a company-specific table needs table {COMPANY_TABLE} (key {COMPANY_CODE}) in the schema"
                )
            } else {
                format!("lookup target `{target}` is not a Dataverse table of the schema")
            };
            p.push(path, message);
        }
    }
}

pub(super) fn to_value(schema: &Schema) -> Value {
    let columns = |t: &Table| -> Vec<Value> {
        t.columns
            .iter()
            .filter(|c| !c.implicit)
            .map(|c| serde_json::to_value(c).unwrap_or(Value::Null))
            .collect()
    };
    // Aliases only where a table has some, so documents without them read and write unchanged.
    let with_aliases = |mut table: Value, t: &Table| {
        if let (Value::Object(o), false) = (&mut table, t.aliases.is_empty()) {
            o.insert("aliases".into(), json!(t.aliases));
        }
        if let (Value::Object(o), Some(set)) = (&mut table, &t.declared_entity_set) {
            o.insert("entity_set".into(), json!(set));
        }
        table
    };
    let finops: Vec<Value> = schema
        .finops
        .iter()
        .map(|t| {
            let table =
                json!({"name": t.name, "company_specific": t.company_specific, "key": t.key, "columns": columns(t)});
            with_aliases(table, t)
        })
        .collect();
    let dataverse: Vec<Value> = schema
        .dataverse
        .iter()
        .map(|t| {
            let table = json!({"name": t.name, "company_specific": t.company_specific, "columns": columns(t),
                   "alternate_keys": t.alternate_keys});
            with_aliases(table, t)
        })
        .collect();
    json!({"format": SCHEMA_FORMAT, "companies": schema.companies, "finops": finops, "dataverse": dataverse})
}
