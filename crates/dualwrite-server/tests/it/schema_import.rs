//! `POST /schema/import`: an environment's `$metadata` merged into the stored schema, previewed first.

use axum::http::StatusCode;
use serde_json::Value;

use crate::support::{fixture_bytes, urlencode, TestApp};

const XML: &str = "application/xml";

fn outcome<'v>(answer: &'v Value, table: &str) -> &'v Value {
    answer["tables"]
        .as_array()
        .and_then(|t| t.iter().find(|t| t["table"] == table))
        .unwrap_or_else(|| panic!("no {table} in {answer}"))
}

#[tokio::test]
async fn a_preview_says_what_would_be_added_and_writes_nothing_then_the_import_stores_it() {
    let app = TestApp::new().await;
    let metadata = fixture_bytes("contoso/dataverse-metadata.xml");
    let path = "/api/v1/schema/import?side=dataverse&tables=accounts&preview=true";
    let (status, preview) = app.post_document(path, XML, metadata.clone()).await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert_eq!(preview["preview"], true);
    assert_eq!(preview["entity_types"], 14);
    assert_eq!(preview["tables"].as_array().map(Vec::len), Some(12), "account and what it looks up");
    assert_eq!(outcome(&preview, "account")["outcome"], "added");
    let (status, _) = app.get("/api/v1/schema").await;
    assert_ne!(status, StatusCode::OK, "a preview writes nothing");

    let (status, imported) =
        app.post_document("/api/v1/schema/import?side=dataverse&tables=accounts", XML, metadata).await;
    assert_eq!(status, StatusCode::OK, "{imported}");
    assert_eq!(imported["preview"], false);
    let (status, schema) = app.get("/api/v1/schema").await;
    assert_eq!(status, StatusCode::OK);
    let account = schema["dataverse"].as_array().and_then(|t| t.iter().find(|t| t["name"] == "account"));
    let account = account.expect("account stored");
    assert_eq!(account["aliases"], serde_json::json!(["accounts"]));
    assert_eq!(account["company_specific"], true);
}

#[tokio::test]
async fn importing_over_the_contoso_schema_keeps_what_the_metadata_cannot_say() {
    let app = TestApp::new().await.with_contoso().await;
    let (_, before) = app.get("/api/v1/schema").await;
    let finops = fixture_bytes("contoso/finops-metadata.xml");
    let (status, answer) = app.post_document("/api/v1/schema/import?side=finops", XML, finops).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    for table in ["Currencies", "CustCustomerGroupEntity", "CustCustomerV3Entity", "LegalEntities"] {
        assert_eq!(outcome(&answer, table)["outcome"], "unchanged", "{answer}");
    }
    let (_, after) = app.get("/api/v1/schema").await;
    assert_eq!(after, before, "public field names and entity type names resolve to what is stored");

    let dataverse = fixture_bytes("contoso/dataverse-metadata.xml");
    let path = "/api/v1/schema/import?side=dataverse&preview=true";
    let (status, answer) = app.post_document(path, XML, dataverse).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let account = outcome(&answer, "account");
    assert_eq!(account["outcome"], "changed");
    assert_eq!(account["columns_added"], serde_json::json!(["createdon", "versionnumber"]));
    assert_eq!(account["columns_changed"], serde_json::json!([]), "option sets stay option sets");
    assert_eq!(outcome(&answer, "asyncoperation")["outcome"], "added");
    assert!(answer["notes"]
        .to_string()
        .contains("no alternate keys declared on 1 of 13 tables (asyncoperation)"));
}

#[tokio::test]
async fn a_real_metadata_larger_than_the_json_limit_imports_and_says_what_it_lacks() {
    let app = TestApp::new().await;
    let mut metadata = fixture_bytes("real/dataverse-csdl.xml");
    // Real documents run to 50 MB; pad this one past the 16 MiB of JSON bodies with a comment.
    metadata.extend_from_slice(b"\n<!--");
    metadata.resize(metadata.len() + (20 << 20), b' ');
    metadata.extend_from_slice(b"-->\n");
    let path =
        format!("/api/v1/schema/import?side=dataverse&preview=true&tables={}", urlencode("account,contact"));
    let (status, answer) = app.post_document(&path, XML, metadata).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["entity_types"], 354);
    let notes = answer["notes"].to_string();
    assert!(notes.contains("no dual-write solution tables (cdm_company, msdyn_*)"), "{notes}");
    assert_eq!(outcome(&answer, "account")["outcome"], "added");
}

#[tokio::test]
async fn bad_metadata_is_refused_saying_where_and_what() {
    let app = TestApp::new().await;
    let laughs = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<edmx:Edmx><x a="&lol2;"/></edmx:Edmx>"#;
    let path = "/api/v1/schema/import?side=dataverse";
    let (status, body) = app.post_document(path, XML, laughs.as_bytes().to_vec()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["code"], "INVALID_METADATA");
    assert_eq!(body["error"]["line"], 2);

    let finops = fixture_bytes("contoso/finops-metadata.xml");
    let (status, body) = app.post_document(path, XML, finops.clone()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["error"]["message"].as_str().is_some_and(|m| m.contains("this is a finops $metadata")),
        "{body}"
    );

    let (status, body) =
        app.post_document("/api/v1/schema/import?side=finops&tables=Customers%20V2", XML, finops).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["code"], "UNKNOWN_TABLE");
    assert!(
        body["error"]["message"].as_str().is_some_and(|m| m.contains("did you mean CustomerV3?")),
        "{body}"
    );

    let (status, body) = app.post_document(path, XML, vec![b' '; (64 << 20) + 1]).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(body["error"]["code"], "BODY_TOO_LARGE");

    let (status, body) = app.post_document("/api/v1/schema/import?side=elsewhere", XML, Vec::new()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

#[tokio::test]
async fn while_maps_run_an_import_is_refused_but_a_preview_answers() {
    let app = TestApp::new().await.with_contoso().await;
    app.run_all().await;
    let dataverse = fixture_bytes("contoso/dataverse-metadata.xml");
    let (status, body) =
        app.post_document("/api/v1/schema/import?side=dataverse", XML, dataverse.clone()).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["code"], "MAPS_RUNNING");
    let (status, body) =
        app.post_document("/api/v1/schema/import?side=dataverse&preview=true", XML, dataverse).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn a_map_saved_under_the_names_dual_write_uses_is_stored_under_the_schemas_names() {
    let app = TestApp::new().await.with_contoso().await;
    let id = app.map_id("Customers V3 (accounts)").await;
    let (_, mut doc) = app.get(&format!("/api/v1/maps/{id}")).await;
    if let Some(doc) = doc.as_object_mut() {
        doc.remove("id");
        doc.remove("status");
        doc.insert("name".into(), "Customers V3 again".into());
        doc.insert("finops".into(), "Customers V3".into());
        doc.insert("dataverse".into(), "accounts".into());
    }
    let (status, created) = app.post("/api/v1/maps", doc).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(
        (created["finops"].as_str(), created["dataverse"].as_str()),
        (Some("CustCustomerV3Entity"), Some("account"))
    );
    let codes: Vec<&str> =
        created["diagnostics"].as_array().into_iter().flatten().filter_map(|d| d["code"].as_str()).collect();
    assert!(!codes.contains(&"DIPV1018") && !codes.contains(&"DIPV1020"), "{codes:?}");
}
