use serde_json::json;

use super::*;

#[test]
fn each_direction_and_transform_shows_its_documented_icon() {
    let value_map = Transform::ValueMap { value_map: ValueMap::new([("no", json!("False"))]) };
    let mut field = FieldMapping::new("A", "a", Direction::Both);
    let mut icons = Vec::new();
    for direction in [Direction::Both, Direction::ToDataverse, Direction::ToFinops] {
        field.direction = direction;
        field.transforms.clear();
        icons.push(field.icon());
        field.transforms.push(value_map.clone());
        icons.push(field.icon());
    }
    assert_eq!(icons, ["=", "><", ">", "→", "<", "←"]);
}

#[test]
fn versions_are_four_whole_numbers() {
    assert_eq!("1.0.0.12".parse::<MapVersion>().map(|v| v.to_string()), Ok("1.0.0.12".to_owned()));
    for bad in ["1.0", "1.0.0.0.1", "1.0.a.0", "1..0.0", " 1.0.0.0", "-1.0.0.0"] {
        assert!(bad.parse::<MapVersion>().is_err(), "{bad}");
    }
    let (older, newer) = ("1.0.0.2".parse::<MapVersion>(), "1.0.0.10".parse::<MapVersion>());
    assert!(matches!((older, newer), (Ok(a), Ok(b)) if a < b), "revisions compare as numbers");
}

#[test]
fn a_map_reads_and_writes_the_documented_transform_json() {
    let text = r#"{
        "name": "m", "version": "1.0.0.1", "publisher": "p", "finops": "F", "dataverse": "d",
        "fields": [
            {"finops": "A", "dataverse": "a", "direction": "both",
             "transforms": [{"transformType": "ValueMap", "valueMap": {"yes": "True", "no": "False", "0": null}}]},
            {"finops": null, "dataverse": "b", "direction": "to_dataverse",
             "transforms": [{"transformType": "Default", "defaultValue": "3"}]}
        ],
        "dataverse_filter": "b eq 3"
    }"#;
    let map = TableMap::from_json(text).expect("reads");
    let keys: Vec<&str> =
        map.fields[0].value_map().expect("map").entries.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["yes", "no", "0"], "the author's order is kept");
    assert_eq!(map.fields[1].default_value(), Some(&json!("3")));
    let written = map.to_value();
    assert_eq!(written["fields"][0]["transforms"][0]["valueMap"]["0"], serde_json::Value::Null);
    assert_eq!(written["fields"][1]["transforms"][0]["transformType"], "Default");
    assert!(written.get("finops_filter").is_none());
    assert_eq!(TableMap::from_value(&written), Ok(map));
}

#[test]
fn a_broken_map_reports_every_problem_with_its_path() {
    let doc = json!({
        "name": "m", "version": 1, "finops": "F",
        "fields": [
            {"finops": "A", "dataverse": "a", "direction": "left"},
            {"finops": "B", "dataverse": "b", "direction": "both", "transforms": [{"transformType": "ValueMap"}]},
            {"finops": "C", "dataverse": "c", "direction": "both", "note": "x"}
        ]
    });
    let error = TableMap::from_value(&doc).expect_err("broken");
    let paths: Vec<&str> = error.problems.iter().map(|p| p.path.as_str()).collect();
    assert_eq!(
        paths,
        ["version", "dataverse", "fields[0].direction", "fields[1].transforms[0].valueMap", "fields[2].note"],
        "{error}"
    );
}

#[test]
fn replacing_a_map_lists_each_property_and_field_that_changes() {
    let mut before = TableMap::empty();
    before.name = "Currencies (transactioncurrencies)".into();
    before.version = "1.0.0.1".into();
    before.fields = vec![
        FieldMapping::new("CURRENCYCODE", "isocurrencycode", Direction::Both),
        FieldMapping::new("NAME", "currencyname", Direction::Both),
    ];
    let mut after = before.clone();
    after.version = "1.0.0.2".into();
    after.description = "Currencies from finance and operations".into();
    after.fields[0].direction = Direction::ToDataverse;
    after.fields.remove(1);
    after.fields.push(FieldMapping::new("SYMBOL", "currencysymbol", Direction::Both));
    let found: Vec<(String, Value, Value)> =
        changes(&before, &after).into_iter().map(|c| (c.path, c.before, c.after)).collect();
    assert_eq!(
        found,
        [
            ("version".to_owned(), json!("1.0.0.1"), json!("1.0.0.2")),
            ("description".to_owned(), json!(""), json!("Currencies from finance and operations")),
            (
                "fields[CURRENCYCODE/isocurrencycode].direction".to_owned(),
                json!("both"),
                json!("to_dataverse")
            ),
            (
                "fields[SYMBOL/currencysymbol]".to_owned(),
                Value::Null,
                json!({"finops": "SYMBOL", "dataverse": "currencysymbol", "direction": "both"})
            ),
            (
                "fields[NAME/currencyname]".to_owned(),
                json!({"finops": "NAME", "dataverse": "currencyname", "direction": "both"}),
                Value::Null
            ),
        ]
    );
    assert!(changes(&after, &after).is_empty(), "a map equal to the stored one changes nothing");
}
