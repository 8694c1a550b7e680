//! The SQLite backend: one file in WAL mode. One connection writes (SQLite takes one writer at a
//! time anyway); readers each take a connection of their own and see a consistent snapshot.

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use dualwrite_core::error_code::ErrorCode;
use dualwrite_core::lifecycle::MapStatus;
use dualwrite_core::schema::Side;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use serde_json::Value;

use super::column::{self, like_pattern};
use super::migration::{self, Migration};
use super::row_cache::RowCache;
use super::rows::{self, RowTables};
use super::{
    CatchUpError, DuplicateKey, Event, EventKind, ExecutionError, Lease, QueuedChange, RowKey, StoreError,
    StoredMap, StoredRow, Tx, TxError,
};
use crate::environment::write::Written;

pub struct SqliteStore {
    path: String,
    writer: Mutex<Connection>,
    /// Idle read connections (none for an in-memory database, whose readers use the writer).
    readers: Mutex<Vec<Connection>>,
}

const NOW: &str = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";

fn connect(path: &str) -> Result<Connection, StoreError> {
    let conn = if path == ":memory:" { Connection::open_in_memory()? } else { Connection::open(path)? };
    conn.busy_timeout(Duration::from_secs(30))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // 64 MiB of page cache per connection: the row and key indexes of a large table stay in memory.
    conn.pragma_update(None, "cache_size", -65536)?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

impl SqliteStore {
    pub fn open(path: &str) -> Result<Self, StoreError> {
        let store = SqliteStore {
            path: path.to_owned(),
            writer: Mutex::new(connect(path)?),
            readers: Mutex::new(Vec::new()),
        };
        store.migrate(migration::SQLITE)?;
        Ok(store)
    }

    /// The writer connection. A panic in an earlier transaction poisons the lock but not the
    /// connection: its transaction was rolled back as it unwound (and is rolled back here if it was
    /// not), so the connection is clean and the lock is taken back.
    fn writer(&self) -> Result<MutexGuard<'_, Connection>, StoreError> {
        match self.writer.lock() {
            Ok(conn) => Ok(conn),
            Err(poison) => {
                let conn = poison.into_inner();
                if !conn.is_autocommit() {
                    conn.execute_batch("ROLLBACK")?;
                }
                self.writer.clear_poison();
                Ok(conn)
            }
        }
    }

    fn migrate(&self, all: &'static [Migration]) -> Result<(), StoreError> {
        let mut conn = self.writer()?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)",
        )?;
        let applied = level(&conn)?;
        if applied > migration::latest(all) {
            return Err(StoreError::TooNew { found: applied, known: migration::latest(all) });
        }
        for m in migration::pending(all, applied) {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute_batch(m.sql)?;
            tx.execute(
                &format!("INSERT INTO schema_migrations (version, applied_at) VALUES (?1, {NOW})"),
                [m.version],
            )?;
            tx.commit()?;
        }
        Ok(())
    }

    pub fn migration_level(&self) -> Result<i64, StoreError> {
        level(&*self.writer()?)
    }

    pub fn write<T, E: TxError>(&self, work: &mut impl FnMut(&mut dyn Tx) -> Result<T, E>) -> Result<T, E> {
        self.on_writer(work, false)
    }

    /// Runs `work` in a transaction on the writer connection; `read_only` when it only reads (an
    /// in-memory database has no other connection to read on).
    fn on_writer<T, E: TxError>(
        &self,
        work: &mut impl FnMut(&mut dyn Tx) -> Result<T, E>,
        read_only: bool,
    ) -> Result<T, E> {
        let mut conn = self.writer()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(StoreError::from)?;
        let out = work(&mut SqliteTx::new(&tx, read_only))?;
        tx.commit().map_err(StoreError::from)?;
        Ok(out)
    }

    pub fn read<T, E: TxError>(&self, work: &mut impl FnMut(&mut dyn Tx) -> Result<T, E>) -> Result<T, E> {
        if self.path == ":memory:" {
            return self.on_writer(work, true);
        }
        let reused = self.readers.lock().map_err(super::poisoned)?.pop();
        let mut conn = match reused {
            Some(c) => c,
            None => connect(&self.path)?,
        };
        let out = {
            let tx =
                conn.transaction_with_behavior(TransactionBehavior::Deferred).map_err(StoreError::from)?;
            let out = work(&mut SqliteTx::new(&tx, true));
            tx.finish().map_err(StoreError::from)?;
            out
        };
        self.readers.lock().map_err(super::poisoned)?.push(conn);
        out
    }
}

fn level(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn.query_row("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", [], |r| r.get(0))?)
}

struct SqliteTx<'a> {
    conn: &'a Connection,
    cache: RowCache,
    read_only: bool,
    /// The connection's count of changed rows when the transaction began.
    changes_before: u64,
}

impl<'a> SqliteTx<'a> {
    fn new(conn: &'a Connection, read_only: bool) -> Self {
        SqliteTx { conn, cache: RowCache::default(), read_only, changes_before: conn.total_changes() }
    }
}

impl RowTables for SqliteTx<'_> {
    fn cache(&mut self) -> &mut RowCache {
        &mut self.cache
    }

    fn select_by_key(
        &mut self,
        side: Side,
        table: &str,
        name: &str,
        value: &str,
    ) -> Result<Option<StoredRow>, StoreError> {
        let found: Option<(i64, String)> = self
            .conn
            .prepare_cached(
                "SELECT r.id, r.data FROM env_row_keys k JOIN env_rows r ON r.id = k.row_id
                 WHERE k.side = ?1 AND k.tbl = ?2 AND k.name = ?3 AND k.value = ?4",
            )?
            .query_row(params![side.as_str(), table, name, value], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        found.map(|(id, data)| Ok(StoredRow { id, data: column::row(&data)? })).transpose()
    }

    fn select_by_id(&mut self, id: i64) -> Result<Option<StoredRow>, StoreError> {
        let data: Option<String> = self
            .conn
            .prepare_cached("SELECT data FROM env_rows WHERE id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?;
        data.map(|d| Ok(StoredRow { id, data: column::row(&d)? })).transpose()
    }

    fn insert(
        &mut self,
        side: Side,
        table: &str,
        data: &str,
        keys: &[RowKey],
    ) -> Result<Result<i64, DuplicateKey>, StoreError> {
        self.conn
            .prepare_cached("INSERT INTO env_rows (side, tbl, data) VALUES (?1, ?2, ?3)")?
            .execute(params![side.as_str(), table, data])?;
        let id = self.conn.last_insert_rowid();
        // The keys' primary key refuses a taken one; a failed statement leaves the rest of the
        // transaction intact in SQLite, so the row is simply taken back out.
        for key in keys {
            match self.add_key(side, table, id, key) {
                Ok(_) => {}
                Err(rusqlite::Error::SqliteFailure(e, _))
                    if e.code == rusqlite::ErrorCode::ConstraintViolation =>
                {
                    self.conn.prepare_cached("DELETE FROM env_rows WHERE id = ?1")?.execute([id])?;
                    return Ok(Err(DuplicateKey { key: key.name.clone() }));
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(Ok(id))
    }

    fn insert_many(
        &mut self,
        side: Side,
        table: &str,
        rows: &[(String, &[RowKey])],
    ) -> Result<Result<Vec<i64>, DuplicateKey>, StoreError> {
        // In process, a statement costs no round trip: row by row, under a savepoint of its own.
        self.conn.execute_batch("SAVEPOINT many")?;
        let mut ids = Vec::with_capacity(rows.len());
        for (data, keys) in rows {
            match RowTables::insert(self, side, table, data, keys)? {
                Ok(id) => ids.push(id),
                Err(dup) => {
                    self.conn.execute_batch("ROLLBACK TO SAVEPOINT many; RELEASE SAVEPOINT many")?;
                    return Ok(Err(dup));
                }
            }
        }
        self.conn.execute_batch("RELEASE SAVEPOINT many")?;
        Ok(Ok(ids))
    }

    fn replace(
        &mut self,
        id: i64,
        side: Side,
        table: &str,
        data: &str,
        keys: &[RowKey],
    ) -> Result<Result<(), DuplicateKey>, StoreError> {
        let old = self.keys_of(id)?;
        let added: Vec<&RowKey> = keys.iter().filter(|k| !old.contains(k)).collect();
        for key in &added {
            if self.holder(side, table, key)?.is_some_and(|h| h != id) {
                return Ok(Err(DuplicateKey { key: key.name.clone() }));
            }
        }
        for gone in old.iter().filter(|k| !keys.contains(k)) {
            self.conn
                .prepare_cached("DELETE FROM env_row_keys WHERE row_id = ?1 AND name = ?2 AND value = ?3")?
                .execute(params![id, gone.name, gone.value])?;
        }
        for key in added {
            self.add_key(side, table, id, key)?;
        }
        self.conn
            .prepare_cached("UPDATE env_rows SET data = ?2 WHERE id = ?1")?
            .execute(params![id, data])?;
        Ok(Ok(()))
    }

    fn delete(&mut self, id: i64) -> Result<(), StoreError> {
        self.conn.prepare_cached("DELETE FROM env_rows WHERE id = ?1")?.execute([id])?;
        Ok(())
    }
}

impl SqliteTx<'_> {
    /// Gives row `id` the key `key`; the keys' primary key refuses one another row holds.
    fn add_key(&self, side: Side, table: &str, id: i64, key: &RowKey) -> rusqlite::Result<usize> {
        self.conn
            .prepare_cached(
                "INSERT INTO env_row_keys (side, tbl, name, value, row_id) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![side.as_str(), table, key.name, key.value, id])
    }

    fn keys_of(&mut self, id: i64) -> Result<Vec<RowKey>, StoreError> {
        let mut stmt = self.conn.prepare_cached("SELECT name, value FROM env_row_keys WHERE row_id = ?1")?;
        let keys = stmt
            .query_map([id], |r| Ok(RowKey { name: r.get(0)?, value: r.get(1)? }))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(keys)
    }

    fn holder(&mut self, side: Side, table: &str, key: &RowKey) -> Result<Option<i64>, StoreError> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT row_id FROM env_row_keys WHERE side = ?1 AND tbl = ?2 AND name = ?3 AND value = ?4",
            )?
            .query_row(params![side.as_str(), table, key.name, key.value], |r| r.get(0))
            .optional()?)
    }
}

type RawChange = (i64, String, String, String);

fn raw_change(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawChange> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
}

fn to_change((seq, at, key, body): RawChange) -> Result<QueuedChange, StoreError> {
    Ok(QueuedChange { seq, at, key, write: column::write(&body)? })
}

fn stored_map(r: &rusqlite::Row<'_>) -> rusqlite::Result<(i64, String, String)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
}

fn to_map((id, body, status): (i64, String, String)) -> Result<StoredMap, StoreError> {
    Ok(StoredMap { id, body: column::json(&body)?, status: column::map_status(&status)? })
}

impl Tx for SqliteTx<'_> {
    fn is_read_only(&self) -> bool {
        self.read_only
    }

    fn has_written(&mut self) -> Result<bool, StoreError> {
        Ok(self.conn.total_changes() != self.changes_before)
    }

    fn get_document(&mut self, name: &str) -> Result<Option<Value>, StoreError> {
        let body: Option<String> = self
            .conn
            .prepare_cached("SELECT body FROM documents WHERE name = ?1")?
            .query_row([name], |r| r.get(0))
            .optional()?;
        body.map(|b| column::json(&b)).transpose()
    }

    fn put_document(&mut self, name: &str, body: &Value) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT INTO documents (name, body) VALUES (?1, ?2) ON CONFLICT (name) DO UPDATE SET body = excluded.body",
            )?
            .execute(params![name, body.to_string()])?;
        Ok(())
    }

    fn list_maps(&mut self) -> Result<Vec<StoredMap>, StoreError> {
        let mut stmt = self.conn.prepare_cached("SELECT id, body, status FROM maps ORDER BY id")?;
        let rows = stmt.query_map([], stored_map)?.collect::<Result<Vec<_>, _>>()?;
        rows.into_iter().map(to_map).collect()
    }

    fn get_map(&mut self, id: i64) -> Result<Option<StoredMap>, StoreError> {
        let row = self
            .conn
            .prepare_cached("SELECT id, body, status FROM maps WHERE id = ?1")?
            .query_row([id], stored_map)
            .optional()?;
        row.map(to_map).transpose()
    }

    fn insert_map(&mut self, body: &Value) -> Result<i64, StoreError> {
        self.conn
            .prepare_cached(&format!("INSERT INTO maps (body, updated_at) VALUES (?1, {NOW})"))?
            .execute([body.to_string()])?;
        Ok(self.conn.last_insert_rowid())
    }

    fn update_map(&mut self, id: i64, body: &Value) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(&format!("UPDATE maps SET body = ?2, updated_at = {NOW} WHERE id = ?1"))?
            .execute(params![id, body.to_string()])?;
        Ok(())
    }

    fn set_map_status(&mut self, id: i64, status: MapStatus) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(&format!("UPDATE maps SET status = ?2, updated_at = {NOW} WHERE id = ?1"))?
            .execute(params![id, status.as_str()])?;
        Ok(())
    }

    fn delete_map(&mut self, id: i64) -> Result<(), StoreError> {
        self.conn.prepare_cached("DELETE FROM maps WHERE id = ?1")?.execute([id])?;
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
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, data FROM env_rows WHERE side = ?1 AND tbl = ?2 AND id > ?3 ORDER BY id LIMIT ?4",
        )?;
        let raw = stmt
            .query_map(params![side.as_str(), table, after, limit as i64], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        raw.into_iter().map(|(id, d)| Ok(StoredRow { id, data: column::row(&d)? })).collect()
    }

    fn count_rows(&mut self, side: Side, table: &str) -> Result<u64, StoreError> {
        let n: i64 = self
            .conn
            .prepare_cached("SELECT COUNT(*) FROM env_rows WHERE side = ?1 AND tbl = ?2")?
            .query_row(params![side.as_str(), table], |r| r.get(0))?;
        Ok(column::count(n))
    }

    fn is_available(&mut self, side: Side) -> Result<bool, StoreError> {
        let v: Option<bool> = self
            .conn
            .prepare_cached("SELECT available FROM environments WHERE side = ?1")?
            .query_row([side.as_str()], |r| r.get(0))
            .optional()?;
        Ok(v.unwrap_or(true))
    }

    fn set_available(&mut self, side: Side, available: bool) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT INTO environments (side, available) VALUES (?1, ?2)
                 ON CONFLICT (side) DO UPDATE SET available = excluded.available",
            )?
            .execute(params![side.as_str(), available])?;
        Ok(())
    }

    fn append_event(
        &mut self,
        kind: EventKind,
        map_id: Option<i64>,
        body: &Value,
    ) -> Result<i64, StoreError> {
        self.conn
            .prepare_cached(&format!(
                "INSERT INTO events (at, kind, map_id, body) VALUES ({NOW}, ?1, ?2, ?3)"
            ))?
            .execute(params![kind.as_str(), map_id, body.to_string()])?;
        Ok(self.conn.last_insert_rowid())
    }

    fn events_after(&mut self, after: i64, limit: usize) -> Result<Vec<Event>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT seq, at, kind, map_id, body FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        )?;
        let raw = stmt
            .query_map(params![after, limit as i64], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get::<_, String>(4)?))
            })?
            .collect::<Result<Vec<(i64, String, String, Option<i64>, String)>, _>>()?;
        raw.into_iter()
            .map(|(seq, at, kind, map_id, body)| {
                Ok(Event { seq, at, kind: column::event_kind(&kind)?, map_id, body: column::json(&body)? })
            })
            .collect()
    }

    fn count_recent_events(&mut self, kind: EventKind, map_id: i64, seconds: u64) -> Result<u64, StoreError> {
        let n: i64 = self
            .conn
            .prepare_cached(
                "SELECT COUNT(*) FROM events WHERE map_id = ?2 AND kind = ?1
                 AND at >= strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-' || ?3 || ' seconds')",
            )?
            .query_row(params![kind.as_str(), map_id, seconds as i64], |r| r.get(0))?;
        Ok(column::count(n))
    }

    fn claim_lease(&mut self, name: &str, owner: &str, seconds: u64) -> Result<Lease, StoreError> {
        const NOW_MS: &str = "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)";
        let held: Option<(String, bool)> = self
            .conn
            .prepare_cached(&format!("SELECT owner, expires_at > {NOW_MS} FROM leases WHERE name = ?1"))?
            .query_row([name], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let outcome = Lease::claimed_by(owner, held);
        if let Lease::HeldBy { .. } = outcome {
            return Ok(outcome);
        }
        self.conn
            .prepare_cached(&format!(
                "INSERT INTO leases (name, owner, expires_at) VALUES (?1, ?2, {NOW_MS} + ?3 * 1000)
                 ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at"
            ))?
            .execute(params![name, owner, seconds as i64])?;
        Ok(outcome)
    }

    fn savepoint(&mut self) -> Result<(), StoreError> {
        self.conn.prepare_cached("SAVEPOINT item")?.execute([])?;
        Ok(())
    }

    fn rollback_to_savepoint(&mut self) -> Result<(), StoreError> {
        rows::rolled_back(self);
        self.conn.prepare_cached("ROLLBACK TO SAVEPOINT item")?.execute([])?;
        self.release_savepoint()
    }

    fn release_savepoint(&mut self) -> Result<(), StoreError> {
        self.conn.prepare_cached("RELEASE SAVEPOINT item")?.execute([])?;
        Ok(())
    }

    fn get_rows(&mut self, ids: &[i64]) -> Result<Vec<StoredRow>, StoreError> {
        let list = serde_json::to_string(ids).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, data FROM env_rows WHERE id IN (SELECT value FROM json_each(?1))")?;
        let mut found: std::collections::HashMap<i64, String> =
            stmt.query_map([list], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?;
        ids.iter()
            .filter_map(|id| found.remove(id).map(|data| (*id, data)))
            .map(|(id, data)| Ok(StoredRow { id, data: column::row(&data)? }))
            .collect()
    }

    fn enqueue(&mut self, map_id: i64, key: &str, write: &Written) -> Result<i64, StoreError> {
        self.conn
            .prepare_cached(&format!("INSERT INTO queue (map_id, key, at, body) VALUES (?1, ?2, {NOW}, ?3)"))?
            .execute(params![map_id, key, column::write_text(write)])?;
        Ok(self.conn.last_insert_rowid())
    }

    fn queued(
        &mut self,
        map_id: i64,
        key: Option<&str>,
        after: i64,
        limit: usize,
    ) -> Result<Vec<QueuedChange>, StoreError> {
        // One statement per shape, so that a key's changes are found through the key's index (an
        // `?3 IS NULL OR key = ?3` would scan the rest of the map's queue for every key).
        let limit = limit as i64;
        let raw = match key {
            Some(key) => self
                .conn
                .prepare_cached(
                    "SELECT seq, at, key, body FROM queue WHERE map_id = ?1 AND key = ?2 AND seq > ?3
                     ORDER BY seq LIMIT ?4",
                )?
                .query_map(params![map_id, key, after, limit], raw_change)?
                .collect::<Result<Vec<_>, _>>()?,
            None => self
                .conn
                .prepare_cached("SELECT seq, at, key, body FROM queue WHERE map_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3")?
                .query_map(params![map_id, after, limit], raw_change)?
                .collect::<Result<Vec<_>, _>>()?,
        };
        raw.into_iter().map(to_change).collect()
    }

    fn queue_len(&mut self, map_id: i64, key: Option<&str>) -> Result<u64, StoreError> {
        let n: i64 = match key {
            Some(key) => self
                .conn
                .prepare_cached("SELECT COUNT(*) FROM queue WHERE map_id = ?1 AND key = ?2")?
                .query_row(params![map_id, key], |r| r.get(0))?,
            None => self
                .conn
                .prepare_cached("SELECT COUNT(*) FROM queue WHERE map_id = ?1")?
                .query_row(params![map_id], |r| r.get(0))?,
        };
        Ok(column::count(n))
    }

    fn dequeue(&mut self, seq: i64) -> Result<(), StoreError> {
        self.conn.prepare_cached("DELETE FROM queue WHERE seq = ?1")?.execute([seq])?;
        Ok(())
    }

    fn set_queued_write(&mut self, seq: i64, write: &Written) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("UPDATE queue SET body = ?2 WHERE seq = ?1")?
            .execute(params![seq, column::write_text(write)])?;
        Ok(())
    }

    fn discard_queue(&mut self, map_id: i64) -> Result<u64, StoreError> {
        Ok(self.conn.prepare_cached("DELETE FROM queue WHERE map_id = ?1")?.execute([map_id])? as u64)
    }

    fn move_queue_to_catch_up_errors(
        &mut self,
        map_id: i64,
        code: ErrorCode,
        message: &str,
    ) -> Result<u64, StoreError> {
        self.conn
            .prepare_cached(
                "INSERT INTO catch_up_errors (map_id, seq, key, at, body, code, message)
                 SELECT map_id, seq, key, at, body, ?2, ?3 FROM queue WHERE map_id = ?1 ORDER BY seq",
            )?
            .execute(params![map_id, code.as_str(), message])?;
        self.discard_queue(map_id)
    }

    fn add_catch_up_error(
        &mut self,
        map_id: i64,
        change: &QueuedChange,
        code: ErrorCode,
        message: &str,
    ) -> Result<i64, StoreError> {
        self.conn
            .prepare_cached(
                "INSERT INTO catch_up_errors (map_id, seq, key, at, body, code, message) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![map_id, change.seq, change.key, change.at, column::write_text(&change.write), code.as_str(), message])?;
        Ok(self.conn.last_insert_rowid())
    }

    fn catch_up_errors(
        &mut self,
        map_id: i64,
        after: i64,
        limit: usize,
    ) -> Result<Vec<CatchUpError>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, seq, at, key, body, code, message FROM catch_up_errors WHERE map_id = ?1 AND id > ?2
             ORDER BY id LIMIT ?3",
        )?;
        let raw = stmt
            .query_map(params![map_id, after, limit as i64], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    (r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?),
                    r.get::<_, String>(5)?,
                    r.get::<_, String>(6)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        raw.into_iter()
            .map(|(id, change, code, message)| {
                Ok(CatchUpError { id, change: to_change(change)?, code: column::code(&code)?, message })
            })
            .collect()
    }

    fn catch_up_error_count(&mut self, map_id: i64) -> Result<u64, StoreError> {
        let n: i64 = self
            .conn
            .prepare_cached("SELECT COUNT(*) FROM catch_up_errors WHERE map_id = ?1")?
            .query_row([map_id], |r| r.get(0))?;
        Ok(column::count(n))
    }

    fn delete_catch_up_error(&mut self, id: i64) -> Result<(), StoreError> {
        self.conn.prepare_cached("DELETE FROM catch_up_errors WHERE id = ?1")?.execute([id])?;
        Ok(())
    }

    fn set_catch_up_error(&mut self, id: i64, code: ErrorCode, message: &str) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(&format!(
                "UPDATE catch_up_errors SET code = ?2, message = ?3, at = {NOW} WHERE id = ?1"
            ))?
            .execute(params![id, code.as_str(), message])?;
        Ok(())
    }

    fn first_catch_up_error_of_key(&mut self, map_id: i64, key: &str) -> Result<Option<i64>, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT MIN(seq) FROM catch_up_errors WHERE map_id = ?1 AND key = ?2")?
            .query_row(params![map_id, key], |r| r.get(0))?)
    }

    fn insert_execution(&mut self, map_id: i64, body: &Value) -> Result<i64, StoreError> {
        self.conn
            .prepare_cached("INSERT INTO executions (map_id, body) VALUES (?1, ?2)")?
            .execute(params![map_id, body.to_string()])?;
        Ok(self.conn.last_insert_rowid())
    }

    fn update_execution(&mut self, id: i64, body: &Value) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("UPDATE executions SET body = ?2 WHERE id = ?1")?
            .execute(params![id, body.to_string()])?;
        Ok(())
    }

    fn latest_execution(&mut self, map_id: i64) -> Result<Option<(i64, Value)>, StoreError> {
        let raw: Option<(i64, String)> = self
            .conn
            .prepare_cached("SELECT id, body FROM executions WHERE map_id = ?1 ORDER BY id DESC LIMIT 1")?
            .query_row([map_id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        raw.map(|(id, body)| Ok((id, column::json(&body)?))).transpose()
    }

    fn add_execution_error(&mut self, execution_id: i64, e: &ExecutionError) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT INTO execution_errors (execution_id, side, key, display_key, company, code, message)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                execution_id,
                e.side.as_str(),
                e.key,
                e.display_key,
                e.company,
                e.code.as_str(),
                e.message
            ])?;
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
        const MATCH: &str = "execution_id = ?1 AND (?2 IS NULL OR display_key LIKE ?2 ESCAPE '\\'
                             OR key LIKE ?2 ESCAPE '\\' OR company LIKE ?2 ESCAPE '\\'
                             OR code LIKE ?2 ESCAPE '\\' OR message LIKE ?2 ESCAPE '\\')";
        let total: i64 = self
            .conn
            .prepare_cached(&format!("SELECT COUNT(*) FROM execution_errors WHERE {MATCH}"))?
            .query_row(params![execution_id, pattern], |r| r.get(0))?;
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT id, side, key, COALESCE(display_key, key), company, code, message FROM execution_errors
             WHERE {MATCH} AND id > ?3 ORDER BY id LIMIT ?4 OFFSET ?5"
        ))?;
        let raw = stmt
            .query_map(params![execution_id, pattern, after, limit as i64, offset as i64], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, String>(6)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let items = raw
            .into_iter()
            .map(|(id, side, key, display_key, company, code, message)| {
                Ok(ExecutionError {
                    id,
                    side: column::side(&side)?,
                    key,
                    display_key,
                    company,
                    code: column::code(&code)?,
                    message,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok((column::count(total), items))
    }

    fn add_deferred(&mut self, execution_id: i64, body: &Value) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("INSERT INTO execution_deferred (execution_id, body) VALUES (?1, ?2)")?
            .execute(params![execution_id, body.to_string()])?;
        Ok(())
    }

    fn deferred(
        &mut self,
        execution_id: i64,
        after: i64,
        limit: usize,
    ) -> Result<Vec<(i64, Value)>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, body FROM execution_deferred WHERE execution_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
        )?;
        let raw = stmt
            .query_map(params![execution_id, after, limit as i64], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        raw.into_iter().map(|(id, body)| Ok((id, column::json(&body)?))).collect()
    }
}
