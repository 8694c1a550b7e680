//! A user's first day, over HTTP, with nothing but their environments' artifacts: both sides'
//! `$metadata`, a solution zip of dual-write maps, and data exports of both sides. The preflight
//! names what would go wrong (an account number used in two companies under a key that ignores the
//! company; lookups whose targets were not exported); the user fixes it and initializes.

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::support::{fixture_bytes, TestApp};

const CUSTOMERS: &str = "Customers V3 (accounts)";

async fn load(app: &TestApp, side: &str, table: &str, csv: &str) {
    let path = format!("/api/v1/envs/{side}/tables/{table}/load");
    let (status, report) = app.post_document(&path, "text/csv", csv.as_bytes().to_vec()).await;
    assert_eq!(status, StatusCode::OK, "loading {table}: {report}");
    assert_eq!(report["files"][0]["refused"], 0, "{report}");
}

async fn preflight(app: &TestApp, id: &str) -> Value {
    let (status, report) =
        app.post(&format!("/api/v1/maps/{id}/preflight"), json!({"master": "finops"})).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    report
}

/// The problems of a preflight report: code → the rows' keys with their companies.
fn problems(report: &Value) -> Vec<(String, Vec<String>)> {
    let list = report["problems"].as_array().cloned().unwrap_or_default();
    list.iter()
        .map(|p| {
            let items = p["items"].as_array().cloned().unwrap_or_default();
            let rows = items
                .iter()
                .map(|i| {
                    format!("{} {}", i["key"].as_str().unwrap_or(""), i["company"].as_str().unwrap_or(""))
                })
                .collect();
            (p["code"].as_str().unwrap_or_default().to_owned(), rows)
        })
        .collect()
}

/// The lookups a preflight says would not resolve: target table, value, and the map that brings
/// that table's rows.
fn missing_lookups(report: &Value) -> Vec<(String, String, String)> {
    let lookups =
        report["problems"].as_array().into_iter().flatten().filter(|p| p["code"] == "LOOKUP_NOT_FOUND");
    lookups
        .flat_map(|p| p["items"].as_array().cloned().unwrap_or_default())
        .map(|i| {
            let text = |k: &str| i[k].as_str().unwrap_or_default().to_owned();
            (text("target_table"), text("value"), text("bringing_map"))
        })
        .collect()
}

#[tokio::test]
async fn metadata_a_solution_and_exports_come_in_and_the_preflight_verdict_leads_to_a_clean_initial_sync() {
    let app = TestApp::new().await;
    // The companies are the user's to list; every table comes from the environments' $metadata.
    let (status, body) = app
        .put("/api/v1/schema", json!({"format": "dualwrite.schema/v1", "companies": ["USMF", "DEMF"], "finops": [], "dataverse": []}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for side in ["dataverse", "finops"] {
        let xml = fixture_bytes(&format!("contoso/{side}-metadata.xml"));
        let (status, imported) =
            app.post_document(&format!("/api/v1/schema/import?side={side}"), "application/xml", xml).await;
        assert_eq!(status, StatusCode::OK, "{imported}");
        assert!(
            imported["tables"].as_array().is_some_and(|t| t.iter().all(|t| t["outcome"] == "added")),
            "{imported}"
        );
    }

    // The maps, as a solution zip names their tables: by label and entity set, resolved by alias.
    let zip = fixture_bytes("solutions/ContosoDualWriteMaps_1_0_0_1.zip");
    let (status, report) = app.post_document("/api/v1/packages/import", "application/zip", zip).await;
    assert_eq!(status, StatusCode::CREATED, "{report}");
    for item in report["items"].as_array().into_iter().flatten() {
        let errors: Vec<&Value> = item["diagnostics"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|d| d["severity"] == "error")
            .collect();
        assert!(errors.is_empty(), "{}: {errors:?}", item["name"]);
    }
    let customers = app.map_id(CUSTOMERS).await;
    let (_, map) = app.get(&format!("/api/v1/maps/{customers}")).await;
    assert_eq!(
        (&map["finops"], &map["dataverse"], &map["version"]),
        (&json!("CustomerV3"), &json!("account"), &json!("1.0.0.5"))
    );

    // Both sides' rows as they were before dual-write.
    load(&app, "finops", "LegalEntities", "LEGALENTITYID,NAME\nUSMF,Contoso USA\nDEMF,Contoso Germany\n")
        .await;
    let package = fixture_bytes("exports/Contoso customers.zip");
    let (status, loaded) = app.post_document("/api/v1/envs/finops/load", "application/zip", package).await;
    assert_eq!(status, StatusCode::OK, "{loaded}");
    load(
        &app,
        "dataverse",
        "cdm_companies",
        "cdm_companycode,cdm_name\nUSMF,Contoso USA\nDEMF,Contoso Germany\n",
    )
    .await;
    load(
        &app,
        "dataverse",
        "transactioncurrencies",
        "isocurrencycode,currencyname\nUSD,US Dollar\nEUR,Euro\n",
    )
    .await;
    // CP-002, a customer's contact person, was not exported.
    load(&app, "dataverse", "msdyn_contactforparties", "msdyn_contactforpartynumber\nCP-001\nCP-004\n").await;
    let accounts = String::from_utf8(fixture_bytes("exports/accounts.csv")).expect("utf-8");
    load(&app, "dataverse", "accounts", &accounts).await;
    load(&app, "dataverse", "accounts", "accountnumber,name,msdyn_company.cdm_companycode,customertypecode,transactioncurrencyid.isocurrencycode\nCRM-101,Fabrikam Deutschland,DEMF,3,EUR\n").await;

    // Someone set the accounts' key by hand to the account number alone.
    let (status, body) =
        app.put("/api/v1/integration-keys/account", json!({"fields": ["accountnumber"]})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let verdict = preflight(&app, &customers).await;
    assert_eq!(verdict["ready"], false, "{verdict}");
    let found = problems(&verdict);
    let duplicate = found.iter().find(|(code, _)| code == "DUPLICATE_KEY");
    assert!(
        duplicate.is_some_and(|(_, rows)| {
            rows.contains(&"CRM-101 USMF".to_owned()) && rows.contains(&"CRM-101 DEMF".to_owned())
        }),
        "an account number used in two companies, each row with its company: {found:?}"
    );
    // The fix: the company is part of an account's key.
    let (status, body) = app
        .put(
            "/api/v1/integration-keys/account",
            json!({"fields": ["accountnumber", "msdyn_company.cdm_companycode"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let verdict = preflight(&app, &customers).await;
    let found = problems(&verdict);
    assert!(!found.iter().any(|(code, _)| code == "DUPLICATE_KEY"), "{found:?}");
    let missing = missing_lookups(&verdict);
    assert!(
        missing.iter().any(|(table, _, bringing)| table == "msdyn_customergroup"
            && bringing == "Customer groups (msdyn_customergroups)"),
        "the customer groups were not exported to Dataverse; their map brings them: {verdict}"
    );

    // The groups' own verdict: the payment terms they name were not exported to Dataverse either,
    // and no map brings them.
    let groups = app.map_id("Customer groups (msdyn_customergroups)").await;
    let verdict = preflight(&app, &groups).await;
    let terms: Vec<String> = missing_lookups(&verdict)
        .into_iter()
        .filter(|(table, _, bringing)| table == "msdyn_paymentterm" && bringing.is_empty())
        .map(|(_, value, _)| value)
        .collect();
    assert!(terms.contains(&"Net30".to_owned()) && terms.contains(&"Net14".to_owned()), "{verdict}");
    load(
        &app,
        "dataverse",
        "msdyn_paymentterms",
        "msdyn_name,msdyn_company.cdm_companycode\nNet30,USMF\nNet14,DEMF\n",
    )
    .await;
    assert_eq!(preflight(&app, &groups).await["ready"], true);

    // The groups' map, and those it depends on, initialized first.
    for name in [
        "Legal entities (cdm_companies)",
        "Currencies (transactioncurrencies)",
        "Customer groups (msdyn_customergroups)",
    ] {
        let id = app.map_id(name).await;
        let (status, body) = app
            .post("/api/v1/maps/run", json!({"maps": [{"id": id, "initial_sync": true, "master": "finops"}]}))
            .await;
        assert_eq!(status, StatusCode::OK, "{name}: {body}");
        app.wait_for_status(&id, "running").await;
    }
    let verdict = preflight(&app, &customers).await;
    let missing = missing_lookups(&verdict);
    assert!(
        missing.iter().any(|(table, value, _)| table == "msdyn_contactforparty" && value == "CP-002"),
        "a contact person that was not exported: {verdict}"
    );

    // The fixes: the missing contact, and the accounts' groups and contacts.
    load(&app, "dataverse", "msdyn_contactforparties", "msdyn_contactforpartynumber\nCP-002\nCP-005\n").await;
    load(
        &app,
        "dataverse",
        "accounts",
        "accountnumber,msdyn_company.cdm_companycode,msdyn_customergroupid.msdyn_groupid,msdyn_primarycontact.msdyn_contactforpartynumber\nCRM-101,USMF,10,CP-005\nCRM-101,DEMF,10,CP-005\nCRM-102,DEMF,10,CP-005\nCRM-103,USMF,20,CP-005\n",
    )
    .await;
    let verdict = preflight(&app, &customers).await;
    assert_eq!(verdict["ready"], true, "{}", verdict["reasons"]);
    let (status, body) = app
        .post(
            "/api/v1/maps/run",
            json!({"maps": [{"id": customers, "initial_sync": true, "master": "finops"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.wait_for_status(&customers, "running").await;
    let (_, sync) = app.get(&format!("/api/v1/maps/{customers}/initial-sync")).await;
    assert_eq!(
        (&sync["status"], &sync["counts"]["finops"]["failed"], &sync["counts"]["dataverse"]["failed"]),
        (&json!("completed"), &json!(0), &json!(0)),
        "{sync}"
    );
    let on_finops = app.rows("finops", "CustomerV3", "CustomerAccount == \"CRM-101\"").await;
    assert_eq!(on_finops.len(), 2, "the account of each company became its customer: {on_finops:?}");
    assert_eq!(app.rows("dataverse", "account", "accountnumber eq 'DE-101'").await.len(), 1);
}
