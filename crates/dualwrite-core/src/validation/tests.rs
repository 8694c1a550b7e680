//! Every code, triggered by a small change to the Contoso fixture, next to a near neighbour that does
//! not trigger it.

use serde_json::json;

use super::*;
use crate::schema::{AlternateKey, ColumnType};
use crate::table_map::{Direction, FieldMapping, Transform, ValueMap};

const SCHEMA: &str = include_str!("../../../../fixtures/contoso/schema.json");
const PACKAGE: &str = include_str!("../../../../fixtures/contoso/package.json");

const LEGAL_ENTITIES: usize = 0;
const CURRENCIES: usize = 1;
const CUSTOMER_GROUPS: usize = 2;
const CUSTOMERS: usize = 3;

struct Fixture {
    schema: Schema,
    keys: IntegrationKeys,
    maps: Vec<TableMap>,
}

impl Fixture {
    fn contoso() -> Fixture {
        let schema = Schema::from_json(SCHEMA).expect("fixture schema");
        let package = Package::from_json(PACKAGE).expect("fixture package");
        let keys = IntegrationKeys::from_package(&package.integration_keys, Some(&schema));
        Fixture { schema, keys, maps: package.maps }
    }

    fn diagnostics(&self, map: usize) -> Vec<Diagnostic> {
        validate(&self.schema, &self.keys, &self.maps[map], &self.maps)
    }

    fn field(&mut self, map: usize, index: usize) -> &mut FieldMapping {
        &mut self.maps[map].fields[index]
    }

    fn dataverse(&mut self, table: &str) -> &mut Table {
        self.schema.dataverse.iter_mut().find(|t| t.name == table).expect("dataverse table")
    }

    fn finops(&mut self, table: &str) -> &mut Table {
        self.schema.finops.iter_mut().find(|t| t.name == table).expect("finops table")
    }

    fn column(&mut self, side: Side, table: &str, column: &str) -> &mut Column {
        let table = match side {
            Side::Finops => self.finops(table),
            Side::Dataverse => self.dataverse(table),
        };
        table.columns.iter_mut().find(|c| c.name == column).expect("column")
    }

    /// A spare string column on `transactioncurrency`, for mappings that must not collide.
    fn add_currency_comment(&mut self) {
        self.dataverse("transactioncurrency").columns.push(Column {
            name: "currencycomment".into(),
            ty: ColumnType::String { max_length: Some(100) },
            required: false,
            read_only: false,
            references: None,
            implicit: false,
        });
    }
}

struct Case {
    code: &'static str,
    map: usize,
    /// Makes the map trigger the code.
    trigger: fn(&mut Fixture),
    /// Where the diagnostic points.
    path: &'static str,
    severity: Severity,
    /// A close change that must not trigger it.
    neighbour: fn(&mut Fixture),
}

fn remove_key_mapping(f: &mut Fixture) {
    f.maps[CURRENCIES].fields.remove(0);
}

fn cases() -> Vec<Case> {
    use Severity::{Error, Warning};
    vec![
        Case {
            code: "DIPV1002",
            map: CUSTOMER_GROUPS,
            trigger: |f| f.finops("CustCustomerGroupEntity").company_specific = false,
            path: "dataverse",
            severity: Error,
            neighbour: |f| f.finops("Currencies").company_specific = false,
        },
        Case {
            code: "DIPV1003",
            map: CURRENCIES,
            trigger: |f| {
                f.dataverse("transactioncurrency").alternate_keys.clear();
                f.keys.remove("transactioncurrency");
            },
            path: "dataverse",
            severity: Error,
            neighbour: |f| {
                f.dataverse("transactioncurrency").alternate_keys.clear();
                f.keys.set_manual("transactioncurrency", vec!["isocurrencycode".into()]);
            },
        },
        Case {
            code: "DIPV1004",
            map: CURRENCIES,
            trigger: |f| f.field(CURRENCIES, 0).direction = Direction::ToDataverse,
            path: "fields[0].direction",
            severity: Error,
            // Legal entities flows one way only, so its one-way key field is right.
            neighbour: |f| f.field(LEGAL_ENTITIES, 1).direction = Direction::ToDataverse,
        },
        Case {
            code: "DIPV1010",
            map: CURRENCIES,
            trigger: |f| {
                f.maps[CURRENCIES].fields.remove(1);
            },
            path: "fields",
            severity: Error,
            // The optional SYMBOL can go.
            neighbour: |f| {
                f.maps[CURRENCIES].fields.remove(2);
            },
        },
        Case {
            code: "DIPV1011",
            map: CUSTOMERS,
            trigger: |f| f.column(Side::Dataverse, "account", "description").read_only = true,
            path: "fields[3].dataverse",
            severity: Error,
            // A read-only column may be read.
            neighbour: |f| {
                f.column(Side::Dataverse, "account", "description").read_only = true;
                f.field(CUSTOMERS, 3).direction = Direction::ToFinops;
            },
        },
        Case {
            code: "DIPV1012",
            map: CUSTOMERS,
            trigger: |f| f.maps[CUSTOMERS].dataverse_filter = Some("customertypecode eq".into()),
            path: "dataverse_filter",
            severity: Error,
            neighbour: |f| f.maps[CUSTOMERS].dataverse_filter = Some("(customertypecode eq 3)".into()),
        },
        Case {
            code: "DIPV1012",
            map: CUSTOMERS,
            trigger: |f| f.maps[CUSTOMERS].dataverse_filter = Some("contains(accountnumber, 'C')".into()),
            path: "dataverse_filter",
            severity: Error,
            neighbour: |f| f.maps[CUSTOMERS].dataverse_filter = Some("accountnumber ge 'C'".into()),
        },
        Case {
            code: "DIPV1012",
            map: CUSTOMERS,
            trigger: |f| {
                f.maps[CUSTOMERS].dataverse_filter =
                    Some("transactioncurrencyid/isocurrencycode eq 'EUR'".into())
            },
            path: "dataverse_filter",
            severity: Error,
            neighbour: |f| f.maps[CUSTOMERS].dataverse_filter = Some("transactioncurrencyid ne null".into()),
        },
        Case {
            code: "DIPV1012",
            map: CUSTOMERS,
            trigger: |f| f.maps[CUSTOMERS].finops_filter = Some("((PartyKind == \"Organization\"))".into()),
            path: "finops_filter",
            severity: Error,
            neighbour: |f| {
                f.maps[CUSTOMERS].finops_filter = Some("((partytype == PartyType::Organization))".into())
            },
        },
        Case {
            code: "DIPV1012",
            map: CUSTOMERS,
            trigger: |f| f.maps[CUSTOMERS].finops_filter = Some("((CREDITLIMIT == \"high\"))".into()),
            path: "finops_filter",
            severity: Error,
            neighbour: |f| f.maps[CUSTOMERS].finops_filter = Some("((CREDITLIMIT > 1000))".into()),
        },
        Case {
            code: "DIPV1014",
            map: CURRENCIES,
            trigger: remove_key_mapping,
            path: "fields",
            severity: Error,
            neighbour: |f| {
                f.maps[CURRENCIES].fields.remove(2);
            },
        },
        Case {
            code: "DIPV1015",
            map: CUSTOMER_GROUPS,
            trigger: |f| {
                let key = vec!["msdyn_groupid".into(), "msdyn_paymenttermid.msdyn_name".into()];
                f.keys.set_manual("msdyn_customergroup", key);
                f.maps[CUSTOMER_GROUPS].fields.remove(3);
            },
            path: "fields",
            severity: Error,
            neighbour: |f| {
                let key = vec!["msdyn_groupid".into(), "msdyn_paymenttermid.msdyn_name".into()];
                f.keys.set_manual("msdyn_customergroup", key);
            },
        },
        Case {
            code: "DIPV1018",
            map: CURRENCIES,
            trigger: |f| f.maps[CURRENCIES].finops = "Currency".into(),
            path: "finops",
            severity: Error,
            neighbour: |f| f.maps[CURRENCIES].finops = "CURRENCIES".into(),
        },
        Case {
            code: "DIPV1020",
            map: CURRENCIES,
            trigger: |f| f.maps[CURRENCIES].dataverse = "transactioncurrencies".into(),
            path: "dataverse",
            severity: Error,
            neighbour: |f| f.maps[CURRENCIES].dataverse = "transactioncurrency".into(),
        },
        Case {
            code: "DIPV1021",
            map: CURRENCIES,
            trigger: |f| f.field(CURRENCIES, 3).transforms.clear(),
            path: "fields[3].finops",
            severity: Error,
            neighbour: |f| {
                f.field(CURRENCIES, 3).transforms = vec![Transform::Default { default_value: json!(2) }];
            },
        },
        Case {
            code: "DIPV1022",
            map: CUSTOMERS,
            trigger: |f| f.field(CUSTOMERS, 1).finops = Some("CREDITLIMITT".into()),
            path: "fields[1].finops",
            severity: Error,
            // finops names are case-insensitive.
            neighbour: |f| f.field(CUSTOMERS, 1).finops = Some("creditLimit".into()),
        },
        Case {
            code: "DIPV1023",
            map: CURRENCIES,
            trigger: |f| {
                f.maps[CURRENCIES].fields.push(FieldMapping::new("NAME", "currencysymbol", Direction::Both))
            },
            path: "fields[4].finops",
            severity: Error,
            // Reading NAME a second time, one way, is fine.
            neighbour: |f| {
                f.add_currency_comment();
                f.maps[CURRENCIES].fields.push(FieldMapping::new(
                    "NAME",
                    "currencycomment",
                    Direction::ToDataverse,
                ));
            },
        },
        Case {
            code: "DIPV1024",
            map: CURRENCIES,
            trigger: |f| f.field(CURRENCIES, 2).dataverse = None,
            path: "fields[2].dataverse",
            severity: Error,
            neighbour: |f| f.field(CURRENCIES, 2).dataverse = Some("currencysymbol".into()),
        },
        Case {
            code: "DIPV1025",
            map: CUSTOMERS,
            trigger: |f| f.field(CUSTOMERS, 16).dataverse = Some("msdyn_paymentterm.msdyn_nam".into()),
            path: "fields[16].dataverse",
            severity: Error,
            neighbour: |f| f.field(CUSTOMERS, 16).dataverse = Some("msdyn_paymentterm.msdyn_name".into()),
        },
        Case {
            code: "DIPV1026",
            map: CURRENCIES,
            trigger: |f| {
                f.maps[CURRENCIES].fields.push(FieldMapping::new(
                    "SYMBOL",
                    "currencyname",
                    Direction::ToDataverse,
                ))
            },
            path: "fields[4].dataverse",
            severity: Error,
            neighbour: |f| {
                f.add_currency_comment();
                f.maps[CURRENCIES].fields.push(FieldMapping::new(
                    "SYMBOL",
                    "currencycomment",
                    Direction::ToDataverse,
                ));
            },
        },
        Case {
            code: "DIPV1027",
            map: CUSTOMERS,
            trigger: |f| f.field(CUSTOMERS, 2).dataverse = Some("transactioncurrencyid.currencyname".into()),
            path: "fields[2].dataverse",
            severity: Error,
            neighbour: |f| {
                f.field(CUSTOMERS, 2).dataverse = Some("transactioncurrencyid.isocurrencycode".into())
            },
        },
        Case {
            code: "DIPV1028",
            map: CUSTOMERS,
            trigger: |f| {
                let field = f.field(CUSTOMERS, 2);
                field.dataverse = Some("transactioncurrencyid.currencyname".into());
                field.direction = Direction::ToFinops;
            },
            path: "fields[2].dataverse",
            severity: Error,
            neighbour: |f| {
                f.keys.set_manual("transactioncurrency", vec!["currencyname".into()]);
                let field = f.field(CUSTOMERS, 2);
                field.dataverse = Some("transactioncurrencyid.currencyname".into());
                field.direction = Direction::ToFinops;
            },
        },
        Case {
            code: "DIPV1029",
            map: CURRENCIES,
            trigger: |f| {
                f.maps[CURRENCIES].fields.push(FieldMapping::new(
                    "NAME",
                    "currencyname",
                    Direction::ToDataverse,
                ))
            },
            path: "fields[4]",
            severity: Error,
            neighbour: |f| {
                f.add_currency_comment();
                f.maps[CURRENCIES].fields.push(FieldMapping::new(
                    "NAME",
                    "currencycomment",
                    Direction::ToDataverse,
                ));
            },
        },
        Case {
            code: "DIPV1030",
            map: CUSTOMERS,
            trigger: |f| f.field(CUSTOMERS, 10).transforms.clear(),
            path: "fields[10].dataverse",
            severity: Error,
            // An integer may be written to a decimal column.
            neighbour: |f| {
                f.column(Side::Dataverse, "account", "msdyn_paymenttermsbasedays").ty = ColumnType::Decimal;
                f.field(CUSTOMERS, 17).direction = Direction::ToDataverse;
            },
        },
        Case {
            code: "DIPV1031",
            map: CURRENCIES,
            trigger: |f| {
                f.column(Side::Dataverse, "transactioncurrency", "exchangerate").required = true;
                f.field(CURRENCIES, 3).transforms.clear();
            },
            path: "fields[3].finops",
            severity: Error,
            neighbour: |f| f.column(Side::Dataverse, "transactioncurrency", "exchangerate").required = true,
        },
        Case {
            code: "DW2001",
            map: CUSTOMERS,
            trigger: |f| {
                let company =
                    FieldMapping::new("dataAreaId", "msdyn_company.cdm_companycode", Direction::Both);
                f.maps[CUSTOMERS].fields.push(company);
            },
            path: "fields[25]",
            severity: Error,
            // The company table itself is cross-company: its code is an ordinary field.
            neighbour: |f| f.field(LEGAL_ENTITIES, 1).dataverse = Some("cdm_companycode".into()),
        },
        Case {
            code: "DW2002",
            map: CURRENCIES,
            trigger: |f| {
                let by_name = AlternateKey { name: "by_name".into(), columns: vec!["currencyname".into()] };
                f.dataverse("transactioncurrency").alternate_keys.push(by_name);
                f.keys.remove("transactioncurrency");
            },
            path: "dataverse",
            severity: Warning,
            neighbour: |f| {
                let by_name = AlternateKey { name: "by_name".into(), columns: vec!["currencyname".into()] };
                f.dataverse("transactioncurrency").alternate_keys.push(by_name);
                f.keys.set_manual("transactioncurrency", vec!["isocurrencycode".into()]);
            },
        },
        Case {
            code: "DW2003",
            map: CUSTOMERS,
            trigger: |f| set_value(f.field(CUSTOMERS, 10), "never", json!("806380000")),
            path: "fields[10].transforms[0]",
            severity: Error,
            // One way, several finops values may become one Dataverse value.
            neighbour: |f| {
                let field = f.field(CUSTOMERS, 10);
                set_value(field, "never", json!("806380000"));
                field.direction = Direction::ToDataverse;
            },
        },
        Case {
            code: "DW2004",
            map: CUSTOMERS,
            trigger: |f| rename_key(f.field(CUSTOMERS, 4), "yes", "maybe"),
            path: "fields[4].transforms[0].valueMap.maybe",
            severity: Error,
            // Enum symbols match case-insensitively.
            neighbour: |f| rename_key(f.field(CUSTOMERS, 4), "yes", "Yes"),
        },
        Case {
            code: "DW2005",
            map: CUSTOMER_GROUPS,
            trigger: |_| {},
            path: "fields[3].dataverse",
            severity: Warning,
            neighbour: |f| {
                let mut terms = f.maps[CUSTOMER_GROUPS].clone();
                terms.name = "Payment terms".into();
                terms.dataverse = "msdyn_paymentterm".into();
                f.maps.push(terms);
            },
        },
        Case {
            code: "DW2006",
            map: CUSTOMERS,
            trigger: |f| {
                f.dataverse("msdyn_customergroup").columns.push(Column {
                    name: "msdyn_mainaccount".into(),
                    ty: ColumnType::Lookup { target: "account".into() },
                    required: false,
                    read_only: false,
                    references: None,
                    implicit: false,
                });
                let back =
                    FieldMapping::new("DESCRIPTION", "msdyn_mainaccount.accountnumber", Direction::ToFinops);
                f.maps[CUSTOMER_GROUPS].fields.push(back);
            },
            path: "",
            severity: Warning,
            neighbour: |_| {},
        },
        Case {
            code: "DW2007",
            map: CUSTOMERS,
            trigger: |_| {},
            path: "fields[8].dataverse",
            severity: Warning,
            neighbour: |f| {
                f.maps[CUSTOMERS].fields.remove(8);
            },
        },
        Case {
            code: "DW2008",
            map: CURRENCIES,
            trigger: |_| {},
            path: "fields[0].finops",
            severity: Warning,
            // Finops columns as wide as their partners.
            neighbour: |f| {
                for (column, width) in [("CURRENCYCODE", 5), ("NAME", 100), ("SYMBOL", 100)] {
                    f.column(Side::Finops, "Currencies", column).ty =
                        ColumnType::String { max_length: Some(width) };
                }
            },
        },
        Case {
            code: "DW2009",
            map: CURRENCIES,
            trigger: |f| f.maps[CURRENCIES].version = "1.0".into(),
            path: "version",
            severity: Error,
            neighbour: |f| f.maps[CURRENCIES].version = "1.0.0.10".into(),
        },
        Case {
            code: "DW2010",
            map: CURRENCIES,
            trigger: |f| {
                f.field(CURRENCIES, 3).transforms = vec![Transform::Default { default_value: json!("one") }]
            },
            path: "fields[3].transforms[0].defaultValue",
            severity: Error,
            neighbour: |f| {
                f.field(CURRENCIES, 3).transforms = vec![Transform::Default { default_value: json!("1") }]
            },
        },
        Case {
            code: "DW2011",
            map: CURRENCIES,
            trigger: |f| f.keys.set_manual("transactioncurrency", vec!["isocode".into()]),
            path: "dataverse",
            severity: Error,
            neighbour: |f| f.keys.set_manual("transactioncurrency", vec!["isocurrencycode".into()]),
        },
        Case {
            code: "DW2012",
            map: CUSTOMERS,
            trigger: |f| remove_entry(f.field(CUSTOMERS, 10), "never"),
            path: "fields[10].transforms[0].valueMap",
            severity: Warning,
            neighbour: |f| rename_key(f.field(CUSTOMERS, 10), "never", "NEVER"),
        },
    ]
}

fn value_map(field: &mut FieldMapping) -> &mut ValueMap {
    match field.transforms.first_mut() {
        Some(Transform::ValueMap { value_map }) => value_map,
        _ => panic!("the field has a value map"),
    }
}

fn set_value(field: &mut FieldMapping, key: &str, value: serde_json::Value) {
    let entry = value_map(field).entries.iter_mut().find(|(k, _)| k == key).expect("entry");
    entry.1 = value;
}

fn rename_key(field: &mut FieldMapping, from: &str, to: &str) {
    let entry = value_map(field).entries.iter_mut().find(|(k, _)| k == from).expect("entry");
    entry.0 = to.to_owned();
}

fn remove_entry(field: &mut FieldMapping, key: &str) {
    value_map(field).entries.retain(|(k, _)| k != key);
}

#[test]
fn every_code_is_triggered_where_expected_and_not_by_its_near_neighbour() {
    let mut failures = Vec::new();
    for case in cases() {
        let mut fixture = Fixture::contoso();
        (case.trigger)(&mut fixture);
        let found = fixture.diagnostics(case.map);
        let hit = found.iter().find(|d| d.code == case.code && d.path == case.path);
        match hit {
            None => failures.push(format!("{} not at `{}`; got {found:#?}", case.code, case.path)),
            Some(d) if d.severity != case.severity => {
                failures.push(format!("{} is a {}", case.code, d.severity))
            }
            Some(_) => {}
        }
        let mut fixture = Fixture::contoso();
        (case.neighbour)(&mut fixture);
        let near = fixture.diagnostics(case.map);
        if let Some(d) = near.iter().find(|d| d.code == case.code) {
            failures.push(format!("the neighbour of {} triggers it: {d}", case.code));
        }
        if let Some(d) = near.iter().find(|d| d.is_error()) {
            failures.push(format!("the neighbour of {} has an error: {d}", case.code));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn every_documented_code_has_a_case() {
    let covered: Vec<&str> = cases().iter().map(|c| c.code).collect();
    let documented = [
        "DIPV1002", "DIPV1003", "DIPV1004", "DIPV1010", "DIPV1011", "DIPV1012", "DIPV1014", "DIPV1015",
        "DIPV1021", "DIPV1022", "DIPV1023", "DIPV1024", "DIPV1025", "DIPV1026", "DIPV1027", "DIPV1028",
        "DIPV1029", "DIPV1030", "DIPV1031",
    ];
    for code in documented {
        assert!(covered.contains(&code), "{code} has no case");
    }
}

#[test]
fn messages_are_lowercase_and_name_what_to_do() {
    for case in cases() {
        let mut fixture = Fixture::contoso();
        (case.trigger)(&mut fixture);
        for d in fixture.diagnostics(case.map) {
            let first = d.message.chars().next().expect("a message");
            assert!(!first.is_uppercase(), "{d}");
            let advises = ["; ", ": "].iter().any(|s| d.message.contains(s));
            assert!(advises, "a message says what is wrong and how to fix it: {d}");
        }
    }
}

#[test]
fn the_fixture_maps_have_no_errors_one_by_one() {
    let fixture = Fixture::contoso();
    for (i, map) in fixture.maps.iter().enumerate() {
        let errors: Vec<String> =
            fixture.diagnostics(i).iter().filter(|d| d.is_error()).map(|d| d.to_string()).collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", map.name);
    }
}

#[test]
fn the_legal_entities_map_is_not_asked_for_finops_required_columns_it_never_writes() {
    let fixture = Fixture::contoso();
    let legal = fixture.diagnostics(LEGAL_ENTITIES);
    assert!(!legal.iter().any(|d| d.code == "DIPV1010"), "{legal:#?}");
    // Made bidirectional, the same map now writes finops, and the required NAME... is mapped; drop it.
    let mut fixture = Fixture::contoso();
    fixture.maps[LEGAL_ENTITIES].fields[1].direction = Direction::Both;
    fixture.maps[LEGAL_ENTITIES].fields.remove(0);
    let found = fixture.diagnostics(LEGAL_ENTITIES);
    let d = found.iter().find(|d| d.code == "DIPV1010").expect("NAME is required on finops");
    assert!(d.message.contains("`NAME`"), "{d}");
}

#[test]
fn several_alternate_keys_name_the_chosen_one_and_the_others() {
    let mut fixture = Fixture::contoso();
    let by_name = AlternateKey { name: "by_name".into(), columns: vec!["currencyname".into()] };
    fixture.dataverse("transactioncurrency").alternate_keys.push(by_name);
    fixture.keys.remove("transactioncurrency");
    let found = fixture.diagnostics(CURRENCIES);
    let d = found.iter().find(|d| d.code == "DW2002").expect("DW2002");
    assert!(d.message.contains("`transactioncurrency_key` (isocurrencycode)"), "{d}");
    assert!(d.message.contains("`by_name` is not"), "{d}");
}

#[test]
fn a_mapping_with_two_problems_reports_both() {
    let mut fixture = Fixture::contoso();
    fixture.maps[CURRENCIES].version = "one".into();
    fixture.maps[CURRENCIES].fields[1].finops = Some("NAMEE".into());
    let codes: Vec<String> = fixture.diagnostics(CURRENCIES).into_iter().map(|d| d.code).collect();
    assert!(codes.contains(&"DW2009".to_owned()) && codes.contains(&"DIPV1022".to_owned()), "{codes:?}");
}

#[test]
fn without_a_schema_only_schema_free_checks_run() {
    let mut fixture = Fixture::contoso();
    fixture.maps[CURRENCIES].version = "1.0".into();
    fixture.maps[CURRENCIES].dataverse = "no_such_table".into();
    fixture.maps[CURRENCIES].finops_filter = Some("((CURRENCYCODE != ".into());
    let codes: Vec<String> =
        validate_structure(&fixture.maps[CURRENCIES], &fixture.maps).into_iter().map(|d| d.code).collect();
    assert_eq!(codes, ["DW2009", "DIPV1012"]);
}

#[test]
fn a_package_reports_duplicate_names_and_keys_for_unknown_tables_with_map_paths() {
    let fixture = Fixture::contoso();
    let mut package = Package::from_json(PACKAGE).expect("package");
    let mut copy = package.maps[CURRENCIES].clone();
    copy.fields[0].finops = Some("CURRENCYCOD".into());
    package.maps.push(copy);
    package.integration_keys.insert("nosuchtable".into(), vec!["x".into()]);
    let found = validate_package(&fixture.schema, &package);
    let at = |code: &str| found.iter().find(|d| d.code == code).map(|d| d.path.clone());
    assert_eq!(at("DW2013").as_deref(), Some("maps[4].name"));
    assert_eq!(at("DW2014").as_deref(), Some("integration_keys.nosuchtable"));
    assert_eq!(at("DIPV1022").as_deref(), Some("maps[4].fields[0].finops"));
}

#[test]
fn an_unknown_table_names_the_closest_and_an_alias_names_the_table() {
    let mut f = Fixture::contoso();
    f.maps[CUSTOMERS].finops = "Customers V2".into();
    f.maps[CUSTOMERS].dataverse = "accounts".into();
    let diagnostics = validate(&f.schema, &f.keys, &f.maps[CUSTOMERS], &f.maps);
    let message = |code: &str| {
        diagnostics.iter().find(|d| d.code == code).map(|d| d.message.clone()).unwrap_or_default()
    };
    assert!(message("DIPV1018").contains("did you mean CustCustomerV3Entity?"), "{diagnostics:?}");
    assert_eq!(
        message("DIPV1020"),
        "`accounts` is an alias of dataverse table account; name the table account"
    );
}
