//! The database engine's own limits on the bench's rows, with the store out of the way: the same
//! items written into plain typed tables (one per side, a unique index on the id and each key, as a
//! sync table needs) and read back. SQLite: a prepared multi-row insert in one transaction and an
//! ordered scan; PostgreSQL: `COPY` in one transaction and a sequential scan. The runtime's figures
//! are measured against these.

use std::io::Write as _;
use std::time::Instant;

use rusqlite::types::Value as SqlValue;

/// What the engine does with the bench's rows: inserted rows/s, and seconds to read them all back.
pub struct Limits {
    pub insert: f64,
    pub scan: f64,
}

/// One item as both sides hold it, in typed columns.
struct Item {
    number: String,
    company: &'static str,
    company_id: String,
    guid: String,
    name: String,
    price: f64,
    status: &'static str,
    status_code: i64,
}

/// The rows of `rows` items per side: the same item numbers, names, prices and statuses the
/// runtime's benchmarks write.
fn items(rows: usize, company_ids: &[String; 2]) -> Vec<Item> {
    (0..rows)
        .map(|n| Item {
            number: format!("IT{n:08}"),
            company: super::COMPANIES[n % 2],
            company_id: company_ids[n % 2].clone(),
            guid: uuid::Uuid::new_v4().to_string(),
            name: format!("Item {n}"),
            price: (n % 997) as f64 + 0.25,
            status: super::STATUSES[n % 3],
            status_code: (n % 3 + 1) as i64,
        })
        .collect()
}

const TABLES: &str = "
    CREATE TABLE finops_items (id BIGINT PRIMARY KEY, itemnumber TEXT NOT NULL, dataareaid TEXT NOT NULL,
        name TEXT, price DOUBLE PRECISION, status TEXT, UNIQUE (itemnumber, dataareaid));
    CREATE TABLE dataverse_item (id BIGINT PRIMARY KEY, itemid TEXT NOT NULL UNIQUE, itemnumber TEXT NOT NULL,
        msdyn_company TEXT NOT NULL, name TEXT, price DOUBLE PRECISION, statuscode BIGINT,
        UNIQUE (itemnumber, msdyn_company));";

const SCANS: [&str; 2] = [
    "SELECT id, itemnumber, dataareaid, name, price, status FROM finops_items",
    "SELECT id, itemid, itemnumber, msdyn_company, name, price, statuscode FROM dataverse_item",
];

/// Rows a prepared SQLite insert statement carries (7 columns: well under SQLite's parameter limit).
const ROWS_PER_INSERT: usize = 100;

/// SQLite, in a file of its own in `dir`, with the store's settings (WAL, synchronous NORMAL).
pub fn sqlite(dir: &std::path::Path, rows: usize, company_ids: &[String; 2]) -> Limits {
    let items = items(rows, company_ids);
    let path = dir.join(format!("engine-{}.db", uuid::Uuid::new_v4()));
    let mut conn = rusqlite::Connection::open(&path).expect("sqlite");
    conn.pragma_update(None, "journal_mode", "WAL").expect("wal");
    conn.pragma_update(None, "synchronous", "NORMAL").expect("synchronous");
    conn.pragma_update(None, "cache_size", -65536).expect("cache");
    conn.execute_batch(TABLES).expect("tables");
    let started = Instant::now();
    let tx = conn.transaction().expect("begin");
    insert_sqlite(
        &tx,
        "finops_items (id, itemnumber, dataareaid, name, price, status)",
        6,
        &items,
        |n, i| {
            vec![
                SqlValue::Integer(n as i64),
                SqlValue::Text(i.number.clone()),
                SqlValue::Text(i.company.into()),
                SqlValue::Text(i.name.clone()),
                SqlValue::Real(i.price),
                SqlValue::Text(i.status.into()),
            ]
        },
    );
    insert_sqlite(
        &tx,
        "dataverse_item (id, itemid, itemnumber, msdyn_company, name, price, statuscode)",
        7,
        &items,
        |n, i| {
            vec![
                SqlValue::Integer(n as i64),
                SqlValue::Text(i.guid.clone()),
                SqlValue::Text(i.number.clone()),
                SqlValue::Text(i.company_id.clone()),
                SqlValue::Text(i.name.clone()),
                SqlValue::Real(i.price),
                SqlValue::Integer(i.status_code),
            ]
        },
    );
    tx.commit().expect("commit");
    let insert = (2 * rows) as f64 / started.elapsed().as_secs_f64();
    let started = Instant::now();
    let mut read = 0;
    for (scan, order) in SCANS.iter().zip(["itemnumber, dataareaid", "itemnumber, msdyn_company"]) {
        let mut statement = conn.prepare(&format!("{scan} ORDER BY {order}")).expect("scan");
        let mut found = statement.query([]).expect("query");
        while let Some(row) = found.next().expect("row") {
            for column in 0..row.as_ref().column_count() {
                std::hint::black_box(row.get::<_, SqlValue>(column).expect("value"));
            }
            read += 1;
        }
    }
    let scan = started.elapsed().as_secs_f64();
    assert_eq!(read, 2 * rows, "the scan reads every row");
    drop(conn);
    for suffix in ["", "-wal", "-shm"] {
        std::fs::remove_file(format!("{}{suffix}", path.display())).ok();
    }
    Limits { insert, scan }
}

/// Inserts `items` into `table` (its column list; `columns` of them) with one prepared statement of
/// [`ROWS_PER_INSERT`] rows, the rest one by one.
fn insert_sqlite(
    tx: &rusqlite::Transaction,
    table: &str,
    columns: usize,
    items: &[Item],
    values: impl Fn(usize, &Item) -> Vec<SqlValue>,
) {
    let statement = |rows: usize| {
        let row = format!("({})", vec!["?"; columns].join(","));
        format!("INSERT INTO {table} VALUES {}", vec![row; rows].join(","))
    };
    let (many, one) = (statement(ROWS_PER_INSERT), statement(1));
    let mut n = 0;
    for chunk in items.chunks(ROWS_PER_INSERT) {
        let sql = if chunk.len() == ROWS_PER_INSERT { &many } else { &one };
        let mut prepared = tx.prepare_cached(sql).expect("prepare");
        if chunk.len() == ROWS_PER_INSERT {
            let params: Vec<SqlValue> =
                chunk.iter().enumerate().flat_map(|(i, item)| values(n + i, item)).collect();
            prepared.execute(rusqlite::params_from_iter(params)).expect("insert");
        } else {
            for (i, item) in chunk.iter().enumerate() {
                prepared.execute(rusqlite::params_from_iter(values(n + i, item))).expect("insert");
            }
        }
        n += chunk.len();
    }
}

/// PostgreSQL, in a database of its own (`database`, made afresh and dropped after) on the server
/// `admin` names.
pub fn postgres(admin: &str, database: &str, rows: usize, company_ids: &[String; 2]) -> Limits {
    let items = items(rows, company_ids);
    let mut server = postgres::Client::connect(admin, postgres::NoTls).expect("postgres");
    server.batch_execute(&format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)")).expect("drop");
    server.batch_execute(&format!("CREATE DATABASE {database}")).expect("create");
    let (base, _) = admin.rsplit_once('/').expect("url with a database");
    let mut client =
        postgres::Client::connect(&format!("{base}/{database}"), postgres::NoTls).expect("connect");
    client.batch_execute(TABLES).expect("tables");
    let started = Instant::now();
    let mut tx = client.transaction().expect("begin");
    let mut copy = |table: &str, line: &dyn Fn(usize, &Item) -> String| {
        let mut writer = tx.copy_in(&format!("COPY {table} FROM STDIN")).expect("copy");
        for (n, item) in items.iter().enumerate() {
            writer.write_all(line(n, item).as_bytes()).expect("copy row");
        }
        writer.finish().expect("copy end");
    };
    copy("finops_items (id, itemnumber, dataareaid, name, price, status)", &|n, i| {
        format!("{n}\t{}\t{}\t{}\t{}\t{}\n", i.number, i.company, i.name, i.price, i.status)
    });
    copy("dataverse_item (id, itemid, itemnumber, msdyn_company, name, price, statuscode)", &|n, i| {
        format!(
            "{n}\t{}\t{}\t{}\t{}\t{}\t{}\n",
            i.guid, i.number, i.company_id, i.name, i.price, i.status_code
        )
    });
    tx.commit().expect("commit");
    let insert = (2 * rows) as f64 / started.elapsed().as_secs_f64();
    client.batch_execute("VACUUM ANALYZE").expect("analyze");
    let started = Instant::now();
    let mut read = 0;
    for scan in SCANS {
        for row in client.query(scan, &[]).expect("scan") {
            for column in 0..row.len() {
                read_column(&row, column);
            }
            read += 1;
        }
    }
    let scan = started.elapsed().as_secs_f64();
    assert_eq!(read, 2 * rows, "the scan reads every row");
    drop(client);
    server.batch_execute(&format!("DROP DATABASE {database} WITH (FORCE)")).expect("drop");
    Limits { insert, scan }
}

/// Reads a column's value as its type: text, a float or an integer.
fn read_column(row: &postgres::Row, column: usize) {
    use postgres::types::Type;
    match *row.columns()[column].type_() {
        Type::INT8 => drop(std::hint::black_box(row.get::<_, Option<i64>>(column))),
        Type::FLOAT8 => drop(std::hint::black_box(row.get::<_, Option<f64>>(column))),
        _ => drop(std::hint::black_box(row.get::<_, Option<String>>(column))),
    }
}
