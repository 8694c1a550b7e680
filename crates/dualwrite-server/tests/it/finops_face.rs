//! The finance-and-operations OData face (`/data/`): entities by public collection name, keys with
//! `dataAreaId`, one company at a time unless `cross-company=true`, writes through the one transaction
//! path, live sync included; and the story across both faces.

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::dataverse_face::{call_at, contoso_running, Answer};
use crate::support::TestApp;

const DATA: &str = "/data";
const WEB_API: &str = "/api/data/v9.2";

async fn data(app: &TestApp, method: &str, path: &str, body: Option<Value>) -> Answer {
    call_at(app, DATA, method, path, &[], body).await
}

fn codes(answer: &Answer, column: &str) -> Vec<String> {
    let items = answer.body["value"].as_array().cloned().unwrap_or_default();
    items.iter().filter_map(|r| r[column].as_str().map(str::to_owned)).collect()
}

#[tokio::test]
async fn customer_groups_written_through_odata_sync_to_dataverse_in_their_company() {
    let app = contoso_running().await;
    // Public names in any case; the default company (the schema's first, USMF) when none is given.
    let created = data(
        &app,
        "POST",
        "CustomerGroups",
        Some(json!({"CustomerGroupId": "90", "Description": "Retail", "IsSalesTaxIncludedInPrice": "Yes"})),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.body["dataAreaId"], "USMF", "{}", created.text);
    assert_eq!(
        created.header("odata-entityid"),
        "http://dw.test/data/CustomerGroups(dataAreaId='USMF',CUSTOMERGROUPID='90')"
    );
    let other = data(
        &app,
        "POST",
        "CustomerGroups",
        Some(json!({"dataAreaId": "DEMF", "CustomerGroupId": "90", "Description": "Einzelhandel"})),
    )
    .await;
    assert_eq!(other.status, StatusCode::CREATED, "{}", other.text);
    let twins = app.rows("dataverse", "msdyn_customergroup", "msdyn_groupid eq '90'").await;
    assert_eq!(twins.len(), 2, "both groups synced live: {twins:?}");

    // One company by default, every company on request.
    let usmf = data(&app, "GET", "CustomerGroups?$filter=CUSTOMERGROUPID%20eq%20'90'", None).await;
    assert_eq!(codes(&usmf, "DESCRIPTION"), ["Retail"], "{}", usmf.text);
    let all = data(
        &app,
        "GET",
        "CustomerGroups?cross-company=true&$filter=CUSTOMERGROUPID%20eq%20'90'&$orderby=dataAreaId",
        None,
    )
    .await;
    assert_eq!(codes(&all, "dataAreaId"), ["DEMF", "USMF"], "{}", all.text);
    let yes = data(
        &app,
        "GET",
        "CustomerGroups?cross-company=true&$filter=ISSALESTAXINCLUDEDINPRICE%20eq%20Microsoft.Dynamics.DataEntities.NoYes'Yes'",
        None,
    )
    .await;
    assert_eq!(
        codes(&yes, "DESCRIPTION"),
        ["Wholesale DE", "Retail"],
        "an enum member in a filter: {}",
        yes.text
    );

    // By key, with or without the company; an update and a delete reach the twin.
    let by_key = data(&app, "GET", "CustomerGroups(dataAreaId='demf',CustomerGroupId='90')", None).await;
    assert_eq!(by_key.body["DESCRIPTION"], "Einzelhandel", "{}", by_key.text);
    let default_company = data(&app, "GET", "CustomerGroups(CustomerGroupId='90')", None).await;
    assert_eq!(default_company.body["DESCRIPTION"], "Retail", "{}", default_company.text);
    let updated = data(
        &app,
        "PATCH",
        "CustomerGroups(dataAreaId='DEMF',CustomerGroupId='90')",
        Some(json!({"Description": "Großhandel"})),
    )
    .await;
    assert_eq!(updated.status, StatusCode::NO_CONTENT, "{}", updated.text);
    let twin = app.rows("dataverse", "msdyn_customergroup", "msdyn_description eq 'Großhandel'").await;
    assert_eq!(twin.len(), 1, "{twin:?}");
    let missing = data(
        &app,
        "PATCH",
        "CustomerGroups(dataAreaId='DEMF',CustomerGroupId='99')",
        Some(json!({"Description": "x"})),
    )
    .await;
    assert_eq!(
        missing.status,
        StatusCode::NOT_FOUND,
        "no upsert on finance and operations: {}",
        missing.text
    );
    let deleted = data(&app, "DELETE", "CustomerGroups(dataAreaId='DEMF',CustomerGroupId='90')", None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.text);
    assert_eq!(app.rows("dataverse", "msdyn_customergroup", "msdyn_groupid eq '90'").await.len(), 1);
}

#[tokio::test]
async fn reads_take_top_skip_count_and_select_and_page_across_companies() {
    let app = contoso_running().await;
    let ops: Vec<Value> = (0..6)
        .map(|i| json!({"op": "insert", "table": "Currencies", "row": {"CURRENCYCODE": format!("X{i}"), "NAME": format!("Currency {i}")}}))
        .collect();
    app.write("finops", Value::Array(ops)).await;
    let page = data(
        &app,
        "GET",
        "Currencies?$filter=startswith(CURRENCYCODE,'X')&$orderby=CURRENCYCODE%20desc&$skip=1&$top=3&$count=true&$select=CurrencyCode",
        None,
    )
    .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert_eq!(codes(&page, "CURRENCYCODE"), ["X4", "X3", "X2"], "{}", page.text);
    assert_eq!(page.body["@odata.count"], 6);
    assert!(page.body["value"][0].get("NAME").is_none(), "{}", page.text);
    let count = data(&app, "GET", "Currencies/$count", None).await;
    assert_eq!(count.text, "8", "the euro and the dollar too");
    let first = call_at(
        &app,
        DATA,
        "GET",
        "Currencies?$orderby=CURRENCYCODE&$filter=CURRENCYCODE%20ge%20'X'",
        &[("prefer", "odata.maxpagesize=4")],
        None,
    )
    .await;
    let next = first.body["@odata.nextLink"]
        .as_str()
        .expect("a next page")
        .trim_start_matches("http://dw.test/data/")
        .to_owned();
    let second = data(&app, "GET", &next, None).await;
    assert_eq!(
        [codes(&first, "CURRENCYCODE"), codes(&second, "CURRENCYCODE")].concat(),
        ["X0", "X1", "X2", "X3", "X4", "X5"]
    );
}

#[tokio::test]
async fn a_customer_created_on_either_face_is_read_back_on_the_other_with_its_lookups() {
    let app = contoso_running().await;
    // finance and operations → Dataverse.
    let customer = data(
        &app,
        "POST",
        "CustomersV3",
        Some(json!({"CustomerAccount": "FO-001", "PartyType": "Organization", "CustomerGroupId": "10", "SalesCurrencyCode": "EUR", "ContactPersonId": "CP-001"})),
    )
    .await;
    assert_eq!(customer.status, StatusCode::CREATED, "{}", customer.text);
    let company = call_at(&app, WEB_API, "GET", "cdm_companies(cdm_companycode='USMF')", &[], None).await;
    let euro = call_at(&app, WEB_API, "GET", "transactioncurrencies(isocurrencycode='EUR')", &[], None).await;
    let account = call_at(
        &app,
        WEB_API,
        "GET",
        &format!(
            "accounts(accountnumber='FO-001',_msdyn_company_value={})",
            company.body["cdm_companyid"].as_str().expect("company id")
        ),
        &[],
        None,
    )
    .await;
    assert_eq!(account.status, StatusCode::OK, "{}", account.text);
    assert_eq!(account.body["_msdyn_company_value"], company.body["cdm_companyid"]);
    assert_eq!(account.body["_transactioncurrencyid_value"], euro.body["transactioncurrencyid"]);

    // Dataverse → finance and operations.
    let created = call_at(
        &app,
        WEB_API,
        "POST",
        "accounts",
        &[],
        Some(json!({
            "accountnumber": "WEB-001", "customertypecode": 3,
            "msdyn_company@odata.bind": "/cdm_companies(cdm_companycode='USMF')",
            "transactioncurrencyid@odata.bind": "/transactioncurrencies(isocurrencycode='EUR')",
            "msdyn_primarycontact@odata.bind": "/msdyn_contactforparties(msdyn_contactforpartynumber='CP-001')",
            "msdyn_customergroupid@odata.bind": format!("/msdyn_customergroups(msdyn_groupid='10',_msdyn_company_value={})", company.body["cdm_companyid"].as_str().unwrap_or_default()),
        })),
    )
    .await;
    assert_eq!(created.status, StatusCode::NO_CONTENT, "{}", created.text);
    let back = data(&app, "GET", "CustomersV3(dataAreaId='USMF',CustomerAccount='WEB-001')", None).await;
    assert_eq!(back.status, StatusCode::OK, "{}", back.text);
    assert_eq!(
        (&back.body["SALESCURRENCYCODE"], &back.body["CONTACTPERSONID"]),
        (&json!("EUR"), &json!("CP-001"))
    );
}

#[tokio::test]
async fn the_odata_metadata_describes_entities_keys_and_enums_and_bad_requests_get_odata_errors() {
    let app = contoso_running().await;
    let metadata = data(&app, "GET", "$metadata", None).await;
    for expected in [
        r#"<Schema Namespace="Microsoft.Dynamics.DataEntities""#,
        r#"<EntitySet Name="CustomersV3" EntityType="Microsoft.Dynamics.DataEntities.CustCustomerV3Entity" />"#,
        r#"<EntitySet Name="Currencies" EntityType="Microsoft.Dynamics.DataEntities.Currencies" />"#,
        "<Key>\n          <PropertyRef Name=\"dataAreaId\" />\n          <PropertyRef Name=\"CUSTOMERACCOUNT\" />",
        r#"<EnumType Name="NoYes">"#,
        r#"Type="Microsoft.Dynamics.DataEntities.NoYes""#,
    ] {
        assert!(metadata.text.contains(expected), "$metadata lacks {expected}:\n{}", metadata.text);
    }
    for (method, path, status, code) in [
        ("GET", "Vendors", 404, "UNKNOWN_ENTITY_SET"),
        ("GET", "CustomersV3(dataAreaId='USMF',CustomerAccount=)", 400, "INVALID_KEY"),
        ("GET", "CustomersV3?$apply=groupby((dataAreaId))", 400, "UNSUPPORTED_QUERY_OPTION"),
        ("GET", "CustomersV3?$filter=CUSTOMERACCOUNT%20like%20'x'", 400, "INVALID_FILTER"),
        ("GET", "CustomersV3(dataAreaId='USMF',CustomerAccount='NONE')", 404, "NOT_FOUND"),
    ] {
        let answer = data(&app, method, path, None).await;
        assert_eq!(answer.status.as_u16(), status, "{method} {path}: {}", answer.text);
        assert_eq!(answer.body["error"]["code"], code, "{method} {path}: {}", answer.text);
    }
}
