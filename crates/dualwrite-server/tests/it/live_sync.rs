//! Live sync through the HTTP API: the customer DEMF001 story and the rules around it.

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::support::{TestApp, TestDb};

/// Contoso with every map running and the reference data customers need: companies, currencies,
/// customer groups (group 10 in both companies) and contact people.
pub(crate) async fn contoso_running(db: TestDb) -> TestApp {
    let app = TestApp::on(db).await.with_contoso().await;
    app.run_all().await;
    app.write(
        "finops",
        json!([
            {"op": "insert", "table": "LegalEntities", "row": {"LEGALENTITYID": "USMF", "NAME": "Contoso USA"}},
            {"op": "insert", "table": "LegalEntities", "row": {"LEGALENTITYID": "DEMF", "NAME": "Contoso Germany"}},
            {"op": "insert", "table": "Currencies", "row": {"CURRENCYCODE": "EUR", "NAME": "Euro", "SYMBOL": "€"}},
            {"op": "insert", "table": "Currencies", "row": {"CURRENCYCODE": "USD", "NAME": "US Dollar", "SYMBOL": "$"}},
            {"op": "insert", "table": "CustCustomerGroupEntity", "row": {"dataAreaId": "USMF", "CUSTOMERGROUPID": "10", "DESCRIPTION": "Wholesale US"}},
            {"op": "insert", "table": "CustCustomerGroupEntity", "row": {"dataAreaId": "DEMF", "CUSTOMERGROUPID": "10", "DESCRIPTION": "Wholesale DE", "ISSALESTAXINCLUDEDINPRICE": "yes"}},
        ]),
    )
    .await;
    app.write(
        "dataverse",
        json!([
            {"op": "insert", "table": "msdyn_contactforparty", "row": {"msdyn_contactforpartynumber": "CP-001"}},
            {"op": "insert", "table": "msdyn_contactforparty", "row": {"msdyn_contactforpartynumber": "CP-002"}},
        ]),
    )
    .await;
    app
}

pub(crate) fn demf001() -> Value {
    json!({
        "dataAreaId": "DEMF",
        "CUSTOMERACCOUNT": "DEMF001",
        "SALESMEMO": "first order by phone",
        "CREDITLIMIT": 5000,
        "CREDITLIMITISMANDATORY": "yes",
        "SALESCURRENCYCODE": "EUR",
        "CUSTOMERGROUPID": "10",
        "ONHOLDSTATUS": "invoice",
        "PARTYTYPE": "Organization",
        "CONTACTPERSONID": "CP-001",
    })
}

/// The id of the one Dataverse row of `table` passing `filter`.
async fn id_of(app: &TestApp, table: &str, filter: &str) -> Value {
    app.row("dataverse", table, filter).await[format!("{table}id")].clone()
}

async fn customer_demf001_story(db: TestDb) {
    let app = contoso_running(db).await;

    // Created in finops: one account in Dataverse, lookups resolved in the right company.
    let created = app
        .write("finops", json!([{"op": "insert", "table": "CustCustomerV3Entity", "row": demf001()}]))
        .await;
    assert_eq!(created["twin_writes"].as_array().map(Vec::len), Some(1), "{created}");
    assert_eq!(created["twin_writes"][0]["map"], "Customers V3 (accounts)");
    let account = app.row("dataverse", "account", "accountnumber eq 'DEMF001'").await;
    assert_eq!(account["msdyn_company"], id_of(&app, "cdm_company", "cdm_companycode eq 'DEMF'").await);
    assert_eq!(
        account["transactioncurrencyid"],
        id_of(&app, "transactioncurrency", "isocurrencycode eq 'EUR'").await
    );
    let demf = account["msdyn_company"].as_str().unwrap_or_default().to_owned();
    let group =
        id_of(&app, "msdyn_customergroup", &format!("msdyn_groupid eq '10' and msdyn_company eq '{demf}'"))
            .await;
    assert_eq!(account["msdyn_customergroupid"], group, "customer group 10 of DEMF, not of USMF");
    assert_eq!(account["msdyn_creditlimitismandatory"], true, "value map yes → True");
    assert_eq!(account["msdyn_onholdstatus"], 806380001, "value map invoice → 806380001");
    assert_eq!(account["customertypecode"], 3, "the default customer type");
    assert_eq!(account["description"], "first order by phone");

    // Updated in finops: the same account changes; no second one appears.
    app.write(
        "finops",
        json!([{"op": "update", "table": "CustCustomerV3Entity", "key": {"dataAreaId": "DEMF", "CUSTOMERACCOUNT": "DEMF001"}, "row": {"SALESMEMO": "now ordering online", "ONHOLDSTATUS": "all"}}]),
    )
    .await;
    let updated = app.row("dataverse", "account", "accountnumber eq 'DEMF001'").await;
    assert_eq!(updated["accountid"], account["accountid"]);
    assert_eq!(updated["description"], "now ordering online");
    assert_eq!(updated["msdyn_onholdstatus"], 806380002);

    // Updated in Dataverse: back in finops, and no echo back to Dataverse.
    let back = app
        .write(
            "dataverse",
            json!([{"op": "update", "table": "account", "key": {"accountid": account["accountid"]}, "row": {"description": "call before delivery", "msdyn_creditlimitismandatory": false}}]),
        )
        .await;
    assert_eq!(back["twin_writes"].as_array().map(Vec::len), Some(1), "one twin write, no echo: {back}");
    let customer = app.row("finops", "CustCustomerV3Entity", "CUSTOMERACCOUNT == \"DEMF001\"").await;
    assert_eq!(customer["SALESMEMO"], "call before delivery");
    assert_eq!(customer["CREDITLIMITISMANDATORY"], "no", "value map read backwards");
    assert_eq!(customer["dataAreaId"], "DEMF");

    // Born in Dataverse: becomes a finops customer of the account's company.
    app.write(
        "dataverse",
        json!([{"op": "insert", "table": "account", "row": {
            "accountnumber": "DEMF002",
            "msdyn_company.cdm_companycode": "DEMF",
            "customertypecode": 3,
            "transactioncurrencyid.isocurrencycode": "EUR",
            "msdyn_customergroupid.msdyn_groupid": "10",
            "msdyn_primarycontact.msdyn_contactforpartynumber": "CP-002",
        }}]),
    )
    .await;
    let born = app.row("finops", "CustCustomerV3Entity", "CUSTOMERACCOUNT == \"DEMF002\"").await;
    assert_eq!(
        (born["dataAreaId"].as_str(), born["SALESCURRENCYCODE"].as_str()),
        (Some("DEMF"), Some("EUR"))
    );
    assert_eq!(born["PARTYTYPE"], "Organization", "the default party type");
    assert_eq!(born["CONTACTPERSONID"], "CP-002");

    // A lookup that does not resolve fails both sides and leaves nothing behind.
    let events_before = app.events().await.len();
    let mut broken = demf001();
    broken["CUSTOMERACCOUNT"] = json!("DEMF003");
    broken["CONTACTPERSONID"] = json!("CP-404");
    let (status, body) = app
        .post(
            "/api/v1/envs/finops/transactions",
            json!({"ops": [{"op": "insert", "table": "CustCustomerV3Entity", "row": broken}]}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["code"], "LOOKUP_NOT_FOUND");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("Customers V3 (accounts)") && message.contains("CP-404"),
        "names map and value: {message}"
    );
    assert!(app.rows("finops", "CustCustomerV3Entity", "CUSTOMERACCOUNT == \"DEMF003\"").await.is_empty());
    assert!(app.rows("dataverse", "account", "accountnumber eq 'DEMF003'").await.is_empty());
    let after: Vec<Value> = app.events().await.into_iter().skip(events_before).collect();
    let kinds: Vec<&str> = after.iter().filter_map(|e| e["kind"].as_str()).collect();
    assert_eq!(kinds, ["sync_error"], "no write of the failed transaction is recorded, only its error");
    assert_eq!(after[0]["code"], "LOOKUP_NOT_FOUND");
}

#[tokio::test]
async fn customer_demf001_syncs_both_ways_on_sqlite() {
    customer_demf001_story(TestDb::sqlite()).await;
}

#[cfg_attr(not(postgres_tests), ignore = "needs PostgreSQL: set DUALWRITE_TEST_POSTGRES_URL")]
#[tokio::test]
async fn customer_demf001_syncs_both_ways_on_postgres() {
    if let Some(db) = TestDb::postgres() {
        customer_demf001_story(db).await;
    }
}

#[tokio::test]
async fn the_audit_trail_records_each_twin_write_with_map_key_and_values() {
    let app = contoso_running(TestDb::sqlite()).await;
    app.write("finops", json!([{"op": "insert", "table": "CustCustomerV3Entity", "row": demf001()}])).await;
    let events = app.events().await;
    let twin = events.iter().rev().find(|e| e["kind"] == "twin_write").expect("a twin write event");
    assert_eq!(twin["map"], "Customers V3 (accounts)");
    assert_eq!(twin["table"], "account");
    assert_eq!(twin["key"], json!(["demf001", "demf"]));
    assert_eq!(twin["values"]["accountnumber"], "DEMF001");
    let seqs: Vec<i64> = events.iter().filter_map(|e| e["seq"].as_i64()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "events in order");
}

#[tokio::test]
async fn changing_the_integration_key_of_a_synced_row_is_refused() {
    let app = contoso_running(TestDb::sqlite()).await;
    app.write("finops", json!([{"op": "insert", "table": "CustCustomerV3Entity", "row": demf001()}])).await;
    let (status, body) = app
        .post(
            "/api/v1/envs/dataverse/transactions",
            json!({"ops": [{"op": "update", "table": "account", "key": {"accountnumber": "DEMF001", "msdyn_company.cdm_companycode": "DEMF"}, "row": {"accountnumber": "DEMF001X"}}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["code"], "INTEGRATION_KEY_CHANGE");
    assert_eq!(app.rows("dataverse", "account", "accountnumber eq 'DEMF001'").await.len(), 1, "unchanged");
}

#[tokio::test]
async fn deletes_propagate_and_rows_outside_the_filter_do_not_sync() {
    let app = contoso_running(TestDb::sqlite()).await;
    let mut person = demf001();
    person["CUSTOMERACCOUNT"] = json!("DEMF009");
    person["PARTYTYPE"] = json!("Person");
    let written = app
        .write(
            "finops",
            json!([
                {"op": "insert", "table": "CustCustomerV3Entity", "row": demf001()},
                {"op": "insert", "table": "CustCustomerV3Entity", "row": person},
            ]),
        )
        .await;
    assert_eq!(
        written["twin_writes"].as_array().map(Vec::len),
        Some(1),
        "the Person customer is filtered out"
    );
    assert!(app.rows("dataverse", "account", "accountnumber eq 'DEMF009'").await.is_empty());

    app.write("finops", json!([{"op": "delete", "table": "CustCustomerV3Entity", "key": {"dataAreaId": "demf", "CUSTOMERACCOUNT": "demf001"}}]))
        .await;
    assert!(
        app.rows("dataverse", "account", "accountnumber eq 'DEMF001'").await.is_empty(),
        "the twin is deleted"
    );
}

#[tokio::test]
async fn only_changes_to_fields_mapped_from_the_written_side_sync() {
    let app = contoso_running(TestDb::sqlite()).await;
    // exchangerate flows only towards Dataverse: changing it there is no change to sync.
    let changed = app
        .write("dataverse", json!([{"op": "update", "table": "transactioncurrency", "key": {"isocurrencycode": "EUR"}, "row": {"exchangerate": 1.08}}]))
        .await;
    assert_eq!(changed["twin_writes"], json!([]));
    let renamed = app
        .write("dataverse", json!([{"op": "update", "table": "transactioncurrency", "key": {"isocurrencycode": "EUR"}, "row": {"currencyname": "Euro (EMU)"}}]))
        .await;
    assert_eq!(renamed["twin_writes"].as_array().map(Vec::len), Some(1));
    assert_eq!(app.row("finops", "Currencies", "CURRENCYCODE == \"EUR\"").await["NAME"], "Euro (EMU)");
}

#[tokio::test]
async fn an_unavailable_environment_fails_writes_that_would_touch_it() {
    let app = contoso_running(TestDb::sqlite()).await;
    let (status, _) = app.put("/api/v1/envs/dataverse/availability", json!({"available": false})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = app
        .post(
            "/api/v1/envs/finops/transactions",
            json!({"ops": [{"op": "insert", "table": "CustCustomerV3Entity", "row": demf001()}]}),
        )
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"]["code"], "ENVIRONMENT_UNAVAILABLE");
    assert!(app.rows("finops", "CustCustomerV3Entity", "CUSTOMERACCOUNT == \"DEMF001\"").await.is_empty());
    let (status, _) = app
        .post(
            "/api/v1/envs/dataverse/transactions",
            json!({"ops": [{"op": "insert", "table": "msdyn_party", "row": {"msdyn_partynumber": "P1"}}]}),
        )
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "the unavailable side itself takes no writes");
    app.put("/api/v1/envs/dataverse/availability", json!({"available": true})).await;
    app.write("finops", json!([{"op": "insert", "table": "CustCustomerV3Entity", "row": demf001()}])).await;
}

const LEGAL_ENTITIES: &str = "Legal entities (cdm_companies)";

/// Renames company USMF's code to USMX on Dataverse, where Legal entities maps the code only to
/// Dataverse; the answer.
async fn rename_usmf_on_dataverse(app: &TestApp) -> (StatusCode, Value) {
    app.post(
        "/api/v1/envs/dataverse/transactions",
        json!({"ops": [{"op": "update", "table": "cdm_company", "key": {"cdm_companycode": "USMF"}, "row": {"cdm_companycode": "USMX"}}]}),
    )
    .await
}

fn assert_key_change_refused(answer: &(StatusCode, Value), map: &str) {
    let (status, body) = answer;
    assert_eq!(*status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["code"], "INTEGRATION_KEY_CHANGE", "{body}");
    assert_eq!(body["error"]["map"], map, "{body}");
}

/// The Dataverse companies' codes, sorted.
async fn company_codes(app: &TestApp) -> Vec<String> {
    let mut codes: Vec<String> = app
        .rows("dataverse", "cdm_company", "")
        .await
        .iter()
        .map(|c| c["cdm_companycode"].as_str().unwrap_or_default().to_owned())
        .collect();
    codes.sort();
    codes
}

#[tokio::test]
async fn a_key_field_mapped_one_way_cannot_be_changed_from_the_other_side() {
    for db in TestDb::all() {
        a_key_field_mapped_one_way_cannot_be_changed_from_the_other_side_on(db).await;
    }
}

async fn a_key_field_mapped_one_way_cannot_be_changed_from_the_other_side_on(db: TestDb) {
    let app = contoso_running(db).await;
    assert_key_change_refused(&rename_usmf_on_dataverse(&app).await, LEGAL_ENTITIES);
    // Fields that are no part of the key still change freely, and do not sync back.
    let renamed = app
        .write("dataverse", json!([{"op": "update", "table": "cdm_company", "key": {"cdm_companycode": "USMF"}, "row": {"cdm_name": "Contoso US (CRM)"}}]))
        .await;
    assert_eq!(renamed["twin_writes"], json!([]));
    // A Dataverse-only company has no twin and no pairing to break: its code may change.
    app.write("dataverse", json!([{"op": "insert", "table": "cdm_company", "row": {"cdm_companycode": "FRRT", "cdm_name": "Contoso France"}}]))
        .await;
    app.write("dataverse", json!([{"op": "update", "table": "cdm_company", "key": {"cdm_companycode": "FRRT"}, "row": {"cdm_companycode": "FRRX"}}]))
        .await;
    // The next finops write finds its twin: still one company per code.
    app.write("finops", json!([{"op": "update", "table": "LegalEntities", "key": {"LEGALENTITYID": "USMF"}, "row": {"NAME": "Contoso USA Inc"}}]))
        .await;
    assert_eq!(company_codes(&app).await, ["DEMF", "FRRX", "USMF"]);
    assert_eq!(
        app.row("dataverse", "cdm_company", "cdm_companycode eq 'USMF'").await["cdm_name"],
        "Contoso USA Inc"
    );
}

#[tokio::test]
async fn the_integration_key_rule_holds_while_a_map_queues_changes() {
    for db in TestDb::all() {
        the_integration_key_rule_holds_while_a_map_queues_changes_on(db).await;
    }
}

async fn the_integration_key_rule_holds_while_a_map_queues_changes_on(db: TestDb) {
    let app = contoso_running(db).await;
    let id = app.map_id(LEGAL_ENTITIES).await;
    let (status, body) = app.post(&format!("/api/v1/maps/{id}/pause"), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_key_change_refused(&rename_usmf_on_dataverse(&app).await, LEGAL_ENTITIES);
    let answer = app
        .post(
            "/api/v1/envs/finops/transactions",
            json!({"ops": [{"op": "update", "table": "LegalEntities", "key": {"LEGALENTITYID": "USMF"}, "row": {"LEGALENTITYID": "USMX"}}]}),
        )
        .await;
    assert_key_change_refused(&answer, LEGAL_ENTITIES);
    // A row inserted while paused has no twin yet, but its queued insert will make one.
    app.write("finops", json!([{"op": "insert", "table": "LegalEntities", "row": {"LEGALENTITYID": "FRRT", "NAME": "Contoso France"}}]))
        .await;
    let answer = app
        .post(
            "/api/v1/envs/finops/transactions",
            json!({"ops": [{"op": "update", "table": "LegalEntities", "key": {"LEGALENTITYID": "FRRT"}, "row": {"LEGALENTITYID": "FRRX"}}]}),
        )
        .await;
    assert_key_change_refused(&answer, LEGAL_ENTITIES);
    let (status, body) = app.post(&format!("/api/v1/maps/{id}/resume"), json!({"mode": "catch_up"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.wait_for_status(&id, "running").await;
    assert_eq!(company_codes(&app).await, ["DEMF", "FRRT", "USMF"]);
    let (_, errors) = app.get(&format!("/api/v1/maps/{id}/catch-up-errors")).await;
    assert_eq!(errors["total"], 0, "{errors}");
}

#[tokio::test]
async fn the_integration_key_rule_holds_while_a_map_is_initializing() {
    for db in TestDb::all() {
        the_integration_key_rule_holds_while_a_map_is_initializing_on(db).await;
    }
}

async fn the_integration_key_rule_holds_while_a_map_is_initializing_on(db: TestDb) {
    let app = contoso_running(db).await;
    let id = app.map_id(LEGAL_ENTITIES).await;
    let (status, body) = app.post(&format!("/api/v1/maps/{id}/stop"), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.put("/api/v1/envs/finops/availability", json!({"available": false})).await;
    let (status, body) = app
        .post("/api/v1/maps/run", json!({"maps": [{"id": id, "initial_sync": true, "master": "finops"}]}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.wait_for_status(&id, "initializing").await;
    assert_key_change_refused(&rename_usmf_on_dataverse(&app).await, LEGAL_ENTITIES);
    app.put("/api/v1/envs/finops/availability", json!({"available": true})).await;
    app.wait_for_status(&id, "running").await;
    assert_eq!(company_codes(&app).await, ["DEMF", "USMF"]);
}
