use serde_json::json;

use super::*;
use crate::integration_key::{DisplayKey, IntegrationKeys};
use crate::package::Package;
use crate::table_map::Transform;

struct Contoso {
    schema: Schema,
    package: Package,
}

fn contoso() -> Contoso {
    let schema =
        Schema::from_json(include_str!("../../../../fixtures/contoso/schema.json")).expect("fixture schema");
    let package = Package::from_json(include_str!("../../../../fixtures/contoso/package.json"))
        .expect("fixture package");
    Contoso { schema, package }
}

fn row(value: Value) -> Row {
    match value {
        Value::Object(map) => map,
        _ => panic!("a row is an object"),
    }
}

fn finops_customer() -> Row {
    row(json!({
        "CUSTOMERACCOUNT": "C001", "CREDITLIMIT": "2500.50", "SALESCURRENCYCODE": "EUR", "SALESMEMO": null,
        "CREDITLIMITISMANDATORY": "Yes", "CREDITRATING": "A", "CUSTOMERGROUPID": "10", "IDENTIFICATIONNUMBER": "X1",
        "INVOICEACCOUNT": "C002", "ISONETIMECUSTOMER": "no", "ONHOLDSTATUS": "never", "PARTYCOUNTRY": "DE",
        "PARTYSTATE": "BY", "PAYMENTDAY": null, "PAYMENTMETHOD": null, "PAYMENTSCHEDULE": null, "PAYMENTTERMS": "Net30",
        "PAYMENTTERMSBASEDAYS": 30, "TAXEXEMPTNUMBER": null, "VENDORACCOUNT": null, "PARTYTYPE": "Organization",
        "PARTYNUMBER": "P-001", "CONTACTPERSONID": "CP1", "SALESTAXGROUP": null, "dataAreaId": "demf"
    }))
}

#[test]
fn a_finops_customer_becomes_a_dotted_account_with_transforms_defaults_and_company() {
    let c = contoso();
    let mapper = RowMapper::new(&c.schema, &c.package.maps[3]).expect("customers compile");
    let account = mapper.to_dataverse(&finops_customer()).expect("maps");
    assert_eq!(account.get("accountnumber"), Some(&json!("C001")));
    assert_eq!(account.get("creditlimit"), Some(&json!(2500.5)), "a decimal given as text becomes a number");
    assert_eq!(account.get("transactioncurrencyid.isocurrencycode"), Some(&json!("EUR")));
    assert_eq!(
        account.get("msdyn_creditlimitismandatory"),
        Some(&json!(true)),
        "\"Yes\" → yes → \"True\" → true"
    );
    assert_eq!(account.get("msdyn_onholdstatus"), Some(&json!(806380005)));
    assert_eq!(
        account.get("customertypecode"),
        Some(&json!(3)),
        "the Default of a field with no finops side"
    );
    assert_eq!(
        account.get("msdyn_company.cdm_companycode"),
        Some(&json!("DEMF")),
        "in the schema's spelling"
    );
    assert_eq!(account.get("msdyn_billingaccount.accountnumber"), Some(&json!("C002")));
    assert_eq!(account.get("description"), Some(&Value::Null));
    assert!(!account.contains_key("PARTYTYPE") && !account.keys().any(|k| k.contains("partytype")));
}

#[test]
fn a_dotted_account_becomes_a_finops_customer_with_value_maps_read_backwards() {
    let c = contoso();
    let mapper = RowMapper::new(&c.schema, &c.package.maps[3]).expect("customers compile");
    let account = mapper.to_dataverse(&finops_customer()).expect("maps");
    let mut account = account;
    account.insert("msdyn_onholdstatus".into(), json!(806380001));
    account.insert("msdyn_onetimecustomer".into(), json!(true));
    account.insert("customertypecode".into(), json!(3));
    let customer = mapper.to_finops(&account).expect("maps back");
    assert_eq!(customer.get("ONHOLDSTATUS"), Some(&json!("invoice")));
    assert_eq!(customer.get("ISONETIMECUSTOMER"), Some(&json!("yes")));
    assert_eq!(
        customer.get("PARTYTYPE"),
        Some(&json!("Organization")),
        "the Default of a field with no Dataverse side"
    );
    assert_eq!(customer.get("dataAreaId"), Some(&json!("DEMF")));
    assert_eq!(customer.get("CUSTOMERACCOUNT"), Some(&json!("C001")));
    assert!(!customer.contains_key("customertypecode"));
}

#[test]
fn a_value_outside_the_value_map_fails_naming_map_field_and_value() {
    let mut c = contoso();
    if let Some(Transform::ValueMap { value_map }) = c.package.maps[3].fields[10].transforms.first_mut() {
        value_map.entries.retain(|(k, _)| k != "never");
    }
    let mapper = RowMapper::new(&c.schema, &c.package.maps[3]).expect("customers compile");
    let errors = mapper.to_dataverse(&finops_customer()).expect_err("never is not mapped");
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].code, "VALUE_NOT_MAPPED");
    assert_eq!(errors[0].field, "ONHOLDSTATUS");
    assert!(errors[0].message.contains("Customers V3 (accounts)"), "{}", errors[0].message);
    assert!(errors[0].message.contains("\"never\""), "{}", errors[0].message);
}

#[test]
fn every_problem_of_a_row_is_reported_at_once() {
    let c = contoso();
    let mut customer = finops_customer();
    customer.insert("ONHOLDSTATUS".into(), json!("sometimes"));
    customer.insert("SALESCURRENCYCODE".into(), json!("EURO-DOLLAR"));
    customer.remove("dataAreaId");
    let errors = map_row(&c.schema, &c.package.maps[3], Side::Finops, &customer).expect_err("three problems");
    let codes: Vec<&str> = errors.iter().map(|e| e.code).collect();
    assert_eq!(codes, ["VALUE_TOO_LONG", "INVALID_VALUE", "MISSING_COMPANY"], "{errors:#?}");
    assert!(errors[0].message.contains("at most 5"), "the currency code is too long for isocurrencycode");
}

#[test]
fn a_company_that_is_not_linked_is_refused() {
    let c = contoso();
    let mut customer = finops_customer();
    customer.insert("dataAreaId".into(), json!("FRRT"));
    let errors =
        map_row(&c.schema, &c.package.maps[3], Side::Finops, &customer).expect_err("unknown company");
    assert_eq!(errors[0].code, "UNKNOWN_COMPANY");
    assert!(errors[0].message.contains("USMF, DEMF"), "{}", errors[0].message);
}

#[test]
fn a_partial_update_maps_only_the_columns_it_names() {
    let c = contoso();
    let update = row(json!({"DESCRIPTION": "Wholesale", "dataAreaId": "USMF"}));
    let mapped = map_row(&c.schema, &c.package.maps[2], Side::Finops, &update).expect("maps");
    assert_eq!(
        mapped,
        row(json!({"msdyn_description": "Wholesale", "msdyn_company.cdm_companycode": "USMF"}))
    );
}

#[test]
fn both_sides_of_a_pair_give_the_same_key_value() {
    let c = contoso();
    let keys = IntegrationKeys::from_package(&c.package.integration_keys, Some(&c.schema));
    let key = keys.effective(&c.schema, "account").expect("account key");
    let mapper = RowMapper::new(&c.schema, &c.package.maps[3]).expect("customers compile");
    let finops = mapper.key_value(&key, Side::Finops, &finops_customer()).expect("finops key");
    let account = row(json!({"accountnumber": "c001  ", "msdyn_company.cdm_companycode": "DEMF"}));
    let dataverse = mapper.key_value(&key, Side::Dataverse, &account).expect("dataverse key");
    assert_eq!(finops, dataverse);
    assert_eq!(finops.to_string(), "c001|demf");
    let without_company = row(json!({"accountnumber": "C001"}));
    let missing = crate::integration_key::key_value(
        &c.schema,
        &c.package.maps[3],
        &key,
        Side::Dataverse,
        &without_company,
    );
    assert_eq!(missing, Err(KeyValueError::Missing { field: "msdyn_company.cdm_companycode".into() }));
}

#[test]
fn a_key_is_shown_as_the_row_holds_it_with_its_company_apart() {
    let c = contoso();
    let keys = IntegrationKeys::from_package(&c.package.integration_keys, Some(&c.schema));
    let account = keys.effective(&c.schema, "account").expect("account key");
    let customers = RowMapper::new(&c.schema, &c.package.maps[3]).expect("customers compile");
    let mut customer = finops_customer();
    customer.insert("CUSTOMERACCOUNT".into(), json!("De-100 "));
    assert_eq!(
        customers.display_key(&account, Side::Finops, &customer),
        DisplayKey { key: "De-100 ".into(), company: Some("demf".into()) },
        "the finops column mapped to the key field, case and spacing kept; the company as held"
    );
    let dotted =
        row(json!({"accountnumber": "De-100", "msdyn_company.cdm_companycode": "DEMF", "name": "x"}));
    assert_eq!(
        customers.display_key(&account, Side::Dataverse, &dotted),
        DisplayKey { key: "De-100".into(), company: Some("DEMF".into()) }
    );
    assert_eq!(
        customers.display_key(&account, Side::Dataverse, &row(json!({"accountnumber": "  "}))),
        DisplayKey { key: DisplayKey::NO_KEY.into(), company: None },
        "no value and no company"
    );

    let currency = keys.effective(&c.schema, "transactioncurrency").expect("currency key");
    let currencies = RowMapper::new(&c.schema, &c.package.maps[1]).expect("currencies compile");
    assert_eq!(
        currencies.display_key(&currency, Side::Finops, &row(json!({"CURRENCYCODE": "Eur", "NAME": "Euro"}))),
        DisplayKey { key: "Eur".into(), company: None },
        "a table without companies has no company"
    );
}

#[test]
fn only_changes_to_mapped_fields_count() {
    let c = contoso();
    let map = &c.package.maps[2];
    let before = row(json!({"CUSTOMERGROUPID": "10", "DESCRIPTION": "Retail", "INTERNALNOTE": "a"}));
    let mut after = before.clone();
    after.insert("INTERNALNOTE".into(), json!("b"));
    assert!(changed_mapped_fields(map, Side::Finops, &before, &after).is_empty());
    after.insert("description".into(), json!("Wholesale"));
    after.remove("DESCRIPTION");
    assert_eq!(changed_mapped_fields(map, Side::Finops, &before, &after), ["DESCRIPTION"]);
    let customers = &c.package.maps[3];
    let before = row(json!({"customertypecode": 3}));
    let after = row(json!({"customertypecode": 1}));
    assert!(
        changed_mapped_fields(customers, Side::Dataverse, &before, &after).is_empty(),
        "customertypecode flows to Dataverse only, so a change on Dataverse does not sync"
    );
}

#[test]
fn the_server_expands_the_company_and_every_lookup_path() {
    let c = contoso();
    assert_eq!(
        dataverse_paths(&c.schema, &c.package.maps[2]),
        [
            "msdyn_company.cdm_companycode",
            "msdyn_paymenttermid.msdyn_name",
            "msdyn_clearingperiodpaymenttermname.msdyn_name"
        ]
    );
    assert!(dataverse_paths(&c.schema, &c.package.maps[1]).is_empty());
}

#[test]
fn an_update_maps_only_the_fields_it_changed_with_the_company() {
    let c = contoso();
    let mapper = RowMapper::new(&c.schema, &c.package.maps[3]).expect("customers compile");
    let before = finops_customer();
    let mut after = before.clone();
    after.insert("SALESMEMO".into(), json!("call first"));
    after.insert("CREDITRATING".into(), json!("B"));
    after.remove("PARTYSTATE");
    let changed = mapper.map_changes(Side::Finops, &before, &after).expect("maps");
    assert_eq!(changed.get("description"), Some(&json!("call first")));
    assert_eq!(changed.get("msdyn_creditrating"), Some(&json!("B")));
    assert_eq!(changed.get("msdyn_partystateprovince"), Some(&Value::Null), "a cleared field: {changed:?}");
    assert_eq!(changed.get("msdyn_company.cdm_companycode"), Some(&json!("DEMF")));
    assert!(!changed.contains_key("customertypecode"), "a default is not a change");
    assert!(!changed.contains_key("accountnumber"), "unchanged fields are left alone");
    assert_eq!(changed.len(), 4, "{changed:?}");
    assert_eq!(
        mapper.map_changes(Side::Finops, &before, &before).map(|r| r.len()),
        Ok(1),
        "the company only"
    );
}
