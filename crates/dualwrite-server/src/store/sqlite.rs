//! The SQLite backend: one file in WAL mode.

use std::sync::Mutex;

use rusqlite::Connection;

use super::migration::{self, Migration};
use super::StoreError;

pub struct SqliteStore {
    conn: Mutex<Connection>,
}

impl SqliteStore {
    pub fn open(path: &str) -> Result<Self, StoreError> {
        let conn = if path == ":memory:" { Connection::open_in_memory()? } else { Connection::open(path)? };
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        let store = SqliteStore { conn: Mutex::new(conn) };
        store.migrate(migration::SQLITE)?;
        Ok(store)
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Connection>, StoreError> {
        self.conn.lock().map_err(|_| StoreError::Worker("a previous database call panicked".into()))
    }

    fn migrate(&self, all: &'static [Migration]) -> Result<(), StoreError> {
        let mut conn = self.lock()?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)",
        )?;
        let applied = level(&conn)?;
        if applied > migration::latest(all) {
            return Err(StoreError::TooNew { found: applied, known: migration::latest(all) });
        }
        for m in migration::pending(all, applied) {
            let tx = conn.transaction()?;
            tx.execute_batch(m.sql)?;
            tx.execute(
                "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, datetime('now'))",
                [m.version],
            )?;
            tx.commit()?;
        }
        Ok(())
    }

    pub fn migration_level(&self) -> Result<i64, StoreError> {
        level(&*self.lock()?)
    }
}

fn level(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn.query_row("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", [], |r| r.get(0))?)
}
