use serde_json::json;

use super::*;
use crate::table_map::{Direction, Transform};

const PACKAGE: &str = include_str!("../../../../fixtures/contoso/package.json");
const SCHEMA: &str = include_str!("../../../../fixtures/contoso/schema.json");

#[test]
fn the_fixture_package_reads_and_writes_back_unchanged() {
    let package = Package::from_json(PACKAGE).expect("fixture package");
    assert_eq!(package.maps.len(), 4);
    assert_eq!(package.integration_keys["account"], ["accountnumber", "msdyn_company.cdm_companycode"]);
    let original: Value = serde_json::from_str(PACKAGE).expect("json");
    assert_eq!(package.to_value(), original);
}

#[test]
fn every_problem_of_a_package_is_reported_with_its_path() {
    let doc = json!({
        "format": "dualwrite.package/v2",
        "maps": [
            {"name": "a", "version": "1.0.0.0", "finops": "A", "dataverse": "a", "fields": []},
            {"name": "b", "version": "1.0.0.0", "finops": "B", "fields": [{"finops": 3, "direction": "both"}]}
        ],
        "integration_keys": {"a": "accountnumber", "b": []}
    });
    let error = Package::from_value(&doc).expect_err("broken");
    let paths: Vec<&str> = error.problems.iter().map(|p| p.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "format",
            "maps[1].dataverse",
            "maps[1].fields[0].finops",
            "integration_keys.a",
            "integration_keys.b"
        ],
        "{error}"
    );
}

#[test]
fn not_json_is_one_problem_naming_the_line() {
    let error = Package::from_json("{\n  \"maps\": [,]\n}").expect_err("not json");
    assert_eq!(error.problems.len(), 1);
    assert!(error.problems[0].message.contains("line 2"), "{error}");
}

#[test]
fn an_ms_mapping_export_imports_back_to_the_same_maps() {
    let package = Package::from_json(PACKAGE).expect("fixture package");
    let exported = package.to_ms_mapping().to_string();
    let schema = Schema::from_json(SCHEMA).expect("schema");
    for schema in [Some(&schema), None] {
        let imported = Package::from_ms_mapping(&exported, schema).expect("imports");
        assert_eq!(imported.maps, package.maps);
    }
}

#[test]
fn ms_mapping_legs_are_told_apart_and_reversed_value_maps_turned_around() {
    // A Dataverse-sourced leg first, with a direction-2 field whose value map is keyed by Dataverse value.
    let text = json!({"value": [{"msdyn_name": "Customer groups", "msdyn_mapping": json!({
        "legs": [
            {"sourceEnvironment": "CRM", "sourceSchema": "msdyn_customergroup", "destinationSchema": "CustCustomerGroupEntity",
             "sourceFilter": "msdyn_groupid ne null",
             "fieldMappings": [
                {"sourceField": "msdyn_groupid", "destinationField": "CUSTOMERGROUPID", "syncDirection": "3"},
                {"sourceField": "msdyn_issalestaxincludedinprice", "destinationField": "ISSALESTAXINCLUDEDINPRICE",
                 "syncDirection": "2", "valueTransforms": [{"$type": "x", "transformType": "ValueMap",
                 "valueMap": {"True": "yes", "False": "no"}}]}
             ]},
            {"sourceEnvironment": "Finance and Operations", "sourceSchema": "CustCustomerGroupEntity",
             "destinationSchema": "msdyn_customergroup", "sourceFilter": "(CUSTOMERGROUPID != \"\")",
             "fieldMappings": [{"sourceField": "CUSTOMERGROUPID", "destinationField": "msdyn_groupid", "syncDirection": "3"}]}
        ]}).to_string()}]})
    .to_string();
    let package = Package::from_ms_mapping(&text, None).expect("imports");
    let map = &package.maps[0];
    assert_eq!(
        (map.name.as_str(), map.finops.as_str(), map.dataverse.as_str()),
        ("Customer groups", "CustCustomerGroupEntity", "msdyn_customergroup")
    );
    assert_eq!(map.finops_filter.as_deref(), Some("(CUSTOMERGROUPID != \"\")"));
    assert_eq!(map.dataverse_filter.as_deref(), Some("msdyn_groupid ne null"));
    assert_eq!(map.fields.len(), 2, "the both-ways field appears once");
    let tax = &map.fields[1];
    assert_eq!(tax.direction, Direction::ToFinops);
    let Some(Transform::ValueMap { value_map }) = tax.transforms.first() else { panic!("a value map") };
    assert_eq!(value_map.entries, [("yes".to_owned(), json!("True")), ("no".to_owned(), json!("False"))]);
}

/// Found by fuzzing: legs that each name one table, no environment, were told apart by position alone
/// although the schema places both tables, so the import swapped the map's finops and Dataverse tables
/// (and its export then imported the other way round).
#[test]
fn ms_mapping_legs_naming_one_table_each_are_placed_by_the_schema() {
    let text = json!({"name": "Customer groups", "legs": [
        {"destinationSchema": "CustCustomerGroupEntity",
         "fieldMappings": [{"sourceField": "msdyn_groupid", "destinationField": "CUSTOMERGROUPID", "syncDirection": "3"}]},
        {"destinationSchema": "msdyn_customergroup", "fieldMappings": []}
    ]})
    .to_string();
    let schema = Schema::from_json(SCHEMA).expect("schema");
    let package = Package::from_ms_mapping(&text, Some(&schema)).expect("imports");
    let map = &package.maps[0];
    assert_eq!(
        (map.finops.as_str(), map.dataverse.as_str()),
        ("CustCustomerGroupEntity", "msdyn_customergroup")
    );
    assert_eq!(map.fields[0].finops.as_deref(), Some("CUSTOMERGROUPID"));
    let exported = package.to_ms_mapping().to_string();
    let imported = Package::from_ms_mapping(&exported, Some(&schema)).expect("imports back");
    assert_eq!(imported.maps, package.maps);
}

/// Found by fuzzing: a finops-sourced leg's field mapped towards finops only is exported in the
/// Dataverse-sourced leg, its value map turned around; a number value came back a string and two finops
/// values sharing one Dataverse value came back as the last of them, so the export imported differently.
#[test]
fn a_value_map_read_only_towards_finops_imports_as_its_export_reads_back() {
    let text = json!({"name": "Customer groups", "legs": [
        {"sourceEnvironment": "FinOps", "sourceSchema": "CustCustomerGroupEntity", "destinationSchema": "msdyn_customergroup",
         "fieldMappings": [{"sourceField": "PAYMENTTERMS", "destinationField": "msdyn_paymentterms", "syncDirection": "2",
            "valueTransforms": [{"transformType": "ValueMap", "valueMap": {"Net10": 1, "Net14": 1, "Net30": 2, "Cash": null}}]}]}
    ]})
    .to_string();
    let package = Package::from_ms_mapping(&text, None).expect("imports");
    let Some(Transform::ValueMap { value_map }) = package.maps[0].fields[0].transforms.first() else {
        panic!("a value map")
    };
    assert_eq!(value_map.entries, [("Net10".to_owned(), json!("1")), ("Net30".to_owned(), json!("2"))]);
    let exported = package.to_ms_mapping().to_string();
    let imported = Package::from_ms_mapping(&exported, None).expect("imports back");
    assert_eq!(imported.maps, package.maps);
}

#[test]
fn an_ms_mapping_without_legs_says_what_is_missing() {
    let error = Package::from_ms_mapping(r#"{"name": "x"}"#, None).expect_err("no legs");
    let paths: Vec<&str> = error.problems.iter().map(|p| p.path.as_str()).collect();
    assert_eq!(paths, ["legs", "legs", "legs"], "{error}");
}

/// A real map export names the finops entity by its label and the Dataverse table by its entity set.
fn customers_v3_as_exported(related_entity: &str) -> String {
    json!({"name": "Customers V3 (accounts)", "legs": [
        {"sourceEnvironment": "FinOps", "sourceSchema": "Customers V3", "destinationSchema": "accounts",
         "fieldMappings": [
            {"sourceField": "CUSTOMERACCOUNT", "destinationField": "accountnumber", "syncDirection": "3",
             "destinationLookupFieldRelatedEntity": ""},
            {"sourceField": "SALESCURRENCYCODE", "destinationField": "transactioncurrencyid.isocurrencycode",
             "syncDirection": "3", "destinationLookupFieldRelatedEntity": related_entity}
         ]},
        {"sourceEnvironment": "CRM", "sourceSchema": "accounts", "destinationSchema": "Customers V3",
         "fieldMappings": [{"sourceField": "accountnumber", "destinationField": "CUSTOMERACCOUNT", "syncDirection": "3"}]}
    ]})
    .to_string()
}

#[test]
fn ms_mapping_table_names_are_resolved_and_stored_by_the_schema_names() {
    let schema = Schema::from_json(SCHEMA).expect("schema");
    let package = Package::from_ms_mapping(&customers_v3_as_exported("transactioncurrencies"), Some(&schema))
        .expect("imports");
    let map = &package.maps[0];
    assert_eq!((map.finops.as_str(), map.dataverse.as_str()), ("CustCustomerV3Entity", "account"));
    assert_eq!(map.fields.len(), 2);
    let without_schema = Package::from_ms_mapping(&customers_v3_as_exported("transactioncurrencies"), None)
        .expect("imports without a schema");
    assert_eq!(
        without_schema.maps[0].dataverse, "accounts",
        "kept as written when there is nothing to resolve by"
    );
}

#[test]
fn a_lookups_related_entity_must_be_the_lookups_target() {
    let schema = Schema::from_json(SCHEMA).expect("schema");
    for wrong in ["msdyn_customergroups", "currencies"] {
        let error = Package::from_ms_mapping(&customers_v3_as_exported(wrong), Some(&schema))
            .expect_err("the related entity is another table");
        let problem = &error.problems[0];
        assert_eq!(problem.path, "legs[0].fieldMappings[1].destinationLookupFieldRelatedEntity");
        assert!(problem.message.contains("targets transactioncurrency"), "{problem}");
    }
}

#[test]
fn a_package_names_its_tables_and_keys_by_the_schema_names() {
    let schema = Schema::from_json(SCHEMA).expect("schema");
    let mut package = Package::from_json(PACKAGE).expect("fixture package");
    let expected = package.clone();
    package.maps[3].finops = "Customers V3".into();
    package.maps[3].dataverse = "accounts".into();
    let key = package.integration_keys.remove("account").expect("key");
    package.integration_keys.insert("accounts".into(), key);
    package.maps[0].finops = "Legal entitys".into();
    let unknown = package.resolve_tables(&schema);
    assert_eq!(unknown.len(), 1, "{unknown:?}");
    assert_eq!(unknown[0].closest, ["LegalEntities"]);
    package.maps[0].finops = expected.maps[0].finops.clone();
    assert_eq!(package, expected);
}
