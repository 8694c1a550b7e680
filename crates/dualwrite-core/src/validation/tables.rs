//! Map-level checks: version, tables, company striping, required columns, filters, related maps.

use super::{side_path, Context, Diagnostic};
use crate::filter::{Dialect, Filter};
use crate::related::{related_tables, run_order};
use crate::schema::{Side, COMPANY_LOOKUP};
use crate::table_map::TableMap;

/// DW2009.
pub(super) fn version(cx: &mut Context<'_>) {
    if let Err(e) = cx.map.parsed_version() {
        cx.push(Diagnostic::error("DW2009", "version", format!("{e}; raise it when you change the map")));
    }
}

/// DIPV1018, DIPV1020, DIPV1002.
pub(super) fn tables(cx: &mut Context<'_>) {
    let Some(schema) = cx.schema else { return };
    for side in Side::BOTH {
        let (found, code, what, missing) = match side {
            Side::Finops => (cx.finops.is_some(), "DIPV1018", "an entity", "source"),
            Side::Dataverse => (cx.dataverse.is_some(), "DIPV1020", "a table", "destination"),
        };
        if found {
            continue;
        }
        let message = match schema.resolve(side, cx.map.table(side)) {
            Err(unknown) => {
                format!(
                    "{unknown} (missing {missing} schema); pick {what} of the schema or refresh the schema"
                )
            }
            // Named by an alias: maps are stored under the schema's names, which saving does.
            Ok(table) => format!(
                "`{}` is an alias of {side} table {}; name the table {}",
                cx.map.table(side),
                table.name,
                table.name
            ),
        };
        let d = Diagnostic::error(code, side.as_str(), message);
        cx.push(d);
    }
    let (Some(f), Some(d)) = (cx.finops, cx.dataverse) else { return };
    if f.company_specific != d.company_specific {
        let (company, cross) = if f.company_specific { (&f.name, &d.name) } else { (&d.name, &f.name) };
        let message = format!(
            "`{company}` is company-specific but `{cross}` is cross-company; dual-write only maps cross-company \
             to cross-company or company-specific to company-specific tables: pick tables of the same kind"
        );
        cx.push(Diagnostic::error("DIPV1002", "dataverse", message));
    }
}

/// DIPV1010: a required column of a side the map writes must be written by some mapping (a field or a
/// Default).
///
/// Only the sides the map writes are checked, because that is where a missing value makes inserts
/// fail: the Legal entities map flows to Dataverse only, so the required finops `LEGALENTITYID` and
/// `NAME` are the map's sources, not its destinations, and need no mapping towards finops. On Customers
/// V3 the required finops `CONTACTPERSONID` is a destination (the map is bidirectional) and is mapped
/// both ways through `msdyn_primarycontact.msdyn_contactforpartynumber`, so the map passes — a
/// Dataverse row without a primary contact will then fail on its own when it is written to finops,
/// which is the runtime's concern, not the map's. Implicit columns (`dataAreaId`, `<table>id`) and the
/// company lookup are supplied by the row's company and the store, never by a mapping.
pub(super) fn required(cx: &mut Context<'_>) {
    for side in Side::BOTH {
        let table = match side {
            Side::Finops => cx.finops,
            Side::Dataverse => cx.dataverse,
        };
        let Some(table) = table else { continue };
        if !cx.map.fields.iter().any(|f| f.direction.writes(side)) {
            continue;
        }
        for column in table.columns.iter().filter(|c| c.required && !c.implicit && c.name != COMPANY_LOOKUP) {
            let mapped = cx.map.fields.iter().any(|f| {
                f.direction.writes(side)
                    && f.field(side).is_some_and(|name| {
                        table.same_name(name, &column.name)
                            || name
                                .strip_prefix(column.name.as_str())
                                .is_some_and(|rest| rest.starts_with('.'))
                    })
            });
            if !mapped {
                let direction = match side {
                    Side::Finops => "to_finops or both",
                    Side::Dataverse => "to_dataverse or both",
                };
                let message = format!(
                    "required {side} column `{}` of {} is not mapped, so rows written to {side} would miss it; \
                     map a field to it ({direction}) or give it a Default transform",
                    column.name, table.name
                );
                cx.push(Diagnostic::error("DIPV1010", "fields", message));
            }
        }
    }
}

/// DIPV1012, for both filters: syntax, and with a schema unknown columns, type mismatches, nested
/// lookups and unsupported functions.
pub(super) fn filters(cx: &mut Context<'_>) {
    for side in Side::BOTH {
        let Some(text) = cx.map.filter(side) else { continue };
        let path = format!("{side}_filter");
        match Filter::parse(Dialect::of(side), text) {
            Err(e) => {
                let example = match side {
                    Side::Finops => "((Name == \"A\") && (Type == Kind::B))",
                    Side::Dataverse => "name eq 'A' and statecode eq 0",
                };
                let message = format!("{}; write it like {example}", lower_first(&e.to_string()));
                cx.push(Diagnostic::error("DIPV1012", path, message));
            }
            Ok(filter) => {
                let table = match side {
                    Side::Finops => cx.finops,
                    Side::Dataverse => cx.dataverse,
                };
                for problem in table.map(|t| filter.check(t)).unwrap_or_default() {
                    cx.push(Diagnostic::error("DIPV1012", path.clone(), problem.message));
                }
            }
        }
    }
}

fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    chars.next().map_or_else(String::new, |c| c.to_lowercase().chain(chars).collect())
}

/// DW2005 (related table without a map), DW2006 (dependency cycle), DW2007 (self-reference).
pub(super) fn related(cx: &mut Context<'_>) {
    let Some(schema) = cx.schema else { return };
    let mut warned_tables: Vec<(Side, String)> = Vec::new();
    for related in related_tables(schema, cx.map) {
        let path = related.field.map_or_else(|| "dataverse".to_owned(), |i| side_path(i, related.side));
        if related.self_reference {
            let message = format!(
                "`{}` refers to {} itself: initial sync writes the rows first and this reference in a second \
                 pass; keep it, or drop it if rows may refer to rows that are not synced",
                related.via, related.table
            );
            cx.push(Diagnostic::warning("DW2007", path, message));
            continue;
        }
        let mapped = cx.others.iter().any(|m| match related.side {
            Side::Finops => m.finops.eq_ignore_ascii_case(&related.table),
            Side::Dataverse => m.dataverse == related.table,
        });
        let key = (related.side, related.table.clone());
        if mapped || warned_tables.contains(&key) {
            continue;
        }
        warned_tables.push(key);
        let message = format!(
            "`{}` refers to {} table {}, which no map syncs; rows referring to a {} row that exists on one side \
             only will fail: add a map for {} and run it first",
            related.via, related.side, related.table, related.table, related.table
        );
        cx.push(Diagnostic::warning("DW2005", path, message));
    }
    let mut all: Vec<TableMap> = vec![cx.map.clone()];
    all.extend(cx.others.iter().map(|m| (*m).clone()));
    for cycle in run_order(schema, &all, 0).cycles.iter().filter(|c| c.contains(&0)) {
        let names: Vec<&str> = cycle.iter().chain(cycle.first()).map(|&i| all[i].name.as_str()).collect();
        let message = format!(
            "maps depend on each other in a cycle ({}); initial sync writes their rows first and the references \
             in a second pass, so run them together",
            names.join(" → ")
        );
        cx.push(Diagnostic::warning("DW2006", "", message));
    }
}
