//! The data-export readers (CSV with a header, and the same bytes as JSON lines): every input gives
//! rows or errors with their lines, within the limits, and never an item after an error that ends the
//! file; rows come out in line order and core's `check_row` takes each without panicking.
#![no_main]

use dualwrite_artifacts::data_export::{Format, Limits, Rows};
use dualwrite_core::schema::Side;
use libfuzzer_sys::fuzz_target;

/// Small limits: a fuzzed long record or field is refused quickly.
const LIMITS: Limits = Limits {
    max_field_bytes: 4 << 10,
    max_record_bytes: 64 << 10,
    max_entries: 16,
    max_entry_bytes: 1 << 20,
    max_ratio: 200,
    max_manifest_bytes: 64 << 10,
    max_xml_depth: 32,
    max_xlsx_bytes: 1 << 20,
    max_xlsx_inflated: 4 << 20,
};

fuzz_target!(init: dualwrite_fuzz::overflow::report_stack_overflows(), |data: &[u8]| {
    let schema = &*dualwrite_fuzz::CONTOSO;
    for (side, table, format) in [
        (Side::Finops, "CustCustomerV3Entity", Format::Csv),
        (Side::Dataverse, "account", Format::Csv),
        (Side::Finops, "Currencies", Format::JsonLines),
    ] {
        let table = schema.table(side, table).expect("a Contoso table");
        let Ok(rows) = Rows::open("input", data, format, schema, table, &LIMITS) else { continue };
        let mut last_line = 0;
        let mut ended = false;
        for item in rows {
            assert!(!ended, "an item after an error that ends the file");
            let line = match item {
                Ok(row) => {
                    let _ = table.check_row(schema, &row.row, false);
                    row.line
                }
                Err(e) => {
                    ended = e.fatal;
                    e.line.unwrap_or(last_line)
                }
            };
            assert!(line >= last_line, "line {line} after line {last_line}");
            last_line = line;
        }
    }
});
