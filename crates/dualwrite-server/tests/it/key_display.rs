//! How rows are named where they are listed: initial-sync errors and preflight problems show a row's
//! key values as the row holds them (case and spacing kept), its company in a field of its own, and
//! searching them ignores case.

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::lifecycle::{customer, customers_ready, run, CUSTOMERS};
use crate::support::{TestApp, TestDb};

/// The failed rows of the map's latest initial sync that match `search`.
async fn errors_found(app: &TestApp, id: &str, search: &str) -> Vec<Value> {
    let (status, sync) = app.get(&format!("/api/v1/maps/{id}/initial-sync?search={search}")).await;
    assert_eq!(status, StatusCode::OK, "{sync}");
    sync["errors"]["items"].as_array().cloned().unwrap_or_default()
}

async fn keys_are_shown_as_the_row_holds_them_on(db: TestDb) {
    let app = TestApp::on(db).await.with_contoso().await;
    customers_ready(&app).await;
    // A DEMF customer whose contact person does not exist in Dataverse: its lookup fails.
    app.write("finops", json!([customer("De-100", "CP-404"), customer("OK-1", "CP-001")])).await;
    let id = app.map_id(CUSTOMERS).await;

    let (status, report) =
        app.post(&format!("/api/v1/maps/{id}/preflight"), json!({"master": "finops"})).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let lookup = report["problems"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["code"] == "LOOKUP_NOT_FOUND")
        .cloned()
        .unwrap_or_default();
    let item = &lookup["items"][0];
    assert_eq!((item["key"].as_str(), item["company"].as_str()), (Some("De-100"), Some("DEMF")), "{lookup}");
    let (_, page) = app
        .post(&format!("/api/v1/maps/{id}/preflight?problem=LOOKUP_NOT_FOUND"), json!({"master": "finops"}))
        .await;
    assert_eq!(
        (page["items"][0]["key"].as_str(), page["items"][0]["company"].as_str()),
        (Some("De-100"), Some("DEMF")),
        "{page}"
    );
    let csv =
        app.post_text(&format!("/api/v1/maps/{id}/preflight?format=csv"), json!({"master": "finops"})).await;
    let mut lines = csv.lines();
    assert!(lines.next().is_some_and(|h| h.starts_with("code,side,key,company,field,")), "{csv}");
    assert!(lines.any(|l| l.starts_with("LOOKUP_NOT_FOUND,finops,De-100,DEMF,")), "{csv}");

    run(&app, json!([{"id": id, "initial_sync": true, "master": "finops"}])).await;
    app.wait_for_status(&id, "not_running").await;
    let all = errors_found(&app, &id, "").await;
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(
        (all[0]["key"].as_str(), all[0]["company"].as_str(), all[0]["code"].as_str()),
        (Some("De-100"), Some("DEMF"), Some("LOOKUP_NOT_FOUND"))
    );
    for search in ["de-100", "DE-100", "demf", "lookup_not"] {
        let found = errors_found(&app, &id, search).await;
        assert_eq!(found.len(), 1, "`{search}` finds the row: {found:?}");
    }
    assert_eq!(errors_found(&app, &id, "usmf").await.len(), 0, "another company finds nothing");
}

#[tokio::test]
async fn failed_rows_are_named_by_their_own_key_values_and_company() {
    for db in TestDb::all() {
        keys_are_shown_as_the_row_holds_them_on(db).await;
    }
}

/// A customer invoiced to an account that fails to copy: its self-reference, written in the second
/// pass, fails too, and is listed under the referring row's own key and company.
async fn a_failed_self_reference_is_named_by_its_row_on(db: TestDb) {
    let app = TestApp::on(db).await.with_contoso().await;
    customers_ready(&app).await;
    let mut invoiced = customer("De-301", "CP-001");
    invoiced["row"]["INVOICEACCOUNT"] = json!("De-300");
    app.write("finops", json!([customer("De-300", "CP-404"), invoiced])).await;
    let id = app.map_id(CUSTOMERS).await;
    run(&app, json!([{"id": id, "initial_sync": true, "master": "finops"}])).await;
    app.wait_for_status(&id, "not_running").await;
    let mut named: Vec<(String, String)> = errors_found(&app, &id, "")
        .await
        .iter()
        .map(|e| {
            let field = |f: &str| e[f].as_str().unwrap_or_default().to_owned();
            (field("key"), field("company"))
        })
        .collect();
    named.sort();
    assert_eq!(
        named,
        [("De-300".to_owned(), "DEMF".to_owned()), ("De-301".to_owned(), "DEMF".to_owned())],
        "the failed row and the row whose reference to it failed"
    );
    let referring = errors_found(&app, &id, "de-301").await;
    assert_eq!(referring.len(), 1, "{referring:?}");
    assert!(
        referring[0]["message"].as_str().is_some_and(|m| m.contains("reference to its own table")),
        "written in the second pass: {referring:?}"
    );
}

#[tokio::test]
async fn a_failed_self_reference_is_named_by_its_row() {
    for db in TestDb::all() {
        a_failed_self_reference_is_named_by_its_row_on(db).await;
    }
}
