//! Power Platform solutions through `POST /packages/import` and `GET /packages/export?format=solution`:
//! the Contoso maps as a solution zip, a zip of solutions and a `customizations.xml`; a preview of what
//! an import replaces, field by field; and hostile files refused with the place that is wrong.

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::support::{fixture, fixture_bytes, TestApp};

const IMPORT: &str = "/api/v1/packages/import";
const CUSTOMERS: &str = "Customers V3 (accounts)";

async fn with_schema() -> TestApp {
    let app = TestApp::new().await;
    let (status, body) = app.put("/api/v1/schema", fixture("schema.json")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app
}

fn items(report: &Value) -> Vec<Value> {
    report["items"].as_array().cloned().unwrap_or_default()
}

fn item<'r>(report: &'r Value, name: &str) -> &'r Value {
    report["items"]
        .as_array()
        .and_then(|items| items.iter().find(|i| i["name"] == name))
        .unwrap_or_else(|| panic!("no item named {name} in {report}"))
}

/// The stored maps as the native export gives them, by name.
async fn stored_maps(app: &TestApp) -> Vec<Value> {
    let (status, package) = app.get("/api/v1/packages/export").await;
    assert_eq!(status, StatusCode::OK, "{package}");
    let mut maps = package["maps"].as_array().cloned().unwrap_or_default();
    maps.sort_by_key(|m| m["name"].to_string());
    maps
}

#[tokio::test]
async fn a_solution_zip_creates_every_map_with_its_real_version_description_and_publisher() {
    let app = with_schema().await;
    let zip = fixture_bytes("solutions/ContosoDualWriteMaps_1_0_0_1.zip");
    let (status, report) = app.post_document(IMPORT, "application/zip", zip).await;
    assert_eq!(status, StatusCode::CREATED, "{report}");
    assert_eq!(report["preview"], false);
    assert_eq!(items(&report).len(), 4);
    assert!(items(&report).iter().all(|i| i["action"] == "created" && i["id"].is_string()), "{report}");
    let customers = item(&report, CUSTOMERS);
    assert_eq!(customers["version"], "1.0.0.5");
    assert_eq!(customers["publisher"], "contoso");
    assert_eq!(
        customers["description"],
        "Organization customers as accounts, with their group, currency & payment terms."
    );
    assert!(
        customers["diagnostics"].as_array().is_some_and(|d| d.iter().all(|d| d["severity"] != "error")),
        "{customers}"
    );
    let (_, stored) =
        app.get(&format!("/api/v1/maps/{}", customers["id"].as_str().unwrap_or_default())).await;
    assert_eq!(
        (stored["version"].as_str(), stored["status"].as_str()),
        (Some("1.0.0.5"), Some("not_running"))
    );
    assert_eq!(stored["fields"].as_array().map(Vec::len), Some(25));
}

#[tokio::test]
async fn a_zip_of_solutions_and_a_customizations_xml_import_the_same_maps() {
    let from_package = with_schema().await;
    let (status, report) = from_package
        .post_document(IMPORT, "application/zip", fixture_bytes("solutions/ContosoPackage.zip"))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{report}");
    let from_xml = with_schema().await;
    let (status, report) = from_xml
        .post_document(
            IMPORT,
            "application/xml; charset=utf-8",
            fixture_bytes("solutions/customizations.xml"),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{report}");
    let (a, b) = (stored_maps(&from_package).await, stored_maps(&from_xml).await);
    assert_eq!(a.len(), 4);
    // A lone customizations.xml has no solution.xml to name the publisher; the rest is the same.
    let without_publisher = |maps: Vec<Value>| -> Vec<Value> {
        maps.into_iter()
            .map(|mut m| {
                m["publisher"] = json!("");
                m
            })
            .collect()
    };
    assert_eq!(without_publisher(a), without_publisher(b));
}

#[tokio::test]
async fn a_preview_shows_what_each_map_replaces_field_by_field_and_writes_nothing() {
    let app = TestApp::new().await.with_contoso().await;
    let customers_id = app.map_id(CUSTOMERS).await;
    let before = stored_maps(&app).await;
    let zip = fixture_bytes("solutions/ContosoDualWriteMaps_1_0_0_1.zip");
    let (status, report) =
        app.post_document(&format!("{IMPORT}?preview=true"), "application/zip", zip.clone()).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["preview"], true);
    assert!(items(&report).iter().all(|i| i["action"] == "replaced"), "{report}");
    let customers = item(&report, CUSTOMERS);
    assert_eq!(customers["id"], customers_id.as_str());
    assert_eq!(
        customers["changes"],
        json!([
            {"path": "version", "before": "1.0.0.1", "after": "1.0.0.5"},
            {"path": "description", "before": "",
             "after": "Organization customers as accounts, with their group, currency & payment terms."},
        ])
    );
    let paths: Vec<&str> = item(&report, "Legal entities (cdm_companies)")["changes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["path"].as_str())
        .collect();
    assert_eq!(paths, ["description"]);
    assert_eq!(stored_maps(&app).await, before, "a preview writes nothing");
    let (status, report) = app.post_document(IMPORT, "application/zip", zip).await;
    assert_eq!(status, StatusCode::CREATED, "{report}");
    assert_eq!(item(&report, CUSTOMERS)["action"], "replaced");
    let after = stored_maps(&app).await;
    assert_eq!(after.len(), 4, "replaced, not added");
    let (_, stored) = app.get(&format!("/api/v1/maps/{customers_id}")).await;
    assert_eq!(stored["version"], "1.0.0.5");
    let saved = app.events().await.into_iter().filter(|e| e["kind"] == "map_saved" && e["replaced"] == true);
    assert_eq!(saved.count(), 4);
}

#[tokio::test]
async fn a_solution_export_imports_back_unchanged() {
    let app = TestApp::new().await.with_contoso().await;
    let (status, content_type, zip) = app.get_bytes("/api/v1/packages/export?format=solution").await;
    assert_eq!((status, content_type.as_str()), (StatusCode::OK, "application/zip"));
    // Into the same server: every map is replaced by itself.
    let (status, report) =
        app.post_document(&format!("{IMPORT}?preview=true"), "application/zip", zip.clone()).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert!(
        items(&report).iter().all(|i| i["action"] == "replaced" && i["changes"] == json!([])),
        "{report}"
    );
    // Into another server: the same maps.
    let other = with_schema().await;
    let (status, report) = other.post_document(IMPORT, "application/zip", zip).await;
    assert_eq!(status, StatusCode::CREATED, "{report}");
    assert_eq!(stored_maps(&other).await, stored_maps(&app).await);
}

#[tokio::test]
async fn a_running_map_is_not_replaced() {
    let app = TestApp::new().await.with_contoso().await;
    app.run_all().await;
    let id = app.map_id(CUSTOMERS).await;
    app.wait_for_status(&id, "running").await;
    let zip = fixture_bytes("solutions/ContosoDualWriteMaps_1_0_0_1.zip");
    let (status, body) = app.post_document(IMPORT, "application/zip", zip).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("MAP_NOT_EDITABLE")),
        "{body}"
    );
}

#[tokio::test]
async fn hostile_or_broken_solutions_get_a_400_naming_the_place() {
    let app = with_schema().await;
    let zip = fixture_bytes("solutions/ContosoDualWriteMaps_1_0_0_1.zip");
    let (status, body) = app.post_document(IMPORT, "application/zip", zip[..zip.len() / 2].to_vec()).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("INVALID_PACKAGE")));
    assert!(body["error"]["message"].as_str().is_some_and(|m| m.contains("truncated")), "{body}");
    let laughs = "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol1 \"&lol;&lol;&lol;\">]>\n<ImportExportXml>&lol1;</ImportExportXml>";
    let (status, body) = app.post_document(IMPORT, "application/xml", laughs.as_bytes().to_vec()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["problems"][0]["path"], "the solution line 2, column 1");
    assert!(
        body["error"]["problems"][0]["message"].as_str().is_some_and(|m| m.contains("DOCTYPE")),
        "{body}"
    );
    let (status, body) =
        app.post_document(IMPORT, "application/zip", fixture_bytes("solutions/hostile/bomb.zip")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["problems"][0]["path"], "the solution › customizations.xml");
    assert!(
        body["error"]["problems"][0]["message"].as_str().is_some_and(|m| m.contains("zip bomb")),
        "{body}"
    );
    let (status, body) = app
        .post_document(IMPORT, "application/xml", fixture_bytes("solutions/hostile/billion-laughs.xml"))
        .await;
    assert_eq!(
        (status, body["error"]["problems"][0]["path"].as_str()),
        (StatusCode::BAD_REQUEST, Some("the solution line 2, column 1"))
    );
    let (status, body) = app.post_document(IMPORT, "application/zip", b"{\"maps\": []}".to_vec()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) = app.post_document(IMPORT, "text/plain", b"hello".to_vec()).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("UNSUPPORTED_CONTENT_TYPE"))
    );
    assert_eq!(stored_maps(&app).await, Vec::<Value>::new(), "nothing was imported");
}

#[tokio::test]
async fn the_api_document_says_an_import_takes_a_solution_and_an_export_gives_one() {
    let app = TestApp::new().await;
    let (status, document) = app.get("/api/v1/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    let import = &document["paths"]["/packages/import"]["post"];
    for media in ["application/json", "application/zip", "application/xml"] {
        assert!(import["requestBody"]["content"][media].is_object(), "{media}: {import}");
    }
    let export = &document["paths"]["/packages/export"]["get"];
    assert!(export["responses"]["200"]["content"]["application/zip"].is_object(), "{export}");
}
