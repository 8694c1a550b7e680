//! What a map is validated against in the page: the schema, the integration keys and the other maps,
//! loaded once from the server. Validation itself is core's; the studio only calls it.

use dualwrite_core::api::{IntegrationKeyDoc, KeyOriginDoc, MapDoc, MapResource};
use dualwrite_core::integration_key::{EffectiveKey, IntegrationKeys};
use dualwrite_core::schema::{ColumnType, Schema, Side};
use dualwrite_core::table_map::TableMap;
use dualwrite_core::validation::{validate, validate_structure, Diagnostic, Severity};
use serde_json::Value;

/// The validation context of the page.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Catalog {
    /// `None` when the server has no schema yet: then only the structural checks run.
    pub schema: Option<Schema>,
    pub keys: IntegrationKeys,
    /// The saved maps, by id.
    pub maps: Vec<(String, TableMap)>,
}

impl Catalog {
    /// The context from the server's documents. A schema that does not read is treated as absent;
    /// saved maps that do not read are left out (the server stores only maps that read).
    pub fn new(schema: Option<&Value>, keys: &[IntegrationKeyDoc], maps: &[MapResource]) -> Catalog {
        let schema = schema.and_then(|s| Schema::from_value(s).ok());
        let mut stored = IntegrationKeys::new();
        for key in keys {
            match key.origin {
                KeyOriginDoc::Manual => stored.set_manual(&key.table, key.fields.clone()),
                KeyOriginDoc::Stored => stored.set_generated(&key.table, key.fields.clone()),
                // What refresh would generate: core works it out the same way from the schema.
                KeyOriginDoc::Generated => {}
            }
        }
        let maps = maps.iter().filter_map(|m| Some((m.id.clone(), m.map.to_map().ok()?))).collect();
        Catalog { schema, keys: stored, maps }
    }

    /// Every problem of a draft: what keeps it from being a map at all (with the document's paths),
    /// else core's validation against the schema, keys and the other maps. `id` is the draft's saved
    /// map, left out of the others.
    pub fn diagnose(&self, id: Option<&str>, doc: &MapDoc) -> Vec<Diagnostic> {
        let map = match doc.to_map() {
            Ok(map) => map,
            Err(e) => {
                return e
                    .problems
                    .into_iter()
                    .map(|p| Diagnostic {
                        code: "DOCUMENT".into(),
                        severity: Severity::Error,
                        message: p.message,
                        path: p.path,
                    })
                    .collect()
            }
        };
        let others: Vec<TableMap> = self
            .maps
            .iter()
            .filter(|(other, _)| Some(other.as_str()) != id)
            .map(|(_, m)| m.clone())
            .collect();
        match &self.schema {
            Some(schema) => validate(schema, &self.keys, &map, &others),
            None => validate_structure(&map, &others),
        }
    }

    /// The key in force for a Dataverse table.
    pub fn key(&self, table: &str) -> Option<EffectiveKey> {
        self.keys.effective(self.schema.as_ref()?, table).ok()
    }

    /// The names a field of `table` on `side` can take: finops columns; Dataverse columns and, for
    /// each lookup, the lookup through each column of its target (`transactioncurrencyid.isocurrencycode`).
    pub fn field_choices(&self, side: Side, table: &str) -> Vec<String> {
        let Some(schema) = &self.schema else { return Vec::new() };
        let Some(t) = schema.table(side, table) else { return Vec::new() };
        let mut out = Vec::new();
        for column in &t.columns {
            out.push(column.name.clone());
            if let ColumnType::Lookup { target } = &column.ty {
                if let Some(target) = schema.table(Side::Dataverse, target) {
                    out.extend(
                        target
                            .columns
                            .iter()
                            .filter(|c| !c.implicit)
                            .map(|c| format!("{}.{}", column.name, c.name)),
                    );
                }
            }
        }
        out
    }

    /// The table names of one side.
    pub fn tables(&self, side: Side) -> Vec<String> {
        self.schema
            .as_ref()
            .map_or_else(Vec::new, |s| s.tables(side).iter().map(|t| t.name.clone()).collect())
    }
}

/// The Contoso schema, the demo's four maps (ids 1 to 4) with their stored keys, and the Customers V3
/// (accounts) map: what the studio's tests validate against.
#[cfg(test)]
pub(crate) fn contoso() -> (Catalog, MapDoc) {
    let schema: Value =
        serde_json::from_str(include_str!("../fixtures/contoso/schema.json")).expect("schema");
    let package: Value =
        serde_json::from_str(include_str!("../fixtures/contoso/package.json")).expect("package");
    let maps: Vec<MapResource> = package["maps"]
        .as_array()
        .expect("maps")
        .iter()
        .enumerate()
        .map(|(i, m)| MapResource {
            id: (i + 1).to_string(),
            status: dualwrite_core::lifecycle::MapStatus::NotRunning,
            map: serde_json::from_value(m.clone()).expect("map doc"),
        })
        .collect();
    let keys: Vec<IntegrationKeyDoc> = package["integration_keys"]
        .as_object()
        .expect("keys")
        .iter()
        .map(|(table, fields)| IntegrationKeyDoc {
            table: table.clone(),
            fields: serde_json::from_value(fields.clone()).expect("fields"),
            manual: false,
            origin: KeyOriginDoc::Stored,
            other_alternate_keys: Vec::new(),
        })
        .collect();
    let accounts = maps[3].map.clone();
    (Catalog::new(Some(&schema), &keys, &maps), accounts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removing_the_account_number_mapping_shows_dipv1014_and_putting_it_back_clears_it() {
        let (catalog, mut doc) = contoso();
        let codes = |d: &[Diagnostic]| d.iter().map(|d| d.code.clone()).collect::<Vec<_>>();
        assert!(!codes(&catalog.diagnose(Some("4"), &doc)).contains(&"DIPV1014".to_owned()));
        let removed = doc.fields.remove(0);
        assert!(codes(&catalog.diagnose(Some("4"), &doc)).contains(&"DIPV1014".to_owned()));
        doc.fields.push(removed);
        assert!(!codes(&catalog.diagnose(Some("4"), &doc)).contains(&"DIPV1014".to_owned()));
    }

    #[test]
    fn a_draft_that_is_not_a_map_reports_its_problems_at_their_paths() {
        let (catalog, mut doc) = contoso();
        doc.fields[1].direction = "sideways".into();
        let diagnostics = catalog.diagnose(Some("4"), &doc);
        assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
        assert_eq!(diagnostics[0].path, "fields[1].direction");
    }

    #[test]
    fn dataverse_choices_include_lookups_through_their_targets_columns() {
        let (catalog, _) = contoso();
        let choices = catalog.field_choices(Side::Dataverse, "account");
        assert!(choices.contains(&"accountnumber".to_owned()));
        assert!(choices.contains(&"transactioncurrencyid.isocurrencycode".to_owned()), "{choices:?}");
    }
}
