//! Packages: the native `dualwrite.package/v1` document (maps plus integration keys), and import and
//! export of dual-write's own `msdyn_mapping` JSON (one leg per direction).

mod ms_mapping;

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use crate::document::{child, item, DocumentError, Problems};
use crate::schema::{Schema, Side, UnknownTable};
use crate::table_map::TableMap;

/// The format name of a package document.
pub const PACKAGE_FORMAT: &str = "dualwrite.package/v1";

/// Maps and the integration keys they rely on.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Package {
    pub maps: Vec<TableMap>,
    /// Dataverse table → key fields (dotted form).
    pub integration_keys: BTreeMap<String, Vec<String>>,
}

impl Package {
    /// Reads a `dualwrite.package/v1` document, reporting every problem with its JSON path.
    pub fn from_json(text: &str) -> Result<Package, DocumentError> {
        Package::from_value(&crate::document::parse_json(text)?)
    }

    /// Reads a package document already parsed as JSON.
    pub fn from_value(value: &Value) -> Result<Package, DocumentError> {
        let mut p = Problems::default();
        let Some(doc) = p.object(value, "") else { return p.finish(Package::default()) };
        p.unknown_keys(doc, "", &["format", "maps", "integration_keys"]);
        p.format(doc, PACKAGE_FORMAT);
        let maps = p
            .array(doc, "", "maps", true)
            .iter()
            .enumerate()
            .filter_map(|(i, m)| crate::table_map::read_map(m, &item("maps", i), &[], &mut p))
            .collect();
        let integration_keys = read_keys(doc.get("integration_keys"), &mut p);
        p.finish(Package { maps, integration_keys })
    }

    /// The package document.
    pub fn to_value(&self) -> Value {
        json!({
            "format": PACKAGE_FORMAT,
            "maps": self.maps.iter().map(TableMap::to_value).collect::<Vec<_>>(),
            "integration_keys": self.integration_keys,
        })
    }

    /// The package document as indented JSON text.
    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(&self.to_value()).unwrap_or_default()
    }

    /// Names every map's tables, and the tables of the integration keys, by their names in `schema`
    /// (see [`TableMap::resolve_tables`]); returns the names that resolve to nothing.
    pub fn resolve_tables(&mut self, schema: &Schema) -> Vec<UnknownTable> {
        let mut unknown: Vec<UnknownTable> = Vec::new();
        for map in &mut self.maps {
            for e in map.resolve_tables(schema) {
                if !unknown.contains(&e) {
                    unknown.push(e);
                }
            }
        }
        self.integration_keys = std::mem::take(&mut self.integration_keys)
            .into_iter()
            .map(|(table, fields)| match schema.resolve(Side::Dataverse, &table) {
                Ok(t) => (t.name.clone(), fields),
                Err(_) => (table, fields),
            })
            .collect();
        unknown
    }

    /// Imports dual-write's `msdyn_mapping` JSON: one map `{name, legs}`, a list of them, a project
    /// `{entityMappingTasks}`, or `msdyn_dualwriteentitymap` rows (`{value: [{msdyn_mapping: "…"}]}`).
    /// With a schema, legs are told apart by matching their table names against it; without, by
    /// `sourceEnvironment`, else the first leg is taken as the finops-sourced one.
    pub fn from_ms_mapping(text: &str, schema: Option<&Schema>) -> Result<Package, DocumentError> {
        ms_mapping::import(&crate::document::parse_json(text)?, schema)
    }

    /// Exports the maps in the `msdyn_mapping` shape, one object per map (a finops-sourced leg and a
    /// Dataverse-sourced leg).
    pub fn to_ms_mapping(&self) -> Value {
        Value::Array(self.maps.iter().map(ms_mapping::export).collect())
    }
}

fn read_keys(value: Option<&Value>, p: &mut Problems) -> BTreeMap<String, Vec<String>> {
    let mut keys = BTreeMap::new();
    let Some(value) = value.filter(|v| !v.is_null()) else { return keys };
    let Some(object) = p.object(value, "integration_keys") else { return keys };
    for (table, fields) in object {
        let path = child("integration_keys", table);
        let holder: Map<String, Value> = std::iter::once((table.clone(), fields.clone())).collect();
        let is_array = fields.is_array();
        let fields = p.strings(&holder, "integration_keys", table, true);
        if fields.is_empty() && is_array {
            p.push(path, "an integration key needs at least one field");
            continue;
        }
        keys.insert(table.clone(), fields);
    }
    keys
}

#[cfg(test)]
mod tests;
