//! The Dataverse Web API face (`/api/data/v9.2/`): what a Dataverse client sends goes through the one
//! transaction path, live sync included, and reads answer in the Web API's shape.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{json, Value};

use crate::support::{TestApp, TestDb};

const ROOT: &str = "/api/data/v9.2";

/// An answer of the face: status, the headers a client reads, and the body (JSON, else text).
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) headers: axum::http::HeaderMap,
    pub(crate) body: Value,
    pub(crate) text: String,
}

impl Answer {
    pub(crate) fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
    }
}

async fn call(
    app: &TestApp,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> Answer {
    call_at(app, ROOT, method, path, headers, body).await
}

/// A request to the face at `root` (the Web API's or finance and operations').
pub(crate) async fn call_at(
    app: &TestApp,
    root: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> Answer {
    let mut request =
        Request::builder().method(method).uri(format!("{root}/{path}")).header("host", "dw.test");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = match body {
        Some(body) => request.header("content-type", "application/json").body(Body::from(body.to_string())),
        None => request.body(Body::empty()),
    };
    let (status, headers, bytes) = app.exchange(request.expect("request")).await;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    Answer { status, headers, body: serde_json::from_str(&text).unwrap_or(Value::Null), text }
}

/// Contoso with every map running and its reference data (see `live_sync::contoso_running`).
pub(crate) async fn contoso_running() -> TestApp {
    crate::live_sync::contoso_running(TestDb::sqlite()).await
}

#[tokio::test]
async fn a_currency_written_through_the_web_api_syncs_to_finops_and_back() {
    let app = contoso_running().await;
    let created = call(
        &app,
        "POST",
        "transactioncurrencies",
        &[],
        Some(json!({"isocurrencycode": "CHF", "currencyname": "Swiss franc", "currencysymbol": "Fr."})),
    )
    .await;
    assert_eq!(created.status, StatusCode::NO_CONTENT, "{}", created.text);
    let entity_id = created.header("odata-entityid").to_owned();
    assert!(entity_id.starts_with("http://dw.test/api/data/v9.2/transactioncurrencies("), "{entity_id}");
    assert_eq!(created.header("odata-version"), "4.0");
    let finops = app.row("finops", "Currencies", "CURRENCYCODE == \"CHF\"").await;
    assert_eq!(finops["NAME"], "Swiss franc", "live sync wrote the twin");

    // Read back by id and by alternate key; the lookup-free row as the Web API shows it.
    let id = entity_id.rsplit('(').next().and_then(|s| s.strip_suffix(')')).expect("id").to_owned();
    let by_id = call(&app, "GET", &format!("transactioncurrencies({id})"), &[], None).await;
    assert_eq!(by_id.status, StatusCode::OK, "{}", by_id.text);
    assert_eq!(by_id.body["transactioncurrencyid"], id.as_str());
    assert_eq!(
        by_id.body["@odata.context"],
        "http://dw.test/api/data/v9.2/$metadata#transactioncurrencies/$entity"
    );
    let by_key = call(&app, "GET", "transactioncurrencies(isocurrencycode='chf')", &[], None).await;
    assert_eq!(by_key.body, by_id.body, "the alternate key finds the row, case ignored");
    let etag = by_id.body["@odata.etag"].as_str().expect("etag").to_owned();

    // An update under If-Match with the etag read; a stale etag is refused and changes nothing.
    let renamed = call(
        &app,
        "PATCH",
        "transactioncurrencies(isocurrencycode='CHF')",
        &[("if-match", &etag)],
        Some(json!({"currencyname": "Franc suisse"})),
    )
    .await;
    assert_eq!(renamed.status, StatusCode::NO_CONTENT, "{}", renamed.text);
    assert_eq!(app.row("finops", "Currencies", "CURRENCYCODE == \"CHF\"").await["NAME"], "Franc suisse");
    let stale = call(
        &app,
        "PATCH",
        &format!("transactioncurrencies({id})"),
        &[("if-match", &etag)],
        Some(json!({"currencyname": "Lost"})),
    )
    .await;
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED, "{}", stale.text);
    assert_eq!(app.row("finops", "Currencies", "CURRENCYCODE == \"CHF\"").await["NAME"], "Franc suisse");

    // Upsert: PATCH of a key not there yet creates it, unless If-Match says it must exist;
    // If-None-Match: * refuses to overwrite.
    let must_exist = call(
        &app,
        "PATCH",
        "transactioncurrencies(isocurrencycode='NOK')",
        &[("if-match", "*")],
        Some(json!({"currencyname": "Krone"})),
    )
    .await;
    assert_eq!(must_exist.status, StatusCode::NOT_FOUND, "{}", must_exist.text);
    let upserted = call(
        &app,
        "PATCH",
        "transactioncurrencies(isocurrencycode='NOK')",
        &[("prefer", "return=representation")],
        Some(json!({"currencyname": "Norwegian krone"})),
    )
    .await;
    assert_eq!(upserted.status, StatusCode::OK, "{}", upserted.text);
    assert_eq!(upserted.body["isocurrencycode"], "NOK");
    assert_eq!(app.row("finops", "Currencies", "CURRENCYCODE == \"NOK\"").await["NAME"], "Norwegian krone");
    let create_only = call(
        &app,
        "PATCH",
        "transactioncurrencies(isocurrencycode='NOK')",
        &[("if-none-match", "*")],
        Some(json!({"currencyname": "x"})),
    )
    .await;
    assert_eq!(create_only.status, StatusCode::PRECONDITION_FAILED, "{}", create_only.text);

    let deleted = call(&app, "DELETE", "transactioncurrencies(isocurrencycode='CHF')", &[], None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.text);
    assert!(
        app.rows("finops", "Currencies", "CURRENCYCODE == \"CHF\"").await.is_empty(),
        "the delete synced"
    );
    let gone = call(&app, "GET", &format!("transactioncurrencies({id})"), &[], None).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert!(gone.body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{}", gone.text);
}

#[tokio::test]
async fn lookups_are_bound_by_alternate_key_and_read_back_as_value_properties() {
    let app = contoso_running().await;
    let group = call(
        &app,
        "POST",
        "msdyn_customergroups",
        &[("prefer", "return=representation")],
        Some(json!({
            "msdyn_groupid": "40",
            "msdyn_description": "Wholesale",
            "msdyn_company@odata.bind": "/cdm_companies(cdm_companycode='DEMF')",
        })),
    )
    .await;
    assert_eq!(group.status, StatusCode::CREATED, "{}", group.text);
    let company = call(&app, "GET", "cdm_companies(cdm_companycode='DEMF')", &[], None).await;
    assert_eq!(group.body["_msdyn_company_value"], company.body["cdm_companyid"], "{}", group.text);
    let finops = app.row("finops", "CustCustomerGroupEntity", "CUSTOMERGROUPID == \"40\"").await;
    assert_eq!((&finops["dataAreaId"], &finops["DESCRIPTION"]), (&json!("DEMF"), &json!("Wholesale")));

    // A bind to a row that does not exist, or to the wrong table, is refused and writes nothing.
    for (bind, code) in [
        ("/cdm_companies(cdm_companycode='NONE')", "LOOKUP_NOT_FOUND"),
        ("/transactioncurrencies(isocurrencycode='EUR')", "INVALID_REFERENCE"),
        ("cdm_companies", "INVALID_REFERENCE"),
    ] {
        let refused = call(
            &app,
            "POST",
            "msdyn_customergroups",
            &[],
            Some(json!({"msdyn_groupid": "20", "msdyn_company@odata.bind": bind})),
        )
        .await;
        assert!(refused.status.is_client_error(), "{bind}: {}", refused.text);
        assert_eq!(refused.body["error"]["code"], code, "{bind}: {}", refused.text);
    }
    assert!(app.rows("finops", "CustCustomerGroupEntity", "CUSTOMERGROUPID == \"20\"").await.is_empty());
    let value_property = call(
        &app,
        "POST",
        "msdyn_customergroups",
        &[],
        Some(json!({"msdyn_groupid": "30", "_msdyn_company_value": company.body["cdm_companyid"]})),
    )
    .await;
    assert_eq!(value_property.body["error"]["code"], "READ_ONLY_COLUMN", "{}", value_property.text);
}

#[tokio::test]
async fn a_failed_twin_write_answers_as_the_api_does_and_writes_nothing() {
    let app = contoso_running().await;
    // finops currency codes hold three characters: the twin write of a four-letter code fails.
    let row = json!({"isocurrencycode": "ABCD", "currencyname": "Too long"});
    let face = call(&app, "POST", "transactioncurrencies", &[], Some(row.clone())).await;
    let (status, api) = app
        .post(
            "/api/v1/envs/dataverse/transactions",
            json!({"ops": [{"op": "insert", "table": "transactioncurrency", "row": row}]}),
        )
        .await;
    assert!(face.status.is_client_error(), "{}", face.text);
    assert_eq!((face.status, &face.body["error"]["code"]), (status, &api["error"]["code"]), "{}", face.text);
    assert_eq!(face.body["error"]["message"], api["error"]["message"]);
    let count =
        call(&app, "GET", "transactioncurrencies/$count?$filter=isocurrencycode%20eq%20'ABCD'", &[], None)
            .await;
    assert_eq!(count.text, "0", "nothing was written");
}

#[tokio::test]
async fn collections_filter_select_order_count_and_page_as_the_web_api_does() {
    let app = contoso_running().await;
    let ops: Vec<Value> = (0..7)
        .map(|i| json!({"op": "insert", "table": "transactioncurrency", "row": {"isocurrencycode": format!("C{i}"), "currencyname": format!("Currency {}", 7 - i), "exchangerate": i}}))
        .collect();
    app.write("dataverse", Value::Array(ops)).await;

    let filtered = call(&app, "GET", "transactioncurrencies?$select=isocurrencycode,currencyname&$filter=exchangerate%20ge%202%20and%20startswith(currencyname,'Currency')&$orderby=currencyname%20desc&$count=true", &[], None).await;
    assert_eq!(filtered.status, StatusCode::OK, "{}", filtered.text);
    let codes: Vec<&str> = filtered.body["value"]
        .as_array()
        .expect("value")
        .iter()
        .filter_map(|r| r["isocurrencycode"].as_str())
        .collect();
    assert_eq!(codes, ["C2", "C3", "C4", "C5", "C6"], "{}", filtered.text);
    assert_eq!(filtered.body["@odata.count"], 5);
    let first = &filtered.body["value"][0];
    assert!(first.get("currencysymbol").is_none(), "$select leaves the rest out: {first}");
    assert!(first["@odata.etag"].is_string() && first["transactioncurrencyid"].is_string(), "{first}");
    assert_eq!(
        filtered.body["@odata.context"],
        "http://dw.test/api/data/v9.2/$metadata#transactioncurrencies(isocurrencycode,currencyname)"
    );

    // Three to a page: follow @odata.nextLink until it ends, and see every row once.
    let mut seen = Vec::new();
    let mut next = Some(format!(
        "{ROOT}/transactioncurrencies?$orderby=isocurrencycode&$filter=startswith(isocurrencycode,'C')"
    ));
    while let Some(link) = next.take() {
        let path = link
            .trim_start_matches("http://dw.test")
            .trim_start_matches(ROOT)
            .trim_start_matches('/')
            .to_owned();
        let page = call(&app, "GET", &path, &[("prefer", "odata.maxpagesize=3")], None).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        assert_eq!(page.header("preference-applied"), "odata.maxpagesize=3");
        let rows = page.body["value"].as_array().expect("value");
        assert!(rows.len() <= 3, "{}", page.text);
        seen.extend(rows.iter().filter_map(|r| r["isocurrencycode"].as_str().map(str::to_owned)));
        next = page.body["@odata.nextLink"].as_str().map(str::to_owned);
    }
    assert_eq!(seen, ["C0", "C1", "C2", "C3", "C4", "C5", "C6"]);
    let top = call(&app, "GET", "transactioncurrencies?$top=2&$orderby=exchangerate%20desc", &[], None).await;
    let codes: Vec<&str> = top.body["value"]
        .as_array()
        .expect("value")
        .iter()
        .filter_map(|r| r["isocurrencycode"].as_str())
        .collect();
    assert_eq!(codes, ["C6", "C5"]);
}

#[tokio::test]
async fn metadata_and_the_service_document_describe_every_table() {
    let app = contoso_running().await;
    let service = call(&app, "GET", "", &[], None).await;
    let sets: Vec<&str> =
        service.body["value"].as_array().expect("value").iter().filter_map(|s| s["name"].as_str()).collect();
    assert!(
        sets.contains(&"accounts")
            && sets.contains(&"transactioncurrencies")
            && sets.contains(&"cdm_companies"),
        "{sets:?}"
    );
    let metadata = call(&app, "GET", "$metadata", &[], None).await;
    assert_eq!(metadata.status, StatusCode::OK);
    assert!(metadata.header("content-type").starts_with("application/xml"));
    for expected in [
        r#"<Schema Namespace="Microsoft.Dynamics.CRM" Alias="mscrm""#,
        r#"<EntitySet Name="accounts" EntityType="Microsoft.Dynamics.CRM.account">"#,
        r#"<Property Name="_transactioncurrencyid_value" Type="Edm.Guid" />"#,
        r#"<ReferentialConstraint Property="_transactioncurrencyid_value" ReferencedProperty="transactioncurrencyid" />"#,
        r#"<PropertyValue Property="Name" PropertyPath="isocurrencycode" />"#,
        r#"<Property Name="accountnumber" Type="Edm.String" MaxLength="20" />"#,
    ] {
        assert!(metadata.text.contains(expected), "$metadata lacks {expected}");
    }
}

#[tokio::test]
async fn bad_requests_answer_the_odata_error_body_with_a_4xx() {
    let app = contoso_running().await;
    for (method, path, body, status, code) in [
        ("GET", "widgets", None, 404, "UNKNOWN_ENTITY_SET"),
        ("GET", "accounts(accountnumber='A1'", None, 400, "INVALID_KEY"),
        ("GET", "accounts(name='x')", None, 400, "INVALID_KEY"),
        ("GET", "accounts?$expand=primarycontactid", None, 400, "UNSUPPORTED_QUERY_OPTION"),
        ("GET", "accounts?$filter=name%20eq", None, 400, "INVALID_FILTER"),
        ("GET", "accounts?$filter=nosuchcolumn%20eq%201", None, 400, "INVALID_FILTER"),
        ("GET", "accounts?$select=nosuchcolumn", None, 400, "INVALID_QUERY_OPTION"),
        ("GET", "accounts?$top=many", None, 400, "INVALID_QUERY_OPTION"),
        ("POST", "accounts", Some(json!([1, 2])), 400, "INVALID_BODY"),
        ("POST", "accounts(accountnumber='A1')", Some(json!({})), 405, "METHOD_NOT_ALLOWED"),
        ("DELETE", "accounts", None, 405, "METHOD_NOT_ALLOWED"),
        ("PUT", "accounts", Some(json!({})), 405, "METHOD_NOT_ALLOWED"),
    ] {
        let answer = call(&app, method, path, &[], body).await;
        assert_eq!(answer.status.as_u16(), status, "{method} {path}: {}", answer.text);
        assert_eq!(answer.body["error"]["code"], code, "{method} {path}: {}", answer.text);
    }
    let broken = Request::post(format!("{ROOT}/accounts"))
        .header("content-type", "application/json")
        .body(Body::from("{\"name\": "));
    let (status, _, bytes) = app.exchange(broken.expect("request")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{}", String::from_utf8_lossy(&bytes));
}

#[tokio::test]
async fn the_web_api_takes_the_same_tokens_as_the_api() {
    let app = contoso_running().await;
    let (_, issued) = app.post("/api/v1/tokens", json!({"name": "reader", "role": "viewer"})).await;
    let viewer = format!("Bearer {}", issued["token"].as_str().expect("token"));
    let read = call(&app, "GET", "transactioncurrencies", &[("authorization", &viewer)], None).await;
    assert_eq!(read.status, StatusCode::OK, "a viewer may read: {}", read.text);
    let write = call(
        &app,
        "POST",
        "transactioncurrencies",
        &[("authorization", &viewer)],
        Some(json!({"isocurrencycode": "CHF", "currencyname": "x"})),
    )
    .await;
    assert_eq!(write.status, StatusCode::FORBIDDEN, "{}", write.text);
    let nobody = call(&app, "GET", "transactioncurrencies", &[("authorization", "Bearer nope")], None).await;
    assert_eq!(nobody.status, StatusCode::UNAUTHORIZED, "{}", nobody.text);
}

/// A `$batch` body: each change set a list of `(method, url, body)`.
fn batch_body(change_sets: &[&[(&str, &str, Option<Value>)]]) -> String {
    let mut out = String::new();
    for (n, set) in change_sets.iter().enumerate() {
        out.push_str(&format!("--batch_t\r\nContent-Type: multipart/mixed; boundary=changeset_{n}\r\n\r\n"));
        for (id, (method, url, body)) in set.iter().enumerate() {
            out.push_str(&format!(
                "--changeset_{n}\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: {}\r\n\r\n{method} http://dw.test{ROOT}/{url} HTTP/1.1\r\nContent-Type: application/json\r\n\r\n{}\r\n",
                id + 1,
                body.as_ref().map(Value::to_string).unwrap_or_default()
            ));
        }
        out.push_str(&format!("--changeset_{n}--\r\n"));
    }
    out.push_str("--batch_t--\r\n");
    out
}

async fn post_batch(app: &TestApp, body: String) -> (StatusCode, String) {
    let request = Request::post(format!("{ROOT}/$batch"))
        .header("host", "dw.test")
        .header("content-type", "multipart/mixed; boundary=batch_t")
        .body(Body::from(body));
    let (status, _, bytes) = app.exchange(request.expect("request")).await;
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

#[tokio::test]
async fn a_batch_change_set_lands_whole_or_not_at_all() {
    let app = contoso_running().await;
    let usmf = "/cdm_companies(cdm_companycode='USMF')";
    // A currency, and an account bound to it by the Content-ID of the request that created it.
    let (status, answer) = post_batch(
        &app,
        batch_body(&[&[
            ("POST", "transactioncurrencies", Some(json!({"isocurrencycode": "AAA", "currencyname": "A"}))),
            ("POST", "accounts", Some(json!({"accountnumber": "B1", "transactioncurrencyid@odata.bind": "$1", "msdyn_company@odata.bind": usmf}))),
        ]]),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer.matches("HTTP/1.1 204 No Content").count(), 2, "{answer}");
    assert!(answer.contains("--changesetresponse_"), "{answer}");
    let currency = call(&app, "GET", "transactioncurrencies(isocurrencycode='AAA')", &[], None).await;
    let account = call(&app, "GET", "accounts?$filter=accountnumber%20eq%20'B1'", &[], None).await;
    assert_eq!(
        account.body["value"][0]["_transactioncurrencyid_value"], currency.body["transactioncurrencyid"],
        "{}",
        account.text
    );
    assert_eq!(
        app.row("finops", "Currencies", "CURRENCYCODE == \"AAA\"").await["NAME"],
        "A",
        "the batch synced live"
    );

    // The second write of this change set fails on its twin: the first is undone with it.
    let (status, answer) = post_batch(
        &app,
        batch_body(&[&[
            ("POST", "transactioncurrencies", Some(json!({"isocurrencycode": "BBB", "currencyname": "B"}))),
            (
                "POST",
                "transactioncurrencies",
                Some(json!({"isocurrencycode": "ABCD", "currencyname": "Too long for finops"})),
            ),
        ]]),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert!(answer.contains("HTTP/1.1 422") && answer.contains("VALUE_TOO_LONG"), "{answer}");
    assert!(!answer.contains("204 No Content"), "no part of a failed change set is reported done: {answer}");
    let count =
        call(&app, "GET", "transactioncurrencies/$count?$filter=isocurrencycode%20eq%20'BBB'", &[], None)
            .await;
    assert_eq!(count.text, "0", "nothing of the failed change set was written");
    assert!(app.rows("finops", "Currencies", "CURRENCYCODE == \"BBB\"").await.is_empty());

    let (status, answer) = post_batch(&app, "--batch_t\r\nnot a batch".to_owned()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert!(answer.contains("INVALID_BATCH"), "{answer}");
}
