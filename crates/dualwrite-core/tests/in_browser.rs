//! The validation compiled to wasm and run in headless Chromium gives exactly the diagnostics of the
//! native build (`tests/golden/contoso_diagnostics.json`): the studio shows what the server enforces.

#![cfg(target_arch = "wasm32")]

use dualwrite_core::package::Package;
use dualwrite_core::schema::Schema;
use dualwrite_core::validation::{validate_package, Diagnostic};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

const SCHEMA: &str = include_str!("../../../fixtures/contoso/schema.json");
const PACKAGE: &str = include_str!("../../../fixtures/contoso/package.json");
const GOLDEN: &str = include_str!("golden/contoso_diagnostics.json");

#[wasm_bindgen_test]
fn the_browser_validates_the_contoso_maps_exactly_like_the_server() {
    let schema = Schema::from_json(SCHEMA).expect("the fixture schema reads");
    let package = Package::from_json(PACKAGE).expect("the fixture package reads");
    let golden: Vec<Diagnostic> =
        serde_json::from_str(GOLDEN).expect("the golden file is a diagnostics list");
    assert!(!golden.is_empty(), "the golden file holds the fixture's warnings");
    assert_eq!(validate_package(&schema, &package), golden);
}
