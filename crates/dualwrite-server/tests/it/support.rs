//! `TestApp`: a router on a fresh store, called in-process, and the store backends under test.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use dualwrite_server::http::{self, AppState};
use dualwrite_server::store::Store;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

/// The router of a server on its own temporary SQLite file.
pub struct TestApp {
    router: axum::Router,
    _dir: tempfile::TempDir,
}

impl TestApp {
    pub fn new() -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let store =
            Store::open(&format!("sqlite://{}", dir.path().join("test.db").display())).expect("store");
        let router = http::router(AppState { store: Arc::new(store) }, None);
        TestApp { router, _dir: dir }
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.send(Request::get(path).body(Body::empty()).expect("request")).await
    }

    async fn send(&self, request: Request<Body>) -> (StatusCode, Value) {
        let response = self.router.clone().oneshot(request).await.expect("router answers");
        let status = response.status();
        let bytes = response.into_body().collect().await.expect("body").to_bytes();
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| panic!("{status}: body is not JSON: {}", String::from_utf8_lossy(&bytes)));
        (status, body)
    }
}

/// Each store backend available here: SQLite always, PostgreSQL when `DUALWRITE_TEST_POSTGRES_URL`
/// names a server.
pub fn backends() -> Vec<(String, Store, Option<tempfile::TempDir>)> {
    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite =
        Store::open(&format!("sqlite://{}", dir.path().join("contract.db").display())).expect("sqlite");
    let mut all = vec![("sqlite".to_owned(), sqlite, Some(dir))];
    match std::env::var("DUALWRITE_TEST_POSTGRES_URL") {
        Ok(url) => all.push(("postgres".to_owned(), Store::open(&url).expect("postgres store"), None)),
        Err(_) => eprintln!("note: DUALWRITE_TEST_POSTGRES_URL is unset; the PostgreSQL store is not tested"),
    }
    all
}
