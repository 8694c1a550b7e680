//! dual-write's `msdyn_mapping` JSON: a map as legs, one per direction, each with field mappings whose
//! `syncDirection` is "1" (finops → Dataverse), "2" (Dataverse → finops) or "3" (both).
//!
//! Native value maps are written finops value → Dataverse value; in a Dataverse-sourced leg they are
//! keyed by Dataverse value, so they are turned around on the way in and out. A field mapped both ways
//! appears in both legs; the finops-sourced leg's copy is the one kept.

use serde_json::{json, Map, Value};

use super::Package;
use crate::document::{child, item, type_name, DocumentError, Problems};
use crate::schema::{ColumnType, Schema, Side};
use crate::table_map::{read_transform, Direction, FieldMapping, TableMap, Transform, ValueMap};

pub(super) fn import(value: &Value, schema: Option<&Schema>) -> Result<Package, DocumentError> {
    let mut p = Problems::default();
    let mut maps = Vec::new();
    for (path, map) in map_objects(value, "", &mut p) {
        if let Some(map) = import_map(&map, &path, schema, &mut p) {
            maps.push(map);
        }
    }
    if maps.is_empty() && p.is_empty() {
        p.push(
            "",
            "no map found; expected {\"name\", \"legs\"}, a list of them, or msdyn_dualwriteentitymap rows",
        );
    }
    p.finish(Package { maps, integration_keys: Default::default() })
}

/// The map objects (`{name, legs}`) in any of the accepted shapes, with their paths.
fn map_objects(value: &Value, path: &str, p: &mut Problems) -> Vec<(String, Value)> {
    match value {
        Value::Array(items) => {
            items.iter().enumerate().flat_map(|(i, v)| map_objects(v, &item(path, i), p)).collect()
        }
        Value::Object(object) => {
            if let Some(mapping) = object.get("msdyn_mapping") {
                let path = child(path, "msdyn_mapping");
                let parsed = match mapping {
                    Value::String(text) => match serde_json::from_str::<Value>(text) {
                        Ok(v) => v,
                        Err(e) => {
                            p.push(path, format!("msdyn_mapping is not valid JSON: {e}"));
                            return Vec::new();
                        }
                    },
                    other => other.clone(),
                };
                let mut found = map_objects(&parsed, &path, p);
                // The row's own name, when the mapping does not carry one.
                if let (Some(Value::String(name)), [(_, Value::Object(m))]) =
                    (object.get("msdyn_name"), found.as_mut_slice())
                {
                    m.entry("name").or_insert_with(|| Value::String(name.clone()));
                }
                return found;
            }
            if let Some(rows) = object.get("value") {
                return map_objects(rows, &child(path, "value"), p);
            }
            if let Some(tasks) = object.get("entityMappingTasks") {
                return map_objects(tasks, &child(path, "entityMappingTasks"), p);
            }
            vec![(path.to_owned(), value.clone())]
        }
        other => {
            p.push(path, format!("expected a map object, found {}", type_name(other)));
            Vec::new()
        }
    }
}

/// Which side a leg reads from. With a schema, one table the schema places is enough (a leg may name
/// only one), unless the leg's tables point both ways.
fn leg_source(leg: &Map<String, Value>, index: usize, schema: Option<&Schema>) -> Side {
    let text = |k: &str| leg.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
    if let Some(schema) = schema {
        let (source, destination) = (text("sourceSchema"), text("destinationSchema"));
        let known = |side: Side, table: &str| schema.resolve(side, table).is_ok();
        let from_finops = known(Side::Finops, &source) || known(Side::Dataverse, &destination);
        let from_dataverse = known(Side::Dataverse, &source) || known(Side::Finops, &destination);
        match (from_finops, from_dataverse) {
            (true, false) => return Side::Finops,
            (false, true) => return Side::Dataverse,
            _ => {}
        }
    }
    let environment = text("sourceEnvironment").to_ascii_lowercase();
    let words: Vec<&str> = environment.split(|c: char| !c.is_ascii_alphanumeric()).collect();
    let has = |list: &[&str]| words.iter().any(|w| list.contains(w));
    if has(&["crm", "cds", "ce", "dataverse", "sales"]) {
        Side::Dataverse
    } else if has(&["ax", "fo", "finops", "finance", "operations", "erp"]) || index == 0 {
        Side::Finops
    } else {
        Side::Dataverse
    }
}

fn import_map(value: &Value, path: &str, schema: Option<&Schema>, p: &mut Problems) -> Option<TableMap> {
    let object = p.object(value, path)?;
    let name = object
        .get("name")
        .or_else(|| object.get("msdyn_name"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    if name.is_empty() {
        p.push(child(path, "name"), "the map has no name");
    }
    let (version, publisher) = template(object);
    let description = object.get("description").and_then(Value::as_str).unwrap_or_default().to_owned();
    let legs_path = child(path, "legs");
    let legs = p.array(object, path, "legs", true);
    let mut map = TableMap {
        name,
        version,
        publisher,
        description,
        finops: String::new(),
        dataverse: String::new(),
        fields: Vec::new(),
        finops_filter: None,
        dataverse_filter: None,
    };
    let mut reversed_filter = None;
    // (path, Dataverse field, related entity) of the lookups the legs write on the Dataverse side.
    let mut related = Vec::new();
    for (l, leg) in legs.iter().enumerate() {
        let leg_path = item(&legs_path, l);
        let Some(leg) = p.object(leg, &leg_path) else { continue };
        let source = leg_source(leg, l, schema);
        let text =
            |k: &str| leg.get(k).and_then(Value::as_str).filter(|s| !s.trim().is_empty()).map(str::to_owned);
        let (source_table, destination_table) = (text("sourceSchema"), text("destinationSchema"));
        let (finops, dataverse) = match source {
            Side::Finops => (source_table, destination_table),
            Side::Dataverse => (destination_table, source_table),
        };
        for (slot, found, side) in
            [(&mut map.finops, finops, Side::Finops), (&mut map.dataverse, dataverse, Side::Dataverse)]
        {
            match found {
                Some(t) if slot.is_empty() => *slot = t,
                Some(t) if *slot != t => p.push(
                    leg_path.clone(),
                    format!("the legs disagree on the {side} table: `{slot}` and `{t}`"),
                ),
                _ => {}
            }
        }
        match source {
            Side::Finops => {
                map.finops_filter = map.finops_filter.take().or_else(|| text("sourceFilter"));
                reversed_filter = reversed_filter.or_else(|| text("reversedSourceFilter"));
            }
            Side::Dataverse => {
                map.dataverse_filter = map.dataverse_filter.take().or_else(|| text("sourceFilter"))
            }
        }
        let mappings_path = child(&leg_path, "fieldMappings");
        let mut leg_fields = Vec::new();
        for (f, field) in p.array(leg, &leg_path, "fieldMappings", true).iter().enumerate() {
            let field_path = item(&mappings_path, f);
            let Some(mapping) = import_field(field, &field_path, source, p) else { continue };
            let entity = field.get("destinationLookupFieldRelatedEntity").and_then(Value::as_str);
            if let (Side::Finops, Some(entity), Some(column)) = (source, entity, &mapping.dataverse) {
                if !entity.trim().is_empty() {
                    let path = child(&field_path, "destinationLookupFieldRelatedEntity");
                    related.push((path, column.clone(), entity.trim().to_owned()));
                }
            }
            leg_fields.push(mapping);
        }
        merge(&mut map.fields, leg_fields);
    }
    map.dataverse_filter = map.dataverse_filter.or(reversed_filter);
    if let Some(schema) = schema {
        map.resolve_tables(schema);
        check_related(schema, &map, &related, p);
    }
    for (side, table) in [(Side::Finops, &map.finops), (Side::Dataverse, &map.dataverse)] {
        if table.is_empty() {
            p.push(
                legs_path.clone(),
                format!("no leg names the {side} table (sourceSchema/destinationSchema)"),
            );
        }
    }
    Some(map)
}

/// The related entity a leg gives for a lookup it writes (an entity set name, `transactioncurrencies`)
/// must be the lookup's target. Where the schema knows neither the lookup nor the entity set, there is
/// nothing to hold it against.
fn check_related(schema: &Schema, map: &TableMap, related: &[(String, String, String)], p: &mut Problems) {
    let Some(table) = schema.table(Side::Dataverse, &map.dataverse) else { return };
    for (path, field, entity) in related {
        let column = field.split('.').next().unwrap_or(field);
        let Some(ColumnType::Lookup { target }) = table.column(column).map(|c| &c.ty) else { continue };
        match schema.resolve(Side::Dataverse, entity) {
            Ok(named) if named.name == *target => {}
            Ok(named) => p.push(
                path.clone(),
                format!(
                    "`{entity}` is table {}, but lookup `{column}` of {} targets {target}",
                    named.name, table.name
                ),
            ),
            Err(_) => {
                let aliases = schema.table(Side::Dataverse, target).map(|t| t.aliases.join(", "));
                if aliases.as_deref().is_some_and(|a| !a.is_empty()) {
                    p.push(
                        path.clone(),
                        format!(
                            "`{entity}` is no table of the schema, but lookup `{column}` of {} targets {target} \
                             (entity set {})",
                            table.name,
                            aliases.unwrap_or_default()
                        ),
                    );
                }
            }
        }
    }
}

/// Adds a leg's fields to those of the legs before: a field already there (both ways) is kept once; a
/// new one goes before the next field of its leg that is already there, which keeps the order of a map
/// exported by [`export`].
fn merge(fields: &mut Vec<FieldMapping>, leg: Vec<FieldMapping>) {
    let same = |a: &FieldMapping, b: &FieldMapping| a.finops == b.finops && a.dataverse == b.dataverse;
    for (i, field) in leg.iter().enumerate() {
        if fields.iter().any(|f| same(f, field)) {
            continue;
        }
        let next = leg[i + 1..].iter().find_map(|later| fields.iter().position(|f| same(f, later)));
        match next {
            Some(position) => fields.insert(position, field.clone()),
            None => fields.push(field.clone()),
        }
    }
}

/// Version and publisher from `version`/`publisher` or `templateIdentifier`.
fn template(object: &Map<String, Value>) -> (String, String) {
    let template = object.get("templateIdentifier");
    let version = match object.get("version").or_else(|| template.and_then(|t| t.get("version"))) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Object(v)) => {
            let part = |k: &str| v.get(k).and_then(Value::as_u64).unwrap_or(0);
            format!("{}.{}.{}.{}", part("major"), part("minor"), part("build"), part("revision"))
        }
        _ => "1.0.0.0".to_owned(),
    };
    let publisher = object
        .get("publisher")
        .or_else(|| template.and_then(|t| t.get("publisher")))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    (version, publisher)
}

fn import_field(value: &Value, path: &str, source: Side, p: &mut Problems) -> Option<FieldMapping> {
    let object = p.object(value, path)?;
    let text =
        |k: &str| object.get(k).and_then(Value::as_str).filter(|s| !s.trim().is_empty()).map(str::to_owned);
    let (source_field, destination_field) = (text("sourceField"), text("destinationField"));
    let (finops, dataverse) = match source {
        Side::Finops => (source_field, destination_field),
        Side::Dataverse => (destination_field, source_field),
    };
    let direction = match object.get("syncDirection") {
        Some(Value::String(s)) if s == "1" => Direction::ToDataverse,
        Some(Value::String(s)) if s == "2" => Direction::ToFinops,
        Some(Value::String(s)) if s == "3" => Direction::Both,
        Some(Value::Number(n)) if n.as_u64() == Some(1) => Direction::ToDataverse,
        Some(Value::Number(n)) if n.as_u64() == Some(2) => Direction::ToFinops,
        Some(Value::Number(n)) if n.as_u64() == Some(3) => Direction::Both,
        None | Some(Value::Null) => match source {
            Side::Finops => Direction::ToDataverse,
            Side::Dataverse => Direction::ToFinops,
        },
        Some(other) => {
            p.push(
                child(path, "syncDirection"),
                format!("expected \"1\" (finops → Dataverse), \"2\" (Dataverse → finops) or \"3\" (both), found {other}"),
            );
            return None;
        }
    };
    let transforms_path = child(path, "valueTransforms");
    let transforms = p
        .array(object, path, "valueTransforms", false)
        .iter()
        .enumerate()
        .filter_map(|(i, t)| read_transform(t, &item(&transforms_path, i), p))
        .map(|t| match (source, direction) {
            (Side::Dataverse, _) => turn_around(t),
            // Only read towards finops, so written back only in the Dataverse-sourced leg, keyed by
            // Dataverse value: kept as that leg reads back, the first finops value for each Dataverse
            // value (the one a backward reading uses), every key a string.
            (Side::Finops, Direction::ToFinops) => turn_around(turn_around(t)),
            (Side::Finops, _) => t,
        })
        .collect();
    Some(FieldMapping { finops, dataverse, direction, transforms })
}

/// A value map keyed the other way (values become keys). Entries whose value is null cannot be keys and
/// are left out; of entries with the same value, the first is kept, as a backward reading uses it.
fn turn_around(t: Transform) -> Transform {
    let Transform::ValueMap { value_map } = t else { return t };
    let mut entries: Vec<(String, Value)> = Vec::with_capacity(value_map.entries.len());
    for (k, v) in value_map.entries {
        let key = match v {
            Value::String(s) => s,
            Value::Null => continue,
            other => other.to_string(),
        };
        if !entries.iter().any(|(taken, _)| *taken == key) {
            entries.push((key, Value::String(k)));
        }
    }
    Transform::ValueMap { value_map: ValueMap { entries } }
}

pub(super) fn export(map: &TableMap) -> Value {
    let leg = |source: Side| {
        let (source_table, destination_table) = match source {
            Side::Finops => (&map.finops, &map.dataverse),
            Side::Dataverse => (&map.dataverse, &map.finops),
        };
        let mappings: Vec<Value> = map
            .fields
            .iter()
            .filter(|f| f.direction.reads(source))
            .map(|f| {
                let transforms: Vec<Value> = f
                    .transforms
                    .iter()
                    .cloned()
                    .map(|t| if source == Side::Dataverse { turn_around(t) } else { t })
                    .map(|t| serde_json::to_value(t).unwrap_or(Value::Null))
                    .collect();
                json!({
                    "sourceField": f.field(source).unwrap_or_default(),
                    "destinationField": f.field(source.other()).unwrap_or_default(),
                    "syncDirection": match f.direction {
                        Direction::ToDataverse => "1",
                        Direction::ToFinops => "2",
                        Direction::Both => "3",
                    },
                    "valueTransforms": transforms,
                })
            })
            .collect();
        json!({
            "sourceEnvironment": if source == Side::Finops { "FinOps" } else { "Dataverse" },
            "sourceSchema": source_table,
            "destinationEnvironment": if source == Side::Finops { "Dataverse" } else { "FinOps" },
            "destinationSchema": destination_table,
            "sourceFilter": map.filter(source).unwrap_or_default(),
            "reversedSourceFilter": map.filter(source.other()).unwrap_or_default(),
            "fieldMappings": mappings,
        })
    };
    let mut object = json!({
        "name": map.name,
        "version": map.version,
        "publisher": map.publisher,
        "description": map.description,
        "legs": [leg(Side::Finops), leg(Side::Dataverse)],
    });
    if let (Ok(v), Some(o)) = (map.parsed_version(), object.as_object_mut()) {
        o.insert(
            "templateIdentifier".into(),
            json!({"name": map.name, "version": {"major": v.major, "minor": v.minor, "build": v.build, "revision": v.revision}}),
        );
    }
    object
}
