//! `dualwrite import-ms FILE [--schema FILE]`: dual-write's maps to a native `dualwrite.package/v1` on
//! stdout, from the `msdyn_mapping` JSON (one map with legs, a list of them, or
//! `msdyn_dualwriteentitymap` rows), a solution's `customizations.xml`, a solution zip or a zip of
//! solution zips (told apart by content, see [`read_package`]).
//!
//! With `--schema`, legs are told apart by their table names and each map's integration key is filled
//! in as refresh would generate it; without, legs are told apart by `sourceEnvironment` (else the
//! first leg is taken as the finops-sourced one) and the package carries no keys.

use std::io::Write;
use std::path::Path;

use anyhow::{bail, Context};
use dualwrite_artifacts::solution::{self, Content, Limits, SolutionError};
use dualwrite_core::document::DocumentError;
use dualwrite_core::integration_key::generate;
use dualwrite_core::package::Package;
use dualwrite_core::schema::Schema;

/// Why a package file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PackageFileError {
    /// The solution itself (zip, XML) is unreadable, at a place in it.
    #[error("{0}")]
    Solution(#[from] SolutionError),
    /// The solution was read but some map's legs do not import; each problem names its map's place.
    #[error("the maps in it do not import: {0}")]
    Maps(DocumentError),
    /// A JSON document (native package or `msdyn_mapping`) with problems.
    #[error("{0}")]
    Document(DocumentError),
    /// Neither a solution nor UTF-8 text.
    #[error("is neither a solution (zip or XML) nor UTF-8 JSON text")]
    NotText,
}

impl PackageFileError {
    /// Every problem as `place: message`.
    pub fn problems(&self) -> Vec<String> {
        match self {
            PackageFileError::Maps(e) | PackageFileError::Document(e) => {
                e.problems.iter().map(ToString::to_string).collect()
            }
            other => vec![other.to_string()],
        }
    }
}

/// A package from a file's bytes, whatever holds it: a zip (a solution or a zip of solutions) or XML
/// (`customizations.xml`) through the solution reader; JSON with a `format` is the native package;
/// any other JSON is dual-write's `msdyn_mapping`. `name` names the file in errors.
pub fn read_package(name: &str, bytes: &[u8], schema: Option<&Schema>) -> Result<Package, PackageFileError> {
    match solution::content(bytes) {
        Content::Zip | Content::Xml => {
            let maps = solution::read(name, bytes, &Limits::default())?;
            solution::to_package(&maps, schema).map_err(PackageFileError::Maps)
        }
        Content::Other => {
            let text = std::str::from_utf8(bytes).map_err(|_| PackageFileError::NotText)?;
            let text = text.strip_prefix('\u{feff}').unwrap_or(text);
            let native =
                serde_json::from_str::<serde_json::Value>(text).map_or(true, |v| v.get("format").is_some());
            if native { Package::from_json(text) } else { Package::from_ms_mapping(text, schema) }
                .map_err(PackageFileError::Document)
        }
    }
}

/// Converts `file` and writes the package to `out`.
pub fn run(file: &Path, schema: Option<&Path>, out: &mut dyn Write) -> anyhow::Result<()> {
    let schema = match schema {
        None => None,
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading schema {}", path.display()))?;
            Some(Schema::from_json(&text).with_context(|| format!("schema {}", path.display()))?)
        }
    };
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let name = file.display().to_string();
    let mut package = match read_package(&name, &bytes, schema.as_ref()) {
        Ok(package) => package,
        Err(PackageFileError::Document(e)) => bail!("{name} is not a msdyn_mapping document: {e}"),
        Err(e @ PackageFileError::Solution(_)) => bail!("{e}"),
        Err(e) => bail!("{name}: {e}"),
    };
    if let Some(schema) = &schema {
        for map in &package.maps {
            if let Ok(key) = generate(schema, &map.dataverse) {
                package.integration_keys.insert(map.dataverse.clone(), key.fields);
            }
        }
    }
    writeln!(out, "{}", package.to_json_pretty()).context("writing the package")?;
    Ok(())
}
