//! Many clients writing both sides of the same rows at once: afterwards both sides agree on every
//! mapped field and no transaction is half-applied.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use serde_json::json;

use crate::support::{TestApp, TestDb};

const CLIENTS: usize = 16;
const CURRENCIES: [&str; 4] = ["EUR", "USD", "GBP", "JPY"];

async fn both_sides_agree_after_concurrent_writes(db: TestDb, run_for: Duration) {
    let app = TestApp::on(db).await.with_contoso().await;
    let id = app.map_id("Currencies (transactioncurrencies)").await;
    let (status, _) =
        app.post("/api/v1/maps/run", json!({"maps": [{"id": id, "initial_sync": false}]})).await;
    assert_eq!(status, StatusCode::OK);
    let seed: Vec<_> = CURRENCIES
        .iter()
        .map(|c| json!({"op": "insert", "table": "Currencies", "row": {"CURRENCYCODE": c, "NAME": c, "SYMBOL": c}}))
        .collect();
    app.write("finops", json!(seed)).await;
    let twins_before = app.events().await.iter().filter(|e| e["kind"] == "twin_write").count();

    let app = Arc::new(app);
    let deadline = Instant::now() + run_for;
    let clients = (0..CLIENTS).map(|client| {
        let app = app.clone();
        tokio::spawn(async move {
            let mut committed = 0usize;
            let mut n = 0usize;
            while Instant::now() < deadline {
                n += 1;
                let code = CURRENCIES[(client + n) % CURRENCIES.len()];
                let tag = format!("c{client}-{n}");
                let (path, op) = if (client + n) % 2 == 0 {
                    ("/api/v1/envs/finops/transactions", json!({"op": "update", "table": "Currencies", "key": {"CURRENCYCODE": code}, "row": {"NAME": tag, "SYMBOL": tag}}))
                } else {
                    ("/api/v1/envs/dataverse/transactions", json!({"op": "update", "table": "transactioncurrency", "key": {"isocurrencycode": code}, "row": {"currencyname": tag, "currencysymbol": tag}}))
                };
                let (status, body) = app.post(path, json!({"ops": [op]})).await;
                assert_eq!(status, StatusCode::OK, "client {client}, write {n}: {body}");
                committed += 1;
            }
            committed
        })
    });
    let mut committed = 0;
    for client in clients {
        committed += client.await.expect("client task");
    }
    assert!(committed >= CLIENTS, "every client committed writes");

    for code in CURRENCIES {
        let finops = app.row("finops", "Currencies", &format!("CURRENCYCODE == \"{code}\"")).await;
        let dataverse =
            app.row("dataverse", "transactioncurrency", &format!("isocurrencycode eq '{code}'")).await;
        assert_eq!(finops["NAME"], dataverse["currencyname"], "{code}: names agree");
        assert_eq!(finops["SYMBOL"], dataverse["currencysymbol"], "{code}: symbols agree");
        assert_eq!(finops["NAME"], finops["SYMBOL"], "{code}: both fields come from the same write");
    }
    let twins = app.events().await.iter().filter(|e| e["kind"] == "twin_write").count() - twins_before;
    assert_eq!(twins, committed, "every committed write has exactly one twin write");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixteen_clients_writing_both_sides_leave_them_equal_on_sqlite() {
    both_sides_agree_after_concurrent_writes(TestDb::sqlite(), Duration::from_secs(10)).await;
}

#[cfg_attr(not(postgres_tests), ignore = "needs PostgreSQL: set DUALWRITE_TEST_POSTGRES_URL")]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixteen_clients_writing_both_sides_leave_them_equal_on_postgres() {
    if let Some(db) = TestDb::postgres() {
        both_sides_agree_after_concurrent_writes(db, Duration::from_secs(10)).await;
    }
}
