//! Writes made while a map is initializing: queued, and applied after the initial write as if the copy
//! had been made first and every queued change after it, in order. And what a failed initial sync does
//! with its queue.

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::lifecycle::{customer, customers_ready};
use crate::support::{TestApp, TestDb};

const CURRENCIES: &str = "Currencies (transactioncurrencies)";
const CUSTOMERS: &str = "Customers V3 (accounts)";

async fn run(app: &TestApp, maps: Value) {
    let (status, body) = app.post("/api/v1/maps/run", json!({ "maps": maps })).await;
    assert_eq!(status, StatusCode::OK, "run: {body}");
}

async fn available(app: &TestApp, side: &str, available: bool) {
    let (status, body) =
        app.put(&format!("/api/v1/envs/{side}/availability"), json!({ "available": available })).await;
    assert_eq!(status, StatusCode::OK, "availability: {body}");
}

/// The currency rows with `code` on `side` (none, one, or more).
async fn currencies(app: &TestApp, side: &str, code: &str) -> Vec<Value> {
    match side {
        "finops" => app.rows("finops", "Currencies", &format!("CURRENCYCODE == \"{code}\"")).await,
        _ => app.rows("dataverse", "transactioncurrency", &format!("isocurrencycode eq '{code}'")).await,
    }
}

/// The one currency row with `code` on `side`, as (name, symbol).
async fn currency(app: &TestApp, side: &str, code: &str) -> (Value, Value) {
    let rows = currencies(app, side, code).await;
    assert_eq!(rows.len(), 1, "expected one {code} on {side}, found {rows:?}");
    let row = &rows[0];
    match side {
        "finops" => (row["NAME"].clone(), row["SYMBOL"].clone()),
        _ => (row["currencyname"].clone(), row["currencysymbol"].clone()),
    }
}

fn finops_currency(code: &str, name: &str, symbol: &str) -> Value {
    json!({"op": "insert", "table": "Currencies", "row": {"CURRENCYCODE": code, "NAME": name, "SYMBOL": symbol}})
}

fn dataverse_currency(code: &str, name: &str, symbol: &str) -> Value {
    json!({"op": "insert", "table": "transactioncurrency", "row": {"isocurrencycode": code, "currencyname": name, "currencysymbol": symbol}})
}

/// Waits (polling, up to a deadline) until the map has left `initializing`; returns its status and its
/// latest initial sync.
async fn settled(app: &TestApp, id: &str) -> (Value, Value) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let (_, map) = app.get(&format!("/api/v1/maps/{id}")).await;
        if map["status"] != "initializing" {
            let (_, sync) = app.get(&format!("/api/v1/maps/{id}/initial-sync")).await;
            return (map["status"].clone(), sync);
        }
        assert!(std::time::Instant::now() < deadline, "map {id} stays initializing");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Contoso with Currencies stopped and `rows` on both sides; `unavailable` is marked unavailable and
/// Currencies runs with an initial sync, master finops, so it waits in `initializing`.
async fn initializing_with(
    db: TestDb,
    finops: Value,
    dataverse: Value,
    unavailable: &str,
) -> (TestApp, String) {
    let app = TestApp::on(db).await.with_contoso().await;
    let id = app.map_id(CURRENCIES).await;
    for (side, rows) in [("finops", finops), ("dataverse", dataverse)] {
        if rows.as_array().is_some_and(|r| !r.is_empty()) {
            app.write(side, rows).await;
        }
    }
    available(&app, unavailable, false).await;
    run(&app, json!([{"id": id, "initial_sync": true, "master": "finops"}])).await;
    assert_eq!(app.get(&format!("/api/v1/maps/{id}")).await.1["status"], "initializing");
    (app, id)
}

async fn a_delete_and_a_rename_during_initialization_reach_both_sides(db: TestDb) {
    let backend = db.backend;
    let (app, id) = initializing_with(
        db,
        json!([finops_currency("CHF", "Swiss franc", "Fr."), finops_currency("GBP", "Pound", "£")]),
        json!([dataverse_currency("CHF", "Swiss franc", "Fr."), dataverse_currency("GBP", "Pound", "£")]),
        "finops",
    )
    .await;
    app.write("dataverse", json!([
        {"op": "delete", "table": "transactioncurrency", "key": {"isocurrencycode": "CHF"}},
        {"op": "update", "table": "transactioncurrency", "key": {"isocurrencycode": "GBP"}, "row": {"currencyname": "Pound sterling"}},
    ]))
    .await;
    assert_eq!(app.get(&format!("/api/v1/maps/{id}/queue")).await.1["total"], 2);
    available(&app, "finops", true).await;
    let (status, sync) = settled(&app, &id).await;
    assert_eq!(status, "running", "{backend}: {sync}");
    assert_eq!(
        currencies(&app, "dataverse", "CHF").await,
        Vec::<Value>::new(),
        "{backend}: CHF stays deleted"
    );
    assert_eq!(
        currencies(&app, "finops", "CHF").await,
        Vec::<Value>::new(),
        "{backend}: the delete reached finops"
    );
    assert_eq!(currency(&app, "dataverse", "GBP").await.0, "Pound sterling", "{backend}");
    assert_eq!(
        currency(&app, "finops", "GBP").await.0,
        "Pound sterling",
        "{backend}: the rename reached finops"
    );
    assert_eq!(app.get(&format!("/api/v1/maps/{id}/queue")).await.1["total"], 0);
}

#[tokio::test]
async fn a_delete_and_a_rename_made_while_a_map_initializes_are_kept_and_synced() {
    for db in TestDb::all() {
        a_delete_and_a_rename_during_initialization_reach_both_sides(db).await;
    }
}

async fn an_update_on_the_other_side_than_the_master_during_initialization(db: TestDb) {
    let backend = db.backend;
    // GBP's symbol differs: the master's (finops) is copied; the name is changed in Dataverse meanwhile.
    let (app, id) = initializing_with(
        db,
        json!([finops_currency("GBP", "Pound", "£")]),
        json!([dataverse_currency("GBP", "Pound", "GBP")]),
        "finops",
    )
    .await;
    app.write("dataverse", json!([
        {"op": "update", "table": "transactioncurrency", "key": {"isocurrencycode": "GBP"}, "row": {"currencyname": "Pound sterling"}},
    ]))
    .await;
    available(&app, "finops", true).await;
    let (status, sync) = settled(&app, &id).await;
    assert_eq!(status, "running", "{backend}: {sync}");
    let expected = (json!("Pound sterling"), json!("£"));
    assert_eq!(
        currency(&app, "dataverse", "GBP").await,
        expected,
        "{backend}: the rename kept, the master's symbol copied"
    );
    assert_eq!(currency(&app, "finops", "GBP").await, expected, "{backend}: both sides agree");
}

#[tokio::test]
async fn an_update_on_the_non_master_side_while_a_map_initializes_is_not_overwritten() {
    for db in TestDb::all() {
        an_update_on_the_other_side_than_the_master_during_initialization(db).await;
    }
}

/// `side` inserts JPY (which the other side had before the run) and SEK (which no side had) while
/// the other side is unavailable and the map initializes.
async fn inserts_during_initialization(db: TestDb, side: &str) {
    let backend = db.backend;
    let other = if side == "finops" { "dataverse" } else { "finops" };
    let (finops, dataverse) = match side {
        "finops" => (json!([]), json!([dataverse_currency("JPY", "Yen (before)", "¥")])),
        _ => (json!([finops_currency("JPY", "Yen (before)", "¥")]), json!([])),
    };
    let (app, id) = initializing_with(db, finops, dataverse, other).await;
    let inserts = match side {
        "finops" => {
            json!([finops_currency("JPY", "Yen", "¥"), finops_currency("SEK", "Swedish krona", "kr")])
        }
        _ => json!([dataverse_currency("JPY", "Yen", "¥"), dataverse_currency("SEK", "Swedish krona", "kr")]),
    };
    app.write(side, inserts).await;
    available(&app, other, true).await;
    let (status, sync) = settled(&app, &id).await;
    assert_eq!(status, "running", "{backend}, inserts on {side}: {sync}");
    assert_eq!(sync["errors"]["total"], 0, "{backend}, inserts on {side}: {sync}");
    for s in ["finops", "dataverse"] {
        assert_eq!(currency(&app, s, "JPY").await.0, "Yen", "{backend}, inserts on {side}: JPY on {s}");
        assert_eq!(
            currency(&app, s, "SEK").await.0,
            "Swedish krona",
            "{backend}, inserts on {side}: SEK on {s}"
        );
    }
}

#[tokio::test]
async fn rows_inserted_on_either_side_while_a_map_initializes_end_up_on_both() {
    for db in TestDb::all() {
        inserts_during_initialization(db, "dataverse").await;
    }
    for db in TestDb::all() {
        inserts_during_initialization(db, "finops").await;
    }
}

async fn a_failed_initial_sync_leaves_no_queue_behind(db: TestDb) {
    let backend = db.backend;
    let app = TestApp::on(db).await.with_contoso().await;
    customers_ready(&app).await;
    // CP-901 does not exist in Dataverse: BAD01 fails, so the initial sync fails.
    app.write("finops", json!([customer("BAD01", "CP-901"), customer("OK01", "CP-001")])).await;
    let id = app.map_id(CUSTOMERS).await;
    available(&app, "dataverse", false).await;
    run(&app, json!([{"id": id, "initial_sync": true, "master": "finops"}])).await;
    let memo = |memo: &str| json!([{"op": "update", "table": "CustCustomerV3Entity", "key": {"dataAreaId": "DEMF", "CUSTOMERACCOUNT": "OK01"}, "row": {"SALESMEMO": memo}}]);
    app.write("finops", memo("queued while initializing")).await;
    assert_eq!(app.get(&format!("/api/v1/maps/{id}/queue")).await.1["total"], 1, "{backend}");
    available(&app, "dataverse", true).await;
    let (status, sync) = settled(&app, &id).await;
    assert_eq!(
        (status.as_str(), sync["status"].as_str()),
        (Some("not_running"), Some("failed")),
        "{backend}: {sync}"
    );

    // The change queued meanwhile is not left in the queue: it is a catch-up error, to retry.
    assert_eq!(app.get(&format!("/api/v1/maps/{id}/queue")).await.1["total"], 0, "{backend}");
    let (_, errors) = app.get(&format!("/api/v1/maps/{id}/catch-up-errors")).await;
    assert_eq!(errors["total"], 1, "{backend}: {errors}");
    assert_eq!(errors["items"][0]["code"], "INITIAL_SYNC_FAILED", "{backend}: {errors}");

    // A newer value, written while the map does not run; then the map runs without an initial sync,
    // and a pause and catch-up later replay nothing stale over it.
    app.write("finops", memo("newer")).await;
    run(&app, json!([{"id": id, "initial_sync": false}])).await;
    app.wait_for_status(&id, "running").await;
    assert_eq!(app.get(&format!("/api/v1/maps/{id}/queue")).await.1["total"], 0, "{backend}");
    app.post(&format!("/api/v1/maps/{id}/pause"), json!({})).await;
    app.wait_for_status(&id, "paused").await;
    app.post(&format!("/api/v1/maps/{id}/resume"), json!({"mode": "catch_up"})).await;
    app.wait_for_status(&id, "running").await;
    let account = app.row("dataverse", "account", "accountnumber eq 'OK01'").await;
    assert_ne!(account["description"], "queued while initializing", "{backend}: a stale change was replayed");
}

#[tokio::test]
async fn a_failed_initial_sync_moves_its_queue_to_the_catch_up_errors() {
    for db in TestDb::all() {
        a_failed_initial_sync_leaves_no_queue_behind(db).await;
    }
}

async fn a_self_reference_copied_under_a_queued_change(db: TestDb) {
    let backend = db.backend;
    let app = TestApp::on(db).await.with_contoso().await;
    customers_ready(&app).await;
    let id = app.map_id(CUSTOMERS).await;
    run(&app, json!([{"id": id, "initial_sync": false}])).await;
    app.write("finops", json!([customer("OK01", "CP-001"), customer("OK02", "CP-001")])).await;
    app.post(&format!("/api/v1/maps/{id}/stop"), json!({})).await;
    app.wait_for_status(&id, "not_running").await;
    // Only finops knows OK01's invoice account (a reference to its own table): the copy sets it in
    // Dataverse in its second pass, while Dataverse's change of OK01 meanwhile waits in the queue.
    app.write("finops", json!([{"op": "update", "table": "CustCustomerV3Entity", "key": {"dataAreaId": "DEMF", "CUSTOMERACCOUNT": "OK01"}, "row": {"INVOICEACCOUNT": "OK02"}}])).await;
    available(&app, "finops", false).await;
    run(&app, json!([{"id": id, "initial_sync": true, "master": "finops"}])).await;
    app.write("dataverse", json!([{"op": "update", "table": "account", "key": {"accountnumber": "OK01", "msdyn_company.cdm_companycode": "DEMF"}, "row": {"description": "changed meanwhile"}}])).await;
    available(&app, "finops", true).await;
    let (status, sync) = settled(&app, &id).await;
    assert_eq!(status, "running", "{backend}: {sync}");
    let finops = app.row("finops", "CustCustomerV3Entity", "CUSTOMERACCOUNT == \"OK01\"").await;
    assert_eq!(finops["SALESMEMO"], "changed meanwhile", "{backend}: {finops}");
    assert_eq!(finops["INVOICEACCOUNT"], "OK02", "{backend}: the replay kept the copied reference: {finops}");
    let account = app.row("dataverse", "account", "accountnumber eq 'OK01'").await;
    assert_eq!(account["description"], "changed meanwhile", "{backend}: {account}");
    assert!(!account["msdyn_billingaccount"].is_null(), "{backend}: the reference was copied: {account}");
}

#[tokio::test]
async fn a_self_reference_copied_while_a_change_of_its_row_is_queued_survives_the_replay() {
    for db in TestDb::all() {
        a_self_reference_copied_under_a_queued_change(db).await;
    }
}

async fn deletes_on_the_master_side_during_initialization(db: TestDb) {
    let backend = db.backend;
    // CHF is on both sides, USD only in finops; finops, the master, deletes both meanwhile.
    let (app, id) = initializing_with(
        db,
        json!([finops_currency("CHF", "Swiss franc", "Fr."), finops_currency("USD", "US Dollar", "$")]),
        json!([dataverse_currency("CHF", "Franc suisse", "Fr.")]),
        "dataverse",
    )
    .await;
    app.write(
        "finops",
        json!([
            {"op": "delete", "table": "Currencies", "key": {"CURRENCYCODE": "CHF"}},
            {"op": "delete", "table": "Currencies", "key": {"CURRENCYCODE": "USD"}},
        ]),
    )
    .await;
    available(&app, "dataverse", true).await;
    let (status, sync) = settled(&app, &id).await;
    assert_eq!(status, "running", "{backend}: {sync}");
    for side in ["finops", "dataverse"] {
        for code in ["CHF", "USD"] {
            assert_eq!(
                currencies(&app, side, code).await,
                Vec::<Value>::new(),
                "{backend}: {code} on {side}"
            );
        }
    }
}

#[tokio::test]
async fn rows_deleted_on_the_master_side_while_a_map_initializes_stay_deleted() {
    for db in TestDb::all() {
        deletes_on_the_master_side_during_initialization(db).await;
    }
}
