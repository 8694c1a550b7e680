//! Catch-up order: a key's later changes wait behind its failed one, a retry applies what a change
//! changed (not a stale snapshot), and related maps resumed together replay upstream first.

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::lifecycle::{customer, customers_ready, run, CUSTOMERS};
use crate::support::{TestApp, TestDb};

const GROUPS: &str = "Customer groups (msdyn_customergroups)";

/// Updates customer `account` of DEMF in finops.
async fn update_customer(app: &TestApp, account: &str, row: Value) {
    app.write(
        "finops",
        json!([{"op": "update", "table": "CustCustomerV3Entity", "key": {"dataAreaId": "DEMF", "CUSTOMERACCOUNT": account}, "row": row}]),
    )
    .await;
}

async fn account(app: &TestApp, number: &str) -> Value {
    app.row("dataverse", "account", &format!("accountnumber eq '{number}'")).await
}

async fn contact_id(app: &TestApp, number: &str) -> Value {
    app.row("dataverse", "msdyn_contactforparty", &format!("msdyn_contactforpartynumber eq '{number}'")).await
        ["msdyn_contactforpartyid"]
        .clone()
}

async fn add_contact(app: &TestApp, number: &str) {
    app.write(
        "dataverse",
        json!([{"op": "insert", "table": "msdyn_contactforparty", "row": {"msdyn_contactforpartynumber": number}}]),
    )
    .await;
}

async fn catch_up_errors(app: &TestApp, id: &str) -> Value {
    let (status, errors) = app.get(&format!("/api/v1/maps/{id}/catch-up-errors")).await;
    assert_eq!(status, StatusCode::OK, "{errors}");
    errors
}

/// Customers running live with DEMF300 synced (contact CP-001), then paused.
async fn paused_customers_with_demf300(db: TestDb) -> (TestApp, String) {
    let app = TestApp::on(db).await.with_contoso().await;
    customers_ready(&app).await;
    let id = app.map_id(CUSTOMERS).await;
    run(&app, json!([{"id": id, "initial_sync": false}])).await;
    app.write("finops", json!([customer("DEMF300", "CP-001")])).await;
    let (status, body) = app.post(&format!("/api/v1/maps/{id}/pause"), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    (app, id)
}

async fn later_changes_wait_behind_a_failed_one(db: TestDb) {
    let backend = db.backend;
    let (app, id) = paused_customers_with_demf300(db).await;
    // N points the contact at one Dataverse does not have; N+1 sets it back and changes the memo.
    update_customer(&app, "DEMF300", json!({"CONTACTPERSONID": "CP-404"})).await;
    update_customer(&app, "DEMF300", json!({"CONTACTPERSONID": "CP-001", "SALESMEMO": "newer"})).await;
    app.post(&format!("/api/v1/maps/{id}/resume"), json!({"mode": "catch_up"})).await;
    app.wait_for_status(&id, "running").await;

    let errors = catch_up_errors(&app, &id).await;
    assert_eq!(errors["total"], 2, "{backend}: N fails and N+1 waits behind it: {errors}");
    let (failed, held) = (&errors["items"][0], &errors["items"][1]);
    assert_eq!(failed["code"], "LOOKUP_NOT_FOUND", "{errors}");
    assert_eq!(held["code"], "BEHIND_FAILED_CHANGE", "{errors}");
    assert!(held["seq"].as_i64() > failed["seq"].as_i64());
    let waits_for = failed["seq"].to_string();
    assert!(held["message"].as_str().is_some_and(|m| m.contains(&waits_for)), "names the change: {held}");
    let twin = account(&app, "DEMF300").await;
    assert_ne!(twin["description"], "newer", "{backend}: N+1 must not apply before N");
    assert_eq!(twin["msdyn_primarycontact"], contact_id(&app, "CP-001").await);

    // Retrying only the held change keeps it behind N.
    let (_, held_only) =
        app.post(&format!("/api/v1/maps/{id}/catch-up-errors/retry"), json!({"ids": [held["id"]]})).await;
    assert_eq!(
        (held_only["applied"].as_u64(), held_only["remaining"].as_u64()),
        (Some(0), Some(2)),
        "{held_only}"
    );
    assert_ne!(account(&app, "DEMF300").await["description"], "newer");

    // Fix the cause; retrying all applies N, then N+1.
    add_contact(&app, "CP-404").await;
    let (_, retried) = app.post(&format!("/api/v1/maps/{id}/catch-up-errors/retry"), json!({})).await;
    assert_eq!((retried["applied"].as_u64(), retried["remaining"].as_u64()), (Some(2), Some(0)), "{retried}");
    let twin = account(&app, "DEMF300").await;
    assert_eq!(twin["description"], "newer", "{backend}: N+1's values are the last word");
    assert_eq!(twin["msdyn_primarycontact"], contact_id(&app, "CP-001").await, "{backend}: N+1's contact");
}

#[tokio::test]
async fn a_keys_later_changes_wait_behind_its_failed_change_and_retry_applies_them_in_order() {
    for db in TestDb::all() {
        later_changes_wait_behind_a_failed_one(db).await;
    }
}

#[tokio::test]
async fn retrying_a_held_back_failed_change_also_applies_the_changes_behind_it() {
    let (app, id) = paused_customers_with_demf300(TestDb::sqlite()).await;
    update_customer(&app, "DEMF300", json!({"CONTACTPERSONID": "CP-404"})).await;
    update_customer(&app, "DEMF300", json!({"CONTACTPERSONID": "CP-001", "SALESMEMO": "newer"})).await;
    app.post(&format!("/api/v1/maps/{id}/resume"), json!({"mode": "catch_up"})).await;
    app.wait_for_status(&id, "running").await;
    let errors = catch_up_errors(&app, &id).await;
    assert_eq!(errors["total"], 2, "{errors}");
    add_contact(&app, "CP-404").await;
    let first = errors["items"][0]["id"].clone();
    let (_, retried) =
        app.post(&format!("/api/v1/maps/{id}/catch-up-errors/retry"), json!({"ids": [first]})).await;
    assert_eq!((retried["applied"].as_u64(), retried["remaining"].as_u64()), (Some(2), Some(0)), "{retried}");
    let twin = account(&app, "DEMF300").await;
    assert_eq!(twin["description"], "newer");
    assert_eq!(twin["msdyn_primarycontact"], contact_id(&app, "CP-001").await);
}

async fn a_retry_keeps_newer_values(db: TestDb) {
    let backend = db.backend;
    let (app, id) = paused_customers_with_demf300(db).await;
    // N changes the contact (field A) and fails.
    update_customer(&app, "DEMF300", json!({"CONTACTPERSONID": "CP-404"})).await;
    app.post(&format!("/api/v1/maps/{id}/resume"), json!({"mode": "catch_up"})).await;
    app.wait_for_status(&id, "running").await;
    let errors = catch_up_errors(&app, &id).await;
    assert_eq!(errors["total"], 1, "{errors}");

    // Live again: the memo (field B) changes in Dataverse and reaches finops.
    let twin = account(&app, "DEMF300").await;
    app.write(
        "dataverse",
        json!([{"op": "update", "table": "account", "key": {"accountid": twin["accountid"]}, "row": {"description": "newer"}}]),
    )
    .await;
    let finops = app.row("finops", "CustCustomerV3Entity", "CUSTOMERACCOUNT == \"DEMF300\"").await;
    assert_eq!(finops["SALESMEMO"], "newer");
    assert_eq!(
        finops["CONTACTPERSONID"], "CP-404",
        "{backend}: the memo's write did not carry the stale contact"
    );

    // Fix the cause and retry N: only the contact changes; the memo keeps its newer value.
    add_contact(&app, "CP-404").await;
    let (_, retried) = app.post(&format!("/api/v1/maps/{id}/catch-up-errors/retry"), json!({})).await;
    assert_eq!((retried["applied"].as_u64(), retried["remaining"].as_u64()), (Some(1), Some(0)), "{retried}");
    let twin = account(&app, "DEMF300").await;
    assert_eq!(twin["description"], "newer", "{backend}: the retry must not write N's stale memo");
    assert_eq!(twin["msdyn_primarycontact"], contact_id(&app, "CP-404").await);
    let finops = app.row("finops", "CustCustomerV3Entity", "CUSTOMERACCOUNT == \"DEMF300\"").await;
    assert_eq!(
        (finops["SALESMEMO"].clone(), finops["CONTACTPERSONID"].clone()),
        (json!("newer"), json!("CP-404"))
    );
}

#[tokio::test]
async fn retrying_a_failed_change_writes_what_it_changed_not_its_stale_snapshot() {
    for db in TestDb::all() {
        a_retry_keeps_newer_values(db).await;
    }
}

/// Saves the map named `name` again under a new id, so that it comes after every other map.
async fn recreate(app: &TestApp, name: &str) -> String {
    let id = app.map_id(name).await;
    let (_, mut doc) = app.get(&format!("/api/v1/maps/{id}")).await;
    if let Some(doc) = doc.as_object_mut() {
        doc.remove("id");
        doc.remove("status");
    }
    assert_eq!(app.delete(&format!("/api/v1/maps/{id}")).await, StatusCode::NO_CONTENT);
    let (status, created) = app.post("/api/v1/maps", doc).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    app.map_id(name).await
}

/// Groups and customers paused; `groups_written` new groups and a customer in the last of them
/// written in finops; both resumed together. The customer must arrive without a catch-up error.
async fn upstream_maps_catch_up_first(db: TestDb, groups_written: usize) {
    let backend = db.backend;
    let app = TestApp::on(db).await.with_contoso().await;
    // Customer groups saved after customers: its id is the higher one.
    let groups = recreate(&app, GROUPS).await;
    customers_ready(&app).await;
    let customers = app.map_id(CUSTOMERS).await;
    run(&app, json!([{"id": customers, "initial_sync": false}])).await;
    for id in [&groups, &customers] {
        let (status, body) = app.post(&format!("/api/v1/maps/{id}/pause"), json!({})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let new_groups: Vec<Value> = (1..=groups_written)
        .map(|n| json!({"op": "insert", "table": "CustCustomerGroupEntity", "row": {"dataAreaId": "DEMF", "CUSTOMERGROUPID": format!("G{n}"), "DESCRIPTION": "Retail DE"}}))
        .collect();
    app.write("finops", Value::Array(new_groups)).await;
    let last_group = format!("G{groups_written}");
    let mut new_customer = customer("DEMF400", "CP-001");
    new_customer["row"]["CUSTOMERGROUPID"] = json!(last_group);
    app.write("finops", json!([new_customer])).await;

    // Both resume while Dataverse is away, so that the worker sees both resuming at once.
    app.put("/api/v1/envs/dataverse/availability", json!({"available": false})).await;
    for id in [&customers, &groups] {
        let (status, body) =
            app.post(&format!("/api/v1/maps/{id}/resume"), json!({"mode": "catch_up"})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    app.put("/api/v1/envs/dataverse/availability", json!({"available": true})).await;
    app.wait_for_status(&groups, "running").await;
    app.wait_for_status(&customers, "running").await;

    let errors = catch_up_errors(&app, &customers).await;
    assert_eq!(errors["total"], 0, "{backend}: the customer was replayed before its group: {errors}");
    let group =
        app.row("dataverse", "msdyn_customergroup", &format!("msdyn_groupid eq '{last_group}'")).await;
    assert_eq!(account(&app, "DEMF400").await["msdyn_customergroupid"], group["msdyn_customergroupid"]);
}

#[tokio::test]
async fn related_maps_resumed_together_catch_up_upstream_first() {
    for db in TestDb::all() {
        upstream_maps_catch_up_first(db, 1).await;
    }
}

#[tokio::test]
async fn a_map_waits_while_the_map_it_depends_on_needs_several_batches_to_catch_up() {
    let groups = dualwrite_server::worker::CATCH_UP_BATCH + 20;
    upstream_maps_catch_up_first(TestDb::sqlite(), groups).await;
}

/// A change that failed at catch-up, then live writes to its row while it waits as a catch-up error:
/// retrying it applies what still holds and never undoes what the live writes did.
async fn a_retry_never_undoes_a_newer_live_write(db: TestDb) {
    let backend = db.backend;
    let (app, id) = paused_customers_with_demf300(db).await;
    app.write("finops", json!([customer("DEMF301", "CP-001")])).await;
    // N: a contact Dataverse lacks, and a memo; the same for DEMF301.
    for account in ["DEMF300", "DEMF301"] {
        update_customer(&app, account, json!({"CONTACTPERSONID": "CP-404", "SALESMEMO": "queued"})).await;
    }
    app.post(&format!("/api/v1/maps/{id}/resume"), json!({"mode": "catch_up"})).await;
    app.wait_for_status(&id, "running").await;
    assert_eq!(catch_up_errors(&app, &id).await["total"], 2, "{backend}");

    // Live meanwhile: DEMF300's memo changes again; DEMF301 is deleted (and its account with it).
    update_customer(&app, "DEMF300", json!({"SALESMEMO": "live"})).await;
    app.write("finops", json!([{"op": "delete", "table": "CustCustomerV3Entity", "key": {"dataAreaId": "DEMF", "CUSTOMERACCOUNT": "DEMF301"}}])).await;
    assert!(app.rows("dataverse", "account", "accountnumber eq 'DEMF301'").await.is_empty());

    add_contact(&app, "CP-404").await;
    let (_, retried) = app.post(&format!("/api/v1/maps/{id}/catch-up-errors/retry"), json!({})).await;
    assert_eq!((retried["applied"].as_u64(), retried["remaining"].as_u64()), (Some(2), Some(0)), "{retried}");
    let twin = account(&app, "DEMF300").await;
    assert_eq!(
        twin["msdyn_primarycontact"],
        contact_id(&app, "CP-404").await,
        "{backend}: N's contact holds"
    );
    assert_eq!(twin["description"], "live", "{backend}: the newer live memo stays: {twin}");
    assert!(
        app.rows("dataverse", "account", "accountnumber eq 'DEMF301'").await.is_empty(),
        "{backend}: a retry does not bring back a row deleted since"
    );
}

#[tokio::test]
async fn retrying_a_change_keeps_what_live_writes_did_since() {
    for db in TestDb::all() {
        a_retry_never_undoes_a_newer_live_write(db).await;
    }
}

/// One currency row of `side` by its code: finops `Currencies`, Dataverse `transactioncurrency`.
async fn currencies(app: &TestApp, side: &str, code: &str) -> Vec<Value> {
    match side {
        "finops" => app.rows("finops", "Currencies", &format!("CURRENCYCODE == \"{code}\"")).await,
        _ => app.rows("dataverse", "transactioncurrency", &format!("isocurrencycode eq '{code}'")).await,
    }
}

/// Both sides change one key while a map is paused, the later write on the other side: replaying
/// the earlier change must not put its older value over the later one, or the sides end different.
async fn the_later_write_wins_on_both_sides_when_both_sides_change_a_key_while_paused(db: TestDb) {
    let backend = db.backend;
    let app = TestApp::on(db).await.with_contoso().await;
    let id = app.map_id("Currencies (transactioncurrencies)").await;
    run(&app, json!([{"id": id, "initial_sync": false}])).await;
    app.write("finops", json!([
        {"op": "insert", "table": "Currencies", "row": {"CURRENCYCODE": "EUR", "NAME": "Euro", "SYMBOL": "€"}},
        {"op": "insert", "table": "Currencies", "row": {"CURRENCYCODE": "CHF", "NAME": "Swiss franc", "SYMBOL": "Fr."}},
        {"op": "insert", "table": "Currencies", "row": {"CURRENCYCODE": "GBP", "NAME": "Pound", "SYMBOL": "£"}},
    ]))
    .await;
    let (status, body) = app.post(&format!("/api/v1/maps/{id}/pause"), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let dataverse = |code: &str, row: Value| json!({"op": "update", "table": "transactioncurrency", "key": {"isocurrencycode": code}, "row": row});
    // EUR: Dataverse renames it and changes its symbol, then finops renames it again.
    app.write(
        "dataverse",
        json!([dataverse("EUR", json!({"currencyname": "Euro (older)", "currencysymbol": "EUR"}))]),
    )
    .await;
    app.write("finops", json!([{"op": "update", "table": "Currencies", "key": {"CURRENCYCODE": "EUR"}, "row": {"NAME": "Euro (newer)"}}])).await;
    // CHF: Dataverse renames it, then finops deletes it. GBP: finops renames it, then Dataverse deletes it.
    app.write("dataverse", json!([dataverse("CHF", json!({"currencyname": "Franc"}))])).await;
    app.write("finops", json!([{"op": "delete", "table": "Currencies", "key": {"CURRENCYCODE": "CHF"}}]))
        .await;
    app.write("finops", json!([{"op": "update", "table": "Currencies", "key": {"CURRENCYCODE": "GBP"}, "row": {"NAME": "Pound sterling"}}])).await;
    app.write(
        "dataverse",
        json!([{"op": "delete", "table": "transactioncurrency", "key": {"isocurrencycode": "GBP"}}]),
    )
    .await;

    app.post(&format!("/api/v1/maps/{id}/resume"), json!({"mode": "catch_up"})).await;
    app.wait_for_status(&id, "running").await;
    assert_eq!(catch_up_errors(&app, &id).await["total"], 0, "{backend}");
    let (finops, dataverse) =
        (currencies(&app, "finops", "EUR").await, currencies(&app, "dataverse", "EUR").await);
    assert_eq!(finops[0]["NAME"], "Euro (newer)", "{backend}: {finops:?}");
    assert_eq!(
        dataverse[0]["currencyname"], "Euro (newer)",
        "{backend}: the later finops name wins in Dataverse too"
    );
    assert_eq!(
        (&finops[0]["SYMBOL"], &dataverse[0]["currencysymbol"]),
        (&json!("EUR"), &json!("EUR")),
        "{backend}: the symbol only Dataverse changed"
    );
    for code in ["CHF", "GBP"] {
        assert!(
            currencies(&app, "finops", code).await.is_empty(),
            "{backend}: {code} stays deleted in finops"
        );
        assert!(
            currencies(&app, "dataverse", code).await.is_empty(),
            "{backend}: {code} stays deleted in Dataverse"
        );
    }
}

#[tokio::test]
async fn when_both_sides_change_a_key_while_paused_the_later_write_wins_on_both() {
    for db in TestDb::all() {
        the_later_write_wins_on_both_sides_when_both_sides_change_a_key_while_paused(db).await;
    }
}
