//! Who may call what: every endpoint against every role (DESIGN.md §4 "Security"), tokens issued and
//! revoked, and the limits that keep a request from hurting the server.

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::support::{TestApp, TestDb, ADMIN_TOKEN};

/// The roles that may call each endpoint, as DESIGN.md §4 gives them: admin all; maker schema, keys
/// and maps; app environment data writes; viewer reads only. Every endpoint the server declares must
/// be listed here, so a new one cannot arrive without a decision on who may call it.
const MATRIX: &[(&str, &str, &[&str])] = &[
    ("GET", "/health", PUBLIC),
    ("GET", "/openapi.json", PUBLIC),
    ("GET", "/session", EVERYONE),
    ("GET", "/tokens", ADMIN),
    ("POST", "/tokens", ADMIN),
    ("DELETE", "/tokens/{id}", ADMIN),
    ("GET", "/schema", EVERYONE),
    ("PUT", "/schema", DESIGNERS),
    ("GET", "/envs/{side}/tables", EVERYONE),
    ("PUT", "/envs/{side}/tables/{table}", DESIGNERS),
    ("GET", "/envs/{side}/tables/{table}/rows", EVERYONE),
    ("POST", "/envs/{side}/transactions", WRITERS),
    ("POST", "/envs/{side}/tables/{table}/load", WRITERS),
    ("POST", "/envs/{side}/load", WRITERS),
    ("GET", "/envs/{side}/availability", EVERYONE),
    ("PUT", "/envs/{side}/availability", DESIGNERS),
    ("GET", "/integration-keys", EVERYONE),
    ("POST", "/integration-keys/refresh", DESIGNERS),
    ("PUT", "/integration-keys/{table}", DESIGNERS),
    ("GET", "/maps", EVERYONE),
    ("POST", "/maps", DESIGNERS),
    ("POST", "/maps/run", DESIGNERS),
    ("GET", "/maps/{id}", EVERYONE),
    ("PUT", "/maps/{id}", DESIGNERS),
    ("DELETE", "/maps/{id}", DESIGNERS),
    ("GET", "/maps/{id}/diagnostics", EVERYONE),
    ("GET", "/maps/{id}/related", EVERYONE),
    ("POST", "/maps/{id}/pause", DESIGNERS),
    ("POST", "/maps/{id}/resume", DESIGNERS),
    ("POST", "/maps/{id}/stop", DESIGNERS),
    ("POST", "/maps/{id}/skip-to-live", DESIGNERS),
    ("GET", "/maps/{id}/initial-sync", EVERYONE),
    ("POST", "/maps/{id}/initial-sync/rerun", DESIGNERS),
    ("POST", "/maps/{id}/initial-sync/skip", DESIGNERS),
    ("POST", "/maps/{id}/preflight", EVERYONE),
    ("GET", "/maps/{id}/queue", EVERYONE),
    ("GET", "/maps/{id}/catch-up-errors", EVERYONE),
    ("POST", "/maps/{id}/catch-up-errors/retry", DESIGNERS),
    ("GET", "/alerts", EVERYONE),
    ("PUT", "/alerts", DESIGNERS),
    ("POST", "/validate", EVERYONE),
    ("GET", "/packages/export", EVERYONE),
    ("POST", "/packages/import", DESIGNERS),
    ("POST", "/schema/import", DESIGNERS),
    ("GET", "/events", EVERYONE),
];

const PUBLIC: &[&str] = &[];
const EVERYONE: &[&str] = &["admin", "maker", "app", "viewer"];
const DESIGNERS: &[&str] = &["admin", "maker"];
const WRITERS: &[&str] = &["admin", "app"];
const ADMIN: &[&str] = &["admin"];

async fn issue(app: &TestApp, name: &str, role: &str) -> (String, String) {
    let (status, body) = app
        .call_as(Some(ADMIN_TOKEN), "POST", "/api/v1/tokens", Some(json!({"name": name, "role": role})))
        .await;
    assert_eq!(status, StatusCode::CREATED, "issue {role}: {body}");
    (
        body["token"].as_str().unwrap_or_default().to_owned(),
        body["id"].as_str().unwrap_or_default().to_owned(),
    )
}

/// A body good enough to get past parsing, so an allowed call reaches its handler.
fn body_for(method: &str, path: &str) -> Option<Value> {
    if method == "GET" || method == "DELETE" {
        return None;
    }
    Some(match path {
        "/tokens" => json!({"name": "matrix", "role": "viewer"}),
        "/envs/{side}/transactions" => json!({"ops": []}),
        "/envs/{side}/availability" => json!({"available": true}),
        "/maps/run" => json!({"maps": []}),
        "/maps/{id}/resume" => json!({"mode": "catch_up"}),
        "/alerts" => json!({"rules": []}),
        _ => json!({}),
    })
}

#[tokio::test]
async fn every_endpoint_refuses_the_roles_that_may_not_call_it_and_serves_those_that_may() {
    let app = TestApp::new().await.with_contoso().await;
    let map = app.map_id("Customers V3 (accounts)").await;

    let (status, spec) = app.call_as(None, "GET", "/api/v1/openapi.json", None).await;
    assert_eq!(status, StatusCode::OK);
    let mut declared: Vec<(String, String)> = Vec::new();
    for (path, item) in spec["paths"].as_object().into_iter().flatten() {
        for method in item.as_object().into_iter().flatten().map(|(m, _)| m.to_uppercase()) {
            declared.push((method, path.clone()));
        }
    }
    let mut listed: Vec<(String, String)> =
        MATRIX.iter().map(|(m, p, _)| (m.to_string(), p.to_string())).collect();
    declared.sort();
    listed.sort();
    assert_eq!(declared, listed, "the matrix must list exactly the endpoints the server declares");

    let mut tokens = vec![("admin", ADMIN_TOKEN.to_owned())];
    for role in ["maker", "app", "viewer"] {
        tokens.push((role, issue(&app, role, role).await.0));
    }
    let (_, spare) = issue(&app, "to revoke", "viewer").await;

    for (method, template, allowed) in MATRIX {
        let path = format!(
            "/api/v1{}",
            template
                .replace("{side}", "finops")
                .replace("{table}", "CustomersV3")
                .replace("{id}", if template.starts_with("/tokens") { &spare } else { &map })
        );
        let body = body_for(method, template);
        let (status, answer) = app.call_as(None, method, &path, body.clone()).await;
        if allowed.is_empty() {
            assert_eq!(status, StatusCode::OK, "{method} {path} is public: {answer}");
            continue;
        }
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path} without a token: {answer}");
        assert_eq!(answer["error"]["code"], "UNAUTHORIZED");
        let (status, _) = app.call_as(Some("dw_not_a_token_at_all"), method, &path, body.clone()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path} with an unknown token");

        for (role, token) in &tokens {
            let (status, answer) = app.call_as(Some(token), method, &path, body.clone()).await;
            if allowed.contains(role) {
                assert!(
                    status != StatusCode::UNAUTHORIZED
                        && status != StatusCode::FORBIDDEN
                        && !status.is_server_error(),
                    "{role} may {method} {path} but got {status}: {answer}"
                );
            } else {
                assert_eq!(status, StatusCode::FORBIDDEN, "{role} may not {method} {path}: {answer}");
                assert_eq!(answer["error"]["code"], "FORBIDDEN");
                assert_eq!(answer["error"]["role"], *role);
            }
        }
    }
}

#[tokio::test]
async fn a_revoked_token_is_refused_at_once_and_the_secret_is_never_listed() {
    let app = TestApp::new().await;
    let (secret, id) = issue(&app, "integration user", "app").await;
    let (status, me) = app.call_as(Some(&secret), "GET", "/api/v1/session", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me, json!({"token_id": id, "name": "integration user", "role": "app"}));

    let (status, listed) = app.call_as(Some(ADMIN_TOKEN), "GET", "/api/v1/tokens", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed["total"], 2, "the bootstrap admin and the new token: {listed}");
    assert!(!listed.to_string().contains(&secret), "secrets are never shown again");

    let (status, revoked) =
        app.call_as(Some(ADMIN_TOKEN), "DELETE", &format!("/api/v1/tokens/{id}"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(revoked["revoked_at"].is_string(), "{revoked}");
    let (status, answer) = app.call_as(Some(&secret), "GET", "/api/v1/session", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{answer}");

    let (status, answer) = app.call_as(Some(ADMIN_TOKEN), "DELETE", "/api/v1/tokens/bootstrap", None).await;
    assert_eq!(status, StatusCode::CONFLICT, "the admin cannot lock everyone out: {answer}");
    let (status, answer) = app.call_as(Some(ADMIN_TOKEN), "DELETE", "/api/v1/tokens/nope", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");
    let (status, answer) = app
        .call_as(Some(ADMIN_TOKEN), "POST", "/api/v1/tokens", Some(json!({"name": " ", "role": "app"})))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(answer["error"]["problems"][0]["path"], "name");
    let (status, answer) = app
        .call_as(Some(ADMIN_TOKEN), "POST", "/api/v1/tokens", Some(json!({"name": "x", "role": "root"})))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
}

#[tokio::test]
async fn bad_requests_get_the_error_body_and_a_4xx_and_the_server_stays_up() {
    let app = TestApp::new().await.with_contoso().await;
    let nested = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let deep_filter = format!("{}AccountNumber eq 'x'{}", "(".repeat(10_000), ")".repeat(10_000));
    let cases: Vec<(&str, String, String, StatusCode)> = vec![
        ("POST", "/api/v1/envs/finops/transactions".into(), "{\"ops\": [".into(), StatusCode::BAD_REQUEST),
        ("POST", "/api/v1/envs/finops/transactions".into(), r#"{"ops": 7}"#.into(), StatusCode::BAD_REQUEST),
        (
            "POST",
            "/api/v1/envs/finops/transactions".into(),
            r#"{"ops": [{"op": "insert", "table": "NoSuchTable", "row": {"A": 1}}]}"#.into(),
            StatusCode::NOT_FOUND,
        ),
        ("POST", "/api/v1/validate".into(), nested, StatusCode::BAD_REQUEST),
        ("PUT", "/api/v1/alerts".into(), "x".repeat(100 << 20), StatusCode::PAYLOAD_TOO_LARGE),
        (
            "GET",
            format!(
                "/api/v1/envs/dataverse/tables/account/rows?filter={}",
                crate::support::urlencode(&deep_filter)
            ),
            String::new(),
            StatusCode::BAD_REQUEST,
        ),
        ("PATCH", "/api/v1/maps".into(), String::new(), StatusCode::METHOD_NOT_ALLOWED),
    ];
    for (method, path, body, expected) in cases {
        let body = (!body.is_empty()).then_some(body);
        let (status, answer) = app.raw_as_admin(method, &path, body).await;
        assert_eq!(status, expected, "{method} {}: {answer}", &path[..path.len().min(80)]);
        assert!(answer["error"]["code"].is_string() && answer["error"]["message"].is_string(), "{answer}");
    }
    let (status, _) = app.get("/api/v1/health").await;
    assert_eq!(status, StatusCode::OK, "the server is still up");
}

#[tokio::test]
async fn servers_sharing_a_database_keep_each_others_admin_signed_in() {
    const OTHER: &str = "dw_test_other_servers_admin_token_42";
    for db in TestDb::all() {
        let backend = db.backend;
        let first = TestApp::on(db).await;
        let (status, me) = first.call_as(Some(ADMIN_TOKEN), "GET", "/api/v1/session", None).await;
        assert_eq!(status, StatusCode::OK, "{backend}: {me}");

        // A second server with its own admin token, and a third with the first one's.
        let second = first.another_server(OTHER).await;
        let third = first.another_server(ADMIN_TOKEN).await;
        for (server, name) in [(&second, "second"), (&third, "third")] {
            for token in [ADMIN_TOKEN, OTHER] {
                let (status, me) = server.call_as(Some(token), "GET", "/api/v1/session", None).await;
                assert_eq!(status, StatusCode::OK, "{backend}: the {name} server refuses an admin: {me}");
                assert_eq!(me["role"], "admin", "{backend}: {me}");
            }
        }
        let (status, listed) = third.call_as(Some(ADMIN_TOKEN), "GET", "/api/v1/tokens", None).await;
        assert_eq!(status, StatusCode::OK, "{backend}: {listed}");
        let bootstrap: Vec<&Value> =
            listed["items"].as_array().into_iter().flatten().filter(|t| t["bootstrap"] == true).collect();
        assert_eq!(bootstrap.len(), 2, "{backend}: one admin token per distinct secret: {listed}");

        // Each is revocable, but not by itself; a server started with a revoked one refuses to start.
        let (status, mine) = second.call_as(Some(OTHER), "GET", "/api/v1/session", None).await;
        assert_eq!(status, StatusCode::OK, "{backend}: {mine}");
        let own = format!("/api/v1/tokens/{}", mine["token_id"].as_str().unwrap_or_default());
        let (status, answer) = second.call_as(Some(OTHER), "DELETE", &own, None).await;
        assert_eq!(status, StatusCode::CONFLICT, "{backend}: {answer}");
        let (status, answer) = second.call_as(Some(ADMIN_TOKEN), "DELETE", &own, None).await;
        assert_eq!(status, StatusCode::OK, "{backend}: {answer}");
        let (status, answer) = second.call_as(Some(OTHER), "GET", "/api/v1/session", None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{backend}: {answer}");
        let url = first.db().url.clone();
        let refused = tokio::task::spawn_blocking(move || {
            let store = dualwrite_server::store::Store::open(&url).expect("open store");
            dualwrite_server::tokens::Tokens::default().set_bootstrap(&store, OTHER)
        })
        .await
        .expect("join");
        assert!(
            matches!(refused, Err(dualwrite_server::tokens::BootstrapError::Revoked { .. })),
            "{backend}: a revoked admin token must not come back with a restart: {refused:?}"
        );
    }
}
