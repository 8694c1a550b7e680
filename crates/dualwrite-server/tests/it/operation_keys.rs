//! How an operation names the row it updates or deletes: exactly the finops entity key (with
//! `dataAreaId` on a company-specific entity), the Dataverse id or one alternate key; never "the first
//! row that matches" some other set of columns.

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::live_sync::{contoso_running, demf001};
use crate::support::{TestApp, TestDb};

/// Customer C001 in both companies, synced to one account per company.
async fn c001_in_both_companies(db: TestDb) -> TestApp {
    let app = contoso_running(db).await;
    let mut demf = demf001();
    demf["CUSTOMERACCOUNT"] = json!("C001");
    let mut usmf = demf.clone();
    usmf["dataAreaId"] = json!("USMF");
    usmf["SALESCURRENCYCODE"] = json!("USD");
    app.write(
        "finops",
        json!([
            {"op": "insert", "table": "CustCustomerV3Entity", "row": usmf},
            {"op": "insert", "table": "CustCustomerV3Entity", "row": demf},
        ]),
    )
    .await;
    assert_eq!(app.rows("dataverse", "account", "accountnumber eq 'C001'").await.len(), 2);
    app
}

async fn refused(app: &TestApp, side: &str, op: Value) -> Value {
    let (status, body) = app.post(&format!("/api/v1/envs/{side}/transactions"), json!({"ops": [op]})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{op}: {body}");
    assert_eq!(body["error"]["code"], "INVALID_KEY", "{op}: {body}");
    body
}

#[tokio::test]
async fn a_key_that_is_not_one_of_the_tables_keys_is_refused_and_nothing_changes() {
    for db in TestDb::all() {
        a_key_that_is_not_one_of_the_tables_keys_is_refused_and_nothing_changes_on(db).await;
    }
}

async fn a_key_that_is_not_one_of_the_tables_keys_is_refused_and_nothing_changes_on(db: TestDb) {
    let app = c001_in_both_companies(db).await;

    // Without dataAreaId the account number names a customer in each company.
    let body = refused(
        &app,
        "finops",
        json!({"op": "delete", "table": "CustCustomerV3Entity", "key": {"CUSTOMERACCOUNT": "C001"}}),
    )
    .await;
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("CUSTOMERACCOUNT, dataAreaId"), "names the entity key: {message}");
    assert_eq!(body["error"]["accepted_keys"], json!([["CUSTOMERACCOUNT", "dataAreaId"]]), "{body}");
    // More columns than the key is no key either.
    refused(
        &app,
        "finops",
        json!({"op": "update", "table": "CustCustomerV3Entity", "key": {"CUSTOMERACCOUNT": "C001", "dataAreaId": "DEMF", "SALESMEMO": "first order by phone"}, "row": {"SALESMEMO": "x"}}),
    )
    .await;
    // Dataverse: part of an alternate key, and a column that is no key at all.
    let body = refused(
        &app,
        "dataverse",
        json!({"op": "delete", "table": "account", "key": {"accountnumber": "C001"}}),
    )
    .await;
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("accountid") && message.contains("accountnumber, msdyn_company"),
        "names the id and the alternate key: {message}"
    );
    refused(
        &app,
        "dataverse",
        json!({"op": "update", "table": "account", "key": {"description": "first order by phone"}, "row": {"description": "x"}}),
    )
    .await;
    refused(
        &app,
        "dataverse",
        json!({"op": "upsert", "table": "account", "key": {"accountnumber": "C001"}, "row": {"description": "x"}}),
    )
    .await;

    assert_eq!(app.rows("finops", "CustCustomerV3Entity", "CUSTOMERACCOUNT == \"C001\"").await.len(), 2);
    let accounts = app.rows("dataverse", "account", "accountnumber eq 'C001'").await;
    assert_eq!(accounts.len(), 2, "both accounts are still there");
    assert!(accounts.iter().all(|a| a["description"] == "first order by phone"), "{accounts:?}");
}

#[tokio::test]
async fn each_accepted_key_names_its_row() {
    for db in TestDb::all() {
        each_accepted_key_names_its_row_on(db).await;
    }
}

async fn each_accepted_key_names_its_row_on(db: TestDb) {
    let app = c001_in_both_companies(db).await;
    let account_of = |company: &'static str| {
        let app = &app;
        async move {
            let company_id = app
                .row("dataverse", "cdm_company", &format!("cdm_companycode eq '{company}'"))
                .await["cdm_companyid"]
                .clone();
            let filter = format!(
                "accountnumber eq 'C001' and msdyn_company eq '{}'",
                company_id.as_str().unwrap_or_default()
            );
            (app.row("dataverse", "account", &filter).await, company_id)
        }
    };

    // finops: the entity key, columns in any case and order.
    app.write(
        "finops",
        json!([{"op": "update", "table": "CustCustomerV3Entity", "key": {"dataareaid": "usmf", "CustomerAccount": "c001"}, "row": {"SALESMEMO": "by entity key"}}]),
    )
    .await;
    assert_eq!(account_of("USMF").await.0["description"], "by entity key");
    assert_eq!(account_of("DEMF").await.0["description"], "first order by phone");

    // Dataverse: the id.
    let (demf, demf_id) = account_of("DEMF").await;
    app.write(
        "dataverse",
        json!([{"op": "update", "table": "account", "key": {"accountid": demf["accountid"]}, "row": {"description": "by id"}}]),
    )
    .await;
    let memo = |company: &'static str| {
        let app = &app;
        async move {
            app.row(
                "finops",
                "CustCustomerV3Entity",
                &format!("CUSTOMERACCOUNT == \"C001\" && dataAreaId == \"{company}\""),
            )
            .await["SALESMEMO"]
                .clone()
        }
    };
    assert_eq!(memo("DEMF").await, "by id");
    assert_eq!(memo("USMF").await, "by entity key");

    // Dataverse: the alternate key, its lookup in dotted form or as the target's id.
    app.write(
        "dataverse",
        json!([{"op": "update", "table": "account", "key": {"accountnumber": "C001", "msdyn_company.cdm_companycode": "USMF"}, "row": {"description": "by alternate key"}}]),
    )
    .await;
    assert_eq!(memo("USMF").await, "by alternate key");
    assert_eq!(memo("DEMF").await, "by id");
    app.write(
        "dataverse",
        json!([{"op": "upsert", "table": "account", "key": {"msdyn_company": demf_id, "accountnumber": "C001"}, "row": {"description": "by alternate key with an id"}}]),
    )
    .await;
    assert_eq!(memo("DEMF").await, "by alternate key with an id");

    // Deletes: by id on Dataverse, by entity key on finops; each removes one customer on both sides.
    let (usmf, _) = account_of("USMF").await;
    app.write(
        "dataverse",
        json!([{"op": "delete", "table": "account", "key": {"accountid": usmf["accountid"]}}]),
    )
    .await;
    let left = app.rows("finops", "CustCustomerV3Entity", "CUSTOMERACCOUNT == \"C001\"").await;
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(left[0]["dataAreaId"], "DEMF");
    app.write(
        "finops",
        json!([{"op": "delete", "table": "CustCustomerV3Entity", "key": {"CUSTOMERACCOUNT": "C001", "dataAreaId": "DEMF"}}]),
    )
    .await;
    assert!(app.rows("dataverse", "account", "accountnumber eq 'C001'").await.is_empty());
}
