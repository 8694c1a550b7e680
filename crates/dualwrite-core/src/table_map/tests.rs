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
