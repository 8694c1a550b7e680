use super::*;

fn contoso() -> Schema {
    Schema::from_json(include_str!("../../../../fixtures/contoso/schema.json")).expect("fixture schema")
}

#[test]
fn keys_are_generated_from_the_first_alternate_key_with_lookups_expanded() {
    let schema = contoso();
    let account = generate(&schema, "account").expect("account has a key");
    assert_eq!(account.fields, ["accountnumber", "msdyn_company.cdm_companycode"]);
    assert_eq!(account.chosen, "account_key");
    assert!(account.others.is_empty());
    assert_eq!(
        generate(&schema, "transactioncurrency").map(|k| k.fields),
        Ok(vec!["isocurrencycode".to_owned()])
    );
}

#[test]
fn a_table_without_alternate_keys_has_no_generated_key() {
    let mut schema = contoso();
    let table = schema.dataverse.iter_mut().find(|t| t.name == "msdyn_party").expect("party");
    table.alternate_keys.clear();
    assert_eq!(
        generate(&schema, "msdyn_party"),
        Err(KeyError::NoAlternateKey { table: "msdyn_party".into() })
    );
}

#[test]
fn a_lookup_key_column_expands_through_the_target_key_without_its_company() {
    let mut schema = contoso();
    let account = schema.dataverse.iter_mut().find(|t| t.name == "account").expect("account");
    account.alternate_keys[0].columns = vec!["msdyn_customergroupid".into(), "msdyn_company".into()];
    let key = generate(&schema, "account").expect("key");
    assert_eq!(key.fields, ["msdyn_customergroupid.msdyn_groupid", "msdyn_company.cdm_companycode"]);
}

#[test]
fn a_manual_key_survives_refresh_and_generated_keys_are_renewed() {
    let schema = contoso();
    let mut keys = IntegrationKeys::new();
    keys.set_manual("account", vec!["accountnumber".into()]);
    keys.set_generated("transactioncurrency", vec!["currencyname".into()]);
    let errors = keys.refresh(&schema, ["account", "transactioncurrency", "msdyn_party"]);
    assert!(errors.is_empty());
    assert_eq!(keys.get("account"), Some(&StoredKey { fields: vec!["accountnumber".into()], manual: true }));
    assert_eq!(
        keys.get("transactioncurrency").map(|k| k.fields.clone()),
        Some(vec!["isocurrencycode".to_owned()])
    );
    assert_eq!(keys.effective(&schema, "msdyn_party").map(|k| k.origin), Ok(KeyOrigin::Stored));
}

#[test]
fn until_refreshed_the_effective_key_is_what_refresh_would_generate() {
    let schema = contoso();
    let keys = IntegrationKeys::new();
    let key = keys.effective(&schema, "msdyn_customergroup").expect("generated");
    assert_eq!(key.origin, KeyOrigin::Generated);
    assert_eq!(key.mapped_fields().collect::<Vec<_>>(), ["msdyn_groupid"], "the company part is not mapped");
}

#[test]
fn package_keys_equal_to_generated_ones_are_not_manual() {
    let schema = contoso();
    let mut package = std::collections::BTreeMap::new();
    package.insert("transactioncurrency".to_owned(), vec!["isocurrencycode".to_owned()]);
    package.insert("account".to_owned(), vec!["accountnumber".to_owned()]);
    let keys = IntegrationKeys::from_package(&package, Some(&schema));
    assert_eq!(keys.get("transactioncurrency").map(|k| k.manual), Some(false));
    assert_eq!(keys.get("account").map(|k| k.manual), Some(true));
    assert_eq!(keys.to_package(), package);
}

#[test]
fn key_values_ignore_case_and_trailing_spaces_but_not_leading_ones() {
    assert_eq!(KeyValue::new(["C001  ", "DEMF"]), KeyValue::new(["c001", "demf"]));
    assert_ne!(KeyValue::new([" C001"]), KeyValue::new(["C001"]));
    assert_eq!(KeyValue::new(["Net30", "USMF"]).to_string(), "net30|usmf");
    assert_eq!(key_part(&serde_json::json!("   ")), None, "blank is no key");
    assert_eq!(key_part(&serde_json::json!(806380000)), Some("806380000".into()));
}
