//! `TestApp`: a router on a fresh store, called in-process, and the store backends under test.

use std::sync::atomic::{AtomicUsize, Ordering};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use dualwrite_server::http::{self, AppState};
use dualwrite_server::store::Store;
use http_body_util::BodyExt;
use serde_json::{json, Value};
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
        off_runtime(|| {
            let mut admin =
                postgres::Client::connect(&admin_url, postgres::NoTls).expect("connect to postgres");
            admin.batch_execute(&format!("CREATE DATABASE {name}")).expect("create a test database");
        });
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
            off_runtime(|| {
                if let Ok(mut admin) = postgres::Client::connect(admin_url, postgres::NoTls) {
                    let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
                }
            });
        }
    }
}

/// Runs blocking database administration on a thread of its own: the synchronous PostgreSQL client
/// cannot run on an async runtime's thread.
fn off_runtime(work: impl FnOnce() + Send) {
    std::thread::scope(|s| {
        if s.spawn(work).join().is_err() {
            panic!("database administration failed");
        }
    });
}

/// The router of a server on its own database, called in-process.
pub struct TestApp {
    router: axum::Router,
    worker: tokio::task::JoinHandle<()>,
    activity: std::sync::Arc<dualwrite_server::worker::Activity>,
    /// The database, shared with the other servers started on it by [`TestApp::another_server`].
    db: std::sync::Arc<TestDb>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.worker.abort();
    }
}

impl TestApp {
    pub async fn new() -> TestApp {
        Self::on(TestDb::sqlite()).await
    }

    pub async fn on(db: TestDb) -> TestApp {
        Self::serving(std::sync::Arc::new(db), ADMIN_TOKEN).await
    }

    /// A second server on this one's database (as behind a load balancer), started with the admin
    /// token `admin_token`; its own requests through [`TestApp::call_as`].
    pub async fn another_server(&self, admin_token: &str) -> TestApp {
        Self::serving(self.db.clone(), admin_token).await
    }

    async fn serving(db: std::sync::Arc<TestDb>, admin_token: &str) -> TestApp {
        let (db, store) = tokio::task::spawn_blocking(move || {
            let store = db.open();
            (db, store)
        })
        .await
        .expect("open store");
        let state = AppState::new(store);
        let (store, tokens, secret) = (state.store.clone(), state.tokens.clone(), admin_token.to_owned());
        tokio::task::spawn_blocking(move || tokens.set_bootstrap(&store, &secret))
            .await
            .expect("join")
            .expect("admin token");
        let worker = state.start_worker();
        let activity = state.activity.clone();
        let router = http::router(state, None);
        TestApp { router, worker, activity, db }
    }

    /// What the background worker has done so far.
    pub fn activity(&self) -> &dualwrite_server::worker::Activity {
        &self.activity
    }

    /// Waits (polling, up to a deadline) until the background worker has made `n` more rounds.
    pub async fn wait_for_worker_rounds(&self, n: u64) {
        let target = self.activity.rounds() + n;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while self.activity.rounds() < target {
            assert!(std::time::Instant::now() < deadline, "the worker made fewer than {n} rounds");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// The database this server runs on.
    pub fn db(&self) -> &TestDb {
        &self.db
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.send(Request::get(path).body(Body::empty()).expect("request")).await
    }

    /// Calls `method path` as the holder of `token` (none: no Authorization header), with `body`.
    pub async fn call_as(
        &self,
        token: Option<&str>,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let request = match body {
            Some(body) => {
                request.header("content-type", "application/json").body(Body::from(body.to_string()))
            }
            None => request.body(Body::empty()),
        };
        self.answer(request.expect("request")).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send_json("POST", path, body).await
    }

    pub async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send_json("PUT", path, body).await
    }

    pub async fn delete(&self, path: &str) -> StatusCode {
        let request = Request::delete(path).body(Body::empty()).expect("request");
        self.router.clone().oneshot(as_admin(request)).await.expect("router answers").status()
    }

    /// Sends `body` (raw, labelled JSON) as the admin, for malformed input.
    pub async fn raw_as_admin(&self, method: &str, path: &str, body: Option<String>) -> (StatusCode, Value) {
        let request = Request::builder().method(method).uri(path).header("content-type", "application/json");
        let request = request.body(body.map(Body::from).unwrap_or_else(Body::empty)).expect("request");
        self.answer(as_admin(request)).await
    }

    /// The status and the JSON body of `request` as sent (null when the body is not JSON).
    async fn answer(&self, request: Request<Body>) -> (StatusCode, Value) {
        let response = self.router.clone().oneshot(request).await.expect("router answers");
        let status = response.status();
        let bytes = response.into_body().collect().await.expect("body").to_bytes();
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    /// Posts a document that is not JSON (a `$metadata` XML, a solution zip, a data export) as the
    /// admin.
    pub async fn post_document(&self, path: &str, content_type: &str, body: Vec<u8>) -> (StatusCode, Value) {
        let request =
            Request::post(path).header("content-type", content_type).body(Body::from(body)).expect("request");
        self.send(request).await
    }

    /// Sends raw bytes as a JSON body, for malformed input.
    pub async fn post_raw(&self, path: &str, body: &str) -> (StatusCode, Value) {
        let request = Request::post(path)
            .header("content-type", "application/json")
            .body(Body::from(body.to_owned()))
            .expect("request");
        self.send(request).await
    }

    async fn send_json(&self, method: &str, path: &str, body: Value) -> (StatusCode, Value) {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .expect("request");
        self.send(request).await
    }

    /// Gets `path` as the admin: the status, the content type and the body's bytes.
    pub async fn get_bytes(&self, path: &str) -> (StatusCode, String, Vec<u8>) {
        let request = Request::get(path).body(Body::empty()).expect("request");
        let response = self.router.clone().oneshot(as_admin(request)).await.expect("router answers");
        let status = response.status();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let bytes = response.into_body().collect().await.expect("body").to_bytes();
        (status, content_type, bytes.to_vec())
    }

    /// Posts JSON and returns the answer as text (for CSV).
    pub async fn post_text(&self, path: &str, body: Value) -> String {
        let request = Request::post(path)
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .expect("request");
        let response = self.router.clone().oneshot(as_admin(request)).await.expect("router answers");
        assert_eq!(response.status(), StatusCode::OK);
        let bytes = response.into_body().collect().await.expect("body").to_bytes();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// Posts a transaction on `side` and expects it to succeed.
    pub async fn write(&self, side: &str, ops: Value) -> Value {
        let (status, body) =
            self.post(&format!("/api/v1/envs/{side}/transactions"), json!({ "ops": ops })).await;
        assert_eq!(status, StatusCode::OK, "transaction on {side} failed: {body}");
        body
    }

    /// The rows of a table that pass `filter` (in that side's grammar).
    pub async fn rows(&self, side: &str, table: &str, filter: &str) -> Vec<Value> {
        let filter = urlencode(filter);
        let (status, body) =
            self.get(&format!("/api/v1/envs/{side}/tables/{table}/rows?limit=1000&filter={filter}")).await;
        assert_eq!(status, StatusCode::OK, "rows of {side} {table}: {body}");
        body["items"].as_array().cloned().unwrap_or_default()
    }

    /// The one row of a table that passes `filter`.
    pub async fn row(&self, side: &str, table: &str, filter: &str) -> Value {
        let rows = self.rows(side, table, filter).await;
        assert_eq!(rows.len(), 1, "expected one {side} {table} row with {filter}, found {rows:?}");
        rows.into_iter().next().unwrap_or_default()
    }

    /// The audit trail.
    pub async fn events(&self) -> Vec<Value> {
        let mut all = Vec::new();
        let mut after = 0;
        loop {
            let (status, body) = self.get(&format!("/api/v1/events?limit=1000&after={after}")).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            let page = body["items"].as_array().cloned().unwrap_or_default();
            match body["next"].as_i64() {
                Some(next) if !page.is_empty() => after = next,
                _ => return all,
            }
            all.extend(page);
        }
    }

    /// The Contoso schema and four maps (from the shared fixtures), loaded through the API.
    pub async fn with_contoso(self) -> TestApp {
        let (status, body) = self.put("/api/v1/schema", fixture("schema.json")).await;
        assert_eq!(status, StatusCode::OK, "schema: {body}");
        let (status, body) = self.post("/api/v1/packages/import", fixture("package.json")).await;
        assert_eq!(status, StatusCode::CREATED, "package: {body}");
        self
    }

    /// The id of the map named `name`.
    pub async fn map_id(&self, name: &str) -> String {
        let (_, body) = self.get("/api/v1/maps").await;
        let items = body["items"].as_array().cloned().unwrap_or_default();
        let found = items.iter().find(|m| m["name"] == name).unwrap_or_else(|| panic!("no map named {name}"));
        found["id"].as_str().expect("id").to_owned()
    }

    /// Waits (polling, up to a deadline) until the map's status is `status`; returns the map.
    pub async fn wait_for_status(&self, id: &str, status: &str) -> Value {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let (_, map) = self.get(&format!("/api/v1/maps/{id}")).await;
            if map["status"] == status {
                return map;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "map {id} never became {status}; it is {}",
                map["status"]
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// Runs every map, live only.
    pub async fn run_all(&self) {
        let (_, body) = self.get("/api/v1/maps").await;
        let maps: Vec<Value> = body["items"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|m| json!({"id": m["id"], "initial_sync": false}))
            .collect();
        let (status, body) = self.post("/api/v1/maps/run", json!({ "maps": maps })).await;
        assert_eq!(status, StatusCode::OK, "run: {body}");
    }

    /// Sends `request` (as the admin unless it carries a token) and returns the whole answer: status,
    /// headers and body bytes.
    pub async fn exchange(&self, request: Request<Body>) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
        let response = self.router.clone().oneshot(as_admin(request)).await.expect("router answers");
        let (status, headers) = (response.status(), response.headers().clone());
        let bytes = response.into_body().collect().await.expect("body").to_bytes();
        (status, headers, bytes.to_vec())
    }

    /// Sends `request` as the admin.
    async fn send(&self, request: Request<Body>) -> (StatusCode, Value) {
        let response = self.router.clone().oneshot(as_admin(request)).await.expect("router answers");
        let status = response.status();
        let bytes = response.into_body().collect().await.expect("body").to_bytes();
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| panic!("{status}: body is not JSON: {}", String::from_utf8_lossy(&bytes)));
        (status, body)
    }
}

/// The admin token every test app starts with.
pub const ADMIN_TOKEN: &str = "dw_test_admin_token_0123456789";

/// An HTTP client that sends the admin's bearer token, for tests against a real server process.
pub fn admin_client() -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("authorization", format!("Bearer {ADMIN_TOKEN}").parse().expect("header value"));
    reqwest::Client::builder().default_headers(headers).build().expect("http client")
}

/// `request` with the admin's bearer token, unless it carries one already.
fn as_admin(mut request: Request<Body>) -> Request<Body> {
    if !request.headers().contains_key("authorization") {
        let value = format!("Bearer {ADMIN_TOKEN}").parse().expect("header value");
        request.headers_mut().insert("authorization", value);
    }
    request
}

/// A Contoso fixture from the shared folder beside the project.
pub fn fixture(name: &str) -> Value {
    let path = format!("{}/../../fixtures/contoso/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The bytes of a file under the repository's `fixtures/` (`contoso/…`, `real/…`).
pub fn fixture_bytes(path: &str) -> Vec<u8> {
    let path = format!("{}/../../fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

/// Percent-encodes a query-string value.
pub fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}
