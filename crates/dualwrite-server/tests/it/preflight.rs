//! Preflight: every problem kind seen on each side with its rows and counts, a clean dataset ready,
//! nothing written, and the initial sync then doing exactly what preflight said.

use std::collections::BTreeSet;

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::support::TestApp;

/// Items with a category lookup/reference, a value map that leaves `retired` out, lengths that differ
/// between the sides, a price required in Dataverse only, and an integration key on the item's name
/// (not unique, not required), so that every problem can be seeded.
fn schema() -> Value {
    json!({
        "format": "dualwrite.schema/v1",
        "companies": ["USMF", "DEMF"],
        "finops": [
            {"name": "Categories", "company_specific": true, "key": ["CODE"], "columns": [
                {"name": "CODE", "type": "string", "max_length": 10, "required": true}]},
            {"name": "Items", "company_specific": true, "key": ["ITEMNUMBER"], "columns": [
                {"name": "ITEMNUMBER", "type": "string", "max_length": 20, "required": true},
                {"name": "NAME", "type": "string", "max_length": 10},
                {"name": "PRICE", "type": "decimal"},
                {"name": "STATUS", "type": "enum", "values": ["active", "blocked", "retired"]},
                {"name": "CATEGORY", "type": "string", "max_length": 10, "references": {"table": "Categories", "column": "CODE"}}]}
        ],
        "dataverse": [
            {"name": "cdm_company", "company_specific": false, "columns": [
                {"name": "cdm_companycode", "type": "string", "max_length": 4, "required": true}],
             "alternate_keys": [{"name": "cdm_company_key", "columns": ["cdm_companycode"]}]},
            {"name": "category", "company_specific": true, "columns": [
                {"name": "code", "type": "string", "max_length": 10, "required": true},
                {"name": "msdyn_company", "type": "lookup", "target": "cdm_company", "required": true}],
             "alternate_keys": [{"name": "category_key", "columns": ["code", "msdyn_company"]}]},
            {"name": "item", "company_specific": true, "columns": [
                {"name": "itemnumber", "type": "string", "max_length": 20},
                {"name": "name", "type": "string", "max_length": 30},
                {"name": "price", "type": "decimal", "required": true},
                {"name": "statuscode", "type": "option", "values": [1, 2, 3]},
                {"name": "categoryid", "type": "lookup", "target": "category"},
                {"name": "msdyn_company", "type": "lookup", "target": "cdm_company", "required": true}],
             "alternate_keys": [{"name": "item_key", "columns": ["itemnumber", "msdyn_company"]}]}
        ]
    })
}

fn package() -> Value {
    json!({
        "format": "dualwrite.package/v1",
        "maps": [
            {"name": "Items (items)", "version": "1.0.0.0", "publisher": "test", "finops": "Items", "dataverse": "item", "fields": [
                {"finops": "ITEMNUMBER", "dataverse": "itemnumber", "direction": "both"},
                {"finops": "NAME", "dataverse": "name", "direction": "both"},
                {"finops": "PRICE", "dataverse": "price", "direction": "both"},
                {"finops": "STATUS", "dataverse": "statuscode", "direction": "both",
                 "transforms": [{"transformType": "ValueMap", "valueMap": {"active": "1", "blocked": "2"}}]},
                {"finops": "CATEGORY", "dataverse": "categoryid.code", "direction": "both"}]},
            {"name": "Categories (categories)", "version": "1.0.0.0", "publisher": "test", "finops": "Categories", "dataverse": "category", "fields": [
                {"finops": "CODE", "dataverse": "code", "direction": "both"}]}
        ],
        "integration_keys": {"item": ["name", "msdyn_company.cdm_companycode"], "category": ["code", "msdyn_company.cdm_companycode"]}
    })
}

async fn items_app() -> (TestApp, String) {
    let app = TestApp::new().await;
    let (status, body) = app.put("/api/v1/schema", schema()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app.post("/api/v1/packages/import", package()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    app.write("dataverse", json!([
        {"op": "insert", "table": "cdm_company", "row": {"cdm_companycode": "USMF"}},
        {"op": "insert", "table": "cdm_company", "row": {"cdm_companycode": "DEMF"}},
        {"op": "insert", "table": "category", "row": {"code": "TOOLS", "msdyn_company.cdm_companycode": "USMF"}},
        {"op": "insert", "table": "category", "row": {"code": "DVONLY", "msdyn_company.cdm_companycode": "USMF"}},
    ]))
    .await;
    app.write(
        "finops",
        json!([
            {"op": "insert", "table": "Categories", "row": {"dataAreaId": "USMF", "CODE": "TOOLS"}},
            {"op": "insert", "table": "Categories", "row": {"dataAreaId": "USMF", "CODE": "FOONLY"}},
        ]),
    )
    .await;
    let id = app.map_id("Items (items)").await;
    (app, id)
}

fn finops_item(number: &str, fields: Value) -> Value {
    let mut row = json!({"dataAreaId": "USMF", "ITEMNUMBER": number, "PRICE": 1.5, "STATUS": "active"});
    if let (Value::Object(r), Value::Object(f)) = (&mut row, fields) {
        r.extend(f);
    }
    json!({"op": "insert", "table": "Items", "row": row})
}

fn dataverse_item(number: &str, fields: Value) -> Value {
    let mut row =
        json!({"msdyn_company.cdm_companycode": "USMF", "itemnumber": number, "price": 1.5, "statuscode": 1});
    if let (Value::Object(r), Value::Object(f)) = (&mut row, fields) {
        r.extend(f);
    }
    json!({"op": "insert", "table": "item", "row": row})
}

/// One dataset with every problem on each side it can occur on, and some rows that sync cleanly.
async fn seed_problems(app: &TestApp) {
    app.write(
        "finops",
        json!([
            finops_item("F-OK", json!({"NAME": "Hammer", "CATEGORY": "TOOLS"})),
            finops_item("F-NULL", json!({})),
            finops_item("F-DUP1", json!({"NAME": "Gadget"})),
            finops_item("F-DUP2", json!({"NAME": "GADGET "})),
            finops_item("F-LOOKUP", json!({"NAME": "Saw", "CATEGORY": "FOONLY"})),
            finops_item("F-REQ", json!({"NAME": "Drill", "PRICE": null})),
            finops_item("F-VMAP", json!({"NAME": "Anvil", "STATUS": "retired"})),
        ]),
    )
    .await;
    app.write(
        "dataverse",
        json!([
            dataverse_item("D-OK", json!({"name": "Wrench"})),
            dataverse_item("D-NULL", json!({"name": null})),
            dataverse_item("D-EMPTY", json!({"name": "  "})),
            dataverse_item("D-DUP1", json!({"name": "Widget"})),
            dataverse_item("D-DUP2", json!({"name": "widget"})),
            dataverse_item("D-REF", json!({"name": "Pliers", "categoryid.code": "DVONLY"})),
            dataverse_item("D-VMAP", json!({"name": "Chisel", "statuscode": 3})),
            dataverse_item("D-LONG", json!({"name": "A name longer than ten"})),
        ]),
    )
    .await;
}

async fn preflight(app: &TestApp, id: &str, master: &str) -> Value {
    let (status, report) = app.post(&format!("/api/v1/maps/{id}/preflight"), json!({"master": master})).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    report
}

fn problem<'r>(report: &'r Value, code: &str) -> &'r Value {
    report["problems"].as_array().into_iter().flatten().find(|p| p["code"] == code).unwrap_or(&Value::Null)
}

fn rows_of(problem: &Value) -> BTreeSet<(String, String)> {
    problem["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|i| {
            (
                i["side"].as_str().unwrap_or_default().to_owned(),
                i["key"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn set(rows: &[(&str, &str)]) -> BTreeSet<(String, String)> {
    rows.iter().map(|(s, k)| ((*s).to_owned(), (*k).to_owned())).collect()
}

#[tokio::test]
async fn a_clean_dataset_is_ready_and_its_counts_add_up() {
    let (app, id) = items_app().await;
    app.write(
        "finops",
        json!([
            finops_item("F1", json!({"NAME": "Hammer"})),
            finops_item("F2", json!({"NAME": "Saw", "PRICE": 9}))
        ]),
    )
    .await;
    app.write(
        "dataverse",
        json!([
            dataverse_item("F2", json!({"name": "saw", "price": 7})),
            dataverse_item("D3", json!({"name": "Level"}))
        ]),
    )
    .await;
    let report = preflight(&app, &id, "finops").await;
    assert_eq!(report["ready"], true, "{report}");
    assert_eq!(report["rows"], json!({"finops": 2, "dataverse": 2}));
    assert_eq!(
        (report["matched"].as_u64(), report["equal"].as_u64(), report["conflicts"].as_u64()),
        (Some(1), Some(0), Some(1))
    );
    assert_eq!(report["creates"], json!({"finops": 1, "dataverse": 1}));
    let sample = &report["conflict_samples"][0];
    assert_eq!(
        (sample["key"].as_str(), sample["company"].as_str()),
        (Some("Saw"), Some("USMF")),
        "the master's row named as it holds its key"
    );
    let diffs = sample["diffs"].as_array().cloned().unwrap_or_default();
    let price = diffs.iter().find(|d| d["finops_field"] == "PRICE").expect("the price differs");
    assert_eq!((price["finops"].as_f64(), price["dataverse"].as_f64()), (Some(9.0), Some(7.0)));
    assert_eq!(price["winner"], "finops", "the master keeps its value");
    assert_eq!(report["problems"], json!([]));
}

#[tokio::test]
async fn every_problem_kind_is_reported_on_its_side_with_its_rows_and_counts() {
    let (app, id) = items_app().await;
    seed_problems(&app).await;
    let report = preflight(&app, &id, "dataverse").await;
    assert_eq!(report["ready"], false);
    let expect = [
        ("NULL_KEY", vec![("finops", "(no key)"), ("dataverse", "(no key)"), ("dataverse", "(no key)")]),
        (
            "DUPLICATE_KEY",
            vec![
                ("finops", "Gadget"),
                ("finops", "GADGET "),
                ("dataverse", "Widget"),
                ("dataverse", "widget"),
            ],
        ),
        ("LOOKUP_NOT_FOUND", vec![("finops", "Saw")]),
        ("REFERENCE_NOT_FOUND", vec![("dataverse", "Pliers")]),
        ("REQUIRED_EMPTY", vec![("finops", "Drill")]),
        ("VALUE_NOT_MAPPED", vec![("finops", "Anvil"), ("dataverse", "Chisel")]),
        ("VALUE_TOO_LONG", vec![("dataverse", "A name longer than ten")]),
    ];
    for (code, rows) in expect {
        let p = problem(&report, code);
        assert_eq!(p["total"].as_u64(), Some(rows.len() as u64), "{code}: {p}");
        assert_eq!(rows_of(p), set(&rows), "{code}");
        assert!(p["items"].as_array().into_iter().flatten().all(|i| i["company"] == "USMF"), "{code}: {p}");
    }
    let lookup = &problem(&report, "LOOKUP_NOT_FOUND")["items"][0];
    assert_eq!(
        (lookup["target_table"].as_str(), lookup["bringing_map"].as_str()),
        (Some("category"), Some("Categories (categories)"))
    );
    assert_eq!(lookup["value"], "FOONLY");
    let reference = &problem(&report, "REFERENCE_NOT_FOUND")["items"][0];
    assert_eq!(
        (reference["target_table"].as_str(), reference["bringing_map"].as_str()),
        (Some("Categories"), Some("Categories (categories)"))
    );
    assert_eq!(
        report["creates"],
        json!({"finops": 1, "dataverse": 1}),
        "only the clean rows would be created"
    );

    let (_, page) =
        app.post(&format!("/api/v1/maps/{id}/preflight?problem=NULL_KEY&offset=1&limit=1"), json!({})).await;
    assert_eq!((page["total"].as_u64(), page["items"].as_array().map(Vec::len)), (Some(3), Some(1)));
    let csv = app.post_text(&format!("/api/v1/maps/{id}/preflight?format=csv"), json!({})).await;
    let problems: u64 =
        report["problems"].as_array().into_iter().flatten().filter_map(|p| p["total"].as_u64()).sum();
    assert_eq!(csv.lines().count() as u64, problems + 1, "a header and every problem row:\n{csv}");
    assert!(csv.starts_with("code,side,key,company,field,value,target_table,bringing_map,message\n"));
    assert!(csv.contains("\nVALUE_NOT_MAPPED,finops,Anvil,USMF,"), "{csv}");
}

#[tokio::test]
async fn preflight_writes_nothing_and_the_initial_sync_does_what_it_said() {
    let (app, id) = items_app().await;
    seed_problems(&app).await;
    let events = app.events().await.len();
    let finops = app.rows("finops", "Items", "").await;
    let dataverse = app.rows("dataverse", "item", "").await;
    let report = preflight(&app, &id, "dataverse").await;
    assert_eq!(app.events().await.len(), events, "no event");
    assert_eq!(app.rows("finops", "Items", "").await, finops, "finops untouched");
    assert_eq!(app.rows("dataverse", "item", "").await, dataverse, "dataverse untouched");

    let predicted: BTreeSet<(String, String, String)> = report["problems"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|p| p["items"].as_array().cloned().unwrap_or_default())
        .filter(|i| i["key"] != "(no key)")
        .map(|i| {
            (
                i["side"].as_str().unwrap_or_default().into(),
                i["key"].as_str().unwrap_or_default().into(),
                i["code"].as_str().unwrap_or_default().into(),
            )
        })
        .collect();
    let (status, _) = app
        .post("/api/v1/maps/run", json!({"maps": [{"id": id, "initial_sync": true, "master": "dataverse"}]}))
        .await;
    assert_eq!(status, StatusCode::OK);
    app.wait_for_status(&id, "not_running").await;
    let (_, sync) = app.get(&format!("/api/v1/maps/{id}/initial-sync?limit=1000")).await;
    let happened: BTreeSet<(String, String, String)> = sync["errors"]["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|i| i["key"] != "(no key)")
        .map(|i| {
            (
                i["side"].as_str().unwrap_or_default().into(),
                i["key"].as_str().unwrap_or_default().into(),
                i["code"].as_str().unwrap_or_default().into(),
            )
        })
        .collect();
    assert_eq!(predicted, happened);
    let failed_total: u64 =
        report["problems"].as_array().into_iter().flatten().filter_map(|p| p["total"].as_u64()).sum();
    assert_eq!(sync["errors"]["total"].as_u64(), Some(failed_total), "as many failing rows as predicted");
    assert_eq!(sync["counts"]["dataverse"]["created"], report["creates"]["dataverse"]);
    assert_eq!(sync["counts"]["finops"]["created"], report["creates"]["finops"]);
}
