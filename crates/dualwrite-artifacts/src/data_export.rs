//! Rows from data exports: a CSV with a header (finance-and-operations exports with upper-case field
//! names and a `DATAAREAID` column; Dataverse exports with logical names and lookups by dotted key
//! columns), JSON lines, and a finance-and-operations data package (a zip with `Manifest.xml`,
//! `PackageHeader.xml` and one file per entity).
//!
//! Every reader streams: it holds one record at a time, and a record longer than
//! [`Limits::max_record_bytes`] (a line that never ends) stops the file with its line, so memory is
//! bounded whatever the file. Rows come out as the file spells their values (CSV: strings; empty
//! cells left out); the write path checks and normalises them with core's `Table::check_row`, the
//! one place values are checked. Header names are matched to the table's columns without case;
//! columns the schema does not know are named once in [`Rows::warnings`] and skipped.

mod csv_rows;
mod jsonl;
pub mod package;
mod text;
mod xlsx;

#[cfg(test)]
mod tests;

use std::io::{BufReader, Read};

use dualwrite_core::schema::{Row, Schema, Side, Table};

pub use csv_rows::CsvRows;
pub use jsonl::JsonRows;
pub use xlsx::XlsxRows;

/// How far a reader goes before it refuses the input.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Bytes of one field (CSV) or one value (JSON lines).
    pub max_field_bytes: usize,
    /// Bytes of one record: a CSV record (its lines) or a JSON line.
    pub max_record_bytes: u64,
    /// Entries in a data package.
    pub max_entries: usize,
    /// Bytes one entry of a data package inflates to.
    pub max_entry_bytes: u64,
    /// How many times its compressed size an entry may inflate to, past its first 16 MiB (real
    /// exports compress some ten times; a zip bomb a thousand).
    pub max_ratio: u64,
    /// Bytes of `Manifest.xml` and `PackageHeader.xml`.
    pub max_manifest_bytes: u64,
    /// How deep elements nest in `Manifest.xml`.
    pub max_xml_depth: usize,
    /// Bytes of an Excel workbook (read whole: a workbook is a zip).
    pub max_xlsx_bytes: u64,
    /// Bytes all parts of a workbook inflate to.
    pub max_xlsx_inflated: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_field_bytes: 1 << 20,
            max_record_bytes: 16 << 20,
            max_entries: 4096,
            max_entry_bytes: 16 << 30,
            max_ratio: 200,
            max_manifest_bytes: 16 << 20,
            max_xml_depth: 64,
            max_xlsx_bytes: 64 << 20,
            max_xlsx_inflated: 512 << 20,
        }
    }
}

/// A row read from a file, with the line it starts on.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportRow {
    pub line: u64,
    pub row: Row,
}

/// A row or a file that cannot be read: where, and what is wrong. A `fatal` error ends the file (the
/// reader cannot find the next record after it); any other names one bad row and reading goes on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{place}{}: {message}", line.map(|l| format!(" line {l}")).unwrap_or_default())]
pub struct ExportError {
    /// The file, or `package.zip › entry.csv`.
    pub place: String,
    pub line: Option<u64>,
    pub message: String,
    pub fatal: bool,
}

impl ExportError {
    pub(crate) fn file(place: &str, message: impl Into<String>) -> ExportError {
        ExportError { place: place.to_owned(), line: None, message: message.into(), fatal: true }
    }

    pub(crate) fn row(place: &str, line: u64, message: impl Into<String>) -> ExportError {
        ExportError { place: place.to_owned(), line: Some(line), message: message.into(), fatal: false }
    }

    pub(crate) fn stop(place: &str, line: u64, message: impl Into<String>) -> ExportError {
        ExportError { place: place.to_owned(), line: Some(line), message: message.into(), fatal: true }
    }
}

/// The kind of a data export file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    JsonLines,
    /// An Excel workbook (`.xlsx`): its first sheet.
    Xlsx,
    /// A finance-and-operations data package (zip).
    Package,
}

impl Format {
    /// The format a file's name says (`.csv`, `.jsonl`/`.ndjson`, `.zip`), else what its first bytes
    /// say (`PK`: a zip; `{`: JSON lines; anything else: CSV).
    pub fn of(name: &str, head: &[u8]) -> Format {
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".csv") {
            Format::Csv
        } else if lower.ends_with(".jsonl") || lower.ends_with(".ndjson") {
            Format::JsonLines
        } else if lower.ends_with(".xlsx") {
            Format::Xlsx
        } else if lower.ends_with(".zip")
            || head.starts_with(b"PK\x03\x04")
            || head.starts_with(b"PK\x05\x06")
        {
            Format::Package
        } else {
            let text = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
            match text.iter().find(|b| !b.is_ascii_whitespace()) {
                Some(b'{') => Format::JsonLines,
                _ => Format::Csv,
            }
        }
    }

    /// The media type of the format, as an upload declares it.
    pub fn media_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv",
            Format::JsonLines => "application/x-ndjson",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Format::Package => "application/zip",
        }
    }
}

/// The table a file's name says: its stem (`Customers V3.csv` → `Customers V3`), resolved by core's
/// `Schema::resolve` (name or alias).
pub fn table_of_file<'s>(schema: &'s Schema, side: Side, file: &str) -> Option<&'s Table> {
    let base = file.rsplit(['/', '\\']).next().unwrap_or(file);
    let stem = base.split_once('.').map_or(base, |(stem, _)| stem);
    schema.resolve(side, stem).ok()
}

/// How a file's columns (a CSV header, a JSON line's keys) name the table's columns.
#[derive(Debug, Clone, Default)]
pub(crate) struct Header {
    /// For each column of the file, the name it is written under in a row, or `None` to skip it.
    pub names: Vec<Option<String>>,
    /// Columns of the file the table does not have.
    pub unknown: Vec<String>,
}

/// The name a file's column `name` has in `table`: a column matched without case (in the schema's
/// spelling), or on Dataverse a dotted lookup key (`transactioncurrencyid.isocurrencycode`) whose path
/// resolves; `None` for a column the table does not have.
pub(crate) fn column_name(schema: &Schema, table: &Table, name: &str) -> Option<String> {
    let name = name.trim();
    if name.is_empty() {
        return None;
    }
    if let Some(column) = table.columns.iter().find(|c| c.name.eq_ignore_ascii_case(name)) {
        return Some(column.name.clone());
    }
    if table.side == Side::Dataverse && name.contains('.') {
        let (first, rest) = name.split_once('.')?;
        let column = table.columns.iter().find(|c| c.name.eq_ignore_ascii_case(first))?;
        let path = format!("{}.{rest}", column.name);
        return schema.resolve_path(table, &path).is_ok().then_some(path);
    }
    None
}

impl Header {
    pub(crate) fn new<'n>(
        schema: &Schema,
        table: &Table,
        names: impl IntoIterator<Item = &'n str>,
    ) -> Header {
        let mut header = Header::default();
        for name in names {
            let found = column_name(schema, table, name);
            if found.is_none() && !name.trim().is_empty() {
                header.unknown.push(name.trim().to_owned());
            }
            // A column written twice is read once, from its first place.
            let found = found.filter(|f| !header.names.iter().flatten().any(|n| n == f));
            header.names.push(found);
        }
        header
    }
}

/// The warning for a file's columns the table does not have.
pub(crate) fn unknown_warning(place: &str, table: &Table, unknown: &[String]) -> Option<String> {
    const SHOWN: usize = 20;
    if unknown.is_empty() {
        return None;
    }
    let mut names = unknown.iter().take(SHOWN).map(String::as_str).collect::<Vec<_>>().join(", ");
    if unknown.len() > SHOWN {
        names.push_str(&format!(" and {} more", unknown.len() - SHOWN));
    }
    Some(format!(
        "{place}: {} column(s) that {} table {} does not have are skipped: {names}",
        unknown.len(),
        table.side,
        table.name
    ))
}

/// The rows of one file (or package entry), whatever its format.
pub struct Rows<'a> {
    inner: Inner<'a>,
}

enum Inner<'a> {
    Csv(Box<CsvRows<Box<dyn Read + 'a>>>),
    Json(Box<JsonRows<Box<dyn Read + 'a>>>),
    Xlsx(Box<XlsxRows>),
}

impl<'a> Rows<'a> {
    /// Reads `input` (a CSV or JSON lines, UTF-8 with or without a byte-order mark, or UTF-16 with
    /// one) as rows of `table`. `place` names the file in errors. A CSV's header is read here.
    pub fn open(
        place: &str,
        input: impl Read + 'a,
        format: Format,
        schema: &Schema,
        table: &Table,
        limits: &Limits,
    ) -> Result<Rows<'a>, ExportError> {
        if format == Format::Xlsx {
            let rows = XlsxRows::new(place, input, schema, table, limits)?;
            return Ok(Rows { inner: Inner::Xlsx(Box::new(rows)) });
        }
        let input: Box<dyn Read + 'a> = Box::new(text::Utf8Reader::new(input));
        let inner = match format {
            Format::Csv => Inner::Csv(Box::new(CsvRows::new(place, input, schema, table, limits)?)),
            Format::JsonLines => Inner::Json(Box::new(JsonRows::new(
                place,
                BufReader::with_capacity(64 << 10, input),
                schema,
                table,
                limits,
            ))),
            Format::Xlsx | Format::Package => {
                return Err(ExportError::file(place, "is a zip: read it as a data package"));
            }
        };
        Ok(Rows { inner })
    }

    /// Warnings so far: columns skipped because the table does not have them.
    pub fn warnings(&self) -> Vec<String> {
        match &self.inner {
            Inner::Csv(r) => r.warnings(),
            Inner::Json(r) => r.warnings(),
            Inner::Xlsx(r) => r.warnings(),
        }
    }
}

impl Iterator for Rows<'_> {
    type Item = Result<ExportRow, ExportError>;

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.inner {
            Inner::Csv(r) => r.next(),
            Inner::Json(r) => r.next(),
            Inner::Xlsx(r) => r.next(),
        }
    }
}
