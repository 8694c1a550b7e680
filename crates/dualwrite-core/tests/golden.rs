//! The diagnostics of the Contoso fixture, compared with `tests/golden/contoso_diagnostics.json`; the
//! browser test (`in_browser.rs`) compares the wasm build's output with the same file.
//!
//! After an intended change of the diagnostics, rewrite the file with
//! `DUALWRITE_BLESS=1 cargo test -p dualwrite-core --test golden` and review the diff.

use dualwrite_core::package::Package;
use dualwrite_core::schema::Schema;
use dualwrite_core::validation::{validate_package, Diagnostic, Severity};

const SCHEMA: &str = include_str!("../../../fixtures/contoso/schema.json");
const PACKAGE: &str = include_str!("../../../fixtures/contoso/package.json");
const GOLDEN: &str = include_str!("golden/contoso_diagnostics.json");

fn contoso_diagnostics() -> Vec<Diagnostic> {
    let schema = Schema::from_json(SCHEMA).expect("the fixture schema reads");
    let package = Package::from_json(PACKAGE).expect("the fixture package reads");
    validate_package(&schema, &package)
}

#[test]
fn the_contoso_diagnostics_match_the_golden_file() {
    let diagnostics = contoso_diagnostics();
    let text = serde_json::to_string_pretty(&diagnostics).expect("diagnostics serialise") + "\n";
    if std::env::var_os("DUALWRITE_BLESS").is_some() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/contoso_diagnostics.json");
        std::fs::write(path, &text).expect("golden file written");
        return;
    }
    let golden: Vec<Diagnostic> =
        serde_json::from_str(GOLDEN).expect("the golden file is a diagnostics list");
    assert_eq!(
        diagnostics, golden,
        "diagnostics changed; if intended, rerun with DUALWRITE_BLESS=1 and review"
    );
}

#[test]
fn the_contoso_package_has_no_errors() {
    let errors: Vec<String> = contoso_diagnostics()
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(ToString::to_string)
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
}
