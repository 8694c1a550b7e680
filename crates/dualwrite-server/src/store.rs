//! The store: both environments' rows and the runtime's own state in one database.
//!
//! Two backends sit behind this one boundary: SQLite (one file, the embedded default) and PostgreSQL.
//! Only this module and its children contain SQL. Migrations are append-only, one folder per backend.

mod migration;
mod postgres;
mod sqlite;

use thiserror::Error;

/// What can go wrong talking to the database.
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("unsupported database url {0:?}: expected sqlite://PATH or postgres://...")]
    UnsupportedUrl(String),
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("postgres: {0}")]
    Postgres(#[from] ::postgres::Error),
    #[error(
        "the database is at migration {found}, newer than this dualwrite knows ({known}); upgrade dualwrite"
    )]
    TooNew { found: i64, known: i64 },
    #[error("the store's worker stopped: {0}")]
    Worker(String),
}

/// An open database with its migrations applied.
pub enum Store {
    Sqlite(sqlite::SqliteStore),
    Postgres(postgres::PgStore),
}

impl Store {
    /// Opens (creating if needed) the database at `url` and brings its schema up to date.
    ///
    /// `sqlite://PATH` (relative or absolute: `sqlite:///var/lib/dualwrite.db`), `sqlite::memory:`, or
    /// `postgres://user@host/db`.
    pub fn open(url: &str) -> Result<Store, StoreError> {
        if let Some(rest) = url.strip_prefix("sqlite:") {
            let path = rest.strip_prefix("//").unwrap_or(rest);
            Ok(Store::Sqlite(sqlite::SqliteStore::open(path)?))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Store::Postgres(postgres::PgStore::open(url)?))
        } else {
            Err(StoreError::UnsupportedUrl(url.to_owned()))
        }
    }

    /// `"sqlite"` or `"postgres"`, for logs and reports.
    pub fn backend(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }

    /// The newest migration applied to this database.
    pub fn migration_level(&self) -> Result<i64, StoreError> {
        match self {
            Store::Sqlite(s) => s.migration_level(),
            Store::Postgres(s) => s.migration_level(),
        }
    }
}
