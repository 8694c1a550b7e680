//! Field-level checks: presence, duplicates, columns and types, transforms, lookups.

use serde_json::Value;

use super::{field_path, side_path, Context, Diagnostic};
use crate::schema::{Column, ColumnType, Side, COMPANY_LOOKUP, DATA_AREA_ID};
use crate::table_map::{Direction, FieldMapping, Transform};

/// The side a mapping reads from and the side it writes to (both ways: finops → Dataverse).
fn source_and_destination(direction: Direction) -> (Side, Side) {
    match direction {
        Direction::ToFinops => (Side::Dataverse, Side::Finops),
        Direction::ToDataverse | Direction::Both => (Side::Finops, Side::Dataverse),
    }
}

/// The sides a mapping writes, Dataverse first (a map reads left to right: finops → Dataverse).
fn written_sides(direction: Direction) -> impl Iterator<Item = Side> {
    [Side::Dataverse, Side::Finops].into_iter().filter(move |s| direction.writes(*s))
}

/// The column of side `side` of field `i`, if resolved: for a Dataverse lookup path, the key column
/// it ends in.
fn column<'s>(cx: &Context<'s>, i: usize, side: Side) -> Option<&'s Column> {
    match side {
        Side::Finops => cx.fields[i].finops,
        Side::Dataverse => cx.fields[i].dataverse.as_ref().map(|p| p.column),
    }
}

/// The column of the map's own table that field `i` writes on `side` (the lookup, for a path).
fn own_column<'s>(cx: &Context<'s>, i: usize, side: Side) -> Option<&'s Column> {
    match side {
        Side::Finops => cx.fields[i].finops,
        Side::Dataverse => {
            cx.fields[i].dataverse.as_ref().map(|p| *p.hops.first().map_or(&p.column, |h| &h.lookup))
        }
    }
}

fn side_name(side: Side) -> &'static str {
    side.as_str()
}

/// DIPV1021, DIPV1024, DIPV1031.
pub(super) fn presence(cx: &mut Context<'_>) {
    for (i, f) in cx.map.fields.iter().enumerate() {
        let (source, destination) = source_and_destination(f.direction);
        if f.field(destination).is_none() {
            let message = format!(
                "the mapping has no {} field; name the {} column it writes",
                side_name(destination),
                side_name(destination)
            );
            cx.push(Diagnostic::error("DIPV1024", side_path(i, destination), message));
        }
        if f.field(source).is_some() {
            continue;
        }
        if f.direction == Direction::Both {
            let message =
                "a field mapped both ways needs a column on both sides; name the finops column, or make \
                           the mapping to_dataverse with a Default transform";
            cx.push(Diagnostic::error("DIPV1021", side_path(i, source), message));
        } else if f.default_value().is_none() {
            let required = own_column(cx, i, destination).filter(|c| c.required);
            let d = match required {
                Some(c) => Diagnostic::error(
                    "DIPV1031",
                    side_path(i, source),
                    format!(
                        "required {} column `{}` has no source field and no Default transform; add a Default \
                         with the value to write, or name a {} source field",
                        side_name(destination),
                        c.name,
                        side_name(source)
                    ),
                ),
                None => Diagnostic::error(
                    "DIPV1021",
                    side_path(i, source),
                    format!(
                        "the mapping has no {} source field and no Default transform; name the source column or \
                         add a Default with the value to write",
                        side_name(source)
                    ),
                ),
            };
            cx.push(d);
        }
    }
}

fn same(side: Side, a: &str, b: &str) -> bool {
    match side {
        Side::Finops => a.eq_ignore_ascii_case(b),
        Side::Dataverse => a == b,
    }
}

/// DIPV1023 (a field in two two-way mappings), DIPV1026 (a destination written twice), DIPV1029 (a
/// pair mapped twice).
pub(super) fn duplicates(cx: &mut Context<'_>) {
    let fields = &cx.map.fields;
    let mut found = Vec::new();
    for j in 0..fields.len() {
        for i in 0..j {
            let (a, b) = (&fields[i], &fields[j]);
            let same_side = |side: Side| match (a.field(side), b.field(side)) {
                (Some(x), Some(y)) => same(side, x, y),
                _ => false,
            };
            if same_side(Side::Finops) && same_side(Side::Dataverse) {
                found.push(Diagnostic::error(
                    "DIPV1029",
                    field_path(j, ""),
                    format!(
                        "the mapping `{}` appears twice (also fields[{i}]); remove one of the two",
                        b.label()
                    ),
                ));
                continue;
            }
            for side in Side::BOTH {
                if !same_side(side) || !a.direction.writes(side) || !b.direction.writes(side) {
                    continue;
                }
                let name = b.field(side).unwrap_or_default();
                let d = if a.direction == Direction::Both && b.direction == Direction::Both {
                    Diagnostic::error(
                        "DIPV1023",
                        side_path(j, side),
                        format!(
                            "{} field `{name}` is used by two mappings both ways (also fields[{i}]); a field can \
                             sync both ways with one partner only: make one mapping one-way or remove it",
                            side_name(side)
                        ),
                    )
                } else {
                    Diagnostic::error(
                        "DIPV1026",
                        side_path(j, side),
                        format!(
                            "{} field `{name}` is written by two mappings (also fields[{i}]); keep one mapping \
                             writing it",
                            side_name(side)
                        ),
                    )
                };
                found.push(d);
            }
        }
    }
    for d in found {
        cx.push(d);
    }
}

/// Whether values of `from` can be written to a column of `to` without a value map.
fn compatible(from: &ColumnType, to: &ColumnType) -> bool {
    use ColumnType as T;
    match (from, to) {
        (T::Lookup { .. }, _) | (_, T::Lookup { .. }) => false,
        (T::String { .. } | T::Guid, T::String { .. } | T::Guid) => true,
        (T::Enum { .. }, T::String { .. } | T::Enum { .. }) | (T::String { .. }, T::Enum { .. }) => true,
        (T::Integer | T::Option { .. }, T::Integer | T::Decimal | T::Option { .. }) => true,
        (T::Integer | T::Decimal, T::String { .. }) => true,
        (T::Decimal, T::Decimal) => true,
        (T::Boolean, T::Boolean) => true,
        (T::Date, T::Date | T::Datetime) | (T::Datetime, T::Datetime) => true,
        _ => false,
    }
}

/// DIPV1022, DIPV1025, DW2001, DIPV1011, DIPV1030, DW2008.
pub(super) fn columns(cx: &mut Context<'_>) {
    let Some(schema) = cx.schema else { return };
    let company_specific = cx.dataverse.is_some_and(|t| t.company_specific);
    let mut found = Vec::new();
    for (i, f) in cx.map.fields.iter().enumerate() {
        if let (Some(name), Some(table), None) = (&f.finops, cx.finops, cx.fields[i].finops) {
            let code = if f.direction == Direction::ToFinops { "DIPV1025" } else { "DIPV1022" };
            found.push(Diagnostic::error(
                code,
                side_path(i, Side::Finops),
                format!(
                    "`{name}` is not a column of finops entity {}; fix the name or refresh the schema",
                    table.name
                ),
            ));
        }
        if let (Some(path), Some(table), None) = (&f.dataverse, cx.dataverse, &cx.fields[i].dataverse) {
            let code = if f.direction == Direction::ToFinops { "DIPV1022" } else { "DIPV1025" };
            let why = schema.resolve_path(table, path).err().map_or_else(String::new, |e| e.to_string());
            found.push(Diagnostic::error(
                code,
                side_path(i, Side::Dataverse),
                format!("{why}; fix the field or refresh the schema"),
            ));
        }
        let company_field = f.dataverse.as_deref().is_some_and(|d| {
            d == COMPANY_LOOKUP || d.strip_prefix(COMPANY_LOOKUP).is_some_and(|r| r.starts_with('.'))
        }) || f.finops.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(DATA_AREA_ID));
        if company_specific && company_field {
            found.push(Diagnostic::error(
                "DW2001",
                field_path(i, ""),
                format!(
                    "the mapping `{}` maps the company, which in a company-specific map is part of the integration key and is \
                     carried from dataAreaId to msdyn_company by itself; remove this mapping",
                    f.label()
                ),
            ));
            continue;
        }
        for side in written_sides(f.direction) {
            if let Some(c) = own_column(cx, i, side).filter(|c| c.read_only) {
                found.push(Diagnostic::error(
                    "DIPV1011",
                    side_path(i, side),
                    format!(
                        "{} column `{}` is read-only, so the map cannot write it; map it to {} only, or remove \
                         the mapping",
                        side_name(side),
                        c.name,
                        side.other()
                    ),
                ));
            }
        }
        if f.value_map().is_some() {
            continue;
        }
        let (Some(fc), Some(dc)) = (column(cx, i, Side::Finops), column(cx, i, Side::Dataverse)) else {
            continue;
        };
        let mut mismatch = false;
        for destination in written_sides(f.direction) {
            let (from, to) = match destination {
                Side::Dataverse => (fc, dc),
                Side::Finops => (dc, fc),
            };
            let source = destination.other();
            if !compatible(&from.ty, &to.ty) && !mismatch {
                mismatch = true;
                let hint = if matches!(to.ty, ColumnType::Lookup { .. })
                    || matches!(from.ty, ColumnType::Lookup { .. })
                {
                    "map the lookup through its target's key (`lookup.keycolumn`)"
                } else {
                    "add a ValueMap transform, or map columns of matching types"
                };
                found.push(Diagnostic::error(
                    "DIPV1030",
                    side_path(i, destination),
                    format!(
                        "{} `{}` is {} but {} `{}` is {}: the types do not match; {hint}",
                        side_name(source),
                        f.field(source).unwrap_or_default(),
                        from.ty,
                        side_name(destination),
                        f.field(destination).unwrap_or_default(),
                        to.ty
                    ),
                ));
            }
            if let (Some(a), Some(b)) = (from.ty.max_length(), to.ty.max_length()) {
                if a > b {
                    found.push(Diagnostic::warning(
                        "DW2008",
                        side_path(i, destination),
                        format!(
                            "{} `{}` holds up to {a} characters but {} `{}` only {b}; longer values fail to sync: \
                             keep them at most {b} long at the source, or widen `{}`",
                            side_name(source),
                            f.field(source).unwrap_or_default(),
                            side_name(destination),
                            f.field(destination).unwrap_or_default(),
                            to.name
                        ),
                    ));
                }
            }
        }
    }
    for d in found {
        cx.push(d);
    }
}

/// DW2003, DW2004, DW2010, DW2012.
pub(super) fn transforms(cx: &mut Context<'_>) {
    let mut found = Vec::new();
    for (i, f) in cx.map.fields.iter().enumerate() {
        for (j, t) in f.transforms.iter().enumerate() {
            let path = field_path(i, &format!("transforms[{j}]"));
            match t {
                Transform::ValueMap { value_map } => {
                    value_map_checks(cx, i, f, value_map, &path, &mut found);
                }
                Transform::Default { default_value } => {
                    for side in written_sides(f.direction) {
                        let Some(c) = column(cx, i, side) else { continue };
                        let dotted = side == Side::Dataverse
                            && f.dataverse.as_deref().is_some_and(|d| d.contains('.'));
                        let checked = if dotted {
                            c.ty.check_value(default_value)
                        } else {
                            c.check_value(default_value)
                        };
                        if let Err(e) = checked {
                            found.push(Diagnostic::error(
                                "DW2010",
                                format!("{path}.defaultValue"),
                                format!(
                                    "default value {default_value} does not fit {} `{}`: {e}; use a value of the column",
                                    side_name(side),
                                    f.field(side).unwrap_or_default()
                                ),
                            ));
                        }
                    }
                }
            }
        }
    }
    for d in found {
        cx.push(d);
    }
}

fn value_map_checks(
    cx: &Context<'_>,
    i: usize,
    f: &FieldMapping,
    value_map: &crate::table_map::ValueMap,
    path: &str,
    found: &mut Vec<Diagnostic>,
) {
    if f.finops.is_none() || f.dataverse.is_none() {
        found.push(Diagnostic::error(
            "DW2004",
            path,
            "a ValueMap translates between two columns; name both the finops and the Dataverse field, or use a \
             Default transform",
        ));
        return;
    }
    let finops = column(cx, i, Side::Finops);
    let dataverse = column(cx, i, Side::Dataverse);
    let entry_path = |key: &str| format!("{path}.valueMap.{key}");
    for (k, (key, value)) in value_map.entries.iter().enumerate() {
        if let Some(c) = finops {
            match c.ty.check_value(&Value::String(key.clone())) {
                Err(e) => found.push(Diagnostic::error(
                    "DW2004",
                    entry_path(key),
                    format!("value-map key `{key}` is not a value of finops `{}`: {e}; fix the key", c.name),
                )),
                Ok(normal) => {
                    let twice = value_map.entries[..k].iter().any(|(other, _)| {
                        c.ty.check_value(&Value::String(other.clone())).ok() == Some(normal.clone())
                    });
                    if twice {
                        found.push(Diagnostic::error(
                            "DW2004",
                            entry_path(key),
                            format!("value-map key `{key}` is listed twice; keep one entry per finops value"),
                        ));
                    }
                }
            }
        }
        if let (Some(c), false) = (dataverse, value.is_null()) {
            if let Err(e) = c.ty.check_value(value) {
                found.push(Diagnostic::error(
                    "DW2004",
                    entry_path(key),
                    format!(
                        "value-map value {value} (for `{key}`) is not a value of Dataverse `{}`: {e}; fix the value",
                        f.dataverse.as_deref().unwrap_or_default()
                    ),
                ));
            }
        }
    }
    // Read backwards (towards finops), two keys with the same value are ambiguous.
    if f.direction.writes(Side::Finops) {
        let normalise = |v: &Value| match dataverse {
            Some(c) if !v.is_null() => c.ty.check_value(v).unwrap_or_else(|_| v.clone()),
            _ => match v {
                Value::String(s) => Value::String(s.to_lowercase()),
                other => other.clone(),
            },
        };
        for (a, b) in value_map.value_collisions(normalise) {
            let (ka, va) = &value_map.entries[a];
            let kb = &value_map.entries[b].0;
            let message = format!(
                "`{ka}` and `{kb}` both map to {va}, so a Dataverse {va} cannot be written back to one finops value; \
                 give each finops value its own Dataverse value, or map this field to_dataverse only"
            );
            found.push(if f.direction == Direction::Both {
                Diagnostic::error("DW2003", path, message)
            } else {
                Diagnostic::warning("DW2003", path, format!("{message} (the first, `{ka}`, is used)"))
            });
        }
    }
    // Values a row may hold that the map does not translate.
    if let (true, Some(ColumnType::Enum { values })) =
        (f.direction.writes(Side::Dataverse), finops.map(|c| &c.ty))
    {
        let missing: Vec<&str> = values
            .iter()
            .filter(|v| !value_map.entries.iter().any(|(k, _)| k.eq_ignore_ascii_case(v)))
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            found.push(Diagnostic::warning(
                "DW2012",
                format!("{path}.valueMap"),
                format!(
                    "finops values {} have no entry, so rows holding them fail to sync to Dataverse; add entries \
                     for them",
                    missing.join(", ")
                ),
            ));
        }
    }
    if let (true, Some(c)) = (f.direction.writes(Side::Finops), dataverse) {
        let all: Vec<Value> = match &c.ty {
            ColumnType::Option { values } => values.iter().map(|v| Value::from(*v)).collect(),
            ColumnType::Boolean => vec![Value::Bool(false), Value::Bool(true)],
            _ => Vec::new(),
        };
        let covered: Vec<Value> =
            value_map.entries.iter().filter_map(|(_, v)| c.ty.check_value(v).ok()).collect();
        let missing: Vec<String> =
            all.iter().filter(|v| !covered.contains(v)).map(Value::to_string).collect();
        if !missing.is_empty() {
            found.push(Diagnostic::warning(
                "DW2012",
                format!("{path}.valueMap"),
                format!(
                    "dataverse values {} have no entry, so rows holding them fail to sync to finops; add entries \
                     for them",
                    missing.join(", ")
                ),
            ));
        }
    }
}

/// DIPV1027 / DIPV1028: a lookup goes through its target's integration key, all of it (the company part
/// aside, which comes from the row's company).
pub(super) fn lookups(cx: &mut Context<'_>) {
    let (Some(schema), Some(keys)) = (cx.schema, cx.keys) else { return };
    /// The fields going through one lookup column of the map's table.
    struct Group {
        lookup: String,
        target: String,
        /// (field index, the path after the lookup).
        members: Vec<(usize, String)>,
    }
    let mut groups: Vec<Group> = Vec::new();
    for (i, f) in cx.map.fields.iter().enumerate() {
        let (Some(path), Some(resolved)) = (&f.dataverse, &cx.fields[i].dataverse) else { continue };
        let Some(hop) = resolved.hops.first() else { continue };
        if hop.lookup.name == COMPANY_LOOKUP {
            continue;
        }
        let rest = path.split_once('.').map_or("", |(_, r)| r).to_owned();
        match groups.iter_mut().find(|g| g.lookup == hop.lookup.name) {
            Some(g) => g.members.push((i, rest)),
            None => groups.push(Group {
                lookup: hop.lookup.name.clone(),
                target: hop.target.name.clone(),
                members: vec![(i, rest)],
            }),
        }
    }
    let mut found = Vec::new();
    for Group { lookup, target, members } in groups {
        let (first, _) = members[0];
        let code = |i: usize| {
            if cx.map.fields[i].direction.writes(Side::Dataverse) {
                "DIPV1027"
            } else {
                "DIPV1028"
            }
        };
        let key = match keys.effective(schema, &target) {
            Ok(key) => key,
            Err(e) => {
                found.push(Diagnostic::error(
                    code(first),
                    side_path(first, Side::Dataverse),
                    format!("lookup `{lookup}` cannot be resolved by key: {e}"),
                ));
                continue;
            }
        };
        let key_fields: Vec<&str> = key.mapped_fields().collect();
        for (i, rest) in &members {
            if !key_fields.contains(&rest.as_str()) {
                found.push(Diagnostic::error(
                    code(*i),
                    side_path(*i, Side::Dataverse),
                    format!(
                        "lookup `{lookup}.{rest}` goes through `{rest}`, which is not the integration key of {target} \
                         ({}); lookups resolve by key: map `{lookup}.{}` instead",
                        key_fields.join(", "),
                        key_fields.first().copied().unwrap_or_default()
                    ),
                ));
            }
        }
        let missing: Vec<&str> =
            key_fields.iter().copied().filter(|k| !members.iter().any(|(_, rest)| rest == k)).collect();
        if !missing.is_empty() && members.iter().any(|(_, rest)| key_fields.contains(&rest.as_str())) {
            found.push(Diagnostic::error(
                code(first),
                side_path(first, Side::Dataverse),
                format!(
                    "lookup `{lookup}` into {target} needs every field of its integration key; map {} too",
                    missing.iter().map(|m| format!("`{lookup}.{m}`")).collect::<Vec<_>>().join(", ")
                ),
            ));
        }
    }
    for d in found {
        cx.push(d);
    }
}
