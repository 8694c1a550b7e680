//! How long validation takes in the browser, where the studio runs it on every edit. Not a check but
//! a measurement: `cargo xtask bench` runs it in headless Chromium and reads the printed figure.

#![cfg(target_arch = "wasm32")]

use dualwrite_core::integration_key::IntegrationKeys;
use dualwrite_core::package::Package;
use dualwrite_core::schema::Schema;
use dualwrite_core::validation::validate;
use wasm_bindgen_test::{console_log, wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

const SCHEMA: &str = include_str!("../../../fixtures/contoso/schema.json");
const PACKAGE: &str = include_str!("../../../fixtures/contoso/package.json");

#[wasm_bindgen_test]
fn time_validating_the_customers_map_in_the_browser() {
    let schema = Schema::from_json(SCHEMA).expect("the fixture schema reads");
    let package = Package::from_json(PACKAGE).expect("the fixture package reads");
    let keys = IntegrationKeys::from_package(&package.integration_keys, Some(&schema));
    let customers = &package.maps[3];
    let runs = 2000;
    let started = js_sys::Date::now();
    let mut found = 0;
    for _ in 0..runs {
        found += validate(&schema, &keys, customers, &package.maps).len();
    }
    let micros = (js_sys::Date::now() - started) * 1000.0 / f64::from(runs);
    assert!(found > 0, "the map has its known warnings");
    console_log!("BENCH\tvalidation: Customers V3 map, wasm in Chromium\t{micros:.3}\tµs");
}
