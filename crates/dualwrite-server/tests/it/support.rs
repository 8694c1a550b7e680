//! `TestApp`: a router on a fresh store, called in-process, and the store backends under test.

use std::sync::atomic::{AtomicUsize, Ordering};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use dualwrite_server::http::{self, AppState};
use dualwrite_server::store::Store;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

/// A fresh, empty database of one backend, removed when dropped.
pub struct TestDb {
    pub backend: &'static str,
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg_admin: Option<(String, String)>,
}

impl TestDb {
    pub fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("test.db").display());
        TestDb { backend: "sqlite", url, _dir: Some(dir), pg_admin: None }
    }

    /// A new database on the server `DUALWRITE_TEST_POSTGRES_URL` names, or `None` where it is unset.
    pub fn postgres() -> Option<TestDb> {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let Ok(admin_url) = std::env::var("DUALWRITE_TEST_POSTGRES_URL") else {
            eprintln!("note: DUALWRITE_TEST_POSTGRES_URL is unset; the PostgreSQL store is not tested");
            return None;
        };
        let name = format!("dw_test_{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::SeqCst));
        let mut admin = postgres::Client::connect(&admin_url, postgres::NoTls).expect("connect to postgres");
        admin.batch_execute(&format!("CREATE DATABASE {name}")).expect("create a test database");
        let (base, _) = admin_url.rsplit_once('/').expect("postgres url names a database");
        let url = format!("{base}/{name}");
        Some(TestDb { backend: "postgres", url, _dir: None, pg_admin: Some((admin_url, name)) })
    }

    /// SQLite always, and PostgreSQL when configured.
    pub fn all() -> Vec<TestDb> {
        std::iter::once(TestDb::sqlite()).chain(TestDb::postgres()).collect()
    }

    pub fn open(&self) -> Store {
        Store::open(&self.url).unwrap_or_else(|e| panic!("{}: open store: {e}", self.backend))
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = &self.pg_admin {
            if let Ok(mut admin) = postgres::Client::connect(admin_url, postgres::NoTls) {
                let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
        }
    }
}

/// The router of a server on its own database, called in-process.
pub struct TestApp {
    router: axum::Router,
    _db: TestDb,
}

impl TestApp {
    pub async fn new() -> TestApp {
        Self::on(TestDb::sqlite()).await
    }

    pub async fn on(db: TestDb) -> TestApp {
        let (db, store) = tokio::task::spawn_blocking(move || {
            let store = db.open();
            (db, store)
        })
        .await
        .expect("open store");
        let router = http::router(AppState::new(store), None);
        TestApp { router, _db: db }
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
