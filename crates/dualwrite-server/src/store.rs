//! The store: both environments' rows and the runtime's own state in one database.
//!
//! Two backends sit behind this one boundary: SQLite (one file, the embedded default) and PostgreSQL.
//! Only this module and its children contain SQL. Migrations are append-only, one folder per backend.
//!
//! Work happens in transactions: [`Store::write`] runs a closure against a [`Tx`] and commits when it
//! returns `Ok`, so a source write, its twin write and their events land together or not at all. The
//! closure may run more than once (PostgreSQL retries serialisation failures), so it must not have
//! effects outside the transaction. Calls block: run them on tokio's blocking pool.

mod column;
mod held;
mod migration;
mod postgres;
mod row_cache;
mod rows;
mod sqlite;

use dualwrite_core::error_code::ErrorCode;
use dualwrite_core::lifecycle::MapStatus;
use dualwrite_core::schema::Side;
use serde_json::{Map, Value};

use crate::environment::write::Written;
use thiserror::Error;

/// A row as stored: a JSON object.
pub type Row = Map<String, Value>;

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
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("the store is unusable: {0}")]
    Poisoned(String),
}

impl StoreError {
    /// Whether the transaction lost a race with another one and may simply be run again.
    pub fn is_retryable(&self) -> bool {
        match self {
            StoreError::Postgres(e) => e.code().is_some_and(|c| {
                *c == ::postgres::error::SqlState::T_R_SERIALIZATION_FAILURE
                    || *c == ::postgres::error::SqlState::T_R_DEADLOCK_DETECTED
            }),
            _ => false,
        }
    }
}

/// A lock of a backend's connections was poisoned: a call that held it panicked.
fn poisoned<T>(_: T) -> StoreError {
    StoreError::Poisoned("a previous database call panicked".into())
}

/// Errors of work done inside a transaction: they can carry a store error, which may be retryable.
pub trait TxError: From<StoreError> {
    fn is_retryable(&self) -> bool;
}

impl TxError for StoreError {
    fn is_retryable(&self) -> bool {
        StoreError::is_retryable(self)
    }
}

/// One unique key of a row: its name (`key` for a finops entity key, `id` for a dataverse id, or an
/// alternate key's name) and its normalised value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowKey {
    pub name: String,
    pub value: String,
}

/// A stored row with its internal, stable id (the order of insertion; paging cursors use it).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRow {
    pub id: i64,
    pub data: Row,
}

/// The document that holds the catalog's version (see `catalog`), a number.
pub const CATALOG_VERSION: &str = "catalog_version";

/// A stored table map: its JSON body and its lifecycle status.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredMap {
    pub id: i64,
    pub body: Value,
    pub status: MapStatus,
}

dualwrite_core::spelled! {
    /// What an audit event records; [`EventKind::as_str`] is how `GET /events` and the store write it
    /// (`snake_case`).
    pub enum EventKind {
        /// A client write and its twin write on the other side.
        TwinWrite = "twin_write",
        /// A write to a map's table queued while the map does not sync live.
        Queued = "queued",
        /// A queued change taken off the queue without a twin write.
        Replayed = "replayed",
        /// A batch of a map's catch-up.
        CatchUp = "catch_up",
        /// A queued change that did not apply.
        CatchUpError = "catch_up_error",
        /// A write refused while syncing, counted by the alert rules.
        SyncError = "sync_error",
        /// An alert rule fired.
        Alert = "alert",
        /// A map moved between statuses.
        StatusChange = "status_change",
        /// A map was created or edited.
        MapSaved = "map_saved",
        /// A map was deleted.
        MapDeleted = "map_deleted",
        /// A side became available or unavailable.
        Availability = "availability",
        /// The integration keys of a table changed.
        IntegrationKey = "integration_key",
        /// An initial sync started, completed, failed or was skipped.
        InitialSync = "initial_sync",
        /// A chunk of an initial sync was copied.
        Copied = "copied",
        /// A server took over a map's background work.
        Owner = "owner",
        /// Rows were loaded into a side.
        Loaded = "loaded",
        /// Written by earlier versions (changes folded into one while a map initialized); kept so their
        /// audit trail still reads.
        Folded = "folded",
    }
}

/// One audit event.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub seq: i64,
    pub at: String,
    pub kind: EventKind,
    pub map_id: Option<i64>,
    pub body: Value,
}

/// A change queued for a map, oldest first.
#[derive(Debug, Clone, PartialEq)]
pub struct QueuedChange {
    pub seq: i64,
    pub at: String,
    /// The integration-key value, for filtering the queue by key.
    pub key: String,
    /// The write it records, to replay.
    pub write: Written,
}

/// A queued change that did not apply, with why.
#[derive(Debug, Clone, PartialEq)]
pub struct CatchUpError {
    pub id: i64,
    pub change: QueuedChange,
    pub code: ErrorCode,
    pub message: String,
}

/// A row an initial sync could not write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutionError {
    /// Given by the store (ignored when adding one).
    pub id: i64,
    pub side: Side,
    /// The row's integration-key value, normalised (`c001|demf`): what a rerun without errors skips.
    pub key: String,
    /// The key as the row holds it, company part left out (core's `DisplayKey`); `key` for errors
    /// recorded before it was kept.
    pub display_key: String,
    /// The row's company code as the row holds it, for a company-specific key.
    pub company: Option<String>,
    pub code: ErrorCode,
    pub message: String,
}

/// Inserting a row clashed with an existing row on one of its unique keys.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("a row with the same {key} already exists")]
pub struct DuplicateKey {
    pub key: String,
}

/// What [`Tx::claim_lease`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lease {
    /// The owner held the lease already; it is renewed.
    Renewed,
    /// The owner has the lease now: nobody held it, or `previous` let it expire.
    Taken { previous: Option<String> },
    /// `owner` holds the lease and it has not expired.
    HeldBy { owner: String },
}

impl Lease {
    /// What `owner` claiming a lease comes to, given who holds it (and whether that holder's time is
    /// not yet up): the same rule on every backend, which then writes the claim unless it is
    /// [`Lease::HeldBy`] another owner.
    fn claimed_by(owner: &str, held: Option<(String, bool)>) -> Lease {
        match held {
            Some((holder, _)) if holder == owner => Lease::Renewed,
            Some((holder, true)) => Lease::HeldBy { owner: holder },
            Some((holder, false)) => Lease::Taken { previous: Some(holder) },
            None => Lease::Taken { previous: None },
        }
    }
}

/// What the runtime can do inside one transaction.
pub trait Tx {
    /// Whether this is a read-only snapshot ([`Store::read`]): everything it sees was committed.
    /// A read-write transaction may see its own changes, which may yet roll back.
    fn is_read_only(&self) -> bool;
    /// Whether this transaction has written to the database yet. Until it has, what it reads of the
    /// documents, maps and statuses is what other transactions committed. Row updates and events a
    /// backend holds back ([`Tx::hold_updates`], [`Tx::record_event`]) are not written yet; they
    /// touch none of those.
    fn has_written(&mut self) -> Result<bool, StoreError>;

    fn get_document(&mut self, name: &str) -> Result<Option<Value>, StoreError>;
    fn put_document(&mut self, name: &str, body: &Value) -> Result<(), StoreError>;
    /// The catalog's version: document [`CATALOG_VERSION`], 0 before there is one. Every transaction
    /// that uses the catalog asks first.
    fn catalog_version(&mut self) -> Result<i64, StoreError> {
        Ok(self.get_document(CATALOG_VERSION)?.and_then(|v| v.as_i64()).unwrap_or(0))
    }

    fn list_maps(&mut self) -> Result<Vec<StoredMap>, StoreError>;
    fn get_map(&mut self, id: i64) -> Result<Option<StoredMap>, StoreError>;
    fn insert_map(&mut self, body: &Value) -> Result<i64, StoreError>;
    fn update_map(&mut self, id: i64, body: &Value) -> Result<(), StoreError>;
    fn set_map_status(&mut self, id: i64, status: MapStatus) -> Result<(), StoreError>;
    fn delete_map(&mut self, id: i64) -> Result<(), StoreError>;

    /// The row of `table` on `side` whose key `key_name` has the normalised value `value`.
    fn find_row(
        &mut self,
        side: Side,
        table: &str,
        key_name: &str,
        value: &str,
    ) -> Result<Option<StoredRow>, StoreError>;
    fn get_row(&mut self, id: i64) -> Result<Option<StoredRow>, StoreError>;
    /// Inserts a row with its unique keys; `Ok(Err(..))` names the key that is already taken.
    fn insert_row(
        &mut self,
        side: Side,
        table: &str,
        data: &Row,
        keys: &[RowKey],
    ) -> Result<Result<i64, DuplicateKey>, StoreError>;
    /// Inserts rows of one table with their unique keys, all or none: `Ok(Err(..))` names a key that
    /// a row already has, or that two of them share, and then none is inserted. Their ids, in order.
    fn insert_rows(
        &mut self,
        side: Side,
        table: &str,
        rows: &[(&Row, &[RowKey])],
    ) -> Result<Result<Vec<i64>, DuplicateKey>, StoreError>;
    /// Replaces a row's data and unique keys; `Ok(Err(..))` names a key another row already has.
    fn update_row(
        &mut self,
        id: i64,
        side: Side,
        table: &str,
        data: &Row,
        keys: &[RowKey],
    ) -> Result<Result<(), DuplicateKey>, StoreError>;
    fn delete_row(&mut self, id: i64) -> Result<(), StoreError>;
    /// Up to `limit` rows of a table with ids above `after`, in id order.
    fn scan_rows(
        &mut self,
        side: Side,
        table: &str,
        after: i64,
        limit: usize,
    ) -> Result<Vec<StoredRow>, StoreError>;
    fn count_rows(&mut self, side: Side, table: &str) -> Result<u64, StoreError>;

    fn is_available(&mut self, side: Side) -> Result<bool, StoreError>;
    fn set_available(&mut self, side: Side, available: bool) -> Result<(), StoreError>;

    /// Appends an event to the log now and returns its number.
    fn append_event(&mut self, kind: EventKind, map_id: Option<i64>, body: &Value)
        -> Result<i64, StoreError>;
    /// Appends an event to the log with this transaction, in order with every other event it
    /// appends: a backend may hold it until the transaction commits (or reads the log) and write
    /// all it holds in one statement. What the runtime records goes this way.
    fn record_event(&mut self, kind: EventKind, map_id: Option<i64>, body: &Value) -> Result<(), StoreError> {
        self.append_event(kind, map_id, body).map(drop)
    }
    fn events_after(&mut self, after: i64, limit: usize) -> Result<Vec<Event>, StoreError>;
    /// How many events of `kind` for map `map_id` were recorded in the last `seconds` seconds.
    fn count_recent_events(&mut self, kind: EventKind, map_id: i64, seconds: u64) -> Result<u64, StoreError>;

    /// Whether each statement costs a round trip to a database server, so that reading rows
    /// together ([`Tx::prefetch_rows`]) is worth working out which.
    fn reads_in_round_trips(&self) -> bool {
        false
    }
    /// Looks up the rows of `side`/`table` whose key `key_name` has one of `values` together, so
    /// that [`Tx::find_row`] answers each of them without asking the database again (on a backend
    /// where asking costs a round trip).
    fn prefetch_rows(
        &mut self,
        _side: Side,
        _table: &str,
        _key_name: &str,
        _values: &[&str],
    ) -> Result<(), StoreError> {
        Ok(())
    }
    /// From here on a backend may hold row updates back and write them together at
    /// [`Tx::write_held`] (or before a read or write they could change): reads in this transaction
    /// see them, but an update whose key another row holds answers `Ok(Ok(()))`, and the refusal
    /// comes from `write_held` for the whole set. Take a savepoint first and roll back to it when the
    /// set is refused; rolling back to it also stops the holding.
    fn hold_updates(&mut self) {}
    /// Writes the updates held since [`Tx::hold_updates`] and stops holding; `Ok(Err(..))` names a
    /// key of the set another row holds (or two of its rows give), and then the set is not written.
    fn write_held(&mut self) -> Result<Result<(), DuplicateKey>, StoreError> {
        Ok(Ok(()))
    }
    /// Marks a point to return to: work after it can be undone alone with [`Tx::rollback_to_savepoint`].
    fn savepoint(&mut self) -> Result<(), StoreError>;
    /// Undoes everything since the last savepoint and forgets it.
    fn rollback_to_savepoint(&mut self) -> Result<(), StoreError>;
    /// Keeps everything since the last savepoint and forgets it.
    fn release_savepoint(&mut self) -> Result<(), StoreError>;
    /// The rows with these ids, in the order given (missing ones left out).
    fn get_rows(&mut self, ids: &[i64]) -> Result<Vec<StoredRow>, StoreError>;

    fn enqueue(&mut self, map_id: i64, key: &str, write: &Written) -> Result<i64, StoreError>;
    /// Up to `limit` queued changes of a map after `after`, oldest first, optionally only those of one key.
    fn queued(
        &mut self,
        map_id: i64,
        key: Option<&str>,
        after: i64,
        limit: usize,
    ) -> Result<Vec<QueuedChange>, StoreError>;
    /// Every queued change of a map after `after` whose key is one of `keys`, oldest first.
    fn queued_under(
        &mut self,
        map_id: i64,
        keys: &[&str],
        after: i64,
    ) -> Result<Vec<QueuedChange>, StoreError> {
        let mut all = Vec::new();
        for key in keys {
            all.extend(self.queued(map_id, Some(key), after, usize::MAX >> 1)?);
        }
        all.sort_unstable_by_key(|c| c.seq);
        Ok(all)
    }
    fn queue_len(&mut self, map_id: i64, key: Option<&str>) -> Result<u64, StoreError>;
    fn dequeue(&mut self, seq: i64) -> Result<(), StoreError>;
    /// Takes the changes `seqs` off the queue.
    fn dequeue_all(&mut self, seqs: &[i64]) -> Result<(), StoreError> {
        seqs.iter().try_for_each(|&seq| self.dequeue(seq))
    }
    /// Replaces the write of queued change `seq`, which keeps its place in the queue.
    fn set_queued_write(&mut self, seq: i64, write: &Written) -> Result<(), StoreError>;
    /// Drops a map's whole queue; returns how many changes were dropped.
    fn discard_queue(&mut self, map_id: i64) -> Result<u64, StoreError>;
    /// Moves a map's whole queue to its catch-up errors with `code` and `message`.
    fn move_queue_to_catch_up_errors(
        &mut self,
        map_id: i64,
        code: ErrorCode,
        message: &str,
    ) -> Result<u64, StoreError>;

    fn add_catch_up_error(
        &mut self,
        map_id: i64,
        change: &QueuedChange,
        code: ErrorCode,
        message: &str,
    ) -> Result<i64, StoreError>;
    fn catch_up_errors(
        &mut self,
        map_id: i64,
        after: i64,
        limit: usize,
    ) -> Result<Vec<CatchUpError>, StoreError>;
    fn catch_up_error_count(&mut self, map_id: i64) -> Result<u64, StoreError>;
    fn delete_catch_up_error(&mut self, id: i64) -> Result<(), StoreError>;
    fn set_catch_up_error(&mut self, id: i64, code: ErrorCode, message: &str) -> Result<(), StoreError>;
    /// The sequence number of the oldest catch-up error of a map with integration-key value `key`:
    /// the change that key's later changes wait behind.
    fn first_catch_up_error_of_key(&mut self, map_id: i64, key: &str) -> Result<Option<i64>, StoreError>;

    /// Takes or renews lease `name` for `owner` until `seconds` from now (the database's clock at
    /// this statement, not at the transaction's start),
    /// unless another owner holds it unexpired. Commits with the transaction: a step that claims the
    /// lease and does its work in one transaction either has both or neither.
    fn claim_lease(&mut self, name: &str, owner: &str, seconds: u64) -> Result<Lease, StoreError>;

    fn insert_execution(&mut self, map_id: i64, body: &Value) -> Result<i64, StoreError>;
    fn update_execution(&mut self, id: i64, body: &Value) -> Result<(), StoreError>;
    /// A map's newest initial-sync execution: its id and state.
    fn latest_execution(&mut self, map_id: i64) -> Result<Option<(i64, Value)>, StoreError>;
    fn add_execution_error(&mut self, execution_id: i64, error: &ExecutionError) -> Result<(), StoreError>;
    /// The errors of an execution whose key (as shown or normalised), company, code or message
    /// contains `search` (case-insensitive):
    /// up to `limit` after the id `after`, skipping `offset` more, with the total that match.
    fn execution_errors(
        &mut self,
        execution_id: i64,
        search: Option<&str>,
        after: i64,
        offset: u64,
        limit: usize,
    ) -> Result<(u64, Vec<ExecutionError>), StoreError>;
    fn add_deferred(&mut self, execution_id: i64, body: &Value) -> Result<(), StoreError>;
    fn deferred(
        &mut self,
        execution_id: i64,
        after: i64,
        limit: usize,
    ) -> Result<Vec<(i64, Value)>, StoreError>;
}

/// The append-only logs that clients page through with `?after=`: each entry's number is its cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Log {
    /// The audit trail (`GET /events`), by `seq`.
    Events,
    /// Maps' queues (`GET /maps/{id}/queue`), by `seq`.
    Queue,
    /// Maps' catch-up errors (`GET /maps/{id}/catch-up-errors`), by `id`.
    CatchUpErrors,
}

impl Log {
    fn index(self) -> u32 {
        match self {
            Log::Events => 0,
            Log::Queue => 1,
            Log::CatchUpErrors => 2,
        }
    }

    /// The top byte of the advisory-lock keys that announce a writer of this log (PostgreSQL).
    fn lock_class(self) -> i64 {
        0x64 + i64::from(self.index())
    }
}

/// How many times a transaction that lost a race is run again before its error is returned.
const RETRIES: usize = 20;

/// How long to wait before running a transaction again after its `attempt`th lost race: doubling
/// from 1 ms up to 250 ms, with a random part, so that transactions that keep colliding (a large
/// initial-sync chunk and a stream of client writes, or two servers) fall out of step instead of
/// colliding again at once.
fn backoff(attempt: usize) -> std::time::Duration {
    let ceiling = 1u64 << attempt.min(8) as u32;
    let random = u64::from(uuid::Uuid::new_v4().as_bytes()[0]);
    std::time::Duration::from_millis(ceiling / 2 + random * ceiling / 512 + 1)
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
            Err(StoreError::UnsupportedUrl(redacted(url)))
        }
    }

    /// `"sqlite"` or `"postgres"`, for logs and reports.
    pub fn backend(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }

    /// How many transactions can hold a connection at once (SQLite: its one writer; PostgreSQL: the
    /// pool's size); callers beyond that wait.
    pub fn connections(&self) -> usize {
        match self {
            Store::Sqlite(_) => 1,
            Store::Postgres(_) => postgres::POOL_SIZE,
        }
    }

    /// The newest migration applied to this database.
    pub fn migration_level(&self) -> Result<i64, StoreError> {
        match self {
            Store::Sqlite(s) => s.migration_level(),
            Store::Postgres(s) => s.migration_level(),
        }
    }

    /// Runs `work` in a read-write transaction and commits if it returns `Ok`; rolls back otherwise.
    /// Runs it again when it lost a race with a concurrent transaction.
    pub fn write<T, E: TxError>(&self, mut work: impl FnMut(&mut dyn Tx) -> Result<T, E>) -> Result<T, E> {
        let mut attempt = 0;
        loop {
            let result = match self {
                Store::Sqlite(s) => s.write(&mut work),
                Store::Postgres(s) => s.write(&mut work),
            };
            match result {
                Err(e) if e.is_retryable() && attempt < RETRIES => {
                    attempt += 1;
                    std::thread::sleep(backoff(attempt));
                }
                other => return other,
            }
        }
    }

    /// The highest entry number of `log` that a reader may hand out without ever skipping an entry
    /// that commits later. Call it before the transaction that reads the log. On SQLite, whose one
    /// writer commits in the order it numbers, that is every entry.
    pub fn horizon(&self, log: Log) -> Result<i64, StoreError> {
        match self {
            Store::Sqlite(_) => Ok(i64::MAX),
            Store::Postgres(s) => s.horizon(log),
        }
    }

    /// Runs `work` in a read-only snapshot.
    pub fn read<T, E: TxError>(&self, mut work: impl FnMut(&mut dyn Tx) -> Result<T, E>) -> Result<T, E> {
        match self {
            Store::Sqlite(s) => s.read(&mut work),
            Store::Postgres(s) => s.read(&mut work),
        }
    }
}

/// `url` fit to show in a log or an error: a password in it (`postgres://user:secret@host/db`, or a
/// `password=` parameter) is replaced by `***`.
pub fn redacted(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let mut shown = match base.split_once("://") {
        Some((scheme, rest)) => {
            // The credentials end at the last `@` before the path: a password may itself hold `@`.
            let authority_end = rest.find('/').unwrap_or(rest.len());
            match rest[..authority_end].rfind('@') {
                Some(at) => {
                    let user = rest[..at].split_once(':').map_or(&rest[..at], |(user, _)| user);
                    let password = if rest[..at].contains(':') { ":***" } else { "" };
                    format!("{scheme}://{user}{password}{}", &rest[at..])
                }
                None => base.to_owned(),
            }
        }
        None => base.to_owned(),
    };
    if let Some(query) = query {
        let params: Vec<String> = query
            .split('&')
            .map(|param| match param.split_once('=') {
                Some((name, _)) if name.eq_ignore_ascii_case("password") => format!("{name}=***"),
                _ => param.to_owned(),
            })
            .collect();
        shown.push('?');
        shown.push_str(&params.join("&"));
    }
    shown
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::{redacted, EventKind};

    #[test]
    fn every_event_kind_is_spelled_once_and_reads_back_as_itself() {
        let mut seen = HashSet::new();
        for kind in EventKind::ALL {
            assert!(seen.insert(kind.as_str()), "{kind} names two kinds");
            assert_eq!(EventKind::parse(kind.as_str()), Some(*kind));
        }
        assert_eq!(EventKind::parse("no_such_kind"), None);
    }

    #[test]
    fn a_password_in_a_database_url_is_never_shown() {
        for (url, shown) in [
            ("postgres://user:secret@db.example/dw", "postgres://user:***@db.example/dw"),
            ("postgresql://user:p@ss:w@rd@host:5432/dw", "postgresql://user:***@host:5432/dw"),
            (
                "postgres://user@host/dw?password=secret&sslmode=require",
                "postgres://user@host/dw?password=***&sslmode=require",
            ),
            ("postgres://host/dw", "postgres://host/dw"),
            ("sqlite://dualwrite.db", "sqlite://dualwrite.db"),
            ("sqlite:///var/lib/a@b.db", "sqlite:///var/lib/a@b.db"),
        ] {
            assert_eq!(redacted(url), shown, "{url}");
        }
    }
}
