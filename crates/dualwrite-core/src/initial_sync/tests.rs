use serde_json::json;

use super::*;
use crate::package::Package;

fn row(value: Value) -> Row {
    match value {
        Value::Object(map) => map,
        _ => panic!("a row is an object"),
    }
}

struct Contoso {
    schema: Schema,
    keys: IntegrationKeys,
    package: Package,
}

fn contoso() -> Contoso {
    let schema =
        Schema::from_json(include_str!("../../../../fixtures/contoso/schema.json")).expect("fixture schema");
    let package = Package::from_json(include_str!("../../../../fixtures/contoso/package.json"))
        .expect("fixture package");
    let keys = IntegrationKeys::from_package(&package.integration_keys, Some(&schema));
    Contoso { schema, keys, package }
}

fn currency(code: &str, name: &str) -> Row {
    row(json!({"CURRENCYCODE": code, "NAME": name, "SYMBOL": null}))
}

fn transaction_currency(code: &str, name: &str) -> Row {
    row(json!({"isocurrencycode": code, "currencyname": name, "currencysymbol": null, "exchangerate": 1}))
}

#[test]
fn rows_are_created_updated_compared_and_refused_as_a_user_expects() {
    let c = contoso();
    let finops = vec![
        currency("EUR", "Euro"),
        currency("USD", "US dollar"),
        currency("GBP", "Pound"),
        currency("999", "Filtered out"),
        currency("JPY", "Yen"),
        currency("jpy", "Yen again"),
        currency("", "Empty code"),
    ];
    let dataverse = vec![
        transaction_currency("eur", "Euro"),
        transaction_currency("USD", "Dollar"),
        transaction_currency("CHF", "Franc"),
    ];
    let plan =
        plan(&c.schema, &c.keys, &c.package.maps[1], Side::Dataverse, &finops, &dataverse).expect("plan");

    let created: Vec<(Side, String)> = plan.creates.iter().map(|c| (c.side, c.key.to_string())).collect();
    assert_eq!(created, [(Side::Dataverse, "gbp".to_owned()), (Side::Finops, "chf".to_owned())]);
    let gbp = &plan.creates[0].row;
    assert_eq!(
        gbp.get("exchangerate"),
        Some(&json!(1)),
        "the Default \"1.0000000000\" is written as a decimal"
    );

    assert_eq!(plan.conflicts.len(), 2, "{:#?}", plan.conflicts);
    let usd = plan.conflicts.iter().find(|c| c.key.to_string() == "usd").expect("usd conflicts");
    assert_eq!(usd.diffs.len(), 1);
    assert_eq!(
        (usd.diffs[0].finops.clone(), usd.diffs[0].dataverse.clone()),
        (json!("US dollar"), json!("Dollar"))
    );
    assert_eq!(usd.diffs[0].winner, Side::Dataverse, "the master wins a field mapped both ways");
    let eur =
        plan.conflicts.iter().find(|c| c.key.to_string() == "eur").expect("eur differs in spelling only");
    assert_eq!(eur.diffs[0].dataverse_field.as_deref(), Some("isocurrencycode"));

    let finops_updates: Vec<&Row> = plan.updates_on(Side::Finops).map(|u| &u.fields).collect();
    assert!(finops_updates.contains(&&row(json!({"NAME": "Dollar"}))), "{finops_updates:?}");
    assert!(finops_updates.contains(&&row(json!({"CURRENCYCODE": "eur"}))), "{finops_updates:?}");
    assert_eq!(plan.updates_on(Side::Dataverse).count(), 0);

    assert_eq!(plan.filtered, [Filtered { side: Side::Finops, index: 3 }], "CURRENCYCODE != \"999\"");
    let problems: Vec<(usize, &str)> = plan.problems.iter().map(|p| (p.index, p.code.as_str())).collect();
    assert_eq!(problems, [(6, "NULL_KEY"), (4, "DUPLICATE_KEY"), (5, "DUPLICATE_KEY")]);
}

#[test]
fn a_one_way_field_flows_from_its_source_whatever_the_master() {
    let c = contoso();
    let finops = vec![currency("EUR", "Euro")];
    let mut eur = transaction_currency("EUR", "Euro");
    eur.insert("exchangerate".into(), json!(1.25));
    let plan = plan(&c.schema, &c.keys, &c.package.maps[1], Side::Dataverse, &finops, &[eur]).expect("plan");
    let diff = &plan.conflicts[0].diffs[0];
    assert_eq!((diff.dataverse_field.as_deref(), diff.winner), (Some("exchangerate"), Side::Finops));
    assert_eq!(plan.updates[0].side, Side::Dataverse);
    assert_eq!(plan.updates[0].fields, row(json!({"exchangerate": 1})));
}

#[test]
fn a_twin_whose_value_cannot_be_written_back_fails_both_rows_of_the_pair() {
    let c = contoso();
    let group = |tax: &str| {
        row(json!({"CUSTOMERGROUPID": "10", "DESCRIPTION": "Retail", "ISSALESTAXINCLUDEDINPRICE": tax,
                   "PAYMENTTERMID": null, "CLEARINGPERIODPAYMENTTERMNAME": null, "dataAreaId": "USMF"}))
    };
    let dataverse = vec![row(json!({"msdyn_groupid": "10", "msdyn_description": "Retail",
        "msdyn_issalestaxincludedinprice": "perhaps", "msdyn_company.cdm_companycode": "usmf"}))];
    let finops = [group("no")];
    let planned =
        plan(&c.schema, &c.keys, &c.package.maps[2], Side::Dataverse, &finops, &dataverse).expect("plan");
    let problems: Vec<(Side, &str)> = planned.problems.iter().map(|p| (p.side, p.code.as_str())).collect();
    assert_eq!(problems, [(Side::Finops, "TWIN_FAILED"), (Side::Dataverse, "INVALID_VALUE")]);
    // With finops as master, the finops value simply replaces the invalid one.
    let planned =
        plan(&c.schema, &c.keys, &c.package.maps[2], Side::Finops, &finops, &dataverse).expect("plan");
    assert!(planned.problems.is_empty(), "{:?}", planned.problems);
    assert_eq!(planned.updates[0].fields, row(json!({"msdyn_issalestaxincludedinprice": false})));
}

#[test]
fn a_map_whose_filter_does_not_parse_cannot_be_planned() {
    let mut c = contoso();
    c.package.maps[1].finops_filter = Some("((CURRENCYCODE != ".into());
    let error =
        plan(&c.schema, &c.keys, &c.package.maps[1], Side::Dataverse, &[], &[]).expect_err("bad filter");
    assert!(
        error.to_string().starts_with("map `Currencies (transactioncurrencies)`: finops filter"),
        "{error}"
    );
}
