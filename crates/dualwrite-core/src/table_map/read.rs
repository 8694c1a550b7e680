//! Reading a table map from JSON, every problem reported at its path.

use serde_json::Value;

use super::{Direction, FieldMapping, TableMap, Transform, ValueMap};
use crate::document::{child, item, type_name, Problems};

/// Keys a map object may carry besides its own (the API adds `id` and `status`).
pub(crate) fn table_map(
    value: &Value,
    path: &str,
    extra_keys: &[&str],
    p: &mut Problems,
) -> Option<TableMap> {
    let object = p.object(value, path)?;
    let mut known = vec![
        "name",
        "version",
        "publisher",
        "description",
        "finops",
        "dataverse",
        "fields",
        "finops_filter",
        "dataverse_filter",
    ];
    known.extend_from_slice(extra_keys);
    p.unknown_keys(object, path, &known);
    let name = p.string(object, path, "name").unwrap_or_default();
    if object.contains_key("name") && name.trim().is_empty() {
        p.push(child(path, "name"), "a map needs a name");
    }
    let version = p.string(object, path, "version").unwrap_or_default();
    let publisher = p.opt_string(object, path, "publisher").unwrap_or_default();
    let description = p.opt_string(object, path, "description").unwrap_or_default();
    let finops = p.string(object, path, "finops").unwrap_or_default();
    let dataverse = p.string(object, path, "dataverse").unwrap_or_default();
    let fields_path = child(path, "fields");
    let fields = p
        .array(object, path, "fields", true)
        .iter()
        .enumerate()
        .filter_map(|(i, f)| field(f, &item(&fields_path, i), p))
        .collect();
    let finops_filter = p.opt_string(object, path, "finops_filter");
    let dataverse_filter = p.opt_string(object, path, "dataverse_filter");
    Some(TableMap {
        name,
        version,
        publisher,
        description,
        finops,
        dataverse,
        fields,
        finops_filter,
        dataverse_filter,
    })
}

fn field(value: &Value, path: &str, p: &mut Problems) -> Option<FieldMapping> {
    let object = p.object(value, path)?;
    p.unknown_keys(object, path, &["finops", "dataverse", "direction", "transforms"]);
    let finops = p.opt_string(object, path, "finops").filter(|s| !s.is_empty());
    let dataverse = p.opt_string(object, path, "dataverse").filter(|s| !s.is_empty());
    let direction = match p.string(object, path, "direction") {
        Some(d) => match d.parse::<Direction>() {
            Ok(d) => Some(d),
            Err(message) => {
                p.push(child(path, "direction"), message);
                None
            }
        },
        None => None,
    };
    let transforms_path = child(path, "transforms");
    let transforms = p
        .array(object, path, "transforms", false)
        .iter()
        .enumerate()
        .filter_map(|(i, t)| transform(t, &item(&transforms_path, i), p))
        .collect();
    Some(FieldMapping { finops, dataverse, direction: direction?, transforms })
}

/// Reads one transform; also used for the `msdyn_mapping` shape, whose transforms carry `$type` and
/// `createValuesOnDestination` too.
pub(crate) fn transform(value: &Value, path: &str, p: &mut Problems) -> Option<Transform> {
    let object = p.object(value, path)?;
    p.unknown_keys(
        object,
        path,
        &["transformType", "valueMap", "defaultValue", "$type", "createValuesOnDestination"],
    );
    match p.string(object, path, "transformType")?.as_str() {
        "ValueMap" => {
            let map_path = child(path, "valueMap");
            let entries = match object.get("valueMap") {
                Some(Value::Object(entries)) => entries,
                other => {
                    let found = other.map_or("nothing", type_name);
                    p.push(map_path, format!("a ValueMap needs `valueMap`, an object; found {found}"));
                    return None;
                }
            };
            let mut value_map = ValueMap::default();
            for (key, v) in entries {
                match v {
                    Value::Array(_) | Value::Object(_) => p.push(
                        child(&map_path, key),
                        format!(
                            "a value map value is a string, number, boolean or null; found {}",
                            type_name(v)
                        ),
                    ),
                    _ => value_map.entries.push((key.clone(), v.clone())),
                }
            }
            Some(Transform::ValueMap { value_map })
        }
        "Default" => match object.get("defaultValue") {
            Some(Value::Array(_) | Value::Object(_)) | None => {
                p.push(
                    child(path, "defaultValue"),
                    "a Default needs `defaultValue`, a string, number or boolean",
                );
                None
            }
            Some(v) => Some(Transform::Default { default_value: v.clone() }),
        },
        other => {
            p.push(
                child(path, "transformType"),
                format!("unknown transform `{other}`; dual-write has ValueMap and Default"),
            );
            None
        }
    }
}
