//! Several servers on one database, as behind a load balancer: a map's background work (initial-sync
//! chunks, catch-up batches) is done by one server at a time and never twice, whichever server the
//! clients write through. The audit trail tells: every step names its owner, and a new owner takes a
//! map's work only by taking its lease (an `owner` event).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::crash::Server;
use crate::lifecycle::run;
use crate::support::{TestApp, TestDb, ADMIN_TOKEN};

const CURRENCIES: &str = "Currencies (transactioncurrencies)";
const LEGAL: &str = "Legal entities (cdm_companies)";

/// What the audit trail says about one map's background work.
#[derive(Debug, Default)]
pub(crate) struct Work {
    /// Steps (chunks, reference pages, catch-up batches) committed.
    pub steps: usize,
    /// The owners that did them.
    pub owners: BTreeSet<String>,
    /// Steps by another owner than the previous step's without a takeover of the lease in between:
    /// two servers working on the map at once.
    pub interleaved: usize,
    /// Chunks of an initial sync done again (its `done` count did not move forward).
    pub repeated_chunks: usize,
    /// Catch-up batches that started at or before a change an earlier batch took.
    pub repeated_batches: usize,
}

/// Reads map `map_id`'s background work from `events` (the whole audit trail, oldest first).
pub(crate) fn work_of(events: &[Value], map_id: &str) -> Work {
    let mut work = Work::default();
    let (mut previous, mut taken): (Option<String>, bool) = (None, false);
    let mut done: HashMap<String, u64> = HashMap::new();
    let mut replayed_up_to = 0;
    for event in events.iter().filter(|e| e["map_id"] == map_id) {
        let owner = event["owner"].as_str().unwrap_or_default().to_owned();
        match event["kind"].as_str() {
            Some("owner") => taken = true,
            Some(kind @ ("copied" | "catch_up")) => {
                work.steps += 1;
                if previous.as_ref().is_some_and(|p| *p != owner) && !taken {
                    work.interleaved += 1;
                }
                // A chunk covers the keys `done - rows .. done` of the copy, in key order.
                let rows = event["rows"].as_u64().unwrap_or_default();
                if kind == "copied" && rows > 0 {
                    let execution = event["execution"].to_string();
                    let now = event["done"].as_u64().unwrap_or_default();
                    if done.get(&execution).is_some_and(|&before| now - rows < before) {
                        work.repeated_chunks += 1;
                    }
                    done.insert(execution, now);
                }
                if kind == "catch_up" {
                    let first = event["first"].as_i64().unwrap_or_default();
                    if first <= replayed_up_to {
                        work.repeated_batches += 1;
                    }
                    replayed_up_to = event["last"].as_i64().unwrap_or(replayed_up_to);
                }
                work.owners.insert(owner.clone());
                previous = Some(owner);
                taken = false;
            }
            _ => {}
        }
    }
    work
}

/// Every change queued for map `map_id` taken off the queue exactly once (replayed, taken in by an
/// initial sync's copy, or set aside as a catch-up error), each key's changes in queue order: the
/// problems found, none when all is well.
pub(crate) fn queue_problems(events: &[Value], map_id: &str) -> Vec<String> {
    let mut queued: BTreeMap<i64, String> = BTreeMap::new();
    let mut taken: BTreeMap<i64, usize> = BTreeMap::new();
    let mut last_of_key: HashMap<String, i64> = HashMap::new();
    let mut problems = Vec::new();
    for event in events.iter().filter(|e| e["map_id"] == map_id) {
        // Event bodies that name a queued change carry its number as `seq`.
        let seq = match event["kind"].as_str() {
            Some("queued") => {
                if let Some(seq) = event["seq"].as_i64() {
                    queued.insert(seq, event["key"].as_str().unwrap_or_default().to_owned());
                }
                continue;
            }
            Some("replayed" | "folded" | "catch_up_error") => event["seq"].as_i64(),
            Some("twin_write") => event["replay_of"].as_i64(),
            _ => None,
        };
        let Some(seq) = seq else { continue };
        *taken.entry(seq).or_default() += 1;
        let key = queued.get(&seq).cloned().unwrap_or_default();
        if !key.is_empty() {
            if let Some(&before) = last_of_key.get(&key).filter(|&&before| before > seq) {
                problems.push(format!("change {seq} of key {key} applied after its later change {before}"));
            }
            last_of_key.insert(key, seq);
        }
    }
    for (seq, key) in &queued {
        match taken.get(seq).copied().unwrap_or_default() {
            1 => {}
            n => problems.push(format!("change {seq} of key {key} was taken off the queue {n} times")),
        }
    }
    problems
}

/// The currency code of the `i`th made-up currency: three letters.
pub(crate) fn code(i: usize) -> String {
    let letter = |n: usize| char::from(b'A' + (n % 26) as u8);
    [letter(i / 676), letter(i / 26), letter(i)].iter().collect()
}

async fn two_servers_share_a_maps_work(db: TestDb) {
    let backend = db.backend;
    let first = TestApp::on(db).await.with_contoso().await;
    let second = first.another_server(ADMIN_TOKEN).await;
    let servers = [&first, &second];
    let id = first.map_id(CURRENCIES).await;

    // Three chunks of initial sync, started through the second server.
    let ops: Vec<Value> = (0..2500)
        .map(|i| json!({"op": "insert", "table": "Currencies", "row": {"CURRENCYCODE": code(i), "NAME": format!("Currency {i}")}}))
        .collect();
    first.write("finops", json!(ops)).await;
    run(&second, json!([{"id": id, "initial_sync": true, "master": "finops"}])).await;
    first.wait_for_status(&id, "running").await;

    // Paused: 400 currencies renamed three times each, through both servers; three catch-up batches.
    let (status, body) = first.post(&format!("/api/v1/maps/{id}/pause"), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{backend}: {body}");
    for round in 0..3 {
        for (n, server) in servers.iter().enumerate() {
            let ops: Vec<Value> = (n * 200..n * 200 + 200)
                .map(|i| json!({"op": "update", "table": "Currencies", "key": {"CURRENCYCODE": code(i)}, "row": {"NAME": format!("Name {round} {i}")}}))
                .collect();
            server.write("finops", json!(ops)).await;
        }
    }
    let (status, body) = second.post(&format!("/api/v1/maps/{id}/resume"), json!({"mode": "catch_up"})).await;
    assert_eq!(status, StatusCode::OK, "{backend}: {body}");
    second.wait_for_status(&id, "running").await;

    // Events reach readers once every transaction that took an earlier number has ended (the other
    // server's worker round may still be finishing): read until the queue's story is whole.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let mut events = first.events().await;
    while !queue_problems(&events, &id).is_empty() && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        events = first.events().await;
    }
    let work = work_of(&events, &id);
    assert_eq!(work.interleaved, 0, "{backend}: two servers worked on the map at once: {work:?}");
    assert_eq!((work.repeated_chunks, work.repeated_batches), (0, 0), "{backend}: work done twice: {work:?}");
    assert!(work.steps >= 6, "{backend}: three chunks and three batches at least: {work:?}");
    let problems = queue_problems(&events, &id);
    assert!(problems.is_empty(), "{backend}: {problems:#?}");

    let (_, sync) = first.get(&format!("/api/v1/maps/{id}/initial-sync")).await;
    assert_eq!(sync["status"], "completed", "{backend}: {sync}");
    assert_eq!(sync["counts"]["dataverse"]["created"], 2500, "{backend}: each row created once: {sync}");
    assert_eq!(sync["counts"]["finops"]["failed"], 0, "{backend}: {sync}");
    for i in [0, 199, 200, 399] {
        let row = second
            .row("dataverse", "transactioncurrency", &format!("isocurrencycode eq '{}'", code(i)))
            .await;
        assert_eq!(row["currencyname"], format!("Name 2 {i}"), "{backend}: {row}");
    }
    let row =
        second.row("dataverse", "transactioncurrency", &format!("isocurrencycode eq '{}'", code(2499))).await;
    assert_eq!(row["currencyname"], "Currency 2499", "{backend}: {row}");
}

#[tokio::test]
async fn two_servers_never_work_on_one_map_at_once_nor_twice() {
    for db in TestDb::all() {
        two_servers_share_a_maps_work(db).await;
    }
}

/// A server's catalog cache is filled inside transactions, and a transaction may roll back (a lost
/// race on PostgreSQL, such as two servers loading the demo into one empty database at once). What a
/// rolled-back transaction loaded must never be served: another server may commit a different catalog
/// under the same version number.
#[test]
fn a_catalog_loaded_by_a_transaction_that_rolled_back_is_never_served() {
    use dualwrite_core::schema::Schema;
    use dualwrite_server::catalog::{self, CatalogCache};
    use dualwrite_server::store::StoreError;

    for db in TestDb::all() {
        let backend = db.backend;
        let (store, other) = (db.open(), db.open());
        let cache = CatalogCache::default();
        let schema = Schema::from_value(&crate::support::fixture("schema.json")).expect("schema");
        let rolled_back: Result<(), StoreError> = store.write(|tx| {
            catalog::put_schema(tx, &schema)?;
            assert!(cache.get(tx)?.schema.is_some(), "{backend}: the transaction sees its own change");
            Err(StoreError::Corrupt("rolled back".into()))
        });
        assert!(rolled_back.is_err());
        // Another server changes the catalog otherwise, to the same version number.
        other.write(|tx| catalog::bump(tx)).expect("bump");
        let seen = store.read(|tx| cache.get(tx)).expect("read");
        assert!(seen.schema.is_none(), "{backend}: the schema of a rolled-back transaction is served");
        let written = store.write(|tx| cache.get(tx)).expect("write");
        assert!(written.schema.is_none(), "{backend}: the schema of a rolled-back transaction is served");
    }
}

/// Client writes alone, with no read in between, loaded the whole catalog again in every transaction
/// after a change to it. A transaction that had written nothing when it loaded keeps the catalog for
/// the next.
#[test]
fn a_catalog_loaded_before_a_transaction_writes_is_kept_for_the_next() {
    use dualwrite_server::catalog::{self, CatalogCache};
    use dualwrite_server::store::StoreError;

    for db in TestDb::all() {
        let backend = db.backend;
        let store = db.open();
        let cache = CatalogCache::default();
        store.write(|tx| catalog::bump(tx)).expect("bump");
        let first = store.write(|tx| cache.get(tx)).expect("first");
        let second = store.write(|tx| cache.get(tx)).expect("second");
        assert_eq!(first.version, 1, "{backend}");
        assert!(Arc::ptr_eq(&first, &second), "{backend}: the second write loaded the catalog again");
        let changed: Result<(), StoreError> = store.write(|tx| {
            catalog::bump(tx)?;
            let own = cache.get(tx)?;
            assert_eq!(own.version, 2, "{backend}: the transaction sees its own change");
            Err(StoreError::Corrupt("rolled back".into()))
        });
        assert!(changed.is_err());
        let after = store.write(|tx| cache.get(tx)).expect("after");
        assert!(Arc::ptr_eq(&first, &after), "{backend}: a rolled-back change is served or reloaded");
    }
}

/// Three real `dualwrite serve` processes on one PostgreSQL database behind an imagined load
/// balancer: clients write through all three while a map runs its initial sync, is paused and
/// resumed; the server doing the map's work is SIGKILLed in the middle of the copy and again in the
/// middle of the catch-up, and restarted. Afterwards both sides agree, every queued change was taken
/// off the queue exactly once and in order per key, no map's work was done by two servers at once or
/// twice, and neither a client nor a server log saw an error.
#[cfg_attr(not(postgres_tests), ignore = "needs PostgreSQL: set DUALWRITE_TEST_POSTGRES_URL")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_servers_on_one_database_survive_a_kill_of_the_worker_in_the_middle_of_its_work() {
    let Some(db) = TestDb::postgres() else { return };
    let logs = tempfile::tempdir().expect("log dir");
    let mut cluster = Cluster {
        db: db.url.clone(),
        logs: logs.path().to_owned(),
        started: 0,
        servers: Vec::new(),
        stats: Arc::default(),
    };
    for _ in 0..3 {
        cluster.start();
    }
    let first = &cluster.servers[0].0;
    first
        .call(reqwest::Method::PUT, "/schema", Some(crate::support::fixture("schema.json")))
        .await
        .expect("schema");
    let (status, body) = first
        .call(reqwest::Method::POST, "/packages/import", Some(crate::support::fixture("package.json")))
        .await
        .expect("package");
    assert_eq!(status, 201, "{body}");
    let id = id_of(first, CURRENCIES).await;
    // Five chunks to copy.
    let rows: Vec<Value> = (0..5000)
        .map(|i| json!({"op": "insert", "table": "Currencies", "row": {"CURRENCYCODE": code(i), "NAME": format!("Currency {i}"), "SYMBOL": "¤"}}))
        .collect();
    first.post("/envs/finops/transactions", json!({"ops": rows})).await;

    let legal = id_of(first, LEGAL).await;
    first.post("/maps/run", json!({"maps": [{"id": legal, "initial_sync": false}]})).await;

    // The clients write through all three servers the whole time: legal entities (synced live)
    // while currencies are copied and caught up, and currencies on both sides while their map is
    // paused. On PostgreSQL a copy chunk or catch-up batch of currencies loses its race with every
    // client write of the same currencies; under a steady stream of those on a loaded machine the
    // steps shrink to one change and still lose (row locks in place of SERIALIZABLE would cure it).
    let stats = cluster.stats.clone();
    let mut clients: Vec<_> = (0..3).map(|slot| cluster.client(slot, &stats)).collect();
    cluster
        .wait_for(
            "/envs/dataverse/tables/cdm_company/rows",
            |rows| rows["items"].as_array().is_some_and(|r| r.len() >= 30),
            "companies synced",
        )
        .await;
    cluster.servers[1]
        .0
        .post("/maps/run", json!({"maps": [{"id": id, "initial_sync": true, "master": "finops"}]}))
        .await;

    // Killed in the middle of the copy: a chunk is done and more are to come.
    let copying = |sync: &Value| sync["phase"] == "copy" && sync["done"].as_u64().is_some_and(|d| d >= 1000);
    cluster.wait_for(&format!("/maps/{id}/initial-sync"), copying, "a chunk copied").await;
    let killed = cluster.kill_owner(&id).await;
    clients.push(cluster.client(killed, &stats));
    cluster.wait_for(&format!("/maps/{id}"), |m| m["status"] == "running", "the initial sync done").await;

    // Paused, resumed, and killed in the middle of the catch-up.
    cluster.servers[2].0.post(&format!("/maps/{id}/pause"), json!({})).await;
    stats.currencies.store(true, Ordering::SeqCst);
    cluster
        .wait_for(
            &format!("/maps/{id}/queue"),
            |q| q["total"].as_u64().is_some_and(|q| q >= 1500),
            "changes queued",
        )
        .await;
    stats.currencies.store(false, Ordering::SeqCst);
    let catching_up = cluster.catch_up_batches(&id).await;
    cluster.servers[0].0.post(&format!("/maps/{id}/resume"), json!({"mode": "catch_up"})).await;
    cluster.more_catch_up_batches(&id, catching_up).await;
    let killed = cluster.kill_owner(&id).await;
    clients.push(cluster.client(killed, &stats));
    // The clients go on writing while the next owner replays the rest of the queue.
    cluster.wait_for(&format!("/maps/{id}"), |m| m["status"] == "running", "the catch-up done").await;
    stats.stop.store(true, Ordering::SeqCst);
    for client in clients {
        let _ = client.await;
    }
    let deadline = Instant::now() + PATIENCE;
    loop {
        let map = cluster.servers[0].0.get(&format!("/maps/{id}")).await;
        let queue = cluster.servers[0].0.get(&format!("/maps/{id}/queue")).await;
        if map["status"] == "running" && queue["total"] == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "the map never caught up: {map}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Both sides agree on every mapped field.
    let server = &cluster.servers[0].0;
    let finops = by_code(server.all_rows("finops", "Currencies").await, "CURRENCYCODE");
    let dataverse = by_code(server.all_rows("dataverse", "transactioncurrency").await, "isocurrencycode");
    assert_eq!(finops.keys().collect::<Vec<_>>(), dataverse.keys().collect::<Vec<_>>(), "the same rows");
    for (code, f) in &finops {
        let d = &dataverse[code];
        assert_eq!((&f["NAME"], &f["SYMBOL"]), (&d["currencyname"], &d["currencysymbol"]), "{code}");
    }
    let finops = by_code(server.all_rows("finops", "LegalEntities").await, "LEGALENTITYID");
    let dataverse = by_code(server.all_rows("dataverse", "cdm_company").await, "cdm_companycode");
    assert_eq!(finops.keys().collect::<Vec<_>>(), dataverse.keys().collect::<Vec<_>>(), "the same companies");
    for (code, f) in &finops {
        assert_eq!(f["NAME"], dataverse[code]["cdm_name"], "{code}");
    }
    // Every queued change once and in order; one owner at a time; nothing done twice.
    // Events reach readers once every transaction that took an earlier number has ended (another
    // server's worker round may still be finishing): read until the queue's story is whole.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut events = server.all_events().await;
    while !queue_problems(&events, &id).is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
        events = server.all_events().await;
    }
    let problems = queue_problems(&events, &id);
    assert!(problems.is_empty(), "{problems:#?}");
    let work = work_of(&events, &id);
    assert_eq!(work.interleaved, 0, "two servers worked on the map at once: {work:?}");
    assert_eq!((work.repeated_chunks, work.repeated_batches), (0, 0), "work done twice: {work:?}");
    assert!(work.owners.len() >= 2, "the work was taken over after each kill: {work:?}");
    let (_, sync) =
        server.call(reqwest::Method::GET, &format!("/maps/{id}/initial-sync"), None).await.expect("sync");
    assert_eq!(sync["status"], "completed", "{sync}");
    assert_eq!(sync["counts"]["finops"]["failed"], 0, "{sync}");
    assert_eq!(sync["counts"]["dataverse"]["failed"], 0, "{sync}");
    let (_, errors) = server
        .call(reqwest::Method::GET, &format!("/maps/{id}/catch-up-errors"), None)
        .await
        .expect("errors");
    assert_eq!(errors["total"], 0, "{errors}");
    // No error answered to a client, none logged by a server.
    assert_eq!(
        stats.refused.load(Ordering::SeqCst),
        0,
        "client writes refused: {:?}",
        stats.last_refusal.lock().map(|r| r.clone())
    );
    assert!(stats.written.load(Ordering::SeqCst) > 0, "the clients wrote");
    for (server, _) in cluster.servers.drain(..) {
        server.kill();
    }
    let mut logged = Vec::new();
    for entry in std::fs::read_dir(logs.path()).expect("logs").flatten() {
        let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        for (at, _) in lines.iter().enumerate().filter(|(_, l)| l.contains("ERROR")) {
            logged.push(lines[at..lines.len().min(at + 4)].join("\n"));
        }
    }
    assert!(logged.is_empty(), "the servers logged errors: {logged:#?}");
}

/// The servers, each with the slot clients reach it by.
struct Cluster {
    db: String,
    logs: std::path::PathBuf,
    started: usize,
    servers: Vec<(Server, usize)>,
    stats: Arc<ClientStats>,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for (server, _) in self.servers.drain(..) {
            server.kill();
        }
    }
}

impl Cluster {
    /// Starts a server (in `slot`, or a new one), logging warnings and errors to a file of its own.
    fn start_in(&mut self, slot: usize) {
        self.started += 1;
        let log = std::fs::File::create(self.logs.join(format!("server-{}.log", self.started))).expect("log");
        let server = Server::start_with(&self.db, &["--worker-lease", "5"], "warn", log.into());
        self.servers.insert(slot.min(self.servers.len()), (server, slot));
    }

    fn start(&mut self) {
        let slot = self.servers.len();
        self.start_in(slot);
    }

    /// SIGKILLs the server that owns map `id`'s work now and starts another in its place; its slot.
    async fn kill_owner(&mut self, id: &str) -> usize {
        let events = self.servers[0].0.all_events().await;
        let owner = events
            .iter()
            .rev()
            .find(|e| e["map_id"] == id && e["kind"] == "owner")
            .and_then(|e| e["owner"].as_str())
            .expect("an owner")
            .to_owned();
        let pid = owner.split('-').next().unwrap_or_default().to_owned();
        let index = self
            .servers
            .iter()
            .position(|(s, _)| s.child.id().to_string() == pid)
            .unwrap_or_else(|| panic!("owner {owner} is none of the servers"));
        let (server, slot) = self.servers.remove(index);
        server.kill();
        self.start_in(slot);
        slot
    }

    /// Polls `path` through the first server until `done` holds.
    async fn wait_for(&self, path: &str, done: impl Fn(&Value) -> bool, what: &str) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let value = self.servers[0].0.get(path).await;
            if done(&value) {
                return;
            }
            assert!(Instant::now() < deadline, "never: {what}: {value}");
            if let Some(refusal) = self.refusal() {
                panic!("a client write was refused: {refusal}");
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// The last client write refused, if any.
    fn refusal(&self) -> Option<String> {
        self.stats.last_refusal.lock().ok().map(|r| r.clone()).filter(|r| !r.is_empty())
    }

    async fn catch_up_batches(&self, id: &str) -> usize {
        let events = self.servers[0].0.all_events().await;
        events.iter().filter(|e| e["map_id"] == id && e["kind"] == "catch_up").count()
    }

    /// Waits until map `id` has replayed more catch-up batches than `before`.
    async fn more_catch_up_batches(&self, id: &str, before: usize) {
        let deadline = Instant::now() + PATIENCE;
        while self.catch_up_batches(id).await == before {
            if Instant::now() > deadline {
                let server = &self.servers[0].0;
                let (map, queue) = (
                    server.get(&format!("/maps/{id}")).await,
                    server.get(&format!("/maps/{id}/queue")).await,
                );
                let events = server.all_events().await;
                let last: Vec<String> =
                    events.iter().rev().take(8).map(|e| format!("{} {}", e["seq"], e["kind"])).collect();
                panic!("no catch-up batch was replayed after {before}: map {}, queue {}, {} events, last {last:?}", map["status"], queue["total"], events.len());
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// A client writing through the server in `slot` until told to stop or the server dies: batches
    /// of renames and inserts of its own legal entities, or of its own currencies on one side and
    /// then on the other (the same rows, so the later write must win on both sides also when both
    /// were queued), at a steady pace (as users and integrations write, not as fast as the database
    /// can take them).
    fn client(&self, slot: usize, stats: &Arc<ClientStats>) -> tokio::task::JoinHandle<()> {
        let server = &self.servers.iter().find(|(_, s)| *s == slot).expect("slot").0;
        let (http, base, stats) = (server.http.clone(), server.base.clone(), stats.clone());
        tokio::spawn(async move {
            for n in 0.. {
                if stats.stop.load(Ordering::SeqCst) {
                    return;
                }
                let (side, ops): (&str, Vec<Value>) = if !stats.currencies.load(Ordering::SeqCst) {
                    ("finops", (0..10).map(|k| json!({"op": "upsert", "table": "LegalEntities", "row": {"LEGALENTITYID": format!("L{slot}{k:02}"), "NAME": format!("s{slot} n{n}")}})).collect())
                } else if n % 2 == 0 {
                    ("finops", (0..20).step_by(2).map(|k| json!({"op": "upsert", "table": "Currencies", "row": {"CURRENCYCODE": format!("{slot}{k:02}"), "NAME": format!("s{slot} n{n}")}})).collect())
                } else {
                    ("dataverse", (0..20).step_by(2).map(|k| json!({"op": "upsert", "table": "transactioncurrency", "row": {"isocurrencycode": format!("{slot}{k:02}"), "currencyname": format!("s{slot} n{n}")}})).collect())
                };
                let sent = http
                    .post(format!("{base}/api/v1/envs/{side}/transactions"))
                    .json(&json!({ "ops": ops }))
                    .timeout(Duration::from_secs(30))
                    .send()
                    .await;
                match sent {
                    Ok(r) if r.status().is_success() => {
                        stats.written.fetch_add(1, Ordering::SeqCst);
                    }
                    Ok(r) => {
                        stats.refused.fetch_add(1, Ordering::SeqCst);
                        let answer = format!("{}: {}", r.status(), r.text().await.unwrap_or_default());
                        if let Ok(mut last) = stats.last_refusal.lock() {
                            *last = answer;
                        }
                    }
                    // The server was killed: this client's work is over.
                    Err(_) => return,
                }
                tokio::time::sleep(PACE).await;
            }
        })
    }
}

/// How long the test waits for a step of the story before it fails: on PostgreSQL the map's work
/// goes in small steps while the clients write (see `Pace`), and the test shares the machine with
/// the rest of the suite.
const PATIENCE: Duration = Duration::from_secs(120);

/// How long a client waits between its transactions.
const PACE: Duration = Duration::from_millis(250);

/// What the clients saw.
#[derive(Default)]
struct ClientStats {
    stop: AtomicBool,
    /// Whether the clients write currencies (else legal entities).
    currencies: AtomicBool,
    written: AtomicUsize,
    refused: AtomicUsize,
    last_refusal: Mutex<String>,
}

/// The id of the map named `name`.
async fn id_of(server: &Server, name: &str) -> String {
    let maps = server.get("/maps").await;
    let found = maps["items"].as_array().into_iter().flatten().find(|m| m["name"] == name);
    found.and_then(|m| m["id"].as_str()).unwrap_or_else(|| panic!("no map {name}")).to_owned()
}

fn by_code(rows: Vec<Value>, column: &str) -> BTreeMap<String, Value> {
    rows.into_iter().map(|r| (r[column].as_str().unwrap_or_default().to_lowercase(), r)).collect()
}
