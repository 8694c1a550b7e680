//! The lifecycle runtime: initial sync, pause and ordered catch-up, resume modes, catch-up errors,
//! alerts and availability.

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::support::{TestApp, TestDb};

const CURRENCIES: &str = "Currencies (transactioncurrencies)";
pub(crate) const CUSTOMERS: &str = "Customers V3 (accounts)";

pub(crate) async fn run(app: &TestApp, maps: Value) {
    let (status, body) = app.post("/api/v1/maps/run", json!({ "maps": maps })).await;
    assert_eq!(status, StatusCode::OK, "run: {body}");
}

async fn currency_name(app: &TestApp, side: &str, code: &str) -> Value {
    match side {
        "finops" => {
            app.row("finops", "Currencies", &format!("CURRENCYCODE == \"{code}\"")).await["NAME"].clone()
        }
        _ => app.row("dataverse", "transactioncurrency", &format!("isocurrencycode eq '{code}'")).await
            ["currencyname"]
            .clone(),
    }
}

/// Contoso with competing currency rows on both sides: EUR on both with different names, USD only
/// in finops, GBP only in Dataverse.
async fn competing_currencies(db: TestDb) -> (TestApp, String) {
    let app = TestApp::on(db).await.with_contoso().await;
    app.write("finops", json!([
        {"op": "insert", "table": "Currencies", "row": {"CURRENCYCODE": "EUR", "NAME": "Euro (finops)", "SYMBOL": "€"}},
        {"op": "insert", "table": "Currencies", "row": {"CURRENCYCODE": "USD", "NAME": "US Dollar", "SYMBOL": "$"}},
    ]))
    .await;
    app.write("dataverse", json!([
        {"op": "insert", "table": "transactioncurrency", "row": {"isocurrencycode": "eur", "currencyname": "Euro (dataverse)", "currencysymbol": "€"}},
        {"op": "insert", "table": "transactioncurrency", "row": {"isocurrencycode": "GBP", "currencyname": "Pound", "currencysymbol": "£"}},
    ]))
    .await;
    let id = app.map_id(CURRENCIES).await;
    (app, id)
}

async fn initial_sync_master_wins(db: TestDb, master: &str, expected: &str) {
    let (app, id) = competing_currencies(db).await;
    run(&app, json!([{"id": id, "initial_sync": true, "master": master}])).await;
    app.wait_for_status(&id, "running").await;
    assert_eq!(currency_name(&app, "finops", "EUR").await, expected, "master {master} wins in finops");
    assert_eq!(currency_name(&app, "dataverse", "EUR").await, expected, "master {master} wins in dataverse");
    assert_eq!(
        currency_name(&app, "dataverse", "USD").await,
        "US Dollar",
        "finops-only row created in Dataverse"
    );
    assert_eq!(currency_name(&app, "finops", "GBP").await, "Pound", "Dataverse-only row created in finops");
    let (_, sync) = app.get(&format!("/api/v1/maps/{id}/initial-sync")).await;
    assert_eq!(sync["status"], "completed", "{sync}");
    assert_eq!(sync["counts"]["conflicts"], 1);
    assert_eq!(sync["counts"]["dataverse"]["created"], 1);
    assert_eq!(sync["counts"]["finops"]["created"], 1);
    assert_eq!(sync["progress"]["done"], sync["progress"]["total"]);
    assert_eq!(sync["errors"]["total"], 0);
}

#[tokio::test]
async fn initial_sync_with_master_dataverse_keeps_dataverse_values() {
    initial_sync_master_wins(TestDb::sqlite(), "dataverse", "Euro (dataverse)").await;
}

#[tokio::test]
async fn initial_sync_with_master_finops_keeps_finops_values() {
    initial_sync_master_wins(TestDb::sqlite(), "finops", "Euro (finops)").await;
}

#[cfg_attr(not(postgres_tests), ignore = "needs PostgreSQL: set DUALWRITE_TEST_POSTGRES_URL")]
#[tokio::test]
async fn initial_sync_on_postgres() {
    if let Some(db) = TestDb::postgres() {
        initial_sync_master_wins(db, "finops", "Euro (finops)").await;
    }
}

/// Contoso with the upstream maps running live and their reference rows present.
pub(crate) async fn customers_ready(app: &TestApp) {
    for name in ["Legal entities (cdm_companies)", CURRENCIES, "Customer groups (msdyn_customergroups)"] {
        run(app, json!([{"id": app.map_id(name).await, "initial_sync": false}])).await;
    }
    app.write("finops", json!([
        {"op": "insert", "table": "LegalEntities", "row": {"LEGALENTITYID": "DEMF", "NAME": "Contoso Germany"}},
        {"op": "insert", "table": "Currencies", "row": {"CURRENCYCODE": "EUR", "NAME": "Euro"}},
        {"op": "insert", "table": "CustCustomerGroupEntity", "row": {"dataAreaId": "DEMF", "CUSTOMERGROUPID": "10"}},
    ]))
    .await;
    app.write("dataverse", json!([{"op": "insert", "table": "msdyn_contactforparty", "row": {"msdyn_contactforpartynumber": "CP-001"}}]))
        .await;
}

/// A DEMF customer in group 10, paying in euros, with contact person `contact`.
pub(crate) fn customer(account: &str, contact: &str) -> Value {
    json!({"op": "insert", "table": "CustCustomerV3Entity", "row": {
        "dataAreaId": "DEMF", "CUSTOMERACCOUNT": account, "SALESCURRENCYCODE": "EUR", "CUSTOMERGROUPID": "10",
        "PARTYTYPE": "Organization", "CONTACTPERSONID": contact,
    }})
}

#[tokio::test]
async fn every_failing_row_of_an_initial_sync_is_listed_and_the_map_stays_stopped() {
    let app = TestApp::new().await.with_contoso().await;
    customers_ready(&app).await;
    let mut ops: Vec<Value> =
        (1..=12).map(|n| customer(&format!("BAD{n:02}"), &format!("CP-9{n:02}"))).collect();
    ops.extend((1..=5).map(|n| customer(&format!("OK{n:02}"), "CP-001")));
    app.write("finops", Value::Array(ops)).await;
    let id = app.map_id(CUSTOMERS).await;
    run(&app, json!([{"id": id, "initial_sync": true, "master": "finops"}])).await;
    app.wait_for_status(&id, "not_running").await;
    let (_, sync) = app.get(&format!("/api/v1/maps/{id}/initial-sync?limit=100")).await;
    assert_eq!(sync["status"], "failed");
    assert_eq!(sync["errors"]["total"], 12, "{sync}");
    let mut keys: Vec<&str> =
        sync["errors"]["items"].as_array().into_iter().flatten().filter_map(|e| e["key"].as_str()).collect();
    keys.sort_unstable();
    let expected: Vec<String> = (1..=12).map(|n| format!("BAD{n:02}")).collect();
    assert_eq!(keys, expected.iter().map(String::as_str).collect::<Vec<_>>(), "keys as the rows hold them");
    assert!(
        sync["errors"]["items"].as_array().into_iter().flatten().all(|e| e["company"] == "DEMF"),
        "the company apart: {sync}"
    );
    assert!(sync["errors"]["items"]
        .as_array()
        .into_iter()
        .flatten()
        .all(|e| e["code"] == "LOOKUP_NOT_FOUND"));
    assert_eq!(sync["counts"]["finops"]["failed"], 12);
    assert_eq!(sync["by_company"]["DEMF"]["finops"]["failed"], 12);
    assert_eq!(app.rows("dataverse", "account", "").await.len(), 5, "the good rows were copied");
    let (_, page) = app.get(&format!("/api/v1/maps/{id}/initial-sync?search=BAD07")).await;
    assert_eq!(page["errors"]["total"], 1, "errors are searchable");

    // Fix the cause and rerun with the errors: the map goes live.
    let contacts: Vec<Value> = (1..=12)
        .map(|n| json!({"op": "insert", "table": "msdyn_contactforparty", "row": {"msdyn_contactforpartynumber": format!("CP-9{n:02}")}}))
        .collect();
    app.write("dataverse", Value::Array(contacts)).await;
    let (status, _) =
        app.post(&format!("/api/v1/maps/{id}/initial-sync/rerun"), json!({"retry_errors": true})).await;
    assert_eq!(status, StatusCode::OK);
    app.wait_for_status(&id, "running").await;
    assert_eq!(app.rows("dataverse", "account", "").await.len(), 17);
}

/// An account whose vendor was deleted after it was linked: the link dangles, so the map reads the
/// account's vendor as empty, the same as the finops customer's. The initial sync updates the
/// account's credit rating, which differs, and leaves the link as it found it.
async fn an_initial_sync_update_keeps_what_it_does_not_change(db: TestDb) {
    let backend = db.backend;
    let app = TestApp::on(db).await.with_contoso().await;
    customers_ready(&app).await;
    app.write("finops", json!([{"op": "insert", "table": "CustCustomerV3Entity", "row": {
        "dataAreaId": "DEMF", "CUSTOMERACCOUNT": "C1", "SALESCURRENCYCODE": "EUR", "CUSTOMERGROUPID": "10",
        "PARTYTYPE": "Organization", "CONTACTPERSONID": "CP-001", "CREDITRATING": "A",
    }}]))
    .await;
    app.write("dataverse", json!([
        {"op": "insert", "table": "msdyn_vendor", "row": {"msdyn_vendoraccountnumber": "V1", "msdyn_company.cdm_companycode": "DEMF"}},
        {"op": "insert", "table": "account", "row": {
            "accountnumber": "C1", "msdyn_company.cdm_companycode": "DEMF", "customertypecode": 3, "msdyn_creditrating": "B",
            "msdyn_primarycontact.msdyn_contactforpartynumber": "CP-001",
            "msdyn_vendor.msdyn_vendoraccountnumber": "V1",
        }},
        {"op": "delete", "table": "msdyn_vendor", "key": {"msdyn_vendoraccountnumber": "V1", "msdyn_company.cdm_companycode": "DEMF"}},
    ]))
    .await;
    let linked = app.row("dataverse", "account", "accountnumber eq 'C1'").await["msdyn_vendor"].clone();
    assert!(linked.is_string(), "{backend}: the account is linked to its vendor: {linked}");

    let id = app.map_id(CUSTOMERS).await;
    run(&app, json!([{"id": id, "initial_sync": true, "master": "finops"}])).await;
    app.wait_for_status(&id, "running").await;
    let account = app.row("dataverse", "account", "accountnumber eq 'C1'").await;
    assert_eq!(account["msdyn_creditrating"], "A", "{backend}: the master's rating was copied: {account}");
    assert_eq!(account["msdyn_vendor"], linked, "{backend}: the link was left alone: {account}");
}

#[tokio::test]
async fn an_initial_sync_update_leaves_the_fields_it_does_not_change_alone() {
    for db in TestDb::all() {
        an_initial_sync_update_keeps_what_it_does_not_change(db).await;
    }
}

/// The twin writes of the audit trail for `table`, oldest first, as the values of `field`.
async fn twin_values(app: &TestApp, table: &str, field: &str) -> Vec<Value> {
    app.events()
        .await
        .into_iter()
        .filter(|e| e["kind"] == "twin_write" && e["table"] == table)
        .map(|e| e["values"][field].clone())
        .collect()
}

async fn live_currencies(db: TestDb) -> (TestApp, String) {
    let app = TestApp::on(db).await.with_contoso().await;
    let id = app.map_id(CURRENCIES).await;
    run(&app, json!([{"id": id, "initial_sync": false}])).await;
    app.write(
        "finops",
        json!([{"op": "insert", "table": "Currencies", "row": {"CURRENCYCODE": "EUR", "NAME": "Euro"}}]),
    )
    .await;
    (app, id)
}

async fn rename(app: &TestApp, name: &str) {
    app.write("finops", json!([{"op": "update", "table": "Currencies", "key": {"CURRENCYCODE": "EUR"}, "row": {"NAME": name}}])).await;
}

async fn paused_with_a_b_c(db: TestDb) -> (TestApp, String) {
    let (app, id) = live_currencies(db).await;
    let (status, body) = app.post(&format!("/api/v1/maps/{id}/pause"), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for name in ["A", "B", "C"] {
        rename(&app, name).await;
    }
    assert_eq!(currency_name(&app, "dataverse", "EUR").await, "Euro", "nothing synced while paused");
    let (_, queue) = app.get(&format!("/api/v1/maps/{id}/queue?key=EUR")).await;
    assert_eq!(queue["total"], 3, "{queue}");
    let (_, maps) = app.get("/api/v1/maps").await;
    let listed = maps["items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|m| m["id"] == id.as_str())
        .cloned()
        .unwrap_or_default();
    assert_eq!(listed["queued"], 3);
    (app, id)
}

async fn pause_then_catch_up_replays_in_order(db: TestDb) {
    let (app, id) = paused_with_a_b_c(db).await;
    let (status, _) = app.post(&format!("/api/v1/maps/{id}/resume"), json!({"mode": "catch_up"})).await;
    assert_eq!(status, StatusCode::OK);
    app.wait_for_status(&id, "running").await;
    assert_eq!(twin_values(&app, "transactioncurrency", "currencyname").await, ["Euro", "A", "B", "C"]);
    assert_eq!(currency_name(&app, "dataverse", "EUR").await, "C");
    let (_, queue) = app.get(&format!("/api/v1/maps/{id}/queue")).await;
    assert_eq!(queue["total"], 0);
}

#[tokio::test]
async fn a_paused_map_replays_a_b_c_in_order_on_catch_up() {
    pause_then_catch_up_replays_in_order(TestDb::sqlite()).await;
}

#[cfg_attr(not(postgres_tests), ignore = "needs PostgreSQL: set DUALWRITE_TEST_POSTGRES_URL")]
#[tokio::test]
async fn a_paused_map_replays_a_b_c_in_order_on_catch_up_on_postgres() {
    if let Some(db) = TestDb::postgres() {
        pause_then_catch_up_replays_in_order(db).await;
    }
}

#[tokio::test]
async fn skip_preserve_goes_live_and_keeps_the_queue_for_retry() {
    let (app, id) = paused_with_a_b_c(TestDb::sqlite()).await;
    let (status, resumed) =
        app.post(&format!("/api/v1/maps/{id}/resume"), json!({"mode": "skip_preserve"})).await;
    assert_eq!((status, resumed["status"].as_str()), (StatusCode::OK, Some("running")));
    let (_, errors) = app.get(&format!("/api/v1/maps/{id}/catch-up-errors")).await;
    assert_eq!(errors["total"], 3);
    assert_eq!(errors["items"][0]["code"], "SKIPPED");
    assert_eq!(currency_name(&app, "dataverse", "EUR").await, "Euro");
    let (_, retried) = app.post(&format!("/api/v1/maps/{id}/catch-up-errors/retry"), json!({})).await;
    assert_eq!((retried["applied"].as_u64(), retried["remaining"].as_u64()), (Some(3), Some(0)), "{retried}");
    assert_eq!(currency_name(&app, "dataverse", "EUR").await, "C");
}

#[tokio::test]
async fn skip_discard_goes_live_and_drops_the_queue() {
    let (app, id) = paused_with_a_b_c(TestDb::sqlite()).await;
    let (_, resumed) = app.post(&format!("/api/v1/maps/{id}/resume"), json!({"mode": "skip_discard"})).await;
    assert_eq!(resumed["status"], "running");
    let (_, queue) = app.get(&format!("/api/v1/maps/{id}/queue")).await;
    let (_, errors) = app.get(&format!("/api/v1/maps/{id}/catch-up-errors")).await;
    assert_eq!((queue["total"].as_u64(), errors["total"].as_u64()), (Some(0), Some(0)));
    assert_eq!(currency_name(&app, "dataverse", "EUR").await, "Euro");
    rename(&app, "D").await;
    assert_eq!(currency_name(&app, "dataverse", "EUR").await, "D", "live again");
}

#[tokio::test]
async fn a_catch_up_error_is_kept_and_applies_once_its_cause_is_fixed() {
    let app = TestApp::new().await.with_contoso().await;
    customers_ready(&app).await;
    let id = app.map_id(CUSTOMERS).await;
    run(&app, json!([{"id": id, "initial_sync": false}])).await;
    app.post(&format!("/api/v1/maps/{id}/pause"), json!({})).await;
    app.write("finops", json!([customer("DEMF100", "CP-404"), customer("DEMF101", "CP-001")])).await;
    app.post(&format!("/api/v1/maps/{id}/resume"), json!({"mode": "catch_up"})).await;
    app.wait_for_status(&id, "running").await;
    let (_, errors) = app.get(&format!("/api/v1/maps/{id}/catch-up-errors")).await;
    assert_eq!(errors["total"], 1, "{errors}");
    assert_eq!(errors["items"][0]["code"], "LOOKUP_NOT_FOUND");
    assert_eq!(errors["items"][0]["key"], "demf100|demf");
    assert_eq!(
        app.rows("dataverse", "account", "accountnumber eq 'DEMF101'").await.len(),
        1,
        "the rest applied"
    );
    let (_, again) = app.post(&format!("/api/v1/maps/{id}/catch-up-errors/retry"), json!({})).await;
    assert_eq!(again["failed"], 1, "still failing while the contact is missing");
    app.write("dataverse", json!([{"op": "insert", "table": "msdyn_contactforparty", "row": {"msdyn_contactforpartynumber": "CP-404"}}]))
        .await;
    let id_of_error = errors["items"][0]["id"].clone();
    let (_, fixed) =
        app.post(&format!("/api/v1/maps/{id}/catch-up-errors/retry"), json!({"ids": [id_of_error]})).await;
    assert_eq!((fixed["applied"].as_u64(), fixed["remaining"].as_u64()), (Some(1), Some(0)), "{fixed}");
    assert_eq!(app.rows("dataverse", "account", "accountnumber eq 'DEMF100'").await.len(), 1);
}

#[tokio::test]
async fn an_alert_pauses_a_map_after_failures_and_its_queue_arrives_once_the_side_is_back() {
    let (app, id) = live_currencies(TestDb::sqlite()).await;
    let (status, body) = app
        .put("/api/v1/alerts", json!({"rules": [{"error_types": ["unavailable"], "count": 3, "window_seconds": 600, "action": "pause"}]}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.put("/api/v1/envs/dataverse/availability", json!({"available": false})).await;
    for n in 0..3 {
        let (status, _) = app
            .post("/api/v1/envs/finops/transactions", json!({"ops": [{"op": "update", "table": "Currencies", "key": {"CURRENCYCODE": "EUR"}, "row": {"NAME": format!("try {n}")}}]}))
            .await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    }
    let (_, map) = app.get(&format!("/api/v1/maps/{id}")).await;
    assert_eq!(map["status"], "paused", "the third failure set off the rule");
    rename(&app, "Euro (queued)").await;
    app.put("/api/v1/envs/dataverse/availability", json!({"available": true})).await;
    app.post(&format!("/api/v1/maps/{id}/resume"), json!({"mode": "catch_up"})).await;
    app.wait_for_status(&id, "running").await;
    assert_eq!(currency_name(&app, "dataverse", "EUR").await, "Euro (queued)");
    let alerts: Vec<Value> = app.events().await.into_iter().filter(|e| e["kind"] == "alert").collect();
    assert_eq!(alerts.len(), 1);
}

#[tokio::test]
async fn writes_during_initial_sync_queue_and_apply_afterwards() {
    let (app, id) = competing_currencies(TestDb::sqlite()).await;
    app.put("/api/v1/envs/dataverse/availability", json!({"available": false})).await;
    run(&app, json!([{"id": id, "initial_sync": true, "master": "finops"}])).await;
    // The copy waits for Dataverse; finops writes meanwhile queue.
    app.write("finops", json!([{"op": "insert", "table": "Currencies", "row": {"CURRENCYCODE": "CHF", "NAME": "Swiss franc"}}])).await;
    let (_, queue) = app.get(&format!("/api/v1/maps/{id}/queue")).await;
    assert_eq!(queue["total"], 1);
    assert_eq!(app.get(&format!("/api/v1/maps/{id}")).await.1["status"], "initializing");
    app.put("/api/v1/envs/dataverse/availability", json!({"available": true})).await;
    app.wait_for_status(&id, "running").await;
    assert_eq!(currency_name(&app, "dataverse", "CHF").await, "Swiss franc");
    assert_eq!(currency_name(&app, "dataverse", "EUR").await, "Euro (finops)");
}

#[tokio::test]
async fn an_initial_sync_waiting_for_an_unavailable_side_indexes_the_rows_once() {
    let (app, id) = competing_currencies(TestDb::sqlite()).await;
    app.put("/api/v1/envs/finops/availability", json!({"available": false})).await;
    run(&app, json!([{"id": id, "initial_sync": true, "master": "finops"}])).await;
    app.wait_for_worker_rounds(6).await;
    assert_eq!(app.get(&format!("/api/v1/maps/{id}")).await.1["status"], "initializing");
    let waiting = app.activity().index_builds();
    assert!(waiting <= 1, "the rows were indexed {waiting} times while finops was unavailable");
    app.put("/api/v1/envs/finops/availability", json!({"available": true})).await;
    app.wait_for_status(&id, "running").await;
    assert_eq!(app.activity().index_builds(), 1, "one index serves the whole copy");
    assert_eq!(currency_name(&app, "finops", "GBP").await, "Pound");
}
