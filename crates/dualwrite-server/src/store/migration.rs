//! Append-only schema migrations, embedded in the binary, one list per backend.

/// One migration: its number (the file's prefix) and its SQL.
pub struct Migration {
    pub version: i64,
    pub sql: &'static str,
}

macro_rules! migrations {
    ($dir:literal: $($version:literal => $file:literal),* $(,)?) => {
        &[$(Migration {
            version: $version,
            sql: include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/", $dir, "/", $file)),
        }),*]
    };
}

pub const SQLITE: &[Migration] = migrations!("sqlite":
    1 => "0001_init.sql",
    2 => "0002_environments.sql",
    3 => "0003_lifecycle.sql",
    4 => "0004_error_keys_shown.sql",
    5 => "0005_leases.sql",
    6 => "0006_catch_up_errors_by_key.sql",
);

pub const POSTGRES: &[Migration] = migrations!("postgres":
    1 => "0001_init.sql",
    2 => "0002_environments.sql",
    3 => "0003_lifecycle.sql",
    4 => "0004_error_keys_shown.sql",
    5 => "0005_leases.sql",
    6 => "0006_catch_up_errors_by_key.sql",
    7 => "0007_keys_without_trigger.sql",
);

/// The migrations of `all` newer than `applied`, in order.
pub fn pending(all: &'static [Migration], applied: i64) -> impl Iterator<Item = &'static Migration> {
    all.iter().filter(move |m| m.version > applied)
}

/// The newest migration in `all`.
pub fn latest(all: &[Migration]) -> i64 {
    all.iter().map(|m| m.version).max().unwrap_or(0)
}
