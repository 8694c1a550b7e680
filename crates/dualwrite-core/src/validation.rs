//! Validation: every rule a table map must satisfy, reported as diagnostics with a path into the map.
//! One function, run by the studio on every edit and by the server before every save and run.
//!
//! Codes follow dual-write's documented numbering (`DIPV10xx`) where it exists; checks beyond it use
//! `DW2xxx`:
//!
//! | code | severity | what |
//! |---|---|---|
//! | DIPV1002 | error | one table company-specific, the other cross-company |
//! | DIPV1003 | error | the Dataverse table has no integration key |
//! | DIPV1004 | error | the map has a two-way field but a key field is mapped one way |
//! | DIPV1010 | error | a required column of a side the map writes is not mapped towards it |
//! | DIPV1011 | error | a read-only column is written |
//! | DIPV1012 | error | a filter does not parse, names unknown columns, compares mismatched types, uses nested lookups or functions |
//! | DIPV1014 | error | an integration-key field is not mapped |
//! | DIPV1015 | error | an integration-key lookup field's expanded key is not mapped |
//! | DIPV1018 / DIPV1020 | error | the finops / Dataverse table is not in the schema |
//! | DIPV1021 | error | a mapping has no source field and no Default |
//! | DIPV1022 / DIPV1025 | error | a source / destination field is not in the schema |
//! | DIPV1023 | error | a field is used twice by two-way mappings |
//! | DIPV1024 | error | a mapping has no destination field |
//! | DIPV1026 | error | a destination is written by two mappings |
//! | DIPV1027 / DIPV1028 | error | a lookup (written / read) does not go through its target's integration key |
//! | DIPV1029 | error | the same (finops, Dataverse) pair is mapped twice |
//! | DIPV1030 | error | the two columns' types are not compatible |
//! | DIPV1031 | error | a required destination has no source and no Default |
//! | DW2001 | error | the company is mapped as a field in a company-specific map |
//! | DW2002 | warning | the table has several alternate keys; names the one chosen |
//! | DW2003 | error (both) / warning (to_finops) | a value map cannot be read backwards |
//! | DW2004 | error | a value-map key or value does not fit its column |
//! | DW2005 | warning | a related table (lookup target, finops reference) has no map |
//! | DW2006 | warning | the map is in a dependency cycle |
//! | DW2007 | warning | the map refers to its own table (written in two passes) |
//! | DW2008 | warning | a string would not fit its destination (longer source) |
//! | DW2009 | error | the version is not `major.minor.build.revision` |
//! | DW2010 | error | a default value does not fit its column |
//! | DW2011 | error | an integration-key field is not a column of the table |
//! | DW2012 | warning | a value map does not cover every value of the source column |
//! | DW2013 | error | two maps of a package have the same name |
//! | DW2014 | error | a package's integration key names an unknown table |
//!
//! In a bidirectional mapping the finops field counts as the source and the Dataverse field as the
//! destination (the map reads left to right), for the codes that tell source from destination.

mod fields;
mod keys;
mod tables;

pub use keys::{key_coverage, KeyFieldCoverage, KeyGap};

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::integration_key::IntegrationKeys;
use crate::package::Package;
use crate::schema::{Column, ResolvedPath, Schema, Side, Table};
use crate::table_map::TableMap;

/// How bad a diagnostic is: a map with errors may be saved as a draft but not run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

/// One finding of the validation.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Diagnostic {
    pub code: String,
    pub severity: Severity,
    /// Lowercase; says what is wrong and how to fix it.
    pub message: String,
    /// Where in the map: `fields[3].dataverse`, `dataverse_filter`, `version`, `finops`, `fields`
    /// (the field list as a whole), or empty for the whole map.
    pub path: String,
}

impl Diagnostic {
    pub(crate) fn error(code: &str, path: impl Into<String>, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code: code.to_owned(),
            severity: Severity::Error,
            message: message.into(),
            path: path.into(),
        }
    }

    pub(crate) fn warning(code: &str, path: impl Into<String>, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code: code.to_owned(),
            severity: Severity::Warning,
            message: message.into(),
            path: path.into(),
        }
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{} {}: {}", self.severity, self.code, self.message)
        } else {
            write!(f, "{} {} at {}: {}", self.severity, self.code, self.path, self.message)
        }
    }
}

/// Whether any diagnostic is an error (the map cannot run).
pub fn has_errors(diagnostics: &[Diagnostic]) -> bool {
    diagnostics.iter().any(Diagnostic::is_error)
}

/// A field mapping resolved against the schema (`None` where the side is absent or unknown).
pub(crate) struct ResolvedField<'s> {
    pub finops: Option<&'s Column>,
    pub dataverse: Option<ResolvedPath<'s>>,
}

/// What the checks share: the map, and the schema with the map's tables and fields resolved when a
/// schema is given.
pub(crate) struct Context<'a> {
    pub map: &'a TableMap,
    pub others: Vec<&'a TableMap>,
    pub schema: Option<&'a Schema>,
    pub keys: Option<&'a IntegrationKeys>,
    pub finops: Option<&'a Table>,
    pub dataverse: Option<&'a Table>,
    pub fields: Vec<ResolvedField<'a>>,
    pub out: Vec<Diagnostic>,
}

impl Context<'_> {
    pub fn push(&mut self, d: Diagnostic) {
        if !self.out.contains(&d) {
            self.out.push(d);
        }
    }
}

/// `fields[i]`, `fields[i].finops`, …
pub(crate) fn field_path(i: usize, member: &str) -> String {
    if member.is_empty() {
        format!("fields[{i}]")
    } else {
        format!("fields[{i}].{member}")
    }
}

/// `finops` or `dataverse`, the member of a field naming one side.
pub(crate) fn side_path(i: usize, side: Side) -> String {
    field_path(i, side.as_str())
}

/// Validates a map against the schema, the integration keys and the other maps (which tell which
/// related tables are mapped and whether there are cycles). The map itself may be among `other_maps`.
pub fn validate(
    schema: &Schema,
    keys: &IntegrationKeys,
    map: &TableMap,
    other_maps: &[TableMap],
) -> Vec<Diagnostic> {
    run(Some(schema), Some(keys), map, other_maps)
}

/// The checks that need no schema: version, missing or duplicate fields, filter syntax, value maps
/// read backwards (by their written values). For `dualwrite check` without `--schema`.
pub fn validate_structure(map: &TableMap, other_maps: &[TableMap]) -> Vec<Diagnostic> {
    run(None, None, map, other_maps)
}

fn run(
    schema: Option<&Schema>,
    keys: Option<&IntegrationKeys>,
    map: &TableMap,
    other_maps: &[TableMap],
) -> Vec<Diagnostic> {
    let finops = schema.and_then(|s| s.table(Side::Finops, &map.finops));
    let dataverse = schema.and_then(|s| s.table(Side::Dataverse, &map.dataverse));
    let fields = map
        .fields
        .iter()
        .map(|f| ResolvedField {
            finops: f.finops.as_deref().and_then(|n| finops?.column(n)),
            dataverse: match (schema, dataverse, f.dataverse.as_deref()) {
                (Some(s), Some(t), Some(p)) => s.resolve_path(t, p).ok(),
                _ => None,
            },
        })
        .collect();
    let mut cx = Context {
        map,
        others: other_maps.iter().filter(|m| *m != map).collect(),
        schema,
        keys,
        finops,
        dataverse,
        fields,
        out: Vec::new(),
    };
    tables::version(&mut cx);
    tables::tables(&mut cx);
    fields::presence(&mut cx);
    fields::duplicates(&mut cx);
    fields::columns(&mut cx);
    fields::transforms(&mut cx);
    fields::lookups(&mut cx);
    keys::keys(&mut cx);
    tables::required(&mut cx);
    tables::filters(&mut cx);
    tables::related(&mut cx);
    cx.out
}

/// Validates every map of a package (each against the others), plus the package's own rules; paths
/// start with `maps[i].` or `integration_keys.`.
pub fn validate_package(schema: &Schema, package: &Package) -> Vec<Diagnostic> {
    let keys = IntegrationKeys::from_package(&package.integration_keys, Some(schema));
    package_diagnostics(Some(schema), Some(&keys), package)
}

/// [`validate_structure`] for every map of a package.
pub fn validate_package_structure(package: &Package) -> Vec<Diagnostic> {
    package_diagnostics(None, None, package)
}

fn package_diagnostics(
    schema: Option<&Schema>,
    keys: Option<&IntegrationKeys>,
    package: &Package,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for (i, map) in package.maps.iter().enumerate() {
        let others: Vec<TableMap> =
            package.maps.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, m)| m.clone()).collect();
        for mut d in run(schema, keys, map, &others) {
            d.path = crate::document::child(&format!("maps[{i}]"), &d.path);
            out.push(d);
        }
        if package.maps[..i].iter().any(|m| m.name == map.name) {
            out.push(Diagnostic::error(
                "DW2013",
                format!("maps[{i}].name"),
                format!("two maps are named `{}`; give each map of a package its own name", map.name),
            ));
        }
    }
    if let Some(schema) = schema {
        for table in package.integration_keys.keys() {
            let path = format!("integration_keys.{table}");
            if schema.table(Side::Dataverse, table).is_none() {
                out.push(Diagnostic::error(
                    "DW2014",
                    path,
                    format!(
                        "integration key for `{table}`, which is not a Dataverse table of the schema; remove it \
                         or fix the table name"
                    ),
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;
