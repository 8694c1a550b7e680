//! Related maps: the tables a map depends on (Dataverse lookup targets, finops references, and the
//! company table of a company-specific map), the maps of those tables, and the order to run them in,
//! upstream first. Dependency cycles are reported; a self-reference is not a dependency (such rows are
//! written in two passes: rows first, references second).

use std::collections::HashMap;

use crate::schema::{ColumnType, Schema, Side, COMPANY_LOOKUP, COMPANY_TABLE};
use crate::table_map::TableMap;

/// A table a map depends on, and the field that makes it so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelatedTable {
    pub side: Side,
    pub table: String,
    /// The index of the field mapping that refers to the table; `None` for the company table.
    pub field: Option<usize>,
    /// The field's column or lookup path (or `msdyn_company`).
    pub via: String,
    /// The map's own table (a self-reference).
    pub self_reference: bool,
}

/// The tables `map` refers to, in field order, each (side, table, field) once.
pub fn related_tables(schema: &Schema, map: &TableMap) -> Vec<RelatedTable> {
    let mut out: Vec<RelatedTable> = Vec::new();
    let mut push = |side: Side, table: &str, field: Option<usize>, via: &str| {
        let self_reference = match side {
            Side::Finops => table.eq_ignore_ascii_case(&map.finops),
            Side::Dataverse => table == map.dataverse,
        };
        if !out.iter().any(|r| r.side == side && r.table == table && r.field == field) {
            out.push(RelatedTable {
                side,
                table: table.to_owned(),
                field,
                via: via.to_owned(),
                self_reference,
            });
        }
    };
    let dataverse = schema.table(Side::Dataverse, &map.dataverse);
    if dataverse.is_some_and(|t| t.company_specific) && map.dataverse != COMPANY_TABLE {
        push(Side::Dataverse, COMPANY_TABLE, None, COMPANY_LOOKUP);
    }
    let finops = schema.table(Side::Finops, &map.finops);
    for (i, field) in map.fields.iter().enumerate() {
        if let (Some(path), Some(table)) = (&field.dataverse, dataverse) {
            if let Ok(resolved) = schema.resolve_path(table, path) {
                for hop in &resolved.hops {
                    push(Side::Dataverse, &hop.target.name, Some(i), path);
                }
                if let ColumnType::Lookup { target } = &resolved.column.ty {
                    push(Side::Dataverse, target, Some(i), path);
                }
            }
        }
        if let (Some(name), Some(table)) = (&field.finops, finops) {
            if let Some(reference) = table.column(name).and_then(|c| c.references.as_ref()) {
                let target = schema
                    .table(Side::Finops, &reference.table)
                    .map_or(reference.table.as_str(), |t| &t.name);
                push(Side::Finops, target, Some(i), name);
            }
        }
    }
    out
}

/// The maps of each table, by side (finops names compared case-insensitively), in map order.
struct ByTable {
    finops: HashMap<String, Vec<usize>>,
    dataverse: HashMap<String, Vec<usize>>,
}

impl ByTable {
    fn new(maps: &[TableMap]) -> ByTable {
        let mut by = ByTable { finops: HashMap::new(), dataverse: HashMap::new() };
        for (i, map) in maps.iter().enumerate() {
            by.finops.entry(map.finops.to_ascii_lowercase()).or_default().push(i);
            by.dataverse.entry(map.dataverse.clone()).or_default().push(i);
        }
        by
    }

    fn maps_of(&self, side: Side, table: &str) -> &[usize] {
        let found = match side {
            Side::Finops => self.finops.get(&table.to_ascii_lowercase()),
            Side::Dataverse => self.dataverse.get(table),
        };
        found.map_or(&[], Vec::as_slice)
    }
}

/// The maps (indexes into `maps`) that `maps[index]` depends on, self-references left out.
pub fn depends_on(schema: &Schema, maps: &[TableMap], index: usize) -> Vec<usize> {
    edges(schema, maps, &ByTable::new(maps), index)
}

fn edges(schema: &Schema, maps: &[TableMap], by_table: &ByTable, index: usize) -> Vec<usize> {
    let Some(map) = maps.get(index) else { return Vec::new() };
    let mut out = Vec::new();
    for related in related_tables(schema, map).iter().filter(|r| !r.self_reference) {
        for &j in by_table.maps_of(related.side, &related.table) {
            if j != index && !out.contains(&j) {
                out.push(j);
            }
        }
    }
    out
}

/// The order to run a map and the maps it depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunOrder {
    /// Indexes into the maps, upstream first, the chosen map last.
    pub order: Vec<usize>,
    /// Dependency cycles met on the way, each as the maps around the loop.
    pub cycles: Vec<Vec<usize>>,
}

/// The maps `maps[start]` depends on, directly or not, upstream first, then `start`. A cycle does not
/// stop the order (its rows are written first and its references second); it is reported.
pub fn run_order(schema: &Schema, maps: &[TableMap], start: usize) -> RunOrder {
    walk(schema, maps, [start])
}

/// Every map, each after the maps it depends on (cycles broken where the walk meets them, and
/// reported): the order in which work on many maps at once keeps lookups resolvable.
pub fn run_order_all(schema: &Schema, maps: &[TableMap]) -> RunOrder {
    walk(schema, maps, 0..maps.len())
}

/// The run order of the `starts` and everything upstream of them, each map once.
fn walk(schema: &Schema, maps: &[TableMap], starts: impl IntoIterator<Item = usize>) -> RunOrder {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        New,
        Visiting,
        Done,
    }
    /// The walk: a map's dependencies are worked out when it is first visited, so only the maps
    /// upstream of `start` are looked at.
    struct Walk<'a> {
        schema: &'a Schema,
        maps: &'a [TableMap],
        by_table: ByTable,
        state: Vec<State>,
        stack: Vec<usize>,
        result: RunOrder,
    }
    fn visit(walk: &mut Walk<'_>, node: usize) {
        walk.state[node] = State::Visiting;
        walk.stack.push(node);
        for next in edges(walk.schema, walk.maps, &walk.by_table, node) {
            match walk.state[next] {
                State::New => visit(walk, next),
                State::Visiting => {
                    let from = walk.stack.iter().position(|&n| n == next).unwrap_or(0);
                    walk.result.cycles.push(walk.stack[from..].to_vec());
                }
                State::Done => {}
            }
        }
        walk.stack.pop();
        walk.state[node] = State::Done;
        walk.result.order.push(node);
    }
    let mut walk = Walk {
        schema,
        maps,
        by_table: ByTable::new(maps),
        state: vec![State::New; maps.len()],
        stack: Vec::new(),
        result: RunOrder { order: Vec::new(), cycles: Vec::new() },
    };
    for start in starts {
        if start < maps.len() && walk.state[start] == State::New {
            visit(&mut walk, start);
        }
    }
    walk.result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table_map::{Direction, FieldMapping};

    fn contoso() -> (Schema, Vec<TableMap>) {
        let schema =
            Schema::from_json(include_str!("../../../fixtures/contoso/schema.json")).expect("fixture schema");
        let package =
            crate::package::Package::from_json(include_str!("../../../fixtures/contoso/package.json"))
                .expect("fixture package");
        (schema, package.maps)
    }

    /// The Contoso maps, upstream first.
    const CONTOSO_RUN_ORDER: [&str; 4] = [
        "Legal entities (cdm_companies)",
        "Currencies (transactioncurrencies)",
        "Customer groups (msdyn_customergroups)",
        "Customers V3 (accounts)",
    ];

    fn names(maps: &[TableMap], order: &[usize]) -> Vec<String> {
        order.iter().map(|&i| maps[i].name.clone()).collect()
    }

    #[test]
    fn customers_run_after_companies_currencies_and_customer_groups() {
        let (schema, maps) = contoso();
        let order = run_order(&schema, &maps, 3);
        assert_eq!(names(&maps, &order.order), CONTOSO_RUN_ORDER);
        assert!(order.cycles.is_empty(), "the self-reference of accounts is not a cycle");
    }

    #[test]
    fn every_map_comes_after_the_maps_it_depends_on() {
        let (schema, mut maps) = contoso();
        // Customers listed first, as when their map was saved before the others.
        maps.rotate_right(1);
        let order = run_order_all(&schema, &maps);
        assert_eq!(names(&maps, &order.order), CONTOSO_RUN_ORDER);
        for (at, &i) in order.order.iter().enumerate() {
            for upstream in depends_on(&schema, &maps, i) {
                assert!(
                    order.order[..at].contains(&upstream),
                    "{} before {}",
                    maps[upstream].name,
                    maps[i].name
                );
            }
        }
    }

    #[test]
    fn a_map_without_lookups_runs_alone() {
        let (schema, maps) = contoso();
        assert_eq!(run_order(&schema, &maps, 1).order, [1]);
    }

    #[test]
    fn the_billing_account_is_a_self_reference_not_a_dependency() {
        let (schema, maps) = contoso();
        let related = related_tables(&schema, &maps[3]);
        let billing =
            related.iter().find(|r| r.via == "msdyn_billingaccount.accountnumber").expect("billing");
        assert!(billing.self_reference);
        assert!(!depends_on(&schema, &maps, 3).contains(&3));
    }

    #[test]
    fn two_maps_that_look_each_other_up_are_reported_as_a_cycle() {
        let (schema, mut maps) = contoso();
        // Customer groups looking up their "main account" makes groups and accounts depend on each other.
        let mut schema = schema;
        let group_table =
            schema.dataverse.iter_mut().find(|t| t.name == "msdyn_customergroup").expect("groups");
        group_table.columns.push(crate::schema::Column {
            name: "msdyn_mainaccount".into(),
            ty: ColumnType::Lookup { target: "account".into() },
            required: false,
            read_only: false,
            references: None,
            implicit: false,
        });
        maps[2].fields.push(FieldMapping::new(
            "DESCRIPTION",
            "msdyn_mainaccount.accountnumber",
            Direction::Both,
        ));
        let order = run_order(&schema, &maps, 3);
        assert_eq!(order.cycles.len(), 1, "{:?}", order.cycles);
        assert_eq!(
            names(&maps, &order.cycles[0]),
            ["Customers V3 (accounts)", "Customer groups (msdyn_customergroups)"]
        );
        assert_eq!(order.order.last(), Some(&3), "the chosen map still runs last");
    }
}
