//! Benchmarks of the runtime, each beside its physical limit measured in the same run: live-sync
//! latency and throughput over HTTP on loopback, preflight, initial sync, loads and catch-up beside
//! the engine's own insert and scan of the same rows (see `engine`), on SQLite and (when
//! `DUALWRITE_BENCH_POSTGRES_URL` names a server) PostgreSQL. Rows are those of a small item map:
//! company-specific on both sides, a value map, the company carried as a lookup.
//!
//! Prints one `BENCH\t{figure}\t{value}\t{unit}` line per figure (`cargo xtask bench` collects them).
//! `DUALWRITE_BENCH_ROWS=10000,100000` sets the sizes (`DUALWRITE_BENCH_POSTGRES_ROWS` those of
//! PostgreSQL, the same unless told); `DUALWRITE_BENCH_SECONDS` the length of each
//! throughput run (0 leaves the live-sync figures out); `DUALWRITE_BENCH_STEPS` which measurements run
//! at each size (`limits,load,initial-sync,catch-up`, all unless told). The initial sync reports the
//! process's peak resident memory while it runs.

use std::sync::Arc;
use std::time::{Duration, Instant};

use dualwrite_core::api::{Op, OpKind, TransactionRequest};
use dualwrite_core::integration_key::IntegrationKeys;
use dualwrite_core::lifecycle::{Action, ResumeMode};
use dualwrite_core::package::Package;
use dualwrite_core::schema::{Row, Schema, Side};
use dualwrite_server::catalog::{self, CatalogCache};
use dualwrite_server::environment::keys::row_keys;
use dualwrite_server::error::ApiError;
use dualwrite_server::http::{self, AppState};
use dualwrite_server::initial_sync::{self, Execution, Job, Step};
use dualwrite_server::lease::Owner;
use dualwrite_server::pace::Pace;
use dualwrite_server::queue::{self, CatchUp};
use dualwrite_server::store::Store;
use dualwrite_server::{lifecycle, preflight, transaction};
use serde_json::{json, Value};

#[path = "runtime/engine.rs"]
mod engine;

const COMPANIES: [&str; 2] = ["USMF", "DEMF"];
const STATUSES: [&str; 3] = ["active", "blocked", "retired"];

fn schema() -> Schema {
    let doc = json!({
        "format": "dualwrite.schema/v1",
        "companies": COMPANIES,
        "finops": [{"name": "Items", "company_specific": true, "key": ["ITEMNUMBER"], "columns": [
            {"name": "ITEMNUMBER", "type": "string", "max_length": 20, "required": true},
            {"name": "NAME", "type": "string", "max_length": 60},
            {"name": "PRICE", "type": "decimal"},
            {"name": "STATUS", "type": "enum", "values": ["active", "blocked", "retired"]},
        ]}],
        "dataverse": [
            {"name": "cdm_company", "company_specific": false, "columns": [
                {"name": "cdm_companycode", "type": "string", "max_length": 4, "required": true},
                {"name": "cdm_name", "type": "string", "max_length": 100},
            ], "alternate_keys": [{"name": "cdm_company_key", "columns": ["cdm_companycode"]}]},
            {"name": "item", "company_specific": true, "columns": [
                {"name": "itemnumber", "type": "string", "max_length": 20, "required": true},
                {"name": "name", "type": "string", "max_length": 100},
                {"name": "price", "type": "decimal"},
                {"name": "statuscode", "type": "option", "values": [1, 2, 3]},
                {"name": "msdyn_company", "type": "lookup", "target": "cdm_company", "required": true},
            ], "alternate_keys": [{"name": "item_key", "columns": ["itemnumber", "msdyn_company"]}]},
        ],
    });
    Schema::from_value(&doc).expect("bench schema")
}

fn package() -> Package {
    let doc = json!({
        "format": "dualwrite.package/v1",
        "maps": [{"name": "Items (items)", "version": "1.0.0.0", "publisher": "bench", "finops": "Items", "dataverse": "item",
            "fields": [
                {"finops": "ITEMNUMBER", "dataverse": "itemnumber", "direction": "both"},
                {"finops": "NAME", "dataverse": "name", "direction": "both"},
                {"finops": "PRICE", "dataverse": "price", "direction": "both"},
                {"finops": "STATUS", "dataverse": "statuscode", "direction": "both",
                 "transforms": [{"transformType": "ValueMap", "valueMap": {"active": "1", "blocked": "2", "retired": "3"}}]},
            ]}],
        "integration_keys": {"item": ["itemnumber", "msdyn_company.cdm_companycode"]},
    });
    Package::from_value(&doc).expect("bench package")
}

fn object(v: Value) -> Row {
    v.as_object().cloned().unwrap_or_default()
}

fn finops_item(n: usize) -> Row {
    object(
        json!({"dataAreaId": COMPANIES[n % 2], "ITEMNUMBER": format!("IT{n:08}"), "NAME": format!("Item {n}"),
        "PRICE": (n % 997) as f64 + 0.25, "STATUS": STATUSES[n % 3]}),
    )
}

fn dataverse_item(n: usize, company_ids: &[String; 2], conflicting: bool) -> Row {
    let name = if conflicting { format!("Renamed item {n}") } else { format!("Item {n}") };
    object(
        json!({"itemid": uuid::Uuid::new_v4().to_string(), "msdyn_company": company_ids[n % 2], "itemnumber": format!("IT{n:08}"),
        "name": name, "price": (n % 997) as f64 + 0.25, "statuscode": n % 3 + 1}),
    )
}

fn report_figure(figure: &str, value: f64, unit: &str) {
    println!("BENCH\t{figure}\t{value:.3}\t{unit}");
}

/// The server's allocator (see `main.rs`), so the figures are the server's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A fresh store of the backend with the bench schema, map and companies.
fn fresh(backend: &Backend) -> (Arc<Store>, Arc<CatalogCache>, i64, [String; 2]) {
    let store = Arc::new(backend.open());
    let cache = Arc::new(CatalogCache::default());
    let schema = schema();
    let package = package();
    let ids: Result<[String; 2], ApiError> = store.write(|tx| {
        catalog::put_schema(tx, &schema)?;
        catalog::put_keys(tx, &IntegrationKeys::from_package(&package.integration_keys, Some(&schema)))?;
        tx.insert_map(&package.maps[0].to_value())?;
        catalog::bump(tx)?;
        let catalog = cache.get(tx)?;
        let ops = COMPANIES.iter().map(|c| Op {
            op: OpKind::Insert,
            table: "cdm_company".into(),
            key: None,
            row: Some(object(json!({"cdm_companycode": c, "cdm_name": c}))),
        });
        let response =
            transaction::apply(tx, &catalog, Side::Dataverse, &TransactionRequest { ops: ops.collect() })?;
        let id = |i: usize| response.results[i].key["cdm_companyid"].as_str().unwrap_or_default().to_owned();
        Ok([id(0), id(1)])
    });
    let map_id = store.read(|tx| Ok::<_, ApiError>(cache.get(tx)?.maps[0].id)).expect("map");
    (store, cache, map_id, ids.expect("bench setup"))
}

/// The one worker of this process, as a server has: every map's lease stays with it from step to step
/// (a new owner per call would find the lease held and wait out its expiry).
static WORKER: std::sync::LazyLock<Owner> = std::sync::LazyLock::new(Owner::default);

enum Backend {
    Sqlite(tempfile::TempDir),
    Postgres { admin: String, n: usize },
}

impl Backend {
    fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite(_) => "sqlite",
            Backend::Postgres { .. } => "postgres",
        }
    }

    /// The engine's own limits on `rows` items per side (see [`engine`]).
    fn limits(&self, rows: usize) -> engine::Limits {
        let companies = [uuid::Uuid::new_v4().to_string(), uuid::Uuid::new_v4().to_string()];
        match self {
            Backend::Sqlite(dir) => engine::sqlite(dir.path(), rows, &companies),
            Backend::Postgres { admin, n } => engine::postgres(
                admin,
                &format!("dw_bench_{}_{n}_engine", std::process::id()),
                rows,
                &companies,
            ),
        }
    }

    fn open(&self) -> Store {
        match self {
            Backend::Sqlite(dir) => {
                let path = dir.path().join(format!("bench-{}.db", uuid::Uuid::new_v4()));
                Store::open(&format!("sqlite://{}", path.display())).expect("sqlite")
            }
            Backend::Postgres { admin, n } => {
                let name = store_database(*n);
                let mut client = postgres::Client::connect(admin, postgres::NoTls).expect("postgres");
                client.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).expect("drop");
                client.batch_execute(&format!("CREATE DATABASE {name}")).expect("create");
                let (base, _) = admin.rsplit_once('/').expect("url with a database");
                Store::open(&format!("{base}/{name}")).expect("postgres store")
            }
        }
    }
}

/// The database the `n`th backend's stores live in; each store opened replaces the one before.
fn store_database(n: usize) -> String {
    format!("dw_bench_{}_{n}", std::process::id())
}

impl Drop for Backend {
    /// The last store's database goes with the run.
    fn drop(&mut self) {
        if let Backend::Postgres { admin, n } = self {
            if let Ok(mut client) = postgres::Client::connect(admin, postgres::NoTls) {
                let _ = client
                    .batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", store_database(*n)));
            }
        }
    }
}

/// Loading a CSV export of `rows` finops rows (`dualwrite load`'s path: read, checked by the write
/// path, inserted, one transaction for the file) into a fresh store; rows/s.
fn load_csv(backend: &Backend, rows: usize) -> f64 {
    use std::io::Write as _;
    let (store, cache, _, _) = fresh(backend);
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("Items.csv");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path).expect("csv"));
    writeln!(out, "ITEMNUMBER,DATAAREAID,NAME,PRICE,STATUS,UNKNOWNCOLUMN").expect("write");
    for n in 0..rows {
        let f = finops_item(n);
        let text = |c: &str| {
            f.get(c).map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned)).unwrap_or_default()
        };
        writeln!(
            out,
            "{},{},\"{}\",{},{},x",
            text("ITEMNUMBER"),
            text("dataAreaId"),
            text("NAME"),
            text("PRICE"),
            text("STATUS")
        )
        .expect("write");
    }
    out.flush().expect("flush");
    drop(out);
    let options = dualwrite_server::load::LoadOptions::new(Side::Finops);
    let started = Instant::now();
    let files = dualwrite_server::load::load_file(&store, &cache, &path, "Items.csv", None, &options)
        .unwrap_or_else(|e| panic!("load: {e:?}"));
    let elapsed = started.elapsed().as_secs_f64();
    assert_eq!(files[0].inserted as usize, rows, "every row loads: {:?}", files[0].bad_rows.first());
    rows as f64 / elapsed
}

/// Initial sync of `rows` per side (half matching, 1% of those conflicting); returns rows/s over both
/// sides and leaves the map running.
fn initial_sync(backend: &Backend, rows: usize) -> (f64, Arc<Store>, Arc<CatalogCache>, i64) {
    let (store, cache, map_id, companies) = fresh(backend);
    let schema = schema();
    let finops = schema.table(Side::Finops, "Items").expect("Items");
    let dataverse = schema.table(Side::Dataverse, "item").expect("item");
    for start in (0..rows).step_by(10_000) {
        store
            .write(|tx| {
                for n in start..(start + 10_000).min(rows) {
                    let f = finops_item(n);
                    tx.insert_row(Side::Finops, "Items", &f, &row_keys(finops, &f))?.ok();
                    let m = n + rows / 2;
                    let d = dataverse_item(m, &companies, m < rows && m % 100 == 0);
                    tx.insert_row(Side::Dataverse, "item", &d, &row_keys(dataverse, &d))?.ok();
                }
                Ok::<_, ApiError>(())
            })
            .expect("seed");
    }
    let started = Instant::now();
    let report = store
        .read(|tx| {
            let catalog = cache.get(tx)?;
            preflight::run(tx, &catalog, &catalog.maps[0], Side::Dataverse, Vec::new())
        })
        .expect("preflight");
    report_figure(
        &format!("{}: preflight, {rows} rows per side", backend.name()),
        started.elapsed().as_secs_f64(),
        "s",
    );
    assert_eq!(
        report.creates.finops + report.creates.dataverse,
        rows as u64,
        "half of each side is created on the other"
    );
    let execution_id = store
        .write(|tx| {
            let catalog = cache.get(tx)?;
            lifecycle::act(tx, &catalog.maps[0], Action::Run { initial_sync: true })?;
            initial_sync::start(tx, &catalog.maps[0], &Execution::new(Side::Dataverse, true, None))
        })
        .expect("run");
    let owner = &*WORKER;
    reset_peak_rss();
    let started = Instant::now();
    let job = Job::build(&store, &cache, map_id, execution_id).expect("index");
    let indexed = started.elapsed();
    while job.step(&store, &cache, owner, &Pace::new(initial_sync::CHUNK)).expect("step") == Step::Progressed
    {
    }
    let copied = started.elapsed();
    while queue::catch_up(&store, &cache, owner, map_id, &Pace::new(500)).expect("drain") != CatchUp::Live {}
    eprintln!(
        "initial sync of {rows}: index {indexed:?}, copy {:?}, drain {:?}",
        copied - indexed,
        started.elapsed() - copied
    );
    let rate = (2 * rows) as f64 / started.elapsed().as_secs_f64();
    if let Some(peak) = peak_rss_mib() {
        report_figure(
            &format!("{}: peak RSS, initial sync, {rows} rows per side", backend.name()),
            peak,
            "MiB",
        );
    }
    let failed =
        store.read(|tx| initial_sync::latest(tx, map_id)).expect("execution").map(|(_, e)| e.counts.failed());
    assert_eq!(failed, Some(0), "the bench rows all sync");
    (rate, store, cache, map_id)
}

/// Starts measuring the process's peak resident memory afresh from what it holds now (Linux).
fn reset_peak_rss() {
    // Writing 5 to clear_refs resets VmHWM; where it cannot be written the peak is the process's.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// The process's peak resident memory since [`reset_peak_rss`], in MiB (Linux).
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find_map(|l| l.strip_prefix("VmHWM:"))?;
    let kib: f64 = line.trim().strip_suffix("kB")?.trim().parse().ok()?;
    Some(kib / 1024.0)
}

/// Catch-up of `changes` queued renames on a running map; changes/s.
fn catch_up(store: &Store, cache: &CatalogCache, map_id: i64, rows: usize, changes: usize) -> f64 {
    store
        .write(|tx| {
            let catalog = cache.get(tx)?;
            lifecycle::act(tx, &catalog.maps[0], Action::Pause).map(drop)
        })
        .expect("pause");
    for start in (0..changes).step_by(1000) {
        store
            .write(|tx| {
                let catalog = cache.get(tx)?;
                let ops = (start..(start + 1000).min(changes)).map(|n| Op {
                    op: OpKind::Update,
                    table: "Items".into(),
                    key: Some(object(json!({"ITEMNUMBER": format!("IT{:08}", n % rows), "dataAreaId": COMPANIES[(n % rows) % 2]}))),
                    row: Some(object(json!({"NAME": format!("queued {n}")}))),
                });
                transaction::apply(tx, &catalog, Side::Finops, &TransactionRequest { ops: ops.collect() }).map(drop)
            })
            .expect("queue");
    }
    store
        .write(|tx| {
            let catalog = cache.get(tx)?;
            lifecycle::act(tx, &catalog.maps[0], Action::Resume { mode: ResumeMode::CatchUp }).map(drop)
        })
        .expect("resume");
    let owner = &*WORKER;
    let started = Instant::now();
    while queue::catch_up(store, cache, owner, map_id, &Pace::new(500)).expect("catch up") != CatchUp::Live {}
    changes as f64 / started.elapsed().as_secs_f64()
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

/// The admin token of the in-process server; every request carries it, as real clients' do.
const BENCH_TOKEN: &str = "dw_bench_admin_token_0123456789";

/// Live sync over HTTP on loopback against a server in this process.
fn live_sync(backend: &Backend, seconds: u64) {
    let name = backend.name();
    let (rate, store, cache, map_id) = initial_sync(backend, 2000);
    let _ = rate;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    runtime.block_on(async move {
        let state = AppState {
            store: store.clone(),
            catalog: cache.clone(),
            wake: Default::default(),
            tokens: Default::default(),
            activity: Default::default(),
            owner: Default::default(),
        };
        let (tokens, admin) = (state.tokens.clone(), store.clone());
        tokio::task::spawn_blocking(move || tokens.set_bootstrap(&admin, BENCH_TOKEN))
            .await
            .expect("join")
            .expect("admin token");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}/api/v1", listener.local_addr().expect("addr"));
        tokio::spawn(async move { axum::serve(listener, http::router(state, None)).await });
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("authorization", format!("Bearer {BENCH_TOKEN}").parse().expect("header"));
        let client = reqwest::Client::builder().default_headers(headers).build().expect("client");
        let update = |n: usize| {
            json!({"ops": [{"op": "update", "table": "Items", "key": {"ITEMNUMBER": format!("IT{:08}", n % 2000), "dataAreaId": COMPANIES[(n % 2000) % 2]}, "row": {"NAME": format!("live {n}")}}]})
        };
        for (label, running) in [("with a running map", true), ("without a map", false)] {
            if !running {
                let c = client.clone();
                let r = c.post(format!("{base}/maps/{map_id}/stop")).json(&json!({})).send().await.expect("stop");
                assert!(r.status().is_success());
            }
            let mut latencies = Vec::with_capacity(2000);
            for n in 0..2000 {
                let t = Instant::now();
                let r = client.post(format!("{base}/envs/finops/transactions")).json(&update(n)).send().await.expect("post");
                assert!(r.status().is_success(), "{}", r.text().await.unwrap_or_default());
                latencies.push(t.elapsed());
            }
            latencies.sort();
            report_figure(&format!("{name}: single-row transaction {label}, p50"), percentile(&latencies, 0.5), "ms");
            report_figure(&format!("{name}: single-row transaction {label}, p99"), percentile(&latencies, 0.99), "ms");
            for clients in [1usize, 8, 32] {
                let deadline = Instant::now() + Duration::from_secs(seconds);
                let tasks: Vec<_> = (0..clients)
                    .map(|c| {
                        let (client, base) = (client.clone(), base.clone());
                        tokio::spawn(async move {
                            let mut done = 0usize;
                            while Instant::now() < deadline {
                                let n = c * 100_000 + done;
                                let body = json!({"ops": [{"op": "update", "table": "Items", "key": {"ITEMNUMBER": format!("IT{:08}", n % 2000), "dataAreaId": COMPANIES[(n % 2000) % 2]}, "row": {"NAME": format!("load {n}")}}]});
                                let r = client.post(format!("{base}/envs/finops/transactions")).json(&body).send().await;
                                if r.is_ok_and(|r| r.status().is_success()) {
                                    done += 1;
                                }
                            }
                            done
                        })
                    })
                    .collect();
                let mut total = 0;
                for t in tasks {
                    total += t.await.unwrap_or(0);
                }
                report_figure(&format!("{name}: transactions/s {label}, {clients} clients"), total as f64 / seconds as f64, "tx/s");
            }
        }
    });
}

fn main() {
    let sizes: Vec<usize> = std::env::var("DUALWRITE_BENCH_ROWS")
        .unwrap_or_else(|_| "10000,100000,1000000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let postgres_sizes: Vec<usize> = match std::env::var("DUALWRITE_BENCH_POSTGRES_ROWS") {
        Ok(list) => list.split(',').filter_map(|s| s.trim().parse().ok()).collect(),
        Err(_) => sizes.clone(),
    };
    // Which measurements run at each size: a 10M-row run of the initial sync alone is
    // `DUALWRITE_BENCH_STEPS=initial-sync DUALWRITE_BENCH_ROWS=10000000`.
    let steps =
        std::env::var("DUALWRITE_BENCH_STEPS").unwrap_or_else(|_| "limits,load,initial-sync,catch-up".into());
    let runs = |step: &str| steps.split(',').any(|s| s.trim() == step);
    let seconds = std::env::var("DUALWRITE_BENCH_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(5);
    let mut backends = vec![Backend::Sqlite(tempfile::tempdir().expect("temp dir"))];
    if let Ok(admin) = std::env::var("DUALWRITE_BENCH_POSTGRES_URL") {
        backends.push(Backend::Postgres { admin, n: 0 });
    }
    for (i, backend) in backends.iter_mut().enumerate() {
        if let Backend::Postgres { n, .. } = backend {
            *n = i;
        }
        let name = backend.name();
        if seconds > 0 {
            live_sync(backend, seconds);
        }
        let sizes = if matches!(backend, Backend::Postgres { .. }) { &postgres_sizes } else { &sizes };
        for &rows in sizes {
            if runs("limits") {
                let limits = backend.limits(rows);
                report_figure(
                    &format!("{name}: engine insert, {rows} rows per side"),
                    limits.insert,
                    "rows/s",
                );
                report_figure(&format!("{name}: engine scan, {rows} rows per side"), limits.scan, "s");
            }
            if runs("load") {
                report_figure(&format!("{name}: load, {rows} CSV rows"), load_csv(backend, rows), "rows/s");
            }
            if runs("initial-sync") || runs("catch-up") {
                let (rate, store, cache, map_id) = initial_sync(backend, rows);
                report_figure(&format!("{name}: initial sync, {rows} rows per side"), rate, "rows/s");
                if runs("catch-up") {
                    report_figure(
                        &format!("{name}: catch-up, {rows} queued changes"),
                        catch_up(&store, &cache, map_id, rows, rows),
                        "changes/s",
                    );
                }
            }
        }
    }
}
