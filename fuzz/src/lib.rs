//! What the fuzz targets share: the Contoso schema they validate against, the filter checks both
//! grammars' targets run, and stack overflows turned into crashes libFuzzer records ([`overflow`]).
//!
//! A target panics only where the code under test is wrong: a parser that panics, a printer whose
//! output does not parse back to the same thing, a checker that panics on something that parsed.

pub mod overflow;

use std::sync::LazyLock;

use dualwrite_core::filter::{Dialect, Filter};
use dualwrite_core::schema::{Row, Schema, Side};
use serde_json::json;

/// The Contoso schema (the `schema` target's seed, a copy of the shared fixture).
pub static CONTOSO: LazyLock<Schema> = LazyLock::new(|| {
    Schema::from_json(include_str!("../corpus/schema/seed-contoso.json"))
        .unwrap_or_else(|e| panic!("the Contoso schema seed does not read: {e}"))
});

/// Parses `text` as a filter of `side`'s grammar; when it parses, checks that printing it gives text
/// that parses back to the same filter and prints the same again, then checks it against the side's
/// customer table and evaluates it on one of its rows.
pub fn filter(side: Side, data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let dialect = Dialect::of(side);
    let Ok(filter) = Filter::parse(dialect, text) else { return };

    let printed = filter.to_string();
    let reparsed = Filter::parse(dialect, &printed)
        .unwrap_or_else(|e| panic!("{text:?} printed as {printed:?}, which does not parse: {e}"));
    assert_eq!(reparsed, filter, "{text:?} printed as {printed:?}, which parses to something else");
    assert_eq!(reparsed.to_string(), printed, "printing {text:?} is not stable");

    let (table, row) = match side {
        Side::Finops => ("CustCustomerV3Entity", finops_customer()),
        Side::Dataverse => ("account", dataverse_account()),
    };
    if let Some(table) = CONTOSO.table(side, table) {
        let _ = filter.check(table);
    }
    let _ = filter.matches(&row);
    let _ = filter.columns();
}

/// A row of `CustCustomerV3Entity` with a value of every kind a filter compares.
fn finops_customer() -> Row {
    row(json!({
        "CUSTOMERACCOUNT": "US-001", "CREDITLIMIT": 1500.5, "CUSTOMERGROUPID": "10",
        "ONHOLDSTATUS": "Never", "CREDITLIMITISMANDATORY": "Yes", "SALESMEMO": null,
        "dataAreaId": "usmf", "PARTYTYPE": "Organization", "CREATED": "2021-02-28"
    }))
}

/// A row of `account` with a value of every kind a filter compares.
fn dataverse_account() -> Row {
    row(json!({
        "accountnumber": "US-001", "creditlimit": 1500.5, "customertypecode": 3,
        "msdyn_creditlimitismandatory": true, "description": null, "name": "Contoso 'Retail'"
    }))
}

fn row(value: serde_json::Value) -> Row {
    match value {
        serde_json::Value::Object(row) => row,
        _ => Row::new(),
    }
}
