//! Timings of the hot paths: validating a map (the studio does it on every keystroke) and planning an
//! initial sync (1M rows per side, in chunks of 100k keys). Plain `Instant`, printed; run with
//! `cargo bench -p dualwrite-core`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use dualwrite_core::initial_sync::Planner;
use dualwrite_core::integration_key::IntegrationKeys;
use dualwrite_core::package::Package;
use dualwrite_core::row_mapping::RowMapper;
use dualwrite_core::schema::{Row, Schema, Side};
use dualwrite_core::validation::validate;
use serde_json::{json, Value};

const SCHEMA: &str = include_str!("../../../fixtures/contoso/schema.json");
const PACKAGE: &str = include_str!("../../../fixtures/contoso/package.json");

const CHUNK_KEYS: usize = 100_000;

/// Prints one figure the way `cargo xtask bench` collects them.
fn report(figure: &str, value: f64, unit: &str) {
    println!("BENCH\t{figure}\t{value:.3}\t{unit}");
}

fn row(value: Value) -> Row {
    match value {
        Value::Object(map) => map,
        _ => Row::new(),
    }
}

fn finops_customer(n: usize) -> Row {
    row(json!({
        "CUSTOMERACCOUNT": format!("C{n:07}"), "CREDITLIMIT": (n % 1000) as f64 * 10.5, "SALESCURRENCYCODE": "EUR",
        "SALESMEMO": "memo", "CREDITLIMITISMANDATORY": "no", "CREDITRATING": "A", "CUSTOMERGROUPID": "10",
        "IDENTIFICATIONNUMBER": null, "INVOICEACCOUNT": null, "ISONETIMECUSTOMER": "no", "ONHOLDSTATUS": "never",
        "PARTYCOUNTRY": "DE", "PARTYSTATE": "BY", "PAYMENTDAY": null, "PAYMENTMETHOD": null, "PAYMENTSCHEDULE": null,
        "PAYMENTTERMS": "Net30", "PAYMENTTERMSBASEDAYS": 30, "TAXEXEMPTNUMBER": null, "VENDORACCOUNT": null,
        "PARTYTYPE": "Organization", "PARTYNUMBER": format!("P{n:07}"), "CONTACTPERSONID": "CP1",
        "SALESTAXGROUP": null, "dataAreaId": if n % 2 == 0 { "USMF" } else { "DEMF" }
    }))
}

fn dataverse_account(n: usize, conflicting: bool) -> Row {
    row(json!({
        "accountnumber": format!("C{n:07}"), "creditlimit": (n % 1000) as f64 * 10.5,
        "transactioncurrencyid.isocurrencycode": "EUR", "description": if conflicting { "changed" } else { "memo" },
        "msdyn_creditlimitismandatory": false, "msdyn_creditrating": "A", "msdyn_customergroupid.msdyn_groupid": "10",
        "msdyn_identificationnumber": null, "msdyn_billingaccount.accountnumber": null, "msdyn_onetimecustomer": false,
        "msdyn_onholdstatus": 806380005, "msdyn_partycountry": "DE", "msdyn_partystateprovince": "BY",
        "msdyn_paymentday.msdyn_name": null, "msdyn_customerpaymentmethod.msdyn_name": null,
        "msdyn_paymentschedule.msdyn_name": null, "msdyn_paymentterm.msdyn_name": "Net30",
        "msdyn_paymenttermsbasedays": 30, "msdyn_taxexemptnumber": null, "msdyn_vendor.msdyn_vendoraccountnumber": null,
        "customertypecode": 3, "msdyn_partyid.msdyn_partynumber": format!("P{n:07}"),
        "msdyn_primarycontact.msdyn_contactforpartynumber": "CP1", "msdyn_salestaxgroup.msdyn_name": null,
        "msdyn_company.cdm_companycode": if n % 2 == 0 { "USMF" } else { "DEMF" }
    }))
}

fn main() {
    let schema = Schema::from_json(SCHEMA).expect("fixture schema");
    let package = Package::from_json(PACKAGE).expect("fixture package");
    let keys = IntegrationKeys::from_package(&package.integration_keys, Some(&schema));
    let customers = &package.maps[3];

    let iterations = 2_000;
    let start = Instant::now();
    for _ in 0..iterations {
        black_box(validate(&schema, &keys, black_box(customers), &package.maps));
    }
    let per_map = start.elapsed() / iterations;
    println!(
        "validate Customers V3 (accounts): {:.1} µs per map ({iterations} runs)",
        per_map.as_secs_f64() * 1e6
    );
    report("validation: Customers V3 map, native", per_map.as_secs_f64() * 1e6, "µs");

    // What a server does once per map and transaction before mapping rows.
    let start = Instant::now();
    for _ in 0..iterations {
        black_box(RowMapper::new(&schema, black_box(customers)).is_ok());
    }
    let per_compile = start.elapsed() / iterations;
    report("row mapping: compiling the Customers V3 map", per_compile.as_secs_f64() * 1e6, "µs");

    // A project of 500 maps: the four out-of-box maps 125 times over, each validated against the rest.
    let project: Vec<_> = (0..500)
        .map(|i| {
            let mut map = package.maps[i % 4].clone();
            map.name = format!("{} #{i}", map.name);
            map
        })
        .collect();
    let start = Instant::now();
    for map in &project {
        black_box(validate(&schema, &keys, black_box(map), &project));
    }
    report("validation: a project of 500 maps, native", start.elapsed().as_secs_f64() * 1e3, "ms");

    let rows_per_side = std::env::var("DUALWRITE_BENCH_ROWS")
        .ok()
        .and_then(|sizes| sizes.split(',').filter_map(|s| s.trim().parse::<usize>().ok()).max())
        .unwrap_or(1_000_000);
    // finops holds keys 0..1M, Dataverse 500k..1.5M: half of each side matches, 1% of the pairs conflict.
    let planner = Planner::new(&schema, &keys, customers, Side::Dataverse).expect("customers plan");
    let (mut planning, mut generating) = (Duration::ZERO, Duration::ZERO);
    let (mut creates, mut conflicts, mut equal, mut problems) = (0, 0, 0, 0);
    let mut slowest = Duration::ZERO;
    let dataverse_start = rows_per_side / 2;
    let last_key = dataverse_start + rows_per_side;
    for chunk in (0..last_key).step_by(CHUNK_KEYS) {
        let started = Instant::now();
        let keys_in_chunk = chunk..(chunk + CHUNK_KEYS).min(last_key);
        let finops: Vec<Row> =
            keys_in_chunk.clone().filter(|n| *n < rows_per_side).map(finops_customer).collect();
        let dataverse: Vec<Row> = keys_in_chunk
            .filter(|n| *n >= dataverse_start)
            .map(|n| dataverse_account(n, n < rows_per_side && n % 100 == 0))
            .collect();
        generating += started.elapsed();
        let started = Instant::now();
        let plan = planner.plan(&finops, &dataverse);
        let took = started.elapsed();
        planning += took;
        slowest = slowest.max(took);
        creates += plan.creates.len();
        conflicts += plan.conflicts.len();
        equal += plan.equal.len();
        problems += plan.problems.len();
        black_box(plan);
    }
    let rows = 2 * rows_per_side;
    println!(
        "plan {rows_per_side} rows per side in chunks of {CHUNK_KEYS} keys: {:.2} s ({:.0} rows/s), slowest chunk {:.0} ms; \
         generating the rows took {:.2} s",
        planning.as_secs_f64(),
        rows as f64 / planning.as_secs_f64(),
        slowest.as_secs_f64() * 1e3,
        generating.as_secs_f64()
    );
    println!(
        "  outcomes: {creates} creates, {conflicts} conflicts, {equal} equal pairs, {problems} problems"
    );
    report(
        &format!("planning, {rows_per_side} rows per side (core only)"),
        rows as f64 / planning.as_secs_f64(),
        "rows/s",
    );
    assert_eq!(
        (creates, conflicts, equal, problems),
        (rows_per_side, rows_per_side / 200, rows_per_side / 2 - rows_per_side / 200, 0)
    );
}
