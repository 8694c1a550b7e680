//! The PostgreSQL backend, for production and for several servers sharing one database.
//! Transactions run SERIALIZABLE; one that loses a race is run again by [`super::Store::write`].

use std::collections::HashMap;
use std::sync::{Condvar, Mutex};

use ::postgres::binary_copy::BinaryCopyInWriter;
use ::postgres::error::SqlState;
use ::postgres::types::Type;
use ::postgres::{Client, IsolationLevel, NoTls, Statement, Transaction};
use dualwrite_core::error_code::ErrorCode;
use dualwrite_core::lifecycle::MapStatus;
use dualwrite_core::schema::Side;
use serde_json::Value;

use super::column::{self, like_pattern};
use super::held::Held;
use super::migration::{self, Migration};
use super::row_cache::RowCache;
use super::rows::{self, RowTables};
use super::{
    CatchUpError, DuplicateKey, Event, EventKind, ExecutionError, Lease, Log, QueuedChange, Row, RowKey,
    StoreError, StoredMap, StoredRow, Tx, TxError, CATALOG_VERSION,
};
use crate::environment::write::Written;

/// Rows inserted together from which `COPY` writes them: below, the few round trips it costs more
/// than the one statement are not won back.
const COPY_FROM: usize = 64;

/// Connections kept open at most; callers beyond that wait for one to come back.
pub(super) const POOL_SIZE: usize = 16;

/// A connection with its prepared statements.
struct Conn {
    client: Client,
    statements: HashMap<&'static str, Statement>,
}

/// A new connection, set up for the statements this backend prepares once and runs many times: each
/// is planned once per connection (`plan_cache_mode`). Left to choose, PostgreSQL planned a row's
/// write afresh on every run, which took longer than running it (150 µs against 60 µs a row).
fn connect(url: &str) -> Result<Client, ::postgres::Error> {
    let mut client = Client::connect(url, NoTls)?;
    client.batch_execute("SET plan_cache_mode = force_generic_plan")?;
    Ok(client)
}

struct Pool {
    idle: Vec<Conn>,
    open: usize,
}

pub struct PgStore {
    url: String,
    pool: Mutex<Pool>,
    returned: Condvar,
}

impl PgStore {
    pub fn open(url: &str) -> Result<Self, StoreError> {
        Self::open_at(url, migration::POSTGRES)
    }

    /// The database at `url` brought up to the last of `migrations`.
    fn open_at(url: &str, migrations: &'static [Migration]) -> Result<Self, StoreError> {
        let store = PgStore {
            url: url.to_owned(),
            pool: Mutex::new(Pool { idle: Vec::new(), open: 0 }),
            returned: Condvar::new(),
        };
        store.migrate(migrations)?;
        Ok(store)
    }

    fn take(&self) -> Result<Conn, StoreError> {
        let mut pool = self.pool.lock().map_err(super::poisoned)?;
        loop {
            if let Some(conn) = pool.idle.pop() {
                if !conn.client.is_closed() {
                    return Ok(conn);
                }
                pool.open -= 1;
                continue;
            }
            if pool.open < POOL_SIZE {
                pool.open += 1;
                drop(pool);
                return match connect(&self.url) {
                    Ok(client) => Ok(Conn { client, statements: HashMap::new() }),
                    Err(e) => {
                        self.pool.lock().map_err(super::poisoned)?.open -= 1;
                        self.returned.notify_one();
                        Err(e.into())
                    }
                };
            }
            pool = self.returned.wait(pool).map_err(super::poisoned)?;
        }
    }

    fn give_back(&self, conn: Conn) {
        if let Ok(mut pool) = self.pool.lock() {
            if conn.client.is_closed() {
                pool.open -= 1;
            } else {
                pool.idle.push(conn);
            }
        }
        self.returned.notify_one();
    }

    /// A connection that goes back to the pool when the loan ends; one whose work panicked is
    /// closed instead (the server rolls back what it had begun) and its slot freed for a new one.
    fn loan(&self) -> Result<Loan<'_>, StoreError> {
        Ok(Loan { store: self, conn: Some(self.take()?) })
    }

    /// Frees the slot of a connection that is not coming back.
    fn discard(&self, conn: Conn) {
        // Closing blocks on the client's own runtime; it may not happen on an async runtime's thread.
        let closing = std::thread::spawn(move || drop(conn));
        let _ = closing.join();
        if let Ok(mut pool) = self.pool.lock() {
            pool.open -= 1;
        }
        self.returned.notify_one();
    }

    fn with_conn<T>(&self, f: impl FnOnce(&mut Conn) -> T) -> Result<T, StoreError> {
        let mut loan = self.loan()?;
        Ok(f(loan.conn()))
    }

    fn migrate(&self, all: &'static [Migration]) -> Result<(), StoreError> {
        self.with_conn(|conn| {
            let mut tx = conn.client.transaction()?;
            // Several servers may start against one database: the first migrates, the others wait.
            tx.batch_execute(
                "SELECT pg_advisory_xact_lock(7242019);
                 CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL)",
            )?;
            let applied: i64 = tx.query_one("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", &[])?.get(0);
            if applied > migration::latest(all) {
                return Err(StoreError::TooNew { found: applied, known: migration::latest(all) });
            }
            for m in migration::pending(all, applied) {
                tx.batch_execute(m.sql)?;
                tx.execute("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, now())", &[&m.version])?;
            }
            tx.commit()?;
            Ok(())
        })?
    }

    /// The highest number of `log` that a reader may hand out now without ever skipping an entry
    /// committed later: below the number announced by every writer still in flight (see
    /// [`PgTx::announce`]), and no higher than the last number taken when the look began. Numbers are
    /// taken in one order and committed in another, so without this a cursor could pass an entry
    /// whose transaction commits after a later one's. Read it before the transaction that reads the
    /// log: anything at or below it is then either visible or never will be.
    pub fn horizon(&self, log: Log) -> Result<i64, StoreError> {
        self.with_conn(|conn| {
            let sql = match log {
                Log::Events => "SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END FROM events_seq_seq",
                Log::Queue => "SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END FROM queue_seq_seq",
                Log::CatchUpErrors => {
                    "SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END FROM catch_up_errors_id_seq"
                }
            };
            // The last number taken first, the writers in flight second: a writer that took a number
            // up to it either shows its announcement now or has committed already. `pg_locks` lists
            // the whole cluster: only this database's writers count.
            let taken: i64 = conn.client.query_one(sql, &[])?.get(0);
            let announced: Option<i64> = conn
                .client
                .query_one(
                    "SELECT MIN(((classid::BIGINT << 32) | objid::BIGINT) & ((1::BIGINT << 56) - 1)) FROM pg_locks
                     WHERE locktype = 'advisory' AND objsubid = 1 AND ((classid::BIGINT << 32) | objid::BIGINT) >> 56 = $1
                       AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
                    &[&log.lock_class()],
                )?
                .get(0);
            Ok(announced.map_or(taken, |first| taken.min(first - 1)))
        })?
    }

    pub fn migration_level(&self) -> Result<i64, StoreError> {
        self.with_conn(|conn| {
            Ok(conn.client.query_one("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", &[])?.get(0))
        })?
    }

    pub fn write<T, E: TxError>(&self, work: &mut impl FnMut(&mut dyn Tx) -> Result<T, E>) -> Result<T, E> {
        self.with_conn(|conn| {
            let tx = conn
                .client
                .build_transaction()
                .isolation_level(IsolationLevel::Serializable)
                .start()
                .map_err(StoreError::from)?;
            let mut t = PgTx {
                tx,
                statements: &mut conn.statements,
                cache: RowCache::default(),
                writing: 0,
                read_only: false,
                available: [None; 2],
                events: Vec::new(),
                savepoints: Vec::new(),
                held: Held::default(),
            };
            let out = work(&mut t)?;
            if let Err(taken) = rows::write_held(&mut t)? {
                return Err(StoreError::Corrupt(format!(
                    "row updates held to the end were refused: {taken}"
                ))
                .into());
            }
            t.flush_events()?;
            t.tx.commit().map_err(StoreError::from)?;
            Ok(out)
        })?
    }

    pub fn read<T, E: TxError>(&self, work: &mut impl FnMut(&mut dyn Tx) -> Result<T, E>) -> Result<T, E> {
        self.with_conn(|conn| {
            let tx = conn
                .client
                .build_transaction()
                .isolation_level(IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .map_err(StoreError::from)?;
            let mut t = PgTx {
                tx,
                statements: &mut conn.statements,
                cache: RowCache::default(),
                writing: 0,
                read_only: true,
                available: [None; 2],
                events: Vec::new(),
                savepoints: Vec::new(),
                held: Held::default(),
            };
            work(&mut t)
        })?
    }
}

/// A connection taken from the pool for one call.
struct Loan<'s> {
    store: &'s PgStore,
    conn: Option<Conn>,
}

impl Loan<'_> {
    fn conn(&mut self) -> &mut Conn {
        self.conn.as_mut().expect("a loan holds its connection until dropped")
    }
}

impl Drop for Loan<'_> {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else { return };
        if std::thread::panicking() {
            self.store.discard(conn);
        } else {
            self.store.give_back(conn);
        }
    }
}

impl Drop for PgStore {
    /// The synchronous client closes its connection by blocking on a runtime of its own, which cannot
    /// happen on an async runtime's thread: close them on a thread of their own.
    fn drop(&mut self) {
        let idle = match self.pool.get_mut() {
            Ok(pool) => std::mem::take(&mut pool.idle),
            Err(poisoned) => std::mem::take(&mut poisoned.into_inner().idle),
        };
        let _ = std::thread::spawn(move || drop(idle)).join();
    }
}

struct PgTx<'a> {
    tx: Transaction<'a>,
    statements: &'a mut HashMap<&'static str, Statement>,
    cache: RowCache,
    /// The logs this transaction has announced itself as a writer of (see [`Log`]), one bit each.
    writing: u8,
    read_only: bool,
    /// Whether each side takes writes, as this transaction has read or written it (finops,
    /// dataverse): asked for every replayed change, and the same all through a transaction that
    /// sees one snapshot, so read once.
    available: [Option<bool>; 2],
    /// Events recorded and not yet written, in order (kind, map, body): they go in one statement
    /// before the transaction commits or reads the log (see [`Tx::record_event`]).
    events: Vec<(EventKind, Option<i64>, String)>,
    /// How many of `events` each open savepoint came after, innermost last.
    savepoints: Vec<usize>,
    /// Row updates held back to be written together (see [`Tx::hold_updates`]).
    held: Held,
}

impl PgTx<'_> {
    /// Writes the recorded events, in the order recorded.
    fn flush_events(&mut self) -> Result<(), StoreError> {
        if self.events.is_empty() {
            return Ok(());
        }
        self.announce(Log::Events)?;
        let st = self.st("INSERT INTO events (at, kind, map_id, body)
             SELECT now(), kind, map_id, body FROM unnest($1::TEXT[], $2::BIGINT[], $3::TEXT[])
               WITH ORDINALITY AS e (kind, map_id, body, n)
             ORDER BY n")?;
        let kinds: Vec<&str> = self.events.iter().map(|(kind, _, _)| kind.as_str()).collect();
        let maps: Vec<Option<i64>> = self.events.iter().map(|(_, map, _)| *map).collect();
        let bodies: Vec<&str> = self.events.iter().map(|(_, _, body)| body.as_str()).collect();
        self.tx.execute(&st, &[&kinds, &maps, &bodies])?;
        self.events.clear();
        // Written now: rolling back to a savepoint undoes them in the database, not here.
        self.savepoints.iter_mut().for_each(|held| *held = 0);
        Ok(())
    }

    /// Announces this transaction as a writer of `log` before it takes its first sequence number
    /// there: a shared transaction-level advisory lock whose key holds a number no higher than any it
    /// will take. Readers see the lock in `pg_locks` until the transaction ends, and hand out nothing
    /// at or above it (see [`PgStore::horizon`]).
    fn announce(&mut self, log: Log) -> Result<(), StoreError> {
        let bit = 1u8 << log.index();
        if self.writing & bit != 0 {
            return Ok(());
        }
        let sql = match log {
            Log::Events => "SELECT pg_advisory_xact_lock_shared(($1::BIGINT << 56) | last_value) FROM events_seq_seq",
            Log::Queue => "SELECT pg_advisory_xact_lock_shared(($1::BIGINT << 56) | last_value) FROM queue_seq_seq",
            Log::CatchUpErrors => {
                "SELECT pg_advisory_xact_lock_shared(($1::BIGINT << 56) | last_value) FROM catch_up_errors_id_seq"
            }
        };
        let st = self.st(sql)?;
        self.tx.query_one(&st, &[&log.lock_class()])?;
        self.writing |= bit;
        Ok(())
    }

    /// The prepared statement for `sql`, prepared once per connection.
    fn st(&mut self, sql: &'static str) -> Result<Statement, StoreError> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let s = self.tx.prepare(sql)?;
        self.statements.insert(sql, s.clone());
        Ok(s)
    }

    /// Writes `rows` (with the ids `ids`) and their keys by `COPY`, under a savepoint: the keys'
    /// primary key refuses a key that another row holds or that two of the rows share, and then
    /// nothing is left written and the answer is `false`.
    fn copy_many(
        &mut self,
        side: Side,
        table: &str,
        rows: &[(String, &[RowKey])],
        ids: &[i64],
    ) -> Result<bool, StoreError> {
        self.tx.batch_execute("SAVEPOINT copy_many")?;
        match self.copy_rows(side, table, rows, ids) {
            Ok(()) => {
                self.tx.batch_execute("RELEASE SAVEPOINT copy_many")?;
                Ok(true)
            }
            Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
                self.tx.batch_execute("ROLLBACK TO SAVEPOINT copy_many; RELEASE SAVEPOINT copy_many")?;
                Ok(false)
            }
            Err(e) => Err(e.into()),
        }
    }

    fn copy_rows(
        &mut self,
        side: Side,
        table: &str,
        rows: &[(String, &[RowKey])],
        ids: &[i64],
    ) -> Result<(), ::postgres::Error> {
        let side = side.as_str();
        let sink = self.tx.copy_in("COPY env_rows (id, side, tbl, data) FROM STDIN BINARY")?;
        let mut writer = BinaryCopyInWriter::new(sink, &[Type::INT8, Type::TEXT, Type::TEXT, Type::TEXT]);
        for ((data, _), id) in rows.iter().zip(ids) {
            writer.write(&[id, &side, &table, data])?;
        }
        writer.finish()?;
        let sink = self.tx.copy_in("COPY env_row_keys (side, tbl, name, value, row_id) FROM STDIN BINARY")?;
        let mut writer =
            BinaryCopyInWriter::new(sink, &[Type::TEXT, Type::TEXT, Type::TEXT, Type::TEXT, Type::INT8]);
        for ((_, keys), id) in rows.iter().zip(ids) {
            for key in keys.iter() {
                writer.write(&[&side, &table, &key.name, &key.value, id])?;
            }
        }
        writer.finish()?;
        Ok(())
    }

    fn change_from(row: &::postgres::Row, at: usize) -> Result<QueuedChange, StoreError> {
        Ok(QueuedChange {
            seq: row.get(at),
            at: row.get(at + 1),
            key: row.get(at + 2),
            write: column::write(row.get(at + 3))?,
        })
    }

    fn map_from(row: &::postgres::Row) -> Result<StoredMap, StoreError> {
        Ok(StoredMap {
            id: row.get(0),
            body: column::json(row.get(1))?,
            status: column::map_status(row.get(2))?,
        })
    }
}

fn side_index(side: Side) -> usize {
    match side {
        Side::Finops => 0,
        Side::Dataverse => 1,
    }
}

/// A row's keys as two parallel arrays (names, values), for `unnest` in a statement.
fn key_columns(keys: &[RowKey]) -> (Vec<&str>, Vec<&str>) {
    keys.iter().map(|k| (k.name.as_str(), k.value.as_str())).unzip()
}

impl RowTables for PgTx<'_> {
    fn cache(&mut self) -> &mut RowCache {
        &mut self.cache
    }

    fn held(&mut self) -> Option<&mut Held> {
        Some(&mut self.held)
    }

    fn replace_many(
        &mut self,
        side: Side,
        table: &str,
        rows: &[(i64, String, &[RowKey])],
    ) -> Result<Result<(), DuplicateKey>, StoreError> {
        // One statement for the set, as `replace` for one row. The rows' keys as stored are read
        // once, through the index by row: only keys a row did not have are looked for in other rows
        // and added, so an update that keeps its keys writes no key. A key another row holds refuses
        // the set, even when that row is in the set and gives the key up: the set is then written
        // row by row by its caller, in order.
        let st = self.st(
            "WITH r AS (SELECT * FROM unnest($3::BIGINT[], $4::TEXT[]) AS r (id, data)),
             k AS (SELECT * FROM unnest($5::BIGINT[], $6::TEXT[], $7::TEXT[]) AS k (row_id, name, value)),
             stored AS MATERIALIZED (SELECT e.row_id, e.name, e.value FROM env_row_keys e WHERE e.row_id = ANY($3)),
             new AS MATERIALIZED (SELECT * FROM k WHERE NOT EXISTS (SELECT 1 FROM stored s
                        WHERE s.row_id = k.row_id AND s.name = k.name AND s.value = k.value)),
             twice AS (SELECT name FROM k GROUP BY name, value HAVING count(*) > 1 LIMIT 1),
             held AS (SELECT new.name FROM new, LATERAL (SELECT 1 FROM env_row_keys e
                        WHERE e.side = $1 AND e.tbl = $2 AND e.name = new.name AND e.value = new.value
                          AND e.row_id <> new.row_id LIMIT 1) h
                      LIMIT 1),
             taken AS (SELECT name FROM twice UNION ALL SELECT name FROM held LIMIT 1),
             gone AS (DELETE FROM env_row_keys e WHERE e.row_id = ANY($3) AND NOT EXISTS (SELECT 1 FROM taken)
                        AND NOT EXISTS (SELECT 1 FROM k WHERE k.row_id = e.row_id AND k.name = e.name AND k.value = e.value)),
             added AS (INSERT INTO env_row_keys (side, tbl, name, value, row_id)
                       SELECT $1, $2, new.name, new.value, new.row_id FROM new WHERE NOT EXISTS (SELECT 1 FROM taken)),
             changed AS (UPDATE env_rows SET data = r.data FROM r
                         WHERE env_rows.id = r.id AND env_rows.id = ANY($3) AND NOT EXISTS (SELECT 1 FROM taken))
             SELECT name FROM taken",
        )?;
        let ids: Vec<i64> = rows.iter().map(|(id, _, _)| *id).collect();
        let data: Vec<&str> = rows.iter().map(|(_, data, _)| data.as_str()).collect();
        let (mut owners, mut names, mut values) = (Vec::new(), Vec::new(), Vec::new());
        for (id, _, keys) in rows {
            for key in keys.iter() {
                owners.push(*id);
                names.push(key.name.as_str());
                values.push(key.value.as_str());
            }
        }
        let taken =
            self.tx.query_opt(&st, &[&side.as_str(), &table, &ids, &data, &owners, &names, &values])?;
        Ok(match taken {
            Some(row) => Err(DuplicateKey { key: row.get(0) }),
            None => Ok(()),
        })
    }

    fn select_by_key(
        &mut self,
        side: Side,
        table: &str,
        name: &str,
        value: &str,
    ) -> Result<Option<StoredRow>, StoreError> {
        let st = self.st("SELECT r.id, r.data FROM env_row_keys k JOIN env_rows r ON r.id = k.row_id
             WHERE k.side = $1 AND k.tbl = $2 AND k.name = $3 AND k.value = $4")?;
        self.tx
            .query_opt(&st, &[&side.as_str(), &table, &name, &value])?
            .map(|r| Ok(StoredRow { id: r.get(0), data: column::row(r.get(1))? }))
            .transpose()
    }

    fn select_by_keys(
        &mut self,
        side: Side,
        table: &str,
        name: &str,
        values: &[&str],
    ) -> Result<Vec<(String, StoredRow)>, StoreError> {
        // Each value through the keys' index: a generic plan for `value = ANY($4)` reads every key
        // of that name in the table.
        let st = self.st("SELECT k.value, r.id, r.data FROM unnest($4::TEXT[]) AS v (value),
               LATERAL (SELECT value, row_id FROM env_row_keys k
                        WHERE k.side = $1 AND k.tbl = $2 AND k.name = $3 AND k.value = v.value LIMIT 1) k,
               LATERAL (SELECT id, data FROM env_rows r WHERE r.id = k.row_id) r")?;
        self.tx
            .query(&st, &[&side.as_str(), &table, &name, &values])?
            .iter()
            .map(|r| Ok((r.get(0), StoredRow { id: r.get(1), data: column::row(r.get(2))? })))
            .collect()
    }

    fn select_by_id(&mut self, id: i64) -> Result<Option<StoredRow>, StoreError> {
        let st = self.st("SELECT data FROM env_rows WHERE id = $1")?;
        self.tx
            .query_opt(&st, &[&id])?
            .map(|r| Ok(StoredRow { id, data: column::row(r.get(0))? }))
            .transpose()
    }

    fn insert(
        &mut self,
        side: Side,
        table: &str,
        data: &str,
        keys: &[RowKey],
    ) -> Result<Result<i64, DuplicateKey>, StoreError> {
        // A failed statement aborts the whole transaction in PostgreSQL: the statement looks for a
        // taken key first, and writes the row and its keys only when none is. Each key is looked up on
        // its own (`LATERAL … LIMIT 1`, which the planner cannot turn into a join): a prepared
        // statement's generic plan would otherwise scan the table's keys by side and table.
        let st = self.st(
            "WITH k AS (SELECT * FROM unnest($4::TEXT[], $5::TEXT[]) WITH ORDINALITY AS k (name, value, n)),
             taken AS (SELECT k.name FROM k, LATERAL (SELECT 1 FROM env_row_keys e
                         WHERE e.side = $1 AND e.tbl = $2 AND e.name = k.name AND e.value = k.value LIMIT 1) held
                       ORDER BY k.n LIMIT 1),
             r AS (INSERT INTO env_rows (side, tbl, data) SELECT $1, $2, $3 WHERE NOT EXISTS (SELECT 1 FROM taken)
                   RETURNING id),
             added AS (INSERT INTO env_row_keys (side, tbl, name, value, row_id)
                       SELECT $1, $2, k.name, k.value, r.id FROM r, k)
             SELECT (SELECT id FROM r), (SELECT name FROM taken)",
        )?;
        let (names, values) = key_columns(keys);
        let found = self.tx.query_one(&st, &[&side.as_str(), &table, &data, &names, &values])?;
        Ok(match (found.get::<_, Option<i64>>(0), found.get::<_, Option<String>>(1)) {
            (Some(id), _) => Ok(id),
            (None, key) => Err(DuplicateKey { key: key.unwrap_or_default() }),
        })
    }

    fn insert_many(
        &mut self,
        side: Side,
        table: &str,
        rows: &[(String, &[RowKey])],
    ) -> Result<Result<Vec<i64>, DuplicateKey>, StoreError> {
        // Their ids first, so that each key knows its row.
        let st = self.st("SELECT nextval('env_rows_id_seq') FROM generate_series(1, $1::BIGINT)")?;
        let count = rows.len() as i64;
        let mut ids: Vec<i64> = self.tx.query(&st, &[&count])?.iter().map(|r| r.get(0)).collect();
        ids.sort_unstable();
        if rows.len() >= COPY_FROM && self.copy_many(side, table, rows, &ids)? {
            return Ok(Ok(ids));
        }
        // One statement that writes the rows and their keys unless a key is taken or given twice,
        // and otherwise names that key.
        let data: Vec<&str> = rows.iter().map(|(data, _)| data.as_str()).collect();
        let (mut names, mut values, mut owners) = (Vec::new(), Vec::new(), Vec::new());
        for ((_, keys), id) in rows.iter().zip(&ids) {
            for key in keys.iter() {
                names.push(key.name.as_str());
                values.push(key.value.as_str());
                owners.push(*id);
            }
        }
        let st = self.st(
            "WITH k AS (SELECT * FROM unnest($3::TEXT[], $4::TEXT[], $5::BIGINT[]) AS k (name, value, row_id)),
             twice AS (SELECT name FROM k GROUP BY name, value HAVING count(*) > 1 LIMIT 1),
             held AS (SELECT k.name FROM k, LATERAL (SELECT 1 FROM env_row_keys e
                        WHERE e.side = $1 AND e.tbl = $2 AND e.name = k.name AND e.value = k.value LIMIT 1) h
                      LIMIT 1),
             taken AS (SELECT name FROM twice UNION ALL SELECT name FROM held LIMIT 1),
             r AS (INSERT INTO env_rows (id, side, tbl, data)
                   SELECT id, $1, $2, data FROM unnest($6::BIGINT[], $7::TEXT[]) AS r (id, data)
                   WHERE NOT EXISTS (SELECT 1 FROM taken)),
             added AS (INSERT INTO env_row_keys (side, tbl, name, value, row_id)
                       SELECT $1, $2, name, value, row_id FROM k WHERE NOT EXISTS (SELECT 1 FROM taken))
             SELECT name FROM taken",
        )?;
        let taken =
            self.tx.query_opt(&st, &[&side.as_str(), &table, &names, &values, &owners, &ids, &data])?;
        Ok(match taken {
            Some(row) => Err(DuplicateKey { key: row.get(0) }),
            None => Ok(ids),
        })
    }

    fn replace(
        &mut self,
        id: i64,
        side: Side,
        table: &str,
        data: &str,
        keys: &[RowKey],
    ) -> Result<Result<(), DuplicateKey>, StoreError> {
        // One statement, as for an insert: nothing changes when another row holds one of the keys.
        // Its parts see the same snapshot, so a key that moves is deleted and added as two rows
        // of the keys' table, and a key kept is left alone.
        let st = self.st(
            "WITH k AS (SELECT * FROM unnest($5::TEXT[], $6::TEXT[]) WITH ORDINALITY AS k (name, value, n)),
             taken AS (SELECT k.name FROM k, LATERAL (SELECT 1 FROM env_row_keys e
                         WHERE e.side = $2 AND e.tbl = $3 AND e.name = k.name AND e.value = k.value AND e.row_id <> $1
                         LIMIT 1) held
                       ORDER BY k.n LIMIT 1),
             gone AS (DELETE FROM env_row_keys e WHERE e.row_id = $1 AND NOT EXISTS (SELECT 1 FROM taken)
                        AND NOT EXISTS (SELECT 1 FROM k WHERE k.name = e.name AND k.value = e.value)),
             added AS (INSERT INTO env_row_keys (side, tbl, name, value, row_id)
                       SELECT $2, $3, k.name, k.value, $1 FROM k WHERE NOT EXISTS (SELECT 1 FROM taken)
                         AND NOT EXISTS (SELECT 1 FROM env_row_keys e
                                         WHERE e.row_id = $1 AND e.name = k.name AND e.value = k.value)),
             changed AS (UPDATE env_rows SET data = $4 WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM taken))
             SELECT name FROM taken",
        )?;
        let (names, values) = key_columns(keys);
        let taken = self.tx.query_opt(&st, &[&id, &side.as_str(), &table, &data, &names, &values])?;
        Ok(match taken {
            Some(row) => Err(DuplicateKey { key: row.get(0) }),
            None => Ok(()),
        })
    }

    fn delete(&mut self, id: i64) -> Result<(), StoreError> {
        let st = self.st(
            "WITH keys AS (DELETE FROM env_row_keys WHERE row_id = $1) DELETE FROM env_rows WHERE id = $1",
        )?;
        self.tx.execute(&st, &[&id])?;
        Ok(())
    }
}

impl Tx for PgTx<'_> {
    fn is_read_only(&self) -> bool {
        self.read_only
    }

    fn has_written(&mut self) -> Result<bool, StoreError> {
        if self.read_only {
            return Ok(false);
        }
        // A transaction is given an id by its first write (or row lock), not before.
        let st = self.st("SELECT pg_current_xact_id_if_assigned() IS NOT NULL")?;
        Ok(self.tx.query_one(&st, &[])?.get(0))
    }

    fn get_document(&mut self, name: &str) -> Result<Option<Value>, StoreError> {
        let st = self.st("SELECT body FROM documents WHERE name = $1")?;
        self.tx.query_opt(&st, &[&name])?.map(|r| column::json(r.get(0))).transpose()
    }

    fn catalog_version(&mut self) -> Result<i64, StoreError> {
        // With both sides' availability (a side with no row takes writes), in the same round trip:
        // a transaction asks for the catalog first and, when it writes with a running map, for both
        // sides next (see `is_available`).
        let st = self.st("SELECT (SELECT body FROM documents WHERE name = $1), e.side, e.available
             FROM (VALUES (1)) AS one LEFT JOIN environments e ON true")?;
        let mut version = 0;
        let mut available = [Some(true), Some(true)];
        for row in self.tx.query(&st, &[&CATALOG_VERSION])? {
            if let Some(body) = row.get::<_, Option<&str>>(0) {
                version = column::json(body)?.as_i64().unwrap_or(0);
            }
            if let Some(side) = row.get::<_, Option<&str>>(1) {
                available[side_index(column::side(side)?)] = Some(row.get(2));
            }
        }
        self.available = available;
        Ok(version)
    }

    fn put_document(&mut self, name: &str, body: &Value) -> Result<(), StoreError> {
        let st = self.st(
            "INSERT INTO documents (name, body) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET body = excluded.body",
        )?;
        self.tx.execute(&st, &[&name, &body.to_string()])?;
        Ok(())
    }

    fn list_maps(&mut self) -> Result<Vec<StoredMap>, StoreError> {
        let st = self.st("SELECT id, body, status FROM maps ORDER BY id")?;
        self.tx.query(&st, &[])?.iter().map(Self::map_from).collect()
    }

    fn get_map(&mut self, id: i64) -> Result<Option<StoredMap>, StoreError> {
        let st = self.st("SELECT id, body, status FROM maps WHERE id = $1")?;
        self.tx.query_opt(&st, &[&id])?.as_ref().map(Self::map_from).transpose()
    }

    fn insert_map(&mut self, body: &Value) -> Result<i64, StoreError> {
        let st = self.st("INSERT INTO maps (body, updated_at) VALUES ($1, now()) RETURNING id")?;
        Ok(self.tx.query_one(&st, &[&body.to_string()])?.get(0))
    }

    fn update_map(&mut self, id: i64, body: &Value) -> Result<(), StoreError> {
        let st = self.st("UPDATE maps SET body = $2, updated_at = now() WHERE id = $1")?;
        self.tx.execute(&st, &[&id, &body.to_string()])?;
        Ok(())
    }

    fn set_map_status(&mut self, id: i64, status: MapStatus) -> Result<(), StoreError> {
        let st = self.st("UPDATE maps SET status = $2, updated_at = now() WHERE id = $1")?;
        self.tx.execute(&st, &[&id, &status.as_str()])?;
        Ok(())
    }

    fn delete_map(&mut self, id: i64) -> Result<(), StoreError> {
        let st = self.st("DELETE FROM maps WHERE id = $1")?;
        self.tx.execute(&st, &[&id])?;
        Ok(())
    }

    rows::tx_rows!();

    fn scan_rows(
        &mut self,
        side: Side,
        table: &str,
        after: i64,
        limit: usize,
    ) -> Result<Vec<StoredRow>, StoreError> {
        rows::flush(self)?;
        let st = self.st(
            "SELECT id, data FROM env_rows WHERE side = $1 AND tbl = $2 AND id > $3 ORDER BY id LIMIT $4",
        )?;
        let limit = limit as i64;
        self.tx
            .query(&st, &[&side.as_str(), &table, &after, &limit])?
            .iter()
            .map(|r| Ok(StoredRow { id: r.get(0), data: column::row(r.get(1))? }))
            .collect()
    }

    fn count_rows(&mut self, side: Side, table: &str) -> Result<u64, StoreError> {
        rows::flush(self)?;
        let st = self.st("SELECT COUNT(*) FROM env_rows WHERE side = $1 AND tbl = $2")?;
        let n: i64 = self.tx.query_one(&st, &[&side.as_str(), &table])?.get(0);
        Ok(column::count(n))
    }

    fn is_available(&mut self, side: Side) -> Result<bool, StoreError> {
        if self.available[side_index(side)].is_none() {
            // Read with the catalog's version, which most transactions have asked for already.
            self.catalog_version()?;
        }
        Ok(self.available[side_index(side)].unwrap_or(true))
    }

    fn set_available(&mut self, side: Side, available: bool) -> Result<(), StoreError> {
        let st = self.st("INSERT INTO environments (side, available) VALUES ($1, $2)
             ON CONFLICT (side) DO UPDATE SET available = excluded.available")?;
        self.tx.execute(&st, &[&side.as_str(), &available])?;
        self.available[side_index(side)] = Some(available);
        Ok(())
    }

    fn append_event(
        &mut self,
        kind: EventKind,
        map_id: Option<i64>,
        body: &Value,
    ) -> Result<i64, StoreError> {
        self.flush_events()?;
        self.announce(Log::Events)?;
        let st =
            self.st("INSERT INTO events (at, kind, map_id, body) VALUES (now(), $1, $2, $3) RETURNING seq")?;
        Ok(self.tx.query_one(&st, &[&kind.as_str(), &map_id, &body.to_string()])?.get(0))
    }

    fn record_event(&mut self, kind: EventKind, map_id: Option<i64>, body: &Value) -> Result<(), StoreError> {
        self.events.push((kind, map_id, body.to_string()));
        Ok(())
    }

    fn events_after(&mut self, after: i64, limit: usize) -> Result<Vec<Event>, StoreError> {
        self.flush_events()?;
        let st = self.st(
            "SELECT seq, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), kind, map_id, body
             FROM events WHERE seq > $1 ORDER BY seq LIMIT $2",
        )?;
        let limit = limit as i64;
        self.tx
            .query(&st, &[&after, &limit])?
            .iter()
            .map(|r| {
                Ok(Event {
                    seq: r.get(0),
                    at: r.get(1),
                    kind: column::event_kind(r.get(2))?,
                    map_id: r.get(3),
                    body: column::json(r.get(4))?,
                })
            })
            .collect()
    }

    fn count_recent_events(&mut self, kind: EventKind, map_id: i64, seconds: u64) -> Result<u64, StoreError> {
        self.flush_events()?;
        let st = self.st(
            "SELECT COUNT(*) FROM events WHERE map_id = $2 AND kind = $1 AND at >= now() - make_interval(secs => $3)",
        )?;
        let seconds = seconds as f64;
        let n: i64 = self.tx.query_one(&st, &[&kind.as_str(), &map_id, &seconds])?.get(0);
        Ok(column::count(n))
    }

    fn claim_lease(&mut self, name: &str, owner: &str, seconds: u64) -> Result<Lease, StoreError> {
        // The clock at the statement, not at the transaction's start: a renewal at the end of a long
        // step counts from then.
        let st = self.st("SELECT owner, expires_at > clock_timestamp() FROM leases WHERE name = $1")?;
        let held = self.tx.query_opt(&st, &[&name])?.map(|r| (r.get::<_, String>(0), r.get::<_, bool>(1)));
        let outcome = Lease::claimed_by(owner, held);
        if let Lease::HeldBy { .. } = outcome {
            return Ok(outcome);
        }
        let st = self.st(
            "INSERT INTO leases (name, owner, expires_at) VALUES ($1, $2, clock_timestamp() + make_interval(secs => $3))
             ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at",
        )?;
        self.tx.execute(&st, &[&name, &owner, &(seconds as f64)])?;
        Ok(outcome)
    }

    fn reads_in_round_trips(&self) -> bool {
        true
    }

    fn prefetch_rows(
        &mut self,
        side: Side,
        table: &str,
        key_name: &str,
        values: &[&str],
    ) -> Result<(), StoreError> {
        rows::prefetch(self, side, table, key_name, values)
    }

    fn hold_updates(&mut self) {
        self.held.on = true;
        self.held.since = self.savepoints.len();
    }

    fn write_held(&mut self) -> Result<Result<(), DuplicateKey>, StoreError> {
        rows::write_held(self)
    }

    fn savepoint(&mut self) -> Result<(), StoreError> {
        rows::flush(self)?;
        self.tx.batch_execute("SAVEPOINT item")?;
        self.savepoints.push(self.events.len());
        Ok(())
    }

    fn rollback_to_savepoint(&mut self) -> Result<(), StoreError> {
        rows::rolled_back(self);
        let held = self.savepoints.pop().unwrap_or(0);
        self.events.truncate(held);
        if self.savepoints.len() < self.held.since {
            self.held.forget();
        }
        // Locks taken since the savepoint go with it: announce again before the next append.
        self.writing = 0;
        self.available = [None; 2];
        self.tx.batch_execute("ROLLBACK TO SAVEPOINT item; RELEASE SAVEPOINT item")?;
        Ok(())
    }

    fn release_savepoint(&mut self) -> Result<(), StoreError> {
        self.tx.batch_execute("RELEASE SAVEPOINT item")?;
        self.savepoints.pop();
        Ok(())
    }

    fn get_rows(&mut self, ids: &[i64]) -> Result<Vec<StoredRow>, StoreError> {
        rows::flush(self)?;
        let st = self.st("SELECT id, data FROM env_rows WHERE id = ANY($1)")?;
        let mut found: HashMap<i64, Row> = HashMap::with_capacity(ids.len());
        for r in self.tx.query(&st, &[&ids])? {
            found.insert(r.get(0), column::row(r.get(1))?);
        }
        Ok(ids.iter().filter_map(|id| found.remove(id).map(|data| StoredRow { id: *id, data })).collect())
    }

    fn enqueue(&mut self, map_id: i64, key: &str, write: &Written) -> Result<i64, StoreError> {
        self.announce(Log::Queue)?;
        let st =
            self.st("INSERT INTO queue (map_id, key, at, body) VALUES ($1, $2, now(), $3) RETURNING seq")?;
        Ok(self.tx.query_one(&st, &[&map_id, &key, &column::write_text(write)])?.get(0))
    }

    fn queued(
        &mut self,
        map_id: i64,
        key: Option<&str>,
        after: i64,
        limit: usize,
    ) -> Result<Vec<QueuedChange>, StoreError> {
        // One statement per shape, so that a key's changes are found through the key's index (a
        // generic plan for `$3 IS NULL OR key = $3` scans the rest of the map's queue for every key).
        let limit = limit as i64;
        let rows = match key {
            Some(key) => {
                let st = self.st(
                    "SELECT seq, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), key, body FROM queue
                     WHERE map_id = $1 AND key = $2 AND seq > $3 ORDER BY seq LIMIT $4",
                )?;
                self.tx.query(&st, &[&map_id, &key, &after, &limit])?
            }
            None => {
                let st = self.st(
                    "SELECT seq, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), key, body FROM queue
                     WHERE map_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
                )?;
                self.tx.query(&st, &[&map_id, &after, &limit])?
            }
        };
        rows.iter().map(|r| Self::change_from(r, 0)).collect()
    }

    fn queued_under(
        &mut self,
        map_id: i64,
        keys: &[&str],
        after: i64,
    ) -> Result<Vec<QueuedChange>, StoreError> {
        let st = self.st(
            "SELECT seq, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), key, body FROM queue
             WHERE map_id = $1 AND key = ANY($2) AND seq > $3 ORDER BY seq",
        )?;
        let rows = self.tx.query(&st, &[&map_id, &keys, &after])?;
        rows.iter().map(|r| Self::change_from(r, 0)).collect()
    }

    fn queue_len(&mut self, map_id: i64, key: Option<&str>) -> Result<u64, StoreError> {
        let n: i64 = match key {
            Some(key) => {
                let st = self.st("SELECT COUNT(*) FROM queue WHERE map_id = $1 AND key = $2")?;
                self.tx.query_one(&st, &[&map_id, &key])?.get(0)
            }
            None => {
                let st = self.st("SELECT COUNT(*) FROM queue WHERE map_id = $1")?;
                self.tx.query_one(&st, &[&map_id])?.get(0)
            }
        };
        Ok(column::count(n))
    }

    fn dequeue(&mut self, seq: i64) -> Result<(), StoreError> {
        let st = self.st("DELETE FROM queue WHERE seq = $1")?;
        self.tx.execute(&st, &[&seq])?;
        Ok(())
    }

    fn dequeue_all(&mut self, seqs: &[i64]) -> Result<(), StoreError> {
        let st = self.st("DELETE FROM queue WHERE seq = ANY($1)")?;
        self.tx.execute(&st, &[&seqs])?;
        Ok(())
    }

    fn set_queued_write(&mut self, seq: i64, write: &Written) -> Result<(), StoreError> {
        let st = self.st("UPDATE queue SET body = $2 WHERE seq = $1")?;
        self.tx.execute(&st, &[&seq, &column::write_text(write)])?;
        Ok(())
    }

    fn discard_queue(&mut self, map_id: i64) -> Result<u64, StoreError> {
        let st = self.st("DELETE FROM queue WHERE map_id = $1")?;
        Ok(self.tx.execute(&st, &[&map_id])?)
    }

    fn move_queue_to_catch_up_errors(
        &mut self,
        map_id: i64,
        code: ErrorCode,
        message: &str,
    ) -> Result<u64, StoreError> {
        let st = self.st("INSERT INTO catch_up_errors (map_id, seq, key, at, body, code, message)
             SELECT map_id, seq, key, at, body, $2, $3 FROM queue WHERE map_id = $1 ORDER BY seq")?;
        self.tx.execute(&st, &[&map_id, &code.as_str(), &message])?;
        self.discard_queue(map_id)
    }

    fn add_catch_up_error(
        &mut self,
        map_id: i64,
        change: &QueuedChange,
        code: ErrorCode,
        message: &str,
    ) -> Result<i64, StoreError> {
        self.announce(Log::CatchUpErrors)?;
        let st = self.st("INSERT INTO catch_up_errors (map_id, seq, key, at, body, code, message)
             VALUES ($1, $2, $3, $4::TEXT::TIMESTAMPTZ, $5, $6, $7) RETURNING id")?;
        let body = column::write_text(&change.write);
        Ok(self
            .tx
            .query_one(
                &st,
                &[&map_id, &change.seq, &change.key, &change.at, &body, &code.as_str(), &message],
            )?
            .get(0))
    }

    fn catch_up_errors(
        &mut self,
        map_id: i64,
        after: i64,
        limit: usize,
    ) -> Result<Vec<CatchUpError>, StoreError> {
        let st = self.st(
            "SELECT id, code, message, seq, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), key, body
             FROM catch_up_errors WHERE map_id = $1 AND id > $2 ORDER BY id LIMIT $3",
        )?;
        let limit = limit as i64;
        self.tx
            .query(&st, &[&map_id, &after, &limit])?
            .iter()
            .map(|r| {
                Ok(CatchUpError {
                    id: r.get(0),
                    code: column::code(r.get(1))?,
                    message: r.get(2),
                    change: Self::change_from(r, 3)?,
                })
            })
            .collect()
    }

    fn catch_up_error_count(&mut self, map_id: i64) -> Result<u64, StoreError> {
        let st = self.st("SELECT COUNT(*) FROM catch_up_errors WHERE map_id = $1")?;
        let n: i64 = self.tx.query_one(&st, &[&map_id])?.get(0);
        Ok(column::count(n))
    }

    fn delete_catch_up_error(&mut self, id: i64) -> Result<(), StoreError> {
        let st = self.st("DELETE FROM catch_up_errors WHERE id = $1")?;
        self.tx.execute(&st, &[&id])?;
        Ok(())
    }

    fn set_catch_up_error(&mut self, id: i64, code: ErrorCode, message: &str) -> Result<(), StoreError> {
        let st = self.st("UPDATE catch_up_errors SET code = $2, message = $3, at = now() WHERE id = $1")?;
        self.tx.execute(&st, &[&id, &code.as_str(), &message])?;
        Ok(())
    }

    fn first_catch_up_error_of_key(&mut self, map_id: i64, key: &str) -> Result<Option<i64>, StoreError> {
        let st = self.st("SELECT MIN(seq) FROM catch_up_errors WHERE map_id = $1 AND key = $2")?;
        Ok(self.tx.query_one(&st, &[&map_id, &key])?.get(0))
    }

    fn insert_execution(&mut self, map_id: i64, body: &Value) -> Result<i64, StoreError> {
        let st = self.st("INSERT INTO executions (map_id, body) VALUES ($1, $2) RETURNING id")?;
        Ok(self.tx.query_one(&st, &[&map_id, &body.to_string()])?.get(0))
    }

    fn update_execution(&mut self, id: i64, body: &Value) -> Result<(), StoreError> {
        let st = self.st("UPDATE executions SET body = $2 WHERE id = $1")?;
        self.tx.execute(&st, &[&id, &body.to_string()])?;
        Ok(())
    }

    fn latest_execution(&mut self, map_id: i64) -> Result<Option<(i64, Value)>, StoreError> {
        let st = self.st("SELECT id, body FROM executions WHERE map_id = $1 ORDER BY id DESC LIMIT 1")?;
        self.tx.query_opt(&st, &[&map_id])?.map(|r| Ok((r.get(0), column::json(r.get(1))?))).transpose()
    }

    fn add_execution_error(&mut self, execution_id: i64, e: &ExecutionError) -> Result<(), StoreError> {
        let st = self.st(
            "INSERT INTO execution_errors (execution_id, side, key, display_key, company, code, message)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )?;
        self.tx.execute(
            &st,
            &[
                &execution_id,
                &e.side.as_str(),
                &e.key,
                &e.display_key,
                &e.company,
                &e.code.as_str(),
                &e.message,
            ],
        )?;
        Ok(())
    }

    fn execution_errors(
        &mut self,
        execution_id: i64,
        search: Option<&str>,
        after: i64,
        offset: u64,
        limit: usize,
    ) -> Result<(u64, Vec<ExecutionError>), StoreError> {
        let pattern = search.filter(|s| !s.is_empty()).map(like_pattern);
        macro_rules! matching {
            () => {
                "execution_id = $1 AND ($2::TEXT IS NULL OR display_key ILIKE $2 OR key ILIKE $2
                 OR company ILIKE $2 OR code ILIKE $2 OR message ILIKE $2)"
            };
        }
        let total_st = self.st(concat!("SELECT COUNT(*) FROM execution_errors WHERE ", matching!()))?;
        let total: i64 = self.tx.query_one(&total_st, &[&execution_id, &pattern])?.get(0);
        let st = self.st(concat!(
            "SELECT id, side, key, COALESCE(display_key, key), company, code, message FROM execution_errors
             WHERE ",
            matching!(),
            " AND id > $3 ORDER BY id LIMIT $4 OFFSET $5"
        ))?;
        let (limit, offset) = (limit as i64, offset as i64);
        let items = self
            .tx
            .query(&st, &[&execution_id, &pattern, &after, &limit, &offset])?
            .iter()
            .map(|r| {
                Ok(ExecutionError {
                    id: r.get(0),
                    side: column::side(r.get(1))?,
                    key: r.get(2),
                    display_key: r.get(3),
                    company: r.get(4),
                    code: column::code(r.get(5))?,
                    message: r.get(6),
                })
            })
            .collect::<Result<_, StoreError>>()?;
        Ok((column::count(total), items))
    }

    fn add_deferred(&mut self, execution_id: i64, body: &Value) -> Result<(), StoreError> {
        let st = self.st("INSERT INTO execution_deferred (execution_id, body) VALUES ($1, $2)")?;
        self.tx.execute(&st, &[&execution_id, &body.to_string()])?;
        Ok(())
    }

    fn deferred(
        &mut self,
        execution_id: i64,
        after: i64,
        limit: usize,
    ) -> Result<Vec<(i64, Value)>, StoreError> {
        let st = self.st("SELECT id, body FROM execution_deferred WHERE execution_id = $1 AND id > $2 ORDER BY id LIMIT $3")?;
        let limit = limit as i64;
        self.tx
            .query(&st, &[&execution_id, &after, &limit])?
            .iter()
            .map(|r| Ok((r.get(0), column::json(r.get(1))?)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use ::postgres::{Client, NoTls};
    use dualwrite_core::schema::Side;
    use serde_json::json;

    use super::super::{migration, RowKey, Store, StoreError};
    use super::PgStore;

    /// A new database on the server `DUALWRITE_TEST_POSTGRES_URL` names, dropped by `drop_database`.
    fn new_database(name: &str) -> Option<(Client, String)> {
        let Ok(admin_url) = std::env::var("DUALWRITE_TEST_POSTGRES_URL") else {
            eprintln!("note: DUALWRITE_TEST_POSTGRES_URL is unset; the PostgreSQL migration is not tested");
            return None;
        };
        let mut admin = Client::connect(&admin_url, NoTls).expect("connect to postgres");
        admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name}")).expect("drop a leftover");
        admin.batch_execute(&format!("CREATE DATABASE {name}")).expect("create");
        let (base, _) = admin_url.rsplit_once('/').expect("postgres url names a database");
        Some((admin, format!("{base}/{name}")))
    }

    #[test]
    fn a_database_whose_keys_had_a_foreign_key_keeps_its_rows_and_keys_and_deletes_them_together() {
        let name = format!("dw_unit_keys_{}", std::process::id());
        let Some((mut admin, url)) = new_database(&name) else { return };
        let key = |name: &str, value: &str| RowKey { name: name.into(), value: value.into() };
        let row = |v: serde_json::Value| v.as_object().cloned().expect("an object");

        // Rows written by the layout before migration 7.
        let before = Store::Postgres(PgStore::open_at(&url, &migration::POSTGRES[..6]).expect("open at 6"));
        assert_eq!(before.migration_level().expect("level"), 6);
        let (kept, gone) = before
            .write(|tx| {
                let kept = tx.insert_row(Side::Finops, "T", &row(json!({"n": 1})), &[key("key", "a")])?;
                let gone = tx.insert_row(Side::Finops, "T", &row(json!({"n": 2})), &[key("key", "b")])?;
                Ok::<_, StoreError>((kept, gone))
            })
            .expect("rows written before");
        let (kept, gone) = (kept.expect("key a free"), gone.expect("key b free"));
        drop(before);

        let after = Store::open(&url).expect("migrated");
        assert_eq!(after.migration_level().expect("level"), migration::latest(migration::POSTGRES));
        let found = after.read(|tx| tx.find_row(Side::Finops, "T", "key", "a")).expect("read");
        assert_eq!(found.map(|r| (r.id, r.data)), Some((kept, row(json!({"n": 1})))));
        let taken = after.write(|tx| tx.insert_row(Side::Finops, "T", &row(json!({})), &[key("key", "b")]));
        assert!(matches!(taken, Ok(Err(_))), "a key written before the migration is still unique: {taken:?}");

        after.write(|tx| tx.delete_row(gone)).expect("deleted");
        let again =
            after.write(|tx| tx.insert_row(Side::Finops, "T", &row(json!({"n": 3})), &[key("key", "b")]));
        assert!(matches!(again, Ok(Ok(_))), "deleting a row frees its keys: {again:?}");
        let mut check = Client::connect(&url, NoTls).expect("connect");
        let orphans: i64 = check
            .query_one("SELECT count(*) FROM env_row_keys k WHERE NOT EXISTS (SELECT 1 FROM env_rows r WHERE r.id = k.row_id)", &[])
            .expect("count")
            .get(0);
        assert_eq!(orphans, 0, "no key outlives its row");

        drop((after, check));
        admin.batch_execute(&format!("DROP DATABASE {name} WITH (FORCE)")).expect("drop");
    }
}
