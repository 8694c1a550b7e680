//! An Excel workbook (`.xlsx`): its first sheet, a header row and a row per record, read with
//! calamine. A workbook is itself a zip, and calamine inflates its sheets whole: before calamine
//! sees it, every entry is inflated once here and counted against the limits, so a workbook that is a
//! zip bomb is refused before it can fill memory.

use std::io::{self, Cursor, Read};

use calamine::{Data, Reader, Xlsx};
use dualwrite_core::schema::{Row, Schema, Table};
use serde_json::Value;

use super::{unknown_warning, ExportError, ExportRow, Header, Limits};

/// The rows of a workbook's first sheet, as strings (empty cells left out).
pub struct XlsxRows {
    place: String,
    range: calamine::Range<Data>,
    header: Header,
    warning: Option<String>,
    /// The next row of the range to read.
    next: usize,
    /// The sheet's row number of the range's first row.
    first_line: u64,
}

impl XlsxRows {
    /// Reads the workbook in `input` (at most `limits.max_xlsx_bytes`), its first sheet and header.
    pub fn new(
        place: &str,
        input: impl Read,
        schema: &Schema,
        table: &Table,
        limits: &Limits,
    ) -> Result<XlsxRows, ExportError> {
        let mut bytes = Vec::new();
        input
            .take(limits.max_xlsx_bytes + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| ExportError::file(place, format!("cannot be read: {e}")))?;
        if bytes.len() as u64 > limits.max_xlsx_bytes {
            return Err(ExportError::file(
                place,
                format!(
                    "is a workbook larger than {} MiB; export the entity as CSV",
                    limits.max_xlsx_bytes >> 20
                ),
            ));
        }
        inflate_within_limits(place, &bytes, limits)?;
        let mut workbook = Xlsx::new(Cursor::new(bytes))
            .map_err(|e| ExportError::file(place, format!("is not a readable Excel workbook: {e}")))?;
        let range = match workbook.worksheet_range_at(0) {
            Some(Ok(range)) => range,
            Some(Err(e)) => {
                return Err(ExportError::file(place, format!("its first sheet cannot be read: {e}")))
            }
            None => return Err(ExportError::file(place, "has no sheet")),
        };
        let first_line = range.start().map_or(1, |(row, _)| u64::from(row) + 1);
        let names: Vec<String> =
            range.rows().next().map(|r| r.iter().map(cell_text).collect()).unwrap_or_default();
        if names.is_empty() {
            return Err(ExportError::file(place, "its first sheet is empty: it starts with a header row"));
        }
        let header = Header::new(schema, table, names.iter().map(String::as_str));
        if header.names.iter().all(Option::is_none) {
            return Err(ExportError::stop(
                place,
                first_line,
                format!("the header row names no column of {} table {}", table.side, table.name),
            ));
        }
        let warning = unknown_warning(place, table, &header.unknown);
        Ok(XlsxRows { place: place.to_owned(), range, header, warning, next: 1, first_line })
    }

    /// The warning naming the header's columns the table does not have.
    pub fn warnings(&self) -> Vec<String> {
        self.warning.iter().cloned().collect()
    }
}

impl Iterator for XlsxRows {
    type Item = Result<ExportRow, ExportError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let cells = self.range.rows().nth(self.next)?;
            let line = self.first_line + self.next as u64;
            self.next += 1;
            let mut row = Row::new();
            for (cell, name) in cells.iter().zip(&self.header.names) {
                let Some(name) = name else { continue };
                if let Data::Error(e) = cell {
                    return Some(Err(ExportError::row(
                        &self.place,
                        line,
                        format!("cell {name} holds the Excel error {e}"),
                    )));
                }
                let text = cell_text(cell);
                if !text.is_empty() {
                    row.insert(name.clone(), Value::String(text));
                }
            }
            if !row.is_empty() {
                return Some(Ok(ExportRow { line, row }));
            }
        }
    }
}

/// A cell as the text a CSV export would hold: whole numbers without a fraction, dates as
/// `yyyy-mm-dd`, dates with a time as `yyyy-mm-ddThh:mm:ss`.
fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty | Data::Error(_) => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.trim().to_owned(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => (*f as i64).to_string(),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(dt) => {
            let (y, mo, d, h, mi, s, _) = dt.to_ymd_hms_milli();
            if (h, mi, s) == (0, 0, 0) {
                format!("{y:04}-{mo:02}-{d:02}")
            } else {
                format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}")
            }
        }
    }
}

/// Inflates every entry of the workbook once, counting: refused past `max_xlsx_inflated` bytes in all
/// or `max_ratio` times an entry's compressed size past its first 16 MiB.
fn inflate_within_limits(place: &str, bytes: &[u8], limits: &Limits) -> Result<(), ExportError> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| {
        ExportError::file(place, format!("is not a readable Excel workbook (not a zip: {e})"))
    })?;
    if archive.len() > limits.max_entries {
        return Err(ExportError::file(
            place,
            format!("has {} parts; at most {} are read", archive.len(), limits.max_entries),
        ));
    }
    let mut left = limits.max_xlsx_inflated;
    for index in 0..archive.len() {
        let entry = archive.by_index(index).map_err(|e| {
            ExportError::file(place, format!("cannot be read ({e}); the workbook is damaged"))
        })?;
        let compressed = entry.compressed_size().max(1);
        let name = entry.name().to_owned();
        let mut counted = 0u64;
        let mut limited = entry.take(left + 1);
        let mut buffer = [0u8; 64 << 10];
        loop {
            let n = match limited.read(&mut buffer) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(ExportError::file(
                        place,
                        format!("part {name} cannot be read ({e}); the workbook is damaged"),
                    ))
                }
            };
            counted += n as u64;
            if counted > left {
                return Err(ExportError::file(
                    place,
                    format!(
                        "inflates to more than {} MiB; refused (a zip bomb?)",
                        limits.max_xlsx_inflated >> 20
                    ),
                ));
            }
            if counted > 16 << 20 && counted / compressed > limits.max_ratio {
                return Err(ExportError::file(
                    place,
                    format!("part {name} inflates to more than {} times its compressed size; refused (a zip bomb?)", limits.max_ratio),
                ));
            }
        }
        left -= counted;
    }
    Ok(())
}
