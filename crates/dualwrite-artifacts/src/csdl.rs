//! OData CSDL v4 `$metadata` (what `/api/data/v9.2/$metadata` of Dataverse and `/data/$metadata` of
//! finance and operations publish) read into schema tables.
//!
//! - **Dataverse** (namespace `Microsoft.Dynamics.CRM`, alias `mscrm`): an entity type deriving from
//!   `crmbaseentity` is a table named by its logical name, its entity set kept as an alias. `Edm.*`
//!   property types become column types; a `_x_value` property that a single-valued navigation
//!   property's referential constraint names is the lookup column `x`, its target the navigation's
//!   type; `OData.Community.Keys.V1.AlternateKeys` annotations are the alternate keys; a lookup
//!   `msdyn_company` to `cdm_company` makes the table company-specific. Other entity types (metadata
//!   and query types) are not tables.
//! - **finance and operations** (namespace `Microsoft.Dynamics.DataEntities`): an entity type with a
//!   key is an entity named by its entity type name, its entity sets (public collection names) kept
//!   as aliases. `dataAreaId` in the key makes it company-specific; `EnumType`s become `enum` columns
//!   with their member names; `Nullable="false"` marks a column required; a single-valued navigation
//!   whose constraint (other than `dataAreaId`) is one column gives that column its `references`.
//!
//! Whatever the document does not say (a Dataverse string's length, option values, which Dataverse
//! columns are required) is left open. Only the tables asked for are kept, plus every table their
//! lookups and references reach; [`Imported::notes`] says what the document lacks.

mod parse;

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::io::BufRead;

use dualwrite_core::schema::{
    AlternateKey, Column, ColumnType, Reference, Schema, Side, Table, UnknownTable, COMPANY_LOOKUP,
    COMPANY_TABLE, DATA_AREA_ID,
};

pub use parse::{MAX_DEPTH, MAX_DOCUMENT_BYTES};

/// The Dataverse schema namespace.
pub const DATAVERSE_NAMESPACE: &str = "Microsoft.Dynamics.CRM";
/// The finance and operations schema namespace.
pub const FINOPS_NAMESPACE: &str = "Microsoft.Dynamics.DataEntities";
/// The abstract type every Dataverse table derives from.
const DATAVERSE_BASE: &str = "crmbaseentity";

/// A document that cannot be read as `$metadata`, with the line where it went wrong when there is one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct CsdlError {
    pub line: Option<u64>,
    pub message: String,
}

impl CsdlError {
    fn at(line: u64, message: impl Into<String>) -> CsdlError {
        CsdlError { line: Some(line), message: message.into() }
    }

    fn whole(message: impl Into<String>) -> CsdlError {
        CsdlError { line: None, message: message.into() }
    }
}

impl fmt::Display for CsdlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// The tables read from one side's `$metadata`.
#[derive(Debug, Clone, PartialEq)]
pub struct Imported {
    pub side: Side,
    /// How many entity types the document declares.
    pub entity_types: usize,
    /// The tables kept, in document order; lookup targets and references name tables among them.
    pub tables: Vec<Table>,
    /// What the document lacks or what was left out, for the person importing it.
    pub notes: Vec<String>,
    /// The tables asked for that the document does not have, with the closest it has.
    pub unknown: Vec<UnknownTable>,
}

/// Reads a `$metadata` document. `expected` is the side it is given as (its schema namespace must
/// agree), or `None` to take the side the namespace says. `wanted` names the tables to keep (by name
/// or alias, as [`Schema::resolve`] finds them), with everything their lookups and references reach;
/// empty keeps every table. Names the document does not have are in [`Imported::unknown`] (a list
/// may name tables of both sides).
pub fn read(input: impl BufRead, expected: Option<Side>, wanted: &[String]) -> Result<Imported, CsdlError> {
    read_bounded(input, expected, wanted, MAX_DOCUMENT_BYTES)
}

/// [`read`], stopping at `limit` bytes.
pub fn read_bounded(
    input: impl BufRead,
    expected: Option<Side>,
    wanted: &[String],
    limit: u64,
) -> Result<Imported, CsdlError> {
    let doc = parse::document(input, limit)?;
    let side = side_of(&doc, expected)?;
    let names = TypeNames::new(&doc);
    let mut notes = Vec::new();
    let all = match side {
        Side::Dataverse => dataverse_tables(&doc, &names, &mut notes),
        Side::Finops => finops_tables(&doc, &names, &mut notes),
    };
    let (tables, unknown) = select(side, all, wanted);
    if side == Side::Dataverse {
        dataverse_notes(&doc, &tables, &mut notes);
    }
    Ok(Imported { side, entity_types: doc.entity_types.len(), tables, notes, unknown })
}

/// A schema of the imported tables (both sides when both are given), read back as a schema document
/// is, so implicit columns are added and every cross-reference is checked. Companies are not in
/// `$metadata`: the schema has none.
pub fn schema(imports: &[Imported]) -> Result<Schema, dualwrite_core::document::DocumentError> {
    let mut schema = Schema::default();
    for import in imports {
        match import.side {
            Side::Finops => schema.finops.extend(import.tables.iter().cloned()),
            Side::Dataverse => schema.dataverse.extend(import.tables.iter().cloned()),
        }
    }
    Schema::from_value(&schema.to_value())
}

fn side_of(doc: &parse::Document, expected: Option<Side>) -> Result<Side, CsdlError> {
    let has = |ns: &str| doc.namespaces.iter().any(|(n, _)| n == ns);
    let found = match (has(DATAVERSE_NAMESPACE), has(FINOPS_NAMESPACE)) {
        (true, false) => Side::Dataverse,
        (false, true) => Side::Finops,
        (true, true) => expected.unwrap_or(Side::Dataverse),
        (false, false) => {
            let namespaces: Vec<&str> = doc.namespaces.iter().map(|(n, _)| n.as_str()).collect();
            return Err(CsdlError::whole(format!(
                "no Dataverse ({DATAVERSE_NAMESPACE}) or finance and operations ({FINOPS_NAMESPACE}) schema in \
                 the document (schemas: {}); expected the $metadata of one of them",
                if namespaces.is_empty() { "none".to_owned() } else { namespaces.join(", ") }
            )));
        }
    };
    match expected {
        Some(side) if side != found => Err(CsdlError::whole(format!(
            "this is a {found} $metadata (namespace {}), given as {side}",
            match found {
                Side::Dataverse => DATAVERSE_NAMESPACE,
                Side::Finops => FINOPS_NAMESPACE,
            }
        ))),
        _ => Ok(found),
    }
}

/// Qualified type names (`mscrm.account`, `Microsoft.Dynamics.CRM.account`) to the types' own names.
struct TypeNames {
    prefixes: Vec<String>,
}

impl TypeNames {
    fn new(doc: &parse::Document) -> TypeNames {
        let mut prefixes = Vec::new();
        for (namespace, alias) in &doc.namespaces {
            prefixes.push(format!("{namespace}."));
            if let Some(alias) = alias {
                prefixes.push(format!("{alias}."));
            }
        }
        TypeNames { prefixes }
    }

    /// The type's own name, or `None` for a type of no schema of the document (`Edm.String`).
    fn local<'t>(&self, qualified: &'t str) -> Option<&'t str> {
        self.prefixes.iter().find_map(|p| qualified.strip_prefix(p.as_str()))
    }
}

/// The column type of an `Edm.*` primitive, or `None` for types that are not columns (spatial,
/// streams, collections).
fn edm_type(ty: &str, max_length: Option<&str>) -> Option<ColumnType> {
    Some(match ty.strip_prefix("Edm.")? {
        "String" => {
            ColumnType::String { max_length: max_length.and_then(|m| m.parse().ok()).filter(|m| *m > 0) }
        }
        // OData JSON carries these as text.
        "Binary" | "TimeOfDay" | "Duration" => ColumnType::String { max_length: None },
        "Int16" | "Int32" | "Int64" | "Byte" | "SByte" => ColumnType::Integer,
        "Decimal" | "Double" | "Single" => ColumnType::Decimal,
        "Boolean" => ColumnType::Boolean,
        "Date" => ColumnType::Date,
        "DateTimeOffset" => ColumnType::Datetime,
        "Guid" => ColumnType::Guid,
        _ => return None,
    })
}

/// The entity type called `name`, with the chain of its base types (itself first).
fn chain<'d>(
    doc: &'d parse::Document,
    by_name: &HashMap<&str, usize>,
    names: &TypeNames,
    name: &str,
) -> Vec<&'d parse::EntityType> {
    let mut out: Vec<&parse::EntityType> = Vec::new();
    let mut next = by_name.get(name).map(|i| &doc.entity_types[*i]);
    while let Some(t) = next {
        if out.iter().any(|seen| seen.name == t.name) || out.len() > MAX_DEPTH {
            break; // a cycle of base types
        }
        out.push(t);
        next = t
            .base
            .as_deref()
            .and_then(|b| names.local(b))
            .and_then(|b| by_name.get(b))
            .map(|i| &doc.entity_types[*i]);
    }
    out
}

/// A lookup property's column name: `_x_value` → `x`.
fn lookup_column(property: &str) -> Option<&str> {
    property.strip_prefix('_')?.strip_suffix("_value").filter(|x| !x.is_empty())
}

/// Entity set names by entity type.
fn entity_sets<'d>(doc: &'d parse::Document, names: &TypeNames) -> HashMap<&'d str, Vec<String>> {
    let mut sets: HashMap<&str, Vec<String>> = HashMap::new();
    for (set, ty) in &doc.entity_sets {
        if let Some(ty) = names.local(ty) {
            sets.entry(ty).or_default().push(set.clone());
        }
    }
    sets
}

/// A table's aliases: the entity sets of its type, but for one named like the type itself.
fn aliases(sets: &HashMap<&str, Vec<String>>, name: &str) -> Vec<String> {
    sets.get(name).into_iter().flatten().filter(|s| *s != name).cloned().collect()
}

fn dataverse_tables(doc: &parse::Document, names: &TypeNames, notes: &mut Vec<String>) -> Vec<Table> {
    let by_name: HashMap<&str, usize> =
        doc.entity_types.iter().enumerate().map(|(i, t)| (t.name.as_str(), i)).collect();
    let sets = entity_sets(doc, names);
    let is_table = |name: &str| {
        let chain = chain(doc, &by_name, names, name);
        !chain.first().is_none_or(|t| t.is_abstract) && chain.iter().any(|t| t.name == DATAVERSE_BASE)
    };
    let mut tables = Vec::new();
    let mut not_tables = 0;
    let mut several_targets = Vec::new();
    let mut skipped = Vec::new();
    let mut other_ids = Vec::new();
    for entity in &doc.entity_types {
        if !is_table(&entity.name) {
            not_tables += usize::from(!entity.is_abstract);
            continue;
        }
        let chain = chain(doc, &by_name, names, &entity.name);
        let key: Vec<&str> = chain
            .iter()
            .find(|t| !t.key.is_empty())
            .map(|t| t.key.iter().map(String::as_str).collect())
            .unwrap_or_default();
        let id = format!("{}id", entity.name);
        if key != [id.as_str()] {
            other_ids.push(format!("{} ({})", entity.name, key.join(", ")));
        }
        let mut table = Table {
            name: entity.name.clone(),
            side: Side::Dataverse,
            declared_entity_set: None,
            aliases: aliases(&sets, &entity.name),
            company_specific: false,
            key: Vec::new(),
            alternate_keys: Vec::new(),
            columns: Vec::new(),
        };
        let navigations: Vec<&parse::Navigation> = chain.iter().rev().flat_map(|t| &t.navigations).collect();
        for property in chain.iter().rev().flat_map(|t| &t.properties) {
            if property.name == id {
                continue; // the implicit id column
            }
            let ty = match lookup_column(&property.name) {
                Some(column) if property.ty == "Edm.Guid" => {
                    let targets: BTreeSet<&str> = navigations
                        .iter()
                        .filter(|n| n.constraints.iter().any(|(p, _)| *p == property.name))
                        .filter_map(|n| names.local(&n.ty))
                        .collect();
                    let ty = match targets.iter().collect::<Vec<_>>().as_slice() {
                        [target] if is_table(target) => ColumnType::Lookup { target: (**target).to_owned() },
                        [] | [_] => ColumnType::Guid,
                        many => {
                            let many: Vec<String> = many.iter().map(|t| (**t).to_owned()).collect();
                            several_targets.push(format!("{}.{column} ({})", entity.name, listed(&many, 3)));
                            ColumnType::Guid
                        }
                    };
                    if column == COMPANY_LOOKUP
                        && ty == (ColumnType::Lookup { target: COMPANY_TABLE.to_owned() })
                    {
                        table.company_specific = true;
                        continue; // the implicit company lookup
                    }
                    table.columns.push(Column { name: column.to_owned(), ..column_of(ty, false) });
                    continue;
                }
                _ => match edm_type(&property.ty, property.max_length.as_deref()) {
                    Some(ty) => ty,
                    None => {
                        skipped.push(format!("{}.{} ({})", entity.name, property.name, property.ty));
                        continue;
                    }
                },
            };
            table.columns.push(Column { name: property.name.clone(), ..column_of(ty, false) });
        }
        let mut declared: Vec<&Vec<String>> = chain.iter().flat_map(|t| &t.alternate_keys).collect();
        for target in [
            entity.name.clone(),
            format!("{DATAVERSE_NAMESPACE}.{}", entity.name),
            format!("mscrm.{}", entity.name),
        ] {
            declared.extend(doc.annotated_keys.get(&target).into_iter().flatten());
        }
        for columns in declared {
            let columns: Vec<String> =
                columns.iter().map(|c| lookup_column(c).unwrap_or(c).to_owned()).collect();
            let known =
                |c: &String| table.column(c).is_some() || (c == COMPANY_LOOKUP && table.company_specific);
            if !columns.iter().all(known) || table.alternate_keys.iter().any(|k| k.columns == columns) {
                continue;
            }
            let n = table.alternate_keys.len();
            let name =
                if n == 0 { format!("{}_key", table.name) } else { format!("{}_key{}", table.name, n + 1) };
            table.alternate_keys.push(AlternateKey { name, columns });
        }
        tables.push(table);
    }
    if not_tables > 0 {
        notes.push(format!(
            "{not_tables} entity types do not derive from {DATAVERSE_BASE} (metadata and query types): they are \
             not tables and were left out"
        ));
    }
    if !several_targets.is_empty() {
        notes.push(format!(
            "{} lookups have several target tables (customer, owner or regarding lookups), which a lookup column \
             cannot say: they are GUID columns: {}",
            several_targets.len(),
            listed(&several_targets, 10)
        ));
    }
    if !skipped.is_empty() {
        notes.push(format!(
            "{} properties have types no column holds and were left out: {}",
            skipped.len(),
            listed(&skipped, 10)
        ));
    }
    if !other_ids.is_empty() {
        notes.push(format!(
            "{} tables have a primary key other than `<table>id` (activities use activityid): rows are \
             written with `<table>id`: {}",
            other_ids.len(),
            listed(&other_ids, 10)
        ));
    }
    tables
}

fn finops_tables(doc: &parse::Document, names: &TypeNames, notes: &mut Vec<String>) -> Vec<Table> {
    let by_name: HashMap<&str, usize> =
        doc.entity_types.iter().enumerate().map(|(i, t)| (t.name.as_str(), i)).collect();
    let sets = entity_sets(doc, names);
    let mut tables = Vec::new();
    let mut skipped = Vec::new();
    let mut keyless = Vec::new();
    for entity in &doc.entity_types {
        let chain = chain(doc, &by_name, names, &entity.name);
        let Some(key) = chain.iter().find(|t| !t.key.is_empty()).map(|t| &t.key) else {
            if !entity.is_abstract {
                keyless.push(entity.name.clone());
            }
            continue;
        };
        if entity.is_abstract {
            continue;
        }
        let company_specific = key.iter().any(|k| k.eq_ignore_ascii_case(DATA_AREA_ID));
        let mut table = Table {
            name: entity.name.clone(),
            side: Side::Finops,
            declared_entity_set: None,
            aliases: aliases(&sets, &entity.name),
            company_specific,
            key: key.iter().filter(|k| !k.eq_ignore_ascii_case(DATA_AREA_ID)).cloned().collect(),
            alternate_keys: Vec::new(),
            columns: Vec::new(),
        };
        let navigations: Vec<&parse::Navigation> = chain.iter().rev().flat_map(|t| &t.navigations).collect();
        for property in chain.iter().rev().flat_map(|t| &t.properties) {
            if company_specific && property.name.eq_ignore_ascii_case(DATA_AREA_ID) {
                continue; // the implicit company column
            }
            let ty = match names.local(&property.ty).and_then(|t| doc.enum_types.get(t)) {
                Some(members) if !members.is_empty() => ColumnType::Enum { values: members.clone() },
                _ => match edm_type(&property.ty, property.max_length.as_deref()) {
                    Some(ty) => ty,
                    None => {
                        skipped.push(format!("{}.{} ({})", entity.name, property.name, property.ty));
                        continue;
                    }
                },
            };
            let references = navigations.iter().filter(|n| !n.ty.starts_with("Collection(")).find_map(|n| {
                let constraints: Vec<&(String, String)> =
                    n.constraints.iter().filter(|(p, _)| !p.eq_ignore_ascii_case(DATA_AREA_ID)).collect();
                match constraints.as_slice() {
                    [(p, referenced)] if *p == property.name => {
                        Some(Reference { table: names.local(&n.ty)?.to_owned(), column: referenced.clone() })
                    }
                    _ => None,
                }
            });
            let required = property.nullable == Some(false);
            table.columns.push(Column { name: property.name.clone(), references, ..column_of(ty, required) });
        }
        tables.push(table);
    }
    if !keyless.is_empty() {
        notes.push(format!(
            "{} entity types have no key and were left out: {}",
            keyless.len(),
            listed(&keyless, 10)
        ));
    }
    if !skipped.is_empty() {
        notes.push(format!(
            "{} properties have types no column holds and were left out: {}",
            skipped.len(),
            listed(&skipped, 10)
        ));
    }
    tables
}

fn column_of(ty: ColumnType, required: bool) -> Column {
    Column { name: String::new(), ty, required, read_only: false, references: None, implicit: false }
}

/// At most `most` items, then how many more.
fn listed(items: &[String], most: usize) -> String {
    let mut text = items.iter().take(most).cloned().collect::<Vec<_>>().join(", ");
    if items.len() > most {
        text.push_str(&format!(" and {} more", items.len() - most));
    }
    text
}

/// The wanted tables and every table their lookups and references reach; lookups and references to
/// tables that are not kept are dropped (a lookup becomes a GUID column).
fn select(side: Side, all: Vec<Table>, wanted: &[String]) -> (Vec<Table>, Vec<UnknownTable>) {
    let mut schema = Schema::default();
    match side {
        Side::Finops => schema.finops = all,
        Side::Dataverse => schema.dataverse = all,
    }
    let mut keep: BTreeSet<String> = BTreeSet::new();
    let mut unknown = Vec::new();
    let wanted: Vec<&str> = wanted.iter().map(|w| w.trim()).filter(|w| !w.is_empty()).collect();
    if wanted.is_empty() {
        keep.extend(schema.tables(side).iter().map(|t| t.name.clone()));
    } else {
        let mut queue = Vec::new();
        for name in wanted {
            match schema.resolve(side, name) {
                Ok(t) => queue.push(t.name.clone()),
                Err(e) => unknown.push(e),
            }
        }
        while let Some(name) = queue.pop() {
            if !keep.insert(name.clone()) {
                continue;
            }
            let Some(table) = schema.table(side, &name) else { continue };
            for column in &table.columns {
                let reached = match (&column.ty, &column.references) {
                    (ColumnType::Lookup { target }, _) => Some(target),
                    (_, Some(reference)) => Some(&reference.table),
                    _ => None,
                };
                if let Some(t) = reached.and_then(|r| schema.table(side, r)) {
                    queue.push(t.name.clone());
                }
            }
            if table.company_specific && side == Side::Dataverse {
                queue.push(COMPANY_TABLE.to_owned());
            }
        }
    }
    let all = match side {
        Side::Finops => schema.finops,
        Side::Dataverse => schema.dataverse,
    };
    let kept: Vec<Table> = all.into_iter().filter(|t| keep.contains(&t.name)).collect();
    let names: BTreeSet<String> = kept.iter().map(|t| t.name.clone()).collect();
    let kept = kept
        .into_iter()
        .map(|mut t| {
            for column in &mut t.columns {
                if let ColumnType::Lookup { target } = &column.ty {
                    if !names.contains(target) {
                        column.ty = ColumnType::Guid;
                    }
                }
                if column.references.as_ref().is_some_and(|r| !names.contains(&r.table)) {
                    column.references = None;
                }
            }
            t
        })
        .collect();
    (kept, unknown)
}

/// What a Dataverse document lacks for dual-write.
fn dataverse_notes(doc: &parse::Document, tables: &[Table], notes: &mut Vec<String>) {
    // Other Microsoft solutions bring msdyn_ tables too; the dual-write core solution brings cdm_company.
    if !doc.entity_types.iter().any(|t| t.name == COMPANY_TABLE) {
        notes.push(format!(
            "no dual-write solution tables ({COMPANY_TABLE}, msdyn_*): this environment does not have the dual-write \
             solutions installed. Install the dual-write core solution (and the application solutions for the maps \
             you need) and export $metadata again, or add those tables to the schema by hand; until then no \
             Dataverse table is company-specific"
        ));
    }
    let without: Vec<String> =
        tables.iter().filter(|t| t.alternate_keys.is_empty()).map(|t| t.name.clone()).collect();
    if !without.is_empty() {
        notes.push(format!(
            "no alternate keys declared on {} of {} tables ({}): integration keys need one, so set them by hand \
             (`alternate_keys` in the schema, or the map's integration key)",
            without.len(),
            tables.len(),
            listed(&without, 10)
        ));
    }
}

#[cfg(test)]
mod tests;
