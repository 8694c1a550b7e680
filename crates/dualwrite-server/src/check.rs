//! `dualwrite check PACKAGE... [--schema FILE] [--format text|json]`: validates packages, for CI. A
//! package is a native `dualwrite.package/v1`, dual-write's `msdyn_mapping` JSON, a solution's
//! `customizations.xml`, a solution zip or a zip of solution zips (see [`crate::import_ms::read_package`]).
//!
//! Exit codes: 0 when every package is clean or has warnings only, 1 when any has errors, 2 when an
//! input cannot be read (missing file, not JSON, or not a valid package or schema document: then
//! validation could not run; every problem is still listed with its path).
//!
//! Without `--schema` nothing is assumed about the environments: only the checks that need no schema
//! run (version, missing and duplicate fields, filter syntax, value maps read backwards), and a note
//! says so. No schema is embedded: a package is only meaningful against the schema it was made for.

use std::io::Write;
use std::path::{Path, PathBuf};

use dualwrite_core::document::DocumentError;
use dualwrite_core::package::Package;
use dualwrite_core::schema::Schema;
use dualwrite_core::validation::{validate_package, validate_package_structure, Diagnostic, Severity};
use serde_json::json;

/// How the findings are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One line per finding, then a summary per package.
    Text,
    /// One JSON document: per file its diagnostics (or the problems that kept it from being read).
    Json,
}

/// What to check.
#[derive(Debug, Clone)]
pub struct CheckOptions {
    pub packages: Vec<PathBuf>,
    pub schema: Option<PathBuf>,
    pub format: Format,
}

/// Exit code: all clean or warnings only.
pub const CLEAN: i32 = 0;
/// Exit code: some package has errors.
pub const ERRORS: i32 = 1;
/// Exit code: some input could not be read.
pub const UNREADABLE: i32 = 2;

/// One input file's outcome.
enum Outcome {
    Checked(Vec<Diagnostic>),
    Unreadable(Vec<String>),
}

/// Reads a document file; an unreadable file or document becomes its list of problems.
fn read<T>(path: &Path, parse: impl Fn(&str) -> Result<T, DocumentError>) -> Result<T, Vec<String>> {
    let text = std::fs::read_to_string(path).map_err(|e| vec![format!("cannot read the file: {e}")])?;
    parse(&text).map_err(|e| e.problems.iter().map(ToString::to_string).collect())
}

/// Reads a package file in any of the shapes `check` takes; its problems when it cannot.
fn read_package(path: &Path, schema: Option<&Schema>) -> Result<Package, Vec<String>> {
    let bytes = std::fs::read(path).map_err(|e| vec![format!("cannot read the file: {e}")])?;
    let name = path.display().to_string();
    crate::import_ms::read_package(&name, &bytes, schema).map_err(|e| e.problems())
}

/// Runs the check, printing to `out`; returns the exit code.
pub fn run(options: &CheckOptions, out: &mut dyn Write) -> i32 {
    let schema = match &options.schema {
        None => None,
        Some(path) => match read(path, Schema::from_json) {
            Ok(schema) => Some(schema),
            Err(problems) => {
                report(options.format, &[(path.clone(), Outcome::Unreadable(problems))], out, false);
                return UNREADABLE;
            }
        },
    };
    let outcomes: Vec<(PathBuf, Outcome)> = options
        .packages
        .iter()
        .map(|path| {
            let outcome = match read_package(path, schema.as_ref()) {
                Err(problems) => Outcome::Unreadable(problems),
                Ok(mut package) => Outcome::Checked(match &schema {
                    Some(schema) => {
                        // Maps name tables the way dual-write does (labels, entity sets), as stored.
                        package.resolve_tables(schema);
                        validate_package(schema, &package)
                    }
                    None => validate_package_structure(&package),
                }),
            };
            (path.clone(), outcome)
        })
        .collect();
    report(options.format, &outcomes, out, schema.is_some());
    let unreadable = outcomes.iter().any(|(_, o)| matches!(o, Outcome::Unreadable(_)));
    let errors =
        outcomes.iter().any(|(_, o)| matches!(o, Outcome::Checked(d) if d.iter().any(Diagnostic::is_error)));
    if unreadable {
        UNREADABLE
    } else if errors {
        ERRORS
    } else {
        CLEAN
    }
}

fn count(diagnostics: &[Diagnostic], severity: Severity) -> usize {
    diagnostics.iter().filter(|d| d.severity == severity).count()
}

fn report(format: Format, outcomes: &[(PathBuf, Outcome)], out: &mut dyn Write, with_schema: bool) {
    // Writing to a closed stdout is not worth a panic; the exit code still tells.
    let _ = match format {
        Format::Text => text(outcomes, out, with_schema),
        Format::Json => {
            let files: Vec<_> = outcomes
                .iter()
                .map(|(path, outcome)| match outcome {
                    Outcome::Checked(d) => json!({"path": path, "diagnostics": d}),
                    Outcome::Unreadable(p) => json!({"path": path, "unreadable": p}),
                })
                .collect();
            let all: Vec<&Diagnostic> = outcomes
                .iter()
                .flat_map(|(_, o)| match o {
                    Outcome::Checked(d) => d.as_slice(),
                    Outcome::Unreadable(_) => &[],
                })
                .collect();
            let errors = all.iter().filter(|d| d.is_error()).count();
            let document = json!({
                "schema_checked": with_schema,
                "files": files,
                "errors": errors,
                "warnings": all.len() - errors,
            });
            writeln!(out, "{}", serde_json::to_string_pretty(&document).unwrap_or_default())
        }
    };
}

fn text(outcomes: &[(PathBuf, Outcome)], out: &mut dyn Write, with_schema: bool) -> std::io::Result<()> {
    if !with_schema {
        writeln!(
            out,
            "note: no --schema given, so only the checks that need no schema ran (version, missing and \
             duplicate fields, filter syntax, value maps)"
        )?;
    }
    for (path, outcome) in outcomes {
        let path = path.display();
        match outcome {
            Outcome::Unreadable(problems) => {
                for problem in problems {
                    writeln!(out, "{path}: unreadable: {problem}")?;
                }
                writeln!(out, "{path}: not checked")?;
            }
            Outcome::Checked(diagnostics) => {
                for d in diagnostics {
                    writeln!(out, "{path}: {d}")?;
                }
                writeln!(
                    out,
                    "{path}: {} errors, {} warnings",
                    count(diagnostics, Severity::Error),
                    count(diagnostics, Severity::Warning)
                )?;
            }
        }
    }
    Ok(())
}
