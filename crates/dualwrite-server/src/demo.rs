//! `dualwrite serve --demo`: the Contoso schema and its four out-of-box maps, companies USMF and DEMF,
//! currencies, customer groups and a few dozen customers, with the maps running, so a new user sees
//! sync happen at once. The demo writes through the same transaction path clients use, so every
//! twin row it shows was made by live sync.

use dualwrite_core::api::{Op, OpKind, TransactionRequest};
use dualwrite_core::integration_key::IntegrationKeys;
use dualwrite_core::lifecycle::Action;
use dualwrite_core::package::Package;
use dualwrite_core::schema::{Row, Schema, Side};
use serde_json::{json, Value};

use crate::catalog::{self, CatalogCache};
use crate::store::{Store, Tx};
use crate::sync_error::SyncError;
use crate::{lifecycle, transaction};

/// The Contoso schema (a copy of the project's shared fixture; a test keeps them equal).
pub const SCHEMA: &str = include_str!("../../../fixtures/contoso/schema.json");
/// The four out-of-box maps and their integration keys.
pub const PACKAGE: &str = include_str!("../../../fixtures/contoso/package.json");

/// Loads the demo into an empty store; a store that already has a schema is left as it is.
/// Returns whether it loaded anything.
pub fn load(store: &Store, cache: &CatalogCache) -> Result<bool, SyncError> {
    store.write(|tx| {
        if cache.get(tx)?.schema.is_some() {
            return Ok(false);
        }
        install_catalog(tx)?;
        let catalog = cache.get(tx)?;
        for m in &catalog.maps {
            lifecycle::act(tx, m, Action::Run { initial_sync: false })?;
        }
        for (side, ops) in seed() {
            let catalog = cache.get(tx)?;
            transaction::apply(tx, &catalog, side, &TransactionRequest { ops })?;
        }
        Ok(true)
    })
}

/// The Contoso schema, maps and integration keys, as an import would store them.
pub fn install_catalog(tx: &mut dyn Tx) -> Result<(), SyncError> {
    let schema =
        Schema::from_json(SCHEMA).map_err(|e| SyncError::internal(format_args!("demo schema: {e}")))?;
    let package =
        Package::from_json(PACKAGE).map_err(|e| SyncError::internal(format_args!("demo package: {e}")))?;
    catalog::put_schema(tx, &schema)?;
    catalog::put_keys(tx, &IntegrationKeys::from_package(&package.integration_keys, Some(&schema)))?;
    for map in &package.maps {
        tx.insert_map(&map.to_value())?;
    }
    catalog::bump(tx)?;
    Ok(())
}

fn row(value: Value) -> Row {
    match value {
        Value::Object(row) => row,
        _ => Row::new(),
    }
}

fn insert(table: &str, value: Value) -> Op {
    Op { op: OpKind::Insert, table: table.to_owned(), key: None, row: Some(row(value)) }
}

/// The demo's transactions, upstream first: each one's twin writes need the rows before it.
fn seed() -> Vec<(Side, Vec<Op>)> {
    let mut batches = Vec::new();
    batches.push((
        Side::Finops,
        vec![
            insert(
                "LegalEntities",
                json!({"LEGALENTITYID": "USMF", "NAME": "Contoso Entertainment System USA"}),
            ),
            insert(
                "LegalEntities",
                json!({"LEGALENTITYID": "DEMF", "NAME": "Contoso Entertainment System Germany"}),
            ),
            insert("Currencies", json!({"CURRENCYCODE": "USD", "NAME": "US Dollar", "SYMBOL": "$"})),
            insert("Currencies", json!({"CURRENCYCODE": "EUR", "NAME": "Euro", "SYMBOL": "€"})),
            insert("Currencies", json!({"CURRENCYCODE": "GBP", "NAME": "Pound sterling", "SYMBOL": "£"})),
        ],
    ));
    let groups = [
        ("10", "Wholesale customers", "no"),
        ("20", "Major customers", "no"),
        ("30", "Retail customers", "yes"),
    ];
    let mut group_ops = Vec::new();
    for company in ["USMF", "DEMF"] {
        for (id, description, tax) in groups {
            group_ops.push(insert(
                "CustCustomerGroupEntity",
                json!({"dataAreaId": company, "CUSTOMERGROUPID": id, "DESCRIPTION": description, "ISSALESTAXINCLUDEDINPRICE": tax}),
            ));
        }
    }
    batches.push((Side::Finops, group_ops));
    // Contact people exist only in Dataverse here; customers name theirs.
    let contacts = (1..=40).map(|n| {
        insert("msdyn_contactforparty", json!({"msdyn_contactforpartynumber": format!("CP-{n:03}")}))
    });
    batches.push((Side::Dataverse, contacts.collect()));

    let cities =
        ["Seattle", "Redmond", "Portland", "Denver", "Austin", "Chicago", "Boston", "Atlanta", "Phoenix"];
    let german = ["Berlin", "München", "Hamburg", "Köln", "Frankfurt", "Stuttgart"];
    let holds = ["no", "no", "no", "invoice", "no", "payment"];
    let mut customers = Vec::new();
    for n in 1..=18 {
        customers.push(customer(
            "USMF",
            &format!("US-{n:03}"),
            &format!("{} Sound Co.", cities[n % cities.len()]),
            "USD",
            n,
            holds[n % holds.len()],
        ));
    }
    for n in 1..=12 {
        customers.push(customer(
            "DEMF",
            &format!("DE-{n:03}"),
            &format!("{} Klangwerk GmbH", german[n % german.len()]),
            "EUR",
            18 + n,
            holds[n % holds.len()],
        ));
    }
    batches.push((Side::Finops, customers));
    let accounts = (1..=6).map(|n| {
        insert(
            "account",
            json!({
                "accountnumber": format!("CRM-{n:03}"),
                "msdyn_company.cdm_companycode": if n % 2 == 0 { "DEMF" } else { "USMF" },
                "customertypecode": 3,
                "creditlimit": 2500 * n,
                "transactioncurrencyid.isocurrencycode": if n % 2 == 0 { "EUR" } else { "USD" },
                "msdyn_customergroupid.msdyn_groupid": "30",
                "msdyn_primarycontact.msdyn_contactforpartynumber": format!("CP-{:03}", 30 + n),
                "description": "Signed up through the sales team",
                "msdyn_creditlimitismandatory": false,
                "msdyn_onetimecustomer": false,
                "msdyn_onholdstatus": 806380000,
            }),
        )
    });
    batches.push((Side::Dataverse, accounts.collect()));
    batches
}

const GROUPS: [&str; 3] = ["10", "20", "30"];

fn customer(company: &str, account: &str, memo: &str, currency: &str, n: usize, hold: &str) -> Op {
    insert(
        "CustCustomerV3Entity",
        json!({
            "dataAreaId": company,
            "CUSTOMERACCOUNT": account,
            "SALESMEMO": memo,
            "CREDITLIMIT": (n * 1000) as f64,
            "CREDITLIMITISMANDATORY": if n % 3 == 0 { "yes" } else { "no" },
            "SALESCURRENCYCODE": currency,
            "CUSTOMERGROUPID": GROUPS[n % 3],
            "ISONETIMECUSTOMER": "no",
            "ONHOLDSTATUS": hold,
            "PARTYCOUNTRY": if company == "DEMF" { "DEU" } else { "USA" },
            "PARTYTYPE": "Organization",
            "PAYMENTTERMSBASEDAYS": 30,
            "CONTACTPERSONID": format!("CP-{n:03}"),
        }),
    )
}
