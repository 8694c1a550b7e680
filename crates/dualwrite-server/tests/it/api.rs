//! The API's answers to what clients get wrong, and its resources: maps, schema, keys, packages.

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::support::{fixture, TestApp, TestDb};

async fn contoso() -> TestApp {
    TestApp::new().await.with_contoso().await
}

fn codes(diagnostics: &Value) -> Vec<String> {
    diagnostics
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d["code"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn malformed_and_mistyped_bodies_are_400s_that_say_what_is_wrong() {
    let app = contoso().await;
    let (status, body) = app.post_raw("/api/v1/envs/finops/transactions", "{\"ops\": [").await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("MALFORMED_JSON")));
    let (status, body) = app.post_raw("/api/v1/envs/finops/transactions", "{\"ops\": 7}").await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("INVALID_BODY")));
    assert!(body["error"]["message"].as_str().unwrap_or_default().contains("ops"), "{body}");
    let (status, body) = app
        .post(
            "/api/v1/envs/finops/transactions",
            json!({"ops": [{"op": "update", "table": "Currencies", "row": {"NAME": "x"}}]}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("MISSING_FIELD")),
        "{body}"
    );
    assert!(body["error"]["message"].as_str().unwrap_or_default().contains("key"), "{body}");
    let (status, body) = app.post("/api/v1/envs/finops/transactions", json!({"ops": []})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

#[tokio::test]
async fn unknown_environments_tables_and_maps_are_404s() {
    let app = contoso().await;
    let (status, _) = app.get("/api/v1/envs/crm/tables").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = app
        .post(
            "/api/v1/envs/finops/transactions",
            json!({"ops": [{"op": "insert", "table": "NoSuchEntity", "row": {"A": 1}}]}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert!(body["error"]["message"].as_str().unwrap_or_default().contains("NoSuchEntity"));
    let (status, _) = app.get("/api/v1/maps/999").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app.get("/api/v1/maps/not-a-number").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn values_are_checked_against_column_types_and_every_problem_is_named() {
    let app = contoso().await;
    let (status, body) = app
        .post(
            "/api/v1/envs/finops/transactions",
            json!({"ops": [{"op": "insert", "table": "Currencies", "row": {"CURRENCYCODE": "TOOLONG", "NAME": 5, "NOPE": 1}}]}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["code"], "INVALID_ROW");
    let columns: Vec<&str> = body["error"]["problems"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["column"].as_str())
        .collect();
    for column in ["CURRENCYCODE", "NAME", "NOPE"] {
        assert!(columns.contains(&column), "{column} named in {body}");
    }
}

#[tokio::test]
async fn columns_the_schema_marks_read_only_are_refused_in_writes() {
    for db in TestDb::all() {
        columns_the_schema_marks_read_only_are_refused_in_writes_on(db).await;
    }
}

async fn columns_the_schema_marks_read_only_are_refused_in_writes_on(db: TestDb) {
    let app = TestApp::on(db).await;
    let mut schema = fixture("schema.json");
    let position = |schema: &Value, side: &str, name: &str| -> usize {
        schema[side].as_array().and_then(|t| t.iter().position(|t| t["name"] == name)).expect("table")
    };
    let i = position(&schema, "dataverse", "transactioncurrency");
    schema["dataverse"][i]["columns"]
        .as_array_mut()
        .expect("columns")
        .push(json!({"name": "versionnumber", "type": "integer", "read_only": true}));
    let i = position(&schema, "finops", "Currencies");
    schema["finops"][i]["columns"]
        .as_array_mut()
        .expect("columns")
        .push(json!({"name": "RECID", "type": "integer", "read_only": true}));
    let (status, body) = app.put("/api/v1/schema", schema).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let refused = |side: &'static str, op: Value| {
        let app = &app;
        async move {
            let (status, body) =
                app.post(&format!("/api/v1/envs/{side}/transactions"), json!({"ops": [op]})).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{op}: {body}");
            assert_eq!(body["error"]["code"], "READ_ONLY_COLUMN", "{op}: {body}");
            body
        }
    };
    let body = refused(
        "dataverse",
        json!({"op": "insert", "table": "transactioncurrency", "row": {"isocurrencycode": "EUR", "currencyname": "Euro", "versionnumber": 7}}),
    )
    .await;
    assert!(body["error"]["message"].as_str().unwrap_or_default().contains("versionnumber"), "{body}");
    assert_eq!(body["error"]["columns"], json!(["versionnumber"]), "{body}");
    // The id is assigned on insert, or given by the client; it is no read-only column to them.
    let id = "0b5f7f0e-8c1d-4a4e-9a55-6f1f4b0c2d11";
    app.write(
        "dataverse",
        json!([{"op": "insert", "table": "transactioncurrency", "row": {"transactioncurrencyid": id, "isocurrencycode": "EUR", "currencyname": "Euro"}}]),
    )
    .await;
    refused(
        "dataverse",
        json!({"op": "update", "table": "transactioncurrency", "key": {"isocurrencycode": "EUR"}, "row": {"versionnumber": 8}}),
    )
    .await;
    refused(
        "dataverse",
        json!({"op": "upsert", "table": "transactioncurrency", "key": {"transactioncurrencyid": id}, "row": {"currencyname": "Euro", "versionnumber": 8}}),
    )
    .await;
    // finops column names compare without case.
    refused(
        "finops",
        json!({"op": "insert", "table": "Currencies", "row": {"CURRENCYCODE": "EUR", "NAME": "Euro", "recid": 1}}),
    )
    .await;
    assert!(app.rows("finops", "Currencies", "").await.is_empty());
    let euro = app.row("dataverse", "transactioncurrency", "isocurrencycode eq 'EUR'").await;
    assert_eq!((euro["currencyname"].as_str(), euro.get("versionnumber")), (Some("Euro"), None), "{euro}");
}

#[tokio::test]
async fn keys_are_unique_the_way_the_source_systems_compare_them() {
    let app = contoso().await;
    app.write(
        "finops",
        json!([{"op": "insert", "table": "Currencies", "row": {"CURRENCYCODE": "EUR", "NAME": "Euro"}}]),
    )
    .await;
    let (status, body) = app
        .post("/api/v1/envs/finops/transactions", json!({"ops": [{"op": "insert", "table": "currencies", "row": {"currencycode": "eur", "name": "Euro again"}}]}))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("DUPLICATE_KEY")),
        "{body}"
    );
    let upserted = app
        .write("finops", json!([{"op": "upsert", "table": "Currencies", "row": {"CURRENCYCODE": "eur", "NAME": "Euro (upserted)"}}]))
        .await;
    assert_eq!(upserted["results"][0]["op"], "update", "an upsert of an existing key updates");
    assert_eq!(app.rows("finops", "Currencies", "").await.len(), 1);
}

#[tokio::test]
async fn rows_page_with_a_cursor_and_filter_in_each_sides_grammar() {
    let app = contoso().await;
    let ops: Vec<Value> = (0..7)
        .map(|i| json!({"op": "insert", "table": "Currencies", "row": {"CURRENCYCODE": format!("C{i}"), "NAME": format!("Currency {i}")}}))
        .collect();
    app.write("finops", Value::Array(ops)).await;
    let (_, first) = app.get("/api/v1/envs/finops/tables/Currencies/rows?limit=3").await;
    assert_eq!((first["total"].as_u64(), first["items"].as_array().map(Vec::len)), (Some(7), Some(3)));
    let next = first["next"].as_i64().expect("a next cursor");
    let (_, second) =
        app.get(&format!("/api/v1/envs/finops/tables/Currencies/rows?limit=10&after={next}")).await;
    assert_eq!(second["items"][0]["CURRENCYCODE"], "C3");
    assert_eq!(second["next"], Value::Null);
    let filtered = app.rows("finops", "Currencies", "(CURRENCYCODE == \"C2\") || (name like \"*6\")").await;
    assert_eq!(filtered.len(), 2);
    let (status, body) =
        app.get("/api/v1/envs/finops/tables/Currencies/rows?filter=CURRENCYCODE%20%3D%3D").await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("INVALID_FILTER")));
    let (status, body) =
        app.get("/api/v1/envs/dataverse/tables/account/rows?filter=contains(accountnumber,'A')").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("INVALID_FILTER")),
        "{body}"
    );
}

#[tokio::test]
async fn a_map_with_errors_saves_as_a_draft_but_does_not_run() {
    let app = contoso().await;
    let id = app.map_id("Customers V3 (accounts)").await;
    let (_, mut map) = app.get(&format!("/api/v1/maps/{id}")).await;
    let fields = map["fields"].as_array_mut().expect("fields");
    fields.retain(|f| f["dataverse"] != "accountnumber");
    let (status, saved) = app.put(&format!("/api/v1/maps/{id}"), map.clone()).await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert!(codes(&saved["diagnostics"]).contains(&"DIPV1014".to_owned()), "{saved}");
    let (_, diagnostics) = app.get(&format!("/api/v1/maps/{id}/diagnostics")).await;
    assert!(codes(&diagnostics["diagnostics"]).contains(&"DIPV1014".to_owned()));
    let (_, validated) = app.post("/api/v1/validate", json!({"map": map})).await;
    assert_eq!(validated["diagnostics"], diagnostics["diagnostics"], "one validation, whichever the door");
    let (status, body) =
        app.post("/api/v1/maps/run", json!({"maps": [{"id": id, "initial_sync": false}]})).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("VALIDATION_FAILED"))
    );
    assert!(codes(&body["error"]["diagnostics"]).contains(&"DIPV1014".to_owned()));
    let (_, after) = app.get(&format!("/api/v1/maps/{id}")).await;
    assert_eq!(after["status"], "not_running");
}

#[tokio::test]
async fn a_running_map_cannot_be_edited_or_deleted_until_stopped() {
    let app = contoso().await;
    let id = app.map_id("Currencies (transactioncurrencies)").await;
    let (status, _) =
        app.post("/api/v1/maps/run", json!({"maps": [{"id": id, "initial_sync": false}]})).await;
    assert_eq!(status, StatusCode::OK);
    let (_, map) = app.get(&format!("/api/v1/maps/{id}")).await;
    assert_eq!(map["status"], "running");
    let (status, body) = app.put(&format!("/api/v1/maps/{id}"), map.clone()).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("MAP_NOT_EDITABLE")));
    assert_eq!(app.delete(&format!("/api/v1/maps/{id}")).await, StatusCode::CONFLICT);
    let (status, body) = app.put("/api/v1/schema", fixture("schema.json")).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("MAPS_RUNNING")));
    let (status, body) =
        app.post("/api/v1/maps/run", json!({"maps": [{"id": id, "initial_sync": false}]})).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("INVALID_STATE")),
        "{body}"
    );
    let (status, stopped) = app.post(&format!("/api/v1/maps/{id}/stop"), json!({})).await;
    assert_eq!((status, stopped["status"].as_str()), (StatusCode::OK, Some("not_running")));
    assert_eq!(app.delete(&format!("/api/v1/maps/{id}")).await, StatusCode::NO_CONTENT);
    let (status, _) = app.get(&format!("/api/v1/maps/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_schema_with_problems_is_refused_with_every_problem() {
    let app = TestApp::new().await;
    let (status, body) = app
        .put("/api/v1/schema", json!({"format": "dualwrite.schema/v1", "companies": [], "finops": [{"name": 3}], "dataverse": [{"columns": "x"}]}))
        .await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("INVALID_SCHEMA")));
    assert!(body["error"]["problems"].as_array().map(Vec::len).unwrap_or(0) >= 2, "{body}");
    let (status, body) = app.get("/api/v1/schema").await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("NO_SCHEMA")));
}

#[tokio::test]
async fn related_maps_come_upstream_first() {
    let app = contoso().await;
    let id = app.map_id("Customers V3 (accounts)").await;
    let (_, related) = app.get(&format!("/api/v1/maps/{id}/related")).await;
    let names: Vec<&str> =
        related["items"].as_array().into_iter().flatten().filter_map(|m| m["name"].as_str()).collect();
    assert_eq!(names.last(), Some(&"Customers V3 (accounts)"), "{names:?}");
    for upstream in [
        "Legal entities (cdm_companies)",
        "Currencies (transactioncurrencies)",
        "Customer groups (msdyn_customergroups)",
    ] {
        assert!(names.contains(&upstream), "{upstream} in {names:?}");
    }
    let pos = |n: &str| names.iter().position(|x| *x == n);
    assert!(pos("Legal entities (cdm_companies)") < pos("Customer groups (msdyn_customergroups)"));
}

#[tokio::test]
async fn integration_keys_are_listed_set_by_hand_and_survive_refresh() {
    let app = contoso().await;
    let (_, keys) = app.get("/api/v1/integration-keys").await;
    let account = keys["items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|k| k["table"] == "account")
        .cloned()
        .unwrap_or_default();
    assert_eq!(account["fields"], json!(["accountnumber", "msdyn_company.cdm_companycode"]));
    let (status, body) =
        app.put("/api/v1/integration-keys/account", json!({"fields": ["nosuchcolumn"]})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, _) =
        app.put("/api/v1/integration-keys/transactioncurrency", json!({"fields": ["currencyname"]})).await;
    assert_eq!(status, StatusCode::OK);
    let (_, refreshed) = app.post("/api/v1/integration-keys/refresh", json!({})).await;
    let currency = refreshed["items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|k| k["table"] == "transactioncurrency")
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        (currency["fields"].clone(), currency["origin"].clone()),
        (json!(["currencyname"]), json!("manual"))
    );
}

#[tokio::test]
async fn packages_round_trip_in_both_shapes() {
    let app = contoso().await;
    let (status, native) = app.get("/api/v1/packages/export").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(native["format"], "dualwrite.package/v1");
    assert_eq!(native["maps"], fixture("package.json")["maps"], "exported maps are the imported ones");
    let (status, ms) = app.get("/api/v1/packages/export?format=msdyn_mapping").await;
    assert_eq!(status, StatusCode::OK);
    let other = TestApp::new().await;
    other.put("/api/v1/schema", fixture("schema.json")).await;
    let (status, imported) = other.post("/api/v1/packages/import", ms).await;
    assert_eq!(status, StatusCode::CREATED, "{imported}");
    let (_, again) = other.get("/api/v1/packages/export").await;
    // The legs shape groups fields by direction; the maps are the same up to field order.
    let by_fields = |maps: &Value| -> Vec<Value> {
        let mut maps = maps.as_array().cloned().unwrap_or_default();
        for map in &mut maps {
            if let Some(fields) = map["fields"].as_array_mut() {
                fields.sort_by_key(|f| f.to_string());
            }
        }
        maps
    };
    assert_eq!(
        by_fields(&again["maps"]),
        by_fields(&native["maps"]),
        "msdyn_mapping out and back in changes no map"
    );
    let (status, body) = app
        .post("/api/v1/packages/import", json!({"format": "dualwrite.package/v1", "maps": [{"name": 1}]}))
        .await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("INVALID_PACKAGE")));
}

/// Numbers a client sends that the database cannot hold are refused up front, on every backend (a
/// rule as invalid, 422; a query as malformed, 400), so they can neither fail the request with a 500
/// nor be stored and break later requests.
#[tokio::test]
async fn out_of_range_alert_windows_and_paging_offsets_are_refused() {
    for db in crate::support::TestDb::all() {
        let app = TestApp::on(db).await.with_contoso().await;
        let rule = |window: u64| json!({"rules": [{"error_types": [], "count": 1, "window_seconds": window, "action": "pause"}]});
        let (status, body) = app.put("/api/v1/alerts", rule(1_000_000_000_000)).await;
        assert_eq!(
            (status, body["error"]["problems"][0]["path"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("rules[0].window_seconds")),
            "{body}"
        );
        let (status, body) = app.put("/api/v1/alerts", rule(366 * 24 * 3600)).await;
        assert_eq!(status, StatusCode::OK, "a year's window is fine: {body}");

        let id = app.map_id("Currencies (transactioncurrencies)").await;
        let run = json!({"maps": [{"id": id, "initial_sync": true}]});
        assert_eq!(app.post("/api/v1/maps/run", run).await.0, StatusCode::OK);
        app.wait_for_status(&id, "running").await;
        let (status, body) =
            app.get(&format!("/api/v1/maps/{id}/initial-sync?offset=9223372036854775808")).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("INVALID_QUERY")),
            "{body}"
        );
        let (status, body) =
            app.get(&format!("/api/v1/maps/{id}/initial-sync?offset=9223372036854775807")).await;
        assert_eq!(status, StatusCode::OK, "the largest offset the store takes: {body}");
    }
}

/// During maintenance a malformed write still says what is wrong with it; only a write that could
/// be applied is told to come back later.
#[tokio::test]
async fn a_write_to_an_unavailable_side_is_checked_before_it_is_told_to_wait() {
    let app = contoso().await;
    app.put("/api/v1/envs/finops/availability", json!({"available": false})).await;
    let transaction = |op: Value| json!({"ops": [{"op": "insert", "table": "Currencies", "row": {"CURRENCYCODE": "CHF", "NAME": "Swiss franc"}}, op]});
    for (op, status, code) in [
        (
            json!({"op": "insert", "table": "NoSuchTable", "row": {"A": 1}}),
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
        ),
        (
            json!({"op": "insert", "table": "Currencies", "row": {"NOSUCHCOLUMN": 1}}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "INVALID_ROW",
        ),
        (json!({"op": "delete", "table": "Currencies"}), StatusCode::BAD_REQUEST, "INVALID_BODY"),
        (
            json!({"op": "update", "table": "Currencies", "key": {"CURRENCYCODE": "CHF"}, "row": {"NAME": "Franc"}}),
            StatusCode::SERVICE_UNAVAILABLE,
            "ENVIRONMENT_UNAVAILABLE",
        ),
    ] {
        let (got, body) = app.post("/api/v1/envs/finops/transactions", transaction(op.clone())).await;
        assert_eq!((got, body["error"]["code"].as_str()), (status, Some(code)), "{op}: {body}");
        if status == StatusCode::NOT_FOUND || status == StatusCode::UNPROCESSABLE_ENTITY {
            assert_eq!(body["error"]["op_index"], 1, "the error names the op: {body}");
        }
    }
}

/// Every `$ref` in `value`.
fn refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(o) => {
            if let Some(Value::String(target)) = o.get("$ref") {
                out.push(target.clone());
            }
            o.values().for_each(|v| refs(v, out));
        }
        Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

#[tokio::test]
async fn the_api_document_describes_the_body_of_every_success_and_every_shape_it_names() {
    let app = TestApp::new().await;
    let (status, document) = app.get("/api/v1/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    let mut undescribed = Vec::new();
    for (path, item) in document["paths"].as_object().into_iter().flatten() {
        for (method, operation) in item.as_object().into_iter().flatten() {
            for (status, answer) in operation["responses"].as_object().into_iter().flatten() {
                let schema = &answer["content"]["application/json"]["schema"];
                let described = schema.as_object().is_some_and(|s| !s.is_empty());
                if status.starts_with('2') && status != "204" && !described {
                    undescribed.push(format!("{method} {path} {status}: {answer}"));
                }
            }
        }
    }
    assert_eq!(undescribed, Vec::<String>::new(), "answers without a body schema");
    let mut named = Vec::new();
    refs(&document, &mut named);
    let missing: Vec<&String> = named
        .iter()
        .filter(|r| {
            let name = r.trim_start_matches("#/components/schemas/");
            !document["components"]["schemas"][name].is_object()
        })
        .collect();
    assert!(missing.is_empty(), "shapes named but not described: {missing:?}");
    let page = &document["components"]["schemas"]["PageOfMapListItem"];
    assert!(page["properties"]["next"].is_object(), "a page says where the next one starts: {page}");
}

#[tokio::test]
async fn a_body_that_may_be_left_out_is_refused_when_it_is_not_an_object() {
    let app = contoso().await;
    let (_, maps) = app.get("/api/v1/maps").await;
    let (id, status) = (maps["items"][0]["id"].clone(), maps["items"][0]["status"].clone());
    let id = id.as_str().expect("a map id").to_owned();
    for body in ["[]", "[false]", "7"] {
        let (answer, error) = app.post_raw(&format!("/api/v1/maps/{id}/initial-sync/rerun"), body).await;
        assert_eq!(
            (answer, error["error"]["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("INVALID_BODY")),
            "{body}: {error}"
        );
    }
    let (_, map) = app.get(&format!("/api/v1/maps/{id}")).await;
    assert_eq!(map["status"], status, "a refused rerun leaves the map as it was");
}
