//! Loading data exports: an environment's rows as they were before dual-write, written through the
//! environment's write path (`environment::write`, checked as a client's write is) without live sync.
//!
//! Each file (each entity file of a data package) is one database transaction: by default it loads
//! entirely or not at all, and every bad row is reported with its line; with `skip_bad_rows` the good
//! rows are kept. A row whose key is already stored updates that row, so loading the same export
//! again changes nothing. A load is refused while a map on the table is not `not_running`: its rows
//! would not reach the other side.

use std::fs::File;
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};

use dualwrite_artifacts::data_export::package::{Package, PackageEntity};
use dualwrite_artifacts::data_export::{self, ExportError, ExportRow, Format, Limits, Rows};
use dualwrite_core::api::{BadRow, LoadReport, LoadedFile, Op, OpKind};
use dualwrite_core::error_code::ErrorCode;
use dualwrite_core::schema::{Row, Schema, Side, Table};
use serde_json::{json, Value};

use crate::catalog::{Catalog, CatalogCache};
use crate::environment::write::{self, Applied};
use crate::store::{EventKind, Store, Tx};
use crate::sync_error::SyncError;

/// Bad rows listed per file; more are counted.
pub const MAX_LISTED: usize = 1000;

/// What to load and how.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    pub side: Side,
    /// The table of a CSV or JSON lines file whose name does not say it (by name or alias).
    pub table: Option<String>,
    /// Keep a file's good rows when some are bad.
    pub skip_bad_rows: bool,
    pub limits: Limits,
}

impl LoadOptions {
    pub fn new(side: Side) -> LoadOptions {
        LoadOptions { side, table: None, skip_bad_rows: false, limits: Limits::default() }
    }
}

/// Loads the file at `path`, called `name` in the report and errors; `format` when known (an upload
/// declares it), else told by the name and the first bytes. An error is about the whole file: it
/// cannot be read (with its place), its table is unknown, or a map on its table is running.
pub fn load_file(
    store: &Store,
    cache: &CatalogCache,
    path: &Path,
    name: &str,
    format: Option<Format>,
    options: &LoadOptions,
) -> Result<Vec<LoadedFile>, SyncError> {
    let format = match format {
        Some(f) => f,
        None => {
            let mut head = Vec::with_capacity(8);
            open(path, name)?.take(8).read_to_end(&mut head).map_err(|e| unreadable_io(name, &e))?;
            Format::of(name, &head)
        }
    };
    if format == Format::Package {
        return load_package(store, cache, path, name, options);
    }
    let table = {
        let catalog = snapshot(store, cache)?;
        let schema = catalog.require_schema()?;
        table_for(schema, options.side, options.table.as_deref(), name)?.name.clone()
    };
    let mut source = Source::File { path, format };
    load_rows(store, cache, name, &table, &mut source, options).map(|f| vec![f])
}

/// Loads every entity file of a data package, each into the table its manifest names.
fn load_package(
    store: &Store,
    cache: &CatalogCache,
    path: &Path,
    name: &str,
    options: &LoadOptions,
) -> Result<Vec<LoadedFile>, SyncError> {
    let mut package =
        Package::open(name, BufReader::new(open(path, name)?), &options.limits).map_err(unreadable)?;
    let catalog = snapshot(store, cache)?;
    let schema = catalog.require_schema()?;
    let mut files = Vec::new();
    for entity in package.entities.clone() {
        let place = entity.place(name);
        let mut skipped = |why: String| {
            files.push(LoadedFile { file: place.clone(), warnings: vec![why], ..LoadedFile::default() });
        };
        if entity.disabled {
            skipped(format!("entity `{}` is disabled in the manifest; passed over", entity.name));
            continue;
        }
        let table = match schema.resolve(options.side, &entity.name) {
            Ok(t) => t.name.clone(),
            Err(e) => {
                skipped(format!("entity `{}` is not loaded: {e}", entity.name));
                continue;
            }
        };
        let mut source = Source::Entry { package: &mut package, entity: &entity };
        files.push(load_rows(store, cache, &place, &table, &mut source, options)?);
    }
    Ok(files)
}

/// Where a file's rows come from; opened again if the transaction runs again.
enum Source<'s> {
    File { path: &'s Path, format: Format },
    Entry { package: &'s mut Package<BufReader<File>>, entity: &'s PackageEntity },
}

impl Source<'_> {
    fn rows(
        &mut self,
        place: &str,
        schema: &Schema,
        table: &Table,
        limits: &Limits,
    ) -> Result<Rows<'_>, SyncError> {
        match self {
            Source::File { path, format } => {
                let input = BufReader::with_capacity(256 << 10, open(path, place)?);
                Rows::open(place, input, *format, schema, table, limits).map_err(unreadable)
            }
            Source::Entry { package, entity } => package.rows(entity, schema, table).map_err(unreadable),
        }
    }
}

/// One file's rows into `table`, in one transaction.
fn load_rows(
    store: &Store,
    cache: &CatalogCache,
    place: &str,
    table: &str,
    source: &mut Source<'_>,
    options: &LoadOptions,
) -> Result<LoadedFile, SyncError> {
    let side = options.side;
    let mut refused: Option<LoadedFile> = None;
    let result = store.write(|tx| {
        refused = None;
        let catalog = cache.get(tx)?;
        let schema = catalog.require_schema()?;
        let table = write::table(schema, side, table)?;
        refuse_while_running(&catalog, side, table)?;
        let mut file =
            LoadedFile { file: place.to_owned(), table: table.name.clone(), ..LoadedFile::default() };
        let mut rows = source.rows(place, schema, table, &options.limits)?;
        let size = batch_size(tx);
        let mut batch = Vec::with_capacity(size);
        for item in &mut rows {
            match item {
                Ok(row) => batch.push(row),
                Err(e) if e.fatal => return Err(unreadable(e)),
                Err(e) => {
                    // The rows before it first, so bad rows are listed in the file's order.
                    upsert(tx, schema, table, &mut batch, &mut file)?;
                    bad(&mut file, e.line, e.message);
                }
            }
            if batch.len() == size {
                upsert(tx, schema, table, &mut batch, &mut file)?;
            }
        }
        upsert(tx, schema, table, &mut batch, &mut file)?;
        file.warnings = rows.warnings();
        drop(rows);
        if file.refused > 0 && !options.skip_bad_rows {
            file.inserted = 0;
            file.updated = 0;
            refused = Some(file);
            // Rolls the file's rows back.
            return Err(SyncError::invalid(ErrorCode::RowsRefused, "rows refused"));
        }
        file.loaded = file.inserted + file.updated;
        file.written = true;
        tx.record_event(
            EventKind::Loaded,
            None,
            &json!({"side": side.as_str(), "table": table.name, "file": place,
                    "inserted": file.inserted, "updated": file.updated, "refused": file.refused}),
        )?;
        Ok(file)
    });
    match (result, refused) {
        (Ok(file), _) => Ok(file),
        (Err(_), Some(file)) => Ok(file),
        (Err(e), None) => Err(e),
    }
}

/// Rows of a file written together when they are all new. A database server (PostgreSQL) takes a set
/// by `COPY`, whose cost per statement five thousand rows win back better than one; in process
/// (SQLite), a thousand loaded faster than more.
fn batch_size(tx: &dyn Tx) -> usize {
    if tx.reads_in_round_trips() {
        5000
    } else {
        1000
    }
}

/// Writes `batch` (emptied) into `table`, each row an upsert by its key. Rows new to the table, as
/// in a first load, go in as one set (`write::upsert_new`); if any of them is refused, or already
/// there, or given twice, the set is undone and the rows are upserted one by one, so each refusal is
/// reported on its line and the outcome is the same as row by row.
fn upsert(
    tx: &mut dyn Tx,
    schema: &Schema,
    table: &Table,
    batch: &mut Vec<ExportRow>,
    file: &mut LoadedFile,
) -> Result<(), SyncError> {
    if batch.is_empty() {
        return Ok(());
    }
    let (lines, rows): (Vec<u64>, Vec<Row>) = batch.drain(..).map(|r| (r.line, r.row)).unzip();
    tx.savepoint()?;
    match write::upsert_new(tx, schema, table, &rows) {
        Ok(written) => {
            tx.release_savepoint()?;
            file.inserted += written.len() as u64;
            return Ok(());
        }
        Err(e @ SyncError::Internal(_)) => return Err(e),
        Err(_) => tx.rollback_to_savepoint()?,
    }
    for (line, row) in lines.into_iter().zip(rows) {
        let op = Op { op: OpKind::Upsert, table: table.name.clone(), key: None, row: Some(row) };
        match write::apply(tx, schema, table.side, &op) {
            Ok(written) => match written.applied {
                Applied::Updated => file.updated += 1,
                _ => file.inserted += 1,
            },
            Err(e @ SyncError::Internal(_)) => return Err(e),
            Err(e) => bad(file, Some(line), reason(&e)),
        }
    }
    Ok(())
}

fn bad(file: &mut LoadedFile, line: Option<u64>, reason: String) {
    file.refused += 1;
    if file.bad_rows.len() < MAX_LISTED {
        file.bad_rows.push(BadRow { line, reason });
    }
}

/// What a client is told of a refused row.
fn reason(e: &SyncError) -> String {
    e.refusal().map_or_else(|| "internal error".to_owned(), |r| r.message.clone())
}

/// A conflict naming the maps on `table` that are not `not_running`.
fn refuse_while_running(catalog: &Catalog, side: Side, table: &Table) -> Result<(), SyncError> {
    let running: Vec<&str> = catalog.active_maps_on(side, &table.name).map(|m| m.map.name.as_str()).collect();
    if running.is_empty() {
        return Ok(());
    }
    Err(SyncError::conflict(
        ErrorCode::MapsRunning,
        format!(
            "{side} table {} has maps that are not not_running ({}); a load does not go through live sync, so \
             stop them first",
            table.name,
            running.join(", ")
        ),
    )
    .with("table", table.name.clone())
    .with("maps", running.iter().map(|m| Value::String((*m).to_owned())).collect::<Vec<_>>()))
}

/// Before a file of `table` arrives: the table exists and no map on it runs. What the load itself
/// would answer at the end, told before a client sends gigabytes only to have them refused.
pub fn check_table(store: &Store, cache: &CatalogCache, side: Side, table: &str) -> Result<(), SyncError> {
    let catalog = snapshot(store, cache)?;
    let schema = catalog.require_schema()?;
    refuse_while_running(&catalog, side, table_for(schema, side, Some(table), table)?)
}

/// The table a CSV or JSON lines file goes to: `--table`, else its file stem.
fn table_for<'s>(
    schema: &'s Schema,
    side: Side,
    given: Option<&str>,
    file: &str,
) -> Result<&'s Table, SyncError> {
    if let Some(name) = given {
        return schema.resolve(side, name).map_err(|e| {
            SyncError::not_found(format_args!("{side} table `{name}`")).with("closest", e.closest.clone())
        });
    }
    data_export::table_of_file(schema, side, file).ok_or_else(|| {
        SyncError::malformed(
            ErrorCode::UnknownTable,
            format!("{file}: its name names no {side} table (by name or alias); say which with --table"),
        )
    })
}

fn snapshot(store: &Store, cache: &CatalogCache) -> Result<std::sync::Arc<Catalog>, SyncError> {
    store.read(|tx| cache.get(tx).map_err(SyncError::from))
}

fn open(path: &Path, name: &str) -> Result<File, SyncError> {
    File::open(path).map_err(|e| unreadable_io(name, &e))
}

fn unreadable_io(name: &str, e: &std::io::Error) -> SyncError {
    SyncError::malformed(ErrorCode::UnreadableExport, format!("{name}: cannot be read: {e}"))
        .with("file", name)
}

/// A file that cannot be read, with its place.
pub fn unreadable(e: ExportError) -> SyncError {
    let mut error =
        SyncError::malformed(ErrorCode::UnreadableExport, e.to_string()).with("file", e.place.clone());
    if let Some(line) = e.line {
        error = error.with("line", line);
    }
    error
}

/// The report of loading `files` (CLI): every file, also after one that could not be read.
pub fn run(
    store: &Store,
    files: &[PathBuf],
    options: &LoadOptions,
    out: &mut dyn Write,
) -> std::io::Result<i32> {
    let cache = CatalogCache::default();
    let mut report =
        LoadReport { side: Some(options.side), skip_bad_rows: options.skip_bad_rows, files: Vec::new() };
    let mut failed = false;
    for path in files {
        let name = path.display().to_string();
        match load_file(store, &cache, path, &name, None, options) {
            Ok(loaded) => report.files.extend(loaded),
            Err(e) => {
                failed = true;
                writeln!(out, "{name}: not loaded: {}", reason(&e))?;
            }
        }
    }
    for file in &report.files {
        let verdict = if file.written {
            "loaded"
        } else if file.table.is_empty() {
            "passed over"
        } else {
            "NOT loaded"
        };
        writeln!(
            out,
            "{}: {verdict}{}: {} row(s) loaded ({} inserted, {} updated), {} refused",
            file.file,
            if file.table.is_empty() { String::new() } else { format!(" into {}", file.table) },
            file.loaded,
            file.inserted,
            file.updated,
            file.refused
        )?;
        for warning in &file.warnings {
            writeln!(out, "  warning: {warning}")?;
        }
        for row in &file.bad_rows {
            match row.line {
                Some(line) => writeln!(out, "  line {line}: {}", row.reason)?,
                None => writeln!(out, "  {}", row.reason)?,
            }
        }
        if file.refused as usize > file.bad_rows.len() {
            writeln!(out, "  … and {} more bad row(s)", file.refused as usize - file.bad_rows.len())?;
        }
        if !file.written && file.refused > 0 {
            writeln!(
                out,
                "  nothing of this file was written; fix the rows above, or load with --skip-bad-rows"
            )?;
        }
    }
    Ok(if failed || report.refused() > 0 { 1 } else { 0 })
}
