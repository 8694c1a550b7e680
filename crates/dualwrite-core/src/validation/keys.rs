//! Integration-key checks: DIPV1003, DIPV1004, DIPV1014, DIPV1015, DW2002, DW2011.

use super::{Context, Diagnostic};
use crate::integration_key::{EffectiveKey, KeyError, KeyOrigin};
use crate::schema::{ColumnType, Schema, Side, Table};
use crate::table_map::{Direction, TableMap};

/// Why a key field does not resolve against the table, if it does not.
pub(super) fn field_problem(schema: &Schema, table: &Table, field: &str) -> Option<String> {
    if EffectiveKey::is_company_part(field) && table.company_specific {
        return None;
    }
    schema.resolve_path(table, field).err().map(|e| {
        format!("integration-key field `{field}` does not resolve: {e}; fix the key of {}", table.name)
    })
}

pub(super) fn keys(cx: &mut Context<'_>) {
    let (Some(schema), Some(keys), Some(table)) = (cx.schema, cx.keys, cx.dataverse) else { return };
    let key = match keys.effective(schema, &table.name) {
        Ok(key) => key,
        Err(KeyError::NoAlternateKey { table }) => {
            let message = format!(
                "integration keys are missing: table {table} has no alternate key and no manual key; add an \
                 alternate key to the table, or set its integration key by hand"
            );
            cx.push(Diagnostic::error("DIPV1003", "dataverse", message));
            return;
        }
        Err(KeyError::UnknownTable { .. }) => return,
    };
    if key.origin != KeyOrigin::Manual && table.alternate_keys.len() > 1 {
        let (chosen, others) =
            table.alternate_keys.split_first().map_or((String::new(), Vec::new()), |(c, o)| {
                (c.name.clone(), o.iter().map(|k| k.name.clone()).collect::<Vec<_>>())
            });
        let message = format!(
            "table {} has several alternate keys; `{chosen}` ({}) is the integration key and {} not: if rows \
             match on another key, set the integration key by hand",
            table.name,
            key.fields.join(", "),
            others.iter().map(|o| format!("`{o}`")).collect::<Vec<_>>().join(", ")
                + if others.len() == 1 { " is" } else { " are" }
        );
        cx.push(Diagnostic::warning("DW2002", "dataverse", message));
    }
    let mut bad_field = false;
    for field in &key.fields {
        if let Some(message) = field_problem(schema, table, field) {
            cx.push(Diagnostic::error("DW2011", "dataverse", message));
            bad_field = true;
        }
    }
    if bad_field {
        return;
    }
    for c in key_coverage(schema, cx.map, table, &key) {
        match c.gap {
            Some(KeyGap::NotMapped) => {
                let d = match &c.lookup {
                    Some((lookup, _)) => Diagnostic::error(
                        "DIPV1015",
                        "fields",
                        format!(
                            "integration-key field `{lookup}` of {} is a lookup and its key `{}` is not mapped; \
                             add a mapping to `{}`",
                            table.name, c.field, c.field
                        ),
                    ),
                    None => Diagnostic::error(
                        "DIPV1014",
                        "fields",
                        format!(
                            "integration-key field `{}` of {} is not mapped, so rows cannot be matched; add a \
                             mapping to `{}`",
                            c.field, table.name, c.field
                        ),
                    ),
                };
                cx.push(d);
            }
            Some(KeyGap::OneWay(mappings)) => {
                for i in mappings {
                    let message = format!(
                        "integration-key field `{}` is mapped {} but the map syncs both ways; key fields must \
                         be mapped both ways: set the direction to both",
                        c.field, cx.map.fields[i].direction
                    );
                    cx.push(Diagnostic::error("DIPV1004", super::field_path(i, "direction"), message));
                }
            }
            Some(KeyGap::UnexpandedLookup | KeyGap::CompanyNotStriped) | None => {}
        }
    }
}

/// How one integration-key field of a map is covered: what supplies it, and what is missing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyFieldCoverage {
    pub field: String,
    /// The field mappings that write or read it (indexes into the map's `fields`).
    pub mappings: Vec<usize>,
    /// `lookup → target table` when the field goes through a lookup.
    pub lookup: Option<(String, String)>,
    /// The row's company supplies it (`dataAreaId` ↔ `msdyn_company`), not a mapping.
    pub from_company: bool,
    /// Whether it is mapped, and every mapping of it syncs both ways.
    pub both_ways: bool,
    /// What keeps rows from matching through it; `None` when covered.
    pub gap: Option<KeyGap>,
}

/// Why a key field does not let rows match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyGap {
    /// No mapping supplies it (DIPV1014; DIPV1015 through a lookup).
    NotMapped,
    /// A lookup named by its id, not keyed through its target's key (`lookup.key`).
    UnexpandedLookup,
    /// The map syncs both ways, but these mappings of the field do not (DIPV1004).
    OneWay(Vec<usize>),
    /// The company part, but the tables are not both company-specific.
    CompanyNotStriped,
}

/// The coverage of each field of `key` (the key of `table`, the map's Dataverse table) by `map`: the
/// rules of DIPV1004, 1014 and 1015 field by field, so a user sees each field's state, not only what
/// is wrong.
pub fn key_coverage(
    schema: &Schema,
    map: &TableMap,
    table: &Table,
    key: &EffectiveKey,
) -> Vec<KeyFieldCoverage> {
    let bidirectional = map.is_bidirectional();
    key.fields
        .iter()
        .map(|field| {
            let lookup = field.split_once('.').and_then(|(lookup, _)| match &table.column(lookup)?.ty {
                ColumnType::Lookup { target } => Some((lookup.to_owned(), target.clone())),
                _ => None,
            });
            if EffectiveKey::is_company_part(field) {
                let striped = schema.table(Side::Finops, &map.finops).is_some_and(|t| t.company_specific)
                    && table.company_specific;
                return KeyFieldCoverage {
                    field: field.clone(),
                    mappings: Vec::new(),
                    lookup,
                    from_company: true,
                    both_ways: true,
                    gap: (!striped).then_some(KeyGap::CompanyNotStriped),
                };
            }
            let mappings: Vec<usize> = map
                .fields
                .iter()
                .enumerate()
                .filter(|(_, f)| f.dataverse.as_deref() == Some(field.as_str()))
                .map(|(i, _)| i)
                .collect();
            let one_way: Vec<usize> =
                mappings.iter().copied().filter(|&i| map.fields[i].direction != Direction::Both).collect();
            let unexpanded = !field.contains('.')
                && matches!(table.column(field).map(|c| &c.ty), Some(ColumnType::Lookup { .. }));
            let gap = if mappings.is_empty() {
                Some(KeyGap::NotMapped)
            } else if bidirectional && !one_way.is_empty() {
                Some(KeyGap::OneWay(one_way.clone()))
            } else if unexpanded {
                Some(KeyGap::UnexpandedLookup)
            } else {
                None
            };
            KeyFieldCoverage {
                field: field.clone(),
                both_ways: !mappings.is_empty() && one_way.is_empty(),
                mappings,
                lookup,
                from_company: false,
                gap,
            }
        })
        .collect()
}
