use serde_json::json;

use super::*;

const CONTOSO: &str = include_str!("../../../../fixtures/contoso/schema.json");

fn contoso() -> Schema {
    Schema::from_json(CONTOSO).expect("fixture schema")
}

#[test]
fn the_fixture_reads_with_implicit_columns_added() {
    let schema = contoso();
    assert_eq!(schema.companies, ["USMF", "DEMF"]);
    let customers = schema.table(Side::Finops, "custcustomerv3entity").expect("case-insensitive table name");
    assert_eq!(customers.entity_key(), ["CUSTOMERACCOUNT", "dataAreaId"]);
    assert!(customers.column("dataareaid").is_some_and(|c| c.implicit));
    let account = schema.table(Side::Dataverse, "account").expect("account");
    assert_eq!(account.id_column_name(), "accountid");
    assert!(account.column("msdyn_company").is_some_and(|c| !c.implicit), "listed explicitly in the fixture");
    let currency = schema.table(Side::Dataverse, "transactioncurrency").expect("currency");
    assert!(currency.column("msdyn_company").is_none(), "cross-company tables have no company");
    assert!(schema.table(Side::Dataverse, "Account").is_none(), "Dataverse names are exact");
}

#[test]
fn writing_the_schema_leaves_implicit_columns_out_and_reads_back_the_same() {
    let schema = contoso();
    let text = schema.to_value().to_string();
    assert!(!text.contains("dataAreaId") && !text.contains("accountid"));
    assert_eq!(Schema::from_json(&text), Ok(schema));
}

#[test]
fn every_problem_of_a_schema_is_reported_with_its_path() {
    let doc = json!({
        "format": "dualwrite.schema/v1",
        "companies": ["USMF", "usmf"],
        "finops": [
            {"name": "A", "key": ["ID"], "columns": [{"name": "ID", "type": "string", "max_length": 0}]},
            {"name": "B", "key": ["NOPE"], "columns": [
                {"name": "X", "type": "text"},
                {"name": "Y", "type": "enum", "values": []},
                {"name": "Z", "type": "string", "references": {"table": "Missing", "column": "ID"}}
            ]}
        ],
        "dataverse": [
            {"name": "t", "company_specific": true, "columns": [{"name": "l", "type": "lookup", "target": "nowhere"}],
             "alternate_keys": [{"name": "k", "columns": ["m"]}]}
        ]
    });
    let error = Schema::from_value(&doc).expect_err("many problems");
    let paths: Vec<&str> = error.problems.iter().map(|p| p.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "companies[1]",
            "finops[0].columns[0].max_length",
            "finops[1].columns[0].type",
            "finops[1].columns[1].values",
            "finops[1].key[0]",
            "dataverse[0].alternate_keys[0].columns[0]",
            "finops[1].columns[1].references.table",
            "dataverse[0].columns[0].target",
            "dataverse[0].company_specific",
        ],
        "{error}"
    );
}

#[test]
fn values_are_checked_and_normalised_for_their_column() {
    let schema = contoso();
    let customers = schema.table(Side::Finops, "CustCustomerV3Entity").expect("customers");
    let account = schema.table(Side::Dataverse, "account").expect("account");
    let check =
        |table: &Table, column: &str, value: Value| table.column(column).expect("column").check_value(&value);
    assert_eq!(check(customers, "CREDITLIMIT", json!("1.0000000000")), Ok(json!(1)));
    assert_eq!(check(customers, "CREDITLIMIT", json!(" 12.5")), Ok(json!(12.5)));
    assert_eq!(check(customers, "ONHOLDSTATUS", json!("NEVER")), Ok(json!("never")));
    assert_eq!(check(account, "msdyn_onholdstatus", json!("806380000")), Ok(json!(806380000)));
    assert_eq!(check(account, "msdyn_onetimecustomer", json!("True")), Ok(json!(true)));
    assert_eq!(
        check(account, "msdyn_company", json!("{0F8FAD5B-D9CB-469F-A165-70867728950E}")),
        Ok(json!("0f8fad5b-d9cb-469f-a165-70867728950e"))
    );
    assert_eq!(check(customers, "CUSTOMERACCOUNT", Value::Null), Err(ValueError::Required));
    assert!(matches!(
        check(customers, "CUSTOMERACCOUNT", json!("x".repeat(21))),
        Err(ValueError::TooLong { max: 20, .. })
    ));
    assert!(matches!(check(account, "msdyn_onholdstatus", json!(7)), Err(ValueError::NotAnOption { .. })));
    assert!(matches!(
        check(customers, "ONHOLDSTATUS", json!("sometimes")),
        Err(ValueError::NotInEnum { .. })
    ));
    assert!(matches!(check(customers, "CREDITLIMIT", json!("lots")), Err(ValueError::WrongType { .. })));
    let date = ColumnType::Date;
    assert!(
        date.check_value(&json!("2024-02-29")).is_ok() && date.check_value(&json!("2023-02-29")).is_err()
    );
    let datetime = ColumnType::Datetime;
    assert!(datetime.check_value(&json!("2024-02-29T10:15:00.123+01:00")).is_ok());
    assert!(datetime.check_value(&json!("2024-02-29T25:00:00Z")).is_err());
}

#[test]
fn a_written_row_is_checked_column_by_column() {
    let schema = contoso();
    let account = schema.table(Side::Dataverse, "account").expect("account");
    let row: Row = serde_json::from_value(json!({
        "accountnumber": "C001", "msdyn_company.cdm_companycode": "USMF",
        "transactioncurrencyid.isocurrencycode": "EUR", "creditlimit": "10"
    }))
    .expect("row");
    let checked = account.check_row(&schema, &row, false).expect("fits");
    assert_eq!(checked.get("creditlimit"), Some(&json!(10)));
    let bad: Row =
        serde_json::from_value(json!({"accountnumbr": "C001", "msdyn_onholdstatus": 1})).expect("row");
    let error = account.check_row(&schema, &bad, false).expect_err("does not fit");
    let columns: Vec<&str> = error.problems.iter().map(|p| p.column.as_str()).collect();
    assert_eq!(columns, ["accountnumbr", "msdyn_onholdstatus", "accountnumber", "msdyn_company"]);
    assert!(account
        .check_row(&schema, &serde_json::from_value(json!({"creditlimit": 5})).expect("row"), true)
        .is_ok());
}

#[test]
fn dotted_paths_resolve_through_lookups() {
    let schema = contoso();
    let account = schema.table(Side::Dataverse, "account").expect("account");
    let path = schema
        .resolve_path(account, "msdyn_customergroupid.msdyn_company.cdm_companycode")
        .expect("two hops");
    assert_eq!(path.hops.len(), 2);
    assert_eq!((path.table.name.as_str(), path.column.name.as_str()), ("cdm_company", "cdm_companycode"));
    assert_eq!(path.first_column().name, "msdyn_customergroupid");
    assert!(matches!(schema.resolve_path(account, "accountnumber.x"), Err(PathError::NotALookup { .. })));
    assert!(matches!(
        schema.resolve_path(account, "msdyn_vendor.nope"),
        Err(PathError::UnknownColumn { .. })
    ));
}

#[test]
fn an_operation_names_a_row_by_exactly_one_of_its_tables_keys() {
    let schema = contoso();
    let customers = schema.table(Side::Finops, "CustCustomerV3Entity").expect("customers");
    let entity_key = Some(vec!["CUSTOMERACCOUNT", "dataAreaId"]);
    assert_eq!(customers.operation_key(&["dataareaid", "customeraccount"]), entity_key, "any case and order");
    assert_eq!(customers.operation_key(&["CUSTOMERACCOUNT"]), None, "without the company");
    assert_eq!(
        customers.operation_key(&["CUSTOMERACCOUNT", "dataAreaId", "SALESMEMO"]),
        None,
        "more than it"
    );
    assert_eq!(customers.operation_key(&["CUSTOMERACCOUNT", "customeraccount"]), None, "a column twice");
    let account = schema.table(Side::Dataverse, "account").expect("account");
    assert_eq!(account.operation_key(&["accountid"]), Some(vec!["accountid"]));
    let alternate = Some(vec!["accountnumber", "msdyn_company"]);
    assert_eq!(account.operation_key(&["msdyn_company", "accountnumber"]), alternate);
    assert_eq!(account.operation_key(&["accountnumber", "msdyn_company.cdm_companycode"]), alternate);
    assert_eq!(account.operation_key(&["accountnumber"]), None);
    assert_eq!(account.operation_key(&["accountid", "accountnumber"]), None);
    assert_eq!(account.operation_key(&["msdyn_company", "msdyn_company.cdm_companycode"]), None);
    assert_eq!(account.operation_key(&["AccountId"]), None, "Dataverse names are exact");
    assert_eq!(account.operation_key::<&str>(&[]), None);
}

#[test]
fn read_only_columns_are_found_in_a_row_by_any_spelling() {
    let mut schema = contoso();
    let account = schema.dataverse.iter_mut().find(|t| t.name == "account").expect("account");
    account
        .columns
        .iter_mut()
        .filter(|c| c.name == "description" || c.name == "transactioncurrencyid")
        .for_each(|c| c.read_only = true);
    let account = schema.table(Side::Dataverse, "account").expect("account");
    let row = json!({"accountid": "x", "description": "d", "transactioncurrencyid.isocurrencycode": "EUR", "accountnumber": "A"});
    let row = row.as_object().expect("object");
    assert_eq!(
        account.read_only_columns_in(row),
        ["description", "transactioncurrencyid.isocurrencycode"],
        "the implicit id is left out"
    );
    let mut schema = contoso();
    let currencies = schema.finops.iter_mut().find(|t| t.name == "Currencies").expect("currencies");
    currencies.columns.iter_mut().filter(|c| c.name == "SYMBOL").for_each(|c| c.read_only = true);
    let currencies = schema.table(Side::Finops, "Currencies").expect("currencies");
    let row = json!({"CURRENCYCODE": "EUR", "symbol": "€"});
    assert_eq!(currencies.read_only_columns_in(row.as_object().expect("object")), ["symbol"]);
}

#[test]
fn tables_resolve_by_the_names_dual_write_gives_them() {
    let schema = contoso();
    let finops = |name: &str| schema.resolve(Side::Finops, name).map(|t| t.name.as_str());
    let dataverse = |name: &str| schema.resolve(Side::Dataverse, name).map(|t| t.name.as_str());
    assert_eq!(finops("CustCustomerV3Entity"), Ok("CustCustomerV3Entity"));
    assert_eq!(finops("Customers V3"), Ok("CustCustomerV3Entity"), "the label");
    assert_eq!(finops("CustomersV3"), Ok("CustCustomerV3Entity"), "the public collection name");
    assert_eq!(finops("customerv3"), Ok("CustCustomerV3Entity"), "the entity type name, any case");
    assert_eq!(finops("Customer Groups"), Ok("CustCustomerGroupEntity"));
    assert_eq!(finops("Legal entities"), Ok("LegalEntities"));
    assert_eq!(dataverse("accounts"), Ok("account"), "the entity set");
    assert_eq!(dataverse("transactioncurrencies"), Ok("transactioncurrency"));
    assert!(dataverse("Accounts").is_err(), "Dataverse names are exact");
}

#[test]
fn a_label_matches_the_collection_name_without_spaces_even_with_no_label_alias() {
    let doc = json!({
        "format": "dualwrite.schema/v1",
        "companies": [],
        "finops": [{"name": "CustCustomerV3Entity", "aliases": ["CustomersV3"], "key": ["A"],
                    "columns": [{"name": "A", "type": "string"}]}],
        "dataverse": []
    });
    let schema = Schema::from_value(&doc).expect("schema");
    assert_eq!(
        schema.resolve(Side::Finops, "Customers V3").map(|t| t.name.as_str()),
        Ok("CustCustomerV3Entity")
    );
    assert_eq!(schema.to_value()["finops"][0]["aliases"], json!(["CustomersV3"]));
}

#[test]
fn a_name_that_resolves_to_nothing_names_the_closest_tables() {
    let schema = contoso();
    let e = schema.resolve(Side::Finops, "Customers V2").expect_err("no such entity");
    assert_eq!(e.closest.first().map(String::as_str), Some("CustCustomerV3Entity"));
    assert!(e.to_string().contains("did you mean CustCustomerV3Entity"), "{e}");
    let e = schema.resolve(Side::Dataverse, "acount").expect_err("misspelt");
    assert_eq!(e.closest.first().map(String::as_str), Some("account"), "{e}");
    let e = schema.resolve(Side::Dataverse, "salesorder").expect_err("absent");
    assert!(e.closest.is_empty(), "nothing comes close to salesorder: {e}");
    assert_eq!(e.to_string(), "dataverse table `salesorder` is not in the schema");
    let long = "x".repeat(100_000);
    assert!(schema.resolve(Side::Finops, &long).expect_err("absent").closest.is_empty());
}

#[test]
fn tables_without_aliases_write_no_aliases_and_aliases_name_one_table() {
    let mut schema = contoso();
    for table in schema.finops.iter_mut().chain(schema.dataverse.iter_mut()) {
        table.aliases.clear();
    }
    let text = schema.to_value().to_string();
    assert!(!text.contains("aliases"), "older readers see the document they know");
    let doc = json!({
        "format": "dualwrite.schema/v1",
        "companies": [],
        "finops": [],
        "dataverse": [
            {"name": "a", "aliases": ["as", " ", "as"], "columns": []},
            {"name": "b", "aliases": ["as", "a"], "columns": []}
        ]
    });
    let error = Schema::from_value(&doc).expect_err("ambiguous aliases");
    let paths: Vec<&str> = error.problems.iter().map(|p| p.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "dataverse[0].aliases[1]",
            "dataverse[0].aliases[2]",
            "dataverse[1].aliases[0]",
            "dataverse[1].aliases[1]"
        ],
        "{error}"
    );
}

#[test]
fn merging_an_environments_tables_keeps_what_only_a_person_could_say() {
    let mut schema = contoso();
    let before = schema.clone();
    let customers = before.table(Side::Finops, "CustCustomerV3Entity").expect("customers");
    // As `$metadata` says it: the entity type name, public field names, one new field.
    let mut read = customers.clone();
    read.name = "CustomerV3".into();
    read.aliases = vec!["CustomersV3".into()];
    for column in &mut read.columns {
        column.required = false;
        column.references = None;
        if column.name == "CREDITRATING" {
            column.name = "CreditRating".into();
            column.ty = ColumnType::String { max_length: Some(10) };
        }
    }
    read.columns.push(Column::new("PaymentTermsBaseMonths", ColumnType::Integer));
    let currency = before.table(Side::Finops, "LegalEntities").expect("legal entities");
    let mut new_table = currency.clone();
    new_table.name = "Vendors".into();
    new_table.aliases = vec!["VendorsV2".into()];
    new_table.declared_entity_set = None;
    let changes = schema.merge(Side::Finops, &[read, new_table]);
    assert_eq!(changes.len(), 2);
    assert_eq!(changes[0].table, "CustCustomerV3Entity", "known by its alias");
    assert_eq!(changes[0].columns_added, ["PaymentTermsBaseMonths"]);
    assert_eq!(
        changes[0].columns_changed,
        [(
            "CREDITRATING".to_owned(),
            "a string of at most 60 characters".to_owned(),
            "a string of at most 10 characters".to_owned()
        )]
    );
    assert!(changes[0].changed.is_empty(), "{:?}", changes[0].changed);
    assert!(changes[1].added && changes[1].table == "Vendors");
    let merged = Schema::from_value(&schema.to_value()).expect("a valid schema");
    let customers = merged.table(Side::Finops, "CustCustomerV3Entity").expect("customers");
    assert!(customers.column("CUSTOMERGROUPID").is_some_and(|c| c.required && c.references.is_some()));
    assert_eq!(customers.aliases, before.table(Side::Finops, "CustCustomerV3Entity").expect("t").aliases);
    assert!(merged.resolve(Side::Finops, "VendorsV2").is_ok());

    let mut again = merged.clone();
    let same: Vec<Table> = merged
        .finops
        .iter()
        .map(|t| Table { columns: t.columns.iter().filter(|c| !c.implicit).cloned().collect(), ..t.clone() })
        .collect();
    assert!(again.merge(Side::Finops, &same).iter().all(TableChange::is_unchanged));
    assert_eq!(again, merged);
}

#[test]
fn a_table_is_collected_under_its_declared_entity_set_its_first_alias_or_its_plural() {
    let schema = contoso();
    let set = |side, name: &str| schema.table(side, name).map(Table::entity_set);
    assert_eq!(set(Side::Finops, "Currencies").as_deref(), Some("Currencies"), "declared");
    assert_eq!(set(Side::Finops, "CustCustomerV3Entity").as_deref(), Some("CustomersV3"), "first alias");
    assert_eq!(set(Side::Dataverse, "transactioncurrency").as_deref(), Some("transactioncurrencies"));
    assert_eq!(schema.resolve(Side::Finops, "currencies").map(|t| t.name.as_str()).ok(), Some("Currencies"));
    let bare = Schema::from_value(&json!({
        "format": "dualwrite.schema/v1", "companies": [], "finops": [],
        "dataverse": [{"name": "msdyn_address", "columns": []}, {"name": "msdyn_party", "columns": []}]
    }))
    .expect("schema");
    let sets: Vec<String> = bare.tables(Side::Dataverse).iter().map(Table::entity_set).collect();
    assert_eq!(sets, ["msdyn_addresses", "msdyn_parties"], "Dataverse's default plural");
    assert_eq!(
        Schema::from_value(&schema.to_value()).expect("round trip"),
        schema,
        "entity_set is written back"
    );
}
