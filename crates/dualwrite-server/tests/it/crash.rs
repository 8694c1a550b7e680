//! Crash safety: a real `dualwrite serve` killed with SIGKILL at random moments during initial sync,
//! live writes, queueing and catch-up, then restarted on the same database. After every restart
//! nothing acknowledged is lost, nothing queued is replayed twice, and both sides agree.
//!
//! 20 cycles run by default; `DUALWRITE_CRASH_CYCLES=200` runs a longer soak.

use std::collections::{BTreeMap, HashSet};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::support::{admin_client, fixture, TestDb, ADMIN_TOKEN};

const MAP: &str = "Currencies (transactioncurrencies)";

/// A `dualwrite serve` process on a database that outlives it.
pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) base: String,
    pub(crate) http: reqwest::Client,
}

impl Server {
    fn start(db: &str) -> Server {
        Server::start_with(db, &[], "error", Stdio::null())
    }

    /// Starts `dualwrite serve` on `db` with `args` besides, logging at `level` to `stderr`.
    pub(crate) fn start_with(db: &str, args: &[&str], level: &str, stderr: Stdio) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_dualwrite"))
            .args(["serve", "--bind", "127.0.0.1:0", "--db", db, "--studio-dir", "/nonexistent"])
            .args(args)
            .env("RUST_LOG", level)
            .env("DUALWRITE_ADMIN_TOKEN", ADMIN_TOKEN)
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("start dualwrite");
        let stdout = child.stdout.take().expect("stdout");
        let line = BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .find(|l| l.contains("http://"))
            .expect("listening");
        let base = line[line.find("http://").unwrap_or(0)..].trim_end_matches('/').to_owned();
        Server { child, base, http: admin_client() }
    }

    /// SIGKILL: no shutdown, no flush, whatever was in flight is cut.
    pub(crate) fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub(crate) async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<(u16, Value), reqwest::Error> {
        let mut request =
            self.http.request(method, format!("{}/api/v1{path}", self.base)).timeout(Duration::from_secs(30));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        Ok((status, response.json().await.unwrap_or(Value::Null)))
    }

    pub(crate) async fn get(&self, path: &str) -> Value {
        let (status, body) = self.call(reqwest::Method::GET, path, None).await.expect("GET");
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    pub(crate) async fn post(&self, path: &str, body: Value) -> Value {
        let (status, answer) = self.call(reqwest::Method::POST, path, Some(body)).await.expect("POST");
        assert_eq!(status, 200, "POST {path}: {answer}");
        answer
    }

    async fn map(&self) -> Value {
        let maps = self.get("/maps").await;
        maps["items"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|m| m["name"] == MAP)
            .cloned()
            .expect("the currencies map")
    }

    /// Waits until the map has settled: no initial sync or catch-up under way and nothing queued.
    async fn settled(&self) -> Value {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let map = self.map().await;
            if matches!(map["status"].as_str(), Some("running" | "not_running" | "paused"))
                && map["queued"] == 0
            {
                return map;
            }
            if map["status"] == "paused" {
                return map;
            }
            assert!(Instant::now() < deadline, "the map did not settle: {map}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub(crate) async fn all_rows(&self, side: &str, table: &str) -> Vec<Value> {
        let (mut rows, mut after) = (Vec::new(), 0);
        loop {
            let page = self.get(&format!("/envs/{side}/tables/{table}/rows?limit=1000&after={after}")).await;
            rows.extend(page["items"].as_array().cloned().unwrap_or_default());
            match page["next"].as_i64() {
                Some(next) => after = next,
                None => return rows,
            }
        }
    }

    pub(crate) async fn all_events(&self) -> Vec<Value> {
        let (mut events, mut after) = (Vec::new(), 0);
        loop {
            let page = self.get(&format!("/events?limit=1000&after={after}")).await;
            let items = page["items"].as_array().cloned().unwrap_or_default();
            if items.is_empty() {
                return events;
            }
            after = page["next"].as_i64().unwrap_or(after);
            events.extend(items);
        }
    }
}

/// A small deterministic generator, so a failing cycle can be run again.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

/// A three-character currency code for `n` (the column holds three).
fn base36(n: usize) -> String {
    const DIGITS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    (0..3).rev().map(|i| DIGITS[(n / 36usize.pow(i)) % 36] as char).collect()
}

/// Writes acknowledged by the server: (side, code) → the last name it answered 200 for.
type Acked = Arc<Mutex<BTreeMap<(String, String), String>>>;

/// Writes until the server dies: inserts of new codes and renames of existing ones, on both sides.
fn workload(server: &Server, cycle: usize, acked: Acked) -> tokio::task::JoinHandle<()> {
    let (http, base) = (server.http.clone(), server.base.clone());
    tokio::spawn(async move {
        for n in 0.. {
            let code = format!("#{:02}", n % 40);
            let name = format!("c{cycle}-w{n}");
            let (side, op) = if n % 2 == 0 {
                (
                    "finops",
                    json!({"op": "upsert", "table": "Currencies", "row": {"CURRENCYCODE": code, "NAME": name}}),
                )
            } else {
                (
                    "dataverse",
                    json!({"op": "upsert", "table": "transactioncurrency", "row": {"isocurrencycode": code, "currencyname": name}}),
                )
            };
            let sent = http
                .post(format!("{base}/api/v1/envs/{side}/transactions"))
                .json(&json!({"ops": [op]}))
                .send()
                .await;
            match sent {
                Ok(r) if r.status().is_success() => {
                    if let Ok(mut a) = acked.lock() {
                        a.insert((side.to_owned(), code), name);
                    }
                }
                Ok(_) => {}
                Err(_) => return,
            }
        }
    })
}

async fn crash_cycles(db: TestDb, cycles: usize) {
    let mut server = Server::start(&db.url);
    server.call(reqwest::Method::PUT, "/schema", Some(fixture("schema.json"))).await.expect("schema");
    server
        .call(reqwest::Method::POST, "/packages/import", Some(fixture("package.json")))
        .await
        .expect("package");
    let id = server.map().await["id"].as_str().expect("id").to_owned();
    let acked: Acked = Arc::default();
    let mut rng = Lcg(7);
    for cycle in 0..cycles {
        let phase = cycle % 4;
        let map = server.settled().await;
        match (phase, map["status"].as_str()) {
            // Initial sync: stop, write to both sides unsynced, run with initial sync, crash.
            (0, status) => {
                if status != Some("not_running") {
                    server.post(&format!("/maps/{id}/stop"), json!({})).await;
                }
                let rows: Vec<Value> = (0..300)
                    .map(|n| json!({"op": "upsert", "table": "Currencies", "row": {"CURRENCYCODE": base36(cycle * 300 + n), "NAME": format!("initial {n}")}}))
                    .collect();
                server.post("/envs/finops/transactions", json!({"ops": rows})).await;
                server
                    .post(
                        "/maps/run",
                        json!({"maps": [{"id": id, "initial_sync": true, "master": "finops"}]}),
                    )
                    .await;
            }
            // Live writes while running.
            (1, Some("running")) => {}
            (1, _) => {
                server
                    .post(
                        "/maps/run",
                        json!({"maps": [{"id": id, "initial_sync": true, "master": "finops"}]}),
                    )
                    .await;
            }
            // Queueing while paused.
            (2, Some("running")) => {
                server.post(&format!("/maps/{id}/pause"), json!({})).await;
            }
            // Catch-up of what queued.
            (3, Some("paused")) => {
                server.post(&format!("/maps/{id}/resume"), json!({"mode": "catch_up"})).await;
            }
            _ => {}
        }
        let writer = workload(&server, cycle, acked.clone());
        tokio::time::sleep(Duration::from_millis(20 + rng.below(400))).await;
        server.kill();
        let _ = writer.await;
        server = Server::start(&db.url);
        verify(&server, &acked, cycle).await;
    }
    server.kill();
}

/// After a restart: every acknowledged write is there; once the map runs and its queue is empty, both
/// sides agree; no queued change was replayed twice.
async fn verify(server: &Server, acked: &Acked, cycle: usize) {
    let map = server.settled().await;
    let finops: BTreeMap<String, Value> = server
        .all_rows("finops", "Currencies")
        .await
        .into_iter()
        .map(|r| (r["CURRENCYCODE"].as_str().unwrap_or_default().to_lowercase(), r))
        .collect();
    let dataverse: BTreeMap<String, Value> = server
        .all_rows("dataverse", "transactioncurrency")
        .await
        .into_iter()
        .map(|r| (r["isocurrencycode"].as_str().unwrap_or_default().to_lowercase(), r))
        .collect();
    let acked = acked.lock().map(|a| a.clone()).unwrap_or_default();
    for (side, code) in acked.keys() {
        let rows = if side == "finops" { &finops } else { &dataverse };
        assert!(
            rows.contains_key(&code.to_lowercase()),
            "cycle {cycle}: acknowledged {side} write of {code} is lost"
        );
    }
    if map["status"] == "running" {
        assert_eq!(
            finops.keys().collect::<Vec<_>>(),
            dataverse.keys().collect::<Vec<_>>(),
            "cycle {cycle}: same rows on both sides"
        );
        for (code, f) in &finops {
            assert_eq!(f["NAME"], dataverse[code]["currencyname"], "cycle {cycle}: {code} agrees");
        }
    }
    let mut replayed = HashSet::new();
    let events = server.all_events().await;
    let replays = events.iter().filter_map(|e| match e["kind"].as_str() {
        Some("replayed") => e["seq"].as_i64(),
        Some("twin_write") => e["replay_of"].as_i64(),
        _ => None,
    });
    for seq in replays {
        assert!(replayed.insert(seq), "cycle {cycle}: queued change {seq} replayed twice");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_at_random_moments_the_server_loses_nothing_and_applies_nothing_twice() {
    let cycles = std::env::var("DUALWRITE_CRASH_CYCLES").ok().and_then(|c| c.parse().ok()).unwrap_or(20);
    crash_cycles(TestDb::sqlite(), cycles).await;
}

#[cfg_attr(not(postgres_tests), ignore = "needs PostgreSQL: set DUALWRITE_TEST_POSTGRES_URL")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_at_random_moments_the_server_loses_nothing_on_postgres() {
    if let Some(db) = TestDb::postgres() {
        let cycles = std::env::var("DUALWRITE_CRASH_CYCLES").ok().and_then(|c| c.parse().ok()).unwrap_or(8);
        crash_cycles(db, cycles).await;
    }
}
