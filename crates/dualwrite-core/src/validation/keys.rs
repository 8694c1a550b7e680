//! Integration-key checks: DIPV1003, DIPV1004, DIPV1014, DIPV1015, DW2002, DW2011.

use super::{Context, Diagnostic};
use crate::integration_key::{EffectiveKey, KeyError, KeyOrigin};
use crate::schema::{Schema, Table};
use crate::table_map::Direction;

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
    let bidirectional = cx.map.is_bidirectional();
    for field in key.mapped_fields() {
        let mappings: Vec<usize> = cx
            .map
            .fields
            .iter()
            .enumerate()
            .filter(|(_, f)| f.dataverse.as_deref() == Some(field))
            .map(|(i, _)| i)
            .collect();
        if mappings.is_empty() {
            let lookup = field.split_once('.').map(|(l, _)| l);
            let d = match lookup {
                Some(lookup) => Diagnostic::error(
                    "DIPV1015",
                    "fields",
                    format!(
                        "integration-key field `{lookup}` of {} is a lookup and its key `{field}` is not mapped; \
                         add a mapping to `{field}`",
                        table.name
                    ),
                ),
                None => Diagnostic::error(
                    "DIPV1014",
                    "fields",
                    format!(
                        "integration-key field `{field}` of {} is not mapped, so rows cannot be matched; add a \
                         mapping to `{field}`",
                        table.name
                    ),
                ),
            };
            cx.push(d);
            continue;
        }
        if bidirectional {
            for i in mappings.into_iter().filter(|&i| cx.map.fields[i].direction != Direction::Both) {
                let message = format!(
                    "integration-key field `{field}` is mapped {} but the map syncs both ways; key fields must \
                     be mapped both ways: set the direction to both",
                    cx.map.fields[i].direction
                );
                cx.push(Diagnostic::error("DIPV1004", super::field_path(i, "direction"), message));
            }
        }
    }
}
