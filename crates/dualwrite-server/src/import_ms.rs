//! `dualwrite import-ms FILE [--schema FILE]`: dual-write's `msdyn_mapping` JSON (one map with legs,
//! a list of them, or `msdyn_dualwriteentitymap` rows) to a native `dualwrite.package/v1` on stdout.
//!
//! With `--schema`, legs are told apart by their table names and each map's integration key is filled
//! in as refresh would generate it; without, legs are told apart by `sourceEnvironment` (else the
//! first leg is taken as the finops-sourced one) and the package carries no keys.

use std::io::Write;
use std::path::Path;

use anyhow::{bail, Context};
use dualwrite_core::integration_key::generate;
use dualwrite_core::package::Package;
use dualwrite_core::schema::Schema;

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
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let mut package = match Package::from_ms_mapping(&text, schema.as_ref()) {
        Ok(package) => package,
        Err(e) => bail!("{} is not a msdyn_mapping document: {e}", file.display()),
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
