//! Several servers on one database, as behind a load balancer: a map's background work (initial-sync
//! chunks, catch-up batches) is done by one server at a time and never twice, whichever server the
//! clients write through. The audit trail tells: every step names its owner, and a new owner takes a
//! map's work only by taking its lease (an `owner` event).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::lifecycle::run;
use crate::support::{TestApp, TestDb, ADMIN_TOKEN};

const CURRENCIES: &str = "Currencies (transactioncurrencies)";

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

    let events = first.events().await;
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
