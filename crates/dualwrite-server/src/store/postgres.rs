//! The PostgreSQL backend, for production and for several servers sharing one database.

use std::sync::Mutex;

use ::postgres::{Client, NoTls};

use super::migration::{self, Migration};
use super::StoreError;

pub struct PgStore {
    client: Mutex<Client>,
}

impl PgStore {
    pub fn open(url: &str) -> Result<Self, StoreError> {
        let client = Client::connect(url, NoTls)?;
        let store = PgStore { client: Mutex::new(client) };
        store.migrate(migration::POSTGRES)?;
        Ok(store)
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Client>, StoreError> {
        self.client.lock().map_err(|_| StoreError::Worker("a previous database call panicked".into()))
    }

    fn migrate(&self, all: &'static [Migration]) -> Result<(), StoreError> {
        let mut client = self.lock()?;
        let mut tx = client.transaction()?;
        // Several servers may start against one database: the first migrates, the others wait.
        tx.batch_execute(
            "SELECT pg_advisory_xact_lock(7242019);
             CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL)",
        )?;
        let applied: i64 =
            tx.query_one("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", &[])?.get(0);
        if applied > migration::latest(all) {
            return Err(StoreError::TooNew { found: applied, known: migration::latest(all) });
        }
        for m in migration::pending(all, applied) {
            tx.batch_execute(m.sql)?;
            tx.execute(
                "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, now())",
                &[&m.version],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    pub fn migration_level(&self) -> Result<i64, StoreError> {
        Ok(self.lock()?.query_one("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", &[])?.get(0))
    }
}
