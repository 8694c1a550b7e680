//! The SQLite backend: one file in WAL mode. One connection writes (SQLite takes one writer at a
//! time anyway); readers each take a connection of their own and see a consistent snapshot.

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use serde_json::Value;

use super::migration::{self, Migration};
use super::{
    parse_json, parse_row, DuplicateKey, Event, Row, RowKey, StoreError, StoredMap, StoredRow, Tx, TxError,
};

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
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

fn poisoned<T>(_: T) -> StoreError {
    StoreError::Poisoned("a previous database call panicked".into())
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

    fn writer(&self) -> Result<MutexGuard<'_, Connection>, StoreError> {
        self.writer.lock().map_err(poisoned)
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
        let mut conn = self.writer()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(StoreError::from)?;
        let out = work(&mut SqliteTx { conn: &tx })?;
        tx.commit().map_err(StoreError::from)?;
        Ok(out)
    }

    pub fn read<T, E: TxError>(&self, work: &mut impl FnMut(&mut dyn Tx) -> Result<T, E>) -> Result<T, E> {
        if self.path == ":memory:" {
            return self.write(work);
        }
        let reused = self.readers.lock().map_err(poisoned)?.pop();
        let mut conn = match reused {
            Some(c) => c,
            None => connect(&self.path)?,
        };
        let out = {
            let tx =
                conn.transaction_with_behavior(TransactionBehavior::Deferred).map_err(StoreError::from)?;
            let out = work(&mut SqliteTx { conn: &tx });
            tx.finish().map_err(StoreError::from)?;
            out
        };
        self.readers.lock().map_err(poisoned)?.push(conn);
        out
    }
}

fn level(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn.query_row("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", [], |r| r.get(0))?)
}

struct SqliteTx<'a> {
    conn: &'a Connection,
}

impl SqliteTx<'_> {
    fn keys_of(&self, id: i64) -> Result<Vec<RowKey>, StoreError> {
        let mut stmt = self.conn.prepare_cached("SELECT name, value FROM env_row_keys WHERE row_id = ?1")?;
        let keys = stmt
            .query_map([id], |r| Ok(RowKey { name: r.get(0)?, value: r.get(1)? }))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(keys)
    }

    /// The first of `keys` already held by a row other than `me`.
    fn taken(
        &self,
        side: &str,
        table: &str,
        keys: &[RowKey],
        me: i64,
    ) -> Result<Option<DuplicateKey>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT row_id FROM env_row_keys WHERE side = ?1 AND tbl = ?2 AND name = ?3 AND value = ?4",
        )?;
        for key in keys {
            let holder: Option<i64> =
                stmt.query_row(params![side, table, key.name, key.value], |r| r.get(0)).optional()?;
            if holder.is_some_and(|h| h != me) {
                return Ok(Some(DuplicateKey { key: key.name.clone() }));
            }
        }
        Ok(None)
    }

    fn add_keys(&self, side: &str, table: &str, id: i64, keys: &[RowKey]) -> Result<(), StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "INSERT INTO env_row_keys (side, tbl, name, value, row_id) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        for key in keys {
            stmt.execute(params![side, table, key.name, key.value, id])?;
        }
        Ok(())
    }
}

fn stored_map(r: &rusqlite::Row<'_>) -> rusqlite::Result<(i64, String, String)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
}

fn to_map((id, body, status): (i64, String, String)) -> Result<StoredMap, StoreError> {
    Ok(StoredMap { id, body: parse_json(&body)?, status })
}

impl Tx for SqliteTx<'_> {
    fn get_document(&mut self, name: &str) -> Result<Option<Value>, StoreError> {
        let body: Option<String> = self
            .conn
            .prepare_cached("SELECT body FROM documents WHERE name = ?1")?
            .query_row([name], |r| r.get(0))
            .optional()?;
        body.map(|b| parse_json(&b)).transpose()
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

    fn set_map_status(&mut self, id: i64, status: &str) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(&format!("UPDATE maps SET status = ?2, updated_at = {NOW} WHERE id = ?1"))?
            .execute(params![id, status])?;
        Ok(())
    }

    fn delete_map(&mut self, id: i64) -> Result<(), StoreError> {
        self.conn.prepare_cached("DELETE FROM maps WHERE id = ?1")?.execute([id])?;
        Ok(())
    }

    fn find_row(
        &mut self,
        side: &str,
        table: &str,
        key_name: &str,
        value: &str,
    ) -> Result<Option<StoredRow>, StoreError> {
        let found: Option<(i64, String)> = self
            .conn
            .prepare_cached(
                "SELECT r.id, r.data FROM env_row_keys k JOIN env_rows r ON r.id = k.row_id
                 WHERE k.side = ?1 AND k.tbl = ?2 AND k.name = ?3 AND k.value = ?4",
            )?
            .query_row(params![side, table, key_name, value], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        found.map(|(id, data)| Ok(StoredRow { id, data: parse_row(&data)? })).transpose()
    }

    fn get_row(&mut self, id: i64) -> Result<Option<StoredRow>, StoreError> {
        let data: Option<String> = self
            .conn
            .prepare_cached("SELECT data FROM env_rows WHERE id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?;
        data.map(|d| Ok(StoredRow { id, data: parse_row(&d)? })).transpose()
    }

    fn insert_row(
        &mut self,
        side: &str,
        table: &str,
        data: &Row,
        keys: &[RowKey],
    ) -> Result<Result<i64, DuplicateKey>, StoreError> {
        if let Some(dup) = self.taken(side, table, keys, -1)? {
            return Ok(Err(dup));
        }
        self.conn
            .prepare_cached("INSERT INTO env_rows (side, tbl, data) VALUES (?1, ?2, ?3)")?
            .execute(params![side, table, Value::Object(data.clone()).to_string()])?;
        let id = self.conn.last_insert_rowid();
        self.add_keys(side, table, id, keys)?;
        Ok(Ok(id))
    }

    fn update_row(
        &mut self,
        id: i64,
        side: &str,
        table: &str,
        data: &Row,
        keys: &[RowKey],
    ) -> Result<Result<(), DuplicateKey>, StoreError> {
        let old = self.keys_of(id)?;
        let added: Vec<RowKey> = keys.iter().filter(|k| !old.contains(k)).cloned().collect();
        if let Some(dup) = self.taken(side, table, &added, id)? {
            return Ok(Err(dup));
        }
        let mut drop_key = self
            .conn
            .prepare_cached("DELETE FROM env_row_keys WHERE row_id = ?1 AND name = ?2 AND value = ?3")?;
        for gone in old.iter().filter(|k| !keys.contains(k)) {
            drop_key.execute(params![id, gone.name, gone.value])?;
        }
        self.add_keys(side, table, id, &added)?;
        self.conn
            .prepare_cached("UPDATE env_rows SET data = ?2 WHERE id = ?1")?
            .execute(params![id, Value::Object(data.clone()).to_string()])?;
        Ok(Ok(()))
    }

    fn delete_row(&mut self, id: i64) -> Result<(), StoreError> {
        self.conn.prepare_cached("DELETE FROM env_rows WHERE id = ?1")?.execute([id])?;
        Ok(())
    }

    fn scan_rows(
        &mut self,
        side: &str,
        table: &str,
        after: i64,
        limit: usize,
    ) -> Result<Vec<StoredRow>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, data FROM env_rows WHERE side = ?1 AND tbl = ?2 AND id > ?3 ORDER BY id LIMIT ?4",
        )?;
        let raw = stmt
            .query_map(params![side, table, after, limit as i64], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        raw.into_iter().map(|(id, d)| Ok(StoredRow { id, data: parse_row(&d)? })).collect()
    }

    fn count_rows(&mut self, side: &str, table: &str) -> Result<u64, StoreError> {
        let n: i64 = self
            .conn
            .prepare_cached("SELECT COUNT(*) FROM env_rows WHERE side = ?1 AND tbl = ?2")?
            .query_row(params![side, table], |r| r.get(0))?;
        Ok(n.max(0) as u64)
    }

    fn is_available(&mut self, side: &str) -> Result<bool, StoreError> {
        let v: Option<bool> = self
            .conn
            .prepare_cached("SELECT available FROM environments WHERE side = ?1")?
            .query_row([side], |r| r.get(0))
            .optional()?;
        Ok(v.unwrap_or(true))
    }

    fn set_available(&mut self, side: &str, available: bool) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT INTO environments (side, available) VALUES (?1, ?2)
                 ON CONFLICT (side) DO UPDATE SET available = excluded.available",
            )?
            .execute(params![side, available])?;
        Ok(())
    }

    fn append_event(&mut self, kind: &str, map_id: Option<i64>, body: &Value) -> Result<i64, StoreError> {
        self.conn
            .prepare_cached(&format!(
                "INSERT INTO events (at, kind, map_id, body) VALUES ({NOW}, ?1, ?2, ?3)"
            ))?
            .execute(params![kind, map_id, body.to_string()])?;
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
                Ok(Event { seq, at, kind, map_id, body: parse_json(&body)? })
            })
            .collect()
    }
}
