//! A CSV with a header, one record at a time.

use std::io::{self, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use dualwrite_core::schema::{Row, Schema, Table};
use serde_json::Value;

use super::{unknown_warning, ExportError, ExportRow, Header, Limits};

/// The rows of a CSV, as strings (empty cells left out).
pub struct CsvRows<R: Read> {
    place: String,
    reader: csv::Reader<Guard<R>>,
    header: Header,
    warning: Option<String>,
    record: csv::ByteRecord,
    /// Where the next record starts: its line, and its byte in the stream.
    line: u64,
    started_at: Arc<AtomicU64>,
    limits: Limits,
    finished: bool,
}

/// Counts the bytes the CSV reader takes and refuses to give it more than a record's worth past the
/// start of the record it is reading: the reader's buffer grows with a record, so this bounds it.
/// It also gives `\r\n` as `\n`, so that the reader counts a record's line where it starts (it counts
/// the `\n` of a CRLF with the next record otherwise).
pub struct Guard<R> {
    input: R,
    taken: u64,
    started_at: Arc<AtomicU64>,
    max: u64,
    /// A `\r` read last, held back until the next byte says whether a `\n` follows it.
    carriage_return: bool,
}

impl<R: Read> Read for Guard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.taken.saturating_sub(self.started_at.load(Ordering::Relaxed)) > self.max {
            return Err(io::Error::other(TooLong));
        }
        if buf.len() < 2 {
            return self.input.read(buf);
        }
        let start = usize::from(self.carriage_return);
        if self.carriage_return {
            buf[0] = b'\r';
        }
        let n = self.input.read(&mut buf[start..])?;
        if n == 0 {
            self.carriage_return = false;
            self.taken += start as u64;
            return Ok(start);
        }
        let mut len = start + n;
        self.carriage_return = buf[len - 1] == b'\r';
        if self.carriage_return {
            len -= 1;
        }
        let mut kept = 0;
        for i in 0..len {
            if buf[i] == b'\r' && buf.get(i + 1) == Some(&b'\n') && i + 1 < len {
                continue;
            }
            buf[kept] = buf[i];
            kept += 1;
        }
        if kept == 0 && self.carriage_return {
            // Only a held-back `\r`: read on, so as not to look like the end.
            return self.read(buf);
        }
        self.taken += kept as u64;
        Ok(kept)
    }
}

#[derive(Debug)]
struct TooLong;

impl std::fmt::Display for TooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("record too long")
    }
}

impl std::error::Error for TooLong {}

impl<R: Read> CsvRows<R> {
    /// Reads the header of `input` and matches it to `table`'s columns.
    pub fn new(
        place: &str,
        input: R,
        schema: &Schema,
        table: &Table,
        limits: &Limits,
    ) -> Result<CsvRows<R>, ExportError> {
        let started_at = Arc::new(AtomicU64::new(0));
        let guard = Guard {
            input,
            taken: 0,
            started_at: started_at.clone(),
            max: limits.max_record_bytes,
            carriage_return: false,
        };
        let reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(guard);
        let mut rows = CsvRows {
            place: place.to_owned(),
            reader,
            header: Header::default(),
            warning: None,
            record: csv::ByteRecord::new(),
            line: 1,
            started_at,
            limits: *limits,
            finished: false,
        };
        let names: Vec<String> = match rows.read_record() {
            Ok(true) => rows
                .record
                .iter()
                .enumerate()
                .map(|(i, f)| {
                    let text = String::from_utf8_lossy(f);
                    let text = if i == 0 { text.trim_start_matches('\u{feff}') } else { &text };
                    text.to_owned()
                })
                .collect(),
            Ok(false) => return Err(ExportError::file(place, "is empty: a CSV starts with a header line")),
            Err(e) => return Err(e),
        };
        rows.header = Header::new(schema, table, names.iter().map(String::as_str));
        if rows.header.names.iter().all(Option::is_none) {
            return Err(ExportError::stop(
                place,
                1,
                format!(
                    "the header names no column of {} table {} ({}); is this the right table, and is the first line the header?",
                    table.side,
                    table.name,
                    shorten(&names.join(","))
                ),
            ));
        }
        rows.warning = unknown_warning(place, table, &rows.header.unknown);
        Ok(rows)
    }

    /// The warning naming the header's columns the table does not have.
    pub fn warnings(&self) -> Vec<String> {
        self.warning.iter().cloned().collect()
    }

    /// Reads the next record into `self.record`; `false` at the end.
    fn read_record(&mut self) -> Result<bool, ExportError> {
        let line = self.line;
        match self.reader.read_byte_record(&mut self.record) {
            Ok(more) => {
                let position = self.reader.position();
                self.line = position.line();
                self.started_at.store(position.byte(), Ordering::Relaxed);
                Ok(more)
            }
            Err(e) => {
                self.finished = true;
                let message = match e.kind() {
                    csv::ErrorKind::Io(io) if io.get_ref().is_some_and(|inner| inner.is::<TooLong>()) => format!(
                        "a record runs past {} MiB without ending (an unclosed quote, or a line that never ends); the file is not read further",
                        self.limits.max_record_bytes >> 20
                    ),
                    csv::ErrorKind::Io(io) => format!("cannot be read further: {io}"),
                    other => format!("is not CSV here: {other:?}"),
                };
                Err(ExportError::stop(&self.place, line, message))
            }
        }
    }

    fn row(&self) -> Result<ExportRow, ExportError> {
        let line = self.record.position().map_or(self.line, csv::Position::line);
        let bad = |message: String| ExportError::row(&self.place, line, message);
        if self.record.len() != self.header.names.len() {
            return Err(bad(format!(
                "has {} field(s); the header has {}",
                self.record.len(),
                self.header.names.len()
            )));
        }
        let mut row = Row::new();
        for (field, name) in self.record.iter().zip(&self.header.names) {
            let Some(name) = name else { continue };
            if field.len() > self.limits.max_field_bytes {
                return Err(bad(format!(
                    "field {name} is {} bytes long; a field holds at most {} MiB",
                    field.len(),
                    self.limits.max_field_bytes >> 20
                )));
            }
            if field.is_empty() {
                continue;
            }
            let text = std::str::from_utf8(field).map_err(|_| {
                bad(format!("field {name} is not UTF-8 text (save the export as UTF-8 or Unicode)"))
            })?;
            row.insert(name.clone(), Value::String(text.to_owned()));
        }
        Ok(ExportRow { line, row })
    }
}

fn shorten(text: &str) -> String {
    const MAX: usize = 200;
    match text.char_indices().nth(MAX) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

impl<R: Read> Iterator for CsvRows<R> {
    type Item = Result<ExportRow, ExportError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.finished {
            return None;
        }
        match self.read_record() {
            Ok(true) => Some(self.row()),
            Ok(false) => {
                self.finished = true;
                None
            }
            Err(e) => Some(Err(e)),
        }
    }
}
