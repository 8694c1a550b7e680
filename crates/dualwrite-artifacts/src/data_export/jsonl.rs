//! JSON lines: one JSON object per line, one line at a time.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read};

use dualwrite_core::schema::{Row, Schema, Table};
use serde_json::Value;

use super::{column_name, unknown_warning, ExportError, ExportRow, Limits};

/// How many distinct unknown keys are remembered for the warning.
const MAX_UNKNOWN: usize = 1000;

/// The rows of a JSON lines file, values as written (nulls left out).
pub struct JsonRows<R: Read> {
    place: String,
    input: BufReader<R>,
    schema: Schema,
    table: Table,
    /// Keys seen, with the column each names (`None`: unknown).
    names: std::collections::HashMap<String, Option<String>>,
    unknown: BTreeSet<String>,
    line: u64,
    buffer: Vec<u8>,
    limits: Limits,
    finished: bool,
}

impl<R: Read> JsonRows<R> {
    pub fn new(
        place: &str,
        input: BufReader<R>,
        schema: &Schema,
        table: &Table,
        limits: &Limits,
    ) -> JsonRows<R> {
        JsonRows {
            place: place.to_owned(),
            input,
            schema: schema.clone(),
            table: table.clone(),
            names: Default::default(),
            unknown: BTreeSet::new(),
            line: 0,
            buffer: Vec::new(),
            limits: *limits,
            finished: false,
        }
    }

    /// The warning naming the keys the table does not have.
    pub fn warnings(&self) -> Vec<String> {
        let unknown: Vec<String> = self.unknown.iter().cloned().collect();
        unknown_warning(&self.place, &self.table, &unknown).into_iter().collect()
    }

    /// Reads the next line into `self.buffer`, at most the record limit of it; `Ok(None)` at the end,
    /// `Ok(Some(false))` for a line that was too long (skipped to its end).
    fn read_line(&mut self) -> std::io::Result<Option<bool>> {
        self.buffer.clear();
        let max = usize::try_from(self.limits.max_record_bytes).unwrap_or(usize::MAX);
        let mut fits = true;
        let mut any = false;
        loop {
            let available = self.input.fill_buf()?;
            if available.is_empty() {
                return Ok(any.then_some(fits));
            }
            any = true;
            let (chunk, ends) = match available.iter().position(|&b| b == b'\n') {
                Some(i) => (&available[..i], Some(i + 1)),
                None => (available, None),
            };
            if fits && self.buffer.len() + chunk.len() <= max {
                self.buffer.extend_from_slice(chunk);
            } else {
                fits = false;
                self.buffer.clear();
            }
            let used = ends.unwrap_or(available.len());
            self.input.consume(used);
            if ends.is_some() {
                return Ok(Some(fits));
            }
        }
    }

    fn row(&mut self, value: Value) -> Result<Row, String> {
        let Value::Object(object) = value else {
            return Err("is not a JSON object".to_owned());
        };
        let mut row = Row::new();
        for (key, value) in object {
            let name = match self.names.get(&key) {
                Some(name) => name.clone(),
                None => {
                    let name = column_name(&self.schema, &self.table, &key);
                    if name.is_none() && self.unknown.len() < MAX_UNKNOWN {
                        self.unknown.insert(key.clone());
                    }
                    if self.names.len() < MAX_UNKNOWN * 4 {
                        self.names.insert(key.clone(), name.clone());
                    }
                    name
                }
            };
            if let (Some(name), false) = (name, value.is_null()) {
                if let Value::String(s) = &value {
                    if s.len() > self.limits.max_field_bytes {
                        return Err(format!(
                            "value of {name} is {} bytes long; a value holds at most {} MiB",
                            s.len(),
                            self.limits.max_field_bytes >> 20
                        ));
                    }
                }
                row.insert(name, value);
            }
        }
        Ok(row)
    }
}

impl<R: Read> Iterator for JsonRows<R> {
    type Item = Result<ExportRow, ExportError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.finished {
                return None;
            }
            self.line += 1;
            let line = self.line;
            match self.read_line() {
                Err(e) => {
                    self.finished = true;
                    return Some(Err(ExportError::stop(
                        &self.place,
                        line,
                        format!("cannot be read further: {e}"),
                    )));
                }
                Ok(None) => {
                    self.finished = true;
                    return None;
                }
                Ok(Some(false)) => {
                    return Some(Err(ExportError::row(
                        &self.place,
                        line,
                        format!(
                            "is longer than {} MiB; a line holds one row",
                            self.limits.max_record_bytes >> 20
                        ),
                    )))
                }
                Ok(Some(true)) => {}
            }
            let text = self.buffer.strip_suffix(b"\r").unwrap_or(&self.buffer);
            if text.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let parsed = serde_json::from_slice::<Value>(text)
                .map_err(|e| format!("is not JSON: {e}"))
                .and_then(|v| self.row(v));
            return Some(match parsed {
                Ok(row) => Ok(ExportRow { line, row }),
                Err(message) => Err(ExportError::row(&self.place, line, message)),
            });
        }
    }
}
