//! What replacing one version of a map by another changes, field by field: what an import shows
//! before it writes anything.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::{FieldMapping, TableMap};

/// One difference between a stored map and the one replacing it. `path` names the property
/// (`version`, `finops_filter`) or the field mapping, by its two sides (`fields[NAME/cdm_name]`, a
/// missing side as `none`), and its property (`fields[NAME/cdm_name].direction`). A field mapping
/// added has `before` null; one removed has `after` null.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Change {
    pub path: String,
    pub before: Value,
    pub after: Value,
}

/// Every difference from `before` to `after`, properties first, then field mappings in `after`'s
/// order, then the ones `after` no longer has.
pub fn changes(before: &TableMap, after: &TableMap) -> Vec<Change> {
    let mut found = Vec::new();
    let mut compare = |path: &str, b: Value, a: Value| {
        if b != a {
            found.push(Change { path: path.to_owned(), before: b, after: a });
        }
    };
    compare("name", json!(before.name), json!(after.name));
    compare("version", json!(before.version), json!(after.version));
    compare("publisher", json!(before.publisher), json!(after.publisher));
    compare("description", json!(before.description), json!(after.description));
    compare("finops", json!(before.finops), json!(after.finops));
    compare("dataverse", json!(before.dataverse), json!(after.dataverse));
    compare(
        "finops_filter",
        json!(before.filter(crate::schema::Side::Finops)),
        json!(after.filter(crate::schema::Side::Finops)),
    );
    compare(
        "dataverse_filter",
        json!(before.filter(crate::schema::Side::Dataverse)),
        json!(after.filter(crate::schema::Side::Dataverse)),
    );
    let same = |a: &FieldMapping, b: &FieldMapping| a.finops == b.finops && a.dataverse == b.dataverse;
    for field in &after.fields {
        let path = field_path(field);
        match before.fields.iter().find(|f| same(f, field)) {
            None => compare(&path, Value::Null, to_value(field)),
            Some(old) => {
                compare(&format!("{path}.direction"), json!(old.direction), json!(field.direction));
                compare(&format!("{path}.transforms"), json!(old.transforms), json!(field.transforms));
            }
        }
    }
    for old in before.fields.iter().filter(|old| !after.fields.iter().any(|f| same(f, old))) {
        compare(&field_path(old), to_value(old), Value::Null);
    }
    found
}

fn field_path(field: &FieldMapping) -> String {
    format!(
        "fields[{}/{}]",
        field.finops.as_deref().unwrap_or("none"),
        field.dataverse.as_deref().unwrap_or("none")
    )
}

fn to_value(field: &FieldMapping) -> Value {
    serde_json::to_value(field).unwrap_or(Value::Null)
}
