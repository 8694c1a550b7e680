use axum::http::StatusCode;

use crate::support::TestApp;

#[tokio::test]
async fn health_reports_ok_and_the_version() {
    let app = TestApp::new().await;
    let (status, body) = app.get("/api/v1/health").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "ok");
    assert_eq!(body["version"], dualwrite_core::VERSION);
}

#[tokio::test]
async fn an_unknown_endpoint_is_a_json_404() {
    let app = TestApp::new().await;
    let (status, body) = app.get("/api/v1/no-such-thing").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], "NOT_FOUND");
    assert!(body["error"]["message"].as_str().unwrap_or_default().contains("/api/v1/no-such-thing"));
}
